/// `toolkit info`: which linear-algebra provider runs, from which library, with how many threads.
module Toolkit.Cli.Info

open Argu
open Toolkit.Linalg

/// The options of `toolkit info`.
type InfoArgs =
    | Json
    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Json -> "print one JSON object (provider, library, corename, config, threads, reason, training_threads)"

/// The networks whose thread choice `toolkit info` measures: the notes' and a wide one, at the
/// batch sizes they train with.
let private measured =
    [ "784-30-10 sigmoid, batch 10", [ 784; 30; 10 ], Toolkit.Nn.Activation.Sigmoid, Toolkit.Tensors.Loss.Quadratic, 10
      "784-256-128-10 ReLU, batch 128", [ 784; 256; 128; 10 ], Toolkit.Nn.Activation.Relu, Toolkit.Tensors.Loss.CrossEntropy, 128 ]

/// Runs `toolkit info`; returns the exit code.
let run (args: ParseResults<InfoArgs>) : int =
    // what `toolkit train` would choose for these networks now (it measures its own at its start);
    // the library's own thread count is reported as it was before
    let before = Blas.threads ()
    let choices =
        [ for name, sizes, hidden, loss, batch in measured ->
            let net = Toolkit.Nn.Network.create sizes hidden Toolkit.Nn.Activation.Softmax loss Toolkit.Nn.Init.He 1
            name, Toolkit.Nn.ThreadChoice.measure net batch true [ 1; System.Environment.ProcessorCount ] ]
    Blas.setThreads before
    let s = Blas.status ()
    if args.Contains Json then
        stdout.WriteLine(
            Json.objectText (fun w ->
                w.WriteString("provider", s.Provider)
                let opt (name: string) (v: string option) = match v with Some x -> w.WriteString(name, x) | None -> w.WriteNull(name)
                opt "library" s.Library
                opt "corename" s.CoreName
                opt "config" s.Config
                w.WriteNumber("threads", s.Threads)
                opt "reason" s.Reason
                w.WriteString("dotnet", System.Environment.Version.ToString())
                w.WriteNumber("cores", System.Environment.ProcessorCount)
                w.WriteStartArray("training_threads")
                for name, c in choices do
                    w.WriteStartObject()
                    w.WriteString("network", name)
                    w.WriteNumber("threads", c.Threads)
                    w.WriteStartObject("step_seconds_by_threads")
                    for t, sec in c.StepSeconds do w.WriteNumber(string t, sec)
                    w.WriteEndObject()
                    w.WriteEndObject()
                w.WriteEndArray()))
    else
        printfn "linear algebra: %s" s.Provider
        printfn "library:        %s" (defaultArg s.Library "-")
        printfn "core type:      %s" (defaultArg s.CoreName "-")
        printfn "configuration:  %s" (defaultArg s.Config "-")
        printfn "threads:        %d" s.Threads
        match s.Reason with
        | Some why -> printfn "note:           %s" why
        | None -> ()
        printfn ".NET:           %s on %d cores" (System.Environment.Version.ToString()) System.Environment.ProcessorCount
        printfn "training threads, measured now (toolkit train measures its own network at its start; --threads overrides):"
        for name, c in choices do
            printfn "  %-32s %d  (%s)" name c.Threads (if c.StepSeconds.IsEmpty then "one candidate" else string c)
    0
