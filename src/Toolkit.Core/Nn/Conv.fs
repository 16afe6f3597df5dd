namespace Toolkit.Nn

open System
open System.Numerics

/// <summary>Where a square window (a convolution's kernel, a pooling's window) goes over an image:
/// its size k, its stride s and the zero padding p on every side. An input of height H gives
/// ⌊(H + 2p − k)/s⌋ + 1 rows of windows, and likewise for the width.</summary>
[<Struct>]
type Window =
    { Size: int
      Stride: int
      Padding: int }
    /// Window positions along an axis of n values (0 when the window does not fit).
    member w.Count(n: int) = if n + 2 * w.Padding < w.Size then 0 else (n + 2 * w.Padding - w.Size) / w.Stride + 1

/// <summary>
/// The convolution written out as the notes write dense layers: plain loops over every index,
/// float64, one sample at a time, samples side by side (each channel × height × width). This is
/// the reference the fast layer (<c>Conv2D</c>, im2col and one product) is checked against, and
/// what the convolution page prints beside the equations:
/// forward   z[o, y, x] = b[o] + Σ_{c, i, j} W[o, c, i, j] · a[c, s·y + i − p, s·x + j − p]
/// backward  ∂C/∂W[o, c, i, j] = Σ_{y, x} δ[o, y, x] · a[c, s·y + i − p, s·x + j − p]   (the input correlated with δ)
///           ∂C/∂b[o] = Σ_{y, x} δ[o, y, x]
///           ∂C/∂a[c, u, v] = Σ_{o, y, x: s·y + i − p = u, s·x + j − p = v} δ[o, y, x] · W[o, c, i, j]
///           (for stride 1: the full correlation of δ with the kernel turned by 180°)
/// W is outputs × channels × k × k, stored in that order (PyTorch's and ONNX's order).
/// </summary>
[<RequireQualifiedAccess>]
module ConvReference =

    let private at (a: float[]) (c: int) (h: int) (w: int) (u: int) (v: int) =
        if u < 0 || u >= h || v < 0 || v >= w then 0.0 else a.[(c * h + u) * w + v]

    /// <summary>z = W ∗ a + b for one sample a (channels × h × w): the output, outputs × h′ × w′.</summary>
    let forward (input: SampleShape) (outputs: int) (win: Window) (weights: float[]) (bias: float[]) (a: float[]) : float[] =
        let cIn, h, w, k = input.Channels, input.Height, input.Width, win.Size
        let oh, ow = win.Count h, win.Count w
        Array.init (outputs * oh * ow) (fun idx ->
            let o, y, x = idx / (oh * ow), idx / ow % oh, idx % ow
            let mutable z = bias.[o]
            for c in 0 .. cIn - 1 do
                for i in 0 .. k - 1 do
                    for j in 0 .. k - 1 do
                        z <- z + weights.[((o * cIn + c) * k + i) * k + j] * at a c h w (win.Stride * y + i - win.Padding) (win.Stride * x + j - win.Padding)
            z)

    /// <summary>From δ = ∂C/∂z of one sample: ∂C/∂W, ∂C/∂b and ∂C/∂a, each loop the equation above.</summary>
    let backward (input: SampleShape) (outputs: int) (win: Window) (weights: float[]) (a: float[]) (delta: float[]) : float[] * float[] * float[] =
        let cIn, h, w, k, s, p = input.Channels, input.Height, input.Width, win.Size, win.Stride, win.Padding
        let oh, ow = win.Count h, win.Count w
        let d o y x = delta.[(o * oh + y) * ow + x]
        let dW =
            Array.init (outputs * cIn * k * k) (fun idx ->
                let o, c, i, j = idx / (cIn * k * k), idx / (k * k) % cIn, idx / k % k, idx % k
                let mutable g = 0.0
                for y in 0 .. oh - 1 do
                    for x in 0 .. ow - 1 do
                        g <- g + d o y x * at a c h w (s * y + i - p) (s * x + j - p)
                g)
        let db = Array.init outputs (fun o -> Seq.sum (seq { for y in 0 .. oh - 1 do for x in 0 .. ow - 1 -> d o y x }))
        let da =
            Array.init (cIn * h * w) (fun idx ->
                let c, u, v = idx / (h * w), idx / w % h, idx % w
                let mutable g = 0.0
                for o in 0 .. outputs - 1 do
                    for i in 0 .. k - 1 do
                        for j in 0 .. k - 1 do
                            // the output position whose window puts kernel entry (i, j) on (u, v)
                            let ys, xs = u + p - i, v + p - j
                            if ys >= 0 && xs >= 0 && ys % s = 0 && xs % s = 0 && ys / s < oh && xs / s < ow then
                                g <- g + d o (ys / s) (xs / s) * weights.[((o * cIn + c) * k + i) * k + j]
                g)
        dW, db, da

    /// <summary>Max pooling of one sample: each channel's windows' largest value (the first of equal ones).</summary>
    let maxPool (input: SampleShape) (win: Window) (a: float[]) : float[] =
        let c, h, w = input.Channels, input.Height, input.Width
        let oh, ow = win.Count h, win.Count w
        Array.init (c * oh * ow) (fun idx ->
            let ch, y, x = idx / (oh * ow), idx / ow % oh, idx % ow
            seq { for i in 0 .. win.Size - 1 do
                    for j in 0 .. win.Size - 1 do
                        let u, v = win.Stride * y + i - win.Padding, win.Stride * x + j - win.Padding
                        if u >= 0 && u < h && v >= 0 && v < w then yield a.[(ch * h + u) * w + v] }
            |> Seq.max)

    /// <summary>Average pooling of one sample: each window's mean, padding counted as zeros
    /// (ONNX's count_include_pad and PyTorch's default).</summary>
    let avgPool (input: SampleShape) (win: Window) (a: float[]) : float[] =
        let c, h, w = input.Channels, input.Height, input.Width
        let oh, ow = win.Count h, win.Count w
        Array.init (c * oh * ow) (fun idx ->
            let ch, y, x = idx / (oh * ow), idx / ow % oh, idx % ow
            let mutable sum = 0.0
            for i in 0 .. win.Size - 1 do
                for j in 0 .. win.Size - 1 do
                    sum <- sum + at a ch h w (win.Stride * y + i - win.Padding) (win.Stride * x + j - win.Padding)
            sum / float (win.Size * win.Size))

/// <summary>The gather behind the fast convolution: im2col lays every window of a sample out as a
/// row of a matrix, so that the convolution of all positions with all kernels is one product;
/// col2im adds such a matrix's rows back onto the image (the transpose of the gather). The matrix
/// is column-major with a leading dimension ld, so that a batch's samples can stack their rows into
/// one matrix (sample n's rows from n·positions on, ld = samples·positions).</summary>
module internal Im2col =

    /// The output columns first … last whose window puts kernel column j inside an image row of
    /// w values (last < first when there are none).
    let private inside (w: int) (ow: int) (s: int) (p: int) (j: int) =
        struct (min ow (max 0 ((p - j + s - 1) / s)), min (ow - 1) (if w - 1 + p - j < 0 then -1 else (w - 1 + p - j) / s))

    /// <summary>cols (from cOff; entry (pos, (c·k + i)·k + j) at cOff + ((c·k + i)·k + j)·ld + pos)
    /// ← the windows of image a (from aOff), zeros off the edge.</summary>
    let gather<'T when 'T :> IFloatingPointIeee754<'T>> (input: SampleShape) (win: Window) (a: 'T[]) (aOff: int) (cols: 'T[]) (cOff: int) (ld: int) =
        let cIn, h, w, k, s, p = input.Channels, input.Height, input.Width, win.Size, win.Stride, win.Padding
        let oh, ow = win.Count h, win.Count w
        for c in 0 .. cIn - 1 do
            for i in 0 .. k - 1 do
                for j in 0 .. k - 1 do
                    let col = cOff + ((c * k + i) * k + j) * ld
                    let struct (first, last) = inside w ow s p j
                    if s = 1 && ow = w then
                        // "same" padding: the rows inside the image are one run of the image, copied
                        // at once, then the few values the run wrapped from a neighbouring row zeroed
                        let y0, y1 = max 0 (p - i), min (oh - 1) (h - 1 + p - i)
                        if y1 < y0 || last < first then Span<'T>(cols, col, oh * ow).Clear()
                        else
                            if y0 > 0 then Span<'T>(cols, col, y0 * ow).Clear()
                            if y1 < oh - 1 then Span<'T>(cols, col + (y1 + 1) * ow, (oh - 1 - y1) * ow).Clear()
                            Array.blit a (aOff + (c * h + y0 + i - p) * w + first + j - p) cols (col + y0 * ow + first) ((y1 - y0) * w + last - first + 1)
                            for y in y0 .. y1 do
                                for x in 0 .. first - 1 do cols.[col + y * ow + x] <- 'T.Zero
                                for x in last + 1 .. ow - 1 do cols.[col + y * ow + x] <- 'T.Zero
                    else
                    for y in 0 .. oh - 1 do
                        let u = s * y + i - p
                        let row = col + y * ow
                        if u < 0 || u >= h || last < first then Span<'T>(cols, row, ow).Clear()
                        else
                            let src = aOff + (c * h + u) * w + j - p
                            if first > 0 then Span<'T>(cols, row, first).Clear()
                            if s = 1 then Array.blit a (src + first) cols (row + first) (last - first + 1)
                            else
                                for x in first .. last do cols.[row + x] <- a.[src + s * x]
                            if last < ow - 1 then Span<'T>(cols, row + last + 1, ow - 1 - last).Clear()

    /// <summary>da (from aOff) ← da + the rows of cols (from cOff, leading dimension ld) put back
    /// where gather took them from. It may zero entries of cols that fall off the image.</summary>
    let scatterAdd<'T when 'T :> IFloatingPointIeee754<'T>> (input: SampleShape) (win: Window) (cols: 'T[]) (cOff: int) (ld: int) (da: 'T[]) (aOff: int) =
        let cIn, h, w, k, s, p = input.Channels, input.Height, input.Width, win.Size, win.Stride, win.Padding
        let oh, ow = win.Count h, win.Count w
        for c in 0 .. cIn - 1 do
            for i in 0 .. k - 1 do
                for j in 0 .. k - 1 do
                    let col = cOff + ((c * k + i) * k + j) * ld
                    let struct (first, last) = inside w ow s p j
                    if last >= first && s = 1 && ow = w then
                        // as in gather: one run, the wrapped values zeroed first (cols is the caller's scratch)
                        let y0, y1 = max 0 (p - i), min (oh - 1) (h - 1 + p - i)
                        if y1 >= y0 then
                            for y in y0 .. y1 do
                                for x in 0 .. first - 1 do cols.[col + y * ow + x] <- 'T.Zero
                                for x in last + 1 .. ow - 1 do cols.[col + y * ow + x] <- 'T.Zero
                            let len = (y1 - y0) * w + last - first + 1
                            let d = Span<'T>(da, aOff + (c * h + y0 + i - p) * w + first + j - p, len)
                            Numerics.Tensors.TensorPrimitives.Add(Span<'T>.op_Implicit d, ReadOnlySpan<'T>(cols, col + y0 * ow + first, len), d)
                    elif last >= first then
                        for y in 0 .. oh - 1 do
                            let u = s * y + i - p
                            if u >= 0 && u < h then
                                let dst = aOff + (c * h + u) * w + j - p
                                let row = col + y * ow
                                if s = 1 then
                                    let d = Span<'T>(da, dst + first, last - first + 1)
                                    Numerics.Tensors.TensorPrimitives.Add(Span<'T>.op_Implicit d, ReadOnlySpan<'T>(cols, row + first, last - first + 1), d)
                                else
                                    for x in first .. last do da.[dst + s * x] <- da.[dst + s * x] + cols.[row + x]
