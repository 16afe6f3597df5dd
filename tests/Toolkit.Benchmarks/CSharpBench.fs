/// The scalar graph built from C# with the facade's operators (tests/Toolkit.CSharpBench, a C#
/// program as a C# user writes it), on Scalars and on a Tape, beside the micrograd-style Python
/// engine, in the same run.
module Toolkit.Benchmarks.CSharpBench

open System.Diagnostics
open System.IO
open System.Text.Json

let private root = Path.Combine(__SOURCE_DIRECTORY__, "..", "..")

// TrainBench's runner; a program that cannot start is a cell "not run"
let private run (file: string) (args: string) (env: (string * string) list) : JsonElement option =
    try TrainBench.runJson file args env with _ -> None

let table () : string list =
    let csharp = Path.Combine(root, "tests", "Toolkit.CSharpBench", "bin", "Release", "net10.0", "Toolkit.CSharpBench.dll")
    let micrograd = Path.Combine(root, "scripts", "micrograd_bench.py")
    let lines = ResizeArray<string>()
    let add (s: string) = lines.Add s; printfn "%s" s
    add "Build the graph with operators, then backward, one process per graph, size and API, median of the runs (at least 5, and at least 1 s of them) in milliseconds, the collector run between runs (outside the timing) on both sides; the same graphs in all, the same value and first dvar. `Scalar`: one object per node; `Tape`: a new `Tape` each run, its nodes `TapeScalar` values in its arrays. The C# program runs with a new console application's settings, and the `Scalar` side again with the concurrent (background) collector off (`<ConcurrentGarbageCollection>false</ConcurrentGarbageCollection>` in a project, here `DOTNET_gcConcurrent=0`)."
    add ""
    add "| graph | nodes | C# `Scalar`, ms | C# `Tape`, ms | micrograd-style Python, ms | Python ÷ `Scalar` | Python ÷ `Tape` | `Scalar`, concurrent GC off, ms | Python ÷ `Scalar`, concurrent GC off | same value and dvar |"
    add "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    for graph in [ "chain"; "wide"; "neuron" ] do
        for n in [ 1_000; 10_000; 100_000; 1_000_000 ] do
            let ours = run "dotnet" (sprintf "%s %s %d 5 1.0 scalar" csharp graph n) []
            let tape = run "dotnet" (sprintf "%s %s %d 5 1.0 tape" csharp graph n) []
            let blocking = run "dotnet" (sprintf "%s %s %d 5 1.0 scalar" csharp graph n) [ "DOTNET_gcConcurrent", "0" ]
            let theirs = run "/usr/bin/python3" (sprintf "%s %s %d 5 micrograd 1.0" micrograd graph n) []
            let secs (j: JsonElement option) = j |> Option.map (fun j -> j.GetProperty("seconds").GetDouble())
            let cell = function
                | Some (s: float) -> let ms = 1000.0 * s in if ms >= 100.0 then sprintf "%.0f" ms elif ms >= 10.0 then sprintf "%.1f" ms elif ms >= 1.0 then sprintf "%.2f" ms else sprintf "%.3g" ms
                | None -> "not run"
            let ratioOf ours = match secs ours, secs theirs with Some o, Some t -> sprintf "%.2f×" (t / o) | _ -> "–"
            let agree =
                match ours, tape, blocking, theirs with
                | Some o, Some p, Some b, Some t ->
                    let close (a: float) (b: float) = abs (a - b) <= 1e-9 * max 1.0 (max (abs a) (abs b))
                    let same (o: JsonElement) = close (o.GetProperty("value").GetDouble()) (t.GetProperty("value").GetDouble()) && close (o.GetProperty("grad0").GetDouble()) (t.GetProperty("grad0").GetDouble())
                    if same o && same p && same b then "yes" else "NO"
                | _ -> "–"
            add (sprintf "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |" graph n (cell (secs ours)) (cell (secs tape)) (cell (secs theirs)) (ratioOf ours) (ratioOf tape) (cell (secs blocking)) (ratioOf blocking) agree)
    lines |> List.ofSeq
