namespace Toolkit.Nn

open MathNet.Numerics.LinearAlgebra

/// A network's weights and biases as one flat vector (W1 column-major, b1, W2, b2, …), the
/// form the optimisers work on.
[<RequireQualifiedAccess>]
module Parameters =

    /// How many parameters the network has.
    let count (n: Network) = n.Layers |> Array.sumBy (fun l -> l.W.RowCount * l.W.ColumnCount + l.B.RowCount)

    /// The parameters as one vector.
    let flatten (n: Network) : float[] =
        [| for l in n.Layers do
             yield! l.W.ToColumnMajorArray()
             yield! l.B.ToColumnMajorArray() |]

    /// The gradients in the same order as <c>flatten</c>.
    let flattenGradients (g: Gradients) : float[] =
        [| for l in 0 .. g.DW.Length - 1 do
             yield! g.DW.[l].ToColumnMajorArray()
             yield! g.DB.[l].ToColumnMajorArray() |]

    /// The network with its parameters replaced by a vector made by <c>flatten</c>.
    let unflatten (n: Network) (p: float[]) : Network =
        if p.Length <> count n then invalidArg "p" (sprintf "the network has %d parameters, the vector %d" (count n) p.Length)
        let mutable o = 0
        let take rows cols =
            let m = Matrix<float>.Build.Dense(rows, cols, Array.sub p o (rows * cols))
            o <- o + rows * cols
            m
        { n with
            Layers =
                n.Layers |> Array.map (fun l ->
                    let w = take l.W.RowCount l.W.ColumnCount
                    let b = take l.B.RowCount 1
                    { l with W = w; B = b }) }
