#!/usr/bin/env -S dotnet fsi
// The notes' 784-30-10 network on Fashion-MNIST, one epoch, from F# interactive.
// Run: dotnet fsi scripts/03-network.fsx   (after ./build.sh build)
#load "load.fsx"
open MathNet.Numerics.LinearAlgebra
open Toolkit.Tensors
open Toolkit.Nn
open Toolkit.Training

let train, test =
    let d = Toolkit.Data.FashionMnist.load Toolkit.Data.FashionMnist.defaultDirectory
    let convert (s: Toolkit.Data.LabelledImages) =
        let labels = s.Labels |> Array.map int
        { X = Samples.OfPixels(784, s.Pixels)
          Y = Train.oneHot 10 labels
          Labels = labels }
    convert d.Train, convert d.Test

let net = Network.create [ 784; 30; 10 ] Activation.Sigmoid Activation.Sigmoid Loss.Quadratic Init.Normal 1
let config = { Epochs = 1; BatchSize = 10; Optimizer = Optimizer.Sgd 3.0; Schedule = Schedule.Constant; Seed = 1; ValidationFraction = 0.0; Patience = 3; Precision = Precision.Single }
let result =
    Train.fit config net train test
        (function EpochEnded m -> printfn "epoch %d: test accuracy %.4f (%.2f s)" m.Epoch m.TestAccuracy m.Seconds | _ -> ())
        System.Threading.CancellationToken.None
