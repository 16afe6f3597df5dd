namespace Toolkit.Nn

open System
open MathNet.Numerics.LinearAlgebra
open Toolkit.Tensors

/// A cost over a batch (columns are samples), averaged over the samples.
[<RequireQualifiedAccess>]
type Loss =
    /// ½‖a − y‖² per sample (the notes' quadratic cost).
    | Quadratic
    /// −(y·log a + (1 − y)·log(1 − a)) per output; computed from z when the output is σ(z).
    | BinaryCrossEntropy
    /// −Σ y·log a per sample; fused with a softmax output (gradient a − y, stable for any logits).
    | CrossEntropy
    /// The multiclass SVM loss Σ_{j≠y} max(0, s_j − s_y + Δ) per sample, on the outputs as scores.
    | Hinge of margin: float

/// Costs and their gradients, and δᴸ, the first of the four backpropagation equations.
[<RequireQualifiedAccess>]
[<CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Loss =

    /// The name used on the command line and in model files.
    let name (l: Loss) =
        match l with
        | Loss.Quadratic -> "quadratic"
        | Loss.BinaryCrossEntropy -> "bce"
        | Loss.CrossEntropy -> "cross-entropy"
        | Loss.Hinge m -> if m = 1.0 then "hinge" else sprintf "hinge:%s" (m.ToString("R", Globalization.CultureInfo.InvariantCulture))

    /// Reads a name written by <c>name</c>.
    let tryParse (text: string) : Loss option =
        match text.Trim().ToLowerInvariant() with
        | "quadratic" | "mse" -> Some Loss.Quadratic
        | "bce" | "binary-cross-entropy" -> Some Loss.BinaryCrossEntropy
        | "cross-entropy" | "ce" -> Some Loss.CrossEntropy
        | "hinge" | "svm" -> Some(Loss.Hinge 1.0)
        | t when t.StartsWith "hinge:" ->
            match Double.TryParse(t.Substring 6, Globalization.NumberStyles.Float, Globalization.CultureInfo.InvariantCulture) with
            | true, m -> Some(Loss.Hinge m)
            | _ -> None
        | _ -> None

    // probabilities kept off 0 and 1 only where no logit is available
    let private clampP (p: float) = min (1.0 - 1e-15) (max 1e-15 p)

    /// The class of each sample: the row of its largest target.
    let labels (y: Matrix<float>) = Array.init y.ColumnCount (fun j -> y.Column(j).MaximumIndex())

    /// <summary>The cost C, averaged over the samples, from the output layer's z and a = g(z).</summary>
    let value (loss: Loss) (output: Activation) (z: Matrix<float>) (a: Matrix<float>) (y: Matrix<float>) : float =
        let m = float a.ColumnCount
        match loss, output with
        | Loss.Quadratic, _ -> let d = a - y in 0.5 * (d.PointwiseMultiply(d).Enumerate() |> Seq.sum) / m
        | Loss.BinaryCrossEntropy, Activation.Sigmoid ->
            (Seq.map2 Kernels.bceWithLogit (z.Enumerate()) (y.Enumerate()) |> Seq.sum) / m
        | Loss.BinaryCrossEntropy, _ ->
            -(Seq.map2 (fun p t -> let p = clampP p in t * log p + (1.0 - t) * log (1.0 - p)) (a.Enumerate()) (y.Enumerate()) |> Seq.sum) / m
        | Loss.CrossEntropy, Activation.Softmax ->
            -((Kernels.logSoftmax Axis.Rows z).PointwiseMultiply(y).Enumerate() |> Seq.sum) / m
        | Loss.CrossEntropy, _ ->
            -(Seq.map2 (fun p t -> if t = 0.0 then 0.0 else t * log (clampP p)) (a.Enumerate()) (y.Enumerate()) |> Seq.sum) / m
        | Loss.Hinge margin, _ ->
            let cls = labels y
            let mutable s = 0.0
            for j in 0 .. a.ColumnCount - 1 do
                let sy = a.[cls.[j], j]
                for i in 0 .. a.RowCount - 1 do
                    if i <> cls.[j] then s <- s + max 0.0 (a.[i, j] - sy + margin)
            s / m

    /// <summary>∇ₐC: the cost's gradient with respect to the outputs a (averaged over samples).</summary>
    let gradient (loss: Loss) (a: Matrix<float>) (y: Matrix<float>) : Matrix<float> =
        let m = float a.ColumnCount
        match loss with
        | Loss.Quadratic -> (a - y).Divide m
        | Loss.BinaryCrossEntropy ->
            Matrix<float>.Build.Dense(a.RowCount, a.ColumnCount, fun i j ->
                let p = clampP a.[i, j]
                (p - y.[i, j]) / (p * (1.0 - p)) / m)
        | Loss.CrossEntropy -> Matrix<float>.Build.Dense(a.RowCount, a.ColumnCount, fun i j -> -y.[i, j] / clampP a.[i, j] / m)
        | Loss.Hinge margin ->
            // d/ds_j = 1(s_j − s_y + Δ > 0) for j ≠ y; d/ds_y = −(how many margins were violated)
            let cls = labels y
            let g = Matrix<float>.Build.Dense(a.RowCount, a.ColumnCount)
            for j in 0 .. a.ColumnCount - 1 do
                let sy = a.[cls.[j], j]
                for i in 0 .. a.RowCount - 1 do
                    if i <> cls.[j] && a.[i, j] - sy + margin > 0.0 then
                        g.[i, j] <- 1.0 / m
                        g.[cls.[j], j] <- g.[cls.[j], j] - 1.0 / m
            g

    /// <summary>δᴸ = ∇ₐC ⊙ σ′(zᴸ), the first backpropagation equation; with the fused pairs
    /// (sigmoid + binary cross-entropy, softmax + cross-entropy) it is (a − y)/m directly,
    /// which stays exact where σ′ underflows.</summary>
    let outputDelta (loss: Loss) (output: Activation) (z: Matrix<float>) (a: Matrix<float>) (y: Matrix<float>) : Matrix<float> =
        let m = float a.ColumnCount
        match loss, output with
        | Loss.BinaryCrossEntropy, Activation.Sigmoid -> (a - y).Divide m
        | Loss.CrossEntropy, Activation.Softmax ->
            // a·Σy − y: a − y for one-hot targets
            let mass = Kernels.broadcast (Kernels.sumAxis Axis.Rows y) a.RowCount a.ColumnCount
            (a.PointwiseMultiply mass - y).Divide m
        | _ -> Activation.backward output z a (gradient loss a y)

    /// The same cost as a matrix-graph node over the output layer's z (for checking).
    let toTExpr (loss: Loss) (output: Activation) (z: TExpr) (y: TExpr) : TExpr =
        let a = Activation.toTExpr output z
        let m = float (TExpr.shape z).Cols
        match loss, output with
        | Loss.Quadratic, _ -> TExpr.loss (TLoss.Quadratic Layout.ColumnsAreSamples) a y
        | Loss.BinaryCrossEntropy, Activation.Sigmoid -> TExpr.loss (TLoss.BinaryCrossEntropyWithLogits Layout.ColumnsAreSamples) z y
        | Loss.CrossEntropy, Activation.Softmax -> TExpr.loss (TLoss.SoftmaxCrossEntropy Layout.ColumnsAreSamples) z y
        | Loss.BinaryCrossEntropy, _ ->
            let oneMinus (t: TExpr) = TExpr.add (TExpr.neg t) (TExpr.fill 1 1 1.0)
            TExpr.scale (-1.0 / m) (TExpr.sumAll (TExpr.add (TExpr.mul y (TExpr.log a)) (TExpr.mul (oneMinus y) (TExpr.log (oneMinus a)))))
        | Loss.CrossEntropy, _ -> TExpr.scale (-1.0 / m) (TExpr.sumAll (TExpr.mul y (TExpr.log a)))
        | Loss.Hinge _, _ -> invalidArg "loss" "the hinge loss has no matrix-graph form (it is checked against its own finite differences)"
