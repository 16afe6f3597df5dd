/// `toolkit runs list|show|compare|plot`: the runs `toolkit train` recorded in a run store.
module Toolkit.Cli.Runs

open System
open Argu
open Toolkit.Runs

module RunMetric = Toolkit.Runs.Metric

let private storeUsage = "the run store to read (default: $TOOLKIT_RUNS, else runs.db in the working directory)"
let private metricUsage = sprintf "one of %s" (String.Join(", ", RunMetric.names))

/// The options of `toolkit runs list`.
type ListArgs =
    | [<Unique>] Runs of db: string
    | [<Unique>] Sweep of name: string
    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Runs _ -> storeUsage
            | Sweep _ -> "only the runs of this sweep"

/// The options of `toolkit runs show`.
type ShowArgs =
    | [<MainCommand; Mandatory; Unique>] Id of run: int64
    | [<Unique>] Runs of db: string
    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Id _ -> "the run's number, as `toolkit runs list` shows it"
            | Runs _ -> storeUsage

/// The options of `toolkit runs compare`.
type CompareArgs =
    | [<MainCommand; Mandatory>] Ids of runs: int64 list
    | [<Unique>] By of metric: string
    | [<Unique>] Runs of db: string
    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Ids _ -> "the runs to compare (two or more)"
            | By _ -> "the metric that decides the best run, at the last epoch (default test-accuracy): " + metricUsage
            | Runs _ -> storeUsage

/// The options of `toolkit runs plot`.
type PlotArgs =
    | [<MainCommand; Mandatory>] Ids of runs: int64 list
    | [<Unique>] Metric of metric: string
    | [<Mandatory; Unique>] Out of html: string
    | [<Unique>] Runs of db: string
    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Ids _ -> "the runs to draw"
            | Metric _ -> "what to draw per epoch (default test-accuracy): " + metricUsage
            | Out _ -> "the chart to write: an interactive Plotly page that opens offline"
            | Runs _ -> storeUsage

/// The subcommands of `toolkit runs`.
type RunsArgs =
    | [<CliPrefix(CliPrefix.None)>] List of ParseResults<ListArgs>
    | [<CliPrefix(CliPrefix.None)>] Show of ParseResults<ShowArgs>
    | [<CliPrefix(CliPrefix.None)>] Compare of ParseResults<CompareArgs>
    | [<CliPrefix(CliPrefix.None)>] Plot of ParseResults<PlotArgs>
    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | List _ -> "every recorded run: number, start, status, layers, optimiser, epochs, final test accuracy, time"
            | Show _ -> "one run: its command, settings, machine, model file and hash, every epoch"
            | Compare _ -> "runs side by side: the settings that differ, the final metrics, the best marked"
            | Plot _ -> "the runs' curves (a metric per epoch) in one chart"

let private openStore (file: string option) =
    let file = defaultArg file RunStore.DefaultFile
    if not (IO.File.Exists file) then raise (Grad.UserError(sprintf "%s: no run store here (toolkit train records its runs there; or give --runs)" file))
    try RunStore.Open file
    with :? IO.InvalidDataException as e -> raise (Grad.UserError e.Message)

let private checkMetric (m: string) =
    if not (List.contains m RunMetric.names) then
        raise (Grad.UserError(sprintf "'%s' is not a metric: %s%s" m (String.Join(", ", RunMetric.names)) (Toolkit.Suggest.didYouMean Metric.names m)))
    m

let private get (store: RunStore) (id: int64) =
    match store.TryGet id with
    | Some r -> r
    | None -> raise (Grad.UserError(sprintf "%s has no run %d (toolkit runs list shows them)" store.Path id))

/// A setting of a run, or "" if it has none of that name.
let private setting (r: RunRecord) (name: string) =
    r.Settings |> List.tryFind (fst >> (=) name) |> Option.map snd |> Option.defaultValue ""

let private number (v: float) = if Double.IsFinite v then sprintf "%.4f" v else "–"

/// Rows of cells as a table with aligned columns, the first row its header.
let table (rows: string list list) =
    let widths = rows |> List.map (List.map String.length) |> List.reduce (List.map2 max)
    for row in rows do
        printfn "%s" (String.Join("  ", List.map2 (fun (cell: string) w -> cell.PadRight w) row widths).TrimEnd())

let private list (args: ParseResults<ListArgs>) =
    let store = openStore (args.TryGetResult ListArgs.Runs)
    let runs = match args.TryGetResult Sweep with Some s -> store.OfSweep s | None -> store.List()
    if runs.Length = 0 then printfn "no runs in %s" store.Path
    else
        table (
            [ "run"; "started (UTC)"; "status"; "layers"; "optimizer"; "batch"; "seed"; "epochs"; "test accuracy"; "seconds" ]
            :: [ for r in runs ->
                  [ string r.Id; r.Started.ToString "yyyy-MM-dd HH:mm"; r.Status; setting r "layers"; setting r "optimizer"
                    setting r "batch"; setting r "seed"; string r.Epochs.Length; number (r.Final "test-accuracy")
                    sprintf "%.1f" (r.Epochs |> Array.sumBy (fun e -> e.Seconds)) ] ])
    0

let private show (args: ParseResults<ShowArgs>) =
    let store = openStore (args.TryGetResult ShowArgs.Runs)
    let r = get store (args.GetResult Id)
    printfn "run %d: %s" r.Id r.Status
    printfn "command   %s" r.Command
    printfn "started   %s UTC%s" (r.Started.ToString "yyyy-MM-dd HH:mm:ss") (match r.Finished with Some f -> sprintf ", finished %s UTC" (f.ToString "yyyy-MM-dd HH:mm:ss") | None -> "")
    match r.Sweep with Some s -> printfn "sweep     %s" s | None -> ()
    match r.Model with Some m -> printfn "model     %s (SHA-256 %s)" m (defaultArg r.ModelSha256 "not written") | None -> ()
    printfn "settings"
    for k, v in r.Settings do printfn "  %-12s %s" k v
    printfn "machine"
    for k, v in r.Machine do printfn "  %-12s %s" k v
    if r.Epochs.Length > 0 then
        table (
            [ "epoch"; "train loss"; "train accuracy"; "test loss"; "test accuracy"; "seconds" ]
            :: [ for e in r.Epochs ->
                  [ string e.Epoch; number e.TrainLoss; number e.TrainAccuracy; number e.TestLoss; number e.TestAccuracy; sprintf "%.2f" e.Seconds ] ])
    0

/// Runs side by side: the settings in which they differ, their final metrics, the best by a
/// metric marked.
let comparison (runs: RunRecord list) (metric: string) =
    let best = RunStore.Best(metric, runs)
    let differing = RunStore.DifferingSettings runs
    let bestId = best |> Option.map (fun b -> b.Id)
    table (
        [ yield "" :: [ for r in runs -> sprintf "run %d%s" r.Id (if Some r.Id = bestId then " (best)" else "") ]
          for k in differing do yield k :: [ for r in runs -> setting r k ]
          yield "epochs" :: [ for r in runs -> string r.Epochs.Length ]
          for m in RunMetric.names do
              let cell (r: RunRecord) = if m = "seconds" then sprintf "%.1f" (r.Epochs |> Array.sumBy (fun e -> e.Seconds)) else number (r.Final m)
              yield (if m = metric then m + " *" else m) :: [ for r in runs -> cell r ] ])
    match best with
    | Some b -> printfn "best by %s (%s is better): run %d, %s" metric (if RunMetric.higherIsBetter metric then "higher" else "lower") b.Id (number (b.Final metric))
    | None -> printfn "none of these runs has a %s" metric
    if differing.IsEmpty then printfn "(the runs have the same settings)"

let private compare (args: ParseResults<CompareArgs>) =
    let store = openStore (args.TryGetResult CompareArgs.Runs)
    let ids = args.GetResult CompareArgs.Ids
    if ids.Length < 2 then raise (Grad.UserError "compare: name two runs or more")
    let metric = checkMetric (args.GetResult(By, "test-accuracy"))
    comparison (ids |> List.map (get store)) metric
    0

let private plot (args: ParseResults<PlotArgs>) =
    let store = openStore (args.TryGetResult PlotArgs.Runs)
    let metric = checkMetric (args.GetResult(Metric, "test-accuracy"))
    let runs = args.GetResult PlotArgs.Ids |> List.map (get store)
    let out = args.GetResult Out
    let series =
        [ for r in runs ->
            sprintf "run %d (%s)" r.Id (setting r "layers"),
            r.Epochs |> Array.map (fun e -> float e.Epoch, RunMetric.value metric e) |> Array.filter (snd >> Double.IsFinite) ]
    Toolkit.Plot.Charts.lines (sprintf "%s per epoch" metric) "epoch" metric series |> Toolkit.Plot.Charts.save out
    printfn "wrote %s (%d runs)" out runs.Length
    0

/// Runs `toolkit runs …`; returns the exit code.
let run (args: ParseResults<RunsArgs>) : int =
    match args.GetSubCommand() with
    | List a -> list a
    | Show a -> show a
    | Compare a -> compare a
    | Plot a -> plot a
