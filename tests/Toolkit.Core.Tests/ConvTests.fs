/// Image layers: convolution, pooling, flatten, batch normalisation — their gradients against
/// central differences, the fast passes against the plain loops, the worked 4×4 example, specs,
/// shapes and model files.
module Toolkit.Tests.ConvTests

open System
open System.IO
open Expecto
open FsCheck
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open Toolkit.Graph
open Toolkit.Tensors
open Toolkit.Nn
open Toolkit.Tests.NetworkTests

/// <summary>For each kind of layer with arguments, a spec valid after the given shape; drawn
/// from <c>Layers.kinds</c> (a test fails when a kind has none here). The windows are generated
/// with every stride, padding and odd size that fits.</summary>
let specFor (kind: string) (s: SampleShape) : Gen<string> option =
    let side = min s.Height s.Width
    match kind with
    | "dense" -> Some(Gen.choose (1, 4) |> Gen.map (sprintf "dense(%d)"))
    | "dropout" -> Some(Gen.elements [ "dropout(0.3)"; "dropout(0)" ])
    | "conv" when not s.IsFlat ->
        Some(gen {
            let! k = Gen.choose (1, min 3 (side + 2))
            let! pad = Gen.choose (0, k - 1)
            let! stride = Gen.choose (1, 2)
            let! outputs = Gen.choose (1, 3)
            let extra = (if stride > 1 then sprintf ",stride=%d" stride else "") + (if pad > 0 then sprintf ",pad=%d" pad else "")
            return sprintf "conv(%d,%d%s)" outputs k extra }
        |> Gen.filter (fun spec -> try Layers.parseShaped s spec |> ignore; true with :? FormatException -> false))
    | "maxpool" | "pool" | "avgpool" when not s.IsFlat ->
        Some(gen {
            let! k = Gen.choose (1, min 3 side)
            let! stride = Gen.choose (1, k)
            let! pad = Gen.choose (0, k / 2)
            let extra = (if stride <> k then sprintf ",stride=%d" stride else "") + (if pad > 0 then sprintf ",pad=%d" pad else "")
            return sprintf "%s(%d%s)" kind k extra })
    | "flatten" -> Some(Gen.constant "flatten")
    | "batchnorm" -> Some(Gen.elements [ "batchnorm"; "batchnorm(0.5,0.001)" ])
    | _ -> None

/// The kinds of layer that work on images, from the specs: those a vector does not take.
let imageKinds = Layers.kinds |> List.map fst |> List.filter (fun k -> (specFor k (SampleShape.Flat 4)).IsNone)

/// A small network that starts with a convolution on a generated image and then takes 1–3 more
/// layers of every kind (a second convolution, pooling, normalisation, activations, dropout),
/// flattened into a dense layer and a loss; samples and targets drawn around it.
let genImageNet (dropout: bool) : Gen<NetCase> =
    gen {
        let! channels = Gen.choose (1, 3)
        // 1×1 is a vector of features: an image is at least 2 high
        let! h = Gen.choose (2, 7)
        let! w = Gen.choose (1, 7)
        let input = SampleShape.Image(channels, h, w)
        let! first = (specFor "conv" input).Value
        let! extra = Gen.choose (1, 3)
        let pick (shape: SampleShape) =
            gen {
                let kinds = Layers.kinds |> List.map fst |> List.filter (fun k -> k <> "dense" && (dropout || k <> "dropout"))
                let! useActivation = Gen.elements [ true; false ]
                if useActivation then
                    let! a = Gen.elements (activations |> List.filter (fun a -> a <> Activation.Softmax))
                    return Activation.name a
                else
                    let available = kinds |> List.choose (fun k -> specFor k shape)
                    let! g = Gen.elements available
                    return! g
            }
        let rec more n (shape: SampleShape) acc =
            if n = 0 then Gen.constant (List.rev acc)
            else gen {
                let! s = pick shape
                return! more (n - 1) (Layers.parseShaped shape s).OutputShape (s :: acc) }
        let! rest = more extra (Layers.parseShaped input first).OutputShape []
        let specs = first :: rest
        let! seed = Gen.choose (0, 10000)
        let rng = Random(seed)
        let! outputs = Gen.choose (1, 4)
        let! loss = Gen.elements [ Loss.Quadratic; Loss.CrossEntropy ]
        let specs = specs @ [ sprintf "dense(%d)" outputs ] @ (if loss = Loss.CrossEntropy then [ "softmax" ] else [])
        let! m = Gen.choose (1, 3)
        let net = Network.ofLayers (Layers.parseStackShaped input (String.Join("-", specs))) loss Init.Xavier seed
        let x = Matrix<float>.Build.Dense(input.Size, m, fun _ _ -> rng.NextDouble() * 2.0 - 1.0)
        let y =
            match loss with
            | Loss.CrossEntropy -> Matrix<float>.Build.Dense(outputs, m, fun i j -> if i = (j * 7 + seed) % outputs then 1.0 else 0.0)
            | _ -> Matrix<float>.Build.Dense(outputs, m, fun _ _ -> rng.NextDouble())
        return { Net = net; X = x; Y = y; Label = sprintf "%O → %s, %s loss, batch %d" input (Network.describe net) (Loss.name loss) m }
    }

/// True where a max pooling's window has its two largest values within tol of each other: the
/// maximum has a kink there and central differences measure no derivative.
let poolTie (tol: float) (c: NetCase) =
    let m = c.X.ColumnCount
    let f = FastNet<float>(c.Net, m, 5)
    f.Gradient(Samples.OfMatrix c.X, c.Y.ToColumnMajorArray(), Array.init m id, 0, m) |> ignore
    c.Net.Layers |> Array.indexed |> Array.exists (fun (l, layer) ->
        match layer with
        | :? MaxPool2D as p ->
            let input = if l = 0 then c.X.ToColumnMajorArray() else f.Outputs.[l - 1]
            let s = p.InputShape
            let win = p.Window
            seq { for n in 0 .. m - 1 do
                    for ch in 0 .. s.Channels - 1 do
                        for y in 0 .. p.OutputShape.Height - 1 do
                            for x in 0 .. p.OutputShape.Width - 1 do
                                let values =
                                    [| for i in 0 .. win.Size - 1 do
                                         for j in 0 .. win.Size - 1 do
                                             let u, v = win.Stride * y + i - win.Padding, win.Stride * x + j - win.Padding
                                             if u >= 0 && u < s.Height && v >= 0 && v < s.Width then
                                                 yield input.[n * s.Size + (ch * s.Height + u) * s.Width + v] |] |> Array.sortDescending
                                yield values.Length > 1 && values.[0] - values.[1] < tol }
            |> Seq.exists id
        | _ -> false)

let private rel = Numeric.relativeError

[<Tests>]
let tests =
    testList "image layers" [
        test "every kind of layer has a generator here, and the image kinds are the ones a vector cannot take" {
            for k, _ in Layers.kinds do
                let anyShape = [ SampleShape.Flat 4; SampleShape.Image(2, 5, 5) ] |> List.exists (fun s -> (specFor k s).IsSome)
                Expect.isTrue anyShape (sprintf "a generator for '%s'" k)
            Expect.equal (Set.ofList imageKinds) (Set.ofList [ "conv"; "maxpool"; "pool"; "avgpool" ]) "image kinds"
        }
        testPropertyWithConfig { Generators.config with arbitrary = []; maxTest = 120 } "every image layer's backward agrees with central differences (stride, padding, odd sizes; dropout's masks fixed)" <|
            Prop.forAll (Arb.fromGen (genImageNet true)) (fun c ->
                if not (nearKinkSeeded 5 1e-3 c || poolTie 1e-3 c) then
                    let g = Network.backwardSeeded 5 c.Net c.X c.Y
                    agreesWithDifferences Generators.Tolerance.finiteDifference c.Label (numericGradientsWithError 5 c) g.Parameters)
        testPropertyWithConfig { Generators.config with arbitrary = []; maxTest = 100 } "the fast convolution (im2col + GEMM) gives the plain loops' z, ∂C/∂W, ∂C/∂b and ∂C/∂a to 1e-12" <|
            Prop.forAll (Arb.fromGen (gen {
                let! channels = Gen.choose (1, 3)
                let! h = Gen.choose (2, 8)
                let! w = Gen.choose (1, 8)
                let input = SampleShape.Image(channels, h, w)
                let! spec = (specFor "conv" input).Value
                let! seed = Gen.choose (0, 10000)
                let! m = Gen.choose (1, 3)
                return input, spec, seed, m })) (fun (input, spec, seed, m) ->
                let conv = Layers.parseShaped input spec :?> Conv2D
                let net = Network.ofLayers [ conv :> Layer ] Loss.Quadratic Init.Xavier seed
                let rng = Random(seed + 1)
                let x = Array.init (input.Size * m) (fun _ -> rng.NextDouble() * 2.0 - 1.0)
                let y = Array.init (conv.Outputs * m) (fun _ -> rng.NextDouble())
                let f = FastNet<float>(net, m)
                f.Gradient(Samples.OfValues(input.Size, x), y, Array.init m id, 0, m) |> ignore
                let k2 = conv.Channels * input.Channels * conv.Kernel * conv.Kernel
                let wts, bias = net.Parameters.[.. k2 - 1], net.Parameters.[k2 ..]
                let win = { Size = conv.Kernel; Stride = conv.Stride; Padding = conv.Padding }
                let mutable dW, db = Array.zeroCreate k2, Array.zeroCreate conv.Channels
                for n in 0 .. m - 1 do
                    let a = x.[n * input.Size .. (n + 1) * input.Size - 1]
                    let z = ConvReference.forward input conv.Channels win wts bias a
                    let fast = f.Outputs.[0].[n * conv.Outputs .. (n + 1) * conv.Outputs - 1]
                    Array.iteri2 (fun i e a -> if rel e a > 1e-12 then failtestf "%s on %O: z[%d] %.15g vs %.15g" spec input i e a) z fast
                    // the quadratic cost's δ = (a − y)/m, as the fast pass used it
                    let delta = Array.init conv.Outputs (fun i -> (z.[i] - y.[n * conv.Outputs + i]) / float m)
                    let w1, b1, _ = ConvReference.backward input conv.Channels win wts a delta
                    dW <- Array.map2 (+) dW w1
                    db <- Array.map2 (+) db b1
                Array.iteri2 (fun i e a -> if rel e a > 1e-12 then failtestf "%s: dW[%d] %.15g vs %.15g" spec i e a) dW f.Gradients.[.. k2 - 1]
                Array.iteri2 (fun i e a -> if rel e a > 1e-12 then failtestf "%s: db[%d] %.15g vs %.15g" spec i e a) db f.Gradients.[k2 ..]
                // ∂C/∂a through a layer in front: the same conv after an identity-sized 1×1 conv is not needed;
                // the plain loops' ∂C/∂a against the fast col2im on one sample directly
                let fast2 = FastNet<float>(Network.ofLayers [ Conv2D(input, input.Channels, 1, 1, 0) :> Layer; Layers.parseShaped input spec ] Loss.Quadratic Init.Xavier seed, 1)
                let p = fast2.Parameters
                // make the first layer the identity: W = I, b = 0
                Array.fill p 0 (input.Channels * input.Channels + input.Channels) 0.0
                for c in 0 .. input.Channels - 1 do p.[c * input.Channels + c] <- 1.0
                Array.blit net.Parameters 0 p (input.Channels * input.Channels + input.Channels) net.Parameters.Length
                fast2.Gradient(Samples.OfValues(input.Size, x), y, [| 0 |], 0, 1) |> ignore
                let a0 = x.[.. input.Size - 1]
                let z0 = ConvReference.forward input conv.Channels win wts bias a0
                let delta0 = Array.init conv.Outputs (fun i -> z0.[i] - y.[i])
                let _, _, da = ConvReference.backward input conv.Channels win wts a0 delta0
                Array.iteri2 (fun i e a -> if rel e a > 1e-12 then failtestf "%s on %O: da[%d] %.15g vs %.15g" spec input i e a) da fast2.OutputGradients.[0].[.. input.Size - 1])
        testPropertyWithConfig { Generators.config with arbitrary = []; maxTest = 100 } "the pooling layers give the plain loops' values" <|
            Prop.forAll (Arb.fromGen (gen {
                let! channels = Gen.choose (1, 3)
                let! h = Gen.choose (2, 8)
                let! w = Gen.choose (1, 8)
                let input = SampleShape.Image(channels, h, w)
                let! kind = Gen.elements [ "maxpool"; "avgpool" ]
                let! spec = (specFor kind input).Value
                let! seed = Gen.choose (0, 10000)
                return input, spec, seed })) (fun (input, spec, seed) ->
                let pool = Layers.parseShaped input spec :?> Pool2D
                let net = Network.ofLayers [ pool :> Layer ] Loss.Quadratic Init.Xavier seed
                let rng = Random(seed)
                let x = Array.init input.Size (fun _ -> rng.NextDouble() * 2.0 - 1.0)
                let out = Network.predict net (Matrix<float>.Build.Dense(input.Size, 1, x))
                let expected = (if pool :? MaxPool2D then ConvReference.maxPool else ConvReference.avgPool) input pool.Window x
                Array.iteri2 (fun i e a -> if rel e a > 1e-14 then failtestf "%s on %O: [%d] %.15g vs %.15g" spec input i e a) expected (out.ToColumnMajorArray()))
        testPropertyWithConfig { Generators.config with arbitrary = []; maxTest = 60 } "float32 image networks give the float64 gradients to float32's accuracy" <|
            Prop.forAll (Arb.fromGen (genImageNet false)) (fun c ->
                if not (nearKink 1e-3 c || poolTie 1e-3 c) then
                    let reference = Network.backward c.Net c.X c.Y
                    let single = FastNet<float32>(c.Net, c.X.ColumnCount)
                    single.Gradient(Samples.OfMatrix c.X, c.Y.ToColumnMajorArray(), Array.init c.X.ColumnCount id, 0, c.X.ColumnCount) |> ignore
                    let scale = reference.Parameters |> Array.fold (fun s v -> max s (abs v)) 1e-3
                    Array.iteri2 (fun i e (a: float32) ->
                        if abs (e - float a) > 1e-3 * scale then failtestf "float32 gradient %d (%s): %.7g vs %.7g" i c.Label (float a) e) reference.Parameters single.Gradients)
        testPropertyWithConfig { Generators.config with arbitrary = []; maxTest = 300 } "max pooling's 2×2 windows four at a time give the loops' values, positions and δ, bit for bit (ties, ±0, ∞, NaN)" <|
            Prop.forAll (Arb.fromGen (Gen.zip3 (Gen.zip (Gen.choose (1, 3)) (Gen.choose (2, 12))) (Gen.zip (Gen.choose (8, 33)) (Gen.choose (1, 3))) (Gen.choose (0, 100000))))
                (fun ((channels, h), (w, m), seed) ->
                    if not (PoolTiles.fits (w / 2)) then failtest "SSE is missing: the four-at-a-time path is not tested here"
                    let shape = SampleShape.Image(channels, h, w)
                    let rng = Random(seed)
                    // a third of the values from a few, so that windows have ties, zeros of both signs, NaN
                    let few = [| -1.0f; 0.0f; -0.0f; 1.0f; 2.0f; nanf; infinityf; -infinityf |]
                    let x = Array.init (shape.Size * m) (fun _ -> if rng.Next 3 = 0 then few.[rng.Next few.Length] else float32 (rng.NextDouble() * 2.0 - 1.0))
                    let outs = channels * (h / 2) * (w / 2) * m
                    let bits (a: float32[]) = Array.map BitConverter.SingleToInt32Bits a
                    // the batch in two parts, as two threads would take it
                    let split = m / 2
                    let loops, loopsAt = Array.zeroCreate<float32> outs, Array.zeroCreate<float32> outs
                    let tiles, tilesAt = Array.zeroCreate<float32> outs, Array.zeroCreate<float32> outs
                    for first, last in [ 0, split; split, m ] do
                        Pooling.max shape { Size = 2; Stride = 2; Padding = 0 } first last x loops loopsAt
                        PoolTiles.max shape first last x tiles tilesAt
                    if bits tiles <> bits loops then failtestf "%O × %d: the values differ" shape m
                    if bits tilesAt <> bits loopsAt then failtestf "%O × %d: the positions differ" shape m
                    if h % 2 = 0 && w % 2 = 0 then
                        let dOut = Array.init outs (fun _ -> float32 (rng.NextDouble() - 0.5))
                        // filled with 7 first: every input's δ must be written
                        let dLoops, dTiles = Array.create (shape.Size * m) 7.0f, Array.create (shape.Size * m) 7.0f
                        for first, last in [ 0, split; split, m ] do
                            Pooling.route shape first last dOut loopsAt dLoops
                            PoolTiles.route shape first last dOut loopsAt dTiles
                        if bits dTiles <> bits dLoops then failtestf "%O × %d: δ differs" shape m)
        // the fast passes share a batch's samples out among the threads and sum ∂C/∂W over a fixed
        // number of groups of samples: the threads must change the speed, never a bit
        testSequencedGroup "threads" << testPropertyWithConfig { Generators.config with arbitrary = []; maxTest = 40 } "image networks' outputs and gradients have the same bits on 1, 2 and 3 threads, in both precisions" <|
            Prop.forAll (Arb.fromGen (Gen.zip (genImageNet false) (Gen.choose (1, 40)))) (fun (c, m) ->
                let rng = Random(m)
                let x = Array.init (c.X.RowCount * m) (fun _ -> rng.NextDouble() * 2.0 - 1.0)
                let y = Array.init (c.Y.RowCount * m) (fun i -> c.Y.[i % c.Y.RowCount, 0])
                // bit patterns, so that a NaN (ln of a negative) equals itself
                let bits (d: float[]) = Array.map BitConverter.DoubleToInt64Bits d
                let bitsS (s: float32[]) = Array.map BitConverter.SingleToInt32Bits s
                let run (threads: int) =
                    Toolkit.Tests.LinalgTests.onThreads threads (fun () ->
                        let d = FastNet<float>(c.Net, m)
                        d.Gradient(Samples.OfValues(c.X.RowCount, x), y, Array.init m id, 0, m) |> ignore
                        let s = FastNet<float32>(c.Net, m)
                        s.Gradient(Samples.OfValues(c.X.RowCount, x), y, Array.init m id, 0, m) |> ignore
                        bits (Array.concat d.Outputs), bits d.Gradients, bitsS (Array.concat s.Outputs), bitsS s.Gradients)
                let one = run 1
                for t in [ 2; 3 ] do
                    if run t <> one then failtestf "%s, run on %d samples: the bits differ between 1 and %d threads" c.Label m t)
        test "the worked example: a 4×4 image, a 2×2 kernel, forward and backward by hand" {
            // a = 1 … 16 row by row; W = [[1, 0], [0, −1]], b = 0.5: every z = a[y, x] − a[y+1, x+1] + 0.5 = −4.5
            let input = SampleShape.Image(1, 4, 4)
            let net = Network.withParameters (Network.ofLayers [ Conv2D(input, 1, 2, 1, 0) :> Layer ] Loss.Quadratic Init.Xavier 1) [| 1.0; 0.0; 0.0; -1.0; 0.5 |]
            let f = FastNet<float>(net, 1)
            let a = Array.init 16 (fun i -> float (i + 1))
            // targets z − 1, so δ = z − y = 1 at every position
            let y = Array.create 9 -5.5
            let cost = f.Gradient(Samples.OfValues(16, a), y, [| 0 |], 0, 1)
            Expect.equal (f.Outputs.[0].[.. 8]) (Array.create 9 -4.5) "z"
            Expect.equal cost 4.5 "C = ½ Σ δ² = 9/2"
            // ∂C/∂W[i, j] = Σ of the 3×3 block of a from (i, j): 54, 63, 90, 99; ∂C/∂b = 9
            Expect.equal f.Gradients [| 54.0; 63.0; 90.0; 99.0; 9.0 |] "dW, db"
            let _, _, da = ConvReference.backward input 1 { Size = 2; Stride = 1; Padding = 0 } [| 1.0; 0.0; 0.0; -1.0 |] a (Array.create 9 1.0)
            Expect.equal da [| 1.0; 1.0; 1.0; 0.0; 1.0; 0.0; 0.0; -1.0; 1.0; 0.0; 0.0; -1.0; 0.0; -1.0; -1.0; -1.0 |] "δ's full correlation with the turned kernel"
        }
        test "image specs read back from their own text, with the shapes they give" {
            let input = SampleShape.Image(1, 28, 28)
            let text = "conv(32,3,pad=1)-relu-pool(2)-conv(64,3,pad=1)-batchnorm-relu-maxpool(2)-dropout(0.25)-flatten-dense(128)-relu-dropout(0.3)-dense(10)-softmax"
            let stack = Layers.parseStackShaped input text
            let spec = Layers.spec stack
            Expect.equal spec (text.Replace("pool(2)-conv", "maxpool(2)-conv")) "pool is written maxpool"
            Expect.equal (Layers.spec (Layers.parseStackShaped input spec)) spec "round trip"
            Expect.equal (stack |> Array.map (fun l -> string l.OutputShape)) [| "32×28×28"; "32×28×28"; "32×14×14"; "64×14×14"; "64×14×14"; "64×14×14"; "64×7×7"; "64×7×7"; "3136"; "128"; "128"; "128"; "10"; "10" |] "shapes"
            Expect.equal (Layers.spec (Layers.parseStackShaped input "conv(8,5,stride=2,pad=2)-avgpool(3,stride=1,pad=1)-batchnorm(0.2,1e-3)")) "conv(8,5,stride=2,pad=2)-avgpool(3,stride=1,pad=1)-batchnorm(0.2,0.001)" "options"
            Expect.equal (Layers.spec (Layers.parseStackShaped input "conv(8,5,2,2)")) "conv(8,5,stride=2,pad=2)" "positional stride and padding"
        }
        test "bad image specs and layers that do not fit are named, with the shapes" {
            let input = SampleShape.Image(1, 4, 4)
            for shape, spec, message in
                [ SampleShape.Flat 784, "conv(8,3)", "conv works on images, but its input is a vector of 784 features"
                  input, "conv(8,5)", "a 5×5 kernel with padding 0 does not fit a 4×4 image (its input: 1×4×4)"
                  input, "conv(8,3,pad=3)", "less than the kernel size 3"
                  input, "conv(8,3,padding=1)", "no argument 'padding'"
                  input, "conv(8)", "conv takes its output channels and kernel size"
                  input, "conv(8,3,stride=0)", "stride must be a whole number of at least 1"
                  input, "maxpool(5)", "a 5×5 window does not fit a 4×4 image"
                  input, "avgpool(2,pad=2)", "at most half the window"
                  input, "flatten(2)", "flatten takes no arguments"
                  input, "batchnorm(2,1e-5)", "above 0 and at most 1" ] do
                let e = Expect.throwsC (fun () -> Layers.parseShaped shape spec |> ignore) id
                Expect.isTrue (e :? FormatException) (sprintf "%s: a FormatException, not %s" spec (e.GetType().Name))
                Expect.stringContains e.Message message spec
            // a stack whose convolutions or pooling shrink the image to 1×1 names the layer that did
            for stack, message in
                [ "pool(2)-relu-pool(2)-pool(2)", "layer 'pool(2)': the image is down to 1×1 after 'maxpool(2)' (1×2×2 in, 1 channel of one value out): nothing is left for pool(2) to slide over"
                  "conv(3,4)-relu-dropout(0.1)-conv(2,1)", "layer 'conv(2,1)': the image is down to 1×1 after 'conv(3,4)' (1×4×4 in, 3 channels of one value out)"
                  // a dense layer's output is a vector: the message says so
                  "conv(3,2)-dense(4)-conv(2,1)", "conv works on images, but its input is a vector of 4 features" ] do
                let e = Expect.throwsC (fun () -> Layers.parseStackShaped input stack |> ignore) id
                Expect.stringContains e.Message message stack
            let e = Expect.throwsC (fun () -> Network.ofLayers [ Conv2D(input, 2, 3, 1, 0) :> Layer; MaxPool2D(SampleShape.Image(3, 2, 2), 2) ] Loss.Quadratic Init.He 1 |> ignore) id
            Expect.stringContains e.Message "layer 2 (maxpool(2)) takes 3×2×2 inputs but layer 1 (conv(2,3)) gives 2×2×2 outputs" "both shapes"
        }
        test "a convolutional network's model file loads with its image shape and predicts bit-identically" {
            let input = SampleShape.Image(2, 6, 5)
            let net = Network.ofLayers (Layers.parseStackShaped input "conv(3,3,pad=1)-batchnorm-relu-maxpool(2)-conv(4,2,stride=2,pad=1)-avgpool(2)-flatten-dense(3)-softmax") Loss.CrossEntropy Init.He 4
            // batch statistics moved by a few training steps, so the running averages are not their start values
            let rng = Random(2)
            let x = Matrix<float>.Build.Dense(input.Size, 8, fun _ _ -> rng.NextDouble())
            let y = Matrix<float>.Build.Dense(3, 8, fun i j -> if i = j % 3 then 1.0 else 0.0)
            let f = FastNet<float>(net, 8)
            let state = OptimizerState<float>(f.ParameterCount, 0)
            for _ in 1 .. 3 do f.Step(Optimizer.Sgd 0.1, state, 0.1, Samples.OfMatrix x, y.ToColumnMajorArray(), Array.init 8 id, 0, 8) |> ignore
            let trained = f.ToNetwork()
            let path = Path.Combine(Path.GetTempPath(), sprintf "toolkit-conv-%d.json" (Random.Shared.Next()))
            try
                Toolkit.Data.ModelFile.save path trained
                let back = Toolkit.Data.ModelFile.load path
                Expect.equal back.InputShape input "shape"
                Expect.equal (Network.describe back) (Network.describe trained) "layers"
                Expect.equal ((Network.predict back x).ToColumnMajorArray()) ((Network.predict trained x).ToColumnMajorArray()) "predictions"
                // a file whose shape does not hold its inputs is named
                File.WriteAllText(path, File.ReadAllText(path).Replace("\"shape\":[2,6,5]", "\"shape\":[2,6,4]"))
                let e = Expect.throwsC (fun () -> Toolkit.Data.ModelFile.load path |> ignore) id
                Expect.stringContains e.Message "the input shape 2×6×4 has 48 values, not the 60 inputs" "message"
            finally File.Delete path
        }
        test "colour images become samples channel after channel, as the convolutions read them" {
            // two 2×3 images of 3 channels, each pixel's channels together in the file: value = 100·c + 10·row + col (+1 for the second)
            let pixels = [| for n in 0 .. 1 do for r in 0 .. 1 do for q in 0 .. 2 do for c in 0 .. 2 -> byte (100 * c + 10 * r + q + n) |]
            let images : Toolkit.Data.LabelledImages = { Count = 2; Rows = 2; Cols = 3; Channels = 3; Pixels = pixels; Labels = [| 0uy; 1uy |] }
            let data = Toolkit.Training.Datasets.ofImages [| "a"; "b" |] "test" images
            for n in 0 .. 1 do
                for c in 0 .. 2 do
                    for r in 0 .. 1 do
                        for q in 0 .. 2 do
                            Expect.floatClose Accuracy.veryHigh data.X.[(c * 2 + r) * 3 + q, n] (float (100 * c + 10 * r + q + n) / 255.0) (sprintf "sample %d, channel %d, (%d, %d)" n c r q)
        }
        test "batch normalisation: training normalises each channel by its batch, evaluation by the running averages" {
            let input = SampleShape.Image(2, 2, 2)
            let net = Network.ofLayers [ BatchNorm(input, 0.5, 1e-5) :> Layer ] Loss.Quadratic Init.He 1
            let x = Array.init 16 (fun i -> float (i * i % 7))
            let f = FastNet<float>(net, 2)
            f.Gradient(Samples.OfValues(8, x), Array.zeroCreate 16, [| 0; 1 |], 0, 2) |> ignore
            for c in 0 .. 1 do
                let values = [| for n in 0 .. 1 do for k in 0 .. 3 -> f.Outputs.[0].[n * 8 + c * 4 + k] |]
                Expect.floatClose Accuracy.veryHigh (Array.average values) 0.0 "mean 0"
                let raw = [| for n in 0 .. 1 do for k in 0 .. 3 -> x.[n * 8 + c * 4 + k] |]
                let mu = Array.average raw
                let var = raw |> Array.averageBy (fun v -> (v - mu) ** 2.0)
                Expect.floatClose Accuracy.high (values |> Array.averageBy (fun v -> v * v)) (var / (var + 1e-5)) "variance 1 (but for ε)"
                // running averages after one batch at momentum 0.5: ½·0 + ½·μ and ½·1 + ½·σ²·8/7
                Expect.floatClose Accuracy.veryHigh f.Parameters.[4 + c] (0.5 * mu) "running mean"
                Expect.floatClose Accuracy.veryHigh f.Parameters.[6 + c] (0.5 + 0.5 * var * 8.0 / 7.0) "running variance (unbiased)"
            let trained = f.ToNetwork()
            let out = Network.predict trained (Matrix<float>.Build.Dense(8, 2, x))
            Expect.floatClose Accuracy.veryHigh (out.[0, 0]) ((x.[0] - trained.Parameters.[4]) / sqrt (trained.Parameters.[6] + 1e-5)) "evaluation uses the running averages"
        }
    ]
