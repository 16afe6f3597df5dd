namespace Toolkit.Charts

open System
open System.IO
open System.IO.Compression

/// <summary>
/// PNG files for grayscale and RGB pictures, written with the runtime's own zlib: the static,
/// browser-free form of an image (a Fashion-MNIST sample, a heatmap's cells). The format is the
/// PNG specification's simplest: 8 bits per channel, no interlacing, filter 0 on every row.
/// </summary>
[<RequireQualifiedAccess>]
module Png =

    let private crcTable =
        Array.init 256 (fun n ->
            let mutable c = uint32 n
            for _ in 0 .. 7 do c <- if c &&& 1u <> 0u then 0xEDB88320u ^^^ (c >>> 1) else c >>> 1
            c)

    /// The CRC-32 that closes every PNG chunk (over its type and data).
    let crc32 (bytes: byte[]) : uint32 =
        let mutable c = 0xFFFFFFFFu
        for b in bytes do c <- crcTable.[int ((c ^^^ uint32 b) &&& 0xFFu)] ^^^ (c >>> 8)
        c ^^^ 0xFFFFFFFFu

    let private bigEndian (v: uint32) = [| byte (v >>> 24); byte (v >>> 16); byte (v >>> 8); byte v |]

    let private chunk (out: Stream) (kind: string) (data: byte[]) =
        let typed = Array.append (Text.Encoding.ASCII.GetBytes kind) data
        out.Write(bigEndian (uint32 data.Length))
        out.Write(typed)
        out.Write(bigEndian (crc32 typed))

    /// <summary>The PNG bytes of a picture: <paramref name="channels"/> 1 (gray) or 3 (RGB),
    /// <paramref name="pixels"/> row-major, channels interleaved.</summary>
    let encode (width: int) (height: int) (channels: int) (pixels: byte[]) : byte[] =
        if width < 1 || height < 1 then invalidArg "width" (sprintf "a picture needs a positive size, not %d×%d" width height)
        if channels <> 1 && channels <> 3 then invalidArg "channels" (sprintf "1 (gray) or 3 (RGB) channels, not %d" channels)
        if pixels.Length <> width * height * channels then
            invalidArg "pixels" (sprintf "a %d×%d picture with %d channel(s) has %d bytes, not %d" width height channels (width * height * channels) pixels.Length)
        use out = new MemoryStream()
        out.Write([| 137uy; 80uy; 78uy; 71uy; 13uy; 10uy; 26uy; 10uy |])
        chunk out "IHDR" (Array.concat [ bigEndian (uint32 width); bigEndian (uint32 height); [| 8uy; (if channels = 1 then 0uy else 2uy); 0uy; 0uy; 0uy |] ])
        let stride = width * channels
        use packed = new MemoryStream()
        (
            use z = new ZLibStream(packed, CompressionLevel.Optimal, true)
            for r in 0 .. height - 1 do
                z.WriteByte 0uy                      // filter: none
                z.Write(pixels, r * stride, stride)
        )
        chunk out "IDAT" (packed.ToArray())
        chunk out "IEND" [||]
        out.ToArray()

    /// <summary>Grayscale images (each rows × cols bytes) tiled into one picture, perRow to a
    /// row, with a one-pixel white gap: the PNG form of a grid of samples.</summary>
    let tile (rows: int) (cols: int) (perRow: int) (images: byte[] list) : byte[] =
        if images.IsEmpty then invalidArg "images" "no images to tile"
        if perRow < 1 then invalidArg "perRow" (sprintf "at least one image per row, not %d" perRow)
        let n = images.Length
        let across = min perRow n
        let down = (n + perRow - 1) / perRow
        let w, h = across * (cols + 1) - 1, down * (rows + 1) - 1
        let canvas = Array.create (w * h) 255uy
        images |> List.iteri (fun k img ->
            if img.Length <> rows * cols then invalidArg "images" (sprintf "image %d has %d pixels, not %d×%d" k img.Length rows cols)
            let x0, y0 = (k % perRow) * (cols + 1), (k / perRow) * (rows + 1)
            for r in 0 .. rows - 1 do
                Array.blit img (r * cols) canvas ((y0 + r) * w + x0) cols)
        encode w h 1 canvas
