(**
---
title: Dense layers and the four equations
category: Networks
categoryindex: 3
index: 1
---
*)
(*** condition: prepare ***)
#r "nuget: MathNet.Numerics, 5.0.0"
#r "nuget: System.Numerics.Tensors, 10.0.12"
#r "../src/Toolkit.Core/bin/Release/net10.0/Toolkit.Core.dll"
(**
# Dense layers and the four backpropagation equations

A dense layer computes zˡ = Wˡ·aˡ⁻¹ + bˡ and aˡ = g(zˡ), one column per sample. The notes end
with the four equations that give every gradient of the cost C from one backward sweep:

$$ \delta^L = \nabla_a C \odot \sigma'(z^L) \qquad
   \delta^l = \big((W^{l+1})^T \delta^{l+1}\big) \odot \sigma'(z^l) \qquad
   \frac{\partial C}{\partial b^l} = \delta^l \qquad
   \frac{\partial C}{\partial W^l} = \delta^l\, (a^{l-1})^T $$

A network is a sequence of layers (`src/Toolkit.Core/Nn/Layer.fs`): each has a forward pass and a
backward pass over buffers it is given — ∂C/∂output in; ∂C/∂input and its parameters' gradients
out. `Network.create [784; 30; 10]` builds `dense(30)-sigmoid-dense(10)-sigmoid`: the affine map
and the activation are two layers, so equation (2) is split between them. The dense layer's backward
(`Nn/Layers/Dense.fs`) is equations (2)–(4), with δ = ∂C/∂z arriving from the layer after it:

```fsharp
gemm false true outputs inputs m delta 0 outputs b.Input 0 inputs false b.Gradients b.Offset outputs   // (4) ∂C/∂W = δ·aᵀ
Buffers.sumColumns outputs m delta b.Gradients (b.Offset + outputs * inputs)                             // (3) ∂C/∂b = Σ δ
gemm true false inputs m outputs b.Parameters b.Offset outputs delta 0 outputs false b.DInput 0 inputs   // (2) Wᵀ·δ
```

and the activation layer's (`Nn/Layers/ActivationLayer.fs`) is the ⊙ g′(z) of equations (1) and (2),
g′ from the one table of derivatives (`Graph/Rules.fs`): σ′ = σ(1 − σ). The loss (`Tensors/Loss.fs`)
gives ∇ₐC; binary cross-entropy after σ and cross-entropy after softmax read the logits instead and
give δᴸ = a − y directly. The same walk over the layers runs in float64 for these pages and in
float32 for training (`Nn/FastNet.fs`).

On one small network, the δ of the hidden layer from the backward pass, and the same δ from the
notes' equation (2) written with matrices:
*)
open MathNet.Numerics.LinearAlgebra
open Toolkit.Nn
open Toolkit.Tensors

let net = Network.create [ 3; 4; 2 ] Activation.Tanh Activation.Softmax Loss.CrossEntropy Init.Xavier 7
(*** include-value: Network.describe net ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/NetworksPage.cs,key=nets-create]
*)
let x = Matrix<float>.Build.DenseOfArray(array2D [ [ 0.5; -1.0 ]; [ 1.0; 0.2 ]; [ -0.3; 0.8 ] ])
let y = Matrix<float>.Build.DenseOfArray(array2D [ [ 1.0; 0.0 ]; [ 0.0; 1.0 ] ])
let forward = Network.forward net x                 // input, z¹, a¹, z², a²
let g = Network.backward net x y                    // ∂C/∂(each layer's output), and every parameter's gradient
let delta2 = g.Outputs.[1]                          // δ² = a² − y over m: the fused softmax and cross-entropy
let W2 = (net.Layers.[2] :?> Dense).Weights(net.Parameters, net.Offsets.[2])
let z1, a1 = forward.Outputs.[1], forward.Outputs.[2]
let byEquation2 = (W2.TransposeThisAndMultiply delta2).PointwiseMultiply(a1.Map(fun t -> 1.0 - t * t))   // ((W²)ᵀδ²) ⊙ tanh′(z¹)
let byLayers = g.Outputs.[0]                        // δ¹ = ∂C/∂z¹, as the layers' backward passes left it
(*** include-value: byEquation2.ToMatrixString() ***)
(*** include-value: (byLayers - byEquation2).Enumerate() |> Seq.map abs |> Seq.max ***)
(**
The same network, written as a matrix graph (`Network.toTExpr`), gives the same gradients by the
graph's own rules; the test suite checks that on generated networks of every activation and loss to
1e-10, and both against central differences. Here, the largest difference over every parameter:
*)
let expr, env, names = Network.toTExpr net x y
let byGraph = TGraph.backward (TGraph.forward (TGraph.ofExpr expr) env)
let fromGraph = [| for n in names do yield! (byGraph.Dvar n).ToColumnMajorArray() |]
let largestDifference = Array.map2 (fun a b -> abs (a - b)) fromGraph g.Parameters |> Array.max
(*** include-value: largestDifference ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/NetworksPage.cs,key=nets-equation2]
*)
(**
## The notes' toy chain

Three one-neuron layers, output = w·input, trained one sample at a time on ½(output − label)²
with η = 0.05 for 160 epochs on inputs [1, −1] with labels [−1, 1]. The gradient comes from the
computation graph's backward pass:
*)
open Toolkit.Models
let w = ToyChain.train (ToyChain.init 3 0) [ 1.0, -1.0; -1.0, 1.0 ] 0.05 160
let predictions = ToyChain.predict w 1.0, ToyChain.predict w -1.0
(*** include-value: predictions ***)
(**
Next: [the optimiser ladder](optimisers.html) and [the digit network](digit-network.html).
*)
