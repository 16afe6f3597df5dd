(**
---
title: The digit network on Fashion-MNIST
category: Networks
categoryindex: 3
index: 7
---
*)
(*** condition: prepare ***)
#r "nuget: MathNet.Numerics, 5.0.0"
#r "nuget: System.Numerics.Tensors, 10.0.12"
#r "../src/Toolkit.Core/bin/Release/net10.0/Toolkit.Core.dll"
(**
# The digit network on Fashion-MNIST

The notes end with "handwritten digit recognition in 74 lines": a 784-30-10 network of sigmoid
layers, the quadratic cost, mini-batch SGD with η = 3.0 and batches of 10, weights and biases
from N(0, 1). Fashion-MNIST (Debian's `dataset-fashion-mnist`) has the same layout with clothes
instead of digits, and is harder. This page trains that network for one epoch when the site is
built, and records every mini-batch's loss.
*)
open MathNet.Numerics.LinearAlgebra
open Toolkit.Tensors
open Toolkit.Nn
open Toolkit.Training
open Toolkit.Charts

let train, test =
    let d = Datasets.images Toolkit.Data.FashionMnist.defaultDirectory None
    d.Train, d.Test
let net = Network.create [ 784; 30; 10 ] Activation.Sigmoid Activation.Sigmoid Loss.Quadratic Init.Normal 1
let config = { Epochs = 1; BatchSize = 10; Optimizer = Optimizer.Sgd 3.0; Schedule = Schedule.Constant; Seed = 1; ValidationFraction = 0.0; Patience = 3; Precision = Precision.Single }
let losses = ResizeArray<float>()
let result = Train.fit config net train test (function BatchEnded (_, _, _, l, _) -> losses.Add l | _ -> ()) System.Threading.CancellationToken.None
let summary = let m = result.Epochs.[0] in sprintf "train accuracy %.4f, test accuracy %.4f, %.1f s of training" m.TrainAccuracy m.TestAccuracy m.Seconds
(*** include-value: summary ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/DigitNetworkPage.cs,key=digits-train]
*)
(**
The loss of every mini-batch, and its running mean over 100 batches:
*)
(*** hide ***)
let running = losses |> Seq.windowed 100 |> Seq.mapi (fun k w -> float (k + 99), Array.average w) |> Array.ofSeq
LineChart.svg "Quadratic cost per mini-batch, epoch 1" "mini-batch" "cost" false
    [ { Name = "mini-batch"; Points = losses |> Seq.mapi (fun k l -> float k, l) |> Array.ofSeq |> Array.filter (fun (k, _) -> int k % 10 = 0) }
      { Name = "mean of 100"; Points = running } ]
(*** include-it-raw ***)
(**
What the network gets wrong, by class (rows: the true class, columns: the predicted one):
*)
let predicted = Network.classifySamples result.Network test.X
let confusion = Array2D.zeroCreate<int> 10 10
for k in 0 .. predicted.Length - 1 do
    confusion.[test.Labels.[k], predicted.[k]] <- confusion.[test.Labels.[k], predicted.[k]] + 1
let perClass =
    [ for c in 0 .. 9 ->
        let total = Seq.sum [ for p in 0 .. 9 -> confusion.[c, p] ]
        sprintf "%-12s %5.1f%% right; most often taken for %s" Toolkit.Data.FashionMnist.classNames.[c]
            (100.0 * float confusion.[c, c] / float total)
            Toolkit.Data.FashionMnist.classNames.[[ 0 .. 9 ] |> List.filter ((<>) c) |> List.maxBy (fun p -> confusion.[c, p])] ]
(*** include-value: perClass ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/DigitNetworkPage.cs,key=digits-confusion]
*)
(**
From the command line, with a live progress bar:

    toolkit train --epochs 3 --save model.json
    toolkit eval model.json
    toolkit predict model.json --count 10
*)
