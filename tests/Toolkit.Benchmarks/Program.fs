/// `dotnet run --project tests/Toolkit.Benchmarks -c Release -- graph|linalg [--write docs/performance.md]`
module Toolkit.Benchmarks.Program

open System
open System.Diagnostics
open Toolkit

/// Replaces the text between <!-- bench:NAME --> and <!-- /bench:NAME --> in a page, atomically.
let writeSection (path: string) (name: string) (lines: string list) (extra: string) =
    let template = IO.File.ReadAllText(path)
    let startMark, endMark = sprintf "<!-- bench:%s -->" name, sprintf "<!-- /bench:%s -->" name
    let i, j = template.IndexOf startMark, template.IndexOf endMark
    if i < 0 || j < i then failwithf "%s has no %s … %s section" path startMark endMark
    let stamp =
        sprintf "Measured %s on %s (%d cores), .NET %s%s." (DateTime.UtcNow.ToString "yyyy-MM-dd") Environment.MachineName
            Environment.ProcessorCount (Environment.Version.ToString()) extra
    let body = String.Join("\n", lines) + "\n\n" + stamp + "\n"
    AtomicFile.writeAllText path (template.Substring(0, i + startMark.Length) + "\n" + body + template.Substring j)
    printfn "wrote %s" path

[<EntryPoint>]
let main argv =
    let write name lines extra =
        match List.ofArray argv |> List.tail with
        | [ "--write"; path ] -> writeSection path name lines extra
        | _ -> ()
    match List.ofArray argv with
    | "graph" :: _ ->
        let sizes = [ 10_000; 100_000; 1_000_000 ]
        let rows =
            [ for n in sizes do
                for name, make, tape in [ "chain", GraphBench.chain, GraphBench.chainTape; "wide", GraphBench.wide, GraphBench.wideTape ] ->
                    eprintfn "measuring %s at %d nodes…" name n
                    GraphBench.measure name make tape n (if n >= 1_000_000 then 5 else 7) ]
        let table = GraphBench.report rows
        let peak = float (Process.GetCurrentProcess().PeakWorkingSet64) / 1e6
        printfn "\nToolkit process peak working set: %.0f MB" peak
        write "graph" table (sprintf "; Toolkit process peak working set %.0f MB" peak)
        0
    | "linalg" :: _ ->
        write "linalg" (LinalgBench.run ()) ""
        0
    | "train" :: _ ->
        write "train" (TrainBench.run 3) ""
        0
    | _ ->
        eprintfn "usage: Toolkit.Benchmarks graph|linalg|train [--write PAGE.md]"
        2
