namespace Toolkit.Training

open System
open System.Globalization
open System.IO
open System.Text
open System.Text.Json
open Toolkit.Data

/// <summary>
/// A training run's checkpoint: one JSON file, <c>checkpoint.json</c> in its folder, written
/// atomically after every epoch, holding the <c>TrainState</c> (every number in round-trip form,
/// so a resumed run continues bit for bit) and the options the run was started with (a resumed
/// run must be the same run: the options are compared, all but the number of epochs).
/// </summary>
/// <remarks>
/// Format, version 1: <c>{"format": "toolkit-checkpoint", "version": 1, "options": {"layers":
/// "dense(30)-sigmoid-…", …}, "state": {"epoch", "steps", "parameters": […], "first": […],
/// "second": […], "optimizer_steps", "search_best", "search_draws", "shuffle_draws",
/// "dropout_draws", "order": […], "best_loss", "best_parameters": […], "since_best", "epochs":
/// [{"epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "validation_loss",
/// "seconds"}, …]}}</c>; a number JSON cannot hold (NaN, ∞) is null.
/// </remarks>
[<RequireQualifiedAccess>]
module Checkpoint =

    /// The format's name in the file.
    [<Literal>]
    let Format = "toolkit-checkpoint"

    /// The file in a checkpoint folder.
    [<Literal>]
    let FileName = "checkpoint.json"

    let private number (w: Utf8JsonWriter) (v: float) =
        if Double.IsFinite v then w.WriteRawValue(v.ToString("R", CultureInfo.InvariantCulture)) else w.WriteNullValue()

    let private numbers (w: Utf8JsonWriter) (name: string) (vs: float[]) =
        w.WriteStartArray name
        for v in vs do number w v
        w.WriteEndArray()

    /// The checkpoint as text.
    let toJson (options: (string * string) list) (s: TrainState) : string =
        use ms = new MemoryStream()
        (
            use w = new Utf8JsonWriter(ms)
            w.WriteStartObject()
            w.WriteString("format", Format)
            w.WriteNumber("version", 1)
            w.WriteStartObject "options"
            for k, v in options do w.WriteString(k, v)
            w.WriteEndObject()
            w.WriteStartObject "state"
            w.WriteNumber("epoch", s.Epoch)
            w.WriteNumber("steps", s.Steps)
            numbers w "parameters" s.Parameters
            numbers w "first" s.First
            numbers w "second" s.Second
            w.WriteNumber("optimizer_steps", s.OptimizerSteps)
            w.WritePropertyName "search_best"
            number w s.SearchBest
            w.WriteNumber("search_draws", s.SearchDraws)
            w.WriteNumber("shuffle_draws", s.ShuffleDraws)
            w.WriteNumber("dropout_draws", s.DropoutDraws)
            w.WriteStartArray "order"
            for i in s.Order do w.WriteNumberValue i
            w.WriteEndArray()
            w.WritePropertyName "best_loss"
            number w s.BestLoss
            numbers w "best_parameters" s.BestParameters
            w.WriteNumber("since_best", s.SinceBest)
            w.WriteStartArray "epochs"
            for e in s.Epochs do
                w.WriteStartObject()
                w.WriteNumber("epoch", e.Epoch)
                for name, v in [ "train_loss", e.TrainLoss; "train_accuracy", e.TrainAccuracy; "test_loss", e.TestLoss
                                 "test_accuracy", e.TestAccuracy; "validation_loss", Option.defaultValue nan e.ValidationLoss
                                 "seconds", e.Seconds ] do
                    w.WritePropertyName(name: string)
                    number w v
                w.WriteEndObject()
            w.WriteEndArray()
            w.WriteEndObject()
            w.WriteEndObject()
        )
        Encoding.UTF8.GetString(ms.ToArray())

    /// <summary>Writes the checkpoint into its folder (made if missing), atomically: a crash
    /// leaves the previous epoch's checkpoint whole.</summary>
    let save (dir: string) (options: (string * string) list) (s: TrainState) =
        Directory.CreateDirectory dir |> ignore
        Toolkit.AtomicFile.writeAllText (Path.Combine(dir, FileName)) (toJson options s)

    /// <summary>Reads a checkpoint folder's file: the options and the state. A file that is not
    /// a checkpoint, or whose fields are missing, of the wrong type or out of range, is an
    /// InvalidDataException naming the file and the field.</summary>
    let load (dir: string) : (string * string) list * TrainState =
        let path = Path.Combine(dir, FileName)
        if not (File.Exists path) then raise (FileNotFoundException(sprintf "%s: no checkpoint (%s) in this folder" dir FileName, path))
        let fail (problem: string) : 'a = raise (DataFormat.error path problem)
        use doc = JsonFile.parse path "checkpoint"
        let root = doc.RootElement
        let field = JsonFile.field path
        if not (JsonFile.hasFormat root Format) then fail (sprintf "not a checkpoint (no \"format\": \"%s\")" Format)
        match (field root "version").ValueKind, (field root "version").GetRawText() with
        | JsonValueKind.Number, "1" -> ()
        | _, v -> fail (sprintf "checkpoint version %s; this version of Toolkit reads version 1" v)
        let options =
            let o = field root "options"
            if o.ValueKind <> JsonValueKind.Object then fail "\"options\" is not an object"
            [ for p in o.EnumerateObject() ->
                if p.Value.ValueKind <> JsonValueKind.String then fail (sprintf "the option \"%s\" is not a string" p.Name)
                p.Name, p.Value.GetString() ]
        let s = field root "state"
        let int64Of (name: string) =
            let v = field s name
            match v.ValueKind, (if v.ValueKind = JsonValueKind.Number then v.TryGetInt64() else (false, 0L)) with
            | JsonValueKind.Number, (true, k) when k >= 0L -> k
            | _ -> fail (sprintf "\"%s\" must be a whole number from 0, not %s" name (v.GetRawText()))
        let intOf (name: string) =
            let k = int64Of name
            if k > int64 Int32.MaxValue then fail (sprintf "\"%s\" is %d, too large" name k) else int k
        let real (name: string) (v: JsonElement) (nullIs: float) = JsonFile.number path (sprintf "\"%s\"" name) (Some nullIs) v
        let reals (name: string) (nullIs: float option) = JsonFile.numbers path (sprintf "\"%s\"" name) nullIs (field s name)
        let order =
            let v = field s "order"
            if v.ValueKind <> JsonValueKind.Array then fail "\"order\" is not an array of sample numbers"
            let o = [| for x in v.EnumerateArray() -> match x.ValueKind, (if x.ValueKind = JsonValueKind.Number then x.TryGetInt32() else (false, 0)) with
                                                        | JsonValueKind.Number, (true, i) -> i
                                                        | _ -> fail (sprintf "\"order\" holds %s, not a sample number" (x.GetRawText())) |]
            // a permutation of 0 … n − 1, or the samples would be trained on out of turn
            let seen = Array.zeroCreate o.Length
            for i in o do
                if i < 0 || i >= o.Length || seen.[i] then fail "\"order\" is not an arrangement of the samples 0 … n − 1"
                seen.[i] <- true
            o
        let epochs =
            let v = field s "epochs"
            if v.ValueKind <> JsonValueKind.Array then fail "\"epochs\" is not an array"
            [| for e in v.EnumerateArray() ->
                 let r name nullIs = real name (field e name) nullIs
                 let epoch = match (field e "epoch").TryGetInt32() with | true, k -> k | _ -> fail "an epoch's \"epoch\" is not a whole number"
                 { Epoch = epoch; TrainLoss = r "train_loss" nan; TrainAccuracy = r "train_accuracy" nan; TestLoss = r "test_loss" nan
                   TestAccuracy = r "test_accuracy" nan
                   ValidationLoss = (let v = r "validation_loss" nan in if Double.IsNaN v then None else Some v)
                   Seconds = r "seconds" nan } |]
        let state =
            { Epoch = intOf "epoch"; Steps = intOf "steps"; Parameters = reals "parameters" None
              First = reals "first" None; Second = reals "second" None; OptimizerSteps = intOf "optimizer_steps"
              SearchBest = real "search_best" (field s "search_best") nan; SearchDraws = int64Of "search_draws"
              ShuffleDraws = int64Of "shuffle_draws"; DropoutDraws = int64Of "dropout_draws"; Order = order
              Epochs = epochs; BestLoss = real "best_loss" (field s "best_loss") infinity
              BestParameters = reals "best_parameters" None; SinceBest = intOf "since_best" }
        if state.Epochs.Length <> state.Epoch then fail (sprintf "%d epochs completed but %d measured" state.Epoch state.Epochs.Length)
        for name, a in [ "first", state.First; "second", state.Second; "best_parameters", state.BestParameters ] do
            if a.Length <> 0 && a.Length <> state.Parameters.Length then
                fail (sprintf "\"%s\" holds %d values for %d parameters" name a.Length state.Parameters.Length)
        options, state

    /// <summary>The options that differ between a checkpoint and the run resuming it (the number
    /// of epochs may differ), each as "name: the checkpoint's value, not this run's".</summary>
    let differences (saved: (string * string) list) (current: (string * string) list) : string list =
        let s, c = Map.ofList saved, Map.ofList current
        [ for k in Set.union (Set.ofSeq s.Keys) (Set.ofSeq c.Keys) do
            if k <> "epochs" then
                match s.TryFind k, c.TryFind k with
                | Some a, Some b when a = b -> ()
                | a, b -> yield sprintf "%s: the checkpoint has %s, this run %s" k (defaultArg a "none") (defaultArg b "none") ]
