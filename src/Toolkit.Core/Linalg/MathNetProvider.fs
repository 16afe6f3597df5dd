namespace Toolkit.Linalg

open System.Reflection
open MathNet.Numerics.Providers.LinearAlgebra

/// <summary>
/// MathNet's linear-algebra provider with its matrix products sent to <see cref="T:Toolkit.Linalg.BlasModule"/>
/// (OpenBLAS): <c>A * B</c>, <c>A.TransposeThisAndMultiply(B)</c> and the other products of
/// float64 and float32 dense matrices; every other operation is forwarded to MathNet's managed
/// provider. Each forwarded call costs a reflection call, fine for users' own MathNet code;
/// the toolkit's hot paths call <c>Blas</c> directly.
/// </summary>
type BlasLinearAlgebraProvider() =
    inherit System.Reflection.DispatchProxy()

    static let managed =
        lazy
            let previous = LinearAlgebraControl.Provider
            LinearAlgebraControl.UseManaged()
            let m = LinearAlgebraControl.Provider
            LinearAlgebraControl.Provider <- previous
            m

    static let isT (t: Transpose) = t <> Transpose.DontTranspose

    /// The gemm arguments of MathNet's MatrixMultiplyWithUpdate: transposes and m, n, k from the
    /// stored shapes of A (ra×ca) and B (rb×cb).
    static let gemmShape (ta: obj) (tb: obj) (ra: obj) (ca: obj) (rb: obj) (cb: obj) =
        let ta, tb = isT (ta :?> Transpose), isT (tb :?> Transpose)
        let ra, ca, rb, cb = ra :?> int, ca :?> int, rb :?> int, cb :?> int
        ta, tb, (if ta then ca else ra), (if tb then rb else cb), (if ta then ra else ca), ra, rb

    /// Dispatches one interface call.
    override _.Invoke(m: MethodInfo, args: obj[]) : obj =
        match m.Name, args with
        | "MatrixMultiplyWithUpdate", [| ta; tb; alpha; (:? (float[]) as a); ra; ca; (:? (float[]) as b); rb; cb; beta; (:? (float[]) as c) |] ->
            let ta, tb, mm, nn, kk, ra, rb = gemmShape ta tb ra ca rb cb
            Blas.gemm ta tb mm nn kk (alpha :?> float) a (max 1 ra) b (max 1 rb) (beta :?> float) c (max 1 mm)
            null
        | "MatrixMultiplyWithUpdate", [| ta; tb; alpha; (:? (float32[]) as a); ra; ca; (:? (float32[]) as b); rb; cb; beta; (:? (float32[]) as c) |] ->
            let ta, tb, mm, nn, kk, ra, rb = gemmShape ta tb ra ca rb cb
            Blas.sgemm ta tb mm nn kk (alpha :?> float32) a (max 1 ra) b (max 1 rb) (beta :?> float32) c (max 1 mm)
            null
        | "MatrixMultiply", [| (:? (float[]) as x); rx; cx; (:? (float[]) as y); _; cy; (:? (float[]) as r) |] ->
            let rx, cx, cy = rx :?> int, cx :?> int, cy :?> int
            Blas.gemm false false rx cy cx 1.0 x (max 1 rx) y (max 1 cx) 0.0 r (max 1 rx)
            null
        | "MatrixMultiply", [| (:? (float32[]) as x); rx; cx; (:? (float32[]) as y); _; cy; (:? (float32[]) as r) |] ->
            let rx, cx, cy = rx :?> int, cx :?> int, cy :?> int
            Blas.sgemm false false rx cy cx 1.0f x (max 1 rx) y (max 1 cx) 0.0f r (max 1 rx)
            null
        | _ ->
            try m.Invoke(managed.Value, args)
            with :? TargetInvocationException as e when not (isNull e.InnerException) ->
                raise e.InnerException

    /// Names the provider and the library behind it.
    override _.ToString() = sprintf "Toolkit provider: products on %s, the rest managed" (Blas.describe ())

/// Routing MathNet's products to OpenBLAS.
[<RequireQualifiedAccess>]
module MathNetBlas =
    let private installed =
        lazy
            if Blas.isNative () then
                LinearAlgebraControl.Provider <- DispatchProxy.Create<ILinearAlgebraProvider, BlasLinearAlgebraProvider>()
                true
            else
                eprintfn "Toolkit: %s" (Blas.describe ())
                false

    /// <summary>Makes MathNet's dense matrix products run on OpenBLAS (once per process);
    /// when OpenBLAS cannot be loaded, says so in one line on stderr and leaves MathNet on its
    /// managed provider. Returns true when OpenBLAS is in use.</summary>
    let install () = installed.Value
