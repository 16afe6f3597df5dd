/// `dotnet run --project tests/Toolkit.Benchmarks -c Release -- graph [--write docs/performance.md]`
module Toolkit.Benchmarks.Program

open System
open System.Diagnostics
open Toolkit

[<EntryPoint>]
let main argv =
    match List.ofArray argv with
    | "graph" :: rest ->
        let sizes = [ 10_000; 100_000; 1_000_000 ]
        let rows =
            [ for n in sizes do
                for name, make, tape in [ "chain", GraphBench.chain, GraphBench.chainTape; "wide", GraphBench.wide, GraphBench.wideTape ] ->
                    eprintfn "measuring %s at %d nodes…" name n
                    GraphBench.measure name make tape n (if n >= 1_000_000 then 5 else 7) ]
        let table = GraphBench.report rows
        let peak = Process.GetCurrentProcess().PeakWorkingSet64
        printfn "\nToolkit process peak working set: %.0f MB" (float peak / 1e6)
        match rest with
        | [ "--write"; path ] ->
            let template = IO.File.ReadAllText(path)
            let startMark, endMark = "<!-- bench:graph -->", "<!-- /bench:graph -->"
            let i, j = template.IndexOf startMark, template.IndexOf endMark
            if i < 0 || j < i then failwithf "%s has no %s … %s section" path startMark endMark
            let stamp = sprintf "Measured %s on %s (%d cores), .NET %s; Toolkit process peak working set %.0f MB." (DateTime.UtcNow.ToString "yyyy-MM-dd") Environment.MachineName Environment.ProcessorCount (Environment.Version.ToString()) (float peak / 1e6)
            let body = String.Join("\n", table) + "\n\n" + stamp + "\n"
            AtomicFile.writeAllText path (template.Substring(0, i + startMark.Length) + "\n" + body + template.Substring j)
            printfn "wrote %s" path
        | _ -> ()
        0
    | "linalg" :: rest ->
        let table = LinalgBench.run ()
        match rest with
        | [ "--write"; path ] ->
            let template = IO.File.ReadAllText(path)
            let startMark, endMark = "<!-- bench:linalg -->", "<!-- /bench:linalg -->"
            let i, j = template.IndexOf startMark, template.IndexOf endMark
            if i < 0 || j < i then failwithf "%s has no %s … %s section" path startMark endMark
            let stamp = sprintf "Measured %s on %s (%d cores), .NET %s." (DateTime.UtcNow.ToString "yyyy-MM-dd") Environment.MachineName Environment.ProcessorCount (Environment.Version.ToString())
            let body = String.Join("\n", table) + "\n\n" + stamp + "\n"
            AtomicFile.writeAllText path (template.Substring(0, i + startMark.Length) + "\n" + body + template.Substring j)
            printfn "wrote %s" path
        | _ -> ()
        0
    | _ ->
        eprintfn "usage: Toolkit.Benchmarks graph|linalg [--write PAGE.md]"
        2
