namespace Toolkit.Data

open System
open System.IO
open System.IO.Compression

/// A file that is not what it should be: which file, where, and what is wrong.
exception DataFormatException of path: string * problem: string
    with
        /// "path: problem".
        override e.Message = sprintf "%s: %s" e.path e.problem

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
    member a.ItemSize = a.Dimensions |> Array.skip 1 |> Array.fold (*) 1

/// Reading IDX files, raw or gzip-compressed (detected from the first two bytes).
[<RequireQualifiedAccess>]
module Idx =

    let private fail path fmt = Printf.kprintf (fun s -> raise (DataFormatException(path, s))) fmt

    /// The whole file's bytes, decompressed if it is gzip.
    let private contents (path: string) : byte[] =
        if not (File.Exists path) then raise (FileNotFoundException(sprintf "%s: no such file" path, path))
        let raw = File.ReadAllBytes path
        if raw.Length >= 2 && raw.[0] = 0x1fuy && raw.[1] = 0x8buy then
            try
                use input = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress)
                use output = new MemoryStream()
                input.CopyTo output
                output.ToArray()
            with :? InvalidDataException as e ->
                fail path "the gzip data is corrupt (%s)" e.Message
        else raw

    /// <summary>Reads an IDX file: magic number 0x00 0x00 type rank, big-endian dimensions, then
    /// the values. A wrong magic number, an unknown type, or data shorter or longer than the
    /// dimensions say is reported with the file and the byte offset.</summary>
    let read (path: string) : IdxArray =
        let b = contents path
        if b.Length < 4 then fail path "the file is %d bytes long, too short for the 4-byte IDX magic number" b.Length
        if b.[0] <> 0uy || b.[1] <> 0uy then
            fail path "bad magic number 0x%02x%02x%02x%02x at offset 0: an IDX file starts with two zero bytes" b.[0] b.[1] b.[2] b.[3]
        let size =
            match b.[2] with
            | 0x08uy | 0x09uy -> 1
            | 0x0Buy -> 2
            | 0x0Cuy | 0x0Duy -> 4
            | 0x0Euy -> 8
            | t -> fail path "unknown IDX data type 0x%02x at offset 2 (expected 08, 09, 0B, 0C, 0D or 0E)" t
        let rank = int b.[3]
        if rank < 1 then fail path "the IDX rank at offset 3 is 0: an array needs at least one dimension"
        let header = 4 + 4 * rank
        if b.Length < header then fail path "the header needs %d bytes for %d dimensions but the file has %d" header rank b.Length
        let dims =
            Array.init rank (fun k ->
                let o = 4 + 4 * k
                let d = (int b.[o] <<< 24) ||| (int b.[o + 1] <<< 16) ||| (int b.[o + 2] <<< 8) ||| int b.[o + 3]
                if d < 0 then fail path "dimension %d at offset %d is negative (%d)" k o d
                d)
        let count = dims |> Array.fold (fun acc d -> acc * int64 d) 1L
        let expected = int64 header + count * int64 size
        if int64 b.Length < expected then
            fail path "truncated: the dimensions %s need %d bytes of data after the %d-byte header, but the file ends at offset %d"
                (String.Join("×", dims)) (count * int64 size) header b.Length
        if int64 b.Length > expected then
            fail path "%d bytes after the end of the data at offset %d (the dimensions %s say the file is %d bytes)"
                (int64 b.Length - expected) expected (String.Join("×", dims)) expected
        if size = 1 && b.[2] = 0x08uy then
            { Dimensions = dims; Bytes = b.[header..]; Values = [||] }
        else
            let n = int count
            let values =
                Array.init n (fun i ->
                    let o = header + i * size
                    let be (k: int) = Array.init k (fun t -> b.[o + k - 1 - t])   // big-endian to little-endian
                    match b.[2] with
                    | 0x09uy -> float (sbyte b.[o])
                    | 0x0Buy -> float (BitConverter.ToInt16(be 2, 0))
                    | 0x0Cuy -> float (BitConverter.ToInt32(be 4, 0))
                    | 0x0Duy -> float (BitConverter.ToSingle(be 4, 0))
                    | _ -> BitConverter.ToDouble(be 8, 0))
            { Dimensions = dims; Bytes = [||]; Values = values }

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
