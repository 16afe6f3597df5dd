(**
---
title: Beyond one machine
category: Networks
categoryindex: 3
index: 10
---
*)
(*** condition: prepare ***)
#r "nuget: MathNet.Numerics, 5.0.0"
#r "nuget: System.Numerics.Tensors, 10.0.12"
#r "../src/Toolkit.Core/bin/Release/net10.0/Toolkit.Core.dll"
(**
# Beyond one machine: data parallelism on MPI

The way the field trains past one machine is **data parallelism**: K processes hold the same
network; each takes its own share of every mini-batch, computes the gradient of its share, the
gradients are summed across the processes (an allreduce), and every process applies the same
update. With the per-process gradients weighted by their share's size, the sum is exactly the
gradient of the whole global batch — the backward pass is linear in the samples — so K processes
with batch b follow one process with batch K·b. The engine clusters already run for the sum is MPI.

    mpiexec -n 2 toolkit train --distributed --batch 10 --epochs 5 --save model.json

Each process loads the data and starts from process 0's weights (broadcast); the shuffled order
is the same everywhere (the same seed), process r takes samples r·b … (r+1)·b − 1 of each global
batch; one allreduce per step carries every gradient times its share's size, the sizes, the costs
and a stop flag (so a Ctrl-C reaching any process stops them all after the same step, keeping the
last completed epoch); process 0 alone prints, saves, checkpoints and records the run. MPI comes
from Debian's MPICH through the `MPI.NET` package (which was built for Microsoft's MPI: the
library name is mapped to MPICH's, whose binary interface is the same).

A process that dies (a machine lost, a `kill -9`) cannot take part in the next allreduce: MPICH's
launcher ends the others and prints which process died and how, and the run exits with an error.
With `--checkpoint DIR`, process 0 saved the state after every epoch, so `mpiexec -n K toolkit
train --distributed --resume DIR …` goes on from the last completed epoch (a test kills process 1
of a run and resumes it).

## The same weights, to rounding

In the core, `Train.fitDistributed` takes the sum as an interface, so the equivalence is tested
with threads standing in for processes, and on this machine with `mpiexec -n 2`: after an epoch of
the notes' network (float64, 3,000 steps) two processes with batch 10 are 5·10⁻¹⁵ from one
process with batch 20, and the wide 784-256-128-10 network 9·10⁻¹⁶. One finding on the way: at
the notes' learning rate η = 3 the 784-30-10 network amplifies any rounding difference — one
process computing its batch-20 gradient as 20·g/20 instead of g ends an epoch 0.2 away in some
weight, while with batch 16 (where ·16/16 is exact) it is bit for bit the same. The tests therefore
compare at η = 0.5, where rounding stays rounding.

## What a step costs here

A step's arithmetic, measured live on this machine, one process, float32, for the notes' network
and the wide one at several batch sizes (seconds per step over one epoch of Fashion-MNIST):
*)
open System
open System.Diagnostics
open Toolkit.Nn
open Toolkit.Training

let data = Datasets.images Toolkit.Data.FashionMnist.defaultDirectory None
let train = data.Train
let samples = train.X.ColumnCount
let notes () = Network.create [ 784; 30; 10 ] Activation.Sigmoid Activation.Sigmoid Toolkit.Tensors.Loss.Quadratic Init.Normal 1
let wide () = Network.create [ 784; 256; 128; 10 ] Activation.Relu Activation.Softmax Toolkit.Tensors.Loss.CrossEntropy Init.He 1

/// Seconds per step of one epoch at a batch size (the second of two epochs: the first warms up).
let stepSeconds (make: unit -> Network) (optimizer: Optimizer) (batch: int) =
    let config = { Epochs = 2; BatchSize = batch; Optimizer = optimizer; Schedule = Schedule.Constant; Seed = 1
                   ValidationFraction = 0.0; Patience = 3; Precision = Precision.Single }
    let r = Train.fit config (make ()) train data.Test ignore Threading.CancellationToken.None
    r.Epochs.[1].Seconds / float ((samples + batch - 1) / batch)

let cnn () =
    let layers = Layers.parseStackShaped (SampleShape.Image(1, 28, 28)) "conv(32,3,pad=1)-relu-pool(2)-conv(64,3,pad=1)-relu-pool(2)-dense(128)-relu-dropout(0.3)-dense(10)-softmax"
    Network.ofLayers layers Toolkit.Tensors.Loss.CrossEntropy Init.Uniform 1

/// Seconds per step from 20 timed steps after 5 that warm up: the CNN's epoch is too long to run
/// here whole (see the performance page for its epochs).
let timedSteps (make: unit -> Network) (optimizer: Optimizer) (batch: int) =
    let f = FastNet<float32>(make (), batch, 1)
    let state = OptimizerState<float32>(f.ParameterCount, 1)
    let xs, ys = train.X, Toolkit.Tensors.Kernels.storage train.Y
    let order = Array.init samples id
    let step k = f.Step(optimizer, state, Optimizer.learningRate optimizer, xs, ys, order, (k * batch) % (samples - batch), batch) |> ignore
    for k in 1 .. 5 do step k
    let sw = Stopwatch.StartNew()
    for k in 6 .. 25 do step k
    sw.Elapsed.TotalSeconds / 20.0

let networks =
    [ "784-30-10 (notes)", notes, Optimizer.Sgd 0.5, [ 10; 100; 1000 ], stepSeconds
      "784-256-128-10 (wide)", wide, Optimizer.Momentum(0.05, 0.9), [ 128; 1024 ], stepSeconds
      "CNN conv 32-64 (images)", cnn, Optimizer.Adam(0.001, 0.9, 0.999, 1e-8), [ 64; 256 ], timedSteps ]
let measured =
    [ for name, make, optimizer, batches, measure in networks ->
        name, (make ()).Parameters.Length, [ for b in batches -> b, measure make optimizer b ] ]
let measuredTable =
    [ for name, parameters, steps in measured do
        for b, t in steps -> sprintf "%-22s %7d parameters  batch %5d: %8.1f µs per step" name parameters b (t * 1e6) ]
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/DistributedPage.cs,key=step-cost]
*)
(*** include-value: measuredTable ***)
(**
## A cost model, and what it predicts past this machine

A ring allreduce of S bytes among K processes sends 2(K − 1)/K · S bytes through each link and
takes 2(K − 1) latency-bound rounds, so a step on K nodes, each with batch b, costs

  t(K, b) = t_compute(b) + 2(K − 1)/K · S / B + 2(K − 1) · α

and an epoch of N samples takes N / (K·b) steps. S is the gradient in float32 (4 bytes per
parameter), B the link's bandwidth, α the latency of one message; t_compute(b) is the step measured
above. α is not measured here (this machine has no network between processes): 20 µs is taken, a
usual figure for MPI over TCP on 10–25 Gb/s Ethernet; the predictions below say how much of each
epoch is communication, which is where α and B matter.
*)
let alpha = 20e-6
let ring (k: int) (bytes: float) (gbps: float) = if k = 1 then 0.0 else 2.0 * float (k - 1) / float k * bytes / (gbps * 1e9 / 8.0) + 2.0 * float (k - 1) * alpha
let predictions =
    [ for name, parameters, steps in measured do
        for b, t in steps do
            for gbps in [ 10.0; 25.0 ] ->
                let steps k = float ((samples + k * b - 1) / (k * b))
                let epoch k = steps k * (t + ring k (4.0 * float parameters) gbps)
                let one = epoch 1
                let cell k =
                    if k * b > samples then sprintf "%2d nodes: a global batch of %d, more than the data" k (k * b)
                    else
                        let e = epoch k
                        sprintf "%2d nodes %6.3f s (×%4.1f, %3.0f%% talking)" k e (one / e) (100.0 * (1.0 - steps k * t / e))
                sprintf "%-22s b %4d %2.0f Gb/s | 1 node %6.2f s | %s" name b gbps one (String.Join(" | ", [ for k in [ 8; 32; 64 ] -> cell k ])) ]
(*** include-value: predictions ***)
(**
What it says (each line: the epoch's seconds on 1 node, then on 8, 32 and 64 nodes with the
speed-up over one node at the same per-node batch, and the share of the epoch spent talking):

- **The notes' network does not pay to distribute at its own batch.** A batch-10 step computes in
  tens of microseconds; one allreduce costs more than that in latency alone, so more nodes make an
  epoch *slower* (the speed-ups at b = 10 are below 1, and talking is over 90% of the time). Only
  with the per-node batch grown to hundreds or thousands does the arithmetic outweigh the talk —
  and then the global batch is K·b: 64 nodes with b = 1000 would need more samples per step than
  the whole training set has.
- **The wide network pays, and talks more the more nodes it has.** Its gradient (0.9 MB) takes
  about a millisecond on 10 Gb/s, as long as a batch-128 step; the epoch still gets several times
  faster on 8 nodes and faster again on 64, but most of each step there is the allreduce, where
  25 Gb/s helps. At b = 1024 the step is long enough that talking stays a minor share on 8 and
  32 nodes.
- **The learning rate must follow the global batch.** The gradient of K·b samples is K times less
  noisy than that of b; the usual rule (Goyal et al., 2017) scales η linearly with the global batch
  and warms it up over the first epochs. Past a batch size that depends on the problem, more
  samples per step stop buying progress per epoch, and then more nodes buy nothing: a faster epoch
  is only worth it if the network learns as much from it.
- **The convolutional network pays most.** It has far more arithmetic per parameter than a dense
  one (its 420,000 parameters cost about 25 MFLOP per sample forward and backward, the wide
  network's 235,000 about 1.4):
  a step of tens of milliseconds against a gradient of 1.7 MB, so talking stays a small share of
  the epoch even on 64 nodes over 10 Gb/s, and the speed-up stays near the node count as long as
  the global batch K·b is one the learning rate can follow.

## Measured here: two processes on this machine's two cores
*)
(*** hide ***)
let mpiexec = [ "/usr/bin/mpiexec.mpich"; "/usr/bin/mpiexec" ] |> List.tryFind IO.File.Exists
let toolkit = IO.Path.Combine(__SOURCE_DIRECTORY__, "..", "src", "Toolkit.Cli", "bin", "Release", "net10.0", "toolkit.dll")
let runJson (file: string) (args: string list) =
    let psi = ProcessStartInfo(file, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false)
    for a in args do psi.ArgumentList.Add a
    psi.Environment.["TOOLKIT_RUNS"] <- IO.Path.Combine(IO.Path.GetTempPath(), "toolkit-docs-distributed-runs.db")
    use p = Process.Start psi
    let err = p.StandardError.ReadToEndAsync()
    let out = p.StandardOutput.ReadToEnd()
    p.WaitForExit()
    if p.ExitCode <> 0 then failwithf "%s %A failed: %s" file args err.Result
    Text.Json.JsonDocument.Parse(out).RootElement
let local =
    match mpiexec with
    | None -> [ "MPICH is not installed on the machine that built this page (./build.sh setup-test installs it): not measured." ]
    | Some mpi ->
        [ for name, options, b in [ "784-30-10 (notes)", [], 10
                                    "784-256-128-10 (wide)", [ "--layers"; "784,256,128,10"; "--activation"; "relu"; "--output"; "softmax"; "--loss"; "cross-entropy"; "--optimizer"; "momentum"; "--lr"; "0.05" ], 64 ] do
            let common = options @ [ "--epochs"; "2"; "--json" ]
            let one = runJson "dotnet" ([ toolkit; "train"; "--batch"; string (2 * b) ] @ common)
            let two = runJson mpi ([ "-n"; "2"; "dotnet"; toolkit; "train"; "--distributed"; "--batch"; string b ] @ common)
            let epoch2 (r: Text.Json.JsonElement) = r.GetProperty("seconds_per_epoch").[1].GetDouble()
            let total (r: Text.Json.JsonElement) = r.GetProperty("seconds_per_epoch").EnumerateArray() |> Seq.sumBy (fun v -> v.GetDouble())
            yield sprintf "%-22s 1 process, batch %d: %.2f s per epoch | 2 processes, batch %d each: %.2f s per epoch, %.0f%% of process 0's training in the allreduce"
                name (2 * b) (epoch2 one) b (epoch2 two) (100.0 * two.GetProperty("allreduce_seconds").GetDouble() / total two)
          // the weights: two processes with batch 10 against one with batch 20, float64, η = 0.5
          let dir = IO.Path.Combine(IO.Path.GetTempPath(), sprintf "toolkit-docs-mpi-%O" (Guid.NewGuid()))
          IO.Directory.CreateDirectory dir |> ignore
          let common = [ "--lr"; "0.5"; "--epochs"; "1"; "--precision"; "64"; "--json" ]
          runJson mpi ([ "-n"; "2"; "dotnet"; toolkit; "train"; "--distributed"; "--batch"; "10"; "--save"; IO.Path.Combine(dir, "two.json") ] @ common) |> ignore
          runJson "dotnet" ([ toolkit; "train"; "--batch"; "20"; "--save"; IO.Path.Combine(dir, "one.json") ] @ common) |> ignore
          let weights (f: string) = (fst (Toolkit.Data.ModelFile.read (IO.Path.Combine(dir, f)))).Parameters
          let largest = Array.map2 (fun a b -> abs (a - b)) (weights "two.json") (weights "one.json") |> Array.max
          IO.Directory.Delete(dir, true)
          yield sprintf "784-30-10, float64, η = 0.5, one epoch: 2 processes with batch 10 against 1 with batch 20, largest difference in any weight %.1e" largest ]
(*** include-value: local ***)
(**
On one machine two processes are slower than one: they share its two cores (one process already
uses both through OpenBLAS on the wide network), and the allreduce — through shared memory here,
the cheapest case — still waits for the slower process at every step. The figures are what the
model above predicts for K = 2 with α and B of a shared-memory transport; their use is to show the
machinery working end to end and the share that talking takes, not a speed-up this machine
cannot give.
*)
