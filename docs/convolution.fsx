(**
---
title: Backprop through a convolution
category: Networks
categoryindex: 3
index: 2
---
*)
(*** condition: prepare ***)
#r "nuget: MathNet.Numerics, 5.0.0"
#r "nuget: System.Numerics.Tensors, 10.0.12"
#r "../src/Toolkit.Core/bin/Release/net10.0/Toolkit.Core.dll"
(**
# Backprop through a convolution

A dense layer multiplies the whole input by one weight matrix. A convolutional layer slides a small
kernel over the image instead: every output z[o, y, x] is the kernel W[o] laid on the window of the
input at (y, x), multiplied entry by entry and summed, plus a bias. With stride s and zero padding p:

$$ z[o, y, x] = b[o] + \sum_{c, i, j} W[o, c, i, j]\; a[c,\; s y + i - p,\; s x + j - p] $$

The chain rule gives the three gradients the way the notes' four equations give a dense layer's. With
δ = ∂C/∂z arriving from the layer after:

$$ \frac{\partial C}{\partial W[o, c, i, j]} = \sum_{y, x} \delta[o, y, x]\; a[c,\; s y + i - p,\; s x + j - p]
   \qquad \frac{\partial C}{\partial b[o]} = \sum_{y, x} \delta[o, y, x] $$

$$ \frac{\partial C}{\partial a[c, u, v]} = \sum_{o}\; \sum_{(y, x, i, j):\; s y + i - p = u,\; s x + j - p = v} \delta[o, y, x]\; W[o, c, i, j] $$

The kernel's gradient is the input **correlated with δ**; the input's gradient, for stride 1, is the
**full correlation of δ with the kernel turned by 180°**: every output that saw a[c, u, v] sends
back its δ times the weight it used. These are the plain loops of `ConvReference` in
`src/Toolkit.Core/Nn/Conv.fs`, one line per equation:

```fsharp
// forward: z[o, y, x]
z <- z + weights.[((o * cIn + c) * k + i) * k + j] * at a c h w (s * y + i - p) (s * x + j - p)
// ∂C/∂W[o, c, i, j]
g <- g + d o y x * at a c h w (s * y + i - p) (s * x + j - p)
// ∂C/∂a[c, u, v]: the output (ys/s, xs/s) whose window puts kernel entry (i, j) on (u, v)
let ys, xs = u + p - i, v + p - j
if ys >= 0 && xs >= 0 && ys % s = 0 && xs % s = 0 && ys / s < oh && xs / s < ow then
    g <- g + d o (ys / s) (xs / s) * weights.[((o * cIn + c) * k + i) * k + j]
```

The layer that trains (`Nn/Layers/Conv2D.fs`) computes the same three sums as matrix products,
sample by sample: im2col lays every window of a sample out as a row of a matrix Aₙ, so that
zₙ = Aₙ·Wᵀ (which is the sample's output, channel after channel), ∂C/∂W = Σₙ δₙᵀ·Aₙ and
∂C/∂Aₙ = δₙ·W (added back onto the image by col2im), each one OpenBLAS call. The threads share
the samples; ∂C/∂W is summed over a fixed number of groups of samples, so that the weights come
out the same to the last bit on one thread or on many. The test suite checks it against these
loops to 1e-12, both against central differences over generated shapes, strides and paddings,
and its bits on one, two and three threads.

## A 4×4 image and a 2×2 kernel, by hand

The image holds 1 … 16 row by row; the kernel is [[1, 0], [0, −1]] and the bias 0.5, so every
output is a[y, x] − a[y + 1, x + 1] + 0.5:
*)
open MathNet.Numerics.LinearAlgebra
open Toolkit.Nn
open Toolkit.Tensors

let input = SampleShape.Image(1, 4, 4)
let a = Array.init 16 (fun i -> float (i + 1))
let conv = Network.withParameters (Network.ofLayers [ Conv2D(input, 1, 2, 1, 0) :> Layer ] Loss.Quadratic Init.Xavier 1) [| 1.0; 0.0; 0.0; -1.0; 0.5 |]
let z = Network.predict conv (Matrix<float>.Build.Dense(16, 1, a))
let asImage (rows: int) (cols: int) (values: float seq) = Matrix<float>.Build.DenseOfRowMajor(rows, cols, Array.ofSeq values)
(*** include-value: (asImage 4 4 a).ToMatrixString() ***)
(*** include-value: (asImage 3 3 (z.Column 0)).ToMatrixString() ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/ConvolutionPage.cs,key=conv-forward]

Take targets one below each output, so that with the quadratic cost C = ½ Σ (z − t)² every δ is 1.
Then ∂C/∂W[i, j] is the sum of the 3×3 block of the image that kernel entry (i, j) touched, ∂C/∂b
is the number of outputs, and ∂C/∂a counts, for each pixel, the +1s and −1s of the kernel entries
that touched it — the full correlation of the all-ones δ with the turned kernel:
*)
let targets = Matrix<float>.Build.Dense(9, 1, fun i _ -> z.[i, 0] - 1.0)
let g = Network.backward conv (Matrix<float>.Build.Dense(16, 1, a)) targets
let dW, db = asImage 2 2 g.Parameters.[0..3], g.Parameters.[4]
let _, _, dA = ConvReference.backward input 1 { Size = 2; Stride = 1; Padding = 0 } [| 1.0; 0.0; 0.0; -1.0 |] a (Array.create 9 1.0)
(*** include-value: dW.ToMatrixString() ***)
(*** include-value: db ***)
(*** include-value: (asImage 4 4 dA).ToMatrixString() ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/ConvolutionPage.cs,key=conv-backward]

The fast layer's ∂C/∂W against the plain loops' on the same numbers (the largest difference):
*)
let dWLoops, dbLoops, _ = ConvReference.backward input 1 { Size = 2; Stride = 1; Padding = 0 } [| 1.0; 0.0; 0.0; -1.0 |] a (Array.create 9 1.0)
let largest = Array.map2 (fun x y -> abs (x - y)) (Array.append dWLoops dbLoops) g.Parameters |> Array.max
(*** include-value: largest ***)
(**
## Pooling

A max pooling layer keeps each window's largest value; its δ goes back to that one input, the others
get 0 (of equal values, the first in reading order takes it, as in PyTorch). Average pooling keeps
the mean and spreads δ/k² over the window. In float32, 2×2 windows with stride 2 are taken four at
a time with vector instructions, making the same comparisons in the same order, so a test finds
the same bits as the loops, ties and NaN included. On the same image, 2×2 windows:
*)
let pool = Network.ofLayers [ MaxPool2D(input, 2) :> Layer ] Loss.Quadratic Init.Xavier 1
let pooled = Network.predict pool (Matrix<float>.Build.Dense(16, 1, a))
(*** include-value: (asImage 2 2 (pooled.Column 0)).ToMatrixString() ***)
(**
With every δ = 1, ∂C/∂a is 1 where each window's maximum was:
*)
let twoLayers = Network.ofLayers [ Conv2D(input, 1, 1, 1, 0) :> Layer; MaxPool2D(input, 2) ] Loss.Quadratic Init.Xavier 1
// a 1×1 convolution with weight 1 in front, so that ∂C/∂(the pooling's input) is computed
let identityFirst = Network.withParameters twoLayers [| 1.0; 0.0 |]
let back = Network.backward identityFirst (Matrix<float>.Build.Dense(16, 1, a)) (pooled - 1.0)
(*** include-value: (asImage 4 4 (back.Outputs.[0].Column 0)).ToMatrixString() ***)
(**
## A convolutional network on Fashion-MNIST

Eight 3×3 filters with padding 1, ReLU, 2×2 max pooling, then a dense layer to the ten classes:
`conv(8,3,pad=1)-relu-pool(2)-dense(10)-softmax`, trained here for one epoch on 10,000 training
images with Adam (the same stack from the command line is
`toolkit train --layers "conv(8,3,pad=1)-relu-pool(2)-dense(10)-softmax" --loss cross-entropy --optimizer adam --lr 0.002 --batch 32`):
*)
open Toolkit.Training
open Toolkit.Charts

let data = Datasets.images Toolkit.Data.FashionMnist.defaultDirectory None
let first n (d: LabelledData) = { X = d.X.Columns [| 0 .. n - 1 |]; Y = d.Y.SubMatrix(0, d.Y.RowCount, 0, n); Labels = Array.sub d.Labels 0 n }
let image = SampleShape.Image(1, 28, 28)
let cnn = Network.ofLayers (Layers.parseStackShaped image "conv(8,3,pad=1)-relu-pool(2)-dense(10)-softmax") Loss.CrossEntropy Init.He 1
let config = { Epochs = 1; BatchSize = 32; Optimizer = Optimizer.Adam(0.002, 0.9, 0.999, 1e-8); Schedule = Schedule.Constant; Seed = 1; ValidationFraction = 0.0; Patience = 3; Precision = Precision.Single }
let result = Train.fit config cnn (first 10000 data.Train) data.Test ignore System.Threading.CancellationToken.None
let summary = let m = result.Epochs.[0] in sprintf "test accuracy %.4f after one epoch on 10,000 images, %.1f s" m.TestAccuracy m.Seconds
(*** include-value: summary ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/ConvolutionPage.cs,key=conv-train]

The eight learned filters (each 3×3, scaled from its smallest weight, black, to its largest, white),
and what each makes of a test image: its feature map after the ReLU, 28×28.
*)
let trained = result.Network
let toBytes (values: float[]) =
    let lo, hi = Array.min values, Array.max values
    values |> Array.map (fun v -> byte (255.0 * (v - lo) / max 1e-12 (hi - lo)))
let filters = [ for o in 0 .. 7 -> toBytes trained.Parameters.[o * 9 .. o * 9 + 8], sprintf "filter %d" (o + 1) ]
(*** hide ***)
ImageGrid.svg "conv(8,3): the learned 3×3 filters" 3 3 1 8 12 filters
(*** include-it-raw ***)
let sample = data.Test.X.Columns([| 0 |]).ToMatrix()
let maps = (Network.forward trained sample).Outputs.[2].Column(0).ToArray()       // after conv and ReLU: 8 × 28 × 28
let pictures =
    [ yield toBytes (sample.Column(0).ToArray()), sprintf "the input (%s)" Toolkit.Data.FashionMnist.classNames.[data.Test.Labels.[0]]
      for o in 0 .. 7 -> toBytes maps.[o * 784 .. o * 784 + 783], sprintf "map %d" (o + 1) ]
(*** hide ***)
ImageGrid.svg "A test image and its eight feature maps" 28 28 1 9 2 pictures
(*** include-it-raw ***)
(**
The network the accuracy benchmark trains (`docs/performance.md`) is the larger
`conv(32,3,pad=1)-relu-pool(2)-conv(64,3,pad=1)-relu-pool(2)-dense(128)-relu-dropout(0.3)-dense(10)-softmax`,
beside the same network in PyTorch. Every image layer — `conv`, `maxpool` (or `pool`), `avgpool`,
`batchnorm`, `flatten` — is in layer specs, model files, loss landscapes, the ONNX export and the
C# facade (`Conv2D`, `MaxPool2D`, `AvgPool2D`, `BatchNorm`, `Flatten`).

Next: [the optimiser ladder](optimisers.html).
*)
