/// How the time per epoch grows with the hidden width and the batch size, and how many threads
/// help: Toolkit's fast path against PyTorch (scripts/scale_torch.py), same run, same timing rule.
module Toolkit.Benchmarks.ScaleBench

open System
open System.Diagnostics
open System.IO
open System.Text.Json
open Toolkit.Linalg
open Toolkit.Tensors
open Toolkit.Nn
open Toolkit.Charts

let private root = Path.Combine(__SOURCE_DIRECTORY__, "..", "..")

/// One measurement: the layer sizes, the batch size, and how many samples to time (scaled to an epoch).
type Spec =
    { Sizes: int list
      Batch: int
      Samples: int }
    member s.Key = String.Join("-", s.Sizes)

let private samplesFor batch = if batch < 16 then 3840 else 15360
/// Each figure is the median of this many timed windows of Samples samples.
let private repeats = 3

/// Hidden width 32 … 2048 (one hidden layer, batch 128), and batch 1 … 1024 on 784-256-128-10.
let widths = [ 32; 64; 128; 256; 512; 1024; 2048 ]
let batches = [ 1; 4; 16; 64; 128; 256; 1024 ]
let widthSpecs = [ for w in widths -> { Sizes = [ 784; w; 10 ]; Batch = 128; Samples = samplesFor 128 } ]
let batchSpecs = [ for b in batches -> { Sizes = [ 784; 256; 128; 10 ]; Batch = b; Samples = samplesFor b } ]

/// Fashion-MNIST's training set as columns (pixels/255) and one-hot targets, stored as
/// `toolkit train` stores them (the pixels as bytes; the fast path converts each batch to float32).
let private load () =
    let d = Toolkit.Data.FashionMnist.load Toolkit.Data.FashionMnist.defaultDirectory
    let t = d.Train
    let xs = Samples.OfPixels(t.Size, t.Pixels)
    let ys = Array.zeroCreate<float> (10 * t.Count)
    t.Labels |> Array.iteri (fun i l -> ys.[i * 10 + int l] <- 1.0)
    xs, ys, t.Count

/// Seconds per 60,000-sample epoch of Toolkit's fast path (float32, ReLU, softmax
/// cross-entropy, momentum 0.9) with the given OpenBLAS threads, timed like the PyTorch script:
/// five warm-up batches, then Samples samples of a shuffled order.
let private ours (xs: Samples) (ys: float[]) (m: int) (threads: int) (s: Spec) =
    Blas.setThreads threads
    let net = Network.create s.Sizes Activation.Relu Activation.Softmax Loss.CrossEntropy Init.He 1
    let fast = FastNet<float32>(net, s.Batch)
    let rng = Random(1)
    let order = Array.init m id
    Toolkit.Training.Train.shuffle rng order
    let opt = Optimizer.Momentum(0.05, 0.9)
    let state = Optimizer.init fast.ParameterCount 1
    for k in 0 .. 4 do fast.Step(opt, state, 0.05, xs, ys, order, k * s.Batch, s.Batch) |> ignore
    let steps = max 1 (s.Samples / s.Batch)
    let window w =
        let sw = Stopwatch.StartNew()
        for k in w * steps .. (w + 1) * steps - 1 do fast.Step(opt, state, 0.05, xs, ys, order, k * s.Batch % (m - s.Batch), s.Batch) |> ignore
        sw.Elapsed.TotalSeconds * float m / float (steps * s.Batch)
    Array.init repeats window |> Array.sort |> fun t -> t.[repeats / 2]

/// PyTorch's seconds per epoch for each spec, with TORCH_THREADS threads (OpenBLAS at one).
let private torch (threads: int) (specs: Spec list) : Map<string * int, float> =
    let args = String.Join(" ", [ for s in specs -> sprintf "%s:%d:%d:%d" s.Key s.Batch s.Samples repeats ])
    let psi = ProcessStartInfo("/usr/bin/python3", sprintf "%s %s %s" (Path.Combine(root, "scripts", "scale_torch.py")) Toolkit.Data.FashionMnist.defaultDirectory args,
                               RedirectStandardOutput = true, RedirectStandardError = true)
    psi.Environment.["OPENBLAS_NUM_THREADS"] <- "1"
    psi.Environment.["TORCH_THREADS"] <- string threads
    try
        use p = Process.Start psi
        let out = p.StandardOutput.ReadToEnd()
        p.StandardError.ReadToEnd() |> ignore
        p.WaitForExit()
        if p.ExitCode <> 0 then Map.empty
        else
            out.Trim().Split('\n')
            |> Array.map (fun l ->
                let j = JsonDocument.Parse(l).RootElement
                (j.GetProperty("layers").GetString(), j.GetProperty("batch").GetInt32()), j.GetProperty("seconds_per_epoch").GetDouble())
            |> Map.ofArray
    with :? ComponentModel.Win32Exception -> Map.empty

type private Row = { Spec: Spec; Ours1: float; Ours2: float; Torch1: float option; Torch2: float option }

let private measure xs ys m (specs: Spec list) =
    let t1, t2 = torch 1 specs, torch 2 specs
    [ for s in specs ->
        eprintfn "measuring %s batch %d…" s.Key s.Batch
        { Spec = s; Ours1 = ours xs ys m 1 s; Ours2 = ours xs ys m 2 s
          Torch1 = t1.TryFind(s.Key, s.Batch); Torch2 = t2.TryFind(s.Key, s.Batch) } ]

let private table (first: string) (label: Row -> string) (rows: Row list) =
    let opt = function Some (v: float) -> sprintf "%.3f" v | None -> "not run"
    [ yield sprintf "| %s | Toolkit, 1 thread | Toolkit, 2 threads | PyTorch, 1 thread | PyTorch, 2 threads | best PyTorch ÷ best Toolkit | Toolkit: 2 threads ÷ 1 |" first
      yield "|---|---:|---:|---:|---:|---:|---:|"
      for r in rows ->
        let best = min r.Ours1 r.Ours2
        let peer = [ r.Torch1; r.Torch2 ] |> List.choose id
        let ratio = if peer.IsEmpty then "–" else sprintf "%.2f×" (List.min peer / best)
        sprintf "| %s | %.3f | %.3f | %s | %s | %s | %.2f |" (label r) r.Ours1 r.Ours2 (opt r.Torch1) (opt r.Torch2) ratio (r.Ours2 / r.Ours1) ]

/// The chart of the best setting of each side against log₂ of the swept quantity.
let private chart (title: string) (xLabel: string) (x: Row -> float) (rows: Row list) =
    let series name (f: Row -> float option) =
        { Name = name; Points = [| for r in rows do match f r with Some v -> yield Math.Log2(x r), v | None -> () |] }
    LineChart.svg title xLabel "seconds per epoch" true
        [ series "Toolkit" (fun r -> Some(min r.Ours1 r.Ours2))
          series "PyTorch" (fun r -> [ r.Torch1; r.Torch2 ] |> List.choose id |> function [] -> None | vs -> Some(List.min vs)) ]

/// Runs both sweeps; writes the two charts beside the page (docs/img) and returns the tables.
let run (imgDir: string option) : string list =
    let xs, ys, m = load ()
    let byWidth = measure xs ys m widthSpecs
    let byBatch = measure xs ys m batchSpecs
    match imgDir with
    | Some dir ->
        Directory.CreateDirectory dir |> ignore
        Toolkit.AtomicFile.writeAllText (Path.Combine(dir, "scaling-width.svg"))
            (chart "784-w-10, batch 128 (best of 1 and 2 threads)" "log₂ hidden width" (fun r -> float r.Spec.Sizes.[1]) byWidth)
        Toolkit.AtomicFile.writeAllText (Path.Combine(dir, "scaling-batch.svg"))
            (chart "784-256-128-10 by batch size (best of 1 and 2 threads)" "log₂ batch size" (fun r -> float r.Spec.Batch) byBatch)
    | None -> ()
    [ yield sprintf "Seconds per 60,000-sample epoch (float32, ReLU, softmax cross-entropy, momentum 0.9; the median of %d windows of %d samples, %d for batches under 16, after 5 warm-up batches; PyTorch with OPENBLAS_NUM_THREADS=1 and 1 or 2 threads of its own); %s." repeats (samplesFor 128) (samplesFor 1) (Blas.describe ())
      yield ""
      yield "By hidden width, 784-w-10, batch 128:"
      yield ""
      yield! table "hidden width" (fun r -> string r.Spec.Sizes.[1]) byWidth
      yield ""
      yield "By batch size, 784-256-128-10:"
      yield ""
      yield! table "batch" (fun r -> string r.Spec.Batch) byBatch ]
