/// Training the notes' networks on Fashion-MNIST: Toolkit against NumPy and PyTorch written the
/// same way, in the same run, and the GEMM limit of each configuration.
module Toolkit.Benchmarks.TrainBench

open System
open System.Diagnostics
open System.IO
open System.Text.Json
open Toolkit.Linalg

type Config =
    { Name: string
      Key: string
      Layers: int list
      Batch: int
      ToolkitArgs: string }

let configs =
    [ { Name = "784-30-10, sigmoid, quadratic, SGD η = 3, batch 10"; Key = "small"; Layers = [ 784; 30; 10 ]; Batch = 10; ToolkitArgs = "" }
      { Name = "784-256-128-10, ReLU, softmax cross-entropy, momentum 0.9, η = 0.05, batch 128"; Key = "wide"; Layers = [ 784; 256; 128; 10 ]; Batch = 128
        ToolkitArgs = "--layers 784,256,128,10 --activation relu --output softmax --loss cross-entropy --optimizer momentum --lr 0.05 --momentum 0.9 --batch 128" } ]

let private root = Path.Combine(__SOURCE_DIRECTORY__, "..", "..")
let private data = Toolkit.Data.FashionMnist.defaultDirectory
let private toolkitDll = Path.Combine(root, "src", "Toolkit.Cli", "bin", "Release", "net10.0", "toolkit.dll")

/// Runs a command, returns its last stdout line parsed as JSON (None if it failed). An
/// environment value of null removes the variable.
let runJson (file: string) (args: string) (env: (string * string) list) =
    let psi = ProcessStartInfo(file, args, RedirectStandardOutput = true, RedirectStandardError = true)
    for k, v in env do
        if isNull v then psi.Environment.Remove k |> ignore else psi.Environment.[k] <- v
    use p = Process.Start psi
    let out = p.StandardOutput.ReadToEnd()
    p.StandardError.ReadToEnd() |> ignore
    p.WaitForExit()
    if p.ExitCode <> 0 then None
    else out.Trim().Split('\n') |> Array.last |> fun l -> Some(JsonDocument.Parse(l).RootElement.Clone())

let private median (xs: float[]) = let s = Array.sort xs in s.[s.Length / 2]

/// Seconds for an epoch of <c>batches</c> steps, each the given SGEMM calls (transposes and
/// m, n, k), each timed over <c>reps</c> calls, the faster of OpenBLAS running it whole on its
/// own threads and Toolkit's threads sharing its parts; and the epoch's FLOPs.
let private epochOfGemms (shapes: (bool * bool * int * int * int) list) (batches: int) (reps: int) =
    let seconds =
        shapes |> List.sumBy (fun (ta, tb, m, n, k) ->
            let a = Array.create (m * k) 0.5f
            let bm = Array.create (k * n) 0.25f
            let cc = Array.zeroCreate (m * n)
            let lda, ldb = (if ta then k else m), (if tb then n else k)
            let time () =
                Blas.sgemm ta tb m n k 1.0f a lda bm ldb 0.0f cc m
                let sw = Stopwatch.StartNew()
                for _ in 1 .. reps do Blas.sgemm ta tb m n k 1.0f a lda bm ldb 0.0f cc m
                sw.Elapsed.TotalSeconds / float reps
            let parts = time ()
            Blas.useOpenBlasThreads true
            let whole = try time () finally Blas.useOpenBlasThreads false
            min parts whole)
    let flops = shapes |> List.sumBy (fun (_, _, m, n, k) -> 2.0 * float m * float n * float k) |> fun f -> f * float batches
    seconds * float batches, flops

/// Seconds for one epoch's worth of the configuration's products as SGEMM calls with the
/// fast path's shapes and transpose flags (Z = W·A, dW = δ·Aᵀ, and dA = Wᵀ·δ for all but the
/// first layer), at its batch size, on the given number of threads: the GEMM limit.
let gemmLimit (c: Config) (threads: int) =
    Blas.setThreads threads
    let batches = (60000 + c.Batch - 1) / c.Batch
    let b = c.Batch
    let shapes =
        [ for nIn, nOut in List.pairwise c.Layers do
            yield false, false, nOut, b, nIn          // Z = W·A: (nOut×nIn)·(nIn×b)
            yield false, true, nOut, nIn, b           // dW = δ·Aᵀ
            if nIn <> List.head c.Layers then yield true, false, nIn, b, nOut ] // dA = Wᵀ·δ
    epochOfGemms shapes batches 2000

/// The two OpenBLAS kernel settings the training table is measured under: the machine's own
/// (whatever its environment says) and the other one of "OPENBLAS_CORETYPE=Haswell" and
/// OpenBLAS's own choice; each with the environment its processes run in.
let kernelSettings () : (string * (string * string) list) list =
    let own = Environment.GetEnvironmentVariable "OPENBLAS_CORETYPE"
    if String.IsNullOrEmpty own then
        [ "OpenBLAS's own kernel choice (this machine's setting)", []
          "OPENBLAS_CORETYPE=Haswell", [ "OPENBLAS_CORETYPE", "Haswell" ] ]
    else
        [ sprintf "OPENBLAS_CORETYPE=%s (this machine's setting)" own, []
          "OpenBLAS's own kernel choice", [ "OPENBLAS_CORETYPE", null; "OPENBLAS_L2_SIZE", null ] ]

/// A GEMM limit (seconds, FLOPs) and this process's OpenBLAS as one JSON line.
let private limitJson (seconds: float, flops: float) =
    sprintf "{\"seconds\": %g, \"flops\": %g, \"blas\": %s}" seconds flops (JsonSerializer.Serialize(Blas.describe ()))

/// `Toolkit.Benchmarks gemm-limit KEY THREADS`: the configuration's GEMM limit in this process's
/// kernels, as one JSON line (the training table runs it under each kernel setting).
let gemmLimitJson (key: string) (threads: int) =
    let c = configs |> List.find (fun c -> c.Key = key)
    limitJson (gemmLimit c threads)

let private benchDll = Reflection.Assembly.GetExecutingAssembly().Location

/// The training table: under each kernel setting, <c>runs</c> repetitions of every configuration
/// trained by Toolkit (its default threads, and one thread), NumPy and PyTorch, one after the
/// other in the same run; the median and spread of each one's seconds per epoch (each run's
/// median epoch), its accuracy and peak memory, the best peer's time over Toolkit's in each run,
/// and the GEMM limit of each setting and thread count.
let run (epochs: int) (runs: int) : string list =
    let lines = ResizeArray<string>()
    let add (s: string) = lines.Add s; printfn "%s" s
    let secs (j: JsonElement) = median [| for e in j.GetProperty("seconds_per_epoch").EnumerateArray() -> e.GetDouble() |]
    let acc (j: JsonElement) = (j.GetProperty("test_accuracy_per_epoch").EnumerateArray() |> Seq.last).GetDouble()
    let mem (j: JsonElement) = j.GetProperty("peak_memory_mb").GetDouble()
    let plural n = if n = 1 then "" else "s"
    add (sprintf "Fashion-MNIST, %d epochs each, %d runs under each kernel setting, every implementation in each run; seconds per epoch are each run's median epoch (training only), then the median and the range over the runs." epochs runs)
    add ""
    add "| kernels | configuration | implementation | s/epoch (median) | range | test accuracy (median) | peak memory (largest) | Toolkit ÷ best peer (time), each run |"
    add "|---|---|---|---:|---|---:|---:|---|"
    for setting, env in kernelSettings () do
        for c in configs do
            // the rule's count: one thread for the small network; above it toolkit train measures
            let threads = Toolkit.Nn.FastPath.suggestedThreads c.Layers c.Batch
            let toolkit t = runJson "dotnet" (sprintf "%s train %s --epochs %d%s --json" toolkitDll c.ToolkitArgs epochs (match t with Some t -> sprintf " --threads %d" t | None -> "")) env
            let py script extra = runJson "/usr/bin/python3" (sprintf "%s %s %s %d" (Path.Combine(root, "scripts", script)) data c.Key epochs) (env @ extra)
            let impls =
                [ yield (if threads = 1 then "Toolkit (float32, 1 thread: the default)" else "Toolkit (float32, the default: threads measured at the start and every 200 batches)"), (fun () -> toolkit None)
                  if threads <> 1 then yield "Toolkit (float32, 1 thread)", (fun () -> toolkit (Some 1))
                  yield "NumPy (float32, vectorized by batch; OpenBLAS's default threads)", (fun () -> py "train_numpy.py" [])
                  yield "PyTorch 1.13 CPU (float32, 1 thread)", (fun () -> py "train_torch.py" [ "OPENBLAS_NUM_THREADS", "1" ]) ]
            // runs × implementations, each run every implementation in turn
            let results = [ for _ in 1 .. runs -> [ for name, f in impls -> name, f () ] ]
            let ofImpl name = results |> List.map (fun r -> r |> List.find (fst >> (=) name) |> snd)
            let peerBest (r: (string * JsonElement option) list) =
                r |> List.filter (fun (n, _) -> not (n.StartsWith "Toolkit")) |> List.choose (snd >> Option.map secs) |> function [] -> None | l -> Some(List.min l)
            for name, _ in impls do
                let js = ofImpl name |> List.choose id
                if js.IsEmpty then add (sprintf "| %s | %s | %s | not run | | | | |" setting c.Name name)
                else
                    let ss = js |> List.map secs |> Array.ofList
                    let ratios =
                        if name.StartsWith "Toolkit" then
                            results |> List.map (fun r ->
                                match r |> List.find (fst >> (=) name) |> snd, peerBest r with
                                | Some j, Some p -> sprintf "%.2f" (secs j / p)
                                | _ -> "–")
                            |> fun l -> String.Join(" / ", l)
                        else "–"
                    let chosen =
                        if name.Contains "measured" then
                            sprintf " (chose %s)" (String.Join(", ", js |> List.map (fun j -> match j.TryGetProperty "threads" with | true, t -> string (t.GetInt32()) | _ -> "?")))
                        else ""
                    add (sprintf "| %s | %s | %s%s | %.3f | %.3f–%.3f | %.4f | %.0f MB | %s |" setting c.Name name chosen (median ss) (Array.min ss) (Array.max ss)
                             (median (js |> List.map acc |> Array.ofList)) (js |> List.map mem |> List.max) ratios)
            for t in [ 1; 2 ] do
                // Toolkit's rows at this thread count (the small network runs on one thread only)
                let ours =
                    if t = threads then ofImpl (fst impls.Head) |> List.choose id
                    elif t = 1 then ofImpl "Toolkit (float32, 1 thread)" |> List.choose id
                    else []
                match (if ours.IsEmpty then None else runJson "dotnet" (sprintf "%s gemm-limit %s %d" benchDll c.Key t) env) with
                | Some j ->
                    let limit, flops = j.GetProperty("seconds").GetDouble(), j.GetProperty("flops").GetDouble()
                    let o = median (ours |> List.map secs |> Array.ofList)
                    add (sprintf "| %s | %s | GEMM limit, %d thread%s: %.1f GFLOP per epoch as SGEMM calls at these shapes, each the faster of OpenBLAS whole on its own threads and cut into parts on Toolkit's (%s) | %.3f | | | | Toolkit at %.0f%% of it |"
                             setting c.Name t (plural t) (flops / 1e9) (j.GetProperty("blas").GetString()) limit (100.0 * limit / o))
                | _ -> ()
    // what reading a saved model back costs: eval and predict read the test images alone
    let model = Path.Combine(Path.GetTempPath(), sprintf "toolkit-bench-%O.json" (Guid.NewGuid()))
    try
        match runJson "dotnet" (sprintf "%s train --epochs 1 --save %s --json" toolkitDll model) [] with
        | Some _ ->
            let peak args = runJson "dotnet" (sprintf "%s %s %s --json" toolkitDll args model) [] |> Option.map mem
            match peak "eval", peak "predict --count 10" with
            | Some e, Some p -> add ""; add (sprintf "Peak memory reading a saved 784-30-10 model back on the 10,000 test images: `toolkit eval` %.0f MB, `toolkit predict` %.0f MB." e p)
            | _ -> ()
        | None -> ()
    finally if File.Exists model then File.Delete model
    lines |> List.ofSeq

/// The issue's accuracy yardsticks, across seeds: each configuration trained with each seed by
/// Toolkit (its defaults, and on one thread), NumPy and PyTorch, the final test accuracy of each.
let accuracy (seeds: int list) : string list =
    let lines = ResizeArray<string>()
    let add (s: string) = lines.Add s; printfn "%s" s
    let final (j: JsonElement option) = j |> Option.map (fun j -> (j.GetProperty("test_accuracy_per_epoch").EnumerateArray() |> Seq.last).GetDouble())
    add (sprintf "Test accuracy on the 10,000 test images after the yardstick's epochs, seeds %s (the seed draws the weights and the shuffling)." (String.Join(", ", seeds)))
    add ""
    add (sprintf "| configuration | yardstick | implementation | %s | mean | lowest |" (String.Join(" | ", [ for s in seeds -> sprintf "seed %d" s ])))
    add (sprintf "|---|---|---|%s---:|---:|" (String.replicate seeds.Length "---:|"))
    for c, epochs, yardstick in [ configs.[0], 3, 0.80; configs.[1], 5, 0.865 ] do
        let threads = Toolkit.Nn.FastPath.suggestedThreads c.Layers c.Batch
        let py script env seed = runJson "/usr/bin/python3" (sprintf "%s %s %s %d %d" (Path.Combine(root, "scripts", script)) data c.Key epochs seed) env
        let runs =
            [ yield sprintf "Toolkit (defaults: %d thread%s)" threads (if threads = 1 then "" else "s"), (fun seed -> runJson "dotnet" (sprintf "%s train %s --epochs %d --seed %d --json" toolkitDll c.ToolkitArgs epochs seed) [])
              if threads <> 1 then
                  yield "Toolkit (1 thread)", (fun seed -> runJson "dotnet" (sprintf "%s train %s --epochs %d --seed %d --threads 1 --json" toolkitDll c.ToolkitArgs epochs seed) [])
              yield "NumPy", py "train_numpy.py" []
              yield "PyTorch (its default initialisation)", py "train_torch.py" [ "OPENBLAS_NUM_THREADS", "1" ] ]
        for name, run in runs do
            let accs = [ for s in seeds -> final (run s) ]
            let got = accs |> List.choose id
            let cell = function Some (a: float) -> sprintf "%.4f" a | None -> "not run"
            let summary = if got.IsEmpty then "– | –" else sprintf "%.4f | %.4f" (List.average got) (List.min got)
            add (sprintf "| %s, %d epochs | ≥ %.3f | %s | %s | %s |" c.Name epochs yardstick name (String.Join(" | ", List.map cell accs)) summary)
    lines |> List.ofSeq

/// The convolutional network of docs/convolution.fsx and issue "Convolutional networks", as
/// the command line and PyTorch's reference (scripts/train_torch.py, "cnn") train it: the same
/// layers, Adam η = 0.001, batch 64, cross-entropy, PyTorch's initialisation (uniform ±1/√fan-in).
let cnnLayers = "conv(32,3,pad=1)-relu-pool(2)-conv(64,3,pad=1)-relu-pool(2)-dense(128)-relu-dropout(0.3)-dense(10)-softmax"
let private cnnArgs = sprintf "--layers \"%s\" --loss cross-entropy --optimizer adam --lr 0.001 --batch 64 --init uniform" cnnLayers

/// Seconds for one epoch of the CNN's products as single SGEMM calls at the fast path's shapes
/// (im2col: samples·positions × channels·k·k; the dense layers as in gemmLimit), on the given threads.
let cnnGemmLimit (threads: int) =
    Blas.setThreads threads
    let b = 64
    let batches = (60000 + b - 1) / b
    // (m, n, k, transposes) of forward, ∂W and ∂A per layer
    let conv positions patch outputs first =
        [ yield false, false, b * positions, outputs, patch       // Z = A·Wᵀ
          yield true, false, patch, outputs, b * positions        // ∂W = Aᵀ·δ
          if not first then yield false, true, b * positions, patch, outputs ] // ∂A = δ·W
    let dense nIn nOut = [ false, false, nOut, b, nIn; false, true, nOut, nIn, b; true, false, nIn, b, nOut ]
    let shapes = conv 784 9 32 true @ conv 196 288 64 false @ dense 3136 128 @ dense 128 10
    epochOfGemms shapes batches 20

/// The CNN's yardsticks beside PyTorch in one run: test accuracy after 10 epochs for each seed,
/// seconds per epoch (median over every epoch run), peak memory, on 2 threads (this machine's
/// cores) for both; then 2 epochs on 1 thread each; and the GEMM limit of both thread counts.
let cnn (seeds: int list) (epochs: int) : string list =
    let lines = ResizeArray<string>()
    let add (s: string) = lines.Add s; printfn "%s" s
    let secs (js: JsonElement list) = median [| for j in js do for e in j.GetProperty("seconds_per_epoch").EnumerateArray() -> e.GetDouble() |]
    let final (j: JsonElement) = (j.GetProperty("test_accuracy_per_epoch").EnumerateArray() |> Seq.last).GetDouble()
    let mem (js: JsonElement list) = js |> List.map (fun j -> j.GetProperty("peak_memory_mb").GetDouble()) |> List.max
    let toolkitIn env threads epochs seed = runJson "dotnet" (sprintf "%s train %s --epochs %d --seed %d --threads %d --json" toolkitDll cnnArgs epochs seed threads) env
    let torchIn env threads epochs seed =
        runJson "/usr/bin/python3" (sprintf "%s %s cnn %d %d" (Path.Combine(root, "scripts", "train_torch.py")) data epochs seed) (env @ [ "OPENBLAS_NUM_THREADS", "1"; "TORCH_THREADS", string threads ])
    let toolkit, torch = toolkitIn [], torchIn []
    add (sprintf "`%s` on Fashion-MNIST: Adam η = 0.001, batch 64, cross-entropy, float32, PyTorch's initialisation in both; %s." cnnLayers (Blas.describe ()))
    add ""
    add (sprintf "| implementation | threads | %s | mean accuracy | s/epoch (median) | peak memory |" (String.Join(" | ", [ for s in seeds -> sprintf "seed %d, %d epochs" s epochs ])))
    add (sprintf "|---|---:|%s---:|---:|---:|" (String.replicate seeds.Length "---:|"))
    let results = Collections.Generic.Dictionary<string, float>()
    for name, run, threads in [ "Toolkit", toolkit, 2; "PyTorch 1.13 CPU", torch, 2 ] do
        let js = [ for s in seeds -> run threads epochs s ]
        let got = js |> List.choose id
        let cells = js |> List.map (function Some j -> sprintf "%.4f" (final j) | None -> "not run")
        if got.IsEmpty then add (sprintf "| %s | %d | %s | – | – | – |" name threads (String.Join(" | ", cells)))
        else
            let mean = got |> List.averageBy final
            results.[name + "acc"] <- mean
            results.[sprintf "%s%d" name threads] <- secs got
            add (sprintf "| %s | %d | %s | %.4f | %.2f | %.0f MB |" name threads (String.Join(" | ", cells)) mean (secs got) (mem got))
    // the same network trained through the C# facade (Dataset, Network, Trainer.Fit), as a C#
    // program with a new console application's settings: two epochs on each thread count
    let csharp = Path.Combine(root, "tests", "Toolkit.CSharpBench", "bin", "Release", "net10.0", "Toolkit.CSharpBench.dll")
    for threads in [ 2; 1 ] do
        match runJson "dotnet" (sprintf "%s cnn 2 %d %d" csharp threads seeds.Head) [] with
        | Some j ->
            add (sprintf "| Toolkit from C# (Trainer.Fit) | %d | %s | – | %.2f | %.0f MB |" threads (String.Join(" | ", [ for s in seeds -> if s = seeds.Head then sprintf "(%.4f after 2)" (final j) else "" ])) (secs [ j ]) (mem [ j ]))
        | None -> add (sprintf "| Toolkit from C# (Trainer.Fit) | %d | not run | | | |" threads)
    for name, run in [ "Toolkit", toolkit; "PyTorch 1.13 CPU", torch ] do
        match run 1 2 seeds.Head with
        | Some j ->
            results.[name + "1"] <- secs [ j ]
            add (sprintf "| %s | 1 | %s | – | %.2f | %.0f MB |" name (String.Join(" | ", [ for s in seeds -> if s = seeds.Head then sprintf "(%.4f after 2)" (final j) else "" ])) (secs [ j ]) (mem [ j ]))
        | None -> add (sprintf "| %s | 1 | not run | | | |" name)
    add ""
    for t in [ 1; 2 ] do
        let limit, flops = cnnGemmLimit t
        let ratio name = match results.TryGetValue(sprintf "%s%d" name t) with | true, s -> sprintf "%.2f" (s / limit) | _ -> "–"
        let ours = match results.TryGetValue(sprintf "Toolkit%d" t) with | true, s -> sprintf "%.0f%%" (100.0 * limit / s) | _ -> "–"
        let peer = match results.TryGetValue(sprintf "Toolkit%d" t), results.TryGetValue(sprintf "PyTorch 1.13 CPU%d" t) with
                   | (true, o), (true, p) -> sprintf "%.2f" (o / p) | _ -> "–"
        add (sprintf "%d thread%s: the products alone (%.0f GFLOP per epoch as SGEMM calls at im2col's shapes) take %.2f s, so Toolkit runs at %s of the GEMM limit (%s × it), PyTorch at %s × it; Toolkit ÷ PyTorch time %s." t (if t = 1 then "" else "s") (flops / 1e9) limit ours (ratio "Toolkit") (ratio "PyTorch 1.13 CPU") peer)
        add ""
    match results.TryGetValue "Toolkitacc", results.TryGetValue "PyTorch 1.13 CPUacc" with
    | (true, a), (true, b) -> add (sprintf "Mean accuracy: Toolkit %.4f, PyTorch %.4f (difference %+.4f; the goal: mean ≥ 0.91, within 0.005 of PyTorch's)." a b (a - b))
    | _ -> ()
    // the speeds again under the other kernel setting (the accuracy is the kernels' least concern)
    let other, env = (kernelSettings ()).[1]
    add ""
    add (sprintf "Under the other kernel setting, %s: two epochs of seed 1 each, in the same run." other)
    add ""
    add "| threads | Toolkit s/epoch | PyTorch s/epoch | Toolkit ÷ PyTorch | GEMM limit (s) | Toolkit at |"
    add "|---:|---:|---:|---:|---:|---:|"
    for t in [ 1; 2 ] do
        let ours, theirs = toolkitIn env t 2 seeds.Head |> Option.map (fun j -> secs [ j ]), torchIn env t 2 seeds.Head |> Option.map (fun j -> secs [ j ])
        let limit = runJson "dotnet" (sprintf "%s cnn-gemm-limit %d" benchDll t) env |> Option.map (fun j -> j.GetProperty("seconds").GetDouble())
        let cell = function Some (v: float) -> sprintf "%.2f" v | None -> "not run"
        let ratio = match ours, theirs with Some o, Some p -> sprintf "%.2f" (o / p) | _ -> "–"
        let share = match ours, limit with Some o, Some l -> sprintf "%.0f%%" (100.0 * l / o) | _ -> "–"
        add (sprintf "| %d | %s | %s | %s | %s | %s |" t (cell ours) (cell theirs) ratio (cell limit) share)
    lines |> List.ofSeq

/// `Toolkit.Benchmarks cnn-gemm-limit THREADS`: the CNN's GEMM limit in this process's kernels,
/// as one JSON line (the CNN's table runs it under the other kernel setting).
let cnnGemmLimitJson (threads: int) = limitJson (cnnGemmLimit threads)
