/// `toolkit plot landscape|history`: loss landscapes of a saved network, and the curves of a run.
module Toolkit.Cli.Plot

open System
open System.IO
open System.Text.Json
open Argu
open Toolkit
open Toolkit.Charts
open Toolkit.Data
open Toolkit.Nn
open Toolkit.Training

let private fail fmt = Printf.kprintf (fun s -> raise (Grad.UserError s)) fmt

/// The options of `toolkit plot landscape`.
type LandscapeArgs =
    | [<MainCommand; Mandatory; Unique>] Model of path: string
    | [<Unique>] Data of dir: string
    | Plane
    | [<Unique>] Range of float
    | [<Unique>] Points of int
    | [<Unique>] Samples of int
    | [<Unique>] Direction of kind: string
    | [<Unique>] Seed of int
    | [<Unique; AltCommandLine("-o")>] Out of file: string
    | Json
    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Model _ -> "a model file saved by toolkit train --save"
            | Data _ -> sprintf "the folder with the IDX files (its t10k files are read; default %s)" FashionMnist.defaultDirectory
            | Plane -> "a plane of two directions, L(W + a·W1 + b·W2) (default: one direction, L(W + a·W1))"
            | Range _ -> "a and b run from -R to R (default 1)"
            | Points _ -> "points along each axis (default 51)"
            | Samples _ -> "the first N test images to measure the loss on (default 2000; 10000 for all)"
            | Direction _ -> "per-unit (default: each unit's weights scaled to the network's, biases still) or gaussian (N(0,1) entries)"
            | Seed _ -> "seed of the random directions (default 1)"
            | Out _ -> "write the picture here: .svg (static, default landscape.svg) or .html (interactive, Plotly)"
            | Json -> "print the values as one JSON object"

/// The options of `toolkit plot history`.
type HistoryArgs =
    | [<MainCommand; Mandatory; Unique>] Run of path: string
    | [<Unique; AltCommandLine("-o")>] Out of file: string
    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Run _ -> "the JSON that toolkit train --json printed (its last line), saved to a file"
            | Out _ -> "write the curves here: .svg (static, default curves.svg) or .html (interactive, Plotly)"

/// The options of `toolkit plot`.
type PlotArgs =
    | [<CliPrefix(CliPrefix.None)>] Landscape of ParseResults<LandscapeArgs>
    | [<CliPrefix(CliPrefix.None)>] History of ParseResults<HistoryArgs>
    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Landscape _ -> "a saved network's loss along a random direction, or over a plane of two"
            | History _ -> "loss and accuracy per epoch of a training run"

/// Runs `toolkit plot landscape MODEL`.
let landscape (args: ParseResults<LandscapeArgs>) : int =
    let path = args.GetResult Model
    let net, classes = ModelFile.read path
    let range = args.GetResult(Range, 1.0)
    let points = args.GetResult(Points, 51)
    let samples = args.GetResult(Samples, 2000)
    if not (range > 0.0) || Double.IsInfinity range then fail "--range: %g is not a positive number" range
    if points < 2 || points > 501 then fail "--points: %d is not between 2 and 501" points
    if samples < 1 then fail "--samples: %d is not a positive number of images" samples
    let scale =
        match args.GetResult(Direction, "per-unit").ToLowerInvariant() with
        | "per-unit" | "filter" -> DirectionScale.PerUnit
        | "gaussian" | "normal" -> DirectionScale.Gaussian
        | d -> fail "--direction: '%s' is not per-unit or gaussian" d
    let seed = args.GetResult(Seed, 1)
    let out = args.GetResult(LandscapeArgs.Out, "landscape.svg")
    Pictures.checkPath out
    let test, _, _ = TrainCmd.testSet (TrainCmd.dataAt (args.GetResult(Data, FashionMnist.defaultDirectory))) net classes
    let data = if samples >= test.Labels.Length then test else Train.subset test [| 0 .. samples - 1 |]
    let grid = Landscape.grid range points
    let d1 = Landscape.direction net scale seed
    let name = Path.GetFileName path
    let kind = if scale = DirectionScale.PerUnit then "per-unit directions" else "Gaussian directions"
    let json = args.Contains LandscapeArgs.Json
    let svg, html =
        if args.Contains Plane then
            let d2 = Landscape.direction net scale (seed + 1)
            let p = Landscape.plane net data d1 d2 grid grid
            if json then
                stdout.WriteLine(
                    Json.objectText (fun w ->
                        Json.numbers w "alphas" p.Alphas
                        Json.numbers w "betas" p.Betas
                        w.WriteStartArray("loss")
                        for i in 0 .. p.Alphas.Length - 1 do Json.numbers w null [| for j in 0 .. p.Betas.Length - 1 -> p.Loss.[i, j] |]
                        w.WriteEndArray()
                        w.WriteNumber("samples", data.Labels.Length)))
            let title = sprintf "%s: L(W + a·W1 + b·W2), %s" name kind
            (fun () -> Heatmap.svg title "a" "b" true p.Alphas p.Betas p.Loss []), (fun () -> Toolkit.Plot.Charts.landscapePlane title p)
        else
            let l = Landscape.line net data d1 grid
            if json then
                stdout.WriteLine(
                    Json.objectText (fun w ->
                        Json.numbers w "alphas" l.Alphas
                        Json.numbers w "loss" l.Loss
                        Json.numbers w "accuracy" l.Accuracy
                        w.WriteNumber("samples", data.Labels.Length)))
            let title = sprintf "%s: L(W + a·W1), %s" name kind
            (fun () ->
                LineChart.stack
                    [ LineChart.svg title "a" "mean loss" false [ { Name = "loss"; Points = Array.zip l.Alphas l.Loss } ]
                      LineChart.svg "accuracy along the same direction" "a" "accuracy" false [ { Name = "accuracy"; Points = Array.zip l.Alphas l.Accuracy } ] ]),
            (fun () -> Toolkit.Plot.Charts.landscapeLine title l)
    Pictures.write out svg html
    if not json then printfn "wrote %s (%d images, %s)" out data.Labels.Length kind
    0

/// Runs `toolkit plot history RUN.json`.
let history (args: ParseResults<HistoryArgs>) : int =
    let path = args.GetResult Run
    let out = args.GetResult(HistoryArgs.Out, "curves.svg")
    Pictures.checkPath out
    let text = File.ReadAllText path
    // the whole file, or the last line that is a JSON object (a saved `train --json` output)
    let line =
        text.Split('\n') |> Array.map (fun l -> l.Trim()) |> Array.filter (fun l -> l.StartsWith "{") |> Array.tryLast
        |> Option.defaultWith (fun () -> fail "%s: no JSON object found (save the last line of toolkit train --json)" path)
    let root =
        try JsonDocument.Parse(line).RootElement.Clone()
        with :? JsonException as e -> fail "%s: not valid JSON (%s)" path e.Message
    let series (name: string) =
        match root.TryGetProperty name with
        | true, v when v.ValueKind = JsonValueKind.Array ->
            // null stands for a value JSON cannot hold (the NaN accuracy of real-valued targets)
            [| for e in v.EnumerateArray() ->
                 match e.ValueKind with
                 | JsonValueKind.Number -> e.GetDouble()
                 | JsonValueKind.Null -> nan
                 | _ -> fail "%s: \"%s\" holds %s, not a number" path name (e.GetRawText()) |]
        | _ -> fail "%s: no \"%s\" array; is this the output of toolkit train --json?" path name
    let curves : Pictures.Curves =
        { Title = Path.GetFileNameWithoutExtension path
          TrainLoss = series "train_loss_per_epoch"; TestLoss = series "test_loss_per_epoch"
          TrainAccuracy = series "train_accuracy_per_epoch"; TestAccuracy = series "test_accuracy_per_epoch" }
    Pictures.writeCurves out curves
    printfn "wrote %s" out
    0

/// Runs `toolkit plot …`.
let run (args: ParseResults<PlotArgs>) : int =
    match args.TryGetSubCommand() with
    | Some (Landscape a) -> landscape a
    | Some (History a) -> history a
    | None -> fail "plot: say what to plot: landscape MODEL or history RUN.json"
