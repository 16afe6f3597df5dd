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

/// Runs the command line and returns the exit code (0 ok, 1 bad input, 2 bad usage, 3 failed check,
/// 130 interrupted by Ctrl-C).
let run (argv: string[]) : int =
    let parser = ArgumentParser.Create<Command>(programName = "toolkit")
    try
        let parsed = parser.ParseCommandLine(argv, raiseOnUsage = true)
        match parsed.TryGetSubCommand() with
        | Some (Grad a) -> Grad.run a
        | Some (Info a) -> Info.run a
        | Some (Logreg a) -> LogReg.run a
        | Some (Train a) -> TrainCmd.run a
        | Some (Eval a) -> TrainCmd.eval a
        | Some (Predict a) -> TrainCmd.predict a
        | Some (Plot a) -> Plot.run a
        | None ->
            eprintfn "%s" (parser.PrintUsage())
            2
    with
    | :? ArguParseException as e when e.ErrorCode = ErrorCode.HelpText ->
        printfn "%s" e.Message
        0
    | :? ArguParseException as e ->
        eprintfn "%s" e.Message
        2
    | Grad.UserError msg ->
        eprintfn "error: %s" msg
        1
    | TrainCmd.Interrupted msg ->
        eprintfn "%s" msg
        130
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
