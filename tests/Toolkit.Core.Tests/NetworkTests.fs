/// Layers, activations, losses, optimisers and the backpropagation equations.
module Toolkit.Tests.NetworkTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open Toolkit.Graph
open Toolkit.Tensors
open Toolkit.Nn
open Toolkit.Tests.Generators

type NetCase = { Net: Network; X: Matrix<float>; Y: Matrix<float>; Label: string }

/// Every activation: one per op of the vocabulary (enumerated, not listed), the identity, softmax.
let activations = unaryOps |> List.choose (fun op -> match op with UnaryOp.PowInt _ | UnaryOp.Neg -> None | _ -> Some(Activation.Elementwise op))

/// The output activations each loss is defined for (the cross-entropies need probabilities).
let private outputsFor (loss: Loss) =
    match loss with
    | Loss.Quadratic -> [ Activation.Sigmoid; Activation.Softmax; Activation.Identity; Activation.Tanh ]
    | Loss.BinaryCrossEntropy -> [ Activation.Sigmoid; Activation.Softmax ]
    | Loss.CrossEntropy -> [ Activation.Softmax; Activation.Sigmoid ]
    | Loss.Hinge _ -> [ Activation.Identity; Activation.Tanh; Activation.Sigmoid ]

let genNet (dropout: bool) : Gen<NetCase> =
    gen {
        let! depth = Gen.choose (1, 3)
        let! sizes = Gen.listOfLength (depth + 1) (Gen.choose (1, 5))
        let! hidden = Gen.elements activations
        let! loss = Gen.elements Loss.all
        let! output = Gen.elements (outputsFor loss)
        let! rate = if dropout then Gen.elements [ 0.0; 0.3; 0.5 ] else Gen.constant 0.0
        let! seed = Gen.choose (0, 10000)
        let! m = Gen.choose (1, 4)
        let net = Network.create sizes hidden output loss Init.Xavier seed
        let net = if rate > 0.0 then Network.withDropout rate net else net
        let rng = Random(seed + 1)
        let x = Matrix<float>.Build.Dense(sizes.Head, m, fun _ _ -> rng.NextDouble() * 2.0 - 1.0)
        let nOut = List.last sizes
        let y =
            match loss with
            | Loss.CrossEntropy | Loss.Hinge _ -> Matrix<float>.Build.Dense(nOut, m, fun i j -> if i = (j * 7 + seed) % nOut then 1.0 else 0.0)
            | Loss.Quadratic | Loss.BinaryCrossEntropy -> Matrix<float>.Build.Dense(nOut, m, fun _ _ -> rng.NextDouble())
        return { Net = net; X = x; Y = y; Label = Network.describe net + sprintf ", %s loss, batch %d" (Loss.name loss) m }
    }

/// The cost in training mode with the random layers seeded: the function whose gradient
/// Network.backwardSeeded gives (the same seed draws the same dropout masks).
let trainingCost (seed: int) (n: Network) (x: Matrix<float>) (y: Matrix<float>) =
    FastNet<float>(n, x.ColumnCount, seed).Gradient(Samples.OfMatrix x, y.ToColumnMajorArray(), Array.init x.ColumnCount id, 0, x.ColumnCount)

/// True where central differences measure no derivative: in training mode with the random
/// layers seeded by <paramref name="seed"/> (dropout's masks as the gradient sees them), a dense
/// layer's output within tol of a kink at 0, a hinge margin within tol of 0, probabilities clamped
/// by a cross-entropy, or values out of an op's domain.
let nearKinkSeeded (seed: int) (tol: float) (c: NetCase) =
    let m = c.X.ColumnCount
    let f = FastNet<float>(c.Net, m, seed)
    let cost = f.Gradient(Samples.OfMatrix c.X, c.Y.ToColumnMajorArray(), Array.init m id, 0, m)
    let outputs = f.Outputs |> Array.map (fun o -> Array.sub o 0 (o.Length / f.MaxBatch * m))
    let near =
        outputs |> Array.indexed |> Array.exists (fun (l, o) ->
            c.Net.Layers.[l].ParameterCount > 0 && o |> Array.exists (fun v -> abs v < tol))
    let finite = Double.IsFinite cost && outputs |> Array.forall (Array.forall (fun v -> Double.IsFinite v && abs v < 1e6))
    let hinge =
        match c.Net.Loss with
        | Loss.Hinge margin ->
            let s = Matrix<float>.Build.Dense(c.Net.Outputs, m, Array.last outputs)
            seq { for j in 0 .. m - 1 do
                    let cls = c.Y.Column(j).MaximumIndex()
                    for i in 0 .. s.RowCount - 1 do
                        if i <> cls then yield abs (s.[i, j] - s.[cls, j] + margin) < tol }
            |> Seq.exists id
        | _ -> false
    // a cross-entropy of probabilities clamps them away from 0 and 1 (as PyTorch's BCELoss does),
    // so where an output is within 1e-12 of either, the gradient formula and the flat clamped value
    // part: central differences measure nothing there
    let saturated =
        let last = c.Net.Layers.Length - 1
        c.Net.Layers.[last].LossInput c.Net.Loss = LossInput.Outputs
        && (match c.Net.Loss with Loss.BinaryCrossEntropy | Loss.CrossEntropy -> true | Loss.Quadratic | Loss.Hinge _ -> false)
        && Array.last outputs |> Array.exists (fun v -> v < 1e-12 || v > 1.0 - 1e-12)
    near || hinge || saturated || not finite

/// nearKinkSeeded for networks without random layers.
let nearKink (tol: float) (c: NetCase) = nearKinkSeeded 0 tol c

let private closeArrays what tol (expected: float[]) (actual: float[]) =
    Expect.equal actual.Length expected.Length (what + ": lengths")
    Array.iteri2 (fun i e a -> if Numeric.relativeError e a > tol then failtestf "%s [%d]: expected %.15g, got %.15g" what i e a) expected actual

/// The training cost with parameter i moved by d.
let private costMoved (seed: int) (c: NetCase) (i: int) (d: float) =
    let p = Array.copy c.Net.Parameters
    p.[i] <- p.[i] + d
    trainingCost seed (Network.withParameters c.Net p) c.X c.Y

let private differenceStep (v: float) = 1e-5 * max 1.0 (abs v)

/// <summary>Central differences with a bound on their own error: D(h) and |D(2h) − D(h)|. Where
/// the cost is smooth around the point the truncation error of D(h) is about a third of that
/// difference, so the bound holds with a factor 3 to spare; near a point where the curvature
/// grows without bound (√ just past 0, as after abs) the bound grows with it, where a fixed
/// tolerance would blame the backward pass for the differences' own error.</summary>
let numericGradientsWithError (seed: int) (c: NetCase) =
    c.Net.Parameters |> Array.mapi (fun i v ->
        let h = differenceStep v
        let d1 = (costMoved seed c i h - costMoved seed c i -h) / (2.0 * h)
        let d2 = (costMoved seed c i (2.0 * h) - costMoved seed c i (-2.0 * h)) / (4.0 * h)
        d1, abs (d2 - d1))

/// Fails unless every analytic gradient agrees with its central difference: to <c>tol</c>
/// relative to the gradient's own size (with a floor for entries that are 0 but for rounding),
/// plus the differences' own error bound (√ just past 0, as after abs or a dense layer whose
/// output lands near 0).
let agreesWithDifferences (tol: float) (label: string) (numeric: (float * float)[]) (analytic: float[]) =
    Array.iteri2 (fun i (e, bound) a ->
        if abs (e - a) > tol * max 1e-2 (max (abs e) (abs a)) + bound then
            failtestf "gradient %d (%s): central differences %.12g (error bound %.3g), backward %.12g" i label e bound a) numeric analytic

/// A loss over a whole batch (columns are samples) by Loss.sample: the mean cost.
let batchCost (loss: Loss) (input: LossInput) (p: Matrix<float>) (y: Matrix<float>) =
    let ps, ys = p.ToColumnMajorArray(), y.ToColumnMajorArray()
    let n = p.RowCount
    [ for j in 0 .. p.ColumnCount - 1 ->
        Loss.sample loss input (ReadOnlySpan(ps, j * n, n)) (ReadOnlySpan(ys, j * n, n)) 1.0 (Span<float>.Empty) (Span<float>.Empty) ]
    |> List.average

/// <summary>How much the mean cost moves when every output moves by a relative 1: Σ |∂C/∂a|·|a|
/// over the outputs a (read as outputs, whatever the loss is fed). Two exact ways of computing
/// the cost differ by a few ulps of each output times this: large where the loss is ill
/// conditioned (a binary cross-entropy with a softmax output a hair from 1 has ∂C/∂a ≈ 1/(1 − a)).</summary>
let costSensitivity (net: Network) (x: Matrix<float>) (y: Matrix<float>) =
    let a = Network.predict net x
    let ps, ys = a.ToColumnMajorArray(), y.ToColumnMajorArray()
    let n = a.RowCount
    let dp = Array.zeroCreate<float> ps.Length
    for j in 0 .. a.ColumnCount - 1 do
        Loss.sample net.Loss LossInput.Outputs (ReadOnlySpan(ps, j * n, n)) (ReadOnlySpan(ys, j * n, n)) (1.0 / float a.ColumnCount) (Span(dp, j * n, n)) (Span<float>.Empty) |> ignore
    Array.fold2 (fun s d v -> s + abs (d * v)) 0.0 dp ps

/// <summary>A case whose loss is ill conditioned at its outputs: Σ |∂C/∂a|·|a| above 10⁴·max(1, |C|).
/// There an ulp of difference in the outputs, which two exact paths may have, moves the cost
/// and the gradients by 10⁴ ulps or more, past a 1e-10 comparison. Over 396 generated cases the
/// sensitivity had median 1 and 99th percentile 4.8; CI met one at 2.4·10⁸ (a softmax output
/// 10⁻⁹ from 1 under binary cross-entropy), whose gradients differed in the fifth digit.</summary>
let illConditioned (c: NetCase) =
    costSensitivity c.Net c.X c.Y > 1e4 * max 1.0 (abs (Network.cost c.Net c.X c.Y))

/// Activation passes over z and over random parts of it alone (and σ, tanh at every offset) give
/// each element the same bits, in 'T's precision.
let private sameBitsWherever<'T when 'T :> Numerics.IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>
        (g: Activation) (z: float[]) (da: float[]) (rng: Random) (store: float -> 'T) (bits: 'T -> int64) =
    let n = z.Length
    let z, da = Array.map store z, Array.map store da
    let pass (z: 'T[]) (da: 'T[]) =
        let a, dz = Array.zeroCreate z.Length, Array.zeroCreate z.Length
        Activation.forward g z.Length 1 z a
        Activation.backward g z.Length 1 z a da dz
        a, dz
    let a, dz = pass z da
    // every part of the array, alone
    for _ in 1 .. 6 do
        let first = rng.Next n
        let count = 1 + rng.Next(n - first)
        let a', dz' = pass (Array.sub z first count) (Array.sub da first count)
        for i in 0 .. count - 1 do
            if bits a'.[i] <> bits a.[first + i] || bits dz'.[i] <> bits dz.[first + i] then
                failtestf "%s (%s) at %g: alone among %d from %d it gives %O, %O; among all %d %O, %O" (Activation.name g) typeof<'T>.Name (Double.CreateTruncating z.[first + i]) count first a'.[i] dz'.[i] n a.[first + i] dz.[first + i]
    // σ and tanh at every offset of their array (so at every alignment of the vectors); the
    // values the lanes do not take (NaN, ±∞, huge) come from the table exactly
    match g with
    | Activation.Elementwise (UnaryOp.Sigmoid | UnaryOp.Tanh as op) ->
        for i in 0 .. n - 1 do
            let v = Double.CreateTruncating z.[i]
            // Lanes' bounds: 350 in float64, 80 in float32
            if not (abs v <= (if typeof<'T> = typeof<float> then 350.0 else 80.0)) then
                let expected = store (Rules.unary op v)
                if bits a.[i] <> bits expected then failtestf "%s (%s) at %g: %O, the table %O" (Activation.name g) typeof<'T>.Name v a.[i] expected
        for offset in 1 .. 8 do
            let shifted = Array.append (Array.zeroCreate offset) z
            let out = Array.zeroCreate (n + offset)
            Lanes.forward op shifted offset out offset n
            for i in 0 .. n - 1 do
                if bits out.[offset + i] <> bits a.[i] then failtestf "%s (%s) at %g, offset %d: %O, at 0: %O" (Activation.name g) typeof<'T>.Name (Double.CreateTruncating z.[i]) offset out.[offset + i] a.[i]
    | _ -> ()

[<Tests>]
let tests =
    testList "networks" [
        testPropertyWithConfig { Generators.config with arbitrary = []; maxTest = 150 } "every layer's backward gives the matrix graph's reverse mode, to 1e-10" <|
            Prop.forAll (Arb.fromGen (genNet false)) (fun c ->
                if not (nearKink 1e-6 c) && not (illConditioned c) then
                    let g = Network.backward c.Net c.X c.Y
                    let expr, env, names = Network.toTExpr c.Net c.X c.Y
                    let b = TGraph.backward (TGraph.forward (TGraph.ofExpr expr) env)
                    Expect.floatClose Accuracy.veryHigh (b.Value.[0, 0]) (Network.cost c.Net c.X c.Y) "cost"
                    Expect.floatClose Accuracy.veryHigh g.Cost (Network.cost c.Net c.X c.Y) "cost of the backward pass"
                    let byGraph = [| for n in names do yield! (b.Dvar n).ToColumnMajorArray() |]
                    closeArrays (sprintf "gradients (%s)" c.Label) 1e-10 byGraph g.Parameters)
        testPropertyWithConfig { Generators.config with arbitrary = []; maxTest = 80 } "every layer's backward agrees with central differences (dropout with its masks fixed)" <|
            Prop.forAll (Arb.fromGen (genNet true)) (fun c ->
                if not (nearKinkSeeded 5 1e-3 c) then
                    let g = Network.backwardSeeded 5 c.Net c.X c.Y
                    // with the differences' own error bound: a dense layer's output just past 0
                    // into √ made D(h) itself 5e-6 off (CI met one: 6.48373667 against 6.48370535)
                    agreesWithDifferences 1e-6 c.Label (numericGradientsWithError 5 c) g.Parameters)
        testPropertyWithConfig { Generators.config with arbitrary = []; maxTest = 100 } "float32 gives the float64 gradients to float32's accuracy; a step of every optimiser lands where Optimizer.step lands" <|
            Prop.forAll (Arb.fromGen (genNet false)) (fun c ->
                if not (nearKink 1e-3 c) then
                    let reference = Network.backward c.Net c.X c.Y
                    let xs, ys, idx = Samples.OfMatrix c.X, c.Y.ToColumnMajorArray(), [| 0 .. c.X.ColumnCount - 1 |]
                    let single = FastNet<float32>(c.Net, c.X.ColumnCount)
                    let cost32 = single.Gradient(xs, ys, idx, 0, idx.Length)
                    if Numeric.relativeError reference.Cost cost32 > 1e-4 then failtestf "float32 cost %g vs %g (%s)" cost32 reference.Cost c.Label
                    Array.iteri2 (fun i e (a: float32) ->
                        if Numeric.relativeError e (float a) > 1e-3 then failtestf "float32 gradient %d (%s): %.7g vs %.7g" i c.Label (float a) e) reference.Parameters single.Gradients
                    for o in optimizers |> List.filter Optimizer.usesGradient do
                        // two steps, so that the second runs on the state the first left (Nesterov's look-ahead, the moments)
                        let fast = FastNet<float>(c.Net, c.X.ColumnCount)
                        let fastState = Optimizer.init fast.ParameterCount 1
                        for _ in 1 .. 2 do fast.Step(o, fastState, Optimizer.learningRate o, xs, ys, idx, 0, idx.Length) |> ignore
                        let objective = { Loss = (fun p -> Network.cost (Network.withParameters c.Net p) c.X c.Y); Gradient = fun p -> (Network.backward (Network.withParameters c.Net p) c.X c.Y).Parameters }
                        let state = Optimizer.init c.Net.Parameters.Length 1
                        let stepped = Optimizer.step o Schedule.Constant state objective (Optimizer.step o Schedule.Constant state objective c.Net.Parameters)
                        closeArrays (sprintf "%s, two steps (%s)" (Optimizer.name o) c.Label) 1e-10 stepped fast.Parameters)
        testPropertyWithConfig { Generators.config with arbitrary = [] } "every activation's pass over buffers (SIMD or the table) gives the table's value and derivative, float64 and float32" <|
            Prop.forAll (Arb.fromGen (Gen.zip (Gen.elements activations) (Gen.choose (1, 37)))) (fun (g, n) ->
                let op = match g with Activation.Elementwise op -> op | _ -> failwith "elementwise only"
                let rng = Random(n)
                let z = Array.init n (fun _ -> rng.NextDouble() * 6.0 - 3.0) |> Array.map (fun v -> if Double.IsFinite(Rules.unary op v) then v else abs v + 0.5)
                let da = Array.init n (fun _ -> rng.NextDouble() * 2.0 - 1.0)
                let a, dz = Array.zeroCreate n, Array.zeroCreate n
                Activation.forward g n 1 z a
                Activation.backward g n 1 z a da dz
                for i in 0 .. n - 1 do
                    let v = Rules.unary op z.[i]
                    if Numeric.relativeError v a.[i] > 1e-12 then failtestf "%s(%g): %g, table %g" (Rules.name op) z.[i] a.[i] v
                    let d = da.[i] * Rules.dUnary op z.[i] v
                    if Numeric.relativeError d dz.[i] > 1e-12 then failtestf "%s′(%g)·da: %g, table %g" (Rules.name op) z.[i] dz.[i] d
                let z32, da32 = Array.map float32 z, Array.map float32 da
                let a32, dz32 = Array.zeroCreate n, Array.zeroCreate n
                Activation.forward g n 1 z32 a32
                Activation.backward g n 1 z32 a32 da32 dz32
                for i in 0 .. n - 1 do
                    let v = Rules.unary op (float z32.[i])
                    if Numeric.relativeError v (float a32.[i]) > 1e-5 then failtestf "float32 %s(%g): %g, table %g" (Rules.name op) z.[i] a32.[i] v
                    let d = float da32.[i] * Rules.dUnary op (float z32.[i]) (float a32.[i])
                    if abs (d - float dz32.[i]) > 1e-5 * max 1.0 (abs d) then failtestf "float32 %s′(%g)·da: %g, table %g" (Rules.name op) z.[i] dz32.[i] d)
        // the threads, a batch's split and a resumed run must not change a trained network's bits,
        // so no element's may depend on its neighbours, its place or its array's address
        testPropertyWithConfig { Generators.config with arbitrary = []; maxTest = 200 } "every activation's pass gives an element the same bits wherever it sits, beside NaN, ±∞ and huge values, float64 and float32" <|
            Prop.forAll (Arb.fromGen (Gen.zip3 (Gen.elements activations) (Gen.choose (1, 90)) (Gen.choose (0, 100000)))) (fun (g, n, seed) ->
                let rng = Random(seed)
                let special = [| nan; -nan; infinity; -infinity; 0.0; -0.0; 351.0; -353.0; 709.5; -710.0; 1e300; -1e300; 81.0; -89.0; 1e39 |]
                let z = Array.init n (fun _ -> if rng.Next 5 = 0 then special.[rng.Next special.Length] else rng.NextDouble() * 8.0 - 4.0)
                let da = Array.init n (fun _ -> rng.NextDouble() * 2.0 - 1.0)
                sameBitsWherever g z da rng id BitConverter.DoubleToInt64Bits
                sameBitsWherever g z da rng float32 (fun v -> int64 (BitConverter.SingleToInt32Bits v)))
        test "a training step allocates nothing in steady state, for every optimiser and with dropout" {
            let net = Network.create [ 784; 30; 10 ] Activation.Sigmoid Activation.Sigmoid Loss.Quadratic Init.Normal 1
            let rng = Random(1)
            let xs = Samples.OfValues(784, Array.init (784 * 100) (fun _ -> rng.NextDouble()))
            let ys = Array.init (10 * 100) (fun i -> if i % 11 = 0 then 1.0 else 0.0)
            let idx = [| 0 .. 99 |]
            let check (name: string) (f: int -> unit) =
                // warm up: the optimiser's state is allocated on its first step, and the runtime
                // compiles the hot methods again (tiered JIT) during the first few hundred calls
                for k in 1 .. 300 do f k
                let allocated steps =
                    let before = GC.GetAllocatedBytesForCurrentThread()
                    for k in 1 .. steps do f k
                    GC.GetAllocatedBytesForCurrentThread() - before
                // what 1,000 steps allocate beyond what 10 do: the per-step cost, free of one-offs.
                // A one-off can still land inside the window (seen once, in CI under CPU load, as
                // 3,576 bytes over 1,000 steps: the runtime installing re-compiled code); it does
                // not repeat, so the smallest of three windows is taken. An allocation made every
                // step is in all three.
                let windows = [ for _ in 1 .. 3 -> let a10 = allocated 10 in let a1000 = allocated 1000 in a1000 - a10, a10, a1000 ]
                let excess, a10, a1000 = List.minBy (fun (e, _, _) -> e) windows
                Expect.equal excess 0L (sprintf "bytes allocated per step, %s (10 steps: %d bytes, 1000 steps: %d bytes)" name a10 a1000)
            for o in optimizers |> List.filter Optimizer.usesGradient do
                let single = FastNet<float32>(net, 10)
                let s32 = Optimizer.init single.ParameterCount 1
                check (sprintf "float32, %A" o) (fun k -> single.Step(o, s32, 0.1, xs, ys, idx, (k % 10) * 10, 10) |> ignore)
                let fast = FastNet<float>(net, 10)
                let s64 = Optimizer.init fast.ParameterCount 1
                check (sprintf "float64, %A" o) (fun k -> fast.Step(o, s64, 0.1, xs, ys, idx, (k % 10) * 10, 10) |> ignore)
            let dropped = FastNet<float32>(Network.withDropout 0.2 net, 10)
            let sd = Optimizer.init dropped.ParameterCount 1
            let sgd = Optimizer.Sgd 0.1
            check "float32 with dropout" (fun k -> dropped.Step(sgd, sd, 0.1, xs, ys, idx, (k % 10) * 10, 10) |> ignore)
        }
        test "dropout: off in evaluation; in training about the rate dropped, the rest scaled by 1/(1 − rate); a seed gives its masks" {
            let net = Network.ofLayers [ Dropout(0.25, 1000) ] Loss.Quadratic Init.Normal 1
            let x = Matrix<float>.Build.Dense(1000, 4, 1.0)
            Expect.equal (Network.predict net x) x "evaluation passes the input through"
            let f = FastNet<float>(net, 4, 7)
            f.Gradient(Samples.OfMatrix x, Array.zeroCreate 4000, [| 0 .. 3 |], 0, 4) |> ignore
            let out = f.Outputs.[0]
            let dropped = out |> Array.filter (fun v -> v = 0.0) |> Array.length
            Expect.isTrue (out |> Array.forall (fun v -> v = 0.0 || abs (v - 1.0 / 0.75) < 1e-15)) "0 or 1/(1 − rate)"
            // 4000 draws at p = 0.25: mean 1000, standard deviation 27; ±150 is over 5 standard deviations
            Expect.isTrue (abs (dropped - 1000) < 150) (sprintf "%d of 4000 dropped" dropped)
            let again = FastNet<float>(net, 4, 7)
            again.Gradient(Samples.OfMatrix x, Array.zeroCreate 4000, [| 0 .. 3 |], 0, 4) |> ignore
            Expect.equal again.Outputs.[0] out "the same seed, the same mask"
        }
        test "the notes' hinge loss: 3 samples, 3 classes, L = (L0 + L1 + L2)/3" {
            // scores s_j = w_j·x_i for 1-D samples x = [1, 2, -1] and weights w = [0.5, -1, 2]
            let w, x = [| 0.5; -1.0; 2.0 |], [| 1.0; 2.0; -1.0 |]
            let s = Matrix<float>.Build.Dense(3, 3, fun j i -> w.[j] * x.[i])
            let y = Matrix<float>.Build.DenseIdentity(3)                  // sample i is of class i
            let byHand =
                [ for i in 0 .. 2 -> [ for j in 0 .. 2 do if j <> i then yield max 0.0 (w.[j] * x.[i] - w.[i] * x.[i] + 1.0) ] |> List.sum ]
                |> List.sum |> fun t -> t / 3.0
            Expect.floatClose Accuracy.veryHigh (batchCost (Loss.Hinge 1.0) LossInput.Outputs s y) byHand "L"
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
            let z = [| 1000.0; -1000.0; 0.0 |]
            let y = [| 0.0; 1.0; 0.0 |]
            let d = Array.zeroCreate 3
            let c = Loss.sample Loss.CrossEntropy LossInput.Logits (ReadOnlySpan z) (ReadOnlySpan y) 1.0 (Span d) (Span<float>.Empty)
            Expect.floatClose Accuracy.veryHigh c 2000.0 "−log softmax = 2000"
            Expect.isTrue (d |> Array.forall Double.IsFinite) "finite δᴸ"
            Expect.equal d [| 1.0; -1.0; 0.0 |] "δᴸ = p − y"
        }
        test "the same seed gives bit-identical weights; another seed does not" {
            let a = Network.create [ 784; 30; 10 ] Activation.Sigmoid Activation.Sigmoid Loss.Quadratic Init.Normal 42
            let b = Network.create [ 784; 30; 10 ] Activation.Sigmoid Activation.Sigmoid Loss.Quadratic Init.Normal 42
            let c = Network.create [ 784; 30; 10 ] Activation.Sigmoid Activation.Sigmoid Loss.Quadratic Init.Normal 43
            Expect.equal a.Parameters b.Parameters "same seed"
            Expect.notEqual a.Parameters c.Parameters "other seed"
            let w = a.Parameters.[.. 784 * 30 - 1]
            let mean = Array.average w
            let sd = sqrt (w |> Array.averageBy (fun v -> (v - mean) ** 2.0))
            Expect.isLessThan (abs mean) 0.02 "N(0,1) mean"
            Expect.isLessThan (abs (sd - 1.0)) 0.02 "N(0,1) standard deviation"
            let u = Network.create [ 400; 50; 10 ] Activation.Relu Activation.Softmax Loss.CrossEntropy Init.Uniform 1
            let bound = 1.0 / sqrt 400.0
            Expect.isTrue (u.Parameters.[.. 400 * 50 - 1] |> Array.forall (fun v -> abs v <= bound)) "uniform within ±1/√n_in"
            Expect.isTrue (u.Parameters.[400 * 50 .. 400 * 50 + 49] |> Array.exists (fun v -> v <> 0.0)) "uniform biases too"
        }
        test "layers that do not fit are named with both sizes" {
            let e = Expect.throwsC (fun () -> Network.ofLayers [ Dense(4, 3) :> Layer; ActivationLayer(Activation.Relu, 5) ] Loss.Quadratic Init.He 1 |> ignore) id
            Expect.isTrue (e :? ArgumentException) "an ArgumentException"
            Expect.stringContains e.Message "layer 2 (relu) takes 5 inputs but layer 1 (dense(3)) gives 3 outputs" "message"
        }
        test "layer specs: a stack reads back from its own text; bad specs are named" {
            let stack = Layers.parseStack 784 "dense(256)-relu-dropout(0.2)-dense(10)-softmax"
            Expect.equal (Layers.spec stack) "dense(256)-relu-dropout(0.2)-dense(10)-softmax" "round trip"
            Expect.equal (stack |> Array.map (fun l -> l.Outputs)) [| 256; 256; 256; 10; 10 |] "sizes"
            for spec, message in [ "dense(0)", "'0' is not a positive whole number"; "dropout(1.5)", "below 1"; "lstm(3)", "no such layer"; "dense(3", "without its ')'"; "leakyrelu:x", "no such layer" ] do
                let e = Expect.throwsC (fun () -> Layers.parse 4 spec |> ignore) id
                Expect.isTrue (e :? FormatException) (sprintf "%s: a FormatException" spec)
                Expect.stringContains e.Message message spec
        }
        testSequencedGroup "threads" <| test "threads by measurement: a candidate chosen, each timed, the products left on the choice; bad candidates named" {
            let net = Network.create [ 784; 64; 10 ] Activation.Relu Activation.Softmax Loss.CrossEntropy Init.He 1
            let before = Toolkit.Linalg.Blas.threads ()
            try
                let cores = Environment.ProcessorCount
                let c = ThreadChoice.measure net 32 true [ 1; cores ]
                Expect.contains [ 1; cores ] c.Threads "one of the candidates"
                if cores > 1 then
                    Expect.equal (c.StepSeconds |> List.map fst) [ 1; cores ] "every candidate timed, in order"
                    Expect.all c.StepSeconds (fun (_, s) -> s > 0.0 && s < 1.0) "step times in seconds"
                    // the choice is the fastest, fewer threads winning within 5%
                    let fastest = c.StepSeconds |> List.minBy snd |> snd
                    Expect.isLessThanOrEqual (snd (c.StepSeconds |> List.find (fst >> (=) c.Threads))) (fastest * 1.05) "the chosen is within 5% of the fastest"
                Expect.equal (Toolkit.Linalg.Blas.threads ()) c.Threads "the products run on the choice"
                Expect.equal (ThreadChoice.measure net 32 false [ 1 ]).Threads 1 "one candidate: no timing needed"
                let err (f: unit -> ThreadChoice) = try f () |> ignore; "no error" with :? ArgumentException as e -> e.Message
                Expect.stringContains (err (fun () -> ThreadChoice.measure net 32 true [])) "no thread counts" "none"
                Expect.stringContains (err (fun () -> ThreadChoice.measure net 32 true [ 0; 2 ])) "at least 1" "zero threads"
                Expect.stringContains (err (fun () -> ThreadChoice.measure net 0 true [ 1 ])) "batch size" "no batch"
            finally Toolkit.Linalg.Blas.setThreads before
        }
        testSequencedGroup "threads" <| test "threads re-chosen while training: the faster count per batch is kept, and the other taken when it becomes faster" {
            let before = Toolkit.Linalg.Blas.threads ()
            try
                let a = AdaptiveThreads(2, [ 1; 2 ], 10, 3)
                Expect.equal a.Threads 2 "starts on the count given"
                // batches that take 8 ms on the count in use and 2 ms on the other: a 4× margin
                // over the timer and the scheduler
                let run (slow: int) =
                    a.Restart()
                    for _ in 1 .. 60 do
                        Threading.Thread.Sleep(if a.Threads = slow then 8 else 2)
                        Expect.equal (Toolkit.Linalg.Blas.threads ()) a.Threads "the products run on the count the next batch takes"
                        a.BatchEnded()
                run 2
                Expect.equal a.Chosen 1 "one thread kept when it runs faster"
                Expect.equal a.Switches 1 "one switch"
                run 1
                Expect.equal a.Chosen 2 "back to two when they run faster"
                Expect.equal a.Switches 2 "two switches"
                Expect.throws (fun () -> AdaptiveThreads(1, [ 0 ], 10, 3) |> ignore) "zero threads refused"
            finally Toolkit.Linalg.Blas.setThreads before
        }
        testSequencedGroup "threads" <| test "training gives the same weights, bit for bit, on one thread and on two (the products' parts are fixed by their shapes)" {
            let rng = Random(4)
            let x = Matrix<float>.Build.Dense(784, 256, fun _ _ -> rng.NextDouble())
            let labels = Array.init 256 (fun j -> j % 10)
            let data : Toolkit.Training.LabelledData = { X = Samples.OfMatrix x; Y = Toolkit.Training.Train.oneHot 10 labels; Labels = labels }
            let net = Network.create [ 784; 256; 10 ] Activation.Relu Activation.Softmax Loss.CrossEntropy Init.He 1
            Expect.isGreaterThan (Toolkit.Linalg.Blas.parts 256 64 784) 1 "the first layer's product is cut"
            let config : Toolkit.Training.TrainConfig = { Epochs = 2; BatchSize = 64; Optimizer = Optimizer.Momentum(0.05, 0.9); Schedule = Schedule.Constant; Seed = 3; ValidationFraction = 0.0; Patience = 3; Precision = Toolkit.Training.Precision.Single }
            let before = Toolkit.Linalg.Blas.threads ()
            let on t =
                Toolkit.Linalg.Blas.setThreads t
                try (Toolkit.Training.Train.fit config net data data ignore Threading.CancellationToken.None).Network.Parameters
                finally Toolkit.Linalg.Blas.setThreads before
            Expect.equal (on 2) (on 1) "the same weights"
        }
    ]
