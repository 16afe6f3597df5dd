namespace Toolkit.Tensors

open System
open System.Collections.Generic
open MathNet.Numerics.LinearAlgebra
open Toolkit.Linalg

/// <summary>A matrix expression laid out for the passes: distinct nodes in topological order
/// (inputs first, output last), argument positions, names and shapes. As for the scalar
/// graph, sharing is identity and every pass is a sweep over these arrays.</summary>
[<Sealed>]
type TGraph internal (nodes: TExpr[], sources: TExpr[], names: string[], args: int[][]) =
    /// The number of distinct nodes.
    member _.Count = nodes.Length
    /// The position of the output node (the last).
    member _.Output = nodes.Length - 1
    /// The node at a position (names stripped).
    member _.Node(i: int) = nodes.[i]
    /// The named form of the node at a position, if it has a name, else the node.
    member _.Source(i: int) = sources.[i]
    /// The node's name: a variable's or a named node's.
    member _.Name(i: int) : string option = match names.[i] with null -> None | n -> Some n
    /// The positions of the node's arguments.
    member _.Args(i: int) : int[] = args.[i]
    /// The node's shape.
    member _.Shape(i: int) = TExpr.shape nodes.[i]
    /// The variables, by name, with their positions, in the order first reached.
    member _.Variables : (string * int)[] =
        [| for i in 0 .. nodes.Length - 1 do
             match nodes.[i] with
             | TVar (n, _) -> yield n, i
             | _ -> () |]

/// The values of every node after a forward pass.
type TForward =
    { /// The graph evaluated.
      Graph: TGraph
      /// The value of every node, by position.
      Values: Matrix<float>[] }
    /// The output's value.
    member f.Value = f.Values.[f.Graph.Output]

/// The dvar of every node after a backward pass: dJ/dnode, a matrix of the node's shape.
type TBackward =
    { /// The forward pass used.
      Forward: TForward
      /// dJ/dnode by position (a matrix of zeros where the output does not depend on the node).
      Dvars: Matrix<float>[] }
    /// The output's value.
    member b.Value = b.Forward.Value
    /// dJ/dX for the variable X.
    member b.Dvar(name: string) =
        match b.Forward.Graph.Variables |> Array.tryFind (fun (n, _) -> n = name) with
        | Some (_, i) -> b.Dvars.[i]
        | None -> invalidArg "name" (sprintf "'%s' is not a variable of this graph" name)

/// Layout, forward and backward passes of the matrix graph: the notes' matrix rules.
[<RequireQualifiedAccess>]
module TGraph =

    /// Lays out a matrix expression in topological order; iterative, shapes re-checked.
    let ofExpr (root: TExpr) : TGraph =
        let index = Dictionary<TExpr, int>(HashIdentity.Reference)
        let varIndex = Dictionary<string, int * Shape>()
        let nodes = ResizeArray<TExpr>()
        let sources = ResizeArray<TExpr>()
        let names = ResizeArray<string>()
        let args = ResizeArray<int[]>()
        let stack = Stack<struct (TExpr * bool)>()
        stack.Push(struct (root, false))
        let add (e: TExpr) (a: int[]) =
            nodes.Add e
            sources.Add e
            names.Add null
            args.Add a
            index.[e] <- nodes.Count - 1
            nodes.Count - 1
        while stack.Count > 0 do
            let struct (e, expanded) = stack.Pop()
            if not (index.ContainsKey e) then
                match e with
                | TVar (name, s) ->
                    match varIndex.TryGetValue name with
                    | true, (i, s0) ->
                        if s0 <> s then raise (ShapeException(sprintf "variable %s is used as %O and as %O" name s0 s))
                        index.[e] <- i
                    | _ ->
                        let i = add e [||]
                        names.[i] <- name
                        varIndex.[name] <- (i, s)
                | TConst _ -> add e [||] |> ignore
                | _ when expanded ->
                    match e with
                    | TNamed (name, body) ->
                        let i = index.[body]
                        index.[e] <- i
                        if isNull names.[i] then
                            names.[i] <- name
                            sources.[i] <- e
                    | _ -> add e (TExpr.children e |> List.map (fun c -> index.[c]) |> Array.ofList) |> ignore
                | _ ->
                    stack.Push(struct (e, true))
                    for c in List.rev (TExpr.children e) do
                        if not (index.ContainsKey c) then stack.Push(struct (c, false))
        TGraph(nodes.ToArray(), sources.ToArray(), names.ToArray(), args.ToArray())

    let private unaryValue (op: TUnary) (a: Matrix<float>) : Matrix<float> =
        match op with
        | TUnary.Neg -> a.Negate()
        | TUnary.Scale c -> a.Multiply c
        | TUnary.Transpose -> a.Transpose()
        | TUnary.Map f -> a.Map(Func<float, float>(Toolkit.Graph.Rules.unary f), Zeros.Include)
        | TUnary.SumAll -> Matrix<float>.Build.Dense(1, 1, a.Enumerate() |> Seq.sum)
        | TUnary.MeanAll -> Matrix<float>.Build.Dense(1, 1, (a.Enumerate() |> Seq.sum) / float (a.RowCount * a.ColumnCount))
        | TUnary.Sum axis -> Kernels.sumAxis axis a
        | TUnary.Mean axis -> (Kernels.sumAxis axis a).Divide(float (Kernels.axisCount axis a))
        | TUnary.Softmax axis -> Kernels.softmax axis a
        | TUnary.LogSoftmax axis -> Kernels.logSoftmax axis a

    let private binaryValue (op: TBinary) (a: Matrix<float>) (b: Matrix<float>) : Matrix<float> =
        match op with
        | TBinary.MatMul -> Kernels.gemm false false a b
        | TBinary.Add -> a + Kernels.broadcast b a.RowCount a.ColumnCount
        | TBinary.Sub -> a - Kernels.broadcast b a.RowCount a.ColumnCount
        | TBinary.Mul -> a.PointwiseMultiply(Kernels.broadcast b a.RowCount a.ColumnCount)
        | TBinary.Div -> a.PointwiseDivide(Kernels.broadcast b a.RowCount a.ColumnCount)

    /// <summary>A loss node's value and, when <paramref name="g"/> is given, its gradients
    /// g·∂L/∂P and g·∂L/∂T: sample by sample (the columns, or the rows), each through
    /// <c>Loss.sample</c>, averaged over the samples.</summary>
    let private lossPass (loss: Loss) (input: LossInput) (layout: Layout) (p: Matrix<float>) (t: Matrix<float>) (g: float option) =
        // the samples as columns
        let p, t = match layout with Layout.ColumnsAreSamples -> p, t | Layout.RowsAreSamples -> p.Transpose(), t.Transpose()
        let n, m = p.RowCount, p.ColumnCount
        let ps, ts = Kernels.storage p, Kernels.storage t
        // the gradients' storage only when they are asked for (the forward pass needs none)
        let dp, dt = (if g.IsSome then Array.zeroCreate (n * m), Array.zeroCreate (n * m) else [||], [||])
        let scale = match g with Some g -> g / float m | None -> 0.0
        let mutable cost = 0.0
        for j in 0 .. m - 1 do
            let p = ReadOnlySpan<float>(ps, j * n, n)
            let t = ReadOnlySpan<float>(ts, j * n, n)
            cost <- cost + (if g.IsNone then Loss.sample loss input p t 1.0 Span<float>.Empty Span<float>.Empty
                            else Loss.sample loss input p t scale (Span<float>(dp, j * n, n)) (Span<float>(dt, j * n, n)))
        let back (a: float[]) =
            let d = Matrix<float>.Build.Dense(n, m, a)
            match layout with Layout.ColumnsAreSamples -> d | Layout.RowsAreSamples -> d.Transpose()
        cost / float m, (match g with Some _ -> [| back dp; back dt |] | None -> [||])

    /// <summary>The forward pass: every node's value, given the variables' matrices.</summary>
    /// <exception cref="T:Toolkit.Graph.UnboundVariableException">A variable has no value.</exception>
    /// <exception cref="T:Toolkit.Tensors.ShapeException">A variable's value has another shape than declared.</exception>
    let forward (g: TGraph) (env: IReadOnlyDictionary<string, Matrix<float>>) : TForward =
        let values = Array.zeroCreate<Matrix<float>> g.Count
        for i in 0 .. g.Count - 1 do
            let a = g.Args i
            values.[i] <-
                match g.Node i with
                | TConst m -> m
                | TVar (name, s) ->
                    match env.TryGetValue name with
                    | true, m ->
                        if m.RowCount <> s.Rows || m.ColumnCount <> s.Cols then
                            raise (ShapeException(sprintf "variable %s is declared %O but its value is %d×%d" name s m.RowCount m.ColumnCount))
                        m
                    | _ -> raise (Toolkit.Graph.UnboundVariableException name)
                | TUnary (op, _, _) -> unaryValue op values.[a.[0]]
                | TBinary (op, _, _, _) -> binaryValue op values.[a.[0]] values.[a.[1]]
                | TLossOf (loss, input, layout, _, _) -> Matrix<float>.Build.Dense(1, 1, fst (lossPass loss input layout values.[a.[0]] values.[a.[1]] None))
                | TNamed _ -> failwith "a named node is laid out on its body"
        { Graph = g; Values = values }

    /// The local vector–Jacobian products of a node: given its dvar dZ, the contribution to
    /// each argument's dvar. The notes' matrix rules, one case per operation.
    let vjp (node: TExpr) (args: Matrix<float>[]) (z: Matrix<float>) (dz: Matrix<float>) : Matrix<float>[] =
        match node with
        | TUnary (op, _, _) ->
            let a = args.[0]
            let da =
                match op with
                | TUnary.Neg -> dz.Negate()
                | TUnary.Scale c -> dz.Multiply c
                | TUnary.Transpose -> dz.Transpose()
                // dA = dZ ⊙ f′(A), f′ from the table of derivatives (given each element and its value)
                | TUnary.Map f -> dz.PointwiseMultiply(Matrix<float>.Build.Dense(a.RowCount, a.ColumnCount, fun i j -> Toolkit.Graph.Rules.dUnary f a.[i, j] z.[i, j]))
                | TUnary.SumAll -> Matrix<float>.Build.Dense(a.RowCount, a.ColumnCount, dz.[0, 0])
                | TUnary.MeanAll -> Matrix<float>.Build.Dense(a.RowCount, a.ColumnCount, dz.[0, 0] / float (a.RowCount * a.ColumnCount))
                | TUnary.Sum _ -> Kernels.broadcast dz a.RowCount a.ColumnCount
                | TUnary.Mean axis -> (Kernels.broadcast dz a.RowCount a.ColumnCount).Divide(float (Kernels.axisCount axis a))
                | TUnary.Softmax axis ->                                                 // Z ⊙ (dZ − Σ(dZ ⊙ Z))
                    let s = Kernels.sumAxis axis (dz.PointwiseMultiply z)
                    z.PointwiseMultiply(dz - Kernels.broadcast s a.RowCount a.ColumnCount)
                | TUnary.LogSoftmax axis ->                                              // dZ − softmax ⊙ ΣdZ
                    let s = Kernels.sumAxis axis dz
                    dz - z.PointwiseExp().PointwiseMultiply(Kernels.broadcast s a.RowCount a.ColumnCount)
            [| da |]
        | TBinary (op, _, _, _) ->
            let a, b = args.[0], args.[1]
            let r, c = a.RowCount, a.ColumnCount
            match op with
            | TBinary.MatMul -> [| Kernels.gemm false true dz b; Kernels.gemm true false a dz |]  // dA = dZ·Bᵀ, dB = Aᵀ·dZ
            | TBinary.Add -> [| dz; Kernels.reduceTo dz b.RowCount b.ColumnCount |]            // db = row sums of dZ
            | TBinary.Sub -> [| dz; (Kernels.reduceTo dz b.RowCount b.ColumnCount).Negate() |]
            | TBinary.Mul ->
                let bb = Kernels.broadcast b r c
                [| dz.PointwiseMultiply bb; Kernels.reduceTo (dz.PointwiseMultiply a) b.RowCount b.ColumnCount |]
            | TBinary.Div ->
                let bb = Kernels.broadcast b r c
                let db = dz.PointwiseMultiply(a).PointwiseDivide(bb.PointwiseMultiply bb).Negate()   // −dZ ⊙ A / B²
                [| dz.PointwiseDivide bb; Kernels.reduceTo db b.RowCount b.ColumnCount |]
        | TLossOf (loss, input, layout, _, _) -> snd (lossPass loss input layout args.[0] args.[1] (Some dz.[0, 0]))
        | TConst _ | TVar _ | TNamed _ -> [||]

    /// <summary>The backward pass: every node's dvar, one reverse sweep, dvars summed over a
    /// node's uses. The output's own dvar is ones (so a non-scalar output is differentiated as
    /// the sum of its elements). A pure function of the forward pass.</summary>
    let backward (f: TForward) : TBackward =
        let g = f.Graph
        let d = Array.zeroCreate<Matrix<float>> g.Count
        let out = f.Values.[g.Output]
        d.[g.Output] <- Matrix<float>.Build.Dense(out.RowCount, out.ColumnCount, 1.0)
        for i in g.Count - 1 .. -1 .. 0 do
            let di = d.[i]
            if not (isNull di) then
                let a = g.Args i
                let contributions = vjp (g.Node i) (a |> Array.map (fun j -> f.Values.[j])) f.Values.[i] di
                for k in 0 .. a.Length - 1 do
                    let j = a.[k]
                    d.[j] <- if isNull d.[j] then contributions.[k] else d.[j] + contributions.[k]
        for i in 0 .. g.Count - 1 do
            if isNull d.[i] then
                let v = f.Values.[i]
                d.[i] <- Matrix<float>.Build.Dense(v.RowCount, v.ColumnCount)
        { Forward = f; Dvars = d }

    /// The first node whose value has a NaN or ±∞ although all its arguments are finite.
    let firstNonFinite (f: TForward) : int option =
        let finite (m: Matrix<float>) = m.Enumerate() |> Seq.forall Double.IsFinite
        seq { 0 .. f.Graph.Count - 1 }
        |> Seq.tryFind (fun i -> not (finite f.Values.[i]) && f.Graph.Args i |> Array.forall (fun j -> finite f.Values.[j]))
