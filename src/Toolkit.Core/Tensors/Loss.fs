namespace Toolkit.Tensors

open Toolkit
open System
open System.Globalization

/// <summary>
/// A cost of a batch of predictions against targets, averaged over the samples: the one loss
/// type of the toolkit. The matrix graph's loss node, the networks and the fast training path
/// all take each loss's value and gradient from <c>Loss.sample</c> below.
/// </summary>
[<RequireQualifiedAccess>]
type Loss =
    /// ½‖a − y‖² per sample (the notes' quadratic cost).
    | Quadratic
    /// −Σ (y·log a + (1 − y)·log(1 − a)) per sample, each output a probability.
    | BinaryCrossEntropy
    /// −Σ y·log a per sample, the outputs a distribution over the classes.
    | CrossEntropy
    /// The multiclass SVM loss Σ_{j≠y} max(0, s_j − s_y + Δ) per sample, on the outputs as scores
    /// and one-hot targets (for other targets, Σ_j (1 − y_j)·max(0, s_j − Σ_k y_k·s_k + Δ)).
    | Hinge of margin: float

/// <summary>What a loss reads. A cross-entropy after its own link (binary cross-entropy after a
/// sigmoid, cross-entropy after a softmax) reads the logits z and takes the link in: the value
/// never takes the log of 0 and the gradient is a − y exactly, where σ′ or the softmax Jacobian
/// would underflow.</summary>
[<RequireQualifiedAccess>]
type LossInput =
    /// The outputs a themselves.
    | Outputs
    /// The logits z of a = σ(z) (binary cross-entropy) or a = softmax(z) (cross-entropy); for the
    /// quadratic and hinge losses, whose link is the identity, the same as Outputs.
    | Logits

/// The losses' names, values and gradients, one sample at a time.
[<RequireQualifiedAccess>]
[<CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Loss =

    /// The name used on the command line and in model files.
    let name (l: Loss) =
        match l with
        | Loss.Quadratic -> "quadratic"
        | Loss.BinaryCrossEntropy -> "bce"
        | Loss.CrossEntropy -> "cross-entropy"
        | Loss.Hinge m -> if m = 1.0 then "hinge" else sprintf "hinge:%s" (m.ToString("R", CultureInfo.InvariantCulture))

    /// Reads a name written by <c>name</c> (a hinge margin must be a positive finite number).
    let tryParse (text: string) : Loss option =
        match (if isNull text then "" else text.Trim().ToLowerInvariant()) with
        | "quadratic" | "mse" -> Some Loss.Quadratic
        | "bce" | "binary-cross-entropy" -> Some Loss.BinaryCrossEntropy
        | "cross-entropy" | "ce" -> Some Loss.CrossEntropy
        | "hinge" | "svm" -> Some(Loss.Hinge 1.0)
        | t when t.StartsWith "hinge:" ->
            match Double.TryParse(t.Substring 6, NumberStyles.Float, CultureInfo.InvariantCulture) with
            | true, m when Double.IsFinite m && m > 0.0 -> Some(Loss.Hinge m)
            | _ -> None
        | _ -> None

    /// Every loss, for the help text and the tests (the hinge loss with margin 1).
    let all = [ Loss.Quadratic; Loss.BinaryCrossEntropy; Loss.CrossEntropy; Loss.Hinge 1.0 ]

    // probabilities kept off 0 and 1 where no logit is available
    let private clampP (p: float) = min (1.0 - 1e-15) (max 1e-15 p)

    /// log(1 + eᶻ) − z·y, binary cross-entropy from a logit, as max(z, 0) − z·y + log(1 + e^−|z|):
    /// stable for any z.
    let bceWithLogit (z: float) (y: float) = max z 0.0 - z * y + Math.Log(1.0 + Math.Exp(-(abs z)))

    /// <summary>One sample's cost, and its gradients times <paramref name="scale"/> (1/m for a
    /// batch mean): with respect to the loss's input (<paramref name="dp"/>) and to the targets
    /// (<paramref name="dy"/>), written when those spans are not empty. <paramref name="p"/> holds
    /// the sample's outputs or logits (as <paramref name="input"/> says), <paramref name="y"/> its
    /// targets, in float64 or float32; the arithmetic is float64 either way.</summary>
    let sample<'T when 'T :> Numerics.IFloatingPointIeee754<'T>>
            (loss: Loss) (input: LossInput) (p: ReadOnlySpan<'T>) (y: ReadOnlySpan<'T>) (scale: float) (dp: Span<'T>) (dy: Span<'T>) : float =
        let n = p.Length
        let wantP, wantY = dp.Length > 0, dy.Length > 0
        let mutable cost = 0.0
        match loss, input with
        | Loss.Quadratic, _ ->
            // ½Σ(a − y)²: ∂/∂a = a − y, ∂/∂y = −(a − y)
            for i in 0 .. n - 1 do
                let d = Precision.load p.[i] - Precision.load y.[i]
                cost <- cost + 0.5 * d * d
                if wantP then dp.[i] <- Precision.store (d * scale)
                if wantY then dy.[i] <- Precision.store (-d * scale)
        | Loss.BinaryCrossEntropy, LossInput.Logits ->
            // ∂/∂z = σ(z) − y, ∂/∂y = −z
            for i in 0 .. n - 1 do
                let z, t = Precision.load p.[i], Precision.load y.[i]
                cost <- cost + bceWithLogit z t
                if wantP then dp.[i] <- Precision.store ((Toolkit.Graph.Rules.sigmoid z - t) * scale)
                if wantY then dy.[i] <- Precision.store (-z * scale)
        | Loss.BinaryCrossEntropy, LossInput.Outputs ->
            // ∂/∂a = (a − y)/(a(1 − a)), ∂/∂y = −(log a − log(1 − a))
            for i in 0 .. n - 1 do
                let a, t = clampP (Precision.load p.[i]), Precision.load y.[i]
                cost <- cost - (t * Math.Log a + (1.0 - t) * Math.Log(1.0 - a))
                if wantP then dp.[i] <- Precision.store ((a - t) / (a * (1.0 - a)) * scale)
                if wantY then dy.[i] <- Precision.store (-(Math.Log a - Math.Log(1.0 - a)) * scale)
        | Loss.CrossEntropy, LossInput.Logits ->
            // −Σ y·log softmax(z): ∂/∂z = softmax(z)·Σy − y (p − y for one-hot y), ∂/∂y = −log softmax(z)
            let mutable mx = Double.NegativeInfinity
            for i in 0 .. n - 1 do mx <- max mx (Precision.load p.[i])
            let mutable s = 0.0
            for i in 0 .. n - 1 do s <- s + Math.Exp(Precision.load p.[i] - mx)
            let lse = mx + Math.Log s
            let mutable mass = 0.0
            for i in 0 .. n - 1 do
                let z, t = Precision.load p.[i], Precision.load y.[i]
                cost <- cost - t * (z - lse)
                mass <- mass + t
                if wantY then dy.[i] <- Precision.store (-(z - lse) * scale)
            if wantP then
                for i in 0 .. n - 1 do dp.[i] <- Precision.store ((Math.Exp(Precision.load p.[i] - lse) * mass - Precision.load y.[i]) * scale)
        | Loss.CrossEntropy, LossInput.Outputs ->
            // −Σ y·log a: ∂/∂a = −y/a, ∂/∂y = −log a
            for i in 0 .. n - 1 do
                let a, t = clampP (Precision.load p.[i]), Precision.load y.[i]
                if t <> 0.0 then cost <- cost - t * Math.Log a
                if wantP then dp.[i] <- Precision.store (-t / a * scale)
                if wantY then dy.[i] <- Precision.store (-(Math.Log a) * scale)
        | Loss.Hinge margin, _ ->
            // Σ_j (1 − y_j)·max(0, s_j − s_y + Δ) with s_y = Σ_k y_k·s_k: for a one-hot y, the notes'
            // Σ_{j≠y} max(0, s_j − s_y + Δ); written so, it has one value and one gradient for any
            // targets, the same in every path (the scalar graph expands this very formula).
            // ∂/∂s_i = (1 − y_i)·[v_i > 0] − y_i·Σ_j (1 − y_j)·[v_j > 0]
            // ∂/∂y_i = −max(0, v_i) − s_i·Σ_j (1 − y_j)·[v_j > 0]
            let mutable sy = 0.0
            for i in 0 .. n - 1 do sy <- sy + Precision.load y.[i] * Precision.load p.[i]
            let mutable active = 0.0
            for i in 0 .. n - 1 do
                let v = Precision.load p.[i] - sy + margin
                if v > 0.0 then
                    cost <- cost + (1.0 - Precision.load y.[i]) * v
                    active <- active + (1.0 - Precision.load y.[i])
            for i in 0 .. n - 1 do
                let v = Precision.load p.[i] - sy + margin
                let on = if v > 0.0 then 1.0 else 0.0
                if wantP then dp.[i] <- Precision.store (((1.0 - Precision.load y.[i]) * on - Precision.load y.[i] * active) * scale)
                if wantY then dy.[i] <- Precision.store ((-(max 0.0 v) - Precision.load p.[i] * active) * scale)
        cost

    /// <summary>The mean cost over a batch whose columns are samples (<paramref name="p"/> holds
    /// outputs or logits, as <paramref name="input"/> says).</summary>
    let value (loss: Loss) (input: LossInput) (p: MathNet.Numerics.LinearAlgebra.Matrix<float>) (y: MathNet.Numerics.LinearAlgebra.Matrix<float>) : float =
        let ps, ys = p.ToColumnMajorArray(), y.ToColumnMajorArray()
        let n = p.RowCount
        let mutable cost = 0.0
        for j in 0 .. p.ColumnCount - 1 do
            cost <- cost + sample loss input (ReadOnlySpan(ps, j * n, n)) (ReadOnlySpan(ys, j * n, n)) 1.0 Span.Empty Span.Empty
        cost / float p.ColumnCount

    /// <summary>∂C/∂p for the mean cost over a batch whose columns are samples: for a
    /// cross-entropy from its logits, δᴸ = (a − y)/m.</summary>
    let gradient (loss: Loss) (input: LossInput) (p: MathNet.Numerics.LinearAlgebra.Matrix<float>) (y: MathNet.Numerics.LinearAlgebra.Matrix<float>) =
        let ps, ys = p.ToColumnMajorArray(), y.ToColumnMajorArray()
        let n, m = p.RowCount, p.ColumnCount
        let d = Array.zeroCreate (n * m)
        for j in 0 .. m - 1 do
            sample loss input (ReadOnlySpan(ps, j * n, n)) (ReadOnlySpan(ys, j * n, n)) (1.0 / float m) (Span(d, j * n, n)) Span.Empty |> ignore
        MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.Dense(n, m, d)
