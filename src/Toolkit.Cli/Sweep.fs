/// `toolkit sweep`: many `toolkit train` runs over a grid (or a random sample of it) of settings,
/// as separate processes, several at a time, every one recorded in the run store under the
/// sweep's name.
module Toolkit.Cli.Sweep

open System
open System.Diagnostics
open System.IO
open System.Text.Json
open System.Threading
open Argu
open Toolkit.Runs

/// The options of `toolkit sweep`; the `toolkit train` options every run shares follow `--`.
type SweepArgs =
    | [<Mandatory>] Set of setting: string
    | [<Unique>] Random of count: int
    | [<Unique>] Seed of int
    | [<Unique>] Parallel of processes: int
    | [<Unique>] Name of sweep: string
    | [<Unique>] Out of dir: string
    | [<Unique>] By of metric: string
    | [<Unique>] Runs of db: string
    | Distributed
    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Set _ -> "a train option and its values: lr=0.01,0.1,1 (repeat --set for more options; a layers value keeps its commas: one --set layers=… per value)"
            | Random _ -> "run this many combinations drawn at random from the grid (default: every combination)"
            | Seed _ -> "seeds the random draw of combinations (default 1)"
            | Parallel _ -> "train processes at a time (default 1); each gets its share of the cores for OpenBLAS"
            | Name _ -> "the sweep's name in the run store (default: sweep- and the start time)"
            | Out _ -> "where each run's model file goes (default: sweeps/NAME/)"
            | By _ -> "the metric that picks the best run at the end (default test-accuracy)"
            | Runs _ -> "the run store (default: $TOOLKIT_RUNS, else runs.db in the working directory)"
            | Distributed -> "share the runs among the processes of mpiexec -n K toolkit sweep --distributed …, one machine or many (the run store on a file system they all reach; process 0 compares at the end)"

/// The settings of a sweep: each option's values, in the order given. A `layers` value keeps its
/// commas (sizes such as 784,30,10); every other option's values are separated by commas.
let parseSettings (sets: string list) : (string * string list) list =
    let pairs =
        [ for s in sets ->
            match s.IndexOf '=' with
            | i when i > 0 && i < s.Length - 1 ->
                let name = s.Substring(0, i).Trim().TrimStart('-')
                let values = s.Substring(i + 1)
                let values = if name = "layers" then [ values.Trim() ] else values.Split(',') |> Array.map (fun v -> v.Trim()) |> List.ofArray
                if values |> List.exists String.IsNullOrEmpty then raise (Grad.UserError(sprintf "--set %s: an empty value" s))
                name, values
            | _ -> raise (Grad.UserError(sprintf "--set %s: expected an option and its values, e.g. lr=0.01,0.1,1" s)) ]
    // repeated options gather their values, in order
    pairs |> List.map fst |> List.distinct |> List.map (fun n -> n, pairs |> List.filter (fst >> (=) n) |> List.collect snd |> List.distinct)

/// Every combination of the settings (the last option varying fastest).
let grid (settings: (string * string list) list) : (string * string) list list =
    List.foldBack (fun (name, values) rest -> [ for v in values do for r in rest -> (name, v) :: r ]) settings [ [] ]

/// How `toolkit` itself is started again: through `dotnet toolkit.dll`, or as the installed tool.
let private self () =
    let cli = typeof<SweepArgs>.Assembly
    let exe = Environment.ProcessPath
    if Path.GetFileNameWithoutExtension exe = "dotnet" then exe, [ cli.Location ]
    elif obj.ReferenceEquals(Reflection.Assembly.GetEntryAssembly(), cli) then exe, []
    else
        // the command line's code inside another program (a test runner): its dll through the dotnet host
        let host = match Environment.GetEnvironmentVariable "DOTNET_HOST_PATH" with null | "" -> "dotnet" | h -> h
        host, [ cli.Location ]

/// Runs `toolkit sweep …`; `train` holds the options after `--`, shared by every run.
let run (args: ParseResults<SweepArgs>) (train: string list) : int =
    let settings = parseSettings (args.GetResults Set)
    let trainOptions = TrainCmd.optionNames ()
    // what the sweep itself gives each run (or, for --distributed, must not)
    let perRun = [ "save"; "runs"; "plot"; "checkpoint"; "resume"; "json"; "sweep"; "distributed" ]
    for name, _ in settings do
        if not (List.contains ("--" + name) trainOptions) then
            raise (Grad.UserError(sprintf "--set %s: not an option of toolkit train%s" name (Toolkit.Suggest.didYouMean trainOptions ("--" + name))))
        if List.contains name perRun then
            raise (Grad.UserError(sprintf "--set %s: the sweep gives each run its own; it is not a setting to vary" name))
    for option in perRun do
        if List.contains ("--" + option) train then
            raise (Grad.UserError(sprintf "--%s after --: the sweep gives each run its own" option))
    let all = grid settings
    let combos =
        match args.TryGetResult Random with
        | None -> all
        | Some n when n < 1 -> raise (Grad.UserError(sprintf "--random: %d is not a positive count" n))
        | Some n ->
            let rng = System.Random(args.GetResult(Seed, 1))
            all |> List.sortBy (fun _ -> rng.Next()) |> List.truncate n
    // spread over MPI processes: each takes every K-th combination; the first one reports
    let mpi = if args.Contains Distributed then Some(Mpi.start ()) else None
    let rank, ranks = match mpi with Some w -> w.Rank, w.Size | None -> 0, 1
    if mpi.IsSome && not (args.Contains Name) then
        raise (Grad.UserError "--distributed: give the sweep a --name, the same for every process")
    let processes = args.GetResult(Parallel, 1)
    if processes < 1 then raise (Grad.UserError(sprintf "--parallel: %d is not a positive count" processes))
    let metric = args.GetResult(By, "test-accuracy")
    if not (List.contains metric Metric.names) then
        raise (Grad.UserError(sprintf "--by: '%s' is not one of %s%s" metric (String.Join(", ", Metric.names)) (Toolkit.Suggest.didYouMean Metric.names metric)))
    let name = args.GetResult(Name, sprintf "sweep-%s" (DateTime.UtcNow.ToString "yyyyMMdd-HHmmss"))
    let store = Path.GetFullPath(args.GetResult(Runs, RunStore.DefaultFile))
    let out = Path.GetFullPath(args.GetResult(Out, Path.Combine("sweeps", name)))
    Directory.CreateDirectory out |> ignore
    // the cores shared out: OpenBLAS threads per run, unless the runs say
    let threads = if List.contains "--threads" train || settings |> List.exists (fst >> (=) "threads") then [] else [ "--threads"; string (max 1 (Environment.ProcessorCount / processes)) ]
    let seeded = settings |> List.exists (fst >> (=) "seed") || List.contains "--seed" train
    if rank = 0 then
      printfn "sweep %s: %d run%s (%s), %d at a time%s, recorded in %s" name combos.Length (if combos.Length = 1 then "" else "s")
        (String.Join("; ", settings |> List.map (fun (n, vs) -> sprintf "%s: %s" n (String.Join(" | ", vs))))) processes
        (if ranks > 1 then sprintf " in each of %d MPI processes" ranks else "") store
    let exe, prefix = self ()
    let mine = combos |> List.mapi (fun i c -> i + 1, c) |> List.filter (fun (k, _) -> (k - 1) % ranks = rank)
    use cts = new CancellationTokenSource()
    // Ctrl-C reaches the runs from the terminal itself; SIGTERM, sent to the sweep alone, is
    // passed on to them, so that each keeps its last completed epoch
    let running = Collections.Concurrent.ConcurrentDictionary<int, Process>()
    use _ = Signals.onInterrupt cts (fun () -> for p in running.Values do Signals.terminate p.Id)
    use slots = new SemaphoreSlim(processes)
    let failures = Collections.Concurrent.ConcurrentBag<string>()
    let print = obj ()
    let one (k: int) (combo: (string * string) list) =
        async {
            do! slots.WaitAsync() |> Async.AwaitTask
            try
                if not cts.IsCancellationRequested then
                    let described = String.Join(", ", combo |> List.map (fun (n, v) -> sprintf "%s=%s" n v))
                    let model = Path.Combine(out, sprintf "run-%d.json" k)
                    // each run its own seed (its number) unless the seeds are what the sweep varies
                    let arguments =
                        prefix @ [ "train" ] @ train @ List.collect (fun (n, v) -> [ "--" + n; v ]) combo
                        @ (if seeded then [] else [ "--seed"; string k ]) @ threads
                        @ [ "--save"; model; "--runs"; store; "--sweep"; name; "--json" ]
                    let psi = ProcessStartInfo(exe, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false)
                    for a in arguments do psi.ArgumentList.Add a
                    use p = Process.Start psi
                    running.[p.Id] <- p
                    // a SIGTERM that came while it started
                    if cts.IsCancellationRequested && Signals.exitCode () = 143 then Signals.terminate p.Id
                    let err = p.StandardError.ReadToEndAsync()
                    let stdout = p.StandardOutput.ReadToEnd()
                    p.WaitForExit()
                    running.TryRemove p.Id |> ignore
                    let summary =
                        if p.ExitCode = 0 then
                            try
                                use doc = JsonDocument.Parse stdout
                                let r = doc.RootElement
                                let acc = r.GetProperty("test_accuracy")
                                let score =
                                    if acc.ValueKind = JsonValueKind.Number then sprintf "test accuracy %.4f" (acc.GetDouble())
                                    else sprintf "test loss %.6g" (r.GetProperty("test_loss").GetDouble())
                                sprintf "run %d, %s after %d epochs" (r.GetProperty("run").GetInt64()) score (r.GetProperty("epochs").GetInt32())
                            with _ -> "done"
                        elif p.ExitCode = 130 || p.ExitCode = 143 then
                            sprintf "interrupted (%s): its last completed epoch recorded" (if p.ExitCode = 130 then "Ctrl-C" else "SIGTERM")
                        else
                            let why =
                                (err.Result + "\n" + stdout).Split('\n') |> Array.map (fun l -> l.Trim()) |> Array.filter (fun l -> l <> "")
                                |> Array.tryFind (fun l -> l.StartsWith "error") |> Option.defaultValue (sprintf "exit code %d" p.ExitCode)
                            failures.Add(sprintf "%d (%s): %s" k described why)
                            sprintf "FAILED (exit %d): %s" p.ExitCode why
                    lock print (fun () -> printfn "[%d/%d] %s: %s" k combos.Length described summary)
            finally
                slots.Release() |> ignore
        }
    mine |> List.map (fun (k, c) -> one k c) |> Async.Parallel |> Async.RunSynchronously |> ignore
    match mpi with
    | Some w ->
        w.Barrier()
        w.Finish()
    | None -> ()
    // the sweep's runs side by side, the best marked
    let runs = (RunStore.Open store).OfSweep name |> List.ofArray
    if runs.Length >= 2 && rank = 0 then Runs.comparison runs metric
    if cts.IsCancellationRequested then raise (TrainCmd.Interrupted(sprintf "sweep %s interrupted: %d of %d runs recorded" name runs.Length combos.Length))
    if failures.IsEmpty then 0
    else
        eprintfn "error: %d of %d runs failed: %s" failures.Count combos.Length (String.Join("; ", failures |> Seq.sort))
        1
