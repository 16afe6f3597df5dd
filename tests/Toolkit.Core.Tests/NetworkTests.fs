/// Layers, activations, losses and the four backpropagation equations.
module Toolkit.Tests.NetworkTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open Toolkit.Graph
open Toolkit.Tensors
open Toolkit.Nn

type NetCase = { Net: Network; X: Matrix<float>; Y: Matrix<float>; Label: string }

let private activations = [ Activation.Sigmoid; Activation.Tanh; Activation.Relu; Activation.LeakyRelu 0.1; Activation.Identity ]

let genNet : Gen<NetCase> =
    gen {
        let! depth = Gen.choose (1, 3)
        let! sizes = Gen.listOfLength (depth + 1) (Gen.choose (1, 5))
        let! hidden = Gen.elements activations
        let! (output, loss) =
            Gen.elements [ Activation.Sigmoid, Loss.Quadratic; Activation.Sigmoid, Loss.BinaryCrossEntropy; Activation.Softmax, Loss.CrossEntropy
                           Activation.Tanh, Loss.Quadratic; Activation.Identity, Loss.Quadratic; Activation.Softmax, Loss.Quadratic
                           Activation.Sigmoid, Loss.CrossEntropy ]
        let! seed = Gen.choose (0, 10000)
        let! m = Gen.choose (1, 4)
        let net = Network.create sizes hidden output loss Init.Xavier seed
        let rng = Random(seed + 1)
        let x = Matrix<float>.Build.Dense(sizes.Head, m, fun _ _ -> rng.NextDouble() * 2.0 - 1.0)
        let nOut = List.last sizes
        let y =
            match loss with
            | Loss.CrossEntropy -> Matrix<float>.Build.Dense(nOut, m, fun i j -> if i = (j * 7 + seed) % nOut then 1.0 else 0.0)
            | _ -> Matrix<float>.Build.Dense(nOut, m, fun _ _ -> rng.NextDouble())
        return { Net = net; X = x; Y = y; Label = sprintf "%A hidden %A, output %A, loss %A, batch %d" sizes hidden output loss m }
    }

/// True when some layer's input z sits within tol of 0, where ReLU-like activations have a kink
/// and one-sided slopes differ (differences there measure no derivative).
let nearKink (tol: float) (cache: ForwardCache) =
    cache.Z |> Array.exists (fun z -> z.Enumerate() |> Seq.exists (fun v -> abs v < tol))

let private close what tol (expected: Matrix<float>) (actual: Matrix<float>) =
    for struct (i, j, e) in expected.EnumerateIndexed() do
        if Numeric.relativeError e actual.[i, j] > tol then
            failtestf "%s[%d,%d]: expected %.15g, got %.15g" what i j e actual.[i, j]

/// Central differences of the network's cost with respect to every weight and bias.
let numericGradients (c: NetCase) =
    let perturb (l: int) (isW: bool) (i: int) (j: int) (d: float) =
        let layers = c.Net.Layers |> Array.map (fun layer -> { layer with W = layer.W.Clone(); B = layer.B.Clone() })
        let target = if isW then layers.[l].W else layers.[l].B
        target.[i, j] <- target.[i, j] + d
        Network.cost { c.Net with Layers = layers } c.X c.Y
    c.Net.Layers |> Array.mapi (fun l layer ->
        let diff isW (m: Matrix<float>) =
            Matrix<float>.Build.Dense(m.RowCount, m.ColumnCount, fun i j ->
                let h = 1e-5 * max 1.0 (abs m.[i, j])
                (perturb l isW i j h - perturb l isW i j -h) / (2.0 * h))
        diff true layer.W, diff false layer.B)

[<Tests>]
let tests =
    testList "networks" [
        testPropertyWithConfig { Generators.config with arbitrary = []; maxTest = 150 } "the four equations give the matrix graph's reverse mode, to 1e-10" <|
            Prop.forAll (Arb.fromGen genNet) (fun c ->
                // kinks: skip points where a ReLU input sits within 1e-6 of 0
                let cache = Network.forward c.Net c.X
                if not (nearKink 1e-6 cache) then
                    let g = Network.backward c.Net cache c.Y
                    let expr, env = Network.toTExpr c.Net c.X c.Y
                    let b = TGraph.backward (TGraph.forward (TGraph.ofExpr expr) env)
                    Expect.floatClose Accuracy.veryHigh (b.Value.[0, 0]) (Network.cost c.Net c.X c.Y) "cost"
                    for l in 0 .. c.Net.Layers.Length - 1 do
                        close (sprintf "dW%d (%s)" (l + 1) c.Label) 1e-10 (b.Dvar(sprintf "W%d" (l + 1))) g.DW.[l]
                        close (sprintf "db%d (%s)" (l + 1) c.Label) 1e-10 (b.Dvar(sprintf "b%d" (l + 1))) g.DB.[l])
        testPropertyWithConfig { Generators.config with arbitrary = []; maxTest = 60 } "the four equations agree with central differences" <|
            Prop.forAll (Arb.fromGen genNet) (fun c ->
                let cache = Network.forward c.Net c.X
                if not (nearKink 1e-3 cache) then
                    let g = Network.backward c.Net cache c.Y
                    numericGradients c |> Array.iteri (fun l (dw, db) ->
                        close (sprintf "dW%d (%s)" (l + 1) c.Label) 1e-6 dw g.DW.[l]
                        close (sprintf "db%d (%s)" (l + 1) c.Label) 1e-6 db g.DB.[l]))
        testPropertyWithConfig { Generators.config with arbitrary = []; maxTest = 150 } "the fast path (buffers, one gemm per product) gives the reference gradients, to 1e-10" <|
            Prop.forAll (Arb.fromGen genNet) (fun c ->
                let last = c.Net.Layers.[c.Net.Layers.Length - 1].Activation
                if FastPath.supports c.Net (Optimizer.Sgd 0.1) then
                    let reference = Network.backward c.Net (Network.forward c.Net c.X) c.Y
                    let fast = FastNet<float>(c.Net, c.X.ColumnCount + 2)
                    let idx = [| 0 .. c.X.ColumnCount - 1 |]
                    let cost = fast.Gradient(c.X.ToColumnMajorArray(), c.Y.ToColumnMajorArray(), idx, 0, idx.Length)
                    Expect.floatClose Accuracy.veryHigh cost (Network.cost c.Net c.X c.Y) (sprintf "cost (%s)" c.Label)
                    let expected = Parameters.flattenGradients reference
                    Array.iteri2 (fun i e a ->
                        if Numeric.relativeError e a > 1e-10 then failtestf "gradient %d (%s): reference %.15g, fast %.15g" i c.Label e a) expected fast.Gradients
                    // and one SGD step lands where the reference optimiser lands
                    let before = Parameters.flatten c.Net
                    fast.Step(Optimizer.Sgd 0.3, 0.3, c.X.ToColumnMajorArray(), c.Y.ToColumnMajorArray(), idx, 0, idx.Length) |> ignore
                    let stepped = Array.map2 (fun p g -> p - 0.3 * g) before expected
                    Array.iteri2 (fun i e a -> if Numeric.relativeError e a > 1e-10 then failtestf "parameter %d after a step: %.15g vs %.15g" i e a) stepped fast.Parameters
                    // single precision: the same gradients to float32's accuracy
                    let single = FastNet<float32>(c.Net, c.X.ColumnCount)
                    let cost32 = single.Gradient(c.X.ToColumnMajorArray(), c.Y.ToColumnMajorArray(), idx, 0, idx.Length)
                    if Numeric.relativeError cost cost32 > 1e-4 then failtestf "float32 cost %g vs %g" cost32 cost
                    Array.iteri2 (fun i e (a: float32) ->
                        if Numeric.relativeError e (float a) > 1e-3 then failtestf "float32 gradient %d (%s): %.7g vs %.7g" i c.Label (float a) e) expected single.Gradients
                else ignore last)
        test "the fast path allocates nothing per training step in steady state" {
            let net = Network.create [ 784; 30; 10 ] Activation.Sigmoid Activation.Sigmoid Loss.Quadratic Init.Normal 1
            let rng = Random(1)
            let xs = Array.init (784 * 100) (fun _ -> rng.NextDouble())
            let ys = Array.init (10 * 100) (fun i -> if i % 11 = 0 then 1.0 else 0.0)
            let idx = [| 0 .. 99 |]
            let fast = FastNet<float>(net, 10)
            let single = FastNet<float32>(net, 10)
            for o in [ Optimizer.Sgd 3.0; Optimizer.Momentum(0.1, 0.9); Optimizer.Nesterov(0.1, 0.9); Optimizer.Adam(0.001, 0.9, 0.999, 1e-8) ] do
                for k in 1 .. 300 do single.Step(o, 0.1, xs, ys, idx, (k % 10) * 10, 10) |> ignore
                let before = GC.GetAllocatedBytesForCurrentThread()
                for k in 1 .. 1000 do single.Step(o, 0.1, xs, ys, idx, (k % 10) * 10, 10) |> ignore
                let after = GC.GetAllocatedBytesForCurrentThread()
                let before10 = GC.GetAllocatedBytesForCurrentThread()
                for k in 1 .. 10 do single.Step(o, 0.1, xs, ys, idx, (k % 10) * 10, 10) |> ignore
                Expect.equal ((after - before) - (GC.GetAllocatedBytesForCurrentThread() - before10)) 0L (sprintf "float32 bytes per step by %A" o)
                // warm up: the optimiser's state is allocated on its first step, and the runtime
                // compiles the hot methods again (tiered JIT) during the first few hundred calls
                for k in 1 .. 300 do fast.Step(o, 0.1, xs, ys, idx, (k % 10) * 10, 10) |> ignore
                let allocated steps =
                    let before = GC.GetAllocatedBytesForCurrentThread()
                    for k in 1 .. steps do fast.Step(o, 0.1, xs, ys, idx, (k % 10) * 10, 10) |> ignore
                    GC.GetAllocatedBytesForCurrentThread() - before
                // what 1,000 steps allocate beyond what 10 do: the per-step cost, free of one-offs
                let a10 = allocated 10
                let a1000 = allocated 1000
                Expect.equal (a1000 - a10) 0L (sprintf "bytes allocated per step by %A (10 steps: %d bytes, 1000 steps: %d bytes)" o a10 a1000)
        }
        test "the hinge loss's gradient matches central differences away from its kinks" {
            let rng = Random(3)
            for _ in 1 .. 50 do
                let a = Matrix<float>.Build.Dense(3, 3, fun _ _ -> rng.NextDouble() * 4.0 - 2.0)
                let y = Matrix<float>.Build.DenseIdentity(3)
                let loss = Loss.Hinge 1.0
                let kink = [ for j in 0 .. 2 do for i in 0 .. 2 do if i <> j then yield abs (a.[i, j] - a.[j, j] + 1.0) ] |> List.exists (fun v -> v < 1e-3)
                if not kink then
                    let g = Loss.gradient loss a y
                    let numeric =
                        Matrix<float>.Build.Dense(3, 3, fun i j ->
                            let at d = let c = a.Clone() in c.[i, j] <- c.[i, j] + d; Loss.value loss Activation.Identity c c y
                            (at 1e-6 - at -1e-6) / 2e-6)
                    close "hinge gradient" 1e-6 numeric g
        }
        test "the notes' hinge loss: 3 samples, 3 classes, L = (L0 + L1 + L2)/3" {
            // scores s_j = w_j·x_i for 1-D samples x = [1, 2, -1] and weights w = [0.5, -1, 2]
            let w, x = [| 0.5; -1.0; 2.0 |], [| 1.0; 2.0; -1.0 |]
            let s = Matrix<float>.Build.Dense(3, 3, fun j i -> w.[j] * x.[i])
            let y = Matrix<float>.Build.DenseIdentity(3)                  // sample i is of class i
            let byHand =
                [ for i in 0 .. 2 -> [ for j in 0 .. 2 do if j <> i then yield max 0.0 (w.[j] * x.[i] - w.[i] * x.[i] + 1.0) ] |> List.sum ]
                |> List.sum |> fun t -> t / 3.0
            Expect.floatClose Accuracy.veryHigh (Loss.value (Loss.Hinge 1.0) Activation.Identity s s y) byHand "L"
            // s = [0.5, −1, 2], [1, −2, 4], [−0.5, 1, −2] for the three samples:
            // L0 = max(0, −1 − 0.5 + 1) + max(0, 2 − 0.5 + 1) = 2.5; L1 = max(0, 1 + 2 + 1) + max(0, 4 + 2 + 1) = 11;
            // L2 = max(0, −0.5 + 2 + 1) + max(0, 1 + 2 + 1) = 6.5
            Expect.floatClose Accuracy.veryHigh byHand ((2.5 + 11.0 + 6.5) / 3.0) "by the notes' formula"
        }
        test "softmax Jacobian: diag(p) − ppᵀ, and Jᵀ·∂H/∂p = p − y for cross-entropy" {
            let z = Vector<float>.Build.DenseOfArray [| 1.0; -0.5; 2.0 |]
            let p = Kernels.softmax Axis.Rows (Matrix<float>.Build.DenseOfColumnVectors z) |> fun m -> m.Column 0
            let y = Vector<float>.Build.DenseOfArray [| 0.0; 0.0; 1.0 |]
            let J = Activation.softmaxJacobian p
            for i in 0 .. 2 do
                for j in 0 .. 2 do
                    Expect.floatClose Accuracy.veryHigh J.[i, j] (if i = j then p.[i] * (1.0 - p.[i]) else -p.[i] * p.[j]) "entry"
            let dH = -(y.PointwiseDivide p)
            let back = J.TransposeThisAndMultiply dH
            for i in 0 .. 2 do Expect.floatClose Accuracy.veryHigh back.[i] (p.[i] - y.[i]) "p − y"
        }
        test "softmax + cross-entropy is stable for logits of ±1000" {
            let z = Matrix<float>.Build.DenseOfArray(array2D [ [ 1000.0 ]; [ -1000.0 ]; [ 0.0 ] ])
            let y = Matrix<float>.Build.DenseOfArray(array2D [ [ 0.0 ]; [ 1.0 ]; [ 0.0 ] ])
            let a = Activation.apply Activation.Softmax z
            let c = Loss.value Loss.CrossEntropy Activation.Softmax z a y
            Expect.floatClose Accuracy.veryHigh c 2000.0 "−log softmax = 2000"
            let d = Loss.outputDelta Loss.CrossEntropy Activation.Softmax z a y
            Expect.isTrue (d.Enumerate() |> Seq.forall Double.IsFinite) "finite δᴸ"
        }
        test "the same seed gives bit-identical weights; another seed does not" {
            let a = Network.create [ 784; 30; 10 ] Activation.Sigmoid Activation.Sigmoid Loss.Quadratic Init.Normal 42
            let b = Network.create [ 784; 30; 10 ] Activation.Sigmoid Activation.Sigmoid Loss.Quadratic Init.Normal 42
            let c = Network.create [ 784; 30; 10 ] Activation.Sigmoid Activation.Sigmoid Loss.Quadratic Init.Normal 43
            Expect.equal (a.Layers.[0].W.ToColumnMajorArray()) (b.Layers.[0].W.ToColumnMajorArray()) "same seed"
            Expect.notEqual (a.Layers.[0].W.ToColumnMajorArray()) (c.Layers.[0].W.ToColumnMajorArray()) "other seed"
            let w = a.Layers.[0].W.Enumerate() |> Array.ofSeq
            let mean = Array.average w
            let sd = sqrt (w |> Array.averageBy (fun v -> (v - mean) ** 2.0))
            Expect.isLessThan (abs mean) 0.02 "N(0,1) mean"
            Expect.isLessThan (abs (sd - 1.0)) 0.02 "N(0,1) standard deviation"
            let u = Network.create [ 400; 50; 10 ] Activation.Relu Activation.Softmax Loss.CrossEntropy Init.Uniform 1
            let bound = 1.0 / sqrt 400.0
            Expect.isTrue (u.Layers.[0].W.Enumerate() |> Seq.forall (fun v -> abs v <= bound)) "uniform within ±1/√n_in"
            Expect.isTrue (u.Layers.[0].B.Enumerate() |> Seq.exists (fun v -> v <> 0.0)) "uniform biases too"
        }
    ]
