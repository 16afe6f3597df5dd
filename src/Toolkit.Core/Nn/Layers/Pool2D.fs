namespace Toolkit.Nn

open Toolkit
open System
open System.Numerics
open System.Runtime.CompilerServices

/// The pooling loops, as plain functions of their sizes (the JIT keeps such loops tight).
module internal Pooling =

    /// The first and last index, along an axis of n values, of window i (stride s, padding p, size k).
    let inline private along (i: int) (s: int) (p: int) (k: int) (n: int) = struct (Math.Max(0, s * i - p), Math.Min(n - 1, s * i - p + k - 1))

    /// <summary>Max pooling of the samples first … last − 1: each window's largest value into
    /// output, and where it was (its index in the sample) into at.</summary>
    let max<'T when 'T :> IFloatingPointIeee754<'T>> (shape: SampleShape) (win: Window) (first: int) (last: int) (input: 'T[]) (output: 'T[]) (at: 'T[]) =
        let h, w, k, s, p = shape.Height, shape.Width, win.Size, win.Stride, win.Padding
        let oh, ow = win.Count h, win.Count w
        let channels, size = shape.Channels, shape.Size
        for plane in first * channels .. last * channels - 1 do
            // sample n's channel c is plane n·C + c: the planes lie one after another
            let src, dst, sample = plane * h * w, plane * oh * ow, (plane / channels) * size
            if k = 2 && s = 2 && p = 0 then
                // the usual 2×2 window, its four values read directly (a third faster than the loops below)
                for y in 0 .. oh - 1 do
                    for x in 0 .. ow - 1 do
                        let i0 = src + 2 * y * w + 2 * x
                        let a, b, c, d = input.[i0], input.[i0 + 1], input.[i0 + w], input.[i0 + w + 1]
                        // the first of equal values, as the loops below: the later one must be greater
                        let mutable gb = 'T.op_GreaterThan(b, a)
                        let ab = 'T.Max(a, b)
                        let iab = i0 + int (Unsafe.As<bool, byte>(&gb))
                        let mutable gd = 'T.op_GreaterThan(d, c)
                        let cd = 'T.Max(c, d)
                        let icd = i0 + w + int (Unsafe.As<bool, byte>(&gd))
                        let mutable gcd = 'T.op_GreaterThan(cd, ab)
                        let best = iab + (icd - iab) * int (Unsafe.As<bool, byte>(&gcd))
                        let bestValue = 'T.Max(ab, cd)
                        output.[dst + y * ow + x] <- bestValue
                        at.[dst + y * ow + x] <- 'T.CreateTruncating(best - sample)
            else
            for y in 0 .. oh - 1 do
                let struct (u0, u1) = along y s p k h
                for x in 0 .. ow - 1 do
                    let struct (v0, v1) = along x s p k w
                    let mutable best = src + u0 * w + v0
                    let mutable bestValue = input.[best]
                    for u in u0 .. u1 do
                        for v in v0 .. v1 do
                            let i = src + u * w + v
                            let value = input.[i]
                            // without a branch, which data would mispredict every other time (3× slower):
                            // the comparison's 0 or 1 moves the index, and Max (NaN wins, so that it is
                            // seen downstream rather than hidden) the value
                            let mutable greater = 'T.op_GreaterThan(value, bestValue)
                            best <- best + (i - best) * int (Unsafe.As<bool, byte>(&greater))
                            bestValue <- 'T.Max(value, bestValue)
                    output.[dst + y * ow + x] <- bestValue
                    // an index below 2²⁴ (checked when the layer is made) is exact in float32 too
                    at.[dst + y * ow + x] <- 'T.CreateTruncating(best - sample)

    /// <summary>Average pooling of the samples first … last − 1 (padding counted as zeros).</summary>
    let average<'T when 'T :> IFloatingPointIeee754<'T>> (shape: SampleShape) (win: Window) (first: int) (last: int) (input: 'T[]) (output: 'T[]) =
        let h, w, k, s, p = shape.Height, shape.Width, win.Size, win.Stride, win.Padding
        let oh, ow = win.Count h, win.Count w
        let area = 'T.CreateTruncating(1.0 / float (k * k))
        for plane in first * shape.Channels .. last * shape.Channels - 1 do
            let src, dst = plane * h * w, plane * oh * ow
            for y in 0 .. oh - 1 do
                let struct (u0, u1) = along y s p k h
                for x in 0 .. ow - 1 do
                    let struct (v0, v1) = along x s p k w
                    let mutable sum = 'T.Zero
                    for u in u0 .. u1 do
                        for v in v0 .. v1 do sum <- sum + input.[src + u * w + v]
                    output.[dst + y * ow + x] <- sum * area

    /// <summary>Average pooling's backward for the samples first … last − 1: each output's δ/k²
    /// added to every input of its window.</summary>
    let spread<'T when 'T :> IFloatingPointIeee754<'T>> (shape: SampleShape) (win: Window) (first: int) (last: int) (dOutput: 'T[]) (dInput: 'T[]) =
        let h, w, k, s, p = shape.Height, shape.Width, win.Size, win.Stride, win.Padding
        let oh, ow = win.Count h, win.Count w
        let area = 'T.CreateTruncating(1.0 / float (k * k))
        for plane in first * shape.Channels .. last * shape.Channels - 1 do
            let src, dst = plane * h * w, plane * oh * ow
            for y in 0 .. oh - 1 do
                let struct (u0, u1) = along y s p k h
                for x in 0 .. ow - 1 do
                    let struct (v0, v1) = along x s p k w
                    let d = dOutput.[dst + y * ow + x] * area
                    for u in u0 .. u1 do
                        for v in v0 .. v1 do dInput.[src + u * w + v] <- dInput.[src + u * w + v] + d

/// <summary>
/// Pooling over square windows of each channel, no parameters: <c>MaxPool2D</c> keeps each
/// window's largest value, <c>AvgPool2D</c> its mean. Their δ equations: max pooling sends each
/// output's ∂C/∂z to the one input that was the largest (the rest get 0); average pooling spreads it
/// evenly, ∂C/∂z / k², over the window's inputs. Padding counts as −∞ for the maximum and as 0 for
/// the mean (ONNX's and PyTorch's defaults).
/// </summary>
[<AbstractClass>]
type Pool2D(input: SampleShape, size: int, stride: int, padding: int) =
    inherit Layer()
    let win = { Size = size; Stride = stride; Padding = padding }
    do
        if input.Channels < 1 || input.Height < 1 || input.Width < 1 then invalidArg "input" (sprintf "pooling needs an image, not %O" input)
        if size < 1 then invalidArg "size" (sprintf "a pooling window is at least 1×1, not %d" size)
        if stride < 1 then invalidArg "stride" (sprintf "a stride is at least 1, not %d" stride)
        if padding < 0 || 2 * padding > size then invalidArg "padding" (sprintf "the padding is at least 0 and at most half the window %d, not %d" size padding)
        if win.Count input.Height < 1 || win.Count input.Width < 1 then
            invalidArg "size" (sprintf "a %d×%d window does not fit a %d×%d image" size size input.Height input.Width)
    let output = SampleShape.Image(input.Channels, win.Count input.Height, win.Count input.Width)
    /// The windows.
    member _.Window = win
    /// The window's size k (k × k).
    member _.Size = size
    /// The step between windows.
    member _.Stride = stride
    /// Padding on every side.
    member _.Padding = padding
    override _.Inputs = input.Size
    override _.Outputs = output.Size
    /// The image it takes.
    override _.InputShape = input
    /// channels × h′ × w′.
    override _.OutputShape = output
    /// kind(size) with stride= (when it is not the size) and pad= (when not 0).
    override l.Spec =
        let extra = (if stride <> size then sprintf ",stride=%d" stride else "") + (if padding <> 0 then sprintf ",pad=%d" padding else "")
        sprintf "%s(%d%s)" l.Kind size extra

/// <summary>Max pooling: each window's largest value; backward routes δ to where it came from
/// (the first of equal values, as PyTorch does).</summary>
[<Sealed>]
type MaxPool2D(input: SampleShape, size: int, stride: int, padding: int) =
    inherit Pool2D(input, size, stride, padding)
    // where the maximum was is kept as a number in the storage precision: exact up to 2²⁴ in float32
    do if input.Size > (1 <<< 24) then invalidArg "input" (sprintf "max pooling takes images of at most 2^24 values, not %O" input)
    /// Windows of size × size that do not overlap.
    new(input: SampleShape, size: int) = MaxPool2D(input, size, size, 0)
    /// "maxpool"
    override _.Kind = "maxpool"
    /// Where each output's value came from (its index in the sample's input).
    override l.ScratchSize = l.Outputs
    override l.Bind<'T when 'T :> Numerics.IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>(b: LayerBuffers<'T>) =
        let win, input, output = l.Window, l.InputShape, l.OutputShape
        let inSize, outSize = input.Size, output.Size
        let forward = Action<int, int>(fun first last -> Pooling.max input win first last b.Input b.Output b.Scratch)
        // 2×2 windows that do not overlap and cover the image: each input is in one window, so
        // each window's four are written (zeros, then δ where the maximum was) with no pass to clear
        let tiles = win.Size = 2 && win.Stride = 2 && win.Padding = 0 && input.Height % 2 = 0 && input.Width % 2 = 0
        let backward =
            Action<int, int>(fun first last ->
                let dIn, dOut, at = b.DInput, b.DOutput, b.Scratch
                if tiles then
                    let w, oh, ow = input.Width, output.Height, output.Width
                    let mutable o = first * outSize
                    for n in first .. last - 1 do
                        for plane in 0 .. input.Channels - 1 do
                            for y in 0 .. oh - 1 do
                                let row = n * inSize + (plane * input.Height + 2 * y) * w
                                for x in 0 .. ow - 1 do
                                    let i0 = row + 2 * x
                                    dIn.[i0] <- 'T.Zero
                                    dIn.[i0 + 1] <- 'T.Zero
                                    dIn.[i0 + w] <- 'T.Zero
                                    dIn.[i0 + w + 1] <- 'T.Zero
                                    dIn.[n * inSize + int (Precision.load at.[o])] <- dOut.[o]
                                    o <- o + 1
                else
                    Span<'T>(dIn, first * inSize, (last - first) * inSize).Clear()
                    for n in first .. last - 1 do
                        for o in 0 .. outSize - 1 do
                            let i = n * inSize + int (Precision.load at.[n * outSize + o])
                            dIn.[i] <- dIn.[i] + dOut.[n * outSize + o])
        { new ILayerPass with
            member _.Forward() = Buffers.forParts b.Samples forward
            member _.Backward() = if not (isNull b.DInput) then Buffers.forParts b.Samples backward }

/// <summary>Average pooling: each window's mean (padding counted as zeros); backward spreads δ/k²
/// over the window.</summary>
[<Sealed>]
type AvgPool2D(input: SampleShape, size: int, stride: int, padding: int) =
    inherit Pool2D(input, size, stride, padding)
    /// Windows of size × size that do not overlap.
    new(input: SampleShape, size: int) = AvgPool2D(input, size, size, 0)
    /// "avgpool"
    override _.Kind = "avgpool"
    override l.Bind<'T when 'T :> Numerics.IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>(b: LayerBuffers<'T>) =
        let win, input = l.Window, l.InputShape
        let inSize = input.Size
        let forward = Action<int, int>(fun first last -> Pooling.average input win first last b.Input b.Output)
        let backward =
            Action<int, int>(fun first last ->
                Span<'T>(b.DInput, first * inSize, (last - first) * inSize).Clear()
                Pooling.spread input win first last b.DOutput b.DInput)
        { new ILayerPass with
            member _.Forward() = Buffers.forParts b.Samples forward
            member _.Backward() = if not (isNull b.DInput) then Buffers.forParts b.Samples backward }
