namespace Toolkit.Tensors

open System
open MathNet.Numerics.LinearAlgebra
open Toolkit.Linalg

/// The matrix kernels the tensor graph's rules are written with: products through OpenBLAS
/// with transpose flags (never a transposed copy), broadcasting and its reverse, reductions,
/// stable softmax.
module Kernels =

    /// A matrix's column-major storage, without a copy for dense matrices.
    let storage (m: Matrix<float>) =
        match m.AsColumnMajorArray() with
        | null -> m.ToColumnMajorArray()
        | a -> a

    /// op(A)·op(B) by one gemm call (op = transpose when the flag is set).
    let gemm (ta: bool) (tb: bool) (a: Matrix<float>) (b: Matrix<float>) : Matrix<float> =
        let m = if ta then a.ColumnCount else a.RowCount
        let k = if ta then a.RowCount else a.ColumnCount
        let n = if tb then b.RowCount else b.ColumnCount
        let c = Array.zeroCreate (m * n)
        Blas.gemm ta tb m n k 1.0 (storage a) a.RowCount (storage b) b.RowCount 0.0 c m
        Matrix<float>.Build.Dense(m, n, c)

    /// b broadcast to rows × cols (b a matrix of that shape, a row, a column or a scalar).
    let broadcast (b: Matrix<float>) (rows: int) (cols: int) : Matrix<float> =
        if b.RowCount = rows && b.ColumnCount = cols then b
        else Matrix<float>.Build.Dense(rows, cols, fun i j -> b.[(if b.RowCount = 1 then 0 else i), (if b.ColumnCount = 1 then 0 else j)])

    /// The reverse of broadcasting: d summed down to the shape of the broadcast operand
    /// (db = the row sums of dZ for a column bias).
    let reduceTo (d: Matrix<float>) (rows: int) (cols: int) : Matrix<float> =
        if d.RowCount = rows && d.ColumnCount = cols then d
        elif rows = 1 && cols = 1 then Matrix<float>.Build.Dense(1, 1, d.Enumerate() |> Seq.sum)
        elif rows = 1 then Matrix<float>.Build.DenseOfRowVectors(d.ColumnSums())
        else Matrix<float>.Build.DenseOfColumnVectors(d.RowSums())

    /// Sums along an axis: Axis.Rows gives 1×c, Axis.Cols gives r×1.
    let sumAxis (axis: Axis) (m: Matrix<float>) =
        match axis with
        | Axis.Rows -> Matrix<float>.Build.DenseOfRowVectors(m.ColumnSums())
        | Axis.Cols -> Matrix<float>.Build.DenseOfColumnVectors(m.RowSums())

    /// How many elements an axis reduction adds up.
    let axisCount (axis: Axis) (m: Matrix<float>) =
        match axis with
        | Axis.Rows -> m.RowCount
        | Axis.Cols -> m.ColumnCount

    /// Log-softmax along an axis, with the max subtracted so no exponential overflows.
    let logSoftmax (axis: Axis) (z: Matrix<float>) : Matrix<float> =
        let r = z.Clone()
        let lanes = match axis with Axis.Rows -> z.ColumnCount | Axis.Cols -> z.RowCount
        let length = match axis with Axis.Rows -> z.RowCount | Axis.Cols -> z.ColumnCount
        let at lane k = match axis with Axis.Rows -> k, lane | Axis.Cols -> lane, k
        for lane in 0 .. lanes - 1 do
            let mutable mx = Double.NegativeInfinity
            for k in 0 .. length - 1 do
                let i, j = at lane k
                mx <- max mx z.[i, j]
            let mutable s = 0.0
            for k in 0 .. length - 1 do
                let i, j = at lane k
                s <- s + Math.Exp(z.[i, j] - mx)
            let lse = mx + Math.Log s
            for k in 0 .. length - 1 do
                let i, j = at lane k
                r.[i, j] <- z.[i, j] - lse
        r

    /// Softmax along an axis, stable.
    let softmax (axis: Axis) (z: Matrix<float>) = (logSoftmax axis z).PointwiseExp()

    /// The number of samples of a batch in a layout.
    let samples (layout: Layout) (m: Matrix<float>) =
        match layout with
        | Layout.ColumnsAreSamples -> m.ColumnCount
        | Layout.RowsAreSamples -> m.RowCount

    /// The class axis of a layout (the one softmax normalises over).
    let classAxis (layout: Layout) =
        match layout with
        | Layout.ColumnsAreSamples -> Axis.Rows
        | Layout.RowsAreSamples -> Axis.Cols

