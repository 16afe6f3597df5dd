(**
---
title: From random search to Adam
category: Networks
categoryindex: 3
index: 5
---
*)
(*** condition: prepare ***)
#r "nuget: MathNet.Numerics, 5.0.0"
#r "nuget: System.Numerics.Tensors, 10.0.12"
#r "../src/Toolkit.Core/bin/Release/net10.0/Toolkit.Core.dll"
(**
# From random search to Adam

The notes climb a ladder of strategies: (1) random search — try random parameters, keep the best;
(2) random local search — nudge the current parameters at random, keep the nudge if the loss
falls; (3) follow the gradient; then mini-batches. In Toolkit every strategy is an `Optimizer`
behind one `Optimizer.step`, on one `Objective` (a loss and its gradient over a flat parameter
vector), and `Optimizer.run` records the trajectory.

## On a bowl

L(p) = (p₀ − 1)² + 3(p₁ + 2)², from (−3, 3), 200 steps each:
*)
open Toolkit.Nn
open Toolkit.Charts

let bowl = { Loss = (fun (p: float[]) -> (p.[0] - 1.0) ** 2.0 + 3.0 * (p.[1] + 2.0) ** 2.0)
             Gradient = (fun p -> [| 2.0 * (p.[0] - 1.0); 6.0 * (p.[1] + 2.0) |]) }
let ladder =
    [ "random search", Optimizer.RandomSearch 3.0
      "random local search", Optimizer.RandomLocalSearch 0.3
      "gradient descent", Optimizer.GradientDescent 0.05
      "momentum", Optimizer.Momentum(0.05, 0.9)
      "nesterov", Optimizer.Nesterov(0.05, 0.9)
      "adam", Optimizer.Adam(0.1, 0.9, 0.999, 1e-8)
      "rmsprop", Optimizer.RmsProp(0.05, 0.9, 1e-8)
      "adamw", Optimizer.AdamW(0.1, 0.9, 0.999, 1e-8, 0.01) ]
let runs = ladder |> List.map (fun (name, o) -> name, Optimizer.run o Schedule.Constant 3 200 bowl [| -3.0; 3.0 |])
(*** hide ***)
LineChart.svg "Loss on the bowl" "step" "loss" true
    [ for name, t in runs -> { Name = name; Points = t |> Array.mapi (fun k (_, l) -> float k, l) } ]
(*** include-it-raw ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/OptimisersPage.cs,key=opt-bowl]
*)
(**
Random search never uses where it stands; random local search does, but only by luck; the
gradient says which way is down, and momentum, Nesterov and Adam say how far. RMSProp divides each
step by a running root-mean-square of that coordinate's gradients (Adam without the momentum);
AdamW is Adam with weight decay taken out of the gradient, shrinking the parameters by η·λ each
step. Each rule is written once (`src/Toolkit.Core/Nn/Optimizer.fs`), and these trajectories and
network training run that same code.

## On a real problem

The same eight on logistic regression for T-shirt/top against Trouser (1,000 Fashion-MNIST images,
785 parameters), each from zero parameters: in 785 dimensions a random direction is almost never
downhill.
*)
open MathNet.Numerics.LinearAlgebra
open Toolkit.Models

let x, y =
    let d = Toolkit.Data.FashionMnist.load Toolkit.Data.FashionMnist.defaultDirectory
    let x, y = Toolkit.Data.FashionMnist.binary 0 1 d.Train
    x.SubMatrix(0, 784, 0, 1000), y.[.. 999]
let asParams (p: float[]) = { W = p.[.. 783]; B = p.[784] }
let logistic =
    { Loss = fun p -> (LogisticRegression.gradientVectorized x y (asParams p)).Cost
      Gradient = fun p -> let g = LogisticRegression.gradientVectorized x y (asParams p) in Array.append g.DW [| g.DB |] }
let realRuns =
    [ "random search", Optimizer.RandomSearch 0.05
      "random local search", Optimizer.RandomLocalSearch 0.01
      "gradient descent", Optimizer.GradientDescent 0.02
      "momentum", Optimizer.Momentum(0.02, 0.9)
      "nesterov", Optimizer.Nesterov(0.02, 0.9)
      "adam", Optimizer.Adam(0.01, 0.9, 0.999, 1e-8)
      "rmsprop", Optimizer.RmsProp(0.01, 0.9, 1e-8)
      "adamw", Optimizer.AdamW(0.01, 0.9, 0.999, 1e-8, 0.01) ]
    |> List.map (fun (name, o) -> name, Optimizer.run o Schedule.Constant 3 150 logistic (Array.zeroCreate 785))
(*** hide ***)
LineChart.svg "Logistic-regression cost, T-shirt/top vs Trouser" "step" "cost" true
    [ for name, t in realRuns -> { Name = name; Points = t |> Array.mapi (fun k (_, l) -> float k, l) } ]
(*** include-it-raw ***)
(** Final costs after 150 steps: *)
let finals = [ for name, t in realRuns -> sprintf "%-20s %.4f" name (snd (Array.last t)) ]
(*** include-value: finals ***)
