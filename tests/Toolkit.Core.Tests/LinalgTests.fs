/// The OpenBLAS binding and its managed fallback.
module Toolkit.Tests.LinalgTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.Providers.LinearAlgebra
open Toolkit.Linalg
open Toolkit.Tests.Generators

/// Runs f with the products forced onto managed code, then back on OpenBLAS.
let onManaged f =
    Blas.useManaged true
    try f () finally Blas.useManaged false

type GemmCase = { M: int; N: int; K: int; TA: bool; TB: bool; PadA: int; PadB: int; PadC: int; Seed: int }

let genGemm =
    gen {
        let! m = Gen.choose (1, 40)
        let! n = Gen.choose (1, 40)
        let! k = Gen.choose (1, 40)
        let! ta = Gen.elements [ true; false ]
        let! tb = Gen.elements [ true; false ]
        let! pa = Gen.choose (0, 3)
        let! pb = Gen.choose (0, 3)
        let! pc = Gen.choose (0, 3)
        let! seed = Gen.choose (0, 100000)
        return { M = m; N = n; K = k; TA = ta; TB = tb; PadA = pa; PadB = pb; PadC = pc; Seed = seed }
    }

let private runGemm (c: GemmCase) =
    let rnd = Random(c.Seed)
    let ar, ac = if c.TA then c.K, c.M else c.M, c.K
    let br, bc = if c.TB then c.N, c.K else c.K, c.N
    let lda, ldb, ldc = ar + c.PadA, br + c.PadB, c.M + c.PadC
    let a = Array.init (lda * ac) (fun _ -> rnd.NextDouble() - 0.5)
    let b = Array.init (ldb * bc) (fun _ -> rnd.NextDouble() - 0.5)
    let c0 = Array.init (ldc * c.N) (fun _ -> rnd.NextDouble() - 0.5)
    let native = Array.copy c0
    Blas.gemm c.TA c.TB c.M c.N c.K 0.7 a lda b ldb 0.3 native ldc
    let managed = Array.copy c0
    onManaged (fun () -> Blas.gemm c.TA c.TB c.M c.N c.K 0.7 a lda b ldb 0.3 managed ldc)
    // by definition, element by element
    let reference = Array.copy c0
    for j in 0 .. c.N - 1 do
        for i in 0 .. c.M - 1 do
            let mutable s = 0.0
            for p in 0 .. c.K - 1 do
                s <- s + (if c.TA then a.[p + i * lda] else a.[i + p * lda]) * (if c.TB then b.[j + p * ldb] else b.[p + j * ldb])
            reference.[i + j * ldc] <- 0.7 * s + 0.3 * c0.[i + j * ldc]
    native, managed, reference

/// Products large enough to be cut into parts (Blas.parts ≥ 2), with transposes, padding and
/// offsets: the parts must tile C exactly, whatever the shape.
let genLargeGemm =
    gen {
        let! c = genGemm
        let! m = Gen.choose (1, 300)
        let! n = Gen.choose (1, 300)
        let! k = Gen.choose (1, 64)
        // deep enough for at least 4 MFLOP in each half, so that the product is cut
        let k = max k (int (ceil (8.2e6 / (2.0 * float m * float n))))
        return { c with M = max m 32; N = max n 32; K = min k 8192 }
    }

/// Runs f with the products on the given number of threads, then back on the previous count.
let onThreads (n: int) f =
    let before = Blas.threads ()
    Blas.setThreads n
    try f () finally Blas.setThreads before

[<Tests>]
let tests =
    testSequenced <| testList "linear algebra" [
        test "OpenBLAS is loaded (the set-up installs libopenblas0-pthread) and says what it is" {
            let s = Blas.status ()
            if s.Provider <> "OpenBLAS" then failtestf "OpenBLAS is not in use: %A" s
            Expect.isSome s.CoreName "core name"
            Expect.stringContains (defaultArg s.Library "") "openblas" "library path"
            Expect.isGreaterThanOrEqual s.Threads 1 "threads"
        }
        testPropertyWithConfig { config with arbitrary = [] } "gemm: OpenBLAS = managed = the definition, with transposes and strides" <|
            Prop.forAll (Arb.fromGen genGemm) (fun c ->
                let native, managed, reference = runGemm c
                for i in 0 .. reference.Length - 1 do
                    if abs (native.[i] - reference.[i]) > 1e-12 || abs (managed.[i] - reference.[i]) > 1e-12 then
                        failtestf "element %d: OpenBLAS %g, managed %g, definition %g" i native.[i] managed.[i] reference.[i])
        testSequencedGroup "threads" << testPropertyWithConfig { config with arbitrary = []; maxTest = 60 } "products cut into parts: the definition's values, and the same bits on 1, 2 or 3 threads, in both precisions" <|
            Prop.forAll (Arb.fromGen genLargeGemm) (fun c ->
                if Blas.parts c.M c.N c.K < 2 then failtestf "%A is not cut into parts" c
                let native1, _, reference = onThreads 1 (fun () -> runGemm c)
                for t in [ 2; 3 ] do
                    let nativeT, _, _ = onThreads t (fun () -> runGemm c)
                    if nativeT <> native1 then failtestf "%d threads give other bits than one" t
                for i in 0 .. reference.Length - 1 do
                    if abs (native1.[i] - reference.[i]) > 1e-11 * float c.K then
                        failtestf "element %d: %g, definition %g" i native1.[i] reference.[i]
                // float32 at an offset into each array, as the training path calls it
                let rnd = Random(c.Seed)
                let ar, ac = if c.TA then c.K, c.M else c.M, c.K
                let br, bc = if c.TB then c.N, c.K else c.K, c.N
                let a = Array.init (ar * ac + 5) (fun _ -> float32 (rnd.NextDouble() - 0.5))
                let b = Array.init (br * bc + 7) (fun _ -> float32 (rnd.NextDouble() - 0.5))
                let single t =
                    let cc = Array.create (c.M * c.N + 3) 9.0f
                    onThreads t (fun () -> Blas.sgemmAt c.TA c.TB c.M c.N c.K 1.0f a 5 ar b 7 br 0.0f cc 3 c.M)
                    cc
                let one = single 1
                Expect.equal one.[.. 2] [| 9.0f; 9.0f; 9.0f |] "nothing written before the offset"
                for t in [ 2; 3 ] do
                    if single t <> one then failtestf "float32: %d threads give other bits than one" t
                for j in 0 .. c.N - 1 do
                    for i in 0 .. c.M - 1 do
                        let mutable s = 0.0
                        for p in 0 .. c.K - 1 do
                            s <- s + float (if c.TA then a.[5 + p + i * ar] else a.[5 + i + p * ar]) * float (if c.TB then b.[7 + j + p * br] else b.[7 + p + j * br])
                        if abs (float one.[3 + i + j * c.M] - s) > 1e-5 * float c.K then failtestf "float32 (%d, %d): %g, definition %g" i j one.[3 + i + j * c.M] s)
        testSequencedGroup "threads" <| test "loops between products: every item in exactly one range, on any number of threads" {
            for t in [ 1; 2; 3; 5 ] do
                onThreads t (fun () ->
                    for count in [ 0; 1; 2; 3; 7; 64; 1001 ] do
                        let seen = Array.zeroCreate<int> count
                        Toolkit.Nn.Buffers.forParts count (Action<int, int>(fun lo hi ->
                            for i in lo .. hi - 1 do Threading.Interlocked.Increment(&seen.[i]) |> ignore))
                        Expect.isTrue (Array.forall ((=) 1) seen) (sprintf "%d items on %d threads" count t))
        }
        test "MathNet's products run on OpenBLAS after install, and agree with the managed provider" {
            Expect.isTrue (MathNetBlas.install ()) "installed"
            Expect.stringContains (string LinearAlgebraControl.Provider) "OpenBLAS" "provider"
            let a = Matrix<float>.Build.Random(37, 23, 1)
            let b = Matrix<float>.Build.Random(23, 41, 2)
            let bt = Matrix<float>.Build.Random(41, 23, 3)
            let at = Matrix<float>.Build.Random(23, 37, 4)
            let fast = [ a * b; a.TransposeAndMultiply bt; at.TransposeThisAndMultiply b ]
            let slow = onManaged (fun () -> [ a * b; a.TransposeAndMultiply bt; at.TransposeThisAndMultiply b ])
            for f, s in List.zip fast slow do
                Expect.isLessThan ((f - s).Enumerate() |> Seq.map abs |> Seq.max) 1e-12 "same product"
            let a32 = Matrix<float32>.Build.Random(20, 30, 5)
            let b32 = Matrix<float32>.Build.Random(30, 10, 6)
            let p32 = a32 * b32
            let m32 = onManaged (fun () -> a32 * b32)
            Expect.isLessThan ((p32 - m32).Enumerate() |> Seq.map abs |> Seq.max) 1e-4f "float32"
        }
        test "a gemm with too little storage is refused with the shapes, not an access violation" {
            let msg = try Blas.gemm false false 3 3 3 1.0 (Array.zeroCreate 8) 3 (Array.zeroCreate 9) 3 0.0 (Array.zeroCreate 9) 3; "" with :? ArgumentException as e -> e.Message
            Expect.stringContains msg "A is stored as 8 values with leading dimension 3, too few for 3×3" "message"
        }
    ]
