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
/// The fast passes: im2col lays the batch's windows out as the rows of a matrix A
/// (samples·positions × channels·k·k), then one product per pass, each through OpenBLAS:
/// forward Z = A·Wᵀ (+ b), turned into each sample's output channel by channel;
/// ∂C/∂W = Aᵀ·δ (the input correlated with δ); ∂C/∂A = δ·W, added back onto the images by col2im
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
    /// 2 · positions · channels·k·k · outputs
    override _.Flops = 2.0 * float positions * float patch * float outputs
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
        let maxBatch = b.Scratch.Length / (patch * positions)
        // the batch's windows stack into one matrix A (samples·positions × patch, in Scratch), so that
        // each pass is one product big enough for OpenBLAS to run near its peak; its result comes
        // out channel-major over the batch (outputs × samples × positions) and is turned per sample
        let z = Array.zeroCreate<'T> (outputs * positions * maxBatch)
        // ∂C/∂A, made on the first backward pass (a network that only evaluates never needs it)
        let dCols : 'T[] ref = ref null
        // each sample's share of the loops around the products, made once (they run on every core)
        let gather =
            Action<int, int>(fun first last ->
                let rows = b.Samples * positions
                for n in first .. last - 1 do
                    Im2col.gather input win b.Input (n * inSize) b.Scratch (n * positions) rows)
        let addBias =
            Action<int, int>(fun first last ->
                let rows = b.Samples * positions
                for n in first .. last - 1 do
                    for o in 0 .. outputs - 1 do
                        TensorPrimitives.Add(ReadOnlySpan<'T>(z, o * rows + n * positions, positions), b.Parameters.[bOff + o],
                                             Span<'T>(b.Output, n * outSize + o * positions, positions)))
        let turnDelta =
            Action<int, int>(fun first last ->
                let rows = b.Samples * positions
                for n in first .. last - 1 do
                    for o in 0 .. outputs - 1 do
                        Array.blit b.DOutput (n * outSize + o * positions) z (o * rows + n * positions) positions)
        let scatter =
            Action<int, int>(fun first last ->
                let rows = b.Samples * positions
                Span<'T>(b.DInput, first * inSize, (last - first) * inSize).Clear()
                for n in first .. last - 1 do
                    Im2col.scatterAdd input win dCols.Value (n * positions) rows b.DInput (n * inSize))
        { new ILayerPass with
            member _.Forward() =
                let m = b.Samples
                let rows = m * positions
                Buffers.forParts m gather
                // Z (samples·positions × outputs) = A · Wᵀ, W stored as patch × outputs column-major
                Buffers.gemm false false rows outputs patch b.Scratch 0 rows b.Parameters wOff patch false z 0 rows
                Buffers.forParts m addBias
            member _.Backward() =
                let m = b.Samples
                let rows = m * positions
                // δ turned the other way, into z's layout
                Buffers.forParts m turnDelta
                // ∂C/∂W (patch × outputs) = Aᵀ · δ; ∂C/∂b = δ summed over samples and positions
                Buffers.gemm true false patch outputs rows b.Scratch 0 rows z 0 rows false b.Gradients wOff patch
                for o in 0 .. outputs - 1 do
                    b.Gradients.[bOff + o] <- TensorPrimitives.Sum(ReadOnlySpan<'T>(z, o * rows, rows))
                if not (isNull b.DInput) then
                    if isNull dCols.Value then dCols.Value <- Array.zeroCreate<'T> (patch * positions * maxBatch)
                    // ∂C/∂A (samples·positions × patch) = δ · W, then back onto each image
                    Buffers.gemm false true rows patch outputs z 0 rows b.Parameters wOff patch false dCols.Value 0 rows
                    Buffers.forParts m scatter }
