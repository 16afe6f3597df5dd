namespace Toolkit.Nn

open System
open System.Globalization
open MathNet.Numerics.LinearAlgebra
open Toolkit.Tensors

/// <summary>
/// A dense (fully connected) layer, columns are samples: z = W·a + b, with W outputs × inputs
/// (stored column-major, then b, in the network's parameter array). Its backward pass is the
/// notes' equations (2)–(4); the ⊙σ′(z) of equation (2) is the activation layer that follows it.
/// </summary>
[<Sealed>]
type Dense(inputs: int, outputs: int) =
    inherit Layer()
    do
        if inputs < 1 then invalidArg "inputs" (sprintf "a dense layer needs at least one input, not %d" inputs)
        if outputs < 1 then invalidArg "outputs" (sprintf "a dense layer needs at least one output, not %d" outputs)
        if int64 outputs * int64 inputs + int64 outputs > int64 Array.MaxLength then
            invalidArg "outputs" (sprintf "a dense layer of %d×%d has more parameters than one array holds" outputs inputs)
    /// "dense"
    override _.Kind = "dense"
    /// dense(outputs)
    override _.Spec = sprintf "dense(%d)" outputs
    /// n_in
    override _.Inputs = inputs
    /// n_out
    override _.Outputs = outputs
    /// 2·n_in·n_out
    override _.Flops = 2.0 * float inputs * float outputs
    /// n_out·n_in weights and n_out biases.
    override _.ParameterCount = outputs * inputs + outputs
    /// W drawn column by column, then b (the order the notes' network has always used, so a seed
    /// gives the same weights as before).
    override _.Initialise(init, rng, p, offset) =
        for i in 0 .. outputs * inputs - 1 do p.[offset + i] <- Init.weight init inputs rng
        for i in 0 .. outputs - 1 do p.[offset + outputs * inputs + i] <- Init.bias init inputs rng
    /// Weight (i, j) feeds unit i (column-major: index j·n_out + i); the biases feed no unit's weights.
    override _.UnitOf index = if index < outputs * inputs then index % outputs else -1
    /// Forward: z = W·a + b, one gemm, then b added to every column. Backward, from δ = ∂C/∂z in
    /// DOutput: (4) ∂C/∂W = δ·aᵀ; (3) ∂C/∂b = δ summed over the samples; (2) ∂C/∂a = Wᵀ·δ, which
    /// the activation layer before this one multiplies by σ′(z).
    override _.Bind<'T when 'T :> Numerics.IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>(b: LayerBuffers<'T>) =
        { new ILayerPass with
            member _.Forward() =
                let m = b.Samples
                Buffers.gemm false false outputs m inputs b.Parameters b.Offset outputs b.Input 0 inputs false b.Output 0 outputs
                Buffers.addColumn outputs m b.Parameters (b.Offset + outputs * inputs) b.Output
            member _.Backward() =
                let m = b.Samples
                let delta = b.DOutput
                Buffers.gemm false true outputs inputs m delta 0 outputs b.Input 0 inputs false b.Gradients b.Offset outputs   // (4)
                Buffers.sumColumns outputs m delta b.Gradients (b.Offset + outputs * inputs)                                   // (3)
                if not (isNull b.DInput) then
                    Buffers.gemm true false inputs m outputs b.Parameters b.Offset outputs delta 0 outputs false b.DInput 0 inputs // (2)
        }
    /// Z{stage} = W{stage}·A + b{stage}.
    override _.ToTExpr(p, offset, stage, input) =
        let w = Matrix<float>.Build.Dense(outputs, inputs, Array.sub p offset (outputs * inputs))
        let bias = Matrix<float>.Build.Dense(outputs, 1, Array.sub p (offset + outputs * inputs) outputs)
        let wName, bName = sprintf "W%d" stage, sprintf "b%d" stage
        let z = TExpr.denseColumns (TExpr.var wName outputs inputs) input (TExpr.var bName outputs 1)
        TExpr.named (sprintf "z%d" stage) z, [ wName, w; bName, bias ]

    /// W of this layer, from the network's parameters (a copy).
    member _.Weights(p: float[], offset: int) = Matrix<float>.Build.Dense(outputs, inputs, Array.sub p offset (outputs * inputs))
    /// b of this layer, from the network's parameters (a copy).
    member _.Bias(p: float[], offset: int) = Matrix<float>.Build.Dense(outputs, 1, Array.sub p (offset + outputs * inputs) outputs)
