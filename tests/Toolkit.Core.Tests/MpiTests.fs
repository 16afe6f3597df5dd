/// `mpiexec -n 2 toolkit train --distributed` on Debian's MPICH: the weights of one process with
/// the doubled batch, process 0 alone saving and recording.
module Toolkit.Tests.MpiTests

open System
open System.Diagnostics
open System.IO
open Expecto
open Toolkit.Data

let private mpiexec = [ "/usr/bin/mpiexec.mpich"; "/usr/bin/mpiexec" ] |> List.tryFind File.Exists
let private toolkitDll = Path.Combine(AppContext.BaseDirectory, "toolkit.dll")

/// Runs a command to its end; fails the test with its error output if it fails.
let private run (file: string) (args: string list) =
    let psi = ProcessStartInfo(file, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false)
    for a in args do psi.ArgumentList.Add a
    use p = Process.Start psi
    let err = p.StandardError.ReadToEndAsync()
    let out = p.StandardOutput.ReadToEnd()
    p.WaitForExit()
    if p.ExitCode <> 0 then failtestf "%s %s: exit %d\n%s\n%s" file (String.Join(" ", args)) p.ExitCode out err.Result
    out

let private parameters (model: string) = (fst (ModelFile.read model)).Parameters

let private largest (a: float[]) (b: float[]) = Array.map2 (fun x y -> abs (x - y)) a b |> Array.max

[<Tests>]
let tests =
    testSequenced <| testList "mpi" [
        match mpiexec with
        | None -> testCase "mpiexec -n 2 toolkit train --distributed" (fun () -> skiptest "MPICH is not installed (./build.sh setup-test installs Debian's mpich)")
        | Some mpi ->
            // float64, so that what differs is the order of the sums alone. The notes' η = 3 is not
            // used: it amplifies any rounding difference over an epoch (even one process computing
            // its batch-20 gradient as 20·g/20 ends 0.2 away), while at η = 0.5 two processes stay
            // 5e-15 from one after 3,000 steps. The threshold 1e-10 is 10⁵ above what was measured.
            for name, options, batch in
                [ "the notes' 784-30-10 (sigmoid, quadratic, SGD η = 0.5)", [ "--lr"; "0.5" ], 10
                  "784-256-128-10 (ReLU, softmax, cross-entropy, momentum 0.9, η = 0.05)",
                  [ "--layers"; "784,256,128,10"; "--activation"; "relu"; "--output"; "softmax"; "--loss"; "cross-entropy"; "--optimizer"; "momentum"; "--lr"; "0.05" ], 64 ] do
                test (sprintf "%s: 2 processes with batch %d end with the weights of 1 with batch %d after an epoch; process 0 alone saves and records" name batch (2 * batch)) {
                    RunStoreTests.inTempFolder "mpi" (fun dir ->
                        let db = Path.Combine(dir, "runs.db")
                        let common = options @ [ "--epochs"; "1"; "--precision"; "64"; "--runs"; db ]
                        let two, one = Path.Combine(dir, "two.json"), Path.Combine(dir, "one.json")
                        let out = run mpi ([ "-n"; "2"; "dotnet"; toolkitDll; "train"; "--distributed"; "--batch"; string batch; "--save"; two ] @ common)
                        run "dotnet" ([ toolkitDll; "train"; "--batch"; string (2 * batch); "--save"; one ] @ common) |> ignore
                        let d = largest (parameters two) (parameters one)
                        Expect.isLessThan d 1e-10 "the weights of one process with the whole batch"
                        Expect.stringContains out "data-parallel: 2 processes" "says how it ran"
                        Expect.equal ((out.Split('\n') |> Array.filter (fun l -> l.StartsWith "saved ")).Length) 1 "one process saved"
                        let runs = (Toolkit.Runs.RunStore.Open db).List()
                        Expect.equal runs.Length 2 "one record per run (process 0's)"
                        Expect.contains runs.[0].Settings ("processes", "2") "the record says 2 processes")
                }
            test "a process of a data-parallel run killed (kill -9): MPICH ends the other and names the dead one, the last epoch's checkpoint is kept, --resume goes on" {
                RunStoreTests.inTempFolder "mpi" (fun dir ->
                    let csv = RunStoreTests.twoClasses dir 13
                    let ck = Path.Combine(dir, "ck")
                    let db = Path.Combine(dir, "runs.db")
                    let psi = ProcessStartInfo(mpi, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false)
                    for a in [ "-n"; "2"; "dotnet"; toolkitDll; "train"; "--distributed"; "--data"; csv; "--label"; "kind"; "--epochs"; "100000"; "--checkpoint"; ck; "--runs"; db ] do
                        psi.ArgumentList.Add a
                    use p = Process.Start psi
                    let err = p.StandardError.ReadToEndAsync()
                    // wait for a few epochs, then kill process 1 (MPICH tells each process its rank in PMI_RANK)
                    let sw = Stopwatch.StartNew()
                    while (p.StandardOutput.ReadLine() |> fun l -> not (isNull l) && not (l.StartsWith "epoch 5")) && sw.Elapsed.TotalSeconds < 60.0 do ()
                    let rank1 =
                        Process.GetProcessesByName "dotnet"
                        |> Array.tryFind (fun q ->
                            try File.ReadAllText(sprintf "/proc/%d/environ" q.Id).Split('\000') |> Array.contains "PMI_RANK=1" with _ -> false)
                    Expect.isSome rank1 "process 1 found"
                    rank1.Value.Kill()
                    let rest = p.StandardOutput.ReadToEnd()
                    Expect.isTrue (p.WaitForExit 60000) "the run ends (no process waits forever)"
                    Expect.notEqual p.ExitCode 0 "with an error"
                    Expect.stringContains (rest + err.Result) (sprintf "PID %d" rank1.Value.Id) "MPICH names the process that died"
                    Expect.isTrue (File.Exists(Path.Combine(ck, "checkpoint.json"))) "the checkpoint of the last completed epoch"
                    let _, state = Toolkit.Training.Checkpoint.load ck
                    let out = run mpi [ "-n"; "2"; "dotnet"; toolkitDll; "train"; "--distributed"; "--data"; csv; "--label"; "kind"; "--epochs"; string (state.Epoch + 2); "--resume"; ck; "--runs"; db ]
                    Expect.stringContains out (sprintf "resuming from %s after epoch %d" ck state.Epoch) "goes on from it"
                    Expect.stringContains out (sprintf "after %d epochs" (state.Epoch + 2)) "to the end")
            }
            test "mpiexec -n 2 toolkit sweep --distributed: the processes share the grid, every run recorded once, compared once" {
                RunStoreTests.inTempFolder "mpi" (fun dir ->
                    let csv = RunStoreTests.twoClasses dir 9
                    let db = Path.Combine(dir, "runs.db")
                    let out = run mpi [ "-n"; "2"; "dotnet"; toolkitDll; "sweep"; "--distributed"; "--name"; "shared"; "--set"; "lr=0.1,1"; "--set"; "batch=5,20"
                                        "--runs"; db; "--out"; Path.Combine(dir, "models"); "--"; "--data"; csv; "--label"; "kind"; "--epochs"; "2" ]
                    let runs = (Toolkit.Runs.RunStore.Open db).OfSweep "shared"
                    Expect.equal runs.Length 4 "the four combinations, once each"
                    Expect.equal (runs |> Array.map (fun r -> r.Settings |> List.find (fst >> (=) "seed") |> snd) |> Array.sort) [| "1"; "2"; "3"; "4" |] "each its own seed"
                    Expect.equal ((out.Split('\n') |> Array.filter (fun l -> l.StartsWith "best by")).Length) 1 "compared once, by process 0")
            }
    ]
