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
/// The fast passes, sample by sample (the threads share the samples), each product through
/// OpenBLAS: im2col lays a sample's windows out as the rows of a matrix A_n (positions ×
/// channels·k·k); forward Z_n = A_n·Wᵀ (+ b), which is the sample's output channel by channel;
/// ∂C/∂W = Σ_n A_nᵀ·δ_n (the input correlated with δ); ∂C/∂A_n = δ_n·W, added back onto the image
/// by col2im (the full correlation of δ with the turned kernel). A is kept from forward to backward.
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
        // sample n's windows: A_n (positions × patch, column-major) from n·patch·positions in Scratch
        let windows = patch * positions
        let maxBatch = b.Scratch.Length / windows
        // every pass is a loop over samples, shared by the threads, each sample's products whole:
        // Z_n = A_n·Wᵀ comes out as the sample's output channel by channel (positions × outputs,
        // column-major, is the image layout), and δ_n is read where the next layer left it, so
        // nothing is turned between layouts; one sample's windows and products stay in cache
        let forward =
            Action<int, int>(fun first last ->
                for n in first .. last - 1 do
                    Im2col.gather input win b.Input (n * inSize) b.Scratch (n * windows) positions
                    // W stored as patch × outputs column-major (PyTorch's outputs × channels × k × k)
                    Buffers.gemmInPart false false positions outputs patch b.Scratch (n * windows) positions b.Parameters wOff patch false b.Output (n * outSize) positions
                    for o in 0 .. outputs - 1 do
                        let z = Span<'T>(b.Output, n * outSize + o * positions, positions)
                        TensorPrimitives.Add(Span<'T>.op_Implicit z, b.Parameters.[bOff + o], z))
        // ∂C/∂W and ∂C/∂b are sums over the samples: each group of samples sums its own (a fixed
        // number of groups, so the bits do not depend on the threads), then the groups are added
        let groups m = min m 16
        let share = patch * outputs + outputs
        let sums = Array.zeroCreate<'T> (share * groups maxBatch)
        // ∂C/∂A_n, one sample's at a time per group, made on the first backward pass that needs it
        let dCols : 'T[] ref = ref null
        let backward =
            Action<int, int, int>(fun g first last ->
                let dW, db = g * share, g * share + patch * outputs
                Span<'T>(sums, db, outputs).Clear()
                for n in first .. last - 1 do
                    // ∂C/∂W (patch × outputs) += A_nᵀ · δ_n (the input correlated with δ);
                    // ∂C/∂b += δ_n summed over the positions
                    Buffers.gemmInPart true false patch outputs positions b.Scratch (n * windows) positions b.DOutput (n * outSize) positions (n > first) sums dW patch
                    for o in 0 .. outputs - 1 do
                        sums.[db + o] <- sums.[db + o] + TensorPrimitives.Sum(ReadOnlySpan<'T>(b.DOutput, n * outSize + o * positions, positions))
                    if not (isNull b.DInput) then
                        // ∂C/∂A_n (positions × patch) = δ_n · W, then back onto the image (col2im)
                        Buffers.gemmInPart false true positions patch outputs b.DOutput (n * outSize) positions b.Parameters wOff patch false dCols.Value (g * windows) positions
                        Span<'T>(b.DInput, n * inSize, inSize).Clear()
                        Im2col.scatterAdd input win dCols.Value (g * windows) positions b.DInput (n * inSize))
        { new ILayerPass with
            member _.Forward() = Buffers.forParts b.Samples forward
            member _.Backward() =
                let m = b.Samples
                if not (isNull b.DInput) && isNull dCols.Value then dCols.Value <- Array.zeroCreate<'T> (windows * groups maxBatch)
                Buffers.forGroups m (groups m) backward
                let total = Span<'T>(b.Gradients, wOff, share)
                // bound to no samples: no gradient (not the last batch's sums)
                if m = 0 then total.Clear() else ReadOnlySpan<'T>(sums, 0, share).CopyTo total
                for g in 1 .. groups m - 1 do
                    TensorPrimitives.Add(Span<'T>.op_Implicit total, ReadOnlySpan<'T>(sums, g * share, share), total) }
