/// Forward+backward throughput of the scalar graph at 10⁴–10⁶ nodes (a deep chain and a wide,
/// shared DAG), against a micrograd-style Python engine on the same graphs, in the same run.
module Toolkit.Benchmarks.GraphBench

open System
open System.Diagnostics
open System.IO
open System.Text.Json
open Toolkit
open Toolkit.Graph

/// The same graphs as scripts/micrograd_bench.py builds.
let chain (n: int) =
    let x = Expr.var "x"
    let w = Expr.var "w"
    let mutable v = x
    for k in 0 .. n - 1 do
        v <- if k % 2 = 0 then Expr.tanh v else v * w
    v, readOnlyDict [ "x", 0.5; "w", 1.0001 ], "x"

let wide (n: int) =
    let width = 1000
    let xs = Array.init width (fun i -> Expr.var ("x" + string i))
    let mutable p = xs
    let layers = max 1 ((n - width) / (3 * width))
    for _ in 1 .. layers do
        let q = p
        p <- Array.init width (fun i -> Expr.tanh (q.[i] * q.[(i + 1) % width] + q.[(i + 2) % width]))
    let out = p |> Array.reduce (+)
    out, readOnlyDict [ for i in 0 .. width - 1 -> "x" + string i, 0.5 + 0.4 * sin (float i) ], "x0"

/// The same graphs recorded on a GraphBuilder (a tape): no search for shared nodes.
let chainTape (n: int) =
    let b = GraphBuilder(n + 2)
    let x = b.Var "x"
    let w = b.Var "w"
    let mutable v = x
    for k in 0 .. n - 1 do
        v <- if k % 2 = 0 then b.Unary(UnaryOp.Tanh, v) else b.Binary(BinaryOp.Mul, v, w)
    b.Build v, readOnlyDict [ "x", 0.5; "w", 1.0001 ], "x"

let wideTape (n: int) =
    let width = 1000
    let b = GraphBuilder(n + width)
    let xs = Array.init width (fun i -> b.Var("x" + string i))
    let mutable p = xs
    let layers = max 1 ((n - width) / (3 * width))
    for _ in 1 .. layers do
        let q = p
        p <- Array.init width (fun i ->
            let m = b.Binary(BinaryOp.Mul, q.[i], q.[(i + 1) % width])
            b.Unary(UnaryOp.Tanh, b.Binary(BinaryOp.Add, m, q.[(i + 2) % width])))
    let out = p |> Array.reduce (fun acc v -> b.Binary(BinaryOp.Add, acc, v))
    b.Build out, readOnlyDict [ for i in 0 .. width - 1 -> "x" + string i, 0.5 + 0.4 * sin (float i) ], "x0"

let private median (xs: float list) = let s = List.sort xs in s.[s.Length / 2]

/// Runs a measurement for at least a second before it is timed (at least once): the runtime
/// compiles a method again, optimized, only after 30 calls and 100 ms, so the first runs of a
/// 10⁴-node graph (a millisecond each) ran unoptimized code and measured the compiler's warm-up
/// rather than the steady state (in one process, 110–170 ns per node over the first runs of the
/// chain's expression path, 70 from about the 150th on). Python has no such stage. The collector
/// runs between runs, outside the timing, as in the C# table: back to back, a run of 10⁶ nodes
/// met the previous runs' garbage, and its time moved with the heap's history (122–255 ms for
/// the same chain in one process).
let private warmUp (measure: unit -> float * 'T) =
    let sw = Stopwatch.StartNew()
    measure () |> ignore
    while sw.Elapsed.TotalSeconds < 1.0 do
        GC.Collect()
        measure () |> ignore

/// The seconds of at least `repeats` runs, and more until they took half a second.
let private timed (repeats: int) (measure: unit -> float * 'T) =
    let times = ResizeArray<float>()
    while times.Count < repeats || Seq.sum times < 0.5 do
        GC.Collect()
        times.Add(fst (measure ()))
    List.ofSeq times

type Row =
    { Graph: string
      Nodes: int
      FullSeconds: float          // build the expression + lay out + forward + backward
      TapeSeconds: float          // record on a GraphBuilder + forward + backward
      PassSeconds: float          // forward + backward on a laid-out graph
      BytesPerNode: float         // allocated building the expression and its layout
      TapeBytesPerNode: float     // allocated recording the graph on a GraphBuilder
      PassBytesPerNode: float     // allocated by one forward + backward
      Value: float
      Grad0: float
      Python: JsonElement option
      Torch: JsonElement option }

/// The same graph in scripts/micrograd_bench.py, on the engine "micrograd" or "torch" (PyTorch's
/// autograd on 0-d tensors); None when Python or the engine is missing.
let private python (engine: string) (graph: string) (n: int) (repeats: int) : JsonElement option =
    let script = Path.Combine(__SOURCE_DIRECTORY__, "..", "..", "scripts", "micrograd_bench.py")
    if not (File.Exists "/usr/bin/python3") then None
    else
        let psi = ProcessStartInfo("/usr/bin/python3", sprintf "%s %s %d %d %s" script graph n repeats engine, RedirectStandardOutput = true, RedirectStandardError = true)
        use p = Process.Start psi
        let out = p.StandardOutput.ReadToEnd()
        p.StandardError.ReadToEnd() |> ignore
        p.WaitForExit()
        if p.ExitCode <> 0 then None else Some(JsonDocument.Parse(out).RootElement.Clone())

let measure (name: string) (make: int -> Expr * Collections.Generic.IReadOnlyDictionary<string, float> * string)
            (tape: int -> Graph * Collections.Generic.IReadOnlyDictionary<string, float> * string) (n: int) (repeats: int) (peers: bool) : Row =
    let runTape () =
        let sw = Stopwatch.StartNew()
        let g, env, _ = tape n
        let b = Eval.backward (Eval.forward g env)
        sw.Elapsed.TotalSeconds, b
    warmUp runTape
    let tapes = timed repeats runTape
    let tapeValue = (snd (runTape ())).Value
    GC.Collect()
    let before = GC.GetAllocatedBytesForCurrentThread()
    let tg, _, _ = tape n
    let tapeBytes = GC.GetAllocatedBytesForCurrentThread() - before
    let run () =
        let sw = Stopwatch.StartNew()
        let e, env, v0 = make n
        let g = Graph.ofExpr e
        let b = Eval.backward (Eval.forward g env)
        sw.Elapsed.TotalSeconds, (b, v0)
    warmUp run
    let full = timed repeats run
    // allocation of building and laying out
    GC.Collect()
    let before = GC.GetAllocatedBytesForCurrentThread()
    let e, env, v0 = make n
    let g = Graph.ofExpr e
    let built = GC.GetAllocatedBytesForCurrentThread() - before
    let pass () =
        let sw = Stopwatch.StartNew()
        let b = Eval.backward (Eval.forward g env)
        sw.Elapsed.TotalSeconds, b
    warmUp pass
    let passes = timed repeats pass
    let before = GC.GetAllocatedBytesForCurrentThread()
    let _, b = pass ()
    let passBytes = GC.GetAllocatedBytesForCurrentThread() - before
    { Graph = name
      Nodes = g.Count
      FullSeconds = median full
      TapeSeconds = median tapes
      PassSeconds = median passes
      BytesPerNode = float built / float g.Count
      TapeBytesPerNode = float tapeBytes / float tg.Count
      PassBytesPerNode = float passBytes / float g.Count
      Value = (if tapeValue = b.Value then b.Value else failwithf "tape and expression disagree: %g vs %g" tapeValue b.Value)
      Grad0 = b.Dvar v0
      Python = if peers then python "micrograd" name n repeats else None
      // PyTorch takes ~10 µs per node: one timed run at 10⁶
      Torch = if peers then python "torch" name n (if n >= 1_000_000 then 1 else 3) else None }

let report (rows: Row list) =
    let lines = ResizeArray<string>()
    let add (s: string) = lines.Add s; printfn "%s" s
    add "| graph | nodes | micrograd-style Python, build+backward (GC off) | PyTorch autograd, 0-d tensors, build+backward | Toolkit, expression: build+layout+forward+backward | Toolkit, GraphBuilder tape: record+forward+backward | Toolkit: forward+backward (graph reused) | ratio to micrograd: expression / tape / passes | tape ÷ PyTorch | Toolkit bytes/node: expression graph, tape graph, one pass | peak RSS: micrograd, PyTorch |"
    add "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    let mismatches = ResizeArray<string>()
    for r in rows do
        let rate s = float r.Nodes / s / 1e6
        let peer name (j: JsonElement option) =
            match j with
            | Some j ->
                let s = j.GetProperty("seconds").GetDouble()
                if Numeric.relativeError (j.GetProperty("value").GetDouble()) r.Value > 1e-9 then
                    mismatches.Add(sprintf "**value mismatch on %s at %d nodes: Toolkit %.17g, %s differs**" r.Graph r.Nodes r.Value name)
                sprintf "%.2f M nodes/s" (rate s), Some(rate s), sprintf "%.0f MB" (j.GetProperty("peak_rss_mb").GetDouble())
            | None -> (if r.Nodes > 1_000_000 then "not run (≈10 GB)" else "not run"), None, "–"
        let py, pyRate, pyRss = peer "micrograd" r.Python
        let th, thRate, thRss = peer "PyTorch" r.Torch
        let ratio (ours: float) (p: float option) = match p with Some p -> sprintf "%.0f×" (ours / p) | None -> "–"
        add (sprintf "| %s | %d | %s | %s | %.1f M nodes/s | %.1f M nodes/s | %.1f M nodes/s | %s / %s / %s | %s | %.0f, %.0f, %.0f | %s, %s |"
                r.Graph r.Nodes py th (rate r.FullSeconds) (rate r.TapeSeconds) (rate r.PassSeconds)
                (ratio (rate r.FullSeconds) pyRate) (ratio (rate r.TapeSeconds) pyRate) (ratio (rate r.PassSeconds) pyRate)
                (ratio (rate r.TapeSeconds) thRate)
                r.BytesPerNode r.TapeBytesPerNode r.PassBytesPerNode pyRss thRss)
    for m in mismatches do add ""; add m
    lines |> List.ofSeq
