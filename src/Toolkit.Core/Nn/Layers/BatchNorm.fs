namespace Toolkit.Nn

open Toolkit
open System
open System.Globalization

/// <summary>
/// Batch normalisation of each channel (of each feature, after a dense layer): in training,
/// x̂ = (x − μ_B)/√(σ²_B + ε) with the batch's mean and (biased) variance over its samples and the
/// channel's positions, then y = γ·x̂ + β; the running averages
/// μ ← (1 − m)·μ + m·μ_B and σ² ← (1 − m)·σ² + m·σ²_B·N/(N − 1) are what evaluation normalises with
/// (PyTorch's rule and defaults: m = 0.1, ε = 1e-5). Backward in training, per channel, with g = ∂C/∂y
/// and N values: ∂C/∂γ = Σ g·x̂, ∂C/∂β = Σ g, ∂C/∂x = γ/(N·√(σ²_B + ε)) · (N·g − Σ g − x̂·Σ g·x̂).
/// Parameters: γ, β, then the running mean and variance (kept in the parameter vector so that model
/// files, checkpoints and the ONNX export carry them; their gradient is always 0, so the
/// optimisers leave them alone, AdamW's decay aside, which the next batch's average outweighs).
/// </summary>
[<Sealed>]
type BatchNorm(input: SampleShape, momentum: float, epsilon: float) =
    inherit Layer()
    do
        if input.Channels < 1 || input.Height < 1 || input.Width < 1 then invalidArg "input" (sprintf "batch normalisation needs at least one value, not %O" input)
        if not (momentum > 0.0 && momentum <= 1.0) then invalidArg "momentum" (sprintf "the momentum of the running averages is above 0 and at most 1, not %g" momentum)
        if not (epsilon > 0.0 && Double.IsFinite epsilon) then invalidArg "epsilon" (sprintf "ε is a positive number, not %g" epsilon)
    let channels = input.Channels
    let area = input.Height * input.Width
    /// PyTorch's defaults: momentum 0.1, ε = 1e-5.
    new(input: SampleShape) = BatchNorm(input, 0.1, 1e-5)
    /// The weight of each batch in the running averages.
    member _.Momentum = momentum
    /// Added to the variance before its square root.
    member _.Epsilon = epsilon
    /// "batchnorm"
    override _.Kind = "batchnorm"
    /// batchnorm, with (momentum,eps) when they are not PyTorch's defaults.
    override _.Spec =
        if momentum = 0.1 && epsilon = 1e-5 then "batchnorm"
        else sprintf "batchnorm(%s,%s)" (momentum.ToString("R", CultureInfo.InvariantCulture)) (epsilon.ToString("R", CultureInfo.InvariantCulture))
    override _.Inputs = input.Size
    override _.Outputs = input.Size
    /// The shape it is given.
    override _.InputShape = input
    /// The same shape.
    override _.OutputShape = input
    /// γ, β, running mean, running variance: one of each per channel.
    override _.ParameterCount = 4 * channels
    /// x̂, kept for backward.
    override _.ScratchSize = input.Size
    /// γ = 1, β = 0, running mean 0, running variance 1 (as PyTorch starts them).
    override _.Initialise(_, _, p, offset) =
        for c in 0 .. channels - 1 do
            p.[offset + c] <- 1.0
            p.[offset + channels + c] <- 0.0
            p.[offset + 2 * channels + c] <- 0.0
            p.[offset + 3 * channels + c] <- 1.0
    /// None is a unit's incoming weight: loss landscapes leave them as they are.
    override _.UnitOf _ = -1
    override _.Bind<'T when 'T :> Numerics.IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>(b: LayerBuffers<'T>) =
        let size = input.Size
        let gamma, beta, mean, var = b.Offset, b.Offset + channels, b.Offset + 2 * channels, b.Offset + 3 * channels
        // 1/√(σ² + ε) per channel, of the batch in training, of the running variance in evaluation
        let inv = Array.zeroCreate<float> channels
        { new ILayerPass with
            member _.Forward() =
                let m = b.Samples
                let count = float (m * area)
                for c in 0 .. channels - 1 do
                    let mu, sigma2 =
                        if b.Training then
                            // two passes in float64: the mean, then the spread about it
                            let mutable s = 0.0
                            for n in 0 .. m - 1 do
                                for k in 0 .. area - 1 do s <- s + Precision.load b.Input.[n * size + c * area + k]
                            let mu = s / count
                            let mutable q = 0.0
                            for n in 0 .. m - 1 do
                                for k in 0 .. area - 1 do
                                    let d = Precision.load b.Input.[n * size + c * area + k] - mu
                                    q <- q + d * d
                            let sigma2 = q / count
                            let p = b.Parameters
                            p.[mean + c] <- Precision.store ((1.0 - momentum) * Precision.load p.[mean + c] + momentum * mu)
                            let unbiased = if count > 1.0 then sigma2 * count / (count - 1.0) else sigma2
                            p.[var + c] <- Precision.store ((1.0 - momentum) * Precision.load p.[var + c] + momentum * unbiased)
                            mu, sigma2
                        else Precision.load b.Parameters.[mean + c], Precision.load b.Parameters.[var + c]
                    inv.[c] <- 1.0 / sqrt (sigma2 + epsilon)
                    let g, bt = Precision.load b.Parameters.[gamma + c], Precision.load b.Parameters.[beta + c]
                    for n in 0 .. m - 1 do
                        for k in 0 .. area - 1 do
                            let at = n * size + c * area + k
                            let xhat = (Precision.load b.Input.[at] - mu) * inv.[c]
                            b.Scratch.[at] <- Precision.store xhat
                            b.Output.[at] <- Precision.store (g * xhat + bt)
            member _.Backward() =
                let m = b.Samples
                let count = float (m * area)
                for c in 0 .. channels - 1 do
                    let mutable sg, sgx = 0.0, 0.0
                    for n in 0 .. m - 1 do
                        for k in 0 .. area - 1 do
                            let at = n * size + c * area + k
                            let g = Precision.load b.DOutput.[at]
                            sg <- sg + g
                            sgx <- sgx + g * Precision.load b.Scratch.[at]
                    b.Gradients.[gamma + c] <- Precision.store sgx
                    b.Gradients.[beta + c] <- Precision.store sg
                    b.Gradients.[mean + c] <- 'T.Zero
                    b.Gradients.[var + c] <- 'T.Zero
                    if not (isNull b.DInput) then
                        let scale = Precision.load b.Parameters.[gamma + c] * inv.[c]
                        for n in 0 .. m - 1 do
                            for k in 0 .. area - 1 do
                                let at = n * size + c * area + k
                                let g = Precision.load b.DOutput.[at]
                                // in evaluation μ and σ² are constants: only the direct path remains
                                b.DInput.[at] <-
                                    Precision.store (if b.Training then scale / count * (count * g - sg - Precision.load b.Scratch.[at] * sgx)
                                                     else scale * g) }
