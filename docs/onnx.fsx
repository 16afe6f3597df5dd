(**
---
title: Networks to and from ONNX
category: Networks
categoryindex: 3
index: 9
---
*)
(*** condition: prepare ***)
#r "nuget: MathNet.Numerics, 5.0.0"
#r "nuget: System.Numerics.Tensors, 10.0.12"
#r "nuget: Google.Protobuf, 3.36.2"
#r "nuget: Microsoft.ML.OnnxRuntime, 1.31.1"
#r "../src/Toolkit.Core/bin/Release/net10.0/Toolkit.Core.dll"
#r "../src/Toolkit.Onnx.Schema/bin/Release/net10.0/Toolkit.Onnx.Schema.dll"
#r "../src/Toolkit.Onnx/bin/Release/net10.0/Toolkit.Onnx.dll"
(**
# Networks to and from ONNX

A trained network leaves .NET as an ONNX (Open Neural Network Exchange) model, the format ONNX Runtime,
PyTorch, TensorRT, ML.NET and the browsers' runtimes read: `toolkit export model.json --onnx
model.onnx`, `network.SaveOnnx(path)` from C#, `Onnx.save path classes network` from F#.

The model has one input, `input`, and one output, `output`, both samples × features with the
batch dimension named `batch` and left dynamic; each dense layer is a `Gemm` whose weights are
initializers (written transposed: the toolkit keeps samples as columns, ONNX readers as rows),
each activation its ONNX operator (the step function as a comparison cast to float, Φ through
`Erf`), dropout nothing at all (it is the identity at inference), the class names in the model's
metadata. A convolutional network's features are turned into batch × channels × height × width
by a `Reshape`, then each image layer is its operator: `Conv`, `MaxPool`, `AveragePool`,
`BatchNormalization` (with the running averages), `Flatten` (see [the convolution page](convolution.html)). Every op of the vocabulary has its form: the match in `src/Toolkit.Onnx/Onnx.fs` is
exhaustive, so a new op does not compile until it has one. A layer of a user's own making is
refused with its name.

Here a small network, exported and run by ONNX Runtime beside the toolkit's own forward pass:
*)
open System
open MathNet.Numerics.LinearAlgebra
open Microsoft.ML.OnnxRuntime
open Microsoft.ML.OnnxRuntime.Tensors
open Toolkit.Nn

let net = Network.ofLayers (Layers.parseStack 4 "dense(16)-gelu-dropout(0.2)-dense(8)-leakyrelu:0.1-dense(3)-softmax") Toolkit.Tensors.Loss.CrossEntropy Init.He 1
let path = IO.Path.Combine(IO.Path.GetTempPath(), "toolkit-docs.onnx")
Toolkit.Onnx.Onnx.save path [| "a"; "b"; "c" |] net
let rng = Random(2)
let x = Matrix<float>.Build.Dense(4, 1000, fun _ _ -> 2.0 * rng.NextDouble() - 1.0)
let onnxOut =
    use session = new InferenceSession(path)
    let data = Array.init (4 * 1000) (fun k -> float32 x.[k % 4, k / 4])
    let input = DenseTensor<float32>(Memory<float32>(data), ReadOnlySpan<int>([| 1000; 4 |]))
    use results = session.Run([ NamedOnnxValue.CreateFromTensor("input", input) ])
    let t = (Seq.head results).AsTensor<float32>()
    Array2D.init 1000 3 (fun i j -> float t.[i, j])
let ours = Network.predict net x
let largest = Seq.max (seq { for i in 0 .. 999 do for j in 0 .. 2 -> abs (onnxOut.[i, j] - ours.[j, i]) })
let summary = sprintf "%s: 1,000 samples, largest difference between ONNX Runtime and the toolkit %.2g" (Network.describe net) largest
(*** include-value: summary ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/OnnxPage.cs,key=onnx-out]
*)
(**
The difference is float32 rounding: the file holds the weights in float32, as ONNX models
usually do, while `Network.predict` computes in float64. The tests hold every op of the
vocabulary, and a 784-30-10 network trained on Fashion-MNIST over its 10,000 test images, to
1e-5 (measured: a few 1e-7 to 2e-6).
*)
(**
## And back in

`toolkit import model.onnx --out model.json`, `Network.LoadOnnx(path)` from C#, `Onnx.load path`
from F# read a chain of layers — dense (`Gemm`, or `MatMul` then `Add`), activations, and on
images `Conv`, `MaxPool`, `AveragePool` (with a `Pad` before it, as PyTorch writes one),
`BatchNormalization` and `Flatten` — what `torch.onnx.export` writes for a `Sequential` of such
layers, as a toolkit network that predicts what the model does and trains further like any other
(a test exports three PyTorch networks, one convolutional, with Debian's `python3-torch` and gets
PyTorch's outputs to 1e-5). An image network needs its input's channels, height and width
declared, as PyTorch declares them. An operator with no toolkit layer (`LSTM`, say) is named in
the error. The file written above, read back:
*)
let back, backClasses = Toolkit.Onnx.Onnx.load path
let backSummary =
    sprintf "%s, classes %A; largest difference from the network it came from %.2g" (Network.describe back) backClasses
        ((Network.predict back x - ours).Enumerate() |> Seq.map abs |> Seq.max)
(*** include-value: backSummary ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/OnnxPage.cs,key=onnx-in]
*)
(**
## A scalar expression and its gradient

An expression of the scalar graph leaves too: `toolkit grad "3*(a+b*c)" --at a=5,b=3,c=2 --onnx
j.onnx`, `scalar.SaveOnnx(path)` from C#, `Onnx.saveExpr path expr` from F#. The model takes one
float32 scalar per variable, by its name, and gives two outputs: `value`, and `gradient`, the
derivatives in the order of the graph's variables, computed by the symbolic derivatives (which
share their nodes with the forward part). The notes' J = 3(a + bc) at a = 5, b = 3, c = 2:
*)
let j = Toolkit.Graph.Parse.program "u = b*c; v = a + u; J = 3*v"
let jPath = IO.Path.Combine(IO.Path.GetTempPath(), "toolkit-docs-j.onnx")
Toolkit.Onnx.Onnx.saveExpr jPath j
let jOutputs =
    use session = new InferenceSession(jPath)
    let scalar (name: string) (v: float32) = NamedOnnxValue.CreateFromTensor(name, DenseTensor<float32>(Memory<float32>([| v |]), ReadOnlySpan<int>([||])))
    use results = session.Run([ scalar "a" 5.0f; scalar "b" 3.0f; scalar "c" 2.0f ])
    [ for r in results -> r.Name, [ for v in r.AsTensor<float32>() -> v ] ]
(*** include-value: jOutputs ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/OnnxPage.cs,key=onnx-expr]
*)
