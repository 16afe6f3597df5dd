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

`Network.backward` (in `src/Toolkit.Core/Nn/Network.fs`) is those four lines:

```fsharp
// (1) the output layer
delta.[L - 1] <- Loss.outputDelta n.Loss n.Layers.[L - 1].Activation cache.Z.[L - 1] cache.A.[L] y
// (2) every layer before it, right to left: δˡ = ((Wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ)
for l in L - 2 .. -1 .. 0 do
    let back = Kernels.gemm true false n.Layers.[l + 1].W delta.[l + 1]
    delta.[l] <- Activation.backward n.Layers.[l].Activation cache.Z.[l] cache.A.[l + 1] back
// (3) ∂C/∂bˡ = δˡ, summed over the samples; (4) ∂C/∂Wˡ = δˡ·(aˡ⁻¹)ᵀ
{ DB = delta |> Array.map (fun d -> Kernels.sumAxis Axis.Cols d)
  DW = delta |> Array.mapi (fun l d -> Kernels.gemm false true d cache.A.[l]) }
```

The same network, written as a matrix graph (`Network.toTExpr`), gives the same gradients by the
graph's own rules; the test suite checks that on generated networks to 1e-10, and both against
central differences. Here on one small network:
*)
open MathNet.Numerics.LinearAlgebra
open Toolkit.Nn
open Toolkit.Tensors

let net = Network.create [ 3; 4; 2 ] Activation.Tanh Activation.Softmax Loss.CrossEntropy Init.Xavier 7
let x = Matrix<float>.Build.DenseOfArray(array2D [ [ 0.5; -1.0 ]; [ 1.0; 0.2 ]; [ -0.3; 0.8 ] ])
let y = Matrix<float>.Build.DenseOfArray(array2D [ [ 1.0; 0.0 ]; [ 0.0; 1.0 ] ])
let byEquations = Network.backward net (Network.forward net x) y
let expr, env = Network.toTExpr net x y
let byGraph = TGraph.backward (TGraph.forward (TGraph.ofExpr expr) env)
let largestDifference =
    [ for l in 0 .. 1 ->
        let d = byEquations.DW.[l] - byGraph.Dvar(sprintf "W%d" (l + 1))
        d.Enumerate() |> Seq.map abs |> Seq.max ]
(*** include-value: largestDifference ***)
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
