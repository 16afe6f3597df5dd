namespace Toolkit.Nn

open System
open System.Numerics
open System.Numerics.Tensors
open Toolkit.Linalg

/// <summary>
/// What the layers, the losses and the optimisers do to raw buffers, in either precision: the
/// products through OpenBLAS (dgemm or sgemm, chosen by the element type), and the few
/// vectorised loops every layer shares. Buffers are column-major, one column per sample.
/// </summary>
module Buffers =

    let private isDouble<'T> = typeof<'T> = typeof<float>

    let private product<'T> (cut: bool) (ta: bool) (tb: bool) (m: int) (n: int) (k: int) (a: 'T[]) (aOff: int) (lda: int) (b: 'T[]) (bOff: int) (ldb: int)
                            (accumulate: bool) (c: 'T[]) (cOff: int) (ldc: int) =
        if isDouble<'T> then
            Blas.gemmAtCut cut ta tb m n k 1.0 (box a :?> float[]) aOff lda (box b :?> float[]) bOff ldb (if accumulate then 1.0 else 0.0) (box c :?> float[]) cOff ldc
        else
            Blas.sgemmAtCut cut ta tb m n k 1.0f (box a :?> float32[]) aOff lda (box b :?> float32[]) bOff ldb (if accumulate then 1.0f else 0.0f) (box c :?> float32[]) cOff ldc

    /// <summary>C[cOff..] ← op(A[aOff..])·op(B[bOff..]) in 'T's precision (dgemm or sgemm), its
    /// parts shared by the threads; with <paramref name="accumulate"/>, C ← C + op(A)·op(B).</summary>
    let gemm<'T> ta tb m n k (a: 'T[]) aOff lda (b: 'T[]) bOff ldb accumulate (c: 'T[]) cOff ldc =
        product true ta tb m n k a aOff lda b bOff ldb accumulate c cOff ldc

    /// <summary>gemm whole on the calling thread: for a loop whose parts (ranges of samples,
    /// <c>forParts</c>) the threads already share, each part's products its own.</summary>
    let gemmInPart<'T> ta tb m n k (a: 'T[]) aOff lda (b: 'T[]) bOff ldb accumulate (c: 'T[]) cOff ldc =
        product false ta tb m n k a aOff lda b bOff ldb accumulate c cOff ldc

    /// y ← alpha·x + y in 'T's precision (daxpy or saxpy).
    let axpy<'T> (alpha: float) (x: 'T[]) (y: 'T[]) =
        if isDouble<'T> then Blas.axpy alpha (box x :?> float[]) (box y :?> float[])
        else Blas.saxpy (float32 alpha) (box x :?> float32[]) (box y :?> float32[])

    /// g[gOff .. gOff + rows − 1] ← Σⱼ d[:, j] over the first cols columns: a bias gradient summed over the batch.
    let sumColumns<'T when 'T :> IFloatingPointIeee754<'T>> (rows: int) (cols: int) (d: 'T[]) (g: 'T[]) (gOff: int) =
        let acc = Span<'T>(g, gOff, rows)
        acc.Clear()
        for j in 0 .. cols - 1 do
            TensorPrimitives.Add(ReadOnlySpan<'T>(g, gOff, rows), ReadOnlySpan<'T>(d, j * rows, rows), acc)

    /// zⱼ ← zⱼ + b for each of the first cols columns of z (b has rows values, from bOff).
    let addColumn<'T when 'T :> IFloatingPointIeee754<'T>> (rows: int) (cols: int) (b: 'T[]) (bOff: int) (z: 'T[]) =
        let bias = ReadOnlySpan<'T>(b, bOff, rows)
        for j in 0 .. cols - 1 do
            TensorPrimitives.Add(ReadOnlySpan<'T>(z, j * rows, rows), bias, Span<'T>(z, j * rows, rows))

    /// <summary>body(first, last) over the samples [0, count), split into as many parts as the
    /// products have threads and run on those threads (one part inline): for the loops of the
    /// image layers between their products (im2col, pooling), which would otherwise leave the
    /// second core idle. The body must write only its own samples' values.</summary>
    let forParts (count: int) (body: Action<int, int>) =
        if Blas.threads () <= 1 then body.Invoke(0, count) else Workers.forRanges count body

    /// <summary>body(group, first, last) over the samples [0, count) cut into a number of groups
    /// fixed by the caller (never by the threads), the groups shared by the threads: for sums
    /// over samples, each group's its own, added in the groups' order, so that they have the
    /// same bits on any number of threads.</summary>
    let forGroups (count: int) (groups: int) (body: Action<int, int, int>) =
        if Blas.threads () <= 1 || groups <= 1 then
            for g in 0 .. groups - 1 do body.Invoke(g, count * g / groups, count * (g + 1) / groups)
        else Workers.run (GroupWork(count, groups, body)) groups

    /// The largest multiple of the vector width not above n.
    let inline vectorEnd<'T when 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType> (n: int) = n - n % Vector<'T>.Count
