(**
---
title: Loss landscapes
category: Networks
categoryindex: 3
index: 6
---
*)
(*** condition: prepare ***)
#r "nuget: MathNet.Numerics, 5.0.0"
#r "nuget: System.Numerics.Tensors, 10.0.12"
#r "../src/Toolkit.Core/bin/Release/net10.0/Toolkit.Core.dll"
#r "nuget: Plotly.NET, 6.0.0"
#r "../src/Toolkit.Plot/bin/Release/net10.0/Toolkit.Plot.dll"
(**
# Loss landscapes

A loss lives in as many dimensions as the model has parameters — 23,860 for the notes' 784-30-10
network — so the notes look at it the only way a picture can: along one random direction W1,
L(W + a·W1), and over the plane of two, L(W + a·W1 + b·W2). `Landscape.line` and
`Landscape.plane` compute both for any network and labelled data set; every point is a batched
forward pass through one set of buffers, and only the parameters change between points.

## The notes' small example: a hinge loss in one and two weights

Three 1-D samples x = 1, 2, −1 of classes 0, 1, 2, and one weight per class, the score of class j
being s_j = w_j·x. The multiclass SVM loss is L = (L₀ + L₁ + L₂)/3 with
Lᵢ = Σ_{j≠yᵢ} max(0, s_j − s_{yᵢ} + 1). Along the weight w₀, with w₁ = −1 and w₂ = 2 held:
*)
open MathNet.Numerics.LinearAlgebra
open Toolkit.Tensors
open Toolkit.Nn
open Toolkit.Charts
open Toolkit.Training

let xs = [| 1.0; 2.0; -1.0 |]
let targets = Matrix<float>.Build.DenseIdentity 3          // sample i is of class i
let scores (w: float[]) = Matrix<float>.Build.Dense(3, 3, fun j i -> w.[j] * xs.[i])
let svm (w: float[]) = Loss.value (Loss.Hinge 1.0) LossInput.Outputs (scores w) targets
/// dL/dw_j = Σᵢ dL/ds_ji · xᵢ (a sub-gradient at the kinks)
let svmGradient (w: float[]) =
    let ds = Loss.gradient (Loss.Hinge 1.0) LossInput.Outputs (scores w) targets
    Array.init 3 (fun j -> Seq.sum (seq { for i in 0 .. 2 -> ds.[j, i] * xs.[i] }))

let w0s = Landscape.grid 4.0 161
(*** hide ***)
LineChart.svg "The SVM loss along w₀ (w₁ = −1, w₂ = 2)" "w₀" "L" false
    [ { Name = "L"; Points = w0s |> Array.map (fun a -> a, svm [| a; -1.0; 2.0 |]) } ]
(*** include-it-raw ***)
(**
A sum of hinges is piecewise linear and convex: each kink is one margin term switching on or off.
Over the plane of w₀ and w₁ (w₂ = 2 held), with the notes' strategies started from (−3, −2) drawn
on it, 60 steps each (SGD takes the gradient of one random sample per step):
*)
let grid = Array.init 101 (fun i -> -4.0 + 0.1 * float i)      // −4 … 6
let plane = Landscape.surface (fun a b -> svm [| a; b; 2.0 |]) grid grid
let objective = { Loss = (fun (p: float[]) -> svm [| p.[0]; p.[1]; 2.0 |])
                  Gradient = (fun p -> (svmGradient [| p.[0]; p.[1]; 2.0 |]).[0..1]) }
/// one sample's loss per step: the notes' mini-batch idea with a batch of 1
let oneSample =
    let rng = System.Random 5
    { objective with
        Gradient = fun p ->
            let i = rng.Next 3
            let w = [| p.[0]; p.[1]; 2.0 |]
            let ds = Loss.gradient (Loss.Hinge 1.0) LossInput.Outputs ((scores w).SubMatrix(0, 3, i, 1)) (targets.SubMatrix(0, 3, i, 1))
            [| ds.[0, 0] * xs.[i]; ds.[1, 0] * xs.[i] |] }
let trajectories =
    [ "random search", Optimizer.RandomSearch 2.0, objective
      "random local search", Optimizer.RandomLocalSearch 0.3, objective
      "gradient descent", Optimizer.GradientDescent 0.1, objective
      "SGD (1 sample)", Optimizer.Sgd 0.1, oneSample
      "Adam", Optimizer.Adam(0.2, 0.9, 0.999, 1e-8), objective ]
    |> List.map (fun (name, o, f) -> name, Optimizer.run o Schedule.Constant 3 60 f [| -3.0; -2.0 |])
(*** hide ***)
Heatmap.svg "The SVM loss over (w₀, w₁), w₂ = 2" "w₀" "w₁" false grid grid plane
    [ for name, t in trajectories -> { Name = name; Points = t |> Array.map (fun (p, _) -> p.[0], p.[1]) } ]
(*** include-it-raw ***)
(**
No weights classify all three samples with a margin, so the loss never reaches 0; its floor is a
valley running diagonally up to the right, out of the picture. The lowest point of the grid:
*)
let lowest =
    let i, j = Seq.allPairs [ 0 .. grid.Length - 1 ] [ 0 .. grid.Length - 1 ] |> Seq.minBy (fun (i, j) -> plane.[i, j])
    sprintf "L = %.4f at w₀ = %.1f, w₁ = %.1f" plane.[i, j] grid.[i] grid.[j]
(*** include-value: lowest ***)
(** The losses after 60 steps, and the first step at which each came within 0.01 of that value: *)
let floorLoss = Seq.cast<float> plane |> Seq.min
let finalLosses =
    [ for name, t in trajectories ->
        let reached = t |> Array.tryFindIndex (fun (_, l) -> l < floorLoss + 0.01)
        sprintf "%-20s %.4f  %s" name (snd (Array.last t)) (match reached with Some k -> sprintf "step %d" k | None -> "not reached") ]
(*** include-value: finalLosses ***)
(**
Random search's path jumps, because each of its points is a fresh draw (the path joins the best
points so far); random local search wanders, keeping only the nudges that help; gradient descent
and SGD follow the slope, and on a piecewise-linear loss the (sub-)gradient keeps its size up to
the floor, so a fixed step zig-zags across the valley instead of settling; Adam's steps are
normalised per weight.

## A network on Fashion-MNIST

The same pictures for the notes' digit network (784-30-10, sigmoid, quadratic cost) after three
epochs of SGD on the first 10,000 training images, measured on 1,000 test images. A Gaussian
direction puts the same noise on every weight; a **per-unit** direction (Li et al., 2018) scales
each unit's incoming weights to the size of that unit's own weights and leaves the biases still, so
that a = 1 is a step as large as the network itself and pictures of different networks compare.
*)
let data = Datasets.images Toolkit.Data.FashionMnist.defaultDirectory None
let train = Train.subset data.Train [| 0 .. 9999 |]
let test = Train.subset data.Test [| 0 .. 999 |]
let config = { Epochs = 3; BatchSize = 10; Optimizer = Optimizer.Sgd 3.0; Schedule = Schedule.Constant; Seed = 1; ValidationFraction = 0.0; Patience = 3; Precision = Precision.Single }
let trained = (Train.fit config (Network.create [ 784; 30; 10 ] Activation.Sigmoid Activation.Sigmoid Loss.Quadratic Init.Normal 1) train test ignore System.Threading.CancellationToken.None).Network

let alphas = Landscape.grid 1.0 41
let lines =
    [ "per-unit", Landscape.line trained test (Landscape.direction trained DirectionScale.PerUnit 1) alphas
      "Gaussian", Landscape.line trained test (Landscape.direction trained DirectionScale.Gaussian 1) alphas ]
(*** hide ***)
LineChart.svg "784-30-10 after three epochs: L(W + a·W1) on 1,000 test images" "a" "mean quadratic cost" false
    [ for name, l in lines -> { Name = name; Points = Array.zip l.Alphas l.Loss } ]
(*** include-it-raw ***)
(**
This network's weights were drawn from N(0, 1), as in the notes, so the two kinds of direction
are of a similar size and the two lines look alike. A network drawn with Xavier or He weights
(standard deviation about 1/√n_in) is a different matter: a Gaussian step of a = 1 is then about
√n_in times larger than its weights, and only the per-unit direction gives a picture at the
network's own scale. At a = 0 both lines pass through the trained network's own loss and accuracy:
*)
let atZero = [ for name, l in lines -> sprintf "%-9s loss %.4f, accuracy %.3f" name l.Loss.[20] l.Accuracy.[20] ]
(*** include-value: atZero ***)
(** And over a plane of two per-unit directions (31 × 31 points, each a forward pass over the 1,000 images): *)
let ab = Landscape.grid 1.0 31
let surface = Landscape.plane trained test (Landscape.direction trained DirectionScale.PerUnit 1) (Landscape.direction trained DirectionScale.PerUnit 2) ab ab
(*** hide ***)
Heatmap.svg "784-30-10: L(W + a·W1 + b·W2), per-unit directions" "a" "b" false ab ab surface.Loss []
(*** include-it-raw ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/LossLandscapesPage.cs,key=landscape-trained]
*)
(**
The trained network sits in a basin at the centre; a per-unit step of a ≈ ±1 — as large as the
weights themselves — climbs out of it.

## Interactive: Plotly.NET

The pictures on this page are SVG written directly by `Toolkit.Charts`: it needs no browser, no
native graphics library and no fonts to draw, the files are small text that diffs well, and the
tests read them back as XML to check every cell, line and label. `Toolkit.Plot.Charts`
makes the same pictures as Plotly.NET charts — contours, a 3-D surface to turn with the mouse,
trajectories, training curves, confusion matrices, image grids — and `Charts.save` writes each
as one HTML file with plotly.js inside, which opens without a network. From F# interactive a
chart is one call (`|> Plotly.NET.Chart.show` opens it in the browser):
*)
let page = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "landscape-surface.html")
Toolkit.Plot.Charts.landscapeSurface "784-30-10 around its trained weights" surface |> Toolkit.Plot.Charts.save page
let written = sprintf "%s: %.1f MB, self-contained" (System.IO.Path.GetFileName page) (float (System.IO.FileInfo(page).Length) / 1e6)
(*** include-value: written ***)
(**

From the command line, for a model saved by `toolkit train --save`:

    toolkit plot landscape model.json --out line.svg
    toolkit plot landscape model.json --plane --points 51 --out plane.html

and `toolkit train --plot DIR` writes a run's loss and accuracy curves and its confusion matrix.
*)
