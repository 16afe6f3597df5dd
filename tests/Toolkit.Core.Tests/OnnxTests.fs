/// Networks leave .NET: exported to ONNX and run by ONNX Runtime, they give the toolkit's outputs.
module Toolkit.Tests.OnnxTests

open System
open System.IO
open Expecto
open MathNet.Numerics.LinearAlgebra
open Microsoft.ML.OnnxRuntime
open Microsoft.ML.OnnxRuntime.Tensors
open Toolkit.Nn
open Toolkit.Data
open Toolkit.Training
open Toolkit.Onnx

/// The outputs ONNX Runtime computes for samples given one per row (samples × features).
let onnxOutputs (path: string) (x: Matrix<float>) : float[,] =
    use session = new InferenceSession(path)
    let samples, features = x.ColumnCount, x.RowCount
    let data = Array.init (samples * features) (fun k -> float32 x.[k % features, k / features])
    let input = DenseTensor<float32>(Memory<float32>(data), ReadOnlySpan<int>([| samples; features |]))
    use results = session.Run([ NamedOnnxValue.CreateFromTensor("input", input) ])
    let out = (Seq.head results).AsTensor<float32>()
    let outputs = int out.Dimensions.[1]
    Array2D.init samples outputs (fun i j -> float out.[i, j])

/// How far an output a is from the expected b, relative: 0 where both are NaN or both the same
/// infinity (ln 0 after a ReLU gives −∞ in both), ∞ where only one is.
let difference (a: float) (b: float) =
    if (Double.IsNaN a && Double.IsNaN b) || a = b then 0.0
    elif not (Double.IsFinite a && Double.IsFinite b) then infinity
    else abs (a - b) / max 1.0 (abs b)

/// The largest difference between ONNX Runtime's outputs and the toolkit's.
let largestDifference (path: string) (net: Network) (x: Matrix<float>) =
    let expected = Network.predict net x
    let got = onnxOutputs path x
    seq { for i in 0 .. x.ColumnCount - 1 do
            for j in 0 .. net.Outputs - 1 -> difference got.[i, j] expected.[j, i] }
    |> Seq.max

/// A layer of the user's own, which ONNX export cannot know.
type Doubler(size: int) =
    inherit Layer()
    override _.Kind = "doubler"
    override _.Spec = "doubler"
    override _.Inputs = size
    override _.Outputs = size
    override _.ParameterCount = 0
    override _.ScratchSize = 0
    override _.Initialise(_, _, _, _) = ()
    override _.UnitOf _ = -1
    override _.Bind<'T when 'T :> Numerics.IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>(b: LayerBuffers<'T>) =
        { new ILayerPass with
            member _.Forward() = for k in 0 .. size * b.Samples - 1 do b.Output.[k] <- b.Input.[k] + b.Input.[k]
            member _.Backward() = () }
    override _.LossInput _ = Toolkit.Tensors.LossInput.Outputs
    override _.ToTExpr(_, _, _, _) = failwith "not needed here"

let private temp (name: string) = Path.Combine(Path.GetTempPath(), sprintf "toolkit-%O-%s" (Guid.NewGuid()) name)

/// Two networks, their inputs and PyTorch's outputs, written by Debian's python3-torch.
let private torchScript = """
import sys, json, torch
torch.manual_seed(0)
nets = {
  "relu-tanh-softmax": torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.ReLU(), torch.nn.Linear(16, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3), torch.nn.Softmax(dim=1)),
  "leaky-sigmoid-dropout": torch.nn.Sequential(torch.nn.Linear(5, 12), torch.nn.LeakyReLU(0.2), torch.nn.Dropout(0.3), torch.nn.Linear(12, 2), torch.nn.Sigmoid()),
}
x = torch.rand(40, 5) * 2 - 1
out = {"x": x.tolist()}
for name, m in nets.items():
    m.eval()
    torch.onnx.export(m, x[:1], sys.argv[1] + name + ".onnx", input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=13)
    with torch.no_grad():
        out[name] = m(x).tolist()
# a convolutional network on 2 × 6 × 7 images, its batch normalisation's running averages moved by training steps
cnn = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                          torch.nn.Conv2d(4, 3, 2, stride=2, padding=1), torch.nn.Tanh(), torch.nn.AvgPool2d(2), torch.nn.Flatten(),
                          torch.nn.Linear(3, 2), torch.nn.Softmax(dim=1))
opt = torch.optim.SGD(cnn.parameters(), lr=0.1)
for _ in range(3):
    opt.zero_grad(); cnn(torch.rand(8, 2, 6, 7)).sum().backward(); opt.step()
cnn.eval()
xi = torch.rand(40, 2, 6, 7)
# (the batch normalisation kept as its own node: an export for inference folds it into the convolution's weights)
torch.onnx.export(cnn, xi[:1], sys.argv[1] + "cnn.onnx", input_names=["input"], output_names=["output"],
                  dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=13,
                  training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
out["cnn-x"] = xi.reshape(40, -1).tolist()
with torch.no_grad():
    out["cnn"] = cnn(xi).tolist()
json.dump(out, open(sys.argv[1] + "outputs.json", "w"))
"""

[<Tests>]
let tests =
    testList "ONNX" [
        test "every op of the vocabulary as an activation: ONNX Runtime gives the toolkit's outputs" {
            let rng = Random(5)
            let x = Matrix<float>.Build.Dense(4, 64, fun _ _ -> 4.0 * rng.NextDouble() - 2.0)
            for op in Generators.unaryOps do
                let act = Activation.Elementwise op
                let layers = [| Dense(4, 5) :> Layer; ActivationLayer(act, 5); Dense(5, 3); ActivationLayer(Activation.Softmax, 3) |]
                let net = Network.ofLayers layers Toolkit.Tensors.Loss.CrossEntropy Init.Xavier 2
                let path = temp "act.onnx"
                try
                    Onnx.save path [||] net
                    // float32 weights and arithmetic against float64: differences of a few 1e-7
                    Expect.isLessThan (largestDifference path net x) 1e-5 (sprintf "%A" op)
                finally File.Delete path
        }
        testPropertyWithConfig { Generators.config with arbitrary = []; maxTest = 40 } "image networks (convolutions, pooling, batch normalisation, flatten) in ONNX Runtime give the toolkit's outputs" <|
            FsCheck.FSharp.Prop.forAll (FsCheck.FSharp.Arb.fromGen (ConvTests.genImageNet true)) (fun c ->
                // a training pass first, so that batch normalisation's running averages are not their start values
                let f = FastNet<float>(c.Net, c.X.ColumnCount)
                f.Gradient(Samples.OfMatrix c.X, c.Y.ToColumnMajorArray(), Array.init c.X.ColumnCount id, 0, c.X.ColumnCount) |> ignore
                let net = f.ToNetwork()
                let path = temp "image.onnx"
                try
                    Onnx.save path [||] net
                    let rng = Random(3)
                    let x = Matrix<float>.Build.Dense(net.Inputs, 16, fun _ _ -> 2.0 * rng.NextDouble() - 1.0)
                    // a NaN inside (√ or ln of a negative) meets max pooling differently: the toolkit and
                    // PyTorch pass it on, ONNX Runtime's MaxPool skips it; such outputs are not compared
                    let ours = Network.predict net x
                    let finite = [| for j in 0 .. ours.ColumnCount - 1 do if ours.Column(j).ForAll(fun v -> not (Double.IsNaN v)) then yield j |]
                    let x = if finite.Length = 0 then x.SubMatrix(0, x.RowCount, 0, 1) else Matrix<float>.Build.DenseOfColumnVectors [ for j in finite -> x.Column j ]
                    let d = if finite.Length = 0 then 0.0 else largestDifference path net x
                    if not (d < 1e-4) then failtestf "%s: ONNX Runtime differs by %g" c.Label d
                    // and back: the same layers, predicting as the float32 weights do (when each of its
                    // activations reads back on its own: a few are written as several operators)
                    let readsBack (l: Layer) =
                        match l with
                        | :? ActivationLayer as a ->
                            let alone = Network.ofLayers [ Dense(2, 2) :> Layer; ActivationLayer(a.Activation, 2) ] Toolkit.Tensors.Loss.Quadratic Init.He 1
                            try Onnx.ofModel (Onnx.ofNetwork [||] alone) |> ignore; true with :? NotSupportedException -> false
                        | _ -> true
                    if Array.forall readsBack net.Layers then
                        let back, _ = Onnx.load path
                        // (dropout is gone at inference; a flatten before a dense layer is written either way)
                        let kept (n: Network) = n.Layers |> Array.filter (fun l -> not (l :? Dropout || l :? Flatten)) |> Layers.spec
                        if kept back <> kept net then failtestf "read back as %s, not %s" (kept back) (kept net)
                        let a, b = Network.predict back x, Network.predict net x
                        let e = Seq.max (seq { for i in 0 .. a.RowCount - 1 do for j in 0 .. a.ColumnCount - 1 -> difference a.[i, j] b.[i, j] })
                        if not (e < 1e-4) then failtestf "%s: read back, it differs by %g" c.Label e
                finally File.Delete path)
        test "a stack with dropout and leaky ReLU, class names in the metadata; a layer of one's own is named" {
            let layers = Layers.parseStack 6 "dense(8)-leakyrelu:0.2-dropout(0.3)-dense(8)-gelu-dense(2)-sigmoid"
            let net = Network.ofLayers layers Toolkit.Tensors.Loss.Quadratic Init.He 3
            let path = temp "stack.onnx"
            try
                Onnx.save path [| "no"; "yes" |] net
                let rng = Random(1)
                let x = Matrix<float>.Build.Dense(6, 100, fun _ _ -> rng.NextDouble())
                Expect.isLessThan (largestDifference path net x) 1e-5 "dropout is the identity at inference"
                use session = new InferenceSession(path)
                Expect.equal session.ModelMetadata.CustomMetadataMap.["classes"] "no\nyes" "class names"
                Expect.equal (session.InputMetadata.["input"].Dimensions) [| -1; 6 |] "a dynamic batch"
                let own = Network.ofLayers [| Dense(2, 2) :> Layer; Doubler(2) |] Toolkit.Tensors.Loss.Quadratic Init.He 3
                let e = Expect.throwsT<NotSupportedException> (fun () -> Onnx.save path [||] own)
                ignore e
                let message = try Onnx.save path [||] own; "" with :? NotSupportedException as e -> e.Message
                Expect.stringContains message "layer 2 (doubler) has no ONNX form" "names the layer"
            finally File.Delete path
        }
        test "Fashion-MNIST: a trained 784-30-10 network in ONNX Runtime predicts the test set to 1e-5" {
            if not (Directory.Exists FashionMnist.defaultDirectory) then
                failtest "Fashion-MNIST is not installed: run ./build.sh setup (apt-get install dataset-fashion-mnist)"
            let d = Datasets.images FashionMnist.defaultDirectory None
            let train = Train.subset d.Train [| 0 .. 9999 |]
            let config = { Epochs = 1; BatchSize = 10; Optimizer = Optimizer.Sgd 3.0; Schedule = Schedule.Constant; Seed = 1
                           ValidationFraction = 0.0; Patience = 3; Precision = Precision.Single }
            let net = (Train.fit config (Network.create [ 784; 30; 10 ] Activation.Sigmoid Activation.Sigmoid Toolkit.Tensors.Loss.Quadratic Init.Normal 1) train d.Test ignore Threading.CancellationToken.None).Network
            let path = temp "fmnist.onnx"
            try
                Onnx.save path FashionMnist.classNames net
                Expect.isLessThan (largestDifference path net (d.Test.X.ToMatrix())) 1e-5 "10,000 test images"
            finally File.Delete path
        }
        test "toolkit export MODEL --onnx FILE: the saved model's outputs in ONNX Runtime" {
            let model, onnx = temp "m.json", temp "m.onnx"
            try
                let net = Network.create [ 3; 4; 2 ] Activation.Tanh Activation.Softmax Toolkit.Tensors.Loss.CrossEntropy Init.Xavier 7
                ModelFile.saveWithClasses model net [| "left"; "right" |]
                let code, out, err = CliTests.toolkit [ "export"; model; "--onnx"; onnx ]
                Expect.equal code 0 err
                Expect.stringContains out (sprintf "wrote %s" onnx) "says what it wrote"
                let x = Matrix<float>.Build.Dense(3, 20, fun i j -> float (i - j) / 10.0)
                Expect.isLessThan (largestDifference onnx net x) 1e-5 "the same outputs"
                // and back in: the same outputs, to the float32 rounding of the weights
                let back = temp "back.json"
                let code, _, err = CliTests.toolkit [ "import"; onnx; "--out"; back ]
                Expect.equal code 0 err
                let net2, classes2 = ModelFile.read back
                File.Delete back
                Expect.equal classes2 [| "left"; "right" |] "class names kept"
                Expect.isLessThan ((Network.predict net2 x - Network.predict net x).Enumerate() |> Seq.map abs |> Seq.max) 1e-6 "imported back"
                let code, _, err = CliTests.toolkit [ "export"; model + ".missing"; "--onnx"; onnx ]
                Expect.equal code 1 "a missing model"
                Expect.stringContains err "no such file" "named"
            finally
                File.Delete model
                File.Delete onnx
        }
        test "PyTorch in: Sequential networks exported by torch.onnx.export predict what PyTorch predicts, and train further" {
            let script = temp "export.py"
            try
                // two networks, their inputs and PyTorch's outputs, written by Debian's python3-torch
                File.WriteAllText(script, torchScript)
                let prefix = temp "torch-"
                let psi = Diagnostics.ProcessStartInfo("/usr/bin/python3", sprintf "%s %s" script prefix, RedirectStandardError = true, UseShellExecute = false)
                use p = Diagnostics.Process.Start psi
                let err = p.StandardError.ReadToEnd()
                p.WaitForExit()
                Expect.equal p.ExitCode 0 (sprintf "python3-torch exports (run ./build.sh setup for it): %s" err)
                use doc = Text.Json.JsonDocument.Parse(File.ReadAllText(prefix + "outputs.json"))
                let rows (e: Text.Json.JsonElement) = [| for r in e.EnumerateArray() -> [| for v in r.EnumerateArray() -> v.GetDouble() |] |]
                let xs = rows (doc.RootElement.GetProperty "x")
                let x = Matrix<float>.Build.DenseOfColumnArrays xs
                for name, describe in [ "relu-tanh-softmax", "dense(16)-relu-dense(8)-tanh-dense(3)-softmax"
                                        "leaky-sigmoid-dropout", "dense(12)-leakyrelu:0.2-dense(2)-sigmoid" ] do
                    let net, _ = Onnx.load (prefix + name + ".onnx")
                    File.Delete(prefix + name + ".onnx")
                    Expect.equal (Network.describe net) describe (sprintf "%s: the layers" name)
                    let expected = rows (doc.RootElement.GetProperty name)
                    let ours = Network.predict net x
                    let largest = Seq.max (seq { for i in 0 .. xs.Length - 1 do for j in 0 .. net.Outputs - 1 -> abs (ours.[j, i] - expected.[i].[j]) })
                    // PyTorch computes in float32: differences of a few 1e-8
                    Expect.isLessThan largest 1e-5 (sprintf "%s: PyTorch's outputs" name)
                    // and it trains on
                    let labels = Array.init xs.Length (fun i -> if xs.[i].[0] > 0.0 then 1 else 0)
                    let data = { X = Samples.OfMatrix x; Y = Train.oneHot net.Outputs labels; Labels = labels }
                    let config = { Epochs = 2; BatchSize = 8; Optimizer = Optimizer.Sgd 0.1; Schedule = Schedule.Constant; Seed = 1
                                   ValidationFraction = 0.0; Patience = 3; Precision = Precision.Double }
                    let r = Train.fit config net data data ignore Threading.CancellationToken.None
                    Expect.notEqual r.Network.Parameters net.Parameters (sprintf "%s: trained further" name)
                    Expect.isTrue (Double.IsFinite r.Epochs.[1].TrainLoss) "with a finite loss"
                // the convolutional network: its image shape from the input's declared dimensions
                let cnn, _ = Onnx.load (prefix + "cnn.onnx")
                File.Delete(prefix + "cnn.onnx")
                Expect.equal (string cnn.InputShape) "2×6×7" "the image's shape"
                // (the flatten of a 3×1×1 image is no layer: it is already 3 features)
                Expect.equal (Network.describe cnn) "conv(4,3,pad=1)-batchnorm-relu-maxpool(2)-conv(3,2,stride=2,pad=1)-tanh-avgpool(2)-dense(2)-softmax" "the CNN's layers"
                let xi = Matrix<float>.Build.DenseOfColumnArrays(rows (doc.RootElement.GetProperty "cnn-x"))
                let expected = rows (doc.RootElement.GetProperty "cnn")
                let ours = Network.predict cnn xi
                let largest = Seq.max (seq { for i in 0 .. 39 do for j in 0 .. 1 -> abs (ours.[j, i] - expected.[i].[j]) })
                Expect.isLessThan largest 1e-5 "the CNN: PyTorch's outputs"
                File.Delete(prefix + "outputs.json")
            finally File.Delete script
        }
        test "ONNX in: an operator with no toolkit layer is named; a file that is not ONNX is refused" {
            let model = Onnx.ofNetwork [||] (Network.create [ 2; 3 ] Activation.Relu Activation.Relu Toolkit.Tensors.Loss.Quadratic Init.He 1)
            model.Graph.Node.[1].OpType <- "LSTM"
            let message = try Onnx.ofModel model |> ignore; "" with :? NotSupportedException as e -> e.Message
            Expect.stringContains message "the operator LSTM" "named"
            // an image operator on features is named with what it was given
            model.Graph.Node.[1].OpType <- "MaxPool"
            let message = try Onnx.ofModel model |> ignore; "" with :? NotSupportedException as e -> e.Message
            Expect.stringContains message "(MaxPool) works on images, but is given 3 features" "named"
            let path = temp "not.onnx"
            try
                File.WriteAllText(path, "this is not a model")
                Expect.throwsT<InvalidDataException> (fun () -> Onnx.load path |> ignore) "not ONNX"
            finally File.Delete path
        }
        test "a scalar expression and its gradient as ONNX: ONNX Runtime gives the toolkit's value and dvars" {
            // the random graphs of the property tests, at their points (inputs rounded to float32
            // for both sides); ONNX Runtime computes in float32 through up to a dozen operations, so
            // the tolerance is 1e-3 relative (measured: under 1e-5 on these cases)
            let cases = FsCheck.FSharp.Gen.sampleWithSeed (FsCheck.Rnd 3UL) 10 60 Generators.genCase
            let path = temp "expr.onnx"
            try
                for c in cases do
                    Onnx.saveExpr path c.Expr
                    let env = c.Env |> Seq.map (fun kv -> kv.Key, float (float32 kv.Value)) |> readOnlyDict
                    let b = Toolkit.Graph.Eval.backward (Toolkit.Graph.Eval.forward (Toolkit.Graph.Graph.ofExpr c.Expr) env)
                    use session = new InferenceSession(path)
                    let inputs = [ for v in b.Forward.Graph.Variables -> NamedOnnxValue.CreateFromTensor(v, DenseTensor<float32>(Memory<float32>([| float32 env.[v] |]), ReadOnlySpan<int>([||]))) ]
                    use results = session.Run(inputs)
                    let byName (n: string) = (results |> Seq.find (fun r -> r.Name = n)).AsTensor<float32>() |> Seq.map float |> Array.ofSeq
                    let close (a: float) (e: float) = abs (a - e) <= 1e-3 * max 1.0 (abs e)
                    let value = (byName "value").[0]
                    Expect.isTrue (close value b.Value) (sprintf "%s: value %g, toolkit %g" (Toolkit.Graph.Print.program c.Expr) value b.Value)
                    let g = byName "gradient"
                    b.Forward.Graph.Variables |> Array.iteri (fun i v ->
                        Expect.isTrue (close g.[i] (b.Dvar v)) (sprintf "%s: d/d%s %g, toolkit %g" (Toolkit.Graph.Print.program c.Expr) v g.[i] (b.Dvar v)))
            finally File.Delete path
        }
    ]
