/// The matrix graph: shapes, the notes' matrix rules against finite differences, and the
/// bridge to the scalar graph.
module Toolkit.Tests.TensorTests

open System
open System.Collections.Generic
open Expecto
open FsCheck
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open Toolkit.Graph
open Toolkit.Tensors

let M (rows: float list list) = Matrix<float>.Build.DenseOfRows(rows |> List.map Seq.ofList)

/// A generated matrix graph: variables with values, and an expression over them.
[<StructuredFormatDisplay("{Show}")>]
type TCase =
    { Expr: TExpr
      Env: IReadOnlyDictionary<string, Matrix<float>>
      Label: string }
    member c.Show = sprintf "%s with %s" c.Label (String.Join(", ", c.Env |> Seq.map (fun kv -> sprintf "%s=%s" kv.Key (kv.Value.ToMatrixString()))))
    override c.ToString() = c.Show

let private genMatrix rows cols lo hi =
    Gen.arrayOfLength (rows * cols) (Gen.choose (int (lo * 1000.0), int (hi * 1000.0)) |> Gen.map (fun i -> float i / 1000.0))
    |> Gen.map (fun a -> Matrix<float>.Build.Dense(rows, cols, a))

/// Every unary op, binary op and loss, applied to generated variables; the result weighted by a
/// random matrix and summed, so every element's dvar differs.
let private opCases : (string * (int -> int -> int -> Gen<TExpr * (string * Matrix<float>) list>)) list =
    let v name r c = TExpr.var name r c
    let unary name op lo hi =
        name, fun r c _ -> genMatrix r c lo hi |> Gen.map (fun a -> TExpr.unary op (v "A" r c), [ "A", a ])
    let binary name op (bShape: int -> int -> int * int) lo hi =
        name, fun r c _ ->
            let br, bc = bShape r c
            Gen.map2 (fun a b -> TExpr.binary op (v "A" r c) (v "B" br bc), [ "A", a; "B", b ]) (genMatrix r c -2.0 2.0) (genMatrix br bc lo hi)
    // every op of the scalar vocabulary, mapped over a matrix, at points in its domain away from kinks
    [ for op in Generators.unaryOps do
        yield sprintf "map %s" (Print.text (Unary(op, Expr.var "x"))), fun r c _ ->
            Gen.arrayOfLength (r * c) (Generators.unaryDomain op)
            |> Gen.map (fun a -> TExpr.map op (v "A" r c), [ "A", Matrix<float>.Build.Dense(r, c, a) ]) ]
    @
    [ unary "neg" TUnary.Neg -2.0 2.0
      unary "scale" (TUnary.Scale 2.5) -2.0 2.0
      unary "transpose" TUnary.Transpose -2.0 2.0
      unary "sumAll" TUnary.SumAll -2.0 2.0
      unary "meanAll" TUnary.MeanAll -2.0 2.0
      unary "sum over rows" (TUnary.Sum Axis.Rows) -2.0 2.0
      unary "sum over cols" (TUnary.Sum Axis.Cols) -2.0 2.0
      unary "mean over rows" (TUnary.Mean Axis.Rows) -2.0 2.0
      unary "mean over cols" (TUnary.Mean Axis.Cols) -2.0 2.0
      unary "softmax over rows" (TUnary.Softmax Axis.Rows) -3.0 3.0
      unary "softmax over cols" (TUnary.Softmax Axis.Cols) -3.0 3.0
      unary "log-softmax over rows" (TUnary.LogSoftmax Axis.Rows) -3.0 3.0
      unary "log-softmax over cols" (TUnary.LogSoftmax Axis.Cols) -3.0 3.0
      "matmul", (fun r c k ->
          Gen.map2 (fun a b -> TExpr.matmul (v "A" r k) (v "B" k c), [ "A", a; "B", b ]) (genMatrix r k -2.0 2.0) (genMatrix k c -2.0 2.0))
      binary "add" TBinary.Add (fun r c -> r, c) -2.0 2.0
      binary "add a bias column (Z = W·A + b)" TBinary.Add (fun r _ -> r, 1) -2.0 2.0
      binary "add a bias row (Z = X·Wᵀ + bᵀ)" TBinary.Add (fun _ c -> 1, c) -2.0 2.0
      binary "add a scalar" TBinary.Add (fun _ _ -> 1, 1) -2.0 2.0
      binary "sub" TBinary.Sub (fun r c -> r, c) -2.0 2.0
      binary "sub a column" TBinary.Sub (fun r _ -> r, 1) -2.0 2.0
      binary "mul" TBinary.Mul (fun r c -> r, c) -2.0 2.0
      binary "mul by a row" TBinary.Mul (fun _ c -> 1, c) -2.0 2.0
      binary "div" TBinary.Div (fun r c -> r, c) 0.5 2.0
      binary "div by a column" TBinary.Div (fun r _ -> r, 1) 0.5 2.0
      "binary cross-entropy with logits", (fun r c _ ->
          Gen.map2 (fun z y -> TExpr.bceWithLogits Layout.ColumnsAreSamples (v "Z" r c) (v "Y" r c), [ "Z", z; "Y", y ])
              (genMatrix r c -3.0 3.0) (genMatrix r c 0.0 1.0))
      "softmax cross-entropy (columns are samples)", (fun r c _ ->
          Gen.map2 (fun z y -> TExpr.softmaxCrossEntropy Layout.ColumnsAreSamples (v "Z" r c) (v "Y" r c), [ "Z", z; "Y", y ])
              (genMatrix r c -3.0 3.0) (genMatrix r c 0.0 1.0))
      "softmax cross-entropy (rows are samples)", (fun r c _ ->
          Gen.map2 (fun z y -> TExpr.softmaxCrossEntropy Layout.RowsAreSamples (v "Z" r c) (v "Y" r c), [ "Z", z; "Y", y ])
              (genMatrix r c -3.0 3.0) (genMatrix r c 0.0 1.0))
      "binary cross-entropy of probabilities", (fun r c _ ->
          Gen.map2 (fun a y -> TExpr.loss Loss.BinaryCrossEntropy LossInput.Outputs Layout.ColumnsAreSamples (v "A" r c) (v "Y" r c), [ "A", a; "Y", y ])
              (genMatrix r c 0.05 0.95) (genMatrix r c 0.0 1.0))
      "cross-entropy of probabilities (rows are samples)", (fun r c _ ->
          Gen.map2 (fun a y -> TExpr.loss Loss.CrossEntropy LossInput.Outputs Layout.RowsAreSamples (v "A" r c) (v "Y" r c), [ "A", a; "Y", y ])
              (genMatrix r c 0.05 0.95) (genMatrix r c 0.0 1.0))
      "hinge loss (columns are samples), away from its kinks", (fun r c k ->
          let y = Matrix<float>.Build.Dense(r, c, fun i j -> if i = (j + k) % r then 1.0 else 0.0)
          genMatrix r c -2.0 2.0
          |> Gen.filter (fun s ->
              seq { for j in 0 .. c - 1 do
                      let cls = (j + k) % r
                      for i in 0 .. r - 1 do if i <> cls then yield abs (s.[i, j] - s.[cls, j] + 1.0) }
              |> Seq.forall (fun m -> m > 1e-3))
          |> Gen.map (fun s -> TExpr.loss (Loss.Hinge 1.0) LossInput.Outputs Layout.ColumnsAreSamples (v "S" r c) (v "Y" r c), [ "S", s; "Y", y ]))
      "quadratic loss", (fun r c _ ->
          Gen.map2 (fun a y -> TExpr.quadratic Layout.RowsAreSamples (v "A" r c) (v "Y" r c), [ "A", a; "Y", y ])
              (genMatrix r c -2.0 2.0) (genMatrix r c -2.0 2.0)) ]

/// One op case at generated shapes, weighted: J = Σ W ⊙ op(…).
let genOpCase (name: string) make : Gen<TCase> =
    gen {
        let! r = Gen.choose (1, 4)
        let! c = Gen.choose (1, 4)
        let! k = Gen.choose (1, 4)
        let! (e, vars) = make r c k
        let s = TExpr.shape e
        let! w = genMatrix s.Rows s.Cols -1.0 1.0
        let j = TExpr.sumAll (TExpr.mul e (TExpr.constant w))
        return { Expr = j; Env = readOnlyDict vars; Label = name }
    }

/// Random compositions over r×c matrices built from earlier nodes (so nodes are shared),
/// including a product, both bias layouts, softmax, and a loss or a sum at the end.
let genComposite : Gen<TCase> =
    gen {
        let! r = Gen.choose (1, 3)
        let! c = Gen.choose (1, 3)
        let! k = Gen.choose (1, 3)
        let! a = genMatrix r k -1.5 1.5
        let! b = genMatrix k c -1.5 1.5
        let! x = genMatrix r c -1.5 1.5
        let! col = genMatrix r 1 -1.0 1.0
        let! row = genMatrix 1 c -1.0 1.0
        let! y = genMatrix r c 0.0 1.0
        let A, B, X = TExpr.var "A" r k, TExpr.var "B" k c, TExpr.var "X" r c
        let bc, br = TExpr.var "bc" r 1, TExpr.var "br" 1 c
        let step (pool: TExpr list) : Gen<TExpr> =
            gen {
                let! p = Gen.elements pool
                let! q = Gen.elements pool
                let! kind = Gen.choose (0, 10)
                return
                    match kind with
                    | 0 -> TExpr.tanh p
                    | 1 -> TExpr.sigmoid p
                    | 2 -> TExpr.mul p q
                    | 3 -> TExpr.add p bc
                    | 4 -> TExpr.sub p br
                    | 5 -> TExpr.softmax Axis.Rows p
                    | 6 -> TExpr.logSoftmax Axis.Cols p
                    | 7 -> TExpr.div p (TExpr.add (TExpr.exp q) (TExpr.fill 1 1 1.0))
                    | 8 -> TExpr.add (TExpr.scale 0.5 p) (TExpr.mean Axis.Rows q)
                    | 9 -> TExpr.sub p (TExpr.transpose (TExpr.transpose q))
                    | _ -> TExpr.add p (TExpr.matmul A B)
            }
        let rec grow pool n = if n = 0 then Gen.constant pool else step pool |> Gen.bind (fun e -> grow (e :: pool) (n - 1))
        let! n = Gen.choose (1, 6)
        let! pool = grow [ X; TExpr.matmul A B ] n
        let last = List.head pool
        let! ending = Gen.choose (0, 3)
        let Y = TExpr.constant y
        let j =
            match ending with
            | 0 -> TExpr.softmaxCrossEntropy Layout.ColumnsAreSamples last Y
            | 1 -> TExpr.bceWithLogits Layout.RowsAreSamples last Y
            | 2 -> TExpr.quadratic Layout.ColumnsAreSamples last Y
            | _ -> last                                         // a matrix output: its elements summed
        return { Expr = j; Env = readOnlyDict [ "A", a; "B", b; "X", x; "bc", col; "br", row ]; Label = sprintf "composition of %d ops, ending %d" n ending }
    }

/// Central differences of J over every element of every variable.
let numericGradient (c: TCase) : IDictionary<string, Matrix<float>> =
    let g = TGraph.ofExpr c.Expr
    let value (env: IReadOnlyDictionary<string, Matrix<float>>) = (TGraph.forward g env).Value |> fun m -> m.Enumerate() |> Seq.sum
    dict [
        for kv in c.Env ->
            let m = kv.Value
            kv.Key, Matrix<float>.Build.Dense(m.RowCount, m.ColumnCount, fun i j ->
                let at (delta: float) =
                    let copy = m.Clone()
                    copy.[i, j] <- copy.[i, j] + delta
                    let env = Dictionary<string, Matrix<float>>(c.Env)
                    env.[kv.Key] <- copy
                    value env
                let h = 1e-5 * max 1.0 (abs m.[i, j])
                (at h - at -h) / (2.0 * h)) ]

let private compare what tolerance (expected: Matrix<float>) (actual: Matrix<float>) =
    for struct (i, j, e) in expected.EnumerateIndexed() do
        let err = Numeric.relativeError e actual.[i, j]
        if err > tolerance then failtestf "%s[%d,%d]: expected %.12g, got %.12g (relative error %.2g)" what i j e actual.[i, j] err

[<Tests>]
let tests =
    testList "matrix graph" [
        testList "every op and loss against central differences (relative error < 1e-6)" [
            for name, make in opCases ->
                testPropertyWithConfig { Generators.config with arbitrary = []; maxTest = 60 } name <|
                    Prop.forAll (Arb.fromGen (genOpCase name make)) (fun c ->
                        let b = TGraph.backward (TGraph.forward (TGraph.ofExpr c.Expr) c.Env)
                        for KeyValue (v, numeric) in numericGradient c do
                            compare (sprintf "d%s" v) 1e-6 numeric (b.Dvar v))
        ]
        testList "the same op expanded into the scalar graph gives the same values and dvars" [
            for name, make in opCases ->
                testPropertyWithConfig { Generators.config with arbitrary = []; maxTest = 30 } name <|
                    Prop.forAll (Arb.fromGen (genOpCase name make)) (fun c ->
                        let b = TGraph.backward (TGraph.forward (TGraph.ofExpr c.Expr) c.Env)
                        let scalar = Bridge.expand c.Expr
                        let out = Seq.cast<Expr> scalar |> Seq.reduce (+)
                        let sb = Eval.backward (Eval.forward (Graph.ofExpr out) (Bridge.scalarEnv c.Env))
                        Expect.floatClose Accuracy.veryHigh sb.Value ((b.Value).Enumerate() |> Seq.sum) "value"
                        for KeyValue (v, m) in c.Env do
                            let d = b.Dvar v
                            for struct (i, j, _) in m.EnumerateIndexed() do
                                let s = sb.Dvar(Bridge.elementName v i j)
                                if Numeric.relativeError s d.[i, j] > 1e-9 then
                                    failtestf "d%s[%d,%d]: matrix graph %.15g, scalar graph %.15g" v i j d.[i, j] s)
        ]
        testPropertyWithConfig { Generators.config with arbitrary = []; maxTest = 150 } "generated compositions: matrix graph = scalar graph = central differences" <|
            Prop.forAll (Arb.fromGen genComposite) (fun c ->
                let b = TGraph.backward (TGraph.forward (TGraph.ofExpr c.Expr) c.Env)
                let out = Seq.cast<Expr> (Bridge.expand c.Expr) |> Seq.reduce (+)
                let sb = Eval.backward (Eval.forward (Graph.ofExpr out) (Bridge.scalarEnv c.Env))
                Expect.floatClose Accuracy.veryHigh sb.Value (b.Value.Enumerate() |> Seq.sum) "value"
                let numeric = numericGradient c
                let used = b.Forward.Graph.Variables |> Array.map fst |> set
                for KeyValue (v, m) in c.Env |> Seq.filter (fun kv -> used.Contains kv.Key) do
                    let d = b.Dvar v
                    compare (sprintf "d%s vs central differences" v) 1e-6 numeric.[v] d
                    for struct (i, j, _) in m.EnumerateIndexed() do
                        let s = sb.Dvar(Bridge.elementName v i j)
                        if Numeric.relativeError s d.[i, j] > 1e-9 then
                            failtestf "d%s[%d,%d]: matrix graph %.15g, scalar graph %.15g" v i j d.[i, j] s)
        test "shapes are checked where the node is built, naming the op and both shapes" {
            let msg f = try f () |> ignore; "" with :? ShapeException as e -> e.Message
            Expect.equal (msg (fun () -> TExpr.matmul (TExpr.var "A" 3 4) (TExpr.var "B" 5 2))) "matmul: (3×4) · (5×2): inner dimensions 4 and 5 differ" "matmul"
            Expect.equal (msg (fun () -> TExpr.add (TExpr.var "A" 3 4) (TExpr.var "b" 4 1)))
                "add: (3×4) and (4×1): the right side must have the same shape, or be a row (1×4), a column (3×1) or a scalar (1×1)" "add"
            Expect.equal (msg (fun () -> TExpr.quadratic Layout.RowsAreSamples (TExpr.var "A" 3 4) (TExpr.var "Y" 4 3)))
                "quadratic loss: predictions (3×4) and targets (4×3) must have the same shape" "loss"
            Expect.equal (msg (fun () -> TGraph.forward (TGraph.ofExpr (TExpr.var "A" 2 2)) (readOnlyDict [ "A", M [ [ 1.0 ] ] ])))
                "variable A is declared 2×2 but its value is 1×1" "value of the wrong shape"
        }
        test "the notes' dense layer: dW = dZ·Aᵀ, dA = Wᵀ·dZ, db = row sums of dZ" {
            let W, A, b = TExpr.var "W" 2 3, TExpr.var "A" 3 4, TExpr.var "b" 2 1
            let Z = TExpr.named "Z" (TExpr.denseColumns W A b)
            let R = M [ [ 1.0; -2.0; 0.5; 3.0 ]; [ 0.0; 1.0; -1.0; 2.0 ] ]
            let J = TExpr.sumAll (TExpr.mul Z (TExpr.constant R))       // so dZ = R
            let env = readOnlyDict [ "W", M [ [ 1.0; 2.0; 3.0 ]; [ -1.0; 0.5; 0.0 ] ]
                                     "A", M [ [ 1.0; 0.0; 2.0; -1.0 ]; [ 0.5; 1.0; 1.0; 0.0 ]; [ -2.0; 3.0; 0.0; 1.0 ] ]
                                     "b", M [ [ 0.1 ]; [ -0.2 ] ] ]
            let bw = TGraph.backward (TGraph.forward (TGraph.ofExpr J) env)
            compare "dW" 1e-12 (R * env.["A"].Transpose()) (bw.Dvar "W")
            compare "dA" 1e-12 (env.["W"].Transpose() * R) (bw.Dvar "A")
            compare "db" 1e-12 (Matrix<float>.Build.DenseOfColumnVectors(R.RowSums())) (bw.Dvar "b")
        }
        test "pictures show every node with its shape, shapes on the edges, and mark a NaN" {
            let W, A, b = TExpr.var "W" 2 3, TExpr.var "A" 3 4, TExpr.var "b" 2 1
            let Z = TExpr.named "Z" (TExpr.denseColumns W A b)
            let J = TExpr.named "J" (TExpr.meanAll (TExpr.log (TExpr.sigmoid Z)))
            let g = TGraph.ofExpr J
            let dot = TRender.dot g
            for s in [ "W\\n2×3"; "A\\n3×4"; "b\\n2×1"; "Z = +\\n2×4"; "J = mean\\n1×1"; "[label=\"3×4\"]" ] do
                Expect.stringContains dot s s
            Expect.stringContains (TRender.mermaid g) "-- \"2×4\" -->" "mermaid edge shape"
            let bad = TExpr.named "L" (TExpr.log (TExpr.var "X" 1 2))
            let f = TGraph.forward (TGraph.ofExpr bad) (readOnlyDict [ "X", M [ [ -1.0; 2.0 ] ] ])
            let marked = TRender.dotOfForward f
            Expect.stringContains marked "color=red" "marked"
            Expect.stringContains marked "first non-finite value" "origin"
        }
        test "the SVG picture: a box per node with its shape, inputs left and the output right, values above, dvars below, shapes on the edges" {
            let W, A, b = TExpr.var "W" 2 3, TExpr.var "A" 3 4, TExpr.var "b" 2 1
            let Z = TExpr.named "Z" (TExpr.denseColumns W A b)
            let J = TExpr.named "J" (TExpr.meanAll (TExpr.sigmoid Z))
            let env = readOnlyDict [ "W", M [ [ 1.0; 2.0; 3.0 ]; [ -1.0; 0.5; 0.0 ] ]
                                     "A", M [ [ 1.0; 0.0; 2.0; -1.0 ]; [ 0.5; 1.0; 1.0; 0.0 ]; [ -2.0; 3.0; 0.0; 1.0 ] ]
                                     "b", M [ [ 0.1 ]; [ -0.2 ] ] ]
            let bw = TGraph.backward (TGraph.forward (TGraph.ofExpr J) env)
            let g = bw.Forward.Graph
            let doc = Xml.Linq.XDocument.Parse(TRender.svgOfBackward bw)
            let ns = Xml.Linq.XNamespace.Get "http://www.w3.org/2000/svg"
            let attr (e: Xml.Linq.XElement) (n: string) = match e.Attribute(Xml.Linq.XName.Get n) with null -> "" | a -> a.Value
            let groups = doc.Descendants(ns + "g") |> Seq.filter (fun e -> (attr e "class").StartsWith "node") |> List.ofSeq
            Expect.equal groups.Length g.Count "one group per node"
            let text (grp: Xml.Linq.XElement) cls = grp.Elements(ns + "text") |> Seq.tryFind (fun t -> attr t "class" = cls) |> Option.map (fun t -> t.Value)
            let x (grp: Xml.Linq.XElement) = float (attr (grp.Element(ns + "rect")) "x")
            let byName (name: string) = groups |> List.find (fun grp -> (text grp "expr" |> Option.defaultValue "").StartsWith name)
            for i in 0 .. g.Count - 1 do
                let grp = groups |> List.find (fun e -> attr e "id" = sprintf "n%d" i)
                Expect.stringContains (text grp "expr" |> Option.get) (string (g.Shape i)) (sprintf "node %d shows its shape" i)
                Expect.isSome (text grp "value") (sprintf "node %d has its value above" i)
                Expect.isSome (text grp "dvar") (sprintf "node %d has its dvar below" i)
            Expect.equal (text (byName "J") "value") (Some(bw.Value.[0, 0].ToString("G6", Globalization.CultureInfo.InvariantCulture))) "the 1×1 output's value"
            Expect.equal (text (byName "W") "dvar") (Some(sprintf "d=‖·‖ = %s" ((bw.Dvar "W").FrobeniusNorm().ToString("G4", Globalization.CultureInfo.InvariantCulture)))) "dW's norm"
            for input in [ "W"; "A"; "b" ] do
                Expect.isLessThan (x (byName input)) (x (byName "Z")) (sprintf "%s left of Z" input)
            Expect.isLessThan (x (byName "Z")) (x (byName "J")) "Z left of the output"
            let edgeLabels = doc.Descendants(ns + "text") |> Seq.filter (fun t -> attr t "class" = "edge-label") |> List.ofSeq
            let edges = [ for i in 0 .. g.Count - 1 do for j in g.Args i -> j, i ]
            Expect.equal edgeLabels.Length edges.Length "one label per edge"
            for t in edgeLabels do
                let from = int ((attr t "data-from").Substring 1)
                Expect.equal t.Value (string (g.Shape from)) "the label is the shape that flows"
        }
        test "both layouts give the same layer: (W·A + b)ᵀ = Aᵀ·Wᵀ + bᵀ" {
            let W, A, b = TExpr.var "W" 2 3, TExpr.var "A" 3 4, TExpr.var "b" 2 1
            let X, bt = TExpr.var "X" 4 3, TExpr.var "bt" 1 2
            let env = readOnlyDict [ "W", M [ [ 1.0; 2.0; 3.0 ]; [ -1.0; 0.5; 0.0 ] ]
                                     "A", M [ [ 1.0; 0.0; 2.0; -1.0 ]; [ 0.5; 1.0; 1.0; 0.0 ]; [ -2.0; 3.0; 0.0; 1.0 ] ]
                                     "b", M [ [ 0.1 ]; [ -0.2 ] ] ]
            let env2 = readOnlyDict [ "W", env.["W"]; "X", env.["A"].Transpose(); "bt", env.["b"].Transpose() ]
            let cols = (TGraph.forward (TGraph.ofExpr (TExpr.denseColumns W A b)) env).Value
            let rows = (TGraph.forward (TGraph.ofExpr (TExpr.denseRows X W bt)) env2).Value
            compare "Z" 1e-12 (cols.Transpose()) rows
        }
        test "softmax and the losses are stable for logits of ±1000" {
            let z = M [ [ 1000.0; -1000.0 ]; [ -1000.0; 1000.0 ]; [ 0.0; 0.0 ] ]
            let y = M [ [ 1.0; 0.0 ]; [ 0.0; 1.0 ]; [ 0.0; 0.0 ] ]
            let Z, Y = TExpr.var "Z" 3 2, TExpr.var "Y" 3 2
            let env = readOnlyDict [ "Z", z; "Y", y ]
            for e in [ TExpr.softmax Axis.Rows Z; TExpr.logSoftmax Axis.Rows Z
                       TExpr.softmaxCrossEntropy Layout.ColumnsAreSamples Z Y
                       TExpr.bceWithLogits Layout.ColumnsAreSamples Z Y ] do
                let b = TGraph.backward (TGraph.forward (TGraph.ofExpr e) env)
                Expect.isTrue (b.Value.Enumerate() |> Seq.forall Double.IsFinite) "finite value"
                Expect.isTrue ((b.Dvar "Z").Enumerate() |> Seq.forall Double.IsFinite) "finite dvar"
            let ce = (TGraph.forward (TGraph.ofExpr (TExpr.softmaxCrossEntropy Layout.ColumnsAreSamples Z Y)) env).Value.[0, 0]
            Expect.floatClose Accuracy.veryHigh ce 0.0 "confident and right: loss 0"
        }
        test "a shared node's dvar sums its uses; backward is repeatable; the NaN origin is found" {
            let A = TExpr.var "A" 2 2
            let S = TExpr.named "S" (TExpr.tanh A)
            let J = TExpr.sumAll (TExpr.add (TExpr.mul S S) S)
            let env = readOnlyDict [ "A", M [ [ 0.1; -0.2 ]; [ 0.3; 0.4 ] ] ]
            let f = TGraph.forward (TGraph.ofExpr J) env
            let b1, b2 = TGraph.backward f, TGraph.backward f
            Expect.equal ((b1.Dvar "A").ToArray()) ((b2.Dvar "A").ToArray()) "repeatable"
            let expected = env.["A"].Map(fun a -> let t = tanh a in (2.0 * t + 1.0) * (1.0 - t * t))
            compare "dA" 1e-12 expected (b1.Dvar "A")
            let bad = TExpr.sumAll (TExpr.named "L" (TExpr.log (TExpr.sub A (TExpr.fill 2 2 1.0))))
            let fb = TGraph.forward (TGraph.ofExpr bad) env
            Expect.equal (TGraph.firstNonFinite fb |> Option.bind fb.Graph.Name) (Some "L") "origin"
        }
    ]
