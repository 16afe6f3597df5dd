(**
---
title: Keeping and comparing runs
category: Networks
categoryindex: 3
index: 9
---
*)
(*** condition: prepare ***)
#r "nuget: MathNet.Numerics, 5.0.0"
#r "nuget: System.Numerics.Tensors, 10.0.12"
#r "nuget: Microsoft.Data.Sqlite, 10.0.15"
#r "../src/Toolkit.Core/bin/Release/net10.0/Toolkit.Core.dll"
#r "../src/Toolkit.Runs/bin/Release/net10.0/Toolkit.Runs.dll"
(**
# Keeping and comparing runs

Training is a series of experiments: a learning rate, a width, an optimiser, a seed, each tried
and measured. The toolkit keeps every run in a **run store**, one SQLite file (the embedded
database MLflow also keeps its runs in by default): what the run was asked to do (layers, loss,
optimiser, batch, seed, data — the same settings a checkpoint compares), every epoch's losses,
accuracies and seconds, the machine (host, processors, OS, .NET, which BLAS), how it ended
(completed, stopped early, cancelled, failed and why), and the model file it wrote with the
SHA-256 of its bytes, so that a model file found later can be traced to the run that made it.

`toolkit train` records into `runs.db` in the working directory (or the file `TOOLKIT_RUNS` names,
or `--runs FILE`) and says which run it was; `toolkit runs` reads the store:

    toolkit train --lr 3 --epochs 5 --save a.json      # … recorded as run 1 in runs.db
    toolkit train --lr 1 --epochs 5 --save b.json      # … recorded as run 2
    toolkit runs list                                  # number, start, status, layers, optimiser, epochs, test accuracy, time
    toolkit runs show 2                                # command, settings, machine, model and hash, every epoch
    toolkit runs compare 1 2 --by test-loss            # the settings that differ, the final metrics, the best marked
    toolkit runs plot 1 2 --metric test-accuracy --out curves.html

## Sweeps

`toolkit sweep` runs `toolkit train` over a grid of settings, or a random sample of it, as
separate processes, several at a time (each gets its share of the cores for OpenBLAS), every run
with its own seed (its number, unless the seeds are what the sweep varies) and its own model file,
all recorded in the store under the sweep's name; at the end it compares them and marks the best:

    toolkit sweep --set lr=0.01,0.1,1 --set batch=10,50 --parallel 2 --name lr-batch -- --epochs 3
    toolkit sweep --set lr=0.001,0.003,0.01,0.03 --set optimizer=adam,rmsprop --random 4 -- --layers "dense(100)-relu-dense(10)-softmax" --loss cross-entropy
    toolkit runs list --sweep lr-batch

The options after `--` are shared by every run; `--set` names any option of `toolkit train` (a
misspelled one gets a "did you mean"), and a `layers` value keeps its commas (one `--set
layers=784,100,10` per value). A run that fails is reported with its settings and the sweep exits
with 1; Ctrl-C reaches the running trainings, which keep their last epoch, and the sweep says how
many runs it recorded. SIGTERM sent to the sweep alone is passed on to its running trainings, to
the same end.

Past one machine, MPI starts the sweep on each: `mpiexec -n K toolkit sweep --distributed --name
NAME …` gives every K-th combination to each process (each may still run `--parallel` trainings at
a time), and process 0 compares the whole sweep once all are done. The store must be a file every
process reaches; SQLite's locking is reliable on local disks and unreliable on some network file
systems (NFS among them), so across machines give each one its own `--runs` file, or a file system
that honours POSIX locks.

## Twelve runs on this machine

A sweep of twelve runs — three learning rates, two batch sizes, two seeds — of a small network on
a table of two noisy classes, two processes at a time, run here while this page was built (the
commands are the ones above; `toolkit` is the tool built from this repository):
*)
(*** hide ***)
open System
open System.Diagnostics
open System.IO
let folder = Path.Combine(Path.GetTempPath(), sprintf "toolkit-docs-sweep-%O" (Guid.NewGuid()))
Directory.CreateDirectory folder |> ignore
let table2 = Path.Combine(folder, "points.csv")
let sweepStore = Path.Combine(folder, "runs.db")
(let rng = Random 4
 File.WriteAllLines(table2, [| yield "x,y,class"
                               for _ in 1 .. 600 do
                                   let c = rng.Next 2
                                   let r = 1.0 + float c + 0.35 * (rng.NextDouble() - 0.5)
                                   let a = 2.0 * Math.PI * rng.NextDouble()
                                   yield sprintf "%.4f,%.4f,%d" (r * cos a) (r * sin a) c |]))
/// Runs the tool built from this repository; its output.
let toolkit (args: string list) =
    let psi = ProcessStartInfo("dotnet", RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = folder)
    psi.ArgumentList.Add(Path.Combine(__SOURCE_DIRECTORY__, "..", "src", "Toolkit.Cli", "bin", "Release", "net10.0", "toolkit.dll"))
    for a in args do psi.ArgumentList.Add a
    use p = Process.Start psi
    let err = p.StandardError.ReadToEndAsync()
    let out = p.StandardOutput.ReadToEnd()
    p.WaitForExit()
    if p.ExitCode <> 0 then failwithf "toolkit %s: %s" (String.Join(" ", args)) err.Result
    out.TrimEnd()
(**
    toolkit sweep --set lr=0.1,0.5,2 --set batch=10,50 --set seed=1,2 --parallel 2 --name rings \
                  -- --data points.csv --label class --layers "dense(16)-tanh-dense(2)-softmax" --loss cross-entropy --epochs 8
*)
(*** hide ***)
let sweepOutput =
    toolkit [ "sweep"; "--set"; "lr=0.1,0.5,2"; "--set"; "batch=10,50"; "--set"; "seed=1,2"; "--parallel"; "2"; "--name"; "rings"; "--runs"; sweepStore
              "--"; "--data"; table2; "--label"; "class"; "--layers"; "dense(16)-tanh-dense(2)-softmax"; "--loss"; "cross-entropy"; "--epochs"; "8" ]
    |> fun out -> out.Replace(folder + Path.DirectorySeparatorChar.ToString(), "")
(*** include-value: sweepOutput ***)
(**
    toolkit runs list --sweep rings
*)
(*** hide ***)
let listOutput = toolkit [ "runs"; "list"; "--sweep"; "rings"; "--runs"; sweepStore ]
(*** include-value: listOutput ***)
(**
The curves of all twelve (test accuracy per epoch), drawn from the store:
*)
(*** hide ***)
open Toolkit.Charts
let sweepRuns = (Toolkit.Runs.RunStore.Open sweepStore).OfSweep "rings"
Toolkit.Charts.LineChart.svg "Twelve runs of the sweep: test accuracy per epoch" "epoch" "test accuracy" false
    [ for r in sweepRuns ->
        let setting k = r.Settings |> List.find (fst >> (=) k) |> snd
        { Name = sprintf "%s, batch %s, seed %s" (setting "optimizer") (setting "batch") (setting "seed")
          Points = r.Epochs |> Array.map (fun e -> float e.Epoch, e.TestAccuracy) } ]
(*** include-it-raw ***)
(*** hide ***)
Directory.Delete(folder, true)
(**
## A small sweep, recorded

Three learning rates on two noisy classes in the plane, each run recorded as it goes. From F#, the
store's `Start`, `AddEpoch` and `Finish` take the training loop's events; from C#, a `Trainer`
given the store records each `Fit` itself:
*)
open System
open System.IO
open MathNet.Numerics.LinearAlgebra
open Toolkit.Nn
open Toolkit.Training
open Toolkit.Runs

/// Two noisy classes in the plane: 400 samples (a column each here, as the core holds them).
let blobs (seed: int) : LabelledData =
    let rng = Random seed
    let x = Array2D.zeroCreate<float> 2 400
    let labels = Array.init 400 (fun i -> i % 2)
    for i in 0 .. 399 do
        x.[0, i] <- float (labels.[i] * 2 - 1) + rng.NextDouble() - 0.5
        x.[1, i] <- rng.NextDouble() * 2.0 - 1.0
    { X = Samples.OfMatrix(Matrix<float>.Build.DenseOfArray x)
      Y = Matrix<float>.Build.Dense(2, 400, fun c i -> if labels.[i] = c then 1.0 else 0.0)
      Labels = labels }
let train, test = blobs 1, blobs 2

let path = Path.Combine(Path.GetTempPath(), sprintf "toolkit-docs-%O-runs.db" (Guid.NewGuid()))
let store = RunStore.Open path
for lr in [ 0.01; 0.1; 1.0 ] do
    let net = Network.create [ 2; 8; 2 ] Activation.Tanh Activation.Softmax Toolkit.Tensors.Loss.CrossEntropy Init.Xavier 1
    let config = { Epochs = 5; BatchSize = 10; Optimizer = Optimizer.Sgd lr; Schedule = Schedule.Constant; Seed = 1
                   ValidationFraction = 0.0; Patience = 3; Precision = Precision.Single }
    let id = store.Start("F# Train.fit", [ "layers", Network.describe net; "optimizer", sprintf "%A" config.Optimizer ],
                         RunStore.ThisMachine(Toolkit.Linalg.Blas.describe ()), Some "learning rates")
    let record = function
        | EpochEnded m -> store.AddEpoch(id, { Epoch = m.Epoch; TrainLoss = m.TrainLoss; TrainAccuracy = m.TrainAccuracy
                                               TestLoss = m.TestLoss; TestAccuracy = m.TestAccuracy; Seconds = m.Seconds })
        | _ -> ()
    let result = Train.fit config net train test record Threading.CancellationToken.None
    store.Finish(id, (if result.Cancelled then "cancelled" else "completed"), None)
let runs = store.OfSweep "learning rates"
let best = RunStore.Best("test-loss", runs)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/RunsPage.cs,key=runs-sweep]

What the store holds, run by run (the final epoch's test loss and accuracy), and the best by test
loss:
*)
let table =
    [ for r in runs ->
        sprintf "run %d  %-10s %s  %d epochs  test loss %.4f  test accuracy %.3f" r.Id r.Status
            (r.Settings |> List.find (fst >> (=) "optimizer") |> snd) r.Epochs.Length (r.Final "test-loss") (r.Final "test-accuracy") ]
(*** include-value: table ***)
let bestRun = sprintf "best by test loss: run %d (%s)" best.Value.Id (best.Value.Settings |> List.find (fst >> (=) "optimizer") |> snd)
(*** include-value: bestRun ***)
(**
## Several writers, old files, bad files

Runs of a sweep, or of several terminals, write to one store at once: the database is in
write-ahead-log mode and a writer waits (up to 30 s) for another's transaction instead of failing;
a test starts four `toolkit train` processes on one file and finds every run and every epoch.
The schema carries its version (`PRAGMA user_version`): a file written by an older Toolkit is
migrated when opened, in one transaction, keeping its runs (a test writes a first-version file and
opens it); a file from a newer Toolkit is refused, saying so. A file that is not a run store —
text, another program's database, a damaged file (300 mutated copies in the tests) — is an error
naming the file, and a store that cannot be written (a read-only folder, a full disk) costs
`toolkit train` its record with one warning, never the run.
*)
(*** hide ***)
File.Delete path
