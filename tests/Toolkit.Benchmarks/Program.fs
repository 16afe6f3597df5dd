/// `dotnet run --project tests/Toolkit.Benchmarks -c Release -- graph|csharp|linalg|train|activations|scale|accuracy|cnn|machine [--write docs/performance.md]`
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

/// The machine the benchmarks ran on: CPU, cores, memory, OS, runtime, OpenBLAS, the Python peers.
let machine () : string list =
    let firstLine (path: string) (key: string) =
        try IO.File.ReadLines path |> Seq.tryFind (fun l -> l.StartsWith key) |> Option.map (fun l -> l.Substring(l.IndexOfAny [| ':'; '=' |] + 1).Trim().Trim('"'))
        with _ -> None
    let python =
        try
            let psi = ProcessStartInfo("/usr/bin/python3", "-c \"import sys, numpy, torch; print(sys.version.split()[0], numpy.__version__, torch.__version__)\"", RedirectStandardOutput = true, RedirectStandardError = true)
            use p = Process.Start psi
            let out = p.StandardOutput.ReadToEnd().Trim()
            p.WaitForExit()
            if p.ExitCode = 0 then (let v = out.Split ' ' in sprintf "Python %s, NumPy %s, PyTorch %s (Debian packages, /usr/bin/python3)" v.[0] v.[1] v.[2]) else "not installed"
        with _ -> "not installed"
    let get = Option.defaultValue "unknown"
    [ "| | |"
      "|---|---|"
      sprintf "| CPU | %s |" (get (firstLine "/proc/cpuinfo" "model name"))
      sprintf "| cores the process sees | %d |" Environment.ProcessorCount
      sprintf "| memory | %s |" (firstLine "/proc/meminfo" "MemTotal" |> Option.map (fun v -> sprintf "%.1f GiB" (float (v.Split(' ').[0]) / 1048576.0)) |> get)
      sprintf "| SIMD (.NET) | %d float32 lanes per Vector<T> |" Numerics.Vector<float32>.Count
      sprintf "| OS | %s |" (get (firstLine "/etc/os-release" "PRETTY_NAME"))
      sprintf "| .NET | %s |" (Environment.Version.ToString())
      sprintf "| BLAS | %s |" (Toolkit.Linalg.Blas.describe ())
      sprintf "| peers | %s |" python ]

[<EntryPoint>]
let main argv =
    let write name lines extra =
        match Array.tryFindIndex ((=) "--write") argv with
        | Some i when i + 1 < argv.Length -> writeSection argv.[i + 1] name lines extra
        | _ -> ()
    match List.ofArray argv with
    | "graph" :: _ ->
        // the Python engines stop at 10⁶ nodes: micrograd's process passes 1 GB there
        let sizes = [ 10_000; 100_000; 1_000_000; 10_000_000 ]
        let rows =
            [ for n in sizes do
                for name, make, tape in [ "chain", GraphBench.chain, GraphBench.chainTape; "wide", GraphBench.wide, GraphBench.wideTape ] ->
                    eprintfn "measuring %s at %d nodes…" name n
                    GraphBench.measure name make tape n (if n >= 1_000_000 then 3 else 7) (n <= 1_000_000) ]
        let table = GraphBench.report rows
        let peak = float (Process.GetCurrentProcess().PeakWorkingSet64) / 1e6
        printfn "\nToolkit process peak working set: %.0f MB" peak
        write "graph" table (sprintf "; Toolkit process peak working set %.0f MB" peak)
        0
    | "linalg" :: _ ->
        write "linalg" (LinalgBench.run ()) ""
        0
    | "train" :: rest ->
        // `train --runs N` for a quick look; the page's table is 3 runs under each kernel setting
        let runs = match rest with "--runs" :: n :: _ -> int n | _ -> 3
        write "train" (TrainBench.run 3 runs) ""
        0
    | [ "cnn-gemm-limit"; threads ] ->
        printfn "%s" (TrainBench.cnnGemmLimitJson (int threads))
        0
    | [ "gemm-limit"; key; threads ] ->
        printfn "%s" (TrainBench.gemmLimitJson key (int threads))
        0
    | "csharp" :: _ ->
        write "csharp" (CSharpBench.table ()) ""
        0
    | "activations" :: _ ->
        write "activations" (ActivationBench.run ()) ""
        0
    | "accuracy" :: _ ->
        write "accuracy" (TrainBench.accuracy [ 1; 2; 3; 4; 5 ]) ""
        0
    | "cnn" :: rest ->
        // `cnn --epochs N` for a quick look; the page's table is 3 seeds × 10 epochs
        let epochs = match rest with "--epochs" :: n :: _ -> int n | _ -> 10
        write "cnn" (TrainBench.cnn [ 1; 2; 3 ] epochs) ""
        0
    | "machine" :: _ ->
        let lines = machine ()
        lines |> List.iter (printfn "%s")
        write "machine" lines ""
        0
    | "scale" :: rest ->
        // the charts go beside the page, in its img folder
        let imgDir = match rest with [ "--write"; path ] -> Some(IO.Path.Combine(IO.Path.GetDirectoryName(IO.Path.GetFullPath path), "img")) | _ -> None
        let lines = ScaleBench.run imgDir
        lines |> List.iter (printfn "%s")
        write "scale" lines ""
        0
    | _ ->
        eprintfn "usage: Toolkit.Benchmarks graph|csharp|linalg|train|activations|scale|accuracy|cnn|machine [--write PAGE.md]"
        2
