namespace Toolkit.Nn

open System

/// <summary>Flatten: an image (channels × height × width) as one vector of features, in the order
/// it is stored (channel by channel, row by row, as PyTorch's <c>nn.Flatten</c>). The values do not
/// move, so both passes are copies; a dense layer after an image flattens it the same way by itself.</summary>
[<Sealed>]
type Flatten(input: SampleShape) =
    inherit Layer()
    do if input.Channels < 1 || input.Height < 1 || input.Width < 1 then invalidArg "input" (sprintf "flatten needs at least one value, not %O" input)
    /// "flatten"
    override _.Kind = "flatten"
    /// flatten
    override _.Spec = "flatten"
    override _.Inputs = input.Size
    override _.Outputs = input.Size
    /// The image it takes.
    override _.InputShape = input
    override _.Bind<'T when 'T :> Numerics.IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>(b: LayerBuffers<'T>) =
        { new ILayerPass with
            member _.Forward() = Array.blit b.Input 0 b.Output 0 (input.Size * b.Samples)
            member _.Backward() = if not (isNull b.DInput) then Array.blit b.DOutput 0 b.DInput 0 (input.Size * b.Samples) }
    /// The identity: in the matrix graph a sample is already a column.
    override _.ToTExpr(_, _, _, x) = x, []
