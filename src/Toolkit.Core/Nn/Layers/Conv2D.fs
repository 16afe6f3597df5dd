namespace Toolkit.Nn

open Toolkit
open System
open System.Globalization
open System.Numerics.Tensors

/// <summary>
/// A 2-D convolution: <c>outputs</c> kernels of channels × k × k slide over the image with a
/// stride and zero padding, z[o] = b[o] + Σ_c W[o, c] ⋆ a[c] (the equations and their plain loops
/// are <c>ConvReference</c>). Parameters: W (outputs × channels × k × k, PyTorch's and ONNX's
/// order), then b (one per output channel).
/// The fast passes, per sample: im2col lays the sample's windows out as the rows of a matrix A
/// (positions × channels·k·k), then one product per pass, each through OpenBLAS:
/// forward Z = A·Wᵀ (+ b), which is the sample's output channel by channel;
/// ∂C/∂W += δᵀ·A (the input correlated with δ); ∂C/∂A = δ·W, added back onto the image by col2im
/// (the full correlation of δ with the turned kernel). A is kept from forward to backward.
/// </summary>
[<Sealed>]
type Conv2D(input: SampleShape, outputs: int, kernel: int, stride: int, padding: int) =
    inherit Layer()
    let win = { Size = kernel; Stride = stride; Padding = padding }
    do
        if input.Channels < 1 || input.Height < 1 || input.Width < 1 then invalidArg "input" (sprintf "a convolution needs an image, not %O" input)
        if outputs < 1 then invalidArg "outputs" (sprintf "a convolution needs at least one output channel, not %d" outputs)
        if kernel < 1 then invalidArg "kernel" (sprintf "a kernel is at least 1×1, not %d" kernel)
        if stride < 1 then invalidArg "stride" (sprintf "a stride is at least 1, not %d" stride)
        if padding < 0 || padding >= kernel then invalidArg "padding" (sprintf "the padding is at least 0 and less than the kernel size %d, not %d" kernel padding)
        if win.Count input.Height < 1 || win.Count input.Width < 1 then
            invalidArg "kernel" (sprintf "a %d×%d kernel with padding %d does not fit a %d×%d image" kernel kernel padding input.Height input.Width)
    let oh, ow = win.Count input.Height, win.Count input.Width
    let positions = oh * ow
    let patch = input.Channels * kernel * kernel
    let output = SampleShape.Image(outputs, oh, ow)

    /// The kernel's size k (k × k).
    member _.Kernel = kernel
    /// The step between windows.
    member _.Stride = stride
    /// Zeros added on every side.
    member _.Padding = padding
    /// The output channels (the number of kernels).
    member _.Channels = outputs
    /// "conv"
    override _.Kind = "conv"
    /// conv(outputs,kernel) with stride= and pad= when they are not 1 and 0.
    override _.Spec =
        let extra = (if stride <> 1 then sprintf ",stride=%d" stride else "") + (if padding <> 0 then sprintf ",pad=%d" padding else "")
        sprintf "conv(%d,%d%s)" outputs kernel extra
    override _.Inputs = input.Size
    override _.Outputs = output.Size
    /// The image it takes.
    override _.InputShape = input
    /// outputs × h′ × w′.
    override _.OutputShape = output
    /// outputs·channels·k·k weights and outputs biases.
    override _.ParameterCount = outputs * patch + outputs
    /// The windows of every sample, kept for the kernel's gradient.
    override _.ScratchSize = patch * positions
    /// W drawn for a fan-in of channels·k·k, then b.
    override _.Initialise(init, rng, p, offset) =
        for i in 0 .. outputs * patch - 1 do p.[offset + i] <- Init.weight init patch rng
        for i in 0 .. outputs - 1 do p.[offset + outputs * patch + i] <- Init.bias init patch rng
    /// Weight (o, c, i, j) feeds output channel o; the biases feed none.
    override _.UnitOf index = if index < outputs * patch then index / patch else -1
    override _.Bind<'T when 'T :> Numerics.IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>(b: LayerBuffers<'T>) =
        let inSize, outSize = input.Size, output.Size
        let wOff, bOff = b.Offset, b.Offset + outputs * patch
        let dCols = Array.zeroCreate<'T> (patch * positions)
        { new ILayerPass with
            member _.Forward() =
                for n in 0 .. b.Samples - 1 do
                    let cols = n * patch * positions
                    Im2col.gather input win b.Input (n * inSize) b.Scratch cols
                    // Z (positions × outputs, i.e. channel after channel) = A · Wᵀ, W stored as patch × outputs column-major
                    Buffers.gemm false false positions outputs patch b.Scratch cols positions b.Parameters wOff patch false b.Output (n * outSize) positions
                    for o in 0 .. outputs - 1 do
                        let z = Span<'T>(b.Output, n * outSize + o * positions, positions)
                        TensorPrimitives.Add(Span<'T>.op_Implicit z, b.Parameters.[bOff + o], z)
            member _.Backward() =
                for n in 0 .. b.Samples - 1 do
                    let cols = n * patch * positions
                    let delta = n * outSize
                    // ∂C/∂W (patch × outputs) += Aᵀ · δ
                    Buffers.gemm true false patch outputs positions b.Scratch cols positions b.DOutput delta positions (n > 0) b.Gradients wOff patch
                    for o in 0 .. outputs - 1 do
                        let s = TensorPrimitives.Sum(ReadOnlySpan<'T>(b.DOutput, delta + o * positions, positions))
                        b.Gradients.[bOff + o] <- (if n = 0 then s else b.Gradients.[bOff + o] + s)
                    if not (isNull b.DInput) then
                        // ∂C/∂A (positions × patch) = δ · W, then back onto the image
                        Buffers.gemm false true positions patch outputs b.DOutput delta positions b.Parameters wOff patch false dCols 0 positions
                        Span<'T>(b.DInput, n * inSize, inSize).Clear()
                        Im2col.scatterAdd input win dCols b.DInput (n * inSize) }
