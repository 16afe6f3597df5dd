namespace Toolkit.Data

open System
open System.Globalization
open System.IO
open System.Text
open System.Text.Json
open MathNet.Numerics.LinearAlgebra
open Toolkit.Tensors
open Toolkit.Nn

/// <summary>
/// Saved networks: a documented, versioned, portable JSON file, written atomically (a temporary
/// file renamed over the old one, so a crash mid-save leaves the old file whole). Every number
/// is written in its shortest round-trip form, so a loaded network predicts bit-identically.
/// </summary>
/// <remarks>
/// Format, version 2 (written): <c>{"format": "toolkit-network", "version": 2, "loss":
/// "cross-entropy", "inputs": 784, "layers": [{"kind": "dense", "spec": "dense(30)", "inputs": 784,
/// "outputs": 30, "parameters": [… W column-major, then b …]}, {"kind": "relu", "spec": "relu",
/// "inputs": 30, "outputs": 30}, …]}</c>, and optionally <c>"classes": ["T-shirt/top", …]</c>, the
/// names of the classes the outputs stand for, and <c>"shape": [channels, height, width]</c> when the
/// input is an image (a network that starts with a convolution): each layer by its kind and spec (as
/// <c>Layers.parse</c> reads it) and its own parameters in the layer's order. Version 1 (read):
/// dense layers with their activation, <c>{"inputs", "outputs", "activation", "weights", "bias"}</c>;
/// it loads as the same dense and activation layers, bit-identically.
/// </remarks>
[<RequireQualifiedAccess>]
module ModelFile =

    /// The format's name in the file.
    [<Literal>]
    let Format = "toolkit-network"

    /// The version this code writes (it reads 1 and 2).
    [<Literal>]
    let Version = 2

    let private numbersText (xs: float seq) =
        "[" + String.Join(",", xs |> Seq.map (fun v -> v.ToString("R", CultureInfo.InvariantCulture))) + "]"

    /// <summary>The network as the text of a model file, with the names of the classes its
    /// outputs stand for (none: an empty array).</summary>
    let toJsonWith (classes: string[]) (n: Network) : string =
        use ms = new MemoryStream()
        (
            use w = new Utf8JsonWriter(ms, JsonWriterOptions(Indented = false))
            w.WriteStartObject()
            w.WriteString("format", Format)
            w.WriteNumber("version", Version)
            w.WriteString("loss", Loss.name n.Loss)
            w.WriteNumber("inputs", n.Inputs)
            // an image input: the shape the first layers read their specs against
            if not n.InputShape.IsFlat then
                w.WriteStartArray("shape")
                for d in [ n.InputShape.Channels; n.InputShape.Height; n.InputShape.Width ] do w.WriteNumberValue d
                w.WriteEndArray()
            if classes.Length > 0 then
                w.WriteStartArray("classes")
                for c in classes do w.WriteStringValue c
                w.WriteEndArray()
            w.WriteStartArray("layers")
            let offsets = n.Offsets
            n.Layers |> Array.iteri (fun l layer ->
                w.WriteStartObject()
                w.WriteString("kind", layer.Kind)
                w.WriteString("spec", layer.Spec)
                w.WriteNumber("inputs", layer.Inputs)
                w.WriteNumber("outputs", layer.Outputs)
                if layer.ParameterCount > 0 then
                    // raw numbers in round-trip form ("R"): the same doubles come back
                    w.WritePropertyName "parameters"
                    w.WriteRawValue(numbersText (Seq.init layer.ParameterCount (fun i -> n.Parameters.[offsets.[l] + i])))
                w.WriteEndObject())
            w.WriteEndArray()
            w.WriteEndObject()
        )
        Encoding.UTF8.GetString(ms.ToArray())

    /// The network as the text of a model file.
    let toJson (n: Network) : string = toJsonWith [||] n

    /// <summary>Saves a network atomically (not one with NaN or infinite parameters), with the
    /// names of the classes its outputs stand for (one per output, or none).</summary>
    let saveWithClasses (path: string) (n: Network) (classes: string[]) =
        if n.Parameters |> Array.exists (fun v -> not (Double.IsFinite v)) then
            invalidArg "n" "the network has NaN or infinite parameters; it is not saved"
        if classes.Length > 0 && classes.Length <> n.Outputs then
            invalidArg "classes" (sprintf "%d class names for a network with %d outputs" classes.Length n.Outputs)
        Toolkit.AtomicFile.writeAllText path (toJsonWith classes n)

    /// Saves a network atomically (not one with NaN or infinite parameters).
    let save (path: string) (n: Network) = saveWithClasses path n [||]

    /// <summary>Reads a model file and the names of its classes (empty when it names none); a
    /// file that is not one, of another version, or whose numbers do not fit its shapes, is an
    /// InvalidDataException naming the file and the problem.</summary>
    let read (path: string) : Network * string[] =
        let fail (problem: string) = raise (DataFormat.error path problem)
        use doc = JsonFile.parse path "model file"
        let root = doc.RootElement
        let prop = JsonFile.field path
        let text (e: JsonElement) (name: string) =
            let v = prop e name
            if v.ValueKind <> JsonValueKind.String then fail (sprintf "the field \"%s\" is not a string" name)
            v.GetString()
        let count (e: JsonElement) (name: string) =
            let v = prop e name
            match v.ValueKind with
            | JsonValueKind.Number ->
                match v.TryGetInt32() with
                | true, i when i >= 1 -> i
                | _ -> fail (sprintf "the field \"%s\" must be a positive whole number, not %s" name (v.GetRawText()))
            | _ -> fail (sprintf "the field \"%s\" must be a positive whole number, not %s" name (v.GetRawText()))
        let numbers (where: string) (e: JsonElement) (name: string) =
            JsonFile.numbers path (sprintf "%s: \"%s\"" where name) None (prop e name)
        if not (JsonFile.hasFormat root Format) then fail (sprintf "not a model file (no \"format\": \"%s\")" Format)
        let version =
            let v = prop root "version"
            match v.ValueKind, (if v.ValueKind = JsonValueKind.Number then v.TryGetInt32() else (false, 0)) with
            | JsonValueKind.Number, (true, k) -> k
            | _ -> fail (sprintf "the version must be a whole number, not %s" (v.GetRawText()))
        let loss = match Loss.tryParse (text root "loss") with Some l -> l | None -> fail (sprintf "unknown loss \"%s\"" (text root "loss"))
        let entries = prop root "layers"
        if entries.ValueKind <> JsonValueKind.Array then fail "\"layers\" is not an array"
        let layers = ResizeArray<Layer>()
        let parameters = ResizeArray<float>()
        match version with
        | 1 ->
            // dense layers with their activation: the same dense and activation layers today
            for k, l in Seq.indexed (entries.EnumerateArray()) do
                let where = sprintf "layer %d" (k + 1)
                let nIn, nOut = count l "inputs", count l "outputs"
                let act = match Activation.tryParse (text l "activation") with Some a -> a | None -> fail (sprintf "%s: unknown activation \"%s\"" where (text l "activation"))
                let w, b = numbers where l "weights", numbers where l "bias"
                if w.Length <> nIn * nOut then fail (sprintf "%s: %d weights for %d×%d" where w.Length nOut nIn)
                if b.Length <> nOut then fail (sprintf "%s: %d biases for %d outputs" where b.Length nOut)
                layers.Add(Dense(nIn, nOut))
                parameters.AddRange w
                parameters.AddRange b
                if act <> Activation.Identity then layers.Add(ActivationLayer(act, nOut))
        | 2 ->
            let inputs = count root "inputs"
            let mutable shape =
                match root.TryGetProperty "shape" with
                | true, v ->
                    let dims =
                        if v.ValueKind <> JsonValueKind.Array then [||]
                        else [| for d in v.EnumerateArray() -> match d.ValueKind, (if d.ValueKind = JsonValueKind.Number then d.TryGetInt32() else (false, 0)) with
                                                               | JsonValueKind.Number, (true, k) when k >= 1 -> k
                                                               | _ -> 0 |]
                    if dims.Length <> 3 || Array.contains 0 dims then fail (sprintf "\"shape\" must be three positive whole numbers (channels, height, width), not %s" (v.GetRawText()))
                    let s = SampleShape.Image(dims.[0], dims.[1], dims.[2])
                    if int64 dims.[0] * int64 dims.[1] * int64 dims.[2] <> int64 inputs then fail (sprintf "the input shape %O has %d values, not the %d inputs" s s.Size inputs)
                    s
                | _ -> SampleShape.Flat inputs
            let mutable size = inputs
            for k, l in Seq.indexed (entries.EnumerateArray()) do
                let where = sprintf "layer %d" (k + 1)
                let spec = text l "spec"
                let layer =
                    try Layers.parseShaped shape spec
                    with :? FormatException | :? ArgumentException as e -> fail (sprintf "%s: %s" where e.Message)
                if layer.Kind <> text l "kind" then fail (sprintf "%s: the spec \"%s\" is a %s layer, not \"%s\"" where spec layer.Kind (text l "kind"))
                if count l "inputs" <> size then fail (sprintf "%s takes %d inputs but the layer before gives %d" where (count l "inputs") size)
                if count l "outputs" <> layer.Outputs then fail (sprintf "%s: %s gives %d outputs, not %d" where spec layer.Outputs (count l "outputs"))
                let p = if layer.ParameterCount > 0 then numbers where l "parameters" else [||]
                if p.Length <> layer.ParameterCount then fail (sprintf "%s: %d parameters for %s, which has %d" where p.Length spec layer.ParameterCount)
                layers.Add layer
                parameters.AddRange p
                size <- layer.Outputs
                shape <- layer.OutputShape
        | v -> fail (sprintf "model file version %d; this version of Toolkit reads versions 1 and 2" v)
        if layers.Count = 0 then fail "the model has no layers"
        try
            NetworkShape.check (layers.ToArray()) (parameters.ToArray())
        with :? ArgumentException as e -> fail e.Message
        let outputs = layers.[layers.Count - 1].Outputs
        let classes =
            match root.TryGetProperty "classes" with
            | true, v ->
                if v.ValueKind <> JsonValueKind.Array || v.EnumerateArray() |> Seq.exists (fun c -> c.ValueKind <> JsonValueKind.String) then
                    fail "\"classes\" is not an array of names"
                let names = [| for c in v.EnumerateArray() -> c.GetString() |]
                if names.Length <> outputs then fail (sprintf "%d class names for a network with %d outputs" names.Length outputs)
                names
            | _ -> [||]
        { Layers = layers.ToArray(); Parameters = parameters.ToArray(); Loss = loss }, classes

    /// <summary>Reads a model file (see <see cref="read"/>).</summary>
    let load (path: string) : Network = fst (read path)
