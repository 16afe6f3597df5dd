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
            | Json -> "print one JSON object (provider, library, corename, config, threads, reason)"

/// Runs `toolkit info`; returns the exit code.
let run (args: ParseResults<InfoArgs>) : int =
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
                w.WriteNumber("cores", System.Environment.ProcessorCount)))
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
    0
