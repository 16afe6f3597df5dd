namespace Toolkit.Data

open System
open System.Globalization
open System.IO
open System.Text
open System.Text.Json
open MathNet.Numerics.LinearAlgebra
open Toolkit.Nn

/// <summary>
/// Saved networks: a documented, versioned, portable JSON file, written atomically (a temporary
/// file renamed over the old one, so a crash mid-save leaves the old file whole). Every number
/// is written in its shortest round-trip form, so a loaded network predicts bit-identically.
/// </summary>
/// <remarks>
/// Format, version 1: <c>{"format": "toolkit-network", "version": 1, "loss": "quadratic",
/// "layers": [{"inputs": 784, "outputs": 30, "activation": "sigmoid", "weights": [… n_out × n_in,
/// column-major …], "bias": [… n_out …]}, …]}</c>.
/// </remarks>
[<RequireQualifiedAccess>]
module ModelFile =

    /// The format's name in the file.
    [<Literal>]
    let Format = "toolkit-network"

    /// The version this code writes and reads.
    [<Literal>]
    let Version = 1

    /// The network as the text of a model file.
    let toJson (n: Network) : string =
        use ms = new MemoryStream()
        (
            use w = new Utf8JsonWriter(ms, JsonWriterOptions(Indented = false))
            w.WriteStartObject()
            w.WriteString("format", Format)
            w.WriteNumber("version", Version)
            w.WriteString("loss", Loss.name n.Loss)
            w.WriteStartArray("layers")
            for l in n.Layers do
                w.WriteStartObject()
                w.WriteNumber("inputs", l.W.ColumnCount)
                w.WriteNumber("outputs", l.W.RowCount)
                w.WriteString("activation", Activation.name l.Activation)
                // raw numbers in round-trip form ("R"): the same doubles come back
                let numbers (name: string) (xs: float[]) =
                    w.WritePropertyName name
                    w.WriteRawValue("[" + String.Join(",", xs |> Array.map (fun v -> v.ToString("R", CultureInfo.InvariantCulture))) + "]")
                numbers "weights" (l.W.ToColumnMajorArray())
                numbers "bias" (l.B.ToColumnMajorArray())
                w.WriteEndObject()
            w.WriteEndArray()
            w.WriteEndObject()
        )
        Encoding.UTF8.GetString(ms.ToArray())

    /// Saves a network atomically.
    let save (path: string) (n: Network) =
        if n.Layers |> Array.exists (fun l -> Seq.append (l.W.Enumerate()) (l.B.Enumerate()) |> Seq.exists (fun v -> not (Double.IsFinite v))) then
            invalidArg "n" "the network has NaN or infinite parameters; it is not saved"
        Toolkit.AtomicFile.writeAllText path (toJson n)

    /// <summary>Reads a model file; a file that is not one, of another version, or whose numbers
    /// do not fit its shapes, is an error naming the file and the problem.</summary>
    let load (path: string) : Network =
        if not (File.Exists path) then raise (FileNotFoundException(sprintf "%s: no such file" path, path))
        let fail (problem: string) = raise (DataFormatException(path, problem))
        let doc =
            try JsonDocument.Parse(File.ReadAllText path)
            with :? JsonException as e -> fail (sprintf "not a model file: %s" e.Message)
        use doc = doc
        let root = doc.RootElement
        let prop (e: JsonElement) (name: string) =
            match e.TryGetProperty name with
            | true, v -> v
            | _ -> fail (sprintf "the field \"%s\" is missing" name)
        if root.ValueKind <> JsonValueKind.Object || (match root.TryGetProperty "format" with | true, f -> f.ValueKind <> JsonValueKind.String || f.GetString() <> Format | _ -> true) then
            fail (sprintf "not a model file (no \"format\": \"%s\")" Format)
        let version = (prop root "version").GetInt32()
        if version <> Version then fail (sprintf "model file version %d; this version of Toolkit reads version %d" version Version)
        let loss = match Loss.tryParse ((prop root "loss").GetString()) with Some l -> l | None -> fail (sprintf "unknown loss \"%s\"" ((prop root "loss").GetString()))
        let layers =
            (prop root "layers").EnumerateArray()
            |> Seq.mapi (fun k l ->
                let nIn, nOut = (prop l "inputs").GetInt32(), (prop l "outputs").GetInt32()
                let act = match Activation.tryParse ((prop l "activation").GetString()) with Some a -> a | None -> fail (sprintf "layer %d: unknown activation \"%s\"" (k + 1) ((prop l "activation").GetString()))
                let numbers (name: string) = [| for v in (prop l name).EnumerateArray() -> v.GetDouble() |]
                let w, b = numbers "weights", numbers "bias"
                if w.Length <> nIn * nOut then fail (sprintf "layer %d: %d weights for %d×%d" (k + 1) w.Length nOut nIn)
                if b.Length <> nOut then fail (sprintf "layer %d: %d biases for %d outputs" (k + 1) b.Length nOut)
                { W = Matrix<float>.Build.Dense(nOut, nIn, w); B = Matrix<float>.Build.Dense(nOut, 1, b); Activation = act })
            |> Array.ofSeq
        if layers.Length = 0 then fail "the model has no layers"
        for k in 1 .. layers.Length - 1 do
            if layers.[k].W.ColumnCount <> layers.[k - 1].W.RowCount then
                fail (sprintf "layer %d takes %d inputs but layer %d gives %d outputs" (k + 1) layers.[k].W.ColumnCount k layers.[k - 1].W.RowCount)
        { Layers = layers; Loss = loss }
