/// Logistic regression's three programs on 10,000 samples of 784 features, OpenBLAS against
/// managed code on the same products, and GEMM through our binding against plain C.
module Toolkit.Benchmarks.LinalgBench

open System
open System.Diagnostics
open System.IO
open MathNet.Numerics.LinearAlgebra
open Toolkit.Linalg
open Toolkit.Models
open Toolkit.Data

let private median (xs: float list) = let s = List.sort xs in s.[s.Length / 2]

/// Median seconds of f over n runs after one warm-up.
let time (n: int) (f: unit -> unit) =
    f ()
    median [ for _ in 1 .. n -> let sw = Stopwatch.StartNew() in f (); sw.Elapsed.TotalSeconds ]

/// The median GFLOP/s of C = A·B (float32) through Toolkit's binding.
let sgemmGflops (m: int) (n: int) (k: int) (reps: int) =
    let a = Array.init (m * k) (fun i -> float32 ((i % 17) - 8) / 8.0f)
    let b = Array.init (k * n) (fun i -> float32 ((i % 13) - 6) / 6.0f)
    let c = Array.zeroCreate (m * n)
    let s = time reps (fun () -> Blas.sgemm false false m n k 1.0f a m b k 0.0f c m)
    2.0 * float m * float n * float k / s / 1e9

/// The same through the plain C program (scripts/gemm_bench.c), compiled here with gcc.
let cGflops (m: int) (n: int) (k: int) (reps: int) : float option =
    let root = Path.Combine(__SOURCE_DIRECTORY__, "..", "..")
    let exe = Path.Combine(Path.GetTempPath(), "toolkit-gemm-bench")
    let lib = Blas.candidates |> List.map (fun n -> Path.Combine("/usr/lib/x86_64-linux-gnu", n)) |> List.tryFind File.Exists
    match lib with
    | None -> None
    | Some lib ->
        let run (file: string) (args: string) =
            let psi = ProcessStartInfo(file, args, RedirectStandardOutput = true, RedirectStandardError = true)
            use p = Process.Start psi
            let out = p.StandardOutput.ReadToEnd()
            p.WaitForExit()
            if p.ExitCode = 0 then Some out else None
        run "gcc" (sprintf "-O2 %s %s -o %s" (Path.Combine(root, "scripts", "gemm_bench.c")) lib exe)
        |> Option.bind (fun _ -> run exe (sprintf "%d %d %d %d" m n k reps))
        |> Option.map (fun s -> float (s.Trim()))

let run () : string list =
    let lines = ResizeArray<string>()
    let add (s: string) = lines.Add s; printfn "%s" s
    // data: the first 10,000 Fashion-MNIST training images, "is it class ≥ 5" as the label
    let x, y, source =
        if Directory.Exists FashionMnist.defaultDirectory then
            let d = FashionMnist.load FashionMnist.defaultDirectory
            let m = 10_000
            let size = 784
            let data = Array.init (size * m) (fun i -> float d.Train.Pixels.[i] / 255.0)
            Matrix<float>.Build.Dense(size, m, data), Array.init m (fun i -> if d.Train.Labels.[i] >= 5uy then 1.0 else 0.0), "Fashion-MNIST (first 10,000 training images)"
        else
            let rnd = Random(1)
            Matrix<float>.Build.Dense(784, 10_000, fun _ _ -> rnd.NextDouble()), Array.init 10_000 (fun i -> float (i % 2)), "random data (Fashion-MNIST not installed)"
    let p = { W = Array.init 784 (fun i -> 0.001 * float (i % 7 - 3)); B = 0.1 }
    let reference = LogisticRegression.gradientLoops x y p
    let methods =
        [ "(a) two nested loops: samples × features", LogisticRegression.gradientLoops, 5
          "(b) one loop over samples, vector dw", LogisticRegression.gradientLoop, 5
          "(c) vectorized: Z = wᵀX + b, dw = (1/m)·X·dZᵀ", LogisticRegression.gradientVectorized, 21
          "(c) through the matrix graph's reverse mode", LogisticRegression.gradientGraph, 11 ]
    // the same programs in Python (scripts/logreg_numpy.py), same data, same run
    let python =
        let images = Path.Combine(FashionMnist.defaultDirectory, "train-images-idx3-ubyte.gz")
        let labels = Path.Combine(FashionMnist.defaultDirectory, "train-labels-idx1-ubyte.gz")
        let script = Path.Combine(__SOURCE_DIRECTORY__, "..", "..", "scripts", "logreg_numpy.py")
        if File.Exists "/usr/bin/python3" && File.Exists images then
            let psi = ProcessStartInfo("/usr/bin/python3", sprintf "%s %s %s 10000" script images labels, RedirectStandardOutput = true)
            use proc = Process.Start psi
            let out = proc.StandardOutput.ReadToEnd()
            proc.WaitForExit()
            if proc.ExitCode = 0 then Some(Text.Json.JsonDocument.Parse(out).RootElement.Clone()) else None
        else None
    let py (key: string) = python |> Option.map (fun j -> j.GetProperty(key).GetDouble())
    add (sprintf "One gradient step of logistic regression, m = 10,000 samples × n = 784 features, %s; float64; median of runs. Python: the same programs in `scripts/logreg_numpy.py` (pure-Python loops, NumPy vectors), same data, same run." source)
    add ""
    add "| program | Toolkit s/step | speed-up over (a) | Python s/step | speed-up over (a) in Python | Toolkit: largest difference from (a) in dw |"
    add "|---|---:|---:|---:|---:|---:|"
    let times = methods |> List.map (fun (_, g, reps) -> time reps (fun () -> g x y p |> ignore))
    let tLoops = times.Head
    for ((name, g, _), key), t in List.zip (List.zip methods [ Some "loops"; Some "one_loop"; Some "vectorized"; None ]) times do
        let d = g x y p
        let diff = Array.map2 (fun a b -> abs (a - b)) reference.DW d.DW |> Array.max
        let pyTime, pySpeed =
            match key |> Option.bind py, py "loops" with
            | Some pt, Some pl -> sprintf "%.4f" pt, sprintf "%.0f×" (pl / pt)
            | _ -> "–", "–"
        add (sprintf "| %s | %.4f | %.1f× | %s | %s | %.1e |" name t (tLoops / t) pyTime pySpeed diff)
    add ""
    // OpenBLAS against managed on the same products
    let tVecNative = time 21 (fun () -> LogisticRegression.gradientVectorized x y p |> ignore)
    Blas.useManaged true
    let tVecManaged = time 5 (fun () -> LogisticRegression.gradientVectorized x y p |> ignore)
    Blas.useManaged false
    let a = Matrix<float>.Build.Random(1024, 1024, 1)
    let b = Matrix<float>.Build.Random(1024, 1024, 2)
    let product () =
        let c = Array.zeroCreate (1024 * 1024)
        Blas.gemm false false 1024 1024 1024 1.0 (a.AsColumnMajorArray()) 1024 (b.AsColumnMajorArray()) 1024 0.0 c 1024
    let tGemmNative = time 5 product
    Blas.useManaged true
    let tGemmManaged = time 3 product
    Blas.useManaged false
    add (sprintf "OpenBLAS against managed code on the same products (%s):" (Blas.describe ()))
    add ""
    add "| product | OpenBLAS | managed | ratio |"
    add "|---|---:|---:|---:|"
    add (sprintf "| vectorized step (two gemv, 784×10,000) | %.4f s | %.4f s | %.1f× |" tVecNative tVecManaged (tVecManaged / tVecNative))
    add (sprintf "| dgemm 1024³ (float64; managed = MathNet's managed provider) | %.4f s | %.4f s | %.1f× |" tGemmNative tGemmManaged (tGemmManaged / tGemmNative))
    add ""
    add "SGEMM (float32, C = A·B) through Toolkit's binding against a plain C program calling the same OpenBLAS (`scripts/gemm_bench.c`), median GFLOP/s:"
    add ""
    add "| m×k×n | Toolkit | C | Toolkit / C |"
    add "|---|---:|---:|---:|"
    for (m, k, n, reps) in [ (128, 784, 256, 301); (1024, 1024, 1024, 21) ] do
        let ours = sgemmGflops m n k reps
        match cGflops m n k reps with
        | Some c -> add (sprintf "| %d×%d×%d | %.1f | %.1f | %.1f%% |" m k n ours c (100.0 * ours / c))
        | None -> add (sprintf "| %d×%d×%d | %.1f | (gcc or OpenBLAS missing) | – |" m k n ours)
    lines |> List.ofSeq
