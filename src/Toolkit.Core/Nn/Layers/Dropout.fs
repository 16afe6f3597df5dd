namespace Toolkit.Nn

open Toolkit
open System
open System.Globalization
open Toolkit.Tensors

/// <summary>Inverted dropout: in training each value is kept with probability 1 − rate and scaled
/// by 1/(1 − rate), or set to 0, from the network's seeded generator; in evaluation the layer
/// passes its input through. Backward multiplies ∂C/∂output by the same mask.</summary>
[<Sealed>]
type Dropout(rate: float, shape: SampleShape) =
    inherit Layer()
    let size = shape.Size
    do
        if not (rate >= 0.0 && rate < 1.0) then invalidArg "rate" (sprintf "a dropout rate is at least 0 and below 1, not %g" rate)
        if shape.Channels < 1 || shape.Height < 1 || shape.Width < 1 then invalidArg "shape" (sprintf "a dropout layer needs at least one unit, not %O" shape)
    /// Dropout on a vector of <paramref name="size"/> features.
    new(rate: float, size: int) = Dropout(rate, SampleShape.Flat size)
    /// The probability of dropping a value.
    member _.Rate = rate
    /// "dropout"
    override _.Kind = "dropout"
    /// dropout(rate)
    override _.Spec = sprintf "dropout(%s)" (rate.ToString("R", CultureInfo.InvariantCulture))
    /// Units in.
    override _.Inputs = size
    /// As many out.
    override _.Outputs = size
    /// The shape it is given.
    override _.InputShape = shape
    /// The same shape.
    override _.OutputShape = shape
    /// The mask.
    override _.ScratchSize = size
    /// Forward, in training: mask ← 0 or 1/(1 − rate), output = input ⊙ mask; in evaluation:
    /// output = input. Backward: ∂C/∂input = ∂C/∂output ⊙ mask (the identity in evaluation).
    override _.Bind<'T when 'T :> Numerics.IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>(b: LayerBuffers<'T>) =
        let keep = Precision.store<'T> (1.0 / (1.0 - rate))
        { new ILayerPass with
            member _.Forward() =
                let n = size * b.Samples
                if b.Training && rate > 0.0 then
                    for i in 0 .. n - 1 do
                        let k = if b.Random.NextDouble() >= rate then keep else 'T.Zero
                        b.Scratch.[i] <- k
                        b.Output.[i] <- b.Input.[i] * k
                else Array.blit b.Input 0 b.Output 0 n
            member _.Backward() =
                if not (isNull b.DInput) then
                    let n = size * b.Samples
                    if b.Training && rate > 0.0 then
                        Numerics.Tensors.TensorPrimitives.Multiply(ReadOnlySpan<'T>(b.DOutput, 0, n), ReadOnlySpan<'T>(b.Scratch, 0, n), Span<'T>(b.DInput, 0, n))
                    else Array.blit b.DOutput 0 b.DInput 0 n }
    /// The identity: the graph is the network in evaluation.
    override _.ToTExpr(_, _, _, input) = input, []
