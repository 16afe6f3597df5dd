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
The notes' own code has two slips: its `backward` sets the weight's gradient to
`public_value * w * input` (the factor w belongs only to the value passed further back), and its
`calc_gradient` walks the layers front to back, calling the last layer's `backward` twice. The
graph gets the chain rule right by construction: ∂C/∂w₁ = (out − y)·w₃·w₂·x.

## The optimiser ladder

Random search, random local search, and following the gradient, on one problem: the convex
bowl L(p) = (p₀ − 1)² + 3(p₁ + 2)², from (−3, 3). Each optimiser runs through the same interface
and records its trajectory (the loss after every step is shown every 50 steps):
*)
let bowl = { Loss = (fun (p: float[]) -> (p.[0] - 1.0) ** 2.0 + 3.0 * (p.[1] + 2.0) ** 2.0)
             Gradient = (fun p -> [| 2.0 * (p.[0] - 1.0); 6.0 * (p.[1] + 2.0) |]) }
let ladder =
    [ "random search", Optimizer.RandomSearch 3.0
      "random local search", Optimizer.RandomLocalSearch 0.3
      "gradient descent", Optimizer.GradientDescent 0.05
      "momentum", Optimizer.Momentum(0.05, 0.9)
      "nesterov", Optimizer.Nesterov(0.05, 0.9)
      "adam", Optimizer.Adam(0.1, 0.9, 0.999, 1e-8) ]
    |> List.map (fun (name, o) ->
        let t = Optimizer.run o Schedule.Constant 3 200 bowl [| -3.0; 3.0 |]
        sprintf "%-20s %s" name (String.concat " " [ for k in 0 .. 50 .. 200 -> sprintf "%9.5f" (snd t.[k]) ]))
(*** include-value: ladder ***)
(**
## The digit network on Fashion-MNIST

The notes' 784-30-10 network (sigmoid layers, quadratic cost, SGD η = 3.0, mini-batch 10, weights
and biases from N(0, 1)) is the default of `toolkit train`; one epoch here:
*)
open Toolkit.Training
let fashion =
    let d = Toolkit.Data.FashionMnist.load Toolkit.Data.FashionMnist.defaultDirectory
    let convert (s: Toolkit.Data.LabelledImages) =
        let x = Matrix<float>.Build.Dense(784, s.Count, Array.map (fun (b: byte) -> float b / 255.0) s.Pixels)
        let labels = s.Labels |> Array.map int
        { X = x; Y = Train.oneHot 10 labels; Labels = labels }
    convert d.Train, convert d.Test
let digitNet = Network.create [ 784; 30; 10 ] Activation.Sigmoid Activation.Sigmoid Loss.Quadratic Init.Normal 1
let config = { Epochs = 1; BatchSize = 10; Optimizer = Optimizer.Sgd 3.0; Schedule = Schedule.Constant; Seed = 1; ValidationFraction = 0.0; Patience = 3 }
let trained = Train.fit config digitNet (fst fashion) (snd fashion) ignore System.Threading.CancellationToken.None
let epochOne = let m = trained.Epochs.[0] in sprintf "test accuracy %.4f after one epoch (%.1f s of training)" m.TestAccuracy m.Seconds
(*** include-value: epochOne ***)
(**
From the command line:

    toolkit train --epochs 3 --save model.json --json
    toolkit train --layers 784,256,128,10 --activation relu --output softmax --loss cross-entropy \
                  --optimizer momentum --lr 0.05 --batch 128 --epochs 5
    toolkit eval model.json
    toolkit predict model.json --count 10
*)
