/// `toolkit logreg`: logistic regression on two Fashion-MNIST classes, by gradient descent.
module Toolkit.Cli.LogReg

open System
open System.Diagnostics
open Argu
open Toolkit.Data
open Toolkit.Linalg
open Toolkit.Models

/// How the gradient is computed: the notes' three programs, or the matrix graph.
type Method =
    | Loops
    | Loop
    | Vectorized
    | Graph

/// The options of `toolkit logreg`.
type LogRegArgs =
    | [<Unique>] Classes of string
    | [<Unique>] Data of dir: string
    | [<Unique>] Steps of int
    | [<Unique>] Lr of float
    | [<Unique>] Tolerance of float
    | [<Unique>] Method of Method
    | Json
    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Classes _ -> "the two classes: negative,positive (default 0,1: T-shirt/top vs Trouser)"
            | Data _ -> sprintf "the folder with the IDX files (default %s)" FashionMnist.defaultDirectory
            | Steps _ -> "the most gradient-descent steps (default 500)"
            | Lr _ -> "the learning rate α (default 0.02)"
            | Tolerance _ -> "stop when no parameter moves more than this (default 1e-6)"
            | Method _ -> "how the gradient is computed: loops (samples × features), loop (samples, vector dw), vectorized (default), graph (the matrix graph's reverse mode)"
            | Json -> "print one JSON object as the last line (train_accuracy, test_accuracy, steps, cost_per_step, …)"

/// Runs `toolkit logreg`; returns the exit code.
let run (args: ParseResults<LogRegArgs>) : int =
    let classes = args.GetResult(Classes, "0,1")
    let negative, positive =
        match classes.Split(',') |> Array.map (fun s -> Int32.TryParse(s.Trim())) with
        | [| (true, a); (true, b) |] when a <> b && a >= 0 && a <= 9 && b >= 0 && b <= 9 -> a, b
        | _ -> raise (Grad.UserError(sprintf "--classes: '%s' is not two different labels 0–9, e.g. 0,1" classes))
    let steps = args.GetResult(Steps, 500)
    let lr = args.GetResult(Lr, 0.02)
    let tolerance = args.GetResult(Tolerance, 1e-6)
    if steps < 1 then raise (Grad.UserError(sprintf "--steps: %d is not a positive number of steps" steps))
    if not (lr > 0.0) then raise (Grad.UserError(sprintf "--lr: %g is not a positive learning rate" lr))
    let how = args.GetResult(Method, Vectorized)
    let gradient =
        match how with
        | Loops -> LogisticRegression.gradientLoops
        | Loop -> LogisticRegression.gradientLoop
        | Vectorized -> LogisticRegression.gradientVectorized
        | Graph -> LogisticRegression.gradientGraph
    let dir = args.GetResult(Data, FashionMnist.defaultDirectory)
    let data = FashionMnist.load dir
    let x, y = FashionMnist.binary negative positive data.Train
    let xt, yt = FashionMnist.binary negative positive data.Test
    let json = args.Contains Json
    if not json then
        printfn "%s (0) vs %s (1): %d training and %d test images, %d features; gradient: %A; %s"
            FashionMnist.classNames.[negative] FashionMnist.classNames.[positive] x.ColumnCount xt.ColumnCount x.RowCount how (Blas.describe ())
    let sw = Stopwatch.StartNew()
    let fit =
        try LogisticRegression.fit gradient lr tolerance steps x y (LogisticRegression.zeros x.RowCount)
        with Failure msg -> raise (Grad.UserError msg)
    let seconds = sw.Elapsed.TotalSeconds
    let trainAcc = LogisticRegression.accuracy fit.Params x y
    let testAcc = LogisticRegression.accuracy fit.Params xt yt
    if json then
        stdout.WriteLine(
            Json.objectText (fun w ->
                w.WriteString("classes", sprintf "%d,%d" negative positive)
                w.WriteString("method", (sprintf "%A" how).ToLowerInvariant())
                w.WriteNumber("train_accuracy", trainAcc)
                w.WriteNumber("test_accuracy", testAcc)
                w.WriteNumber("steps", fit.Steps)
                w.WriteBoolean("converged", fit.Converged)
                w.WriteNumber("learning_rate", lr)
                w.WriteNumber("seconds", seconds)
                w.WriteStartArray("cost_per_step")
                for c in fit.CostPerStep do Json.numberValue w c
                w.WriteEndArray()
                w.WriteString("provider", (Blas.status ()).Provider)))
    else
        let every = max 1 (fit.Steps / 10)
        for i in 0 .. every .. fit.CostPerStep.Length - 1 do
            printfn "  step %5d  cost %.6f" i fit.CostPerStep.[i]
        printfn "%d steps in %.2f s (%s)" fit.Steps seconds (if fit.Converged then "converged" else "step limit")
        printfn "final cost %.6f; train accuracy %.4f; test accuracy %.4f" (Array.last fit.CostPerStep) trainAcc testAcc
    0
