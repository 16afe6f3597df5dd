namespace Toolkit.Nn

open Toolkit
open System
open System.Globalization
open MathNet.Numerics.LinearAlgebra
// after MathNet, so that Vector<'T> is the SIMD vector
open System.Numerics
open System.Numerics.Tensors
open Toolkit.Graph
open Toolkit.Tensors

/// <summary>An activation a = g(z), applied to each column (sample) of Z: the identity, any op
/// of the scalar vocabulary applied to each element (its value and derivative come from the one
/// table of derivatives, <c>Toolkit.Graph.Rules</c>), or a softmax over each sample's outputs.</summary>
[<RequireQualifiedAccess>]
type Activation =
    /// g(z) = z
    | Identity
    /// g = an op of the scalar vocabulary, applied to each element (σ, tanh, ReLU, softplus, GELU, …).
    | Elementwise of op: UnaryOp
    /// softmax over each column (each sample's outputs sum to 1); its Jacobian is diag(p) − ppᵀ
    | Softmax
    /// σ(z) = 1 / (1 + e⁻ᶻ); σ′ = σ(1 − σ)
    static member Sigmoid = Activation.Elementwise UnaryOp.Sigmoid
    /// tanh z; tanh′ = 1 − tanh²
    static member Tanh = Activation.Elementwise UnaryOp.Tanh
    /// max(0, z); derivative 1 for z > 0, 0 for z ≤ 0
    static member Relu = Activation.Elementwise UnaryOp.Relu
    /// z for z > 0, slope·z otherwise
    static member LeakyRelu(slope: float) = Activation.Elementwise(UnaryOp.LeakyRelu slope)

/// Activations: names, the passes over buffers, and their matrix-graph form.
[<RequireQualifiedAccess>]
[<CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Activation =

    /// The name used on the command line and in model files: the op's own name from the table
    /// of derivatives, with its parameter after a colon (<c>leakyrelu:0.2</c>).
    let name (a: Activation) =
        match a with
        | Activation.Identity -> "identity"
        | Activation.Softmax -> "softmax"
        | Activation.Elementwise op ->
            match Rules.parameter op with
            | Some p when p <> Rules.DefaultLeakySlope -> sprintf "%s:%s" (Rules.name op) (p.ToString("R", CultureInfo.InvariantCulture))
            | _ -> Rules.name op

    /// <summary>Reads a name written by <c>name</c>: <c>identity</c>, <c>softmax</c>, or any
    /// function of the vocabulary (<c>Rules.callable</c>), with <c>:parameter</c> for one that takes
    /// one. Earlier spellings (<c>leaky-relu</c>, <c>linear</c>) are read too.</summary>
    let tryParse (text: string) : Activation option =
        let t = if isNull text then "" else text.Trim().ToLowerInvariant()
        let t = if t.StartsWith "leaky-relu" then "leakyrelu" + t.Substring 10 else t
        match t with
        | "identity" | "linear" -> Some Activation.Identity
        | "softmax" -> Some Activation.Softmax
        | _ ->
            let fn, parameter =
                match t.IndexOf ':' with
                | -1 -> t, Ok None
                | i ->
                    match Double.TryParse(t.Substring(i + 1), NumberStyles.Float, CultureInfo.InvariantCulture) with
                    | true, p when Double.IsFinite p -> t.Substring(0, i), Ok(Some p)
                    | _ -> t.Substring(0, i), Error()
            match Rules.callable.TryGetValue fn, parameter with
            | (true, make), Ok p ->
                let op = make p
                if p.IsSome && (Rules.parameter op).IsNone then None else Some(Activation.Elementwise op)
            | _ -> None

    /// Every activation by name (one per op of the vocabulary, parameters at their defaults).
    let names () = [ yield "identity"; yield! Rules.callable.Keys |> Seq.sort; yield "softmax" ]

    /// <summary>a ← g(z) on the first rows·cols values (one column per sample). σ, tanh, ReLU and
    /// the leaky ReLU run in SIMD lanes of the storage precision (measured on the training
    /// benchmark, docs/performance.md), each element's bits a function of its own value alone
    /// (σ and tanh through <c>Lanes</c>); every other op of the vocabulary takes its value from the
    /// table of derivatives, element by element in float64.</summary>
    let forward<'T when 'T :> IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>
            (g: Activation) (rows: int) (cols: int) (z: 'T[]) (a: 'T[]) =
        let n = rows * cols
        match g with
        | Activation.Identity -> Array.blit z 0 a 0 n
        | Activation.Elementwise (UnaryOp.Sigmoid | UnaryOp.Tanh as op) -> Lanes.forward op z 0 a 0 n
        | Activation.Elementwise UnaryOp.Relu -> TensorPrimitives.Max(ReadOnlySpan<'T>(z, 0, n), 'T.Zero, Span<'T>(a, 0, n))
        | Activation.Elementwise (UnaryOp.LeakyRelu s) ->
            let slope = Vector<'T>(Precision.store<'T> s)
            let e = Buffers.vectorEnd<'T> n
            let mutable i = 0
            while i < e do
                let v = Vector<'T>(z, i)
                Vector.ConditionalSelect(Vector.GreaterThan(v, Vector<'T>.Zero), v, v * slope).CopyTo(a, i)
                i <- i + Vector<'T>.Count
            // the last, partial vector by the lanes' own formula, so that no element's bits follow its place
            let slope = Precision.store<'T> s
            for i in e .. n - 1 do a.[i] <- (if 'T.op_GreaterThan(z.[i], 'T.Zero) then z.[i] else 'T.op_Multiply(z.[i], slope))
        | Activation.Elementwise op ->
            for i in 0 .. n - 1 do a.[i] <- Precision.store<'T> (Rules.unary op (Precision.load z.[i]))
        | Activation.Softmax ->
            // column by column, the largest value subtracted first, summed in float64
            for j in 0 .. cols - 1 do
                let o = j * rows
                let mx = Precision.load (TensorPrimitives.Max(ReadOnlySpan<'T>(z, o, rows)))
                let mutable s = 0.0
                for i in 0 .. rows - 1 do s <- s + Math.Exp(Precision.load z.[o + i] - mx)
                for i in 0 .. rows - 1 do a.[o + i] <- Precision.store<'T> (Math.Exp(Precision.load z.[o + i] - mx) / s)

    // dz ← da ⊙ op′(z) from the table of derivatives, for the elements from .. until − 1
    let private byTable<'T when 'T :> IFloatingPointIeee754<'T>> (op: UnaryOp) (from: int) (until: int) (z: 'T[]) (a: 'T[]) (da: 'T[]) (dz: 'T[]) =
        for i in from .. until - 1 do
            dz.[i] <- Precision.store<'T> (Precision.load da.[i] * Rules.dUnary op (Precision.load z.[i]) (Precision.load a.[i]))

    /// <summary>dz ← da ⊙ g′(z) on the first rows·cols values (dz may be da itself), g′ from the
    /// table of derivatives given z and a = g(z) — σ′ = a(1 − a), tanh′ = 1 − a² — in SIMD lanes
    /// for the ops <c>forward</c> vectorises (the last, partial vector by the lanes' formula, so
    /// that an element's bits never follow its place); softmax: each column's Jacobianᵀ·da = a ⊙ (da − aᵀda).</summary>
    let backward<'T when 'T :> IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>
            (g: Activation) (rows: int) (cols: int) (z: 'T[]) (a: 'T[]) (da: 'T[]) (dz: 'T[]) =
        let n = rows * cols
        let e = Buffers.vectorEnd<'T> n
        let w = Vector<'T>.Count
        let one = Vector<'T>.One
        match g with
        | Activation.Identity -> if not (obj.ReferenceEquals(da, dz)) then Array.blit da 0 dz 0 n
        | Activation.Elementwise UnaryOp.Sigmoid ->
            let mutable i = 0
            while i < e do
                let s = Vector<'T>(a, i)
                (Vector<'T>(da, i) * s * (one - s)).CopyTo(dz, i)
                i <- i + w
            for i in e .. n - 1 do dz.[i] <- 'T.op_Multiply('T.op_Multiply(da.[i], a.[i]), 'T.op_Subtraction('T.One, a.[i]))
        | Activation.Elementwise UnaryOp.Tanh ->
            let mutable i = 0
            while i < e do
                let t = Vector<'T>(a, i)
                (Vector<'T>(da, i) * (one - t * t)).CopyTo(dz, i)
                i <- i + w
            for i in e .. n - 1 do dz.[i] <- 'T.op_Multiply(da.[i], 'T.op_Subtraction('T.One, 'T.op_Multiply(a.[i], a.[i])))
        | Activation.Elementwise UnaryOp.Relu ->
            let mutable i = 0
            while i < e do
                Vector.ConditionalSelect(Vector.GreaterThan(Vector<'T>(z, i), Vector<'T>.Zero), Vector<'T>(da, i), Vector<'T>.Zero).CopyTo(dz, i)
                i <- i + w
            for i in e .. n - 1 do dz.[i] <- (if 'T.op_GreaterThan(z.[i], 'T.Zero) then da.[i] else 'T.Zero)
        | Activation.Elementwise (UnaryOp.LeakyRelu s) ->
            let slope = Vector<'T>(Precision.store<'T> s)
            let mutable i = 0
            while i < e do
                let dv = Vector<'T>(da, i)
                Vector.ConditionalSelect(Vector.GreaterThan(Vector<'T>(z, i), Vector<'T>.Zero), dv, dv * slope).CopyTo(dz, i)
                i <- i + w
            let slope = Precision.store<'T> s
            for i in e .. n - 1 do dz.[i] <- (if 'T.op_GreaterThan(z.[i], 'T.Zero) then da.[i] else 'T.op_Multiply(da.[i], slope))
        | Activation.Elementwise op -> byTable op 0 n z a da dz
        | Activation.Softmax ->
            for j in 0 .. cols - 1 do
                let o = j * rows
                let s = Precision.load (TensorPrimitives.Dot(ReadOnlySpan<'T>(da, o, rows), ReadOnlySpan<'T>(a, o, rows)))
                for i in 0 .. rows - 1 do dz.[o + i] <- Precision.store<'T> (Precision.load a.[o + i] * (Precision.load da.[o + i] - s))

    /// a = g(z) for a matrix whose columns are samples (the same pass as the layers take).
    let apply (g: Activation) (z: Matrix<float>) : Matrix<float> =
        let zs = z.ToColumnMajorArray()
        let a = Array.zeroCreate zs.Length
        forward g z.RowCount z.ColumnCount zs a
        Matrix<float>.Build.Dense(z.RowCount, z.ColumnCount, a)

    /// <summary>dz = da ⊙ g′(z) for matrices whose columns are samples, given z and a = g(z) (the
    /// same pass as the layers take; softmax: each column's Jacobianᵀ·da).</summary>
    let gradient (g: Activation) (z: Matrix<float>) (a: Matrix<float>) (da: Matrix<float>) : Matrix<float> =
        let dz = Array.zeroCreate (z.RowCount * z.ColumnCount)
        backward g z.RowCount z.ColumnCount (z.ToColumnMajorArray()) (a.ToColumnMajorArray()) (da.ToColumnMajorArray()) dz
        Matrix<float>.Build.Dense(z.RowCount, z.ColumnCount, dz)

    /// <summary>g′(z) elementwise, given z and a = g(z) (None for softmax, whose derivative is a
    /// Jacobian per sample, not elementwise).</summary>
    let derivative (g: Activation) (z: Matrix<float>) (a: Matrix<float>) : Matrix<float> option =
        match g with
        | Activation.Identity -> Some(Matrix<float>.Build.Dense(z.RowCount, z.ColumnCount, 1.0))
        | Activation.Elementwise op -> Some(Matrix<float>.Build.Dense(z.RowCount, z.ColumnCount, fun i j -> Rules.dUnary op z.[i, j] a.[i, j]))
        | Activation.Softmax -> None

    /// The softmax Jacobian of one sample's probabilities p: diag(p) − ppᵀ (p_i(1 − p_i) on the
    /// diagonal, −p_i·p_j off it, as in the notes).
    let softmaxJacobian (p: MathNet.Numerics.LinearAlgebra.Vector<float>) : Matrix<float> =
        Matrix<float>.Build.DiagonalOfDiagonalVector(p) - p.OuterProduct p

    /// The same activation as a matrix-graph node (for checking the layers against the graph).
    let toTExpr (g: Activation) (z: TExpr) : TExpr =
        match g with
        | Activation.Identity -> z
        | Activation.Elementwise op -> TExpr.map op z
        | Activation.Softmax -> TExpr.softmax Axis.Rows z

    /// <summary>What a loss reads after this output activation: the logits when the loss takes
    /// the activation in (binary cross-entropy after σ, cross-entropy after softmax), else the
    /// outputs.</summary>
    let lossInput (loss: Loss) (g: Activation) : LossInput =
        match loss, g with
        | Loss.BinaryCrossEntropy, Activation.Elementwise UnaryOp.Sigmoid -> LossInput.Logits
        | Loss.CrossEntropy, Activation.Softmax -> LossInput.Logits
        | (Loss.Quadratic | Loss.BinaryCrossEntropy | Loss.CrossEntropy | Loss.Hinge _), _ -> LossInput.Outputs
