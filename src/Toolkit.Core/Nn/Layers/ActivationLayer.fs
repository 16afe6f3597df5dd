namespace Toolkit.Nn

open System
open Toolkit.Tensors

/// <summary>An activation as a layer: a = g(z) on every element (or a softmax over each sample),
/// no parameters. Its backward pass is the ⊙g′(z) of the notes' equations (1) and (2), with g′
/// from the table of derivatives; after it, binary cross-entropy (σ) and cross-entropy (softmax)
/// read its input, the logits, and the pair's δ is a − y.</summary>
[<Sealed>]
type ActivationLayer(activation: Activation, shape: SampleShape) =
    inherit Layer()
    let size = shape.Size
    do if shape.Channels < 1 || shape.Height < 1 || shape.Width < 1 then
        invalidArg "shape" (sprintf "an activation layer needs at least one unit, not %O" shape)
    /// An activation on a vector of <paramref name="size"/> features.
    new(activation: Activation, size: int) = ActivationLayer(activation, SampleShape.Flat size)
    /// The activation g.
    member _.Activation = activation
    /// The activation's name.
    override _.Kind = Activation.name activation
    /// The activation's name.
    override _.Spec = Activation.name activation
    /// Units in.
    override _.Inputs = size
    /// As many out.
    override _.Outputs = size
    /// The shape it is given (after a convolution, its feature maps).
    override _.InputShape = shape
    /// The same shape.
    override _.OutputShape = shape
    /// Forward: a = g(z). Backward: ∂C/∂z = ∂C/∂a ⊙ g′(z).
    override _.Bind<'T when 'T :> Numerics.IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>(b: LayerBuffers<'T>) =
        { new ILayerPass with
            member _.Forward() = Activation.forward activation size b.Samples b.Input b.Output
            member _.Backward() =
                if not (isNull b.DInput) then Activation.backward activation size b.Samples b.Input b.Output b.DOutput b.DInput }
    /// Logits for its own cross-entropy.
    override _.LossInput loss = Activation.lossInput loss activation
    /// a{stage} = g(z{stage}).
    override _.ToTExpr(_, _, stage, input) =
        TExpr.named (sprintf "a%d" stage) (Activation.toTExpr activation input), []
