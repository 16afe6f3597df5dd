/// Optimisers, the training loop, saved models, and the notes' two networks.
module Toolkit.Tests.TrainingTests

open System
open System.IO
open System.Threading
open Expecto
open MathNet.Numerics.LinearAlgebra
open Toolkit.Tensors
open Toolkit.Nn
open Toolkit.Training
open Toolkit.Data
open Toolkit.Models

/// The two-moons-like toy set: class = whether x0·x1 > 0 (XOR of signs), 200 samples.
let xorData (seed: int) (n: int) =
    let rng = Random(seed)
    let x = Matrix<float>.Build.Dense(2, n, fun _ _ -> rng.NextDouble() * 2.0 - 1.0)
    let labels = Array.init n (fun j -> if x.[0, j] * x.[1, j] > 0.0 then 1 else 0)
    { X = Samples.OfMatrix x; Y = Train.oneHot 2 labels; Labels = labels }

let private config optimizer epochs =
    { Epochs = epochs; BatchSize = 16; Optimizer = optimizer; Schedule = Schedule.Constant; Seed = 7; ValidationFraction = 0.0; Patience = 3; Precision = Precision.Double }

/// A convex bowl with its minimum at (1, −2): every optimiser must get close.
let bowl = { Loss = (fun (p: float[]) -> (p.[0] - 1.0) ** 2.0 + 3.0 * (p.[1] + 2.0) ** 2.0)
             Gradient = (fun p -> [| 2.0 * (p.[0] - 1.0); 6.0 * (p.[1] + 2.0) |]) }

[<Tests>]
let tests =
    testList "training" [
        test "the notes' toy chain: three one-neuron layers, η = 0.05, 160 epochs: predict(1) = −1, predict(−1) = 1" {
            for seed in 0 .. 9 do
                let w = ToyChain.train (ToyChain.init 3 seed) [ 1.0, -1.0; -1.0, 1.0 ] 0.05 160
                Expect.equal (ToyChain.predict w 1.0) -1 (sprintf "predict(1), seed %d" seed)
                Expect.equal (ToyChain.predict w -1.0) 1 (sprintf "predict(−1), seed %d" seed)
                Expect.isLessThan (abs (ToyChain.output w 1.0 + 1.0)) 0.05 "the output itself is close to −1"
        }
        testList "every optimiser goes down the same bowl, recording its trajectory" [
            for name, o, steps in [ "random search", Optimizer.RandomSearch 3.0, 2000
                                    "random local search", Optimizer.RandomLocalSearch 0.3, 2000
                                    "gradient descent", Optimizer.GradientDescent 0.1, 200
                                    "momentum", Optimizer.Momentum(0.05, 0.9), 300
                                    "nesterov", Optimizer.Nesterov(0.05, 0.9), 300
                                    "adam", Optimizer.Adam(0.1, 0.9, 0.999, 1e-8), 1000 ] ->
                test name {
                    let trajectory = Optimizer.run o Schedule.Constant 3 steps bowl [| -3.0; 3.0 |]
                    Expect.equal trajectory.Length (steps + 1) "the start and every step"
                    let _, final = Array.last trajectory
                    let tolerance = match o with Optimizer.RandomSearch _ -> 0.5 | Optimizer.RandomLocalSearch _ -> 0.05 | _ -> 1e-3
                    Expect.isLessThan final tolerance (sprintf "final loss %g" final)
                    match o with
                    | Optimizer.RandomSearch _ | Optimizer.RandomLocalSearch _ ->
                        Expect.isTrue (trajectory |> Array.pairwise |> Array.forall (fun ((_, a), (_, b)) -> b <= a)) "never worse"
                    | _ -> ()
                }
        ]
        test "schedules: step and cosine" {
            Expect.equal (Optimizer.factor (Schedule.Step(10, 0.5)) 25) 0.25 "two halvings"
            Expect.floatClose Accuracy.veryHigh (Optimizer.factor (Schedule.Cosine 100) 50) 0.5 "half way"
            Expect.floatClose Accuracy.veryHigh (Optimizer.factor (Schedule.Cosine 100) 100) 0.0 "the end"
        }
        test "training a 2-16-2 network learns XOR of signs; the same seed trains bit-identically" {
            let train, test = xorData 1 400, xorData 2 200
            let make () = Network.create [ 2; 16; 2 ] Activation.Tanh Activation.Softmax Loss.CrossEntropy Init.Xavier 5
            let run () = Train.fit (config (Optimizer.Adam(0.02, 0.9, 0.999, 1e-8)) 60) (make ()) train test ignore CancellationToken.None
            let a = run ()
            Expect.isGreaterThan (Array.last a.Epochs).TestAccuracy 0.9 "test accuracy"
            let b = run ()
            Expect.equal b.Network.Parameters a.Network.Parameters "bit-identical"
            Expect.equal a.Epochs.Length 60 "one metric per epoch"
        }
        test "progress events arrive per batch and per epoch; cancellation stops between batches and keeps the last completed epoch" {
            let train, test = xorData 1 64, xorData 2 32
            let net = Network.create [ 2; 4; 2 ] Activation.Tanh Activation.Softmax Loss.CrossEntropy Init.Xavier 5
            let events = ResizeArray<TrainingEvent>()
            Train.fit (config (Optimizer.Sgd 0.1) 2) net train test events.Add CancellationToken.None |> ignore
            Expect.equal (events |> Seq.filter (function BatchEnded _ -> true | _ -> false) |> Seq.length) 8 "4 batches × 2 epochs"
            Expect.equal (events |> Seq.filter (function EpochEnded _ -> true | _ -> false) |> Seq.length) 2 "2 epochs"
            let accuracies = events |> Seq.choose (function BatchEnded (_, _, _, _, a) -> Some a | _ -> None) |> List.ofSeq
            Expect.isTrue (accuracies |> List.forall (fun a -> a >= 0.0 && a <= 1.0)) "batch accuracies are fractions"
            Expect.isTrue (accuracies |> List.exists (fun a -> a > 0.0)) "and some are right"
            // and for a loss no output activation fuses with
            let hinge = Network.create [ 2; 4; 2 ] Activation.Tanh Activation.Identity (Loss.Hinge 1.0) Init.Xavier 5
            let seen = ResizeArray<float>()
            Train.fit (config (Optimizer.Sgd 0.1) 1) hinge train test (function BatchEnded (_, _, _, _, a) -> seen.Add a | _ -> ()) CancellationToken.None |> ignore
            Expect.equal seen.Count 4 "one per batch"
            Expect.isTrue (seen |> Seq.forall (fun a -> a >= 0.0 && a <= 1.0)) "fractions"
            // cancelled in the third batch of epoch 2: training stops there and keeps epoch 1's network,
            // the very network an uninterrupted one-epoch run gives
            use cts = new CancellationTokenSource()
            let stopInEpoch2 e = match e with BatchEnded (2, 3, _, _, _) -> cts.Cancel() | _ -> ()
            let r = Train.fit (config (Optimizer.Sgd 0.1) 5) net train test stopInEpoch2 cts.Token
            Expect.isTrue r.Cancelled "says it was cancelled"
            Expect.equal r.Epochs.Length 1 "one completed epoch"
            let one = Train.fit (config (Optimizer.Sgd 0.1) 1) net train test ignore CancellationToken.None
            Expect.isFalse one.Cancelled "not cancelled"
            Expect.equal r.Network.Parameters one.Network.Parameters "the network of the last completed epoch, bit for bit"
            use early = new CancellationTokenSource()
            early.Cancel()
            let none = Train.fit (config (Optimizer.Sgd 0.1) 5) net train test ignore early.Token
            Expect.isTrue (none.Cancelled && none.Epochs.Length = 0) "cancelled before the first batch"
            Expect.equal none.Network.Parameters net.Parameters "the network it started from"
        }
        test "a counted generator draws what Random(seed) draws, and a fresh one skipped to its count goes on alike" {
            let a, b = Toolkit.CountedRandom 42, Random 42
            for k in 0 .. 999 do
                match k % 3 with
                | 0 -> Expect.equal (a.NextDouble()) (b.NextDouble()) "NextDouble"
                | 1 -> Expect.equal (a.Next(k + 1)) (b.Next(k + 1)) "Next(n)"
                | _ -> Expect.equal (a.Next()) (b.Next()) "Next()"
            Expect.equal a.Draws 1000L "one draw per call"
            let c = Toolkit.CountedRandom 42
            c.SkipTo a.Draws
            Expect.equal [ for _ in 1 .. 20 -> c.NextDouble() ] [ for _ in 1 .. 20 -> a.NextDouble() ] "the same numbers after"
        }
        testList "a run stopped after any epoch and resumed from its checkpoint ends with the same weights, bit for bit" [
            // every kind of state a run carries: moments (Adam, momentum), dropout's generator, the
            // random strategies' generator and best loss, the early-stopping record, float32 storage
            for name, optimizer, layers, precision, validation in
                [ "Adam, dropout, float32", Optimizer.Adam(0.01, 0.9, 0.999, 1e-8), "dense(16)-relu-dropout(0.3)-dense(2)-softmax", Precision.Single, 0.0
                  "momentum, float64, validation", Optimizer.Momentum(0.1, 0.9), "dense(8)-tanh-dense(2)-softmax", Precision.Double, 0.25
                  "random local search", Optimizer.RandomLocalSearch 0.1, "dense(4)-tanh-dense(2)-softmax", Precision.Single, 0.0
                  "RMSProp, dropout, float64", Optimizer.RmsProp(0.01, 0.99, 1e-8), "dense(8)-gelu-dropout(0.2)-dense(2)-softmax", Precision.Double, 0.0 ] ->
                test name {
                    let train, test = xorData 1 150, xorData 2 60
                    let net = Network.ofLayers (Layers.parseStack 2 layers) Loss.CrossEntropy Init.Xavier 3
                    let cfg = { config optimizer 5 with Precision = precision; ValidationFraction = validation; Patience = 100 }
                    let straight = Train.fit cfg net train test ignore CancellationToken.None
                    for stop in 1 .. 4 do
                        // the first run is cancelled in the batch after epoch `stop`; its last state goes
                        // through the checkpoint file's text and back
                        use cts = new CancellationTokenSource()
                        let mutable saved = ""
                        let first =
                            Train.fitFrom cfg net train test (function BatchEnded (e, _, _, _, _) when e = stop + 1 -> cts.Cancel() | _ -> ())
                                cts.Token None (fun s -> saved <- Checkpoint.toJson [ "run", "test" ] s)
                        Expect.isTrue first.Cancelled "the first run was stopped"
                        let dir = Path.Combine(Path.GetTempPath(), sprintf "toolkit-ck-%O" (Guid.NewGuid()))
                        Directory.CreateDirectory dir |> ignore
                        try
                            File.WriteAllText(Path.Combine(dir, Checkpoint.FileName), saved)
                            let options, state = Checkpoint.load dir
                            Expect.equal options [ "run", "test" ] "options kept"
                            Expect.equal state.Epoch stop "the state of the last completed epoch"
                            let resumed = Train.fitFrom cfg net train test ignore CancellationToken.None (Some state) ignore
                            Expect.equal resumed.Network.Parameters straight.Network.Parameters (sprintf "stopped after epoch %d: the same weights" stop)
                            Expect.equal (resumed.Epochs |> Array.map (fun e -> e.TestLoss)) (straight.Epochs |> Array.map (fun e -> e.TestLoss)) "the same measurements"
                        finally Directory.Delete(dir, true)
                }
        ]
        test "a checkpoint file that is not one, or is damaged, is named with its problem" {
            let dir = Path.Combine(Path.GetTempPath(), sprintf "toolkit-ck-%O" (Guid.NewGuid()))
            Directory.CreateDirectory dir |> ignore
            try
                let good =
                    let mutable text = ""
                    Train.fitFrom (config (Optimizer.Sgd 0.1) 1) (Network.create [ 2; 3; 2 ] Activation.Tanh Activation.Softmax Loss.CrossEntropy Init.Xavier 1)
                        (xorData 1 20) (xorData 2 10) ignore CancellationToken.None None (fun s -> text <- Checkpoint.toJson [] s) |> ignore
                    text
                let problem (text: string) =
                    File.WriteAllText(Path.Combine(dir, Checkpoint.FileName), text)
                    try Checkpoint.load dir |> ignore; "loaded" with :? InvalidDataException as e -> DataFormat.problem e
                Expect.equal (problem good) "loaded" "the good one loads"
                for damaged, says in [ "{", "not a checkpoint"
                                       "{\"format\":\"toolkit-network\"}", "not a checkpoint"
                                       good.Replace("\"version\":1", "\"version\":2"), "checkpoint version 2"
                                       good.Replace("\"epoch\":1,\"steps\"", "\"epoch\":-1,\"steps\""), "\"epoch\" must be a whole number from 0"
                                       good.Replace("\"order\":[", "\"order\":[0,"), "\"order\" is not an arrangement"
                                       good.Replace("\"parameters\":[", "\"parameters\":[true,"), "\"parameters\" holds true"
                                       good.Replace("\"steps\":", "\"stepz\":"), "the field \"steps\" is missing" ] do
                    Expect.stringContains (problem damaged) says says
                Expect.throwsT<FileNotFoundException> (fun () -> Checkpoint.load (Path.Combine(dir, "none")) |> ignore) "no folder"
            finally Directory.Delete(dir, true)
        }
        test "early stopping on a validation split keeps the best network" {
            let train, test = xorData 1 200, xorData 2 100
            let net = Network.create [ 2; 32; 2 ] Activation.Tanh Activation.Softmax Loss.CrossEntropy Init.Xavier 5
            let r = Train.fit { config (Optimizer.Adam(0.05, 0.9, 0.999, 1e-8)) 300 with ValidationFraction = 0.25; Patience = 5 } net train test ignore CancellationToken.None
            Expect.isTrue r.StoppedEarly "stopped"
            Expect.isLessThan r.Epochs.Length 300 "before the last epoch"
            Expect.isTrue (r.Epochs |> Array.forall (fun e -> e.ValidationLoss.IsSome)) "validation loss every epoch"
        }
        test "a loss that becomes NaN stops training with the epoch, the batch and the first bad layer" {
            let train, test = xorData 1 64, xorData 2 32
            let net = Network.create [ 2; 8; 2 ] Activation.Relu Activation.Identity Loss.Quadratic Init.He 5
            let msg =
                try Train.fit (config (Optimizer.Sgd 1e6) 5) net train test ignore CancellationToken.None |> ignore; ""
                with :? NonFiniteLossException as e -> e.Message
            Expect.stringContains msg "the loss became non-finite at epoch" "says when"
            Expect.stringContains msg "layer" "says where"
        }
        test "a saved model loads back and predicts bit-identically; a corrupt file is refused" {
            let net = Network.create [ 5; 7; 3 ] (Activation.LeakyRelu 0.01) Activation.Softmax Loss.CrossEntropy Init.He 9
            let path = Path.Combine(Path.GetTempPath(), sprintf "toolkit-%O.model.json" (Guid.NewGuid()))
            try
                ModelFile.save path net
                let back = ModelFile.load path
                let x = Matrix<float>.Build.Dense(5, 4, fun i j -> float (i - j) / 3.0)
                Expect.equal ((Network.predict back x).ToColumnMajorArray()) ((Network.predict net x).ToColumnMajorArray()) "bit-identical predictions"
                Expect.equal back.Parameters net.Parameters "bit-identical parameters"
                let text = File.ReadAllText path
                let message (content: string) =
                    File.WriteAllText(path, content)
                    try ModelFile.load path |> ignore; "" with :? System.IO.InvalidDataException as e -> DataFormat.problem e
                Expect.stringContains (message "{\"hello\": 1}") "not a model file" "not a model"
                Expect.stringContains (message (text.Replace("\"version\":2", "\"version\":9"))) "version 9" "version"
                Expect.stringContains (message (text.Substring(0, text.Length / 2))) "not a model file" "truncated"
                Expect.stringContains (message (text.Replace("\"inputs\":5", "\"inputs\":6"))) "layer 1: 42 parameters for dense(7), which has 49" "shapes"
                Expect.stringContains (message (text.Replace("\"spec\":\"dense(3)\"", "\"spec\":\"dense(4)\""))) "layer 3: dense(4) gives 4 outputs, not 3" "a layer that does not fit"
                Expect.stringContains (message (text.Replace("\"kind\":\"leakyrelu\"", "\"kind\":\"relu\""))) "is a leakyrelu layer, not \"relu\"" "kind and spec disagree"
            finally
                File.Delete path
        }
        test "a model file of version 1 (dense layers with their activation) loads as the same layers, bit-identically" {
            let net = Network.create [ 5; 7; 3 ] (Activation.LeakyRelu 0.2) Activation.Softmax Loss.CrossEntropy Init.He 9
            let numbers (a: float[]) = "[" + String.Join(",", a |> Array.map (fun v -> v.ToString("R", Globalization.CultureInfo.InvariantCulture))) + "]"
            let p = net.Parameters
            let v1 =
                sprintf "{\"format\":\"toolkit-network\",\"version\":1,\"loss\":\"cross-entropy\",\"layers\":[%s,%s]}"
                    (sprintf "{\"inputs\":5,\"outputs\":7,\"activation\":\"leaky-relu:0.2\",\"weights\":%s,\"bias\":%s}" (numbers p.[0 .. 34]) (numbers p.[35 .. 41]))
                    (sprintf "{\"inputs\":7,\"outputs\":3,\"activation\":\"softmax\",\"weights\":%s,\"bias\":%s}" (numbers p.[42 .. 62]) (numbers p.[63 .. 65]))
            let path = Path.Combine(Path.GetTempPath(), sprintf "toolkit-%O.v1.json" (Guid.NewGuid()))
            try
                File.WriteAllText(path, v1)
                let back = ModelFile.load path
                Expect.equal (Network.describe back) (Network.describe net) "the same layers"
                Expect.equal back.Parameters net.Parameters "bit-identical parameters"
                Expect.equal back.Loss net.Loss "the loss"
            finally
                File.Delete path
        }
        test "saving is atomic: an existing file is replaced whole, no temporary file is left" {
            let dir = Path.Combine(Path.GetTempPath(), sprintf "toolkit-%O" (Guid.NewGuid()))
            Directory.CreateDirectory dir |> ignore
            try
                let path = Path.Combine(dir, "m.json")
                ModelFile.save path (Network.create [ 2; 2 ] Activation.Sigmoid Activation.Sigmoid Loss.Quadratic Init.Normal 1)
                ModelFile.save path (Network.create [ 3; 2 ] Activation.Sigmoid Activation.Sigmoid Loss.Quadratic Init.Normal 1)
                Expect.equal (Network.sizes (ModelFile.load path)) [ 3; 2 ] "the new model"
                Expect.equal (Directory.GetFiles dir).Length 1 "no temporary file left"
            finally
                Directory.Delete(dir, true)
        }
    ]
