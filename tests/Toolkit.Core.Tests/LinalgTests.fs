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
