namespace Toolkit.Tensors

open System.Collections.Generic
open MathNet.Numerics.LinearAlgebra
open Toolkit.Graph

/// <summary>
/// The matrix graph expanded into the scalar graph, one scalar node per matrix element: the
/// notes' loops-versus-vectorized lesson made exact. Element (i, j) of variable W is the scalar
/// variable <c>W_i_j</c> (1-based, as the notes number w1, w2, …).
/// </summary>
[<RequireQualifiedAccess>]
module Bridge =

    /// The scalar variable standing for element (i, j) (0-based arguments) of a matrix variable.
    let elementName (name: string) (i: int) (j: int) = sprintf "%s_%d_%d" name (i + 1) (j + 1)

    let private sum (xs: Expr seq) = xs |> Seq.reduce (+)

    /// The scalar values the expanded graph needs: every element of every matrix variable.
    let scalarEnv (env: IReadOnlyDictionary<string, Matrix<float>>) : IReadOnlyDictionary<string, float> =
        let d = Dictionary<string, float>()
        for kv in env do
            kv.Value.EnumerateIndexed() |> Seq.iter (fun struct (i, j, v) -> d.[elementName kv.Key i j] <- v)
        d :> _

    let private lanes (axis: Axis) (rows: int) (cols: int) =
        match axis with
        | Axis.Rows -> [ for j in 0 .. cols - 1 -> [ for i in 0 .. rows - 1 -> i, j ] ]
        | Axis.Cols -> [ for i in 0 .. rows - 1 -> [ for j in 0 .. cols - 1 -> i, j ] ]

    let private logSoftmaxLanes (axis: Axis) (z: Expr[,]) =
        let r = Array2D.zeroCreate (Array2D.length1 z) (Array2D.length2 z)
        for lane in lanes axis (Array2D.length1 z) (Array2D.length2 z) do
            let m = lane |> List.map (fun (i, j) -> z.[i, j]) |> List.reduce Expr.max
            let shifted = lane |> List.map (fun (i, j) -> (i, j), z.[i, j] - m)
            let lse = Expr.log (shifted |> Seq.map (fun (_, s) -> Expr.exp s) |> sum)
            for (i, j), s in shifted do r.[i, j] <- s - lse
        r

    /// <summary>Every element of a matrix expression as a scalar expression, sharing what the
    /// matrix graph shares (one pass over its layout).</summary>
    let expand (e: TExpr) : Expr[,] =
        let g = TGraph.ofExpr e
        let s = Array.zeroCreate<Expr[,]> g.Count
        for n in 0 .. g.Count - 1 do
            let a = g.Args n
            let arg k = s.[a.[k]]
            let shape = g.Shape n
            s.[n] <-
                match g.Node n with
                | TConst m -> Array2D.init m.RowCount m.ColumnCount (fun i j -> Const m.[i, j])
                | TVar (name, sh) -> Array2D.init sh.Rows sh.Cols (fun i j -> Var(elementName name i j))
                | TUnary (op, _, _) ->
                    let x = arg 0
                    let r, c = Array2D.length1 x, Array2D.length2 x
                    let each f = Array2D.map f x
                    match op with
                    | TUnary.Neg -> each (fun v -> -v)
                    | TUnary.Scale k -> each (fun v -> k * v)
                    | TUnary.Transpose -> Array2D.init c r (fun i j -> x.[j, i])
                    | TUnary.Map f -> each (fun v -> Unary(f, v))
                    | TUnary.SumAll -> Array2D.create 1 1 (sum (Seq.cast<Expr> x))
                    | TUnary.MeanAll -> Array2D.create 1 1 (sum (Seq.cast<Expr> x) / float (r * c))
                    | TUnary.Sum axis | TUnary.Mean axis ->
                        let count = match axis with Axis.Rows -> r | Axis.Cols -> c
                        let scale (v: Expr) = match op with TUnary.Mean _ -> v / float count | _ -> v
                        let out : Expr[,] = Array2D.zeroCreate shape.Rows shape.Cols
                        for lane in lanes axis r c do
                            let (i0, j0) = lane.Head
                            let oi, oj = (match axis with Axis.Rows -> 0, j0 | Axis.Cols -> i0, 0)
                            out.[oi, oj] <- scale (lane |> Seq.map (fun (i, j) -> x.[i, j]) |> sum)
                        out
                    | TUnary.LogSoftmax axis -> logSoftmaxLanes axis x
                    | TUnary.Softmax axis -> Array2D.map Expr.exp (logSoftmaxLanes axis x)
                | TBinary (op, _, _, _) ->
                    let x, y = arg 0, arg 1
                    let yr, yc = Array2D.length1 y, Array2D.length2 y
                    let at i j = y.[(if yr = 1 then 0 else i), (if yc = 1 then 0 else j)]
                    match op with
                    | TBinary.MatMul ->
                        Array2D.init shape.Rows shape.Cols (fun i j -> sum (seq { for p in 0 .. Array2D.length2 x - 1 -> x.[i, p] * y.[p, j] }))
                    | TBinary.Add -> Array2D.init shape.Rows shape.Cols (fun i j -> x.[i, j] + at i j)
                    | TBinary.Sub -> Array2D.init shape.Rows shape.Cols (fun i j -> x.[i, j] - at i j)
                    | TBinary.Mul -> Array2D.init shape.Rows shape.Cols (fun i j -> x.[i, j] * at i j)
                    | TBinary.Div -> Array2D.init shape.Rows shape.Cols (fun i j -> x.[i, j] / at i j)
                | TLossOf (loss, input, layout, _, _) ->
                    // each loss written in scalar nodes, sample by sample (a lane of the class axis)
                    let p, t = arg 0, arg 1
                    let r, c = Array2D.length1 p, Array2D.length2 p
                    let axis = match layout with Layout.ColumnsAreSamples -> Axis.Rows | Layout.RowsAreSamples -> Axis.Cols
                    let samples = lanes axis r c
                    let m = float samples.Length
                    let cells = List.concat samples
                    let value =
                        match loss, input with
                        | Loss.BinaryCrossEntropy, LossInput.Logits ->
                            // softplus(z) − z·y = log(1 + eᶻ) − z·y: the matrix graph's value, without kinks
                            (cells |> Seq.map (fun (i, j) -> Expr.softplus p.[i, j] - p.[i, j] * t.[i, j]) |> sum) / m
                        | Loss.BinaryCrossEntropy, LossInput.Outputs ->
                            -(cells |> Seq.map (fun (i, j) -> t.[i, j] * Expr.log p.[i, j] + (1.0 - t.[i, j]) * Expr.log (1.0 - p.[i, j])) |> sum) / m
                        | Loss.CrossEntropy, LossInput.Logits ->
                            let ls = logSoftmaxLanes axis p
                            -(cells |> Seq.map (fun (i, j) -> t.[i, j] * ls.[i, j]) |> sum) / m
                        | Loss.CrossEntropy, LossInput.Outputs ->
                            -(cells |> Seq.map (fun (i, j) -> t.[i, j] * Expr.log p.[i, j]) |> sum) / m
                        | Loss.Quadratic, _ ->
                            0.5 * (cells |> Seq.map (fun (i, j) -> Expr.powInt 2 (p.[i, j] - t.[i, j])) |> sum) / m
                        | Loss.Hinge margin, _ ->
                            // Σ_j (1 − y_j)·max(0, s_j − s_y + Δ), with s_y = Σ_k y_k·s_k for one-hot y
                            (samples |> Seq.map (fun lane ->
                                let sy = lane |> Seq.map (fun (i, j) -> t.[i, j] * p.[i, j]) |> sum
                                lane |> Seq.map (fun (i, j) -> (1.0 - t.[i, j]) * Expr.max (Const 0.0) (p.[i, j] - sy + margin)) |> sum)
                             |> sum) / m
                    Array2D.create 1 1 value
                | TNamed _ -> failwith "a named node is laid out on its body"
        s.[g.Output]
