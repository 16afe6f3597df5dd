namespace Toolkit.Nn

open Toolkit
open System
open System.Numerics
open System.Runtime.CompilerServices
open System.Runtime.Intrinsics
open System.Runtime.Intrinsics.X86

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

    /// <summary>Max pooling's backward for the samples first … last − 1 when 2×2 windows that do
    /// not overlap cover the image (even height and width): each input is in one window, so each
    /// window's four are written (zeros, then δ where the maximum was) with no pass to clear.</summary>
    let route<'T when 'T :> IFloatingPointIeee754<'T>> (shape: SampleShape) (first: int) (last: int) (dOutput: 'T[]) (at: 'T[]) (dInput: 'T[]) =
        let w, oh, ow, inSize = shape.Width, shape.Height / 2, shape.Width / 2, shape.Size
        let mutable o = first * shape.Channels * oh * ow
        for n in first .. last - 1 do
            for plane in 0 .. shape.Channels - 1 do
                for y in 0 .. oh - 1 do
                    let row = n * inSize + (plane * shape.Height + 2 * y) * w
                    for x in 0 .. ow - 1 do
                        let i0 = row + 2 * x
                        dInput.[i0] <- 'T.Zero
                        dInput.[i0 + 1] <- 'T.Zero
                        dInput.[i0 + w] <- 'T.Zero
                        dInput.[i0 + w + 1] <- 'T.Zero
                        dInput.[n * inSize + int (Precision.load at.[o])] <- dOutput.[o]
                        o <- o + 1

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

/// <summary>Max pooling's usual case, 2×2 windows with stride 2 and no padding, in float32 four
/// windows at a time (SSE; x64 has it always, elsewhere the loops above run). The four values of
/// each window come from two rows: shuffling a row's eight values into its even and odd columns
/// gives four windows' left and right values at once. The comparisons are the loops' own, in the
/// same order, so values and positions are the same bits, ties (the first of equal values) and
/// NaN (which wins) included. Rows of fewer than four windows take the loops.</summary>
module internal PoolTiles =

    /// Whether these tiles run here: SSE, and at least four windows to a row.
    let fits (outputWidth: int) = Sse.IsSupported && outputWidth >= 4

    /// <summary>body i0 o start for every four windows side by side in a row of the samples
    /// first … last − 1: i0 the first window's top left input, o its output, start where i0 is in
    /// its sample. When a row's windows are not a multiple of four, its last four overlap the ones
    /// before and are computed twice, the same both times.</summary>
    let inline private eachFour (shape: SampleShape) (first: int) (last: int) ([<InlineIfLambda>] body: int -> int -> int -> unit) =
        let h, w, channels = shape.Height, shape.Width, shape.Channels
        let oh, ow = h / 2, w / 2
        for plane in first * channels .. last * channels - 1 do
            let src, dst, inSample = plane * h * w, plane * oh * ow, (plane % channels) * h * w
            for y in 0 .. oh - 1 do
                let mutable x = 0
                while x < ow do
                    let x4 = min x (ow - 4)
                    body (src + 2 * y * w + 2 * x4) (dst + y * ow + x4) (inSample + 2 * y * w + 2 * x4)
                    x <- x4 + 4

    /// Where in the sample each of four windows starts: columns 0, 2, 4, 6 of its top row from start.
    let private starts (start: int) = Vector128.Create(start) + Vector128.Create(0, 2, 4, 6)

    /// <summary>Max pooling of the samples first … last − 1 (as <c>Pooling.max</c>).</summary>
    let max (shape: SampleShape) (first: int) (last: int) (input: float32[]) (output: float32[]) (at: float32[]) =
        let w = shape.Width
        let below = Vector128.Create(w)
        eachFour shape first last (fun i0 o start ->
            // eight values of each row: every index read is inside the row (the last window ends at w)
            let top0, top1 = Vector128.LoadUnsafe(&input.[i0]), Vector128.LoadUnsafe(&input.[i0 + 4])
            let bot0, bot1 = Vector128.LoadUnsafe(&input.[i0 + w]), Vector128.LoadUnsafe(&input.[i0 + w + 4])
            let a, b = Sse.Shuffle(top0, top1, 0b10_00_10_00uy), Sse.Shuffle(top0, top1, 0b11_01_11_01uy)
            let c, d = Sse.Shuffle(bot0, bot1, 0b10_00_10_00uy), Sse.Shuffle(bot0, bot1, 0b11_01_11_01uy)
            let start = starts start
            // as the loops: a later value moves the position only when greater (a mask is −1
            // where true, so subtracting it adds 1); Max lets NaN win
            let iab = start - Vector128.GreaterThan(b, a).AsInt32()
            let ab = Vector128.Max(a, b)
            let icd = start + below - Vector128.GreaterThan(d, c).AsInt32()
            let cd = Vector128.Max(c, d)
            let best = Vector128.ConditionalSelect(Vector128.GreaterThan(cd, ab).AsInt32(), icd, iab)
            Vector128.StoreUnsafe(Vector128.Max(ab, cd), &output.[o])
            Vector128.StoreUnsafe(Vector128.ConvertToSingle(best), &at.[o]))

    /// <summary>Max pooling's backward over tiles that cover the image (even height and width):
    /// each window's four inputs written, δ where the maximum was and 0 elsewhere, four windows
    /// at a time (the even and odd columns interleaved back into rows).</summary>
    let route (shape: SampleShape) (first: int) (last: int) (dOutput: float32[]) (at: float32[]) (dInput: float32[]) =
        let w = shape.Width
        let one, below = Vector128.Create(1), Vector128.Create(w)
        eachFour shape first last (fun i0 o start ->
            // which of its four inputs each window's maximum was: 0, 1 (top row), w, w + 1
            let where = Vector128.ConvertToInt32(Vector128.LoadUnsafe(&at.[o])) - starts start
            let d = Vector128.LoadUnsafe(&dOutput.[o])
            let pick (k: Vector128<int>) = Vector128.BitwiseAnd(d, Vector128.Equals(where, k).AsSingle())
            let a, b, c, e = pick Vector128<int>.Zero, pick one, pick below, pick (below + one)
            Vector128.StoreUnsafe(Sse.UnpackLow(a, b), &dInput.[i0])
            Vector128.StoreUnsafe(Sse.UnpackHigh(a, b), &dInput.[i0 + 4])
            Vector128.StoreUnsafe(Sse.UnpackLow(c, e), &dInput.[i0 + w])
            Vector128.StoreUnsafe(Sse.UnpackHigh(c, e), &dInput.[i0 + w + 4]))

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
        // 2×2 windows with stride 2 in float32: four at a time (PoolTiles)
        let simd = win.Size = 2 && win.Stride = 2 && win.Padding = 0 && typeof<'T> = typeof<float32> && PoolTiles.fits output.Width
        let single (a: 'T[]) = box a :?> float32[]
        let forward =
            if simd then Action<int, int>(fun first last -> PoolTiles.max input first last (single b.Input) (single b.Output) (single b.Scratch))
            else Action<int, int>(fun first last -> Pooling.max input win first last b.Input b.Output b.Scratch)
        // 2×2 windows that do not overlap and cover the image (Pooling.route)
        let tiles = win.Size = 2 && win.Stride = 2 && win.Padding = 0 && input.Height % 2 = 0 && input.Width % 2 = 0
        let backward =
            Action<int, int>(fun first last ->
                let dIn, dOut, at = b.DInput, b.DOutput, b.Scratch
                if tiles && simd then PoolTiles.route input first last (single dOut) (single at) (single dIn)
                elif tiles then Pooling.route input first last dOut at dIn
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
