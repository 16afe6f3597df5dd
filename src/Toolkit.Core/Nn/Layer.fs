namespace Toolkit.Nn

open System
open System.Numerics
open MathNet.Numerics.LinearAlgebra
open Toolkit.Tensors

/// <summary>The shape of one sample as a layer sees it: channels × height × width, stored in that
/// order (channel by channel, each channel row by row, as PyTorch's NCHW holds one sample). A
/// vector of n features is n × 1 × 1, so every shape is also a number of features.</summary>
[<Struct; CustomEquality; NoComparison>]
type SampleShape =
    { Channels: int
      Height: int
      Width: int }
    /// Values per sample: channels · height · width.
    member s.Size = s.Channels * s.Height * s.Width
    /// True for a vector of features (height and width 1).
    member s.IsFlat = s.Height = 1 && s.Width = 1
    /// "784" for a vector, "32×28×28" (channels × height × width) for an image.
    override s.ToString() = if s.IsFlat then string s.Channels else sprintf "%d×%d×%d" s.Channels s.Height s.Width
    override s.Equals(o: obj) =
        match o with
        | :? SampleShape as t -> s.Channels = t.Channels && s.Height = t.Height && s.Width = t.Width
        | _ -> false
    override s.GetHashCode() = HashCode.Combine(s.Channels, s.Height, s.Width)
    /// A vector of n features.
    static member Flat(n: int) = { Channels = n; Height = 1; Width = 1 }
    /// An image of the given channels, height and width.
    static member Image(channels: int, height: int, width: int) = { Channels = channels; Height = height; Width = width }

/// <summary>
/// The buffers one layer works over for one batch, in the storage precision 'T (float or
/// float32): column-major, one column per sample, made once when a network is laid out for
/// training, so that a pass allocates nothing. The layer's parameters are the values of
/// <c>Parameters</c> from <c>Offset</c> on (every layer's parameters share one array, the form
/// the optimisers update in one pass), their gradients the same positions of <c>Gradients</c>.
/// </summary>
[<Sealed; AllowNullLiteral>]
type LayerBuffers<'T>(parameters: 'T[], gradients: 'T[], offset: int, input: 'T[], output: 'T[], dInput: 'T[], dOutput: 'T[], scratch: 'T[], random: Random) =
    /// The network's parameters; this layer's start at <c>Offset</c>.
    member _.Parameters = parameters
    /// The gradients, in the positions of the parameters.
    member _.Gradients = gradients
    /// Where this layer's parameters start.
    member _.Offset = offset
    /// The layer's input, inputs × samples.
    member _.Input = input
    /// The layer's output, outputs × samples (written by Forward).
    member _.Output = output
    /// ∂C/∂input, written by Backward; null for the first layer, whose input gradient nothing needs.
    member _.DInput = dInput
    /// ∂C/∂output, read by Backward.
    member _.DOutput = dOutput
    /// Room the layer keeps between its passes (dropout's mask), ScratchSize × samples values.
    member _.Scratch = scratch
    /// The seeded generator of the random layers (dropout).
    member _.Random = random
    /// The number of samples in the batch.
    member val Samples = 0 with get, set
    /// True in training (dropout drops), false in evaluation.
    member val Training = false with get, set

/// <summary>A layer bound to its buffers in one precision: its two passes, with nothing left to
/// look up per call (made once when a network is laid out, called every step).</summary>
type ILayerPass =
    /// Output ← the layer applied to Input, for <c>Samples</c> samples.
    abstract Forward : unit -> unit
    /// From ∂C/∂output (DOutput): the parameters' gradients, and ∂C/∂input (DInput) when DInput
    /// is not null. Reads what Forward left in Input, Output and Scratch.
    abstract Backward : unit -> unit

/// <summary>
/// A layer of a network: a value with its parameters' count and initialisation, a forward pass
/// (input → output) and a backward pass (∂C/∂output in; ∂C/∂input and the parameters' gradients
/// out) over buffers it is bound to, in either precision, and its matrix-graph form for checking. A
/// network is a sequence of layers; the training path, the model files, the landscapes, the
/// command line and the C# facade walk that sequence and never ask which kind a layer is. A new
/// kind of layer is one file deriving from this class (and one line in <c>Layers.kinds</c>).
/// </summary>
[<AbstractClass>]
type Layer() =
    /// The kind, as in layer specs and model files: "dense", "dropout", or the activation's name.
    abstract Kind : string
    /// The layer as text, read back by <c>Layers.parse</c> given its input size: <c>dense(30)</c>,
    /// <c>sigmoid</c>, <c>dropout(0.2)</c>.
    abstract Spec : string
    /// Features per sample in.
    abstract Inputs : int
    /// Features per sample out.
    abstract Outputs : int
    /// <summary>The shape of a sample coming in: a vector of <c>Inputs</c> features unless the
    /// layer works on images (a convolution, a pooling).</summary>
    abstract InputShape : SampleShape
    default l.InputShape = SampleShape.Flat l.Inputs
    /// <summary>The shape of a sample going out (a vector of <c>Outputs</c> unless the layer gives
    /// images); a layer that takes a vector takes any shape of that size (a dense layer flattens).</summary>
    abstract OutputShape : SampleShape
    default l.OutputShape = SampleShape.Flat l.Outputs
    /// <summary>Floating-point operations per sample in the forward pass's products (2 per
    /// multiply-add); backward does about twice as many. What the thread choice weighs.</summary>
    abstract Flops : float
    default _.Flops = 0.0
    /// How many parameters the layer has.
    abstract ParameterCount : int
    default _.ParameterCount = 0
    /// Values per sample the layer keeps from its forward pass to its backward pass, besides its
    /// input and output (dropout: its mask).
    abstract ScratchSize : int
    default _.ScratchSize = 0
    /// <summary>Draws the layer's initial parameters into <paramref name="p"/> from
    /// <paramref name="offset"/> on.</summary>
    abstract Initialise : init: Init * rng: Random * p: float[] * offset: int -> unit
    default _.Initialise(_, _, _, _) = ()
    /// <summary>Which unit (neuron, filter) the parameter at <paramref name="index"/> of this layer's
    /// own parameters feeds, or −1 for one that belongs to no unit's incoming weights (a bias):
    /// per-unit directions of loss landscapes are scaled to each unit's weights by it.</summary>
    abstract UnitOf : index: int -> int
    default _.UnitOf _ = 0
    /// <summary>The layer's forward and backward passes over the buffers it is given (see
    /// <c>ILayerPass</c>), in the buffers' precision.</summary>
    abstract Bind<'T when 'T :> IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType> : LayerBuffers<'T> -> ILayerPass
    /// <summary>What a loss after this layer should read: the logits (this layer's input) when the
    /// loss takes this layer in — binary cross-entropy after σ, cross-entropy after softmax — so
    /// the pair is computed stably and the layer's own backward is skipped; else its outputs.</summary>
    abstract LossInput : Loss -> LossInput
    default _.LossInput _ = LossInput.Outputs
    /// <summary>The layer as matrix-graph nodes on <paramref name="input"/> (columns are samples,
    /// evaluation mode), its parameters as variables suffixed with <paramref name="stage"/> (W2, b2):
    /// the output node and the variables with their values, in the order of the parameters. The
    /// matrix graph has no convolution: the image layers raise NotSupportedException, and are
    /// checked against their plain loops (<c>Toolkit.Nn.ConvReference</c>) instead.</summary>
    abstract ToTExpr : parameters: float[] * offset: int * stage: int * input: TExpr -> TExpr * (string * Matrix<float>) list
    default l.ToTExpr(_, _, _, _) = raise (NotSupportedException(sprintf "the %s layer has no matrix-graph form" l.Spec))
    /// The spec.
    override l.ToString() = l.Spec
