namespace Toolkit.Nn

open System
open Toolkit.Tensors

/// <summary>A network: its layers in order, every layer's parameters in one vector (layer by
/// layer, in each layer's own order: for a dense layer W column-major, then b), and the cost it is
/// trained on. Build one with <c>Network.create</c> (the notes' dense stacks) or
/// <c>Network.ofLayers</c> (any stack of layers).</summary>
type Network =
    { /// The layers, input side first.
      Layers: Layer[]
      /// All parameters, layer after layer.
      Parameters: float[]
      /// The cost.
      Loss: Loss }

    /// Features per sample in.
    member n.Inputs = n.Layers.[0].Inputs
    /// Features per sample out.
    member n.Outputs = n.Layers.[n.Layers.Length - 1].Outputs
    /// The shape of a sample in (an image for a network that starts with a convolution).
    member n.InputShape = n.Layers.[0].InputShape
    /// Where each layer's parameters start in <c>Parameters</c>.
    member n.Offsets =
        let o = Array.zeroCreate n.Layers.Length
        for l in 1 .. n.Layers.Length - 1 do o.[l] <- o.[l - 1] + n.Layers.[l - 1].ParameterCount
        o

/// Checking that layers fit together.
[<RequireQualifiedAccess>]
module NetworkShape =

    /// <summary>Every layer takes what the one before gives, and the parameter vector has their
    /// count: else a ShapeException naming both layers and both sizes.</summary>
    let check (layers: Layer[]) (parameters: float[]) =
        if layers.Length = 0 then raise (ShapeException "a network needs at least one layer")
        for k in 1 .. layers.Length - 1 do
            let given, taken = layers.[k - 1].OutputShape, layers.[k].InputShape
            // a layer that takes a vector takes any shape of its size (it flattens); an image layer the very shape
            if (if taken.IsFlat then taken.Size <> given.Size else taken <> given) then
                raise (ShapeException(sprintf "layer %d (%s) takes %O inputs but layer %d (%s) gives %O outputs"
                                                 (k + 1) layers.[k].Spec taken k layers.[k - 1].Spec given))
        let count = layers |> Array.sumBy (fun l -> l.ParameterCount)
        if parameters.Length <> count then
            raise (ShapeException(sprintf "the layers have %d parameters, the vector %d" count parameters.Length))
