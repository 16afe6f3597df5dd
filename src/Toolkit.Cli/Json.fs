/// Writing the command line's JSON output.
module Toolkit.Cli.Json

open System
open System.IO
open System.Text.Json

/// Writes one JSON object to a string with the given body.
let objectText (body: Utf8JsonWriter -> unit) : string =
    use ms = new MemoryStream()
    (
        use w = new Utf8JsonWriter(ms, JsonWriterOptions(Indented = false, Encoder = Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping))
        w.WriteStartObject()
        body w
        w.WriteEndObject()
    )
    Text.Encoding.UTF8.GetString(ms.ToArray())

/// A number property; JSON has no NaN or infinity, so those are written as null.
let number (w: Utf8JsonWriter) (name: string) (v: float) =
    if Double.IsFinite v then w.WriteNumber(name, v) else w.WriteNull(name)

/// A number inside an array, null when not finite.
let numberValue (w: Utf8JsonWriter) (v: float) =
    if Double.IsFinite v then w.WriteNumberValue v else w.WriteNullValue()

/// An array of numbers (non-finite ones as null); a null name writes it inside an enclosing array.
let numbers (w: Utf8JsonWriter) (name: string) (vs: float[]) =
    if isNull name then w.WriteStartArray() else w.WriteStartArray(name)
    for v in vs do numberValue w v
    w.WriteEndArray()
