/// Data-parallel training, with the processes as threads and the allreduce as a shared sum:
/// K of them with batch b train as one with batch K·b.
module Toolkit.Tests.DistributedTests

open System
open System.Threading
open Expecto
open Toolkit.Nn
open Toolkit.Tensors
open Toolkit.Training

/// An allreduce among threads: each adds its array into a shared one, all wait, each copies the
/// sum back, all wait again.
type ThreadSum(size: int) =
    let barrier = new Barrier(size)
    let sum (shared: 'T[] ref) (add: 'T -> 'T -> 'T) (a: 'T[]) =
        lock barrier (fun () ->
            if shared.Value.Length <> a.Length then shared.Value <- Array.zeroCreate a.Length
            for i in 0 .. a.Length - 1 do shared.Value.[i] <- add shared.Value.[i] a.[i])
        barrier.SignalAndWait()
        Array.blit shared.Value 0 a 0 a.Length
        barrier.SignalAndWait()
        // one clears the sum for the next call, the others wait for it
        if Monitor.TryEnter barrier then
            try Array.fill shared.Value 0 shared.Value.Length Unchecked.defaultof<'T> finally Monitor.Exit barrier
        barrier.SignalAndWait()
    let doubles : float[] ref = ref [||]
    let singles : float32[] ref = ref [||]
    /// The view of one thread, as its process would have.
    member _.Rank(rank: int) =
        { new Train.IGradientSum with
            member _.Rank = rank
            member _.Size = size
            member _.SumDouble a = sum doubles (+) a
            member _.SumSingle a = sum singles (+) a }

let private config optimizer batch precision =
    { Epochs = 3; BatchSize = batch; Optimizer = optimizer; Schedule = Schedule.Constant; Seed = 4
      ValidationFraction = 0.0; Patience = 3; Precision = precision }

/// K threads each training as one process of a data-parallel run; rank 0's result.
let private distributed k (make: unit -> Network) cfg train test =
    let sum = ThreadSum k
    let results =
        [| for r in 0 .. k - 1 -> Tasks.Task.Run(fun () -> Train.fitDistributed (sum.Rank r) cfg (make ()) train test ignore CancellationToken.None None ignore) |]
    Tasks.Task.WaitAll(results |> Array.map (fun t -> t :> Tasks.Task))
    results |> Array.map (fun t -> t.Result)

let private largest (a: float[]) (b: float[]) = Array.map2 (fun x y -> abs (x - y)) a b |> Array.max

[<Tests>]
let tests =
    testList "data-parallel training" [
        for k, batch, precision, tolerance in [ 2, 5, Precision.Double, 1e-12; 3, 4, Precision.Double, 1e-12; 2, 8, Precision.Single, 1e-5 ] do
            test (sprintf "%d processes with batch %d train as one with batch %d (%A; largest difference below %g), every process alike" k batch (k * batch) precision tolerance) {
                let train, test = TrainingTests.xorData 1 203, TrainingTests.xorData 2 50     // 203: the last global batch is short
                let make () = Network.create [ 2; 16; 2 ] Activation.Tanh Activation.Softmax Loss.CrossEntropy Init.Xavier 5
                for optimizer in [ Optimizer.Sgd 0.3; Optimizer.Adam(0.01, 0.9, 0.999, 1e-8) ] do
                    let one = Train.fit (config optimizer (k * batch) precision) (make ()) train test ignore CancellationToken.None
                    let parts = distributed k make (config optimizer batch precision) train test
                    for p in parts do
                        Expect.equal p.Network.Parameters parts.[0].Network.Parameters "every process holds the same weights"
                    let d = largest one.Network.Parameters parts.[0].Network.Parameters
                    Expect.isLessThan d tolerance (sprintf "%A: the weights of the one process" optimizer)
                    Expect.isGreaterThan (largest one.Network.Parameters (make ()).Parameters) 0.01 "and they moved"
                    Expect.floatClose { absolute = 1e-6; relative = 1e-6 } parts.[0].Epochs.[2].TrainLoss one.Epochs.[2].TrainLoss "the epoch's mean loss"
            }
        test "a stop asked of one process stops every process after the same batch, keeping the last completed epoch" {
            let train, test = TrainingTests.xorData 1 200, TrainingTests.xorData 2 50
            let make () = Network.create [ 2; 8; 2 ] Activation.Tanh Activation.Softmax Loss.CrossEntropy Init.Xavier 5
            let sum = ThreadSum 2
            use cts = new CancellationTokenSource()
            let stopper e = match e with BatchEnded (2, 4, _, _, _) -> cts.Cancel() | _ -> ()
            let cfg = config (Optimizer.Sgd 0.1) 5 Precision.Double
            let rank0 = Tasks.Task.Run(fun () -> Train.fitDistributed (sum.Rank 0) cfg (make ()) train test stopper cts.Token None ignore)
            let rank1 = Tasks.Task.Run(fun () -> Train.fitDistributed (sum.Rank 1) cfg (make ()) train test ignore CancellationToken.None None ignore)
            Expect.isTrue (Tasks.Task.WaitAll([| rank0 :> Tasks.Task; rank1 |], 60000)) "both end (no process waits for the other forever)"
            for r in [ rank0.Result; rank1.Result ] do
                Expect.isTrue r.Cancelled "cancelled"
                Expect.equal r.Epochs.Length 1 "one completed epoch kept"
            Expect.equal rank0.Result.Network.Parameters rank1.Result.Network.Parameters "the same network"
        }
        test "random search has no gradient to sum: refused by name" {
            let train = TrainingTests.xorData 1 20
            let net = Network.create [ 2; 4; 2 ] Activation.Tanh Activation.Softmax Loss.CrossEntropy Init.Xavier 5
            Expect.throwsT<ArgumentException> (fun () -> Train.fitDistributed ((ThreadSum 1).Rank 0) (config (Optimizer.RandomSearch 1.0) 5 Precision.Double) net train train ignore CancellationToken.None None ignore |> ignore) "refused"
        }
    ]
