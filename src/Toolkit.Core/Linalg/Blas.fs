namespace Toolkit.Linalg

#nowarn "9"

open System
open System.IO
open System.Reflection
open System.Runtime.InteropServices
open Microsoft.FSharp.NativeInterop

/// Which library the matrix products run on, where it came from, or why it is not there.
type BlasStatus =
    { /// "OpenBLAS" when the native library is in use, else "managed".
      Provider: string
      /// The library file that was loaded, with its folder, if any.
      Library: string option
      /// OpenBLAS's core type (openblas_get_corename), e.g. "Haswell".
      CoreName: string option
      /// OpenBLAS's build configuration (openblas_get_config).
      Config: string option
      /// The number of threads the products run on (1 for the managed provider).
      Threads: int
      /// Why the native library is not used, if it is not.
      Reason: string option }

/// The P/Invoke declarations: the one place that names a native function.
module internal Native =
    [<Literal>]
    let Lib = "openblas"

    [<DllImport(Lib, EntryPoint = "cblas_dgemm", CallingConvention = CallingConvention.Cdecl)>]
    extern void dgemm(int order, int transA, int transB, int m, int n, int k, double alpha, double* a, int lda, double* b, int ldb, double beta, double* c, int ldc)

    [<DllImport(Lib, EntryPoint = "cblas_sgemm", CallingConvention = CallingConvention.Cdecl)>]
    extern void sgemm(int order, int transA, int transB, int m, int n, int k, float32 alpha, float32* a, int lda, float32* b, int ldb, float32 beta, float32* c, int ldc)

    [<DllImport(Lib, EntryPoint = "cblas_dgemv", CallingConvention = CallingConvention.Cdecl)>]
    extern void dgemv(int order, int trans, int m, int n, double alpha, double* a, int lda, double* x, int incx, double beta, double* y, int incy)

    [<DllImport(Lib, EntryPoint = "cblas_daxpy", CallingConvention = CallingConvention.Cdecl)>]
    extern void daxpy(int n, double alpha, double* x, int incx, double* y, int incy)

    [<DllImport(Lib, EntryPoint = "cblas_saxpy", CallingConvention = CallingConvention.Cdecl)>]
    extern void saxpy(int n, float32 alpha, float32* x, int incx, float32* y, int incy)

    // OpenBLAS's own functions: called only after a probe found them in the library
    [<DllImport(Lib, EntryPoint = "openblas_get_corename", CallingConvention = CallingConvention.Cdecl)>]
    extern nativeint openblas_get_corename()

    [<DllImport(Lib, EntryPoint = "openblas_get_config", CallingConvention = CallingConvention.Cdecl)>]
    extern nativeint openblas_get_config()

    [<DllImport(Lib, EntryPoint = "openblas_get_num_threads", CallingConvention = CallingConvention.Cdecl)>]
    extern int openblas_get_num_threads()

    [<DllImport(Lib, EntryPoint = "openblas_set_num_threads", CallingConvention = CallingConvention.Cdecl)>]
    extern void openblas_set_num_threads(int n)

/// <summary>A product C ← alpha·op(A)·op(B) + beta·C cut into parts along C's columns (its
/// rows when it has more rows than columns), each part the same cblas call on a block of C: the
/// job <c>Workers</c> share out. One per calling thread, reused, so a product allocates nothing.
/// The arrays are pinned by the caller for as long as the parts run.</summary>
[<Sealed; AllowNullLiteral>]
type internal GemmParts() =
    inherit PartedWork()
    [<DefaultValue>] val mutable Single: bool
    [<DefaultValue>] val mutable TransA: bool
    [<DefaultValue>] val mutable TransB: bool
    [<DefaultValue>] val mutable M: int
    [<DefaultValue>] val mutable N: int
    [<DefaultValue>] val mutable K: int
    [<DefaultValue>] val mutable AlphaD: float
    [<DefaultValue>] val mutable BetaD: float
    [<DefaultValue>] val mutable AlphaS: float32
    [<DefaultValue>] val mutable BetaS: float32
    [<DefaultValue>] val mutable A: nativeint
    [<DefaultValue>] val mutable Lda: int
    [<DefaultValue>] val mutable B: nativeint
    [<DefaultValue>] val mutable Ldb: int
    [<DefaultValue>] val mutable C: nativeint
    [<DefaultValue>] val mutable Ldc: int
    [<DefaultValue>] val mutable Count: int
    [<ThreadStatic; DefaultValue>] static val mutable private mine: GemmParts

    /// This thread's job.
    static member Mine =
        if isNull GemmParts.mine then GemmParts.mine <- GemmParts()
        GemmParts.mine

    override j.Run(part: int) =
        let overColumns = j.N >= j.M
        let size = if overColumns then j.N else j.M
        let lo, hi = int (int64 size * int64 part / int64 j.Count), int (int64 size * int64 (part + 1) / int64 j.Count)
        let bytes = if j.Single then 4L else 8L
        let at (p: nativeint) (elements: int64) = p + nativeint (elements * bytes)
        // a block of columns of C takes the same columns of op(B) (rows of B when it is
        // transposed); a block of rows takes the same rows of op(A)
        let a, b, c, m, n =
            if overColumns then j.A, at j.B (if j.TransB then int64 lo else int64 lo * int64 j.Ldb), at j.C (int64 lo * int64 j.Ldc), j.M, hi - lo
            else at j.A (if j.TransA then int64 lo * int64 j.Lda else int64 lo), j.B, at j.C (int64 lo), hi - lo, j.N
        let ta, tb = (if j.TransA then 112 else 111), (if j.TransB then 112 else 111)
        if m > 0 && n > 0 then
            if j.Single then
                Native.sgemm(102, ta, tb, m, n, j.K, j.AlphaS, NativePtr.ofNativeInt a, j.Lda, NativePtr.ofNativeInt b, j.Ldb, j.BetaS, NativePtr.ofNativeInt c, j.Ldc)
            else
                Native.dgemm(102, ta, tb, m, n, j.K, j.AlphaD, NativePtr.ofNativeInt a, j.Lda, NativePtr.ofNativeInt b, j.Ldb, j.BetaD, NativePtr.ofNativeInt c, j.Ldc)

/// <summary>
/// OpenBLAS, bound by this project from Debian's <c>libopenblas0-pthread</c>, with a managed
/// fallback: the only code that calls native functions. Storage is column-major (MathNet's),
/// so every routine takes leading dimensions and transpose flags, never a transposed copy.
/// </summary>
[<RequireQualifiedAccess>]
module Blas =

    /// The file names tried, in order: the runtime package's, the -dev package's, the
    /// alternatives' generic BLAS.
    let candidates = [ "libopenblas.so.0"; "libopenblas.so"; "libblas.so.3" ]

    [<Literal>]
    let private ColMajor = 102

    let private trans (t: bool) = if t then 112 else 111

    /// The environment variable that forces managed code (value "managed"), as MathNet's
    /// MathNetNumericsLAProvider does for its own providers.
    [<Literal>]
    let EnvironmentVariable = "TOOLKIT_BLAS"

    // The library is probed once, on first use; the resolver points "openblas" at it.
    let private probe =
        lazy
          let result =
              let mutable handle = IntPtr.Zero
              let mutable loadedName = None
              let failures = ResizeArray<string>()
              let forced = Environment.GetEnvironmentVariable EnvironmentVariable
              if String.Equals(forced, "managed", StringComparison.OrdinalIgnoreCase) then
                  failures.Add(sprintf "%s=managed is set" EnvironmentVariable)
              for name in (if failures.Count > 0 then [] else candidates) do
                  if loadedName.IsNone then
                      match NativeLibrary.TryLoad name with
                      | true, h when NativeLibrary.TryGetExport(h, "cblas_dgemm") |> fst ->
                          handle <- h
                          loadedName <- Some name
                      | true, _ -> failures.Add(sprintf "%s has no cblas_dgemm" name)
                      | _ -> failures.Add(sprintf "%s not found" name)
              match loadedName with
              | Some name ->
                  try
                      NativeLibrary.SetDllImportResolver(
                          typeof<BlasStatus>.Assembly,
                          DllImportResolver(fun lib _ _ -> if lib = Native.Lib then handle else IntPtr.Zero))
                  with :? InvalidOperationException -> () // already set by an earlier probe in this process
                  // the file the loader actually mapped, from the process's own map
                  let path =
                      try
                          File.ReadLines "/proc/self/maps"
                          |> Seq.map (fun l -> l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                          |> Seq.filter (fun parts -> parts.Length >= 6)
                          |> Seq.map (fun parts -> parts.[5])
                          |> Seq.tryFind (fun p -> p.Contains "blas")
                      with _ -> None
                  let has (f: string) = NativeLibrary.TryGetExport(handle, f) |> fst
                  let text (p: nativeint) = Marshal.PtrToStringAnsi(p).Trim()
                  let isOpenBlas = has "openblas_get_corename"
                  // OpenBLAS runs each part of a product on the thread that calls it; Toolkit's
                  // threads share the parts (Workers), as many as OPENBLAS_NUM_THREADS says
                  // when it is set, else one per core
                  if has "openblas_set_num_threads" then Native.openblas_set_num_threads 1
                  match Int32.TryParse(Environment.GetEnvironmentVariable "OPENBLAS_NUM_THREADS") with
                  | true, n when n >= 1 -> Workers.setCount n
                  | _ -> ()
                  Ok { Provider = (if isOpenBlas then "OpenBLAS" else "BLAS")
                       Library = Some(defaultArg path name)
                       CoreName = (if isOpenBlas then Some(text (Native.openblas_get_corename ())) else None)
                       Config = (if has "openblas_get_config" then Some(text (Native.openblas_get_config ())) else None)
                       Threads = (if has "openblas_get_num_threads" then Native.openblas_get_num_threads () else 1)
                       Reason = None }
              | None -> Error(String.Join("; ", failures))
          match result with
          | Error why ->
              // the one line that says the products run on managed code, and why
              eprintfn "Toolkit: the matrix products run on managed code: OpenBLAS not loaded (%s)" why
          | Ok _ -> ()
          result

    let mutable private forceManaged = false

    let mutable private whole = false

    /// <summary>Sets the number of threads the products run on (no effect on the managed
    /// provider). They are Toolkit's, not OpenBLAS's (which runs each part on one thread): a
    /// product is cut into parts by its shape alone (<c>parts</c>), so its result has the same
    /// bits on any number of threads.</summary>
    let setThreads (n: int) =
        if n < 1 then invalidArg "n" (sprintf "the thread count must be at least 1, not %d" n)
        Workers.setCount n
        if whole && (match probe.Value with Ok s -> s.Provider = "OpenBLAS" | _ -> false) then Native.openblas_set_num_threads n

    /// <summary>Passes every product whole to OpenBLAS, to run on its own threads (as many as
    /// <c>threads</c>), instead of cutting it into parts for Toolkit's (true), or back (false):
    /// for comparisons and benchmarks, process-wide. Whole products may differ in their last
    /// bits from one thread count to another.</summary>
    let useOpenBlasThreads (on: bool) =
        match probe.Value with
        | Ok s when s.Provider = "OpenBLAS" ->
            whole <- on
            Native.openblas_set_num_threads (if on then Workers.count () else 1)
        | _ -> ()

    /// The number of threads the products run on now (1 on the managed provider).
    let threads () =
        match probe.Value with
        | Ok _ when not forceManaged -> Workers.count ()
        | _ -> 1

    /// <summary>How many parts a product of op(A) (m×k) by op(B) (k×n) is cut into: by its shape
    /// alone, so that its bits never depend on the threads. In two when each half keeps at least
    /// 4 MFLOP (and 16 columns or rows); further, up to 16, only while each part keeps 256 MFLOP,
    /// since every part packs its own copy of the operand it shares. Measured here: a training
    /// step of 784-256-128-10 at batch 128 (products of 8–51 MFLOP) cut in two takes 1% longer
    /// than whole on one thread and 4% less than OpenBLAS's own two threads on two (in four: 3%
    /// longer, and no faster). (The convolutions share their samples among the threads instead,
    /// each sample's products whole.)</summary>
    let parts (m: int) (n: int) (k: int) =
        let flops = 2.0 * float m * float n * float k
        let along = max m n
        let mutable p = 1
        while p < 16 && along / (2 * p) >= 16 && flops / float (2 * p) >= (if p = 1 then 4e6 else 256e6) do p <- p * 2
        p

    /// <summary>Runs the products on managed code even when OpenBLAS is loaded (true), or back
    /// on OpenBLAS (false): for comparisons and benchmarks. Process-wide.</summary>
    let useManaged (managed: bool) = forceManaged <- managed

    /// True when products run on the native library.
    let isNative () = not forceManaged && (match probe.Value with Ok _ -> true | Error _ -> false)

    /// Which provider runs, which library file was loaded from where, its core type and
    /// thread count, or why the native library is not used.
    let status () : BlasStatus =
        match probe.Value with
        | Ok s when not forceManaged -> { s with Threads = threads () }
        | Ok s -> { s with Provider = "managed"; Threads = 1; Reason = Some "managed code chosen with Blas.useManaged true" }
        | Error why ->
            { Provider = "managed"; Library = None; CoreName = None; Config = None; Threads = 1
              Reason =
                Some(if why.Contains EnvironmentVariable then sprintf "OpenBLAS not used (%s)" why
                     else sprintf "OpenBLAS could not be loaded (%s); install Debian's libopenblas0-pthread" why) }

    /// The status as one line, e.g. "OpenBLAS (Haswell, 2 threads) from /usr/lib/…".
    let describe () =
        let s = status ()
        match s.Reason with
        | None -> sprintf "%s (%s, %d thread%s) from %s" s.Provider (defaultArg s.CoreName "?") s.Threads (if s.Threads = 1 then "" else "s") (defaultArg s.Library "?")
        | Some why -> sprintf "managed linear algebra: %s" why

    let private checkGemm (m: int) (n: int) (k: int) (aLen: int) (lda: int) (ta: bool) (bLen: int) (ldb: int) (tb: bool) (cLen: int) (ldc: int) =
        let need (rows: int) (cols: int) (ld: int) = if cols = 0 then 0 else ld * (cols - 1) + rows
        let ar, ac = if ta then k, m else m, k
        let br, bc = if tb then n, k else k, n
        if lda < max 1 ar || aLen < need ar ac lda then invalidArg "a" (sprintf "gemm: A is stored as %d values with leading dimension %d, too few for %d×%d" aLen lda ar ac)
        if ldb < max 1 br || bLen < need br bc ldb then invalidArg "b" (sprintf "gemm: B is stored as %d values with leading dimension %d, too few for %d×%d" bLen ldb br bc)
        if ldc < max 1 m || cLen < need m n ldc then invalidArg "c" (sprintf "gemm: C is stored as %d values with leading dimension %d, too few for %d×%d" cLen ldc m n)

    let private managed = MathNet.Numerics.Providers.LinearAlgebra.ManagedLinearAlgebraProvider.Instance
    let private mnT (t: bool) =
        if t then MathNet.Numerics.Providers.LinearAlgebra.Transpose.Transpose
        else MathNet.Numerics.Providers.LinearAlgebra.Transpose.DontTranspose

    /// The managed kernel for strided storage at offsets (MathNet's managed provider takes dense
    /// storage only): C ← alpha·op(A)·op(B) + beta·C by the definition.
    let inline private stridedAt (ta: bool) (tb: bool) m n k (alpha: ^T) (a: ^T[]) aOff lda (b: ^T[]) bOff ldb (beta: ^T) (c: ^T[]) cOff ldc =
        for j in 0 .. n - 1 do
            for i in 0 .. m - 1 do
                let mutable s = LanguagePrimitives.GenericZero< ^T>
                for p in 0 .. k - 1 do
                    let av = if ta then a.[aOff + p + i * lda] else a.[aOff + i + p * lda]
                    let bv = if tb then b.[bOff + j + p * ldb] else b.[bOff + p + j * ldb]
                    s <- s + av * bv
                let ci = cOff + i + j * ldc
                c.[ci] <- alpha * s + (if beta = LanguagePrimitives.GenericZero< ^T> then LanguagePrimitives.GenericZero< ^T> else beta * c.[ci])

    /// The product in j's precision, its parts shared by the threads (the arrays pinned by the
    /// caller); whole when not cut (its caller is itself one part of a shared loop).
    let private shared (cut: bool) (j: GemmParts) ta tb m n k (a: nativeint) lda (b: nativeint) ldb (c: nativeint) ldc =
        j.TransA <- ta
        j.TransB <- tb
        j.M <- m
        j.N <- n
        j.K <- k
        j.A <- a
        j.Lda <- lda
        j.B <- b
        j.Ldb <- ldb
        j.C <- c
        j.Ldc <- ldc
        j.Count <- if whole || not cut then 1 else parts m n k
        if whole then j.Run 0 else Workers.run j j.Count

    /// The product on OpenBLAS with the arrays pinned for as long as the parts run; the job
    /// already holds the precision, alpha and beta.
    let inline private pinned cut (j: GemmParts) ta tb m n k (a: 'T[]) aOff lda (b: 'T[]) bOff ldb (c: 'T[]) cOff ldc =
        use pa = fixed a
        use pb = fixed b
        use pc = fixed c
        shared cut j ta tb m n k (NativePtr.toNativeInt (NativePtr.add pa aOff)) lda (NativePtr.toNativeInt (NativePtr.add pb bOff)) ldb (NativePtr.toNativeInt (NativePtr.add pc cOff)) ldc

    /// The float64 product on OpenBLAS.
    let private nativeD cut ta tb m n k (alpha: float) (a: float[]) aOff lda (b: float[]) bOff ldb (beta: float) (c: float[]) cOff ldc =
        let j = GemmParts.Mine
        j.Single <- false
        j.AlphaD <- alpha
        j.BetaD <- beta
        pinned cut j ta tb m n k a aOff lda b bOff ldb c cOff ldc

    /// The float32 product on OpenBLAS.
    let private nativeS cut ta tb m n k (alpha: float32) (a: float32[]) aOff lda (b: float32[]) bOff ldb (beta: float32) (c: float32[]) cOff ldc =
        let j = GemmParts.Mine
        j.Single <- true
        j.AlphaS <- alpha
        j.BetaS <- beta
        pinned cut j ta tb m n k a aOff lda b bOff ldb c cOff ldc

    /// <summary>C ← alpha·op(A)·op(B) + beta·C, column-major, float64 (cblas_dgemm).
    /// op(A) is m×k, op(B) is k×n, C is m×n; <c>ta</c>/<c>tb</c> transpose A/B in place.</summary>
    let gemm (ta: bool) (tb: bool) (m: int) (n: int) (k: int) (alpha: float) (a: float[]) (lda: int) (b: float[]) (ldb: int) (beta: float) (c: float[]) (ldc: int) =
        checkGemm m n k a.Length lda ta b.Length ldb tb c.Length ldc
        if m > 0 && n > 0 then
            if isNative () then
                nativeD true ta tb m n k alpha a 0 lda b 0 ldb beta c 0 ldc
            elif lda = (if ta then k else m) && ldb = (if tb then n else k) && ldc = m
                 && a.Length = m * k && b.Length = k * n && c.Length = m * n then
                // dense storage: MathNet's managed kernel (blocked, parallel)
                managed.MatrixMultiplyWithUpdate(mnT ta, mnT tb, alpha, a, (if ta then k else m), (if ta then m else k),
                                                 b, (if tb then n else k), (if tb then k else n), beta, c)
            else stridedAt ta tb m n k alpha a 0 lda b 0 ldb beta c 0 ldc

    /// Checks the storage of a product on parts of arrays; true when it has anything to compute.
    let private checkAt ta tb m n k aLen aOff lda bLen bOff ldb cLen cOff ldc =
        if aOff < 0 || bOff < 0 || cOff < 0 then invalidArg "offset" "gemm: offsets must not be negative"
        checkGemm m n k (aLen - aOff) lda ta (bLen - bOff) ldb tb (cLen - cOff) ldc
        m > 0 && n > 0

    /// The product on parts of arrays, checked, on the native library (native: nativeD or
    /// nativeS) or the managed kernel: one body for both precisions.
    let inline private productAt native (cut: bool) ta tb m n k alpha (a: ^T[]) aOff lda (b: ^T[]) bOff ldb beta (c: ^T[]) cOff ldc =
        if checkAt ta tb m n k a.Length aOff lda b.Length bOff ldb c.Length cOff ldc then
            if isNative () then native cut ta tb m n k alpha a aOff lda b bOff ldb beta c cOff ldc
            else stridedAt ta tb m n k alpha a aOff lda b bOff ldb beta c cOff ldc

    /// <summary>gemmAt, cut into parts for the threads (cut) or whole on the calling thread: for
    /// loops that already share their items (samples) out among the threads, one part each.</summary>
    let internal gemmAtCut (cut: bool) (ta: bool) (tb: bool) (m: int) (n: int) (k: int) (alpha: float)
                           (a: float[]) (aOff: int) (lda: int) (b: float[]) (bOff: int) (ldb: int) (beta: float) (c: float[]) (cOff: int) (ldc: int) =
        productAt nativeD cut ta tb m n k alpha a aOff lda b bOff ldb beta c cOff ldc

    /// <summary>gemm on parts of arrays: A, B and C start at the given offsets (the hot paths keep
    /// every layer's weights in one array). The storage is checked like <c>gemm</c>'s.</summary>
    let gemmAt (ta: bool) (tb: bool) (m: int) (n: int) (k: int) (alpha: float)
               (a: float[]) (aOff: int) (lda: int) (b: float[]) (bOff: int) (ldb: int) (beta: float) (c: float[]) (cOff: int) (ldc: int) =
        gemmAtCut true ta tb m n k alpha a aOff lda b bOff ldb beta c cOff ldc

    /// <summary>sgemmAt, cut into parts for the threads or whole (as gemmAtCut).</summary>
    let internal sgemmAtCut (cut: bool) (ta: bool) (tb: bool) (m: int) (n: int) (k: int) (alpha: float32)
                            (a: float32[]) (aOff: int) (lda: int) (b: float32[]) (bOff: int) (ldb: int) (beta: float32) (c: float32[]) (cOff: int) (ldc: int) =
        productAt nativeS cut ta tb m n k alpha a aOff lda b bOff ldb beta c cOff ldc

    /// <summary>gemmAt in single precision (cblas_sgemm on parts of arrays).</summary>
    let sgemmAt (ta: bool) (tb: bool) (m: int) (n: int) (k: int) (alpha: float32)
                (a: float32[]) (aOff: int) (lda: int) (b: float32[]) (bOff: int) (ldb: int) (beta: float32) (c: float32[]) (cOff: int) (ldc: int) =
        sgemmAtCut true ta tb m n k alpha a aOff lda b bOff ldb beta c cOff ldc

    /// <summary>C ← alpha·op(A)·op(B) + beta·C, column-major, float32 (cblas_sgemm).</summary>
    let sgemm (ta: bool) (tb: bool) (m: int) (n: int) (k: int) (alpha: float32) (a: float32[]) (lda: int) (b: float32[]) (ldb: int) (beta: float32) (c: float32[]) (ldc: int) =
        checkGemm m n k a.Length lda ta b.Length ldb tb c.Length ldc
        if m > 0 && n > 0 then
            if isNative () then
                nativeS true ta tb m n k alpha a 0 lda b 0 ldb beta c 0 ldc
            elif lda = (if ta then k else m) && ldb = (if tb then n else k) && ldc = m
                 && a.Length = m * k && b.Length = k * n && c.Length = m * n then
                managed.MatrixMultiplyWithUpdate(mnT ta, mnT tb, alpha, a, (if ta then k else m), (if ta then m else k),
                                                 b, (if tb then n else k), (if tb then k else n), beta, c)
            else stridedAt ta tb m n k alpha a 0 lda b 0 ldb beta c 0 ldc

    /// <summary>y ← alpha·op(A)·x + beta·y, column-major A of m×n (cblas_dgemv).</summary>
    let gemv (ta: bool) (m: int) (n: int) (alpha: float) (a: float[]) (lda: int) (x: float[]) (beta: float) (y: float[]) =
        let xLen, yLen = if ta then m, n else n, m
        if lda < max 1 m || a.Length < lda * (n - 1) + m then invalidArg "a" (sprintf "gemv: A has %d values, too few for %d×%d" a.Length m n)
        if x.Length < xLen then invalidArg "x" (sprintf "gemv: x has %d values, needs %d" x.Length xLen)
        if y.Length < yLen then invalidArg "y" (sprintf "gemv: y has %d values, needs %d" y.Length yLen)
        if isNative () && m > 0 && n > 0 then
            use pa = fixed a
            use px = fixed x
            use py = fixed y
            Native.dgemv(ColMajor, trans ta, m, n, alpha, pa, lda, px, 1, beta, py, 1)
        else
            for i in 0 .. yLen - 1 do
                let mutable s = 0.0
                for p in 0 .. xLen - 1 do
                    s <- s + (if ta then a.[p + i * lda] else a.[i + p * lda]) * x.[p]
                y.[i] <- alpha * s + (if beta = 0.0 then 0.0 else beta * y.[i])

    /// <summary>y ← alpha·x + y (cblas_daxpy).</summary>
    let axpy (alpha: float) (x: float[]) (y: float[]) =
        if x.Length <> y.Length then invalidArg "y" (sprintf "axpy: x has %d values, y has %d" x.Length y.Length)
        if isNative () && x.Length > 0 then
            use px = fixed x
            use py = fixed y
            Native.daxpy(x.Length, alpha, px, 1, py, 1)
        else
            for i in 0 .. x.Length - 1 do y.[i] <- y.[i] + alpha * x.[i]

    /// <summary>y ← alpha·x + y in single precision (cblas_saxpy).</summary>
    let saxpy (alpha: float32) (x: float32[]) (y: float32[]) =
        if x.Length <> y.Length then invalidArg "y" (sprintf "axpy: x has %d values, y has %d" x.Length y.Length)
        if isNative () && x.Length > 0 then
            use px = fixed x
            use py = fixed y
            Native.saxpy(x.Length, alpha, px, 1, py, 1)
        else
            for i in 0 .. x.Length - 1 do y.[i] <- y.[i] + alpha * x.[i]
