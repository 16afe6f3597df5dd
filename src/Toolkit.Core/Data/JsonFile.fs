namespace Toolkit.Data

open System
open System.IO
open System.Text.Json

/// Reading the toolkit's JSON files (models, checkpoints): parsed from the stream, every problem
/// an InvalidDataException naming the file.
module internal JsonFile =

    /// <summary>The file parsed, or a bad-file error "not a <paramref name="kind"/>: …".</summary>
    let parse (path: string) (kind: string) : JsonDocument =
        if not (File.Exists path) then raise (FileNotFoundException(sprintf "%s: no such file" path, path))
        use stream = File.OpenRead path
        try JsonDocument.Parse(stream)
        with :? JsonException as e -> raise (DataFormat.error path (sprintf "not a %s: %s" kind e.Message))

    /// <summary>A field of an object, or a bad-file error saying it is missing.</summary>
    let field (path: string) (e: JsonElement) (name: string) : JsonElement =
        match (if e.ValueKind = JsonValueKind.Object then e.TryGetProperty name else (false, Unchecked.defaultof<_>)) with
        | true, v -> v
        | _ -> raise (DataFormat.error path (sprintf "the field \"%s\" is missing" name))

    /// <summary>Whether the root is an object whose "format" is the given name.</summary>
    let hasFormat (root: JsonElement) (format: string) =
        root.ValueKind = JsonValueKind.Object
        && (match root.TryGetProperty "format" with
            | true, f -> f.ValueKind = JsonValueKind.String && f.GetString() = format
            | _ -> false)

    /// <summary>One finite number, or a bad-file error naming <paramref name="label"/> and what it
    /// holds; null reads as <paramref name="nullAs"/> where that is allowed.</summary>
    let number (path: string) (label: string) (nullAs: float option) (x: JsonElement) : float =
        let fail what = raise (DataFormat.error path (sprintf "%s holds %s, which is not %s" label (x.GetRawText()) what))
        match x.ValueKind, nullAs with
        | JsonValueKind.Null, Some v -> v
        | JsonValueKind.Number, _ ->
            match x.TryGetDouble() with
            | true, d when Double.IsFinite d -> d
            | _ -> fail "a finite number"
        | JsonValueKind.Null, None -> fail "a finite number"
        | _ -> fail "a number"

    /// <summary>An array of finite numbers (see <see cref="number"/>), or a bad-file error.</summary>
    let numbers (path: string) (label: string) (nullAs: float option) (v: JsonElement) : float[] =
        if v.ValueKind <> JsonValueKind.Array then raise (DataFormat.error path (sprintf "%s is not an array of numbers" label))
        [| for x in v.EnumerateArray() -> number path label nullAs x |]
