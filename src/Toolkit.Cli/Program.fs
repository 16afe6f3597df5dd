/// The `toolkit` command line: a thin client of Toolkit.Core.
module Toolkit.Cli.Program

open System
open Argu

/// The commands.
type Command =
    | [<CliPrefix(CliPrefix.None)>] Grad of ParseResults<Grad.GradArgs>
    | [<CliPrefix(CliPrefix.None)>] Info of ParseResults<Info.InfoArgs>
    | [<CliPrefix(CliPrefix.None)>] Logreg of ParseResults<LogReg.LogRegArgs>
    | [<CliPrefix(CliPrefix.None)>] Train of ParseResults<TrainCmd.TrainArgs>
    | [<CliPrefix(CliPrefix.None)>] Eval of ParseResults<TrainCmd.ModelArgs>
    | [<CliPrefix(CliPrefix.None)>] Predict of ParseResults<TrainCmd.ModelArgs>
    | [<CliPrefix(CliPrefix.None)>] Plot of ParseResults<Plot.PlotArgs>
    | [<CliPrefix(CliPrefix.None)>] Export of ParseResults<Export.ExportArgs>
    | [<CliPrefix(CliPrefix.None)>] Import of ParseResults<Export.ImportArgs>
    | [<CliPrefix(CliPrefix.None)>] Runs of ParseResults<Runs.RunsArgs>
    | [<CliPrefix(CliPrefix.None)>] Sweep of ParseResults<Sweep.SweepArgs>
    | [<AltCommandLine("-V")>] Version
    interface IArgParserTemplate with
        member c.Usage =
            match c with
            | Grad _ -> "differentiate an expression: values, dvars, symbolic partials, pictures"
            | Info _ -> "which linear-algebra provider runs (OpenBLAS or managed), from where, with how many threads"
            | Logreg _ -> "logistic regression on two Fashion-MNIST classes by gradient descent"
            | Train _ -> "train a network on Fashion-MNIST (default: the notes' 784-30-10, sigmoid, quadratic, SGD η = 3, batch 10)"
            | Eval _ -> "a saved network's loss and accuracy on the test set"
            | Predict _ -> "a saved network's predictions for the first test images"
            | Plot _ -> "pictures: a saved network's loss landscape, the curves of a training run"
            | Export _ -> "a saved network as an ONNX model, for ONNX Runtime, PyTorch and other ONNX readers"
            | Import _ -> "an ONNX network (e.g. from torch.onnx.export) as a model file, to evaluate and train further"
            | Runs _ -> "the recorded runs (every train records into runs.db): list, show, compare, plot"
            | Sweep _ -> "train over a grid of settings (--set lr=0.01,0.1,1 …; the shared train options after --), several processes at a time, each run recorded"
            | Version -> "print the version"

/// Printed at the end of --help.
let private exitCodes =
    "exit codes: 0 done; 1 bad input (an expression, a file, a layer spec or a value that does not fit: one line on stderr); 2 bad usage; 3 grad --check failed or inconclusive; 130 interrupted (Ctrl-C), 143 terminated (SIGTERM): train keeps its last completed epoch"

/// Every command and option name, for "did you mean".
let private knownNames () =
    let names (p: ArgumentParser) = p.GetArgumentCases() |> List.collect (fun c -> c.CommandLineNames.Value)
    names (ArgumentParser.Create<Command>()) @ names (ArgumentParser.Create<Grad.GradArgs>()) @ names (ArgumentParser.Create<Info.InfoArgs>())
    @ names (ArgumentParser.Create<LogReg.LogRegArgs>()) @ names (ArgumentParser.Create<TrainCmd.TrainArgs>())
    @ names (ArgumentParser.Create<TrainCmd.ModelArgs>()) @ names (ArgumentParser.Create<Plot.PlotArgs>())
    @ names (ArgumentParser.Create<Plot.LandscapeArgs>()) @ names (ArgumentParser.Create<Plot.HistoryArgs>())
    @ names (ArgumentParser.Create<Export.ExportArgs>()) @ names (ArgumentParser.Create<Export.ImportArgs>())
    @ names (ArgumentParser.Create<Runs.RunsArgs>()) @ names (ArgumentParser.Create<Runs.ListArgs>())
    @ names (ArgumentParser.Create<Runs.CompareArgs>()) @ names (ArgumentParser.Create<Runs.PlotArgs>())
    @ names (ArgumentParser.Create<Sweep.SweepArgs>())
    |> List.distinct

/// The tool's version (the assembly's informational version).
let version () =
    let a = Reflection.Assembly.GetExecutingAssembly()
    match a.GetCustomAttributes(typeof<Reflection.AssemblyInformationalVersionAttribute>, false) with
    | [| :? Reflection.AssemblyInformationalVersionAttribute as v |] -> v.InformationalVersion
    | _ -> string (a.GetName().Version)

/// Runs the command line and returns the exit code (0 ok, 1 bad input, 2 bad usage, 3 failed check,
/// 130 interrupted by Ctrl-C, 143 by SIGTERM).
let run (argv: string[]) : int =
    let parser = ArgumentParser.Create<Command>(programName = "toolkit", helpTextMessage = exitCodes)
    try
        // `toolkit sweep … -- TRAIN OPTIONS`: what follows -- is passed to every run
        let argv, rest =
            match Array.tryFindIndex ((=) "--") argv with
            | Some i when argv.Length > 0 && argv.[0] = "sweep" -> argv.[.. i - 1], List.ofArray argv.[i + 1 ..]
            | _ -> argv, []
        let parsed = parser.ParseCommandLine(argv, raiseOnUsage = true)
        if parsed.Contains Version then
            printfn "toolkit %s" (version ())
            0
        else
        match parsed.TryGetSubCommand() with
        | Some (Grad a) -> Grad.run a
        | Some (Info a) -> Info.run a
        | Some (Logreg a) -> LogReg.run a
        | Some (Train a) -> TrainCmd.run a
        | Some (Eval a) -> TrainCmd.eval a
        | Some (Predict a) -> TrainCmd.predict a
        | Some (Plot a) -> Plot.run a
        | Some (Export a) -> Export.run a
        | Some (Import a) -> Export.import a
        | Some (Runs a) -> Runs.run a
        | Some (Sweep a) -> Sweep.run a rest
        | Some Version | None ->
            eprintfn "%s" (parser.PrintUsage())
            2
    with
    | :? ArguParseException as e when e.ErrorCode = ErrorCode.HelpText ->
        printfn "%s" e.Message
        0
    | :? ArguParseException as e ->
        // a misspelled command or option: the nearest known name first, then the usage
        let m = Text.RegularExpressions.Regex.Match(e.Message, "unrecognized argument: '([^']*)'")
        if m.Success then
            let word = m.Groups.[1].Value
            let known = knownNames ()
            let firstLine = e.Message.IndexOf '\n'
            // An unknown option before a command's file argument is taken as that argument, and Argu
            // then names the file: name the option instead (`toolkit eval --model m.json`).
            let unknownOption =
                if word.StartsWith "-" then None
                else
                    argv |> Array.takeWhile ((<>) word)
                    |> Array.tryFind (fun a -> a.Length > 2 && a.StartsWith "--" && Char.IsLetter a.[2] && not (List.contains a known))
            match unknownOption with
            | Some option ->
                eprintfn "ERROR: unrecognized option '%s'%s: it was read as the command's own argument, which is given without an option name, and '%s' was left over"
                    option (Toolkit.Suggest.didYouMean known option) word
            | None -> eprintfn "ERROR: unrecognized argument: '%s'%s" word (Toolkit.Suggest.didYouMean known word)
            eprintfn "%s" (if firstLine >= 0 then e.Message.Substring(firstLine + 1) else "")
        else eprintfn "%s" e.Message
        2
    | Grad.UserError msg ->
        eprintfn "error: %s" msg
        1
    | TrainCmd.Interrupted msg ->
        eprintfn "%s" msg
        Signals.exitCode ()
    | :? IO.InvalidDataException as e ->
        eprintfn "error: %s" e.Message
        1
    | :? IO.IOException as e ->
        eprintfn "error: %s" e.Message
        1
    | :? UnauthorizedAccessException as e ->
        eprintfn "error: %s" e.Message
        1
    // the core's typed errors: a layer spec or an expression that does not read (FormatException),
    // values or shapes that do not fit (ArgumentException), a loss that became NaN (ArithmeticException)
    | :? FormatException | :? ArgumentException | :? ArithmeticException as e ->
        eprintfn "error: %s" e.Message
        1

[<EntryPoint>]
let main argv =
    Console.OutputEncoding <- Text.UTF8Encoding(false)
    run argv
