/// Every activation's forward and backward pass over a layer's buffer, as training runs it
/// (SIMD lanes for σ, tanh and the ReLUs, the table of derivatives for every other op), beside
/// PyTorch's forward + backward of the same function in the same run.
module Toolkit.Benchmarks.ActivationBench

open System
open System.Diagnostics
open System.IO
open System.Text.Json
open Toolkit.Graph
open Toolkit.Nn

let private rows, cols = 256, 128

/// The best of five timings of reps calls, in ns per element.
let private time (reps: int) (f: unit -> unit) =
    for _ in 1 .. reps / 10 do f ()
    let mutable best = infinity
    for _ in 1 .. 5 do
        let sw = Stopwatch.StartNew()
        for _ in 1 .. reps / 5 do f ()
        best <- min best (sw.Elapsed.TotalSeconds / float (reps / 5))
    best * 1e9 / float (rows * cols)

let private torch () : Map<string, float> =
    let script = Path.Combine(__SOURCE_DIRECTORY__, "..", "..", "scripts", "activations_torch.py")
    try
        let psi = ProcessStartInfo("/usr/bin/python3", script, RedirectStandardOutput = true, RedirectStandardError = true)
        psi.Environment.["OPENBLAS_NUM_THREADS"] <- "1"
        use p = Process.Start psi
        let out = p.StandardOutput.ReadToEnd()
        p.WaitForExit()
        if p.ExitCode <> 0 then Map.empty
        else
            use doc = JsonDocument.Parse out
            doc.RootElement.EnumerateObject() |> Seq.map (fun kv -> kv.Name, kv.Value.GetDouble()) |> Map.ofSeq
    with _ -> Map.empty

let run () : string list =
    let n = rows * cols
    let rng = Random(1)
    let z = Array.init n (fun _ -> float32 (rng.NextDouble() * 6.0 - 3.0))
    let a, da, dz = Array.zeroCreate<float32> n, Array.create n 1.0f, Array.zeroCreate<float32> n
    let reference = torch ()
    let lines = ResizeArray<string>()
    let add (s: string) = lines.Add s; printfn "%s" s
    add (sprintf "Forward and backward of each activation on a %d × %d float32 buffer (the wide network's first hidden layer at batch 128), one thread, ns per element (best of five)." rows cols)
    add ""
    add "| activation | Toolkit (training's pass) | PyTorch 1.13 (forward + autograd backward) | PyTorch ÷ Toolkit |"
    add "|---|---:|---:|---:|"
    let ops = Rules.callable.Keys |> Seq.sort |> List.ofSeq
    for name in ops do
        match Activation.tryParse name with
        | Some g ->
            // inputs where the op is defined (log, sqrt take |z|)
            let zin = z |> Array.map (fun v -> if Double.IsFinite(Rules.unary (match g with Activation.Elementwise op -> op | _ -> UnaryOp.Neg) (float v)) then v else abs v + 0.5f)
            let ours = time 2000 (fun () -> Activation.forward g n 1 zin a; Activation.backward g n 1 zin a da dz)
            match reference.TryFind name with
            | Some t -> add (sprintf "| %s | %.2f | %.2f | %.2f× |" name ours t (t / ours))
            | None -> add (sprintf "| %s | %.2f | – | – |" name ours)
        | None -> ()
    // what the SIMD lanes buy: σ through the table, element by element, as the fallback runs every other op
    let viaTable =
        time 2000 (fun () ->
            for i in 0 .. n - 1 do a.[i] <- float32 (Rules.unary UnaryOp.Sigmoid (float z.[i]))
            for i in 0 .. n - 1 do dz.[i] <- float32 (float da.[i] * Rules.dUnary UnaryOp.Sigmoid (float z.[i]) (float a.[i])))
    add (sprintf "| sigmoid through the table (as the fallback would run it) | %.2f | | |" viaTable)
    lines |> List.ofSeq
