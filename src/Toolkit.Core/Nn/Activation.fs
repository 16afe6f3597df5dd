namespace Toolkit.Nn

open System
open MathNet.Numerics.LinearAlgebra
open Toolkit.Tensors

/// A layer's activation function a = g(z), applied to each column (sample) of Z.
[<RequireQualifiedAccess>]
type Activation =
    /// g(z) = z
    | Identity
    /// σ(z) = 1 / (1 + e⁻ᶻ); σ′ = σ(1 − σ)
    | Sigmoid
    /// tanh z; tanh′ = 1 − tanh²
    | Tanh
    /// max(0, z); derivative 1 for z > 0, 0 for z ≤ 0
    | Relu
    /// z for z > 0, slope·z otherwise
    | LeakyRelu of slope: float
    /// softmax over each column (each sample's outputs sum to 1); its Jacobian is diag(p) − ppᵀ
    | Softmax

/// Activations and their derivatives on matrices whose columns are samples.
[<RequireQualifiedAccess>]
[<CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Activation =

    /// The name used on the command line and in model files.
    let name (a: Activation) =
        match a with
        | Activation.Identity -> "identity"
        | Activation.Sigmoid -> "sigmoid"
        | Activation.Tanh -> "tanh"
        | Activation.Relu -> "relu"
        | Activation.LeakyRelu s -> if s = 0.01 then "leaky-relu" else sprintf "leaky-relu:%s" (s.ToString("R", Globalization.CultureInfo.InvariantCulture))
        | Activation.Softmax -> "softmax"

    /// Reads a name written by <c>name</c>.
    let tryParse (text: string) : Activation option =
        match text.Trim().ToLowerInvariant() with
        | "identity" | "linear" -> Some Activation.Identity
        | "sigmoid" -> Some Activation.Sigmoid
        | "tanh" -> Some Activation.Tanh
        | "relu" -> Some Activation.Relu
        | "leaky-relu" | "leakyrelu" -> Some(Activation.LeakyRelu 0.01)
        | "softmax" -> Some Activation.Softmax
        | t when t.StartsWith "leaky-relu:" ->
            match Double.TryParse(t.Substring 11, Globalization.NumberStyles.Float, Globalization.CultureInfo.InvariantCulture) with
            | true, s -> Some(Activation.LeakyRelu s)
            | _ -> None
        | _ -> None

    /// a = g(z).
    let apply (g: Activation) (z: Matrix<float>) : Matrix<float> =
        match g with
        | Activation.Identity -> z.Clone()
        | Activation.Sigmoid -> z.Map(Func<float, float>(Toolkit.Graph.Rules.sigmoid))
        | Activation.Tanh -> z.PointwiseTanh()
        | Activation.Relu -> z.Map(fun x -> if x > 0.0 then x else 0.0)
        | Activation.LeakyRelu s -> z.Map(fun x -> if x > 0.0 then x else s * x)
        | Activation.Softmax -> Kernels.softmax Axis.Rows z

    /// <summary>g′(z) elementwise, given z and a = g(z) (None for softmax, whose derivative is a
    /// Jacobian per sample, not elementwise).</summary>
    let derivative (g: Activation) (z: Matrix<float>) (a: Matrix<float>) : Matrix<float> option =
        match g with
        | Activation.Identity -> Some(Matrix<float>.Build.Dense(z.RowCount, z.ColumnCount, 1.0))
        | Activation.Sigmoid -> Some(a.Map(fun s -> s * (1.0 - s)))
        | Activation.Tanh -> Some(a.Map(fun t -> 1.0 - t * t))
        | Activation.Relu -> Some(z.Map(fun x -> if x > 0.0 then 1.0 else 0.0))
        | Activation.LeakyRelu s -> Some(z.Map(fun x -> if x > 0.0 then 1.0 else s))
        | Activation.Softmax -> None

    /// <summary>dz from da through the activation: da ⊙ g′(z), or for softmax each sample's
    /// Jacobianᵀ·da = p ⊙ (da − pᵀda).</summary>
    let backward (g: Activation) (z: Matrix<float>) (a: Matrix<float>) (da: Matrix<float>) : Matrix<float> =
        match derivative g z a with
        | Some d -> da.PointwiseMultiply d
        | None ->
            let s = Kernels.sumAxis Axis.Rows (da.PointwiseMultiply a)
            a.PointwiseMultiply(da - Kernels.broadcast s a.RowCount a.ColumnCount)

    /// The softmax Jacobian of one sample's probabilities p: diag(p) − ppᵀ (p_i(1 − p_i) on the
    /// diagonal, −p_i·p_j off it, as in the notes).
    let softmaxJacobian (p: Vector<float>) : Matrix<float> =
        Matrix<float>.Build.DiagonalOfDiagonalVector(p) - p.OuterProduct p

    /// The same activation as a matrix-graph node (for checking the layers against the graph).
    let toTExpr (g: Activation) (z: TExpr) : TExpr =
        match g with
        | Activation.Identity -> z
        | Activation.Sigmoid -> TExpr.sigmoid z
        | Activation.Tanh -> TExpr.tanh z
        | Activation.Relu -> TExpr.relu z
        | Activation.LeakyRelu s -> TExpr.add (TExpr.relu z) (TExpr.scale -s (TExpr.relu (TExpr.neg z)))
        | Activation.Softmax -> TExpr.softmax Axis.Rows z
