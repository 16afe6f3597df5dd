namespace Toolkit.Nn

open System
open System.Numerics
open System.Numerics.Tensors
open MathNet.Numerics.LinearAlgebra

/// Image bytes to values, fast.
module internal Pixels =
    /// p / 255 for each byte, in float32: each Vector<byte> widened to four vectors of uint32,
    /// converted and divided in SIMD lanes (four times the speed of a library conversion followed
    /// by a division, which matters when every batch is converted as it is gathered).
    let toSingle (source: ReadOnlySpan<byte>) (destination: Span<float32>) =
        let n = source.Length
        let lanes = Numerics.Vector<byte>.Count
        let divisor = Numerics.Vector<float32>(255.0f)
        let quarter = lanes / 4
        let mutable i = 0
        while i + lanes <= n do
            let v : Numerics.Vector<byte> = Numerics.Vector.LoadUnsafe(&Runtime.InteropServices.MemoryMarshal.GetReference source, unativeint i)
            let lo : Numerics.Vector<uint16> = Numerics.Vector.WidenLower v
            let hi : Numerics.Vector<uint16> = Numerics.Vector.WidenUpper v
            (Numerics.Vector.ConvertToSingle(Numerics.Vector.WidenLower lo : Numerics.Vector<uint32>) / divisor).CopyTo(destination.Slice(i, quarter))
            (Numerics.Vector.ConvertToSingle(Numerics.Vector.WidenUpper lo : Numerics.Vector<uint32>) / divisor).CopyTo(destination.Slice(i + quarter, quarter))
            (Numerics.Vector.ConvertToSingle(Numerics.Vector.WidenLower hi : Numerics.Vector<uint32>) / divisor).CopyTo(destination.Slice(i + 2 * quarter, quarter))
            (Numerics.Vector.ConvertToSingle(Numerics.Vector.WidenUpper hi : Numerics.Vector<uint32>) / divisor).CopyTo(destination.Slice(i + 3 * quarter, quarter))
            i <- i + lanes
        while i < n do
            destination.[i] <- float32 source.[i] / 255.0f
            i <- i + 1

/// <summary>
/// Samples as a network reads them: features × samples, each sample's features side by side
/// (column-major, as a MathNet matrix stores them). Kept either as float64 values or as the
/// bytes of an image file, each pixel p standing for p / 255: an eighth of the memory, which is
/// what lets Fashion-MNIST train in a few hundred megabytes. Training converts each batch to its
/// precision as it gathers it, and the values are the same both ways: a byte's float32 value is
/// its float64 value rounded (a test checks all 256).
/// </summary>
[<Sealed>]
type Samples private (features: int, count: int, values: float[], pixels: byte[]) =
    do
        if features < 1 then invalidArg "features" (sprintf "a sample needs at least one feature, not %d" features)
        let stored = if isNull pixels then values.LongLength else pixels.LongLength
        if stored <> int64 features * int64 count then
            invalidArg "values" (sprintf "%d samples of %d features need %d values, not %d" count features (int64 features * int64 count) stored)

    /// <summary>Samples stored as float64 values, features × samples column-major: the array
    /// itself, not a copy.</summary>
    static member OfValues(features: int, values: float[]) : Samples =
        if isNull values then nullArg "values"
        if features < 1 then invalidArg "features" (sprintf "a sample needs at least one feature, not %d" features)
        Samples(features, values.Length / features, values, null)

    /// <summary>The columns of a matrix as samples (its own storage when it is dense, not a copy).</summary>
    static member OfMatrix(x: Matrix<float>) : Samples =
        if isNull x then nullArg "x"
        Samples(x.RowCount, x.ColumnCount, Toolkit.Tensors.Kernels.storage x, null)

    /// <summary>Image pixels 0–255 as samples with values pixel / 255, kept as the bytes
    /// themselves (not a copy): features pixels per sample, sample after sample.</summary>
    static member OfPixels(features: int, pixels: byte[]) : Samples =
        if isNull pixels then nullArg "pixels"
        if features < 1 then invalidArg "features" (sprintf "a sample needs at least one feature, not %d" features)
        Samples(features, pixels.Length / features, null, pixels)

    /// The number of features of a sample.
    member _.Features = features
    /// The number of samples.
    member _.Count = count
    /// The number of features (the rows of the matrix the samples stand for).
    member _.RowCount = features
    /// The number of samples (the columns of the matrix the samples stand for).
    member _.ColumnCount = count
    /// True when the samples are kept as image bytes (values byte / 255).
    member _.IsPixels = not (isNull pixels)

    /// Feature i of sample j, in float64.
    member _.Item(i: int, j: int) : float =
        if i < 0 || i >= features || j < 0 || j >= count then
            raise (ArgumentOutOfRangeException("i", sprintf "feature %d of sample %d: the samples are %d features × %d samples" i j features count))
        if isNull pixels then values.[j * features + i] else float pixels.[j * features + i] / 255.0

    /// <summary>Samples start … start + m − 1 (side by side in storage), converted to the
    /// precision of <paramref name="destination"/> (m × Features values).</summary>
    member _.CopyTo<'T when 'T :> INumberBase<'T> and 'T :> IDivisionOperators<'T, 'T, 'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>(start: int, m: int, destination: Span<'T>) =
        if start < 0 || m < 0 || start + m > count then
            raise (ArgumentOutOfRangeException("start", sprintf "samples %d to %d of %d" start (start + m - 1) count))
        let n = m * features
        if isNull pixels then TensorPrimitives.ConvertTruncating<float, 'T>(ReadOnlySpan<float>(values, start * features, n), destination.Slice(0, n))
        else
            // p / 255 divided in the target precision: correctly rounded, so equal to p / 255 in
            // float64 rounded once (255 has no factor 2, so no quotient lies on a rounding tie)
            let d = destination.Slice(0, n)
            let source = ReadOnlySpan<byte>(pixels, start * features, n)
            if typeof<'T> = typeof<float32> then Pixels.toSingle source (Runtime.InteropServices.MemoryMarshal.Cast<'T, float32> d)
            else
                TensorPrimitives.ConvertTruncating<byte, 'T>(source, d)
                TensorPrimitives.Divide<'T>(d, 'T.CreateTruncating 255, d)

    /// <summary>The samples at these indices, in the same storage (bytes stay bytes).</summary>
    member _.Columns(idx: int[]) : Samples =
        if isNull idx then nullArg "idx"
        for j in idx do
            if j < 0 || j >= count then raise (ArgumentOutOfRangeException("idx", sprintf "sample %d of %d" j count))
        let pick (source: 'a[]) =
            let a = Array.zeroCreate (features * idx.Length)
            idx |> Array.iteri (fun k j -> Array.blit source (j * features) a (k * features) features)
            a
        if isNull pixels then Samples(features, idx.Length, pick values, null)
        else Samples(features, idx.Length, null, pick pixels)

    /// <summary>The samples as a float64 matrix, features × samples: the stored values themselves
    /// when they are float64 (not a copy), a new matrix when they are bytes.</summary>
    member this.ToMatrix() : Matrix<float> =
        if isNull pixels then Matrix<float>.Build.Dense(features, count, values)
        else
            let a = Array.zeroCreate (features * count)
            this.CopyTo<float>(0, count, Span<float>(a))
            Matrix<float>.Build.Dense(features, count, a)
