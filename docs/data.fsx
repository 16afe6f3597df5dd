(**
---
title: Your own data, runs that stop
category: Networks
categoryindex: 3
index: 8
---
*)
(*** condition: prepare ***)
#r "nuget: MathNet.Numerics, 5.0.0"
#r "nuget: System.Numerics.Tensors, 10.0.12"
#r "../src/Toolkit.Core/bin/Release/net10.0/Toolkit.Core.dll"
(**
# Your own data: tables, images of any size, real-valued targets

The notes train on Fashion-MNIST: 28×28 grey images, ten classes. The toolkit takes any data of
the same two kinds, and the commands, the pictures and the model files follow its shape:

- **CSV tables** (`Data/Csv.fs`): a header line or not (decided from the data: a first line with a
  word above a number is a header), double quotes around cells that hold commas, one column
  named as the **label** (classes: whole numbers 0, 1, … or names) or the **target** (a real
  value: regression with the quadratic loss). Every other column is a feature. A cell that is
  not a finite number (`abc`, `NaN`, `Infinity`, `1e400`) is an error naming its file, line and
  column.
- **IDX images** in MNIST's layout (`train-images-idx3-ubyte`, …, gzip or raw) of any size, with
  channels as a fourth dimension, any number of classes; their names from `classes.txt` beside
  them, Fashion-MNIST's for its own folder, numbers otherwise.

On the command line:

```sh
toolkit train --data flowers.csv --label species --epochs 20 --save m.json --plot run/
toolkit eval m.json --data flowers.csv --label species
toolkit train --data house.csv --target price --activation tanh --epochs 10
toolkit train --data my-images/ --plot run/        # 14×14 RGB, 3 classes: the pictures at that size
```

Here is a table made on the spot: three kinds of tree, two features on scales a hundred thousand
apart (height in metres, girth in kilometres), the kind by name.
*)
open System
open System.IO
open Toolkit.Data
open Toolkit.Nn
open Toolkit.Training

let folder = Path.Combine(Path.GetTempPath(), "toolkit-docs-data")
Directory.CreateDirectory folder |> ignore
let trees = Path.Combine(folder, "trees.csv")
let rng = Random(2)
let gauss () = sqrt (-2.0 * log (1.0 - rng.NextDouble())) * cos (2.0 * Math.PI * rng.NextDouble())
let kinds = [| "oak"; "birch"; "pine" |]
File.WriteAllLines(trees, [| yield "\"height, m\",girth,kind"
                             for _ in 1 .. 600 do
                                 let c = rng.Next 3
                                 yield sprintf "%.2f,%.6f,%s" (10.0 * (3.0 + float c + 0.4 * gauss ())) (0.001 * (3.0 - float c + 0.4 * gauss ())) kinds.[c] |])
let firstLines = File.ReadLines trees |> Seq.take 4 |> String.concat "\n"
(*** include-value: firstLines ***)
(**
`Datasets.csv` reads it, numbers the classes by name (in ordinal order, so a training and a test
file number them alike) and holds out a fifth of the rows by a seeded shuffle:
*)
let d = Datasets.csv trees None 0.2 1 (Target.Label "kind") None None
let summary = sprintf "%A; %d training and %d test samples of %d features" d.Task d.Train.X.ColumnCount d.Test.X.ColumnCount d.Train.X.RowCount
(*** include-value: summary ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/DataPage.cs,key=data-csv]
*)
(**
A feature in metres and one in kilometres put the first layer's weighted sums on scales a hundred
thousand apart. Standardising each feature by the training set's mean and deviation puts both near
1; `Network.withInputScaling` then folds the scaling into the first dense layer
(W′ = W·diag(1/s), b′ = b − W′·μ), so the model that is saved takes the raw features. The command
line does this for every table (`--standardize no` turns it off). Without it, and with it:
*)
let mean, sd = Datasets.moments d.Train
let config = { Epochs = 20; BatchSize = 10; Optimizer = Optimizer.Sgd 0.5; Schedule = Schedule.Constant; Seed = 1
               ValidationFraction = 0.0; Patience = 3; Precision = Precision.Single }
let fitOn (train: LabelledData) (test: LabelledData) =
    let net = Network.create [ 2; 30; 3 ] Activation.Sigmoid Activation.Sigmoid Toolkit.Tensors.Loss.Quadratic Init.Normal 1
    (Train.fit config net train test ignore Threading.CancellationToken.None).Network
let raw = fitOn d.Train d.Test
let scaled = fitOn (Datasets.standardise mean sd d.Train) (Datasets.standardise mean sd d.Test)
let model = Network.withInputScaling mean sd scaled
let accuracies =
    sprintf "raw features: %.3f; standardised: %.3f; the folded model on raw features: %.3f"
        (snd (Train.evaluate raw d.Test))
        (snd (Train.evaluate scaled (Datasets.standardise mean sd d.Test)))
        (snd (Train.evaluate model d.Test))
(*** include-value: accuracies ***)
(**
## A real-valued target

With `Target.Value` the column is a number to predict: one output, the identity after the last
dense layer, the quadratic loss; accuracy is not defined (NaN) and the loss is what is reported.
Here a price that is 0.5 per room less 0.02 per year of age, plus noise of deviation 0.05:
*)
let house = Path.Combine(folder, "house.csv")
File.WriteAllLines(house, [| yield "rooms,age,price"
                             for _ in 1 .. 500 do
                                 let r, a = 1.0 + 5.0 * rng.NextDouble(), 50.0 * rng.NextDouble()
                                 yield sprintf "%.3f,%.2f,%.4f" r a (0.5 * r - 0.02 * a + 0.05 * gauss ()) |])
let h = Datasets.csv house None 0.2 1 (Target.Value "price") None None
let hm, hs = Datasets.moments h.Train
let regression =
    let net = Network.create [ 2; 16; 1 ] Activation.Tanh Activation.Identity Toolkit.Tensors.Loss.Quadratic Init.Xavier 1
    let r = Train.fit { config with Optimizer = Optimizer.Sgd 0.05 } net (Datasets.standardise hm hs h.Train) (Datasets.standardise hm hs h.Test) ignore Threading.CancellationToken.None
    Network.withInputScaling hm hs r.Network
let rms =
    let e = Network.predictSamples regression h.Test.X - h.Test.Y
    sqrt (e.Enumerate() |> Seq.averageBy (fun v -> v * v))
let spread = h.Test.Y.Row(0) |> Seq.toArray |> fun v -> sqrt (Array.averageBy (fun y -> (y - Array.average v) ** 2.0) v)
let regressionSummary = sprintf "RMS error on the test rows %.4f (the noise is 0.05; predicting the mean would give %.3f)" rms spread
(*** include-value: regressionSummary ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/DataPage.cs,key=data-regression]
*)
(**
## Runs that stop and go on

A run can stop in the middle: Ctrl-C, a cancelled `CancellationToken`, a crash, a machine that is
needed for something else. Cancelling stops at the next batch and keeps the network of the last
completed epoch (`TrainResult.Cancelled` says so; the command line saves the model and the run
record it was asked to, says what it kept in one line, and exits with 130; SIGTERM, which `kill`,
`timeout`, `docker stop` and systemd send, does the same and exits with 143). To go on later,
`Train.fitFrom` hands out a `TrainState` after every epoch — the parameters and the optimiser's
moments exactly (float32 widens to float64 without loss), the shuffled order, and each random
generator as its seed and the count of its draws (`CountedRandom`: a fresh generator drawn that
many times is in the same state) — and resumes from one. `Checkpoint.save` writes it atomically
as `checkpoint.json`; `toolkit train --checkpoint DIR` does so every epoch and `--resume DIR`
goes on (with the same options, which the checkpoint records and compares). Stopped after epoch 2
of 5 and resumed, with Adam's moments and dropout's masks in play:
*)
let runConfig = { config with Epochs = 5; Optimizer = Optimizer.Adam(0.01, 0.9, 0.999, 1e-8) }
let dropoutNet = Network.ofLayers (Layers.parseStack 2 "dense(16)-relu-dropout(0.2)-dense(3)-softmax") Toolkit.Tensors.Loss.CrossEntropy Init.He 1
let zTrain, zTest = Datasets.standardise mean sd d.Train, Datasets.standardise mean sd d.Test
let uninterrupted = Train.fit runConfig dropoutNet zTrain zTest ignore Threading.CancellationToken.None
let mutable afterEpoch2 = None
let stopped =
    use cts = new Threading.CancellationTokenSource()
    Train.fitFrom runConfig dropoutNet zTrain zTest (function BatchEnded (3, _, _, _, _) -> cts.Cancel() | _ -> ()) cts.Token None
        (fun s -> if s.Epoch = 2 then afterEpoch2 <- Some s)
let checkpointFolder = Path.Combine(folder, "checkpoint")
Checkpoint.save checkpointFolder [] afterEpoch2.Value
let resumed = Train.fitFrom runConfig dropoutNet zTrain zTest ignore Threading.CancellationToken.None (Some(snd (Checkpoint.load checkpointFolder))) ignore
let resumeSummary =
    sprintf "stopped: cancelled %b after %d epochs; resumed to %d epochs; largest difference from the uninterrupted run's weights: %g"
        stopped.Cancelled stopped.Epochs.Length resumed.Epochs.Length
        (Array.map2 (fun a b -> abs (a - b)) uninterrupted.Network.Parameters resumed.Network.Parameters |> Array.max)
(*** include-value: resumeSummary ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/DataPage.cs,key=data-checkpoint]
*)
(**
From C#, `FeatureScaling.Of(train)` gives the same means and deviations, `Apply` standardises a
data set with them and `FoldInto` makes the trained network take raw features (the C# tab above).
`new Trainer(...) { CheckpointDirectory = "ck" }` checkpoints every epoch and goes on
from a checkpoint it finds there; one of another run (other layers, optimiser, seed, data) is
refused with the differences named.

## Images stay bytes

An image file holds each pixel as a byte; the network reads p / 255. `Samples` keeps the bytes
themselves and converts each batch to the training precision as it gathers it (float32 in SIMD
lanes, p / 255 divided in that precision, which rounds to the same value as p / 255 in float64
rounded once). Fashion-MNIST's training images are then held in an eighth of the memory a float64
copy would take, and `toolkit train` peaks at about 200 MB where it peaked at 600 (the
training benchmark in [Performance](performance.html) reports every run's peak). Tables are read
as float64 values into the same type.
*)
let fashion = Datasets.images FashionMnist.defaultDirectory None
let heldBytes = int64 fashion.Train.X.Count * int64 fashion.Train.X.Features
let firstBatch = Array.zeroCreate<float32> (64 * fashion.Train.X.Features)
fashion.Train.X.CopyTo(0, 64, Span<float32>(firstBatch))
let sameAsFloat64 =
    firstBatch |> Array.mapi (fun i v -> v = float32 (fashion.Train.X.[i % 784, i / 784])) |> Array.forall id
let bytesSummary =
    sprintf "%d training images of %d pixels, kept as bytes: %b; %.1f MB held, against %.1f MB as float64; a batch of 64 in float32 equal to the float64 values rounded: %b"
        fashion.Train.X.Count fashion.Train.X.Features fashion.Train.X.IsPixels (float heldBytes / 1e6) (float heldBytes * 8.0 / 1e6) sameAsFloat64
(*** include-value: bytesSummary ***)
(**
## From C#

The C# `Dataset` holds one sample per row, as .NET and PyTorch code holds data; inside, the
core keeps its columns-as-samples layout:

    [lang=csharp,file=../tests/Toolkit.Tests/Docs/DataPage.cs,key=data-rows]

## Reading bad files

Every reader fails with an `InvalidDataException` whose message starts with the file's path and
names the place: `trees.csv: line 7, column 2 ('girth'): '1e400' is not a finite number`,
`train-labels-idx1-ubyte: image 2 has the label 12, outside the 10 classes (0 to 9)`. An IDX
header is checked against the data before the data's array is made: a raw file by its length, a
gzip stream by growing the array as the data arrives, so a ten-kilobyte file that claims
gigabytes fails having allocated a few megabytes. A table whose float64 values would not fit in
half of the memory the process may use is refused with its size, rather than running out of memory.
*)
