namespace Toolkit.Data

open System
open System.IO
open System.IO.Compression

/// <summary>A file that is not what it should be: an <c>InvalidDataException</c> (sealed in .NET,
/// so not a subclass) whose message reads "path: problem", with the file and the problem also in
/// its <c>Data</c> under "path" and "problem".</summary>
[<RequireQualifiedAccess>]
module DataFormat =
    /// The exception for a bad file.
    let error (path: string) (problem: string) : InvalidDataException =
        let e = InvalidDataException(sprintf "%s: %s" path problem)
        e.Data.["path"] <- path
        e.Data.["problem"] <- problem
        e

    /// The problem of a bad-file exception (its message without the path).
    let problem (e: InvalidDataException) : string =
        match e.Data.["problem"] with
        | :? string as p -> p
        | _ -> e.Message

/// An IDX array (the MNIST format): its dimensions and its values, in row-major order.
type IdxArray =
    { /// The sizes of the dimensions (images: count, rows, columns; labels: count).
      Dimensions: int[]
      /// The values as bytes, for the unsigned-byte type MNIST uses (empty for other types).
      Bytes: byte[]
      /// The values as numbers, for the other IDX types (empty for unsigned bytes).
      Values: float[] }
    /// The number of items (the first dimension).
    member a.Count = a.Dimensions.[0]
    /// The size of one item: the product of the other dimensions.
    member a.ItemSize = a.Dimensions |> Array.skip 1 |> Array.fold (*) 1   // the reader bounds the product by Array.MaxLength

/// Reading IDX files, raw or gzip-compressed (detected from the first two bytes).
[<RequireQualifiedAccess>]
module Idx =

    let private fail path fmt = Printf.kprintf (fun s -> raise (DataFormat.error path s)) fmt

    /// Reads up to count bytes into buffer at offset; returns how many were read (fewer at the end).
    let private readUpTo (stream: Stream) (buffer: byte[]) (offset: int) (count: int) =
        let mutable got = 0
        let mutable go = true
        while go && got < count do
            let n = stream.Read(buffer, offset + got, count - got)
            if n = 0 then go <- false else got <- got + n
        got

    /// <summary>Reads an IDX file: magic number 0x00 0x00 type rank, big-endian dimensions, then
    /// the values. Gzip is recognised by its first two bytes and decompressed as the file is
    /// read, straight into one array of the data's size. A wrong magic number, an unknown type, or
    /// data shorter or longer than the dimensions say is reported with the file and the byte
    /// offset (in the decompressed data).</summary>
    let read (path: string) : IdxArray =
        if not (File.Exists path) then raise (FileNotFoundException(sprintf "%s: no such file" path, path))
        use file = File.OpenRead path
        let first = Array.zeroCreate<byte> 2
        let gz = readUpTo file first 0 2 = 2 && first.[0] = 0x1fuy && first.[1] = 0x8buy
        file.Position <- 0L
        use stream : Stream = if gz then new GZipStream(file, CompressionMode.Decompress) else file
        try
            let head = Array.zeroCreate<byte> 4
            let got = readUpTo stream head 0 4
            if got < 4 then fail path "the file is %d bytes long, too short for the 4-byte IDX magic number" got
            if head.[0] <> 0uy || head.[1] <> 0uy then
                fail path "bad magic number 0x%02x%02x%02x%02x at offset 0: an IDX file starts with two zero bytes" head.[0] head.[1] head.[2] head.[3]
            let size =
                match head.[2] with
                | 0x08uy | 0x09uy -> 1
                | 0x0Buy -> 2
                | 0x0Cuy | 0x0Duy -> 4
                | 0x0Euy -> 8
                | t -> fail path "unknown IDX data type 0x%02x at offset 2 (expected 08, 09, 0B, 0C, 0D or 0E)" t
            let rank = int head.[3]
            if rank < 1 then fail path "the IDX rank at offset 3 is 0: an array needs at least one dimension"
            let header = 4 + 4 * rank
            let dimBytes = Array.zeroCreate<byte> (4 * rank)
            let got = readUpTo stream dimBytes 0 (4 * rank)
            if got < 4 * rank then fail path "the header needs %d bytes for %d dimensions but the file has %d" header rank (4 + got)
            let dims =
                Array.init rank (fun k ->
                    let o = 4 * k
                    let d = (int dimBytes.[o] <<< 24) ||| (int dimBytes.[o + 1] <<< 16) ||| (int dimBytes.[o + 2] <<< 8) ||| int dimBytes.[o + 3]
                    if d < 0 then fail path "dimension %d at offset %d is negative (%d)" k (4 + o) d
                    d)
            // products saturate past any array's size: 255 dimensions of 2³¹ would wrap an int64
            let times (acc: int64) (d: int) = if d = 0 then 0L elif acc > int64 Array.MaxLength then acc else acc * int64 d
            let count = dims |> Array.fold times 1L
            let bytes = count * int64 size
            if bytes > int64 Array.MaxLength then
                fail path "the dimensions %s need %d bytes, more than one array holds" (String.Join("×", dims)) bytes
            // one item alone must fit too: with a count of 0 the product above says nothing
            let itemBytes = dims |> Array.skip 1 |> Array.fold times (int64 size)
            if itemBytes > int64 Array.MaxLength then
                fail path "one item of %s needs %d bytes, more than one array holds" (String.Join("×", dims |> Array.skip 1)) itemBytes
            let truncated got =
                fail path "truncated: the dimensions %s need %d bytes of data after the %d-byte header, but the file ends at offset %d"
                    (String.Join("×", dims)) bytes header (int64 header + got)
            let extra n =
                fail path "%d bytes after the end of the data at offset %d (the dimensions %s say the file is %d bytes)"
                    n (int64 header + bytes) (String.Join("×", dims)) (int64 header + bytes)
            // the header is checked against the data before the data's array is made: a raw
            // file by its length; a gzip stream, whose length is unknown until it ends, into an
            // array that grows (at most doubling) as the data arrives, so a ten-kilobyte file
            // that claims gigabytes fails having allocated little
            if not gz then
                let rest = file.Length - int64 header
                if rest < bytes then truncated rest
                if rest > bytes then extra (rest - bytes)
            let mutable data = Array.zeroCreate<byte> (if gz then int (min bytes (1L <<< 20)) else int bytes)
            let mutable got = readUpTo stream data 0 data.Length
            while got = data.Length && int64 data.Length < bytes do
                let grown = Array.zeroCreate<byte> (int (min bytes (2L * int64 data.Length)))
                Array.blit data 0 grown 0 got
                data <- grown
                got <- got + readUpTo stream data got (data.Length - got)
            if int64 got < bytes then truncated (int64 got)
            let data = data
            // anything after the data is an error too: count it
            let after =
                let buffer = Array.zeroCreate<byte> 65536
                let mutable total = 0L
                let mutable n = stream.Read(buffer, 0, buffer.Length)
                while n > 0 do
                    total <- total + int64 n
                    n <- stream.Read(buffer, 0, buffer.Length)
                total
            if after > 0L then extra after
            if head.[2] = 0x08uy then
                { Dimensions = dims; Bytes = data; Values = [||] }
            else
                let values =
                    Array.init (int count) (fun i ->
                        let o = i * size
                        let be (k: int) = Array.init k (fun t -> data.[o + k - 1 - t])   // big-endian to little-endian
                        match head.[2] with
                        | 0x09uy -> float (sbyte data.[o])
                        | 0x0Buy -> float (BitConverter.ToInt16(be 2, 0))
                        | 0x0Cuy -> float (BitConverter.ToInt32(be 4, 0))
                        | 0x0Duy -> float (BitConverter.ToSingle(be 4, 0))
                        | _ -> BitConverter.ToDouble(be 8, 0))
                { Dimensions = dims; Bytes = [||]; Values = values }
        // the decompressor's own error; the reader's errors (the same exception type, naming the
        // file in Data) pass through as they are
        with :? InvalidDataException as e when isNull e.Data.["path"] ->
            fail path "the gzip data is corrupt (%s)" e.Message

    /// <summary>Writes an unsigned-byte IDX file (atomically), gzip-compressed when the name
    /// ends in .gz: for tests and for saving small data sets.</summary>
    let writeBytes (path: string) (dims: int[]) (data: byte[]) =
        let count = dims |> Array.fold (*) 1
        if count <> data.Length then invalidArg "data" (sprintf "the dimensions %s hold %d values, not %d" (String.Join("×", dims)) count data.Length)
        use ms = new MemoryStream()
        ms.Write([| 0uy; 0uy; 0x08uy; byte dims.Length |], 0, 4)
        for d in dims do ms.Write([| byte (d >>> 24); byte (d >>> 16); byte (d >>> 8); byte d |], 0, 4)
        ms.Write(data, 0, data.Length)
        let bytes =
            if path.EndsWith ".gz" then
                use out = new MemoryStream()
                (use gz = new GZipStream(out, CompressionLevel.Fastest, true)
                 gz.Write(ms.ToArray(), 0, int ms.Length))
                out.ToArray()
            else ms.ToArray()
        let temp = path + ".tmp"
        File.WriteAllBytes(temp, bytes)
        File.Move(temp, path, true)
