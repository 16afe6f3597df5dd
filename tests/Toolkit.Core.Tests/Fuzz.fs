/// Generated and mutated input for every reader: expressions and programs through the whole grad
/// pipeline, IDX files, CSV tables, model files. Each case must be accepted, or refused with the
/// reader's one documented exception and a message; anything else is a crash, recorded with the
/// case that caused it.
module Toolkit.Tests.Fuzz

open System
open System.Diagnostics
open System.IO
open System.IO.Compression
open System.Text
open FsCheck
open FsCheck.FSharp
open Toolkit.Graph
open Toolkit.Data
open Toolkit.Training

/// What a run of one kind of input found.
type Report =
    { Kind: string
      Cases: int
      Accepted: int
      /// Refused with the documented exception and a message.
      Refused: int
      /// (case, what went wrong): anything but acceptance or a clear refusal.
      Crashes: (string * string) list
      /// The longest single case, in milliseconds, and a description of it.
      SlowestMs: float
      Slowest: string
      /// The most frequent refusals (numbers and quoted text blanked), with their counts.
      CommonRefusals: (string * int) list }

/// How many cases a run tries: TOOLKIT_FUZZ_CASES if set (the fuzz target sets 10,000), else the given number.
let caseCount (fallback: int) =
    match Environment.GetEnvironmentVariable "TOOLKIT_FUZZ_CASES" with
    | null | "" -> fallback
    | s -> int s

/// Runs the cases: <paramref name="attempt"/> returns normally for an accepted case and raises
/// for a refused one; <paramref name="refusal"/> says whether an exception is the documented one.
let run (kind: string) (cases: 'a[]) (describe: 'a -> string) (attempt: 'a -> unit) (refusal: exn -> bool) : Report =
    let mutable accepted, refused = 0, 0
    let crashes = ResizeArray()
    let mutable slowest, slowestCase = 0.0, ""
    let reasons = Collections.Generic.Dictionary<string, int>()
    let shape (e: exn) =
        let m = match e with :? InvalidDataException as d -> DataFormat.problem d | _ -> e.Message
        let m = RegularExpressions.Regex.Replace(m, "'[^']*'|\"[^\"]*\"", "'…'")
        RegularExpressions.Regex.Replace(m, "-?[0-9][0-9.E+-]*", "N")
    for c in cases do
        let sw = Stopwatch.StartNew()
        try
            attempt c
            accepted <- accepted + 1
        with e ->
            if refusal e && not (String.IsNullOrWhiteSpace e.Message) then
                refused <- refused + 1
                let k = shape e
                reasons.[k] <- (match reasons.TryGetValue k with | true, n -> n + 1 | _ -> 1)
            else crashes.Add(describe c, sprintf "%s: %s" (e.GetType().Name) e.Message)
        let ms = sw.Elapsed.TotalMilliseconds
        if ms > slowest then
            slowest <- ms
            slowestCase <- let d = describe c in if d.Length > 80 then d.Substring(0, 80) + "…" else d
    { Kind = kind; Cases = cases.Length; Accepted = accepted; Refused = refused; Crashes = List.ofSeq crashes
      SlowestMs = slowest; Slowest = slowestCase
      CommonRefusals = reasons |> Seq.sortByDescending (fun kv -> kv.Value) |> Seq.truncate 3 |> Seq.map (fun kv -> kv.Key, kv.Value) |> List.ofSeq }

let private sample (seed: int) (n: int) (g: Gen<'a>) = Gen.sampleWithSeed (Rnd(uint64 seed)) 30 n g

/// A few random edits of a text: deletions, insertions of a piece, replacements, a doubled span.
let private mutateText (pieces: string[]) (text: string) : Gen<string> =
    gen {
        let! k = Gen.choose (1, 3)
        let! edits = Gen.listOfLength k (Gen.zip3 (Gen.choose (0, 3)) (Gen.choose (0, Int32.MaxValue)) (Gen.elements pieces))
        return
            edits |> List.fold (fun (t: string) (kind, r, piece) ->
                let at = if t.Length = 0 then 0 else r % t.Length
                match kind with
                | 0 when t.Length > 0 -> t.Remove(at, 1)
                | 1 -> t.Insert(at, piece)
                | 2 when t.Length > 0 -> t.Remove(at, 1).Insert(at, piece)
                | _ when t.Length > 0 -> let len = min 12 (t.Length - at) in t.Insert(at, t.Substring(at, len))
                | _ -> t + piece) text
    }

// ---- expressions and programs ---------------------------------------------------------

let private numbers = [| "0"; "1"; "2"; "3"; "0.5"; "2.5"; "1e308"; "1e-320"; "1e400"; "2147483648"; "4294967296"; "1E+308"; "3."; ".5"; "1e"; "007" |]
let private names = [| "x"; "y"; "z"; "u"; "a1"; "_t"; "e" |]
let private functions = Array.append (Seq.toArray Rules.callable.Keys) [| "max"; "min"; "sin"; "foo" |]
let private symbols = [| "+"; "-"; "*"; "/"; "^"; "("; ")"; ","; ";"; "=" ; " "; "\n" |]
let private junk = [| "@"; "#"; "é"; "\t"; "$"; "[" |]
let private pieces = Array.concat [ numbers; names; functions; symbols; junk ]

let private genTokens : Gen<string> =
    gen {
        let! n = Gen.choose (1, 40)
        let! toks = Gen.listOfLength n (Gen.frequency [ 4, Gen.elements numbers; 5, Gen.elements names; 2, Gen.elements functions; 8, Gen.elements symbols; 1, Gen.elements junk ])
        return String.Join("", toks)
    }

/// Valid programs: the random graphs of the property tests, printed with their let statements.
let private genProgram : Gen<string> = Generators.genCase |> Gen.map (fun c -> Print.program c.Expr)

/// Large shapes: deep parentheses, long chains, towers of powers, many lets.
let private genLarge : Gen<string> =
    gen {
        let! kind = Gen.choose (0, 5)
        let! n = Gen.choose (50, 3000)
        return
            match kind with
            | 0 -> String('(', n) + "x" + String(')', n)
            | 1 -> String.Join("*", Array.create n "x")
            | 2 -> String.Join("^", Array.create (min n 200) "x")
            | 3 -> String.Join("; ", [| yield "a0 = x"; for k in 1 .. min n 300 -> sprintf "a%d = a%d*a%d" k (k - 1) (k - 1) |])
            | 4 -> String.Join("+", Array.init n (fun i -> sprintf "x%d" i))
            | _ -> String.Join("", Array.create (min n 400) "-") + "x"
    }

let genExpressionText : Gen<string> =
    Gen.frequency
        [ 3, genTokens
          3, genProgram
          4, genProgram |> Gen.bind (mutateText pieces)
          1, genLarge ]

let private extremes = [| 0.0; 1.0; -1.0; 0.5; -2.5; 3.0; 1e308; -1e308; 1e-320; 1e-8; nan; infinity |]

let private sameValue (a: float) (b: float) =
    a = b || (Double.IsNaN a && Double.IsNaN b) || abs (a - b) <= 1e-9 * max (abs a) (abs b)

/// The whole grad pipeline on one text: parse; forward and backward at extreme points; the
/// explanation of a non-finite value; symbolic derivatives, printed (shared when long) and read
/// back to the same value; the program printed and read back to the same value.
let expressionAttempt (text: string) =
    let e = Parse.program text
    let g = Graph.ofExpr e
    let at k = readOnlyDict [ for i, v in Array.indexed g.Variables -> v, extremes.[(i + k) % extremes.Length] ]
    let env = at (text.Length % extremes.Length)
    let f = Eval.forward g env
    let b = Eval.backward f
    Explain.nonFinite f |> ignore
    let labels = Array.init g.Count (Explain.label g)
    ignore labels
    let valueOf (x: Expr) = (Eval.forward (Graph.ofExpr x) env).Value
    // a symbolic derivative names the graph's named nodes (as the notes write dL/dz = a − y):
    // read back, those names are inputs with the values the forward pass gave them
    let named =
        let values = Collections.Generic.Dictionary<string, float>(env |> Seq.map (fun kv -> Collections.Generic.KeyValuePair(kv.Key, kv.Value)))
        let seen = Collections.Generic.HashSet<Expr>(HashIdentity.Reference)
        let stack = Collections.Generic.Stack<Expr>([ e ])
        while stack.Count > 0 do
            let x = stack.Pop()
            if seen.Add x then
                match x with
                | Named (n, body) when not (values.ContainsKey n) -> values.[n] <- valueOf body
                | _ -> ()
                for c in Expr.children x do stack.Push c
        values :> Collections.Generic.IReadOnlyDictionary<_, _>
    let printed = Print.program e
    let back = Parse.program printed
    if not (sameValue (valueOf back) f.Value) then
        failwithf "the printed program '%s' reads back to %g, not %g" printed (valueOf back) f.Value
    for n, d in Symbolic.gradient e do
        let t = Print.compact 2000 d
        let d2 = Parse.program t
        let v1 = (Eval.forward (Graph.ofExpr d) env).Value
        let v2 = (Eval.forward (Graph.ofExpr d2) named).Value
        if not (sameValue v1 v2) then failwithf "∂/∂%s printed as '%s' reads back to %g, not %g" n t v2 v1
        // the symbolic derivative is the backward pass's dvar where both are finite and smooth
        ignore (b.Dvar n)

/// Only a syntax error may refuse a text: evaluation, differentiation and printing never throw.
let expressionRefusal (e: exn) = e :? ParseException

let expressions (cases: int) (seed: int) =
    run "expressions and programs (parse, forward, backward, symbolic, simplify, print → parse)"
        (sample seed cases genExpressionText) id expressionAttempt expressionRefusal

// ---- IDX files ------------------------------------------------------------------------

let private be (v: int) = [| byte (v >>> 24); byte (v >>> 16); byte (v >>> 8); byte v |]

/// A small valid pair: images count × rows × cols (× channels), labels below classes.
let private idxPair (count: int) (rows: int) (cols: int) (channels: int) (classes: int) =
    let images =
        Array.concat [ [| 0uy; 0uy; 8uy; (if channels > 1 then 4uy else 3uy) |]; be count; be rows; be cols
                       (if channels > 1 then be channels else [||]); Array.init (count * rows * cols * channels) (fun i -> byte (i * 37)) ]
    let labels = Array.concat [ [| 0uy; 0uy; 8uy; 1uy |]; be count; Array.init count (fun i -> byte (i % classes)) ]
    images, labels

let private gzip (bytes: byte[]) =
    use out = new MemoryStream()
    using (new GZipStream(out, CompressionLevel.Fastest, true)) (fun z -> z.Write(bytes, 0, bytes.Length))
    out.ToArray()

/// One edit of a file's bytes: a flipped byte, a header field set to an extreme, a cut, bytes added.
let private mutateBytes : Gen<byte[] -> byte[]> =
    gen {
        let! kind = Gen.choose (0, 5)
        let! r = Gen.choose (0, Int32.MaxValue)
        let! value = Gen.elements [| 0; -1; 1; 255; 65536; 0x7fffffff; Int32.MinValue; 60000; 28 |]
        let! b = Gen.choose (0, 255)
        return fun (a: byte[]) ->
            let a = Array.copy a
            match kind with
            | 0 when a.Length > 0 -> a.[r % a.Length] <- byte b; a
            | 1 when a.Length >= 8 ->
                // a dimension or the count, in the header
                let at = 4 + 4 * (r % max 1 ((min a.Length 20 - 4) / 4))
                if at + 4 <= a.Length then Array.blit (be value) 0 a at 4
                a
            | 2 when a.Length > 0 -> a.[.. (r % a.Length) - 1]
            | 3 -> Array.append a (Array.create (r % 50) (byte b))
            | 4 when a.Length > 3 -> a.[2 + r % 2] <- byte b; a
            | _ -> a
    }

type IdxCase = { Images: byte[]; Labels: byte[]; Gzip: bool; Describe: string }

let genIdxCase : Gen<IdxCase> =
    gen {
        let! count, rows, cols = Gen.zip3 (Gen.choose (1, 6)) (Gen.choose (1, 5)) (Gen.choose (1, 5))
        let! channels = Gen.elements [ 1; 1; 3 ]
        let! classes = Gen.choose (1, 12)
        let images, labels = idxPair count rows cols channels classes
        let! mi = Gen.listOf mutateBytes
        let! ml = Gen.listOf mutateBytes
        let! which = Gen.choose (0, 2)
        let! zip = Gen.elements [ false; false; true ]
        let mutatedImages = if which <> 1 then mi |> List.truncate 3 |> List.fold (fun a m -> m a) images else images
        let mutatedLabels = if which <> 0 then ml |> List.truncate 3 |> List.fold (fun a m -> m a) labels else labels
        return { Images = mutatedImages; Labels = mutatedLabels; Gzip = zip
                 Describe = sprintf "images %s, labels %s%s" (Convert.ToHexString(mutatedImages |> Array.truncate 24)) (Convert.ToHexString(mutatedLabels |> Array.truncate 16)) (if zip then " (gzip)" else "") }
    }

/// The pair as a training and a test set in a folder, read as a data set.
let idxAttempt (dir: string) (c: IdxCase) =
    for f in Directory.GetFiles dir do File.Delete f
    let write stem (bytes: byte[]) =
        if c.Gzip then File.WriteAllBytes(Path.Combine(dir, stem + ".gz"), gzip bytes)
        else File.WriteAllBytes(Path.Combine(dir, stem), bytes)
    write "train-images-idx3-ubyte" c.Images
    write "train-labels-idx1-ubyte" c.Labels
    write "t10k-images-idx3-ubyte" c.Images
    write "t10k-labels-idx1-ubyte" c.Labels
    let d = Datasets.images dir None
    if d.Train.X.ToMatrix().Enumerate() |> Seq.exists (fun v -> not (Double.IsFinite v) || v < 0.0 || v > 1.0) then failwith "pixels outside [0, 1]"

let idxRefusal (e: exn) = e :? InvalidDataException

let idx (cases: int) (seed: int) =
    let dir = Path.Combine(Path.GetTempPath(), sprintf "toolkit-fuzz-idx-%O" (Guid.NewGuid()))
    Directory.CreateDirectory dir |> ignore
    try run "IDX image and label files (mutated; raw and gzip)" (sample seed cases genIdxCase) (fun c -> c.Describe) (idxAttempt dir) idxRefusal
    finally Directory.Delete(dir, true)

// ---- CSV tables -----------------------------------------------------------------------

let private cells = [| "1"; "-2.5"; "0"; "3e5"; "1e-300"; "NaN"; "Infinity"; "-Infinity"; "1e400"; "cat"; "dog"; "\"1,5\""; "\"a\"\"b\""; "\"open"; ""; " 7 "; "0x10"; "1,2"; "2147483648"; "99999999999" |]

type CsvCase = { Text: string; Column: string; Label: bool }

let genCsvCase : Gen<CsvCase> =
    gen {
        let! cols = Gen.choose (1, 5)
        let! rows = Gen.choose (0, 12)
        let! header = Gen.elements [ true; false ]
        // from clean tables (numbers, a label column of classes) to noisy ones
        let! noise = Gen.frequency [ 3, Gen.constant 0; 2, Gen.choose (1, 10) ]
        let! labels = Gen.elements [ [| "0"; "1"; "2" |]; [| "cat"; "dog" |]; [| "1"; "1" |] ]
        let genCell = Gen.frequency [ 30, Gen.elements [| "1"; "-2.5"; "0"; "3e5"; "0.25"; "2" |]; 4, Gen.elements labels; noise, Gen.elements cells ]
        let! body = Gen.listOfLength rows (Gen.zip (Gen.choose (0, 9)) (Gen.listOfLength cols genCell))
        let lines =
            [ if header then yield String.Join(",", Array.init cols (fun i -> sprintf "c%d" i))
              for ragged, row in body do
                  let row = if noise > 0 && ragged = 0 then row @ [ "1" ] elif noise > 0 && ragged = 1 && row.Length > 1 then List.tail row else row
                  yield String.Join(",", row)
              ]
        let! ending = Gen.elements [ "\n"; "\r\n"; "\n\n" ]
        let! column = Gen.elements [| "c0"; sprintf "c%d" (cols - 1); "1"; string cols; "0"; "nope" |]
        let! label = Gen.elements [ true; true; false ]
        let text = String.Join(ending, lines)
        let! mutated = if noise = 0 then Gen.constant text else Gen.frequency [ 3, Gen.constant text; 1, mutateText [| ","; "\""; "\n"; "NaN"; "x"; "1e400" |] text ]
        return { Text = mutated; Column = column; Label = label }
    }

let csvAttempt (path: string) (c: CsvCase) =
    File.WriteAllText(path, c.Text)
    let target = if c.Label then Target.Label c.Column else Target.Value c.Column
    let d = Datasets.csv path None 0.3 1 target None None
    for s in [ d.Train; d.Test ] do
        if s.X.ColumnCount = 0 then failwith "an empty set accepted"
        if s.X.ToMatrix().Enumerate() |> Seq.exists (Double.IsFinite >> not) || s.Y.Enumerate() |> Seq.exists (Double.IsFinite >> not) then
            failwith "a non-finite value accepted"

let csvRefusal (e: exn) = e :? InvalidDataException

let csv (cases: int) (seed: int) =
    let path = Path.Combine(Path.GetTempPath(), sprintf "toolkit-fuzz-%O.csv" (Guid.NewGuid()))
    try run "CSV tables (generated and mutated; label and target columns)" (sample seed cases genCsvCase) (fun c -> sprintf "%A" c) (csvAttempt path) csvRefusal
    finally File.Delete path

// ---- model files ----------------------------------------------------------------------

/// Valid model files to mutate: each kind of layer, a loss of each kind, class names, and the
/// version-1 layout.
let modelSeeds : string[] =
    let net (spec: string) (loss: Toolkit.Tensors.Loss) = Toolkit.Nn.Network.ofLayers (Toolkit.Nn.Layers.parseStack 3 spec) loss Toolkit.Nn.Init.Xavier 1
    [| ModelFile.toJson (net "dense(4)-sigmoid-dense(2)-sigmoid" Toolkit.Tensors.Loss.Quadratic)
       ModelFile.toJsonWith [| "a"; "b" |] (net "dense(4)-leakyrelu:0.1-dropout(0.2)-dense(2)-softmax" Toolkit.Tensors.Loss.CrossEntropy)
       ModelFile.toJson (net "dense(2)-tanh-dense(3)" (Toolkit.Tensors.Loss.Hinge 1.0))
       """{"format":"toolkit-network","version":1,"loss":"quadratic","layers":[{"inputs":2,"outputs":1,"activation":"sigmoid","weights":[0.5,-0.25],"bias":[0.1]}]}""" |]

let private replacements =
    [| "null"; "true"; "false"; "\"1\""; "1.5"; "-1"; "0"; "1e400"; "-1e400"; "2147483648"; "1e-320"; "\"leakyrelu:NaN\""; "\"hinge:NaN\""
       "\"dense(-3)\""; "\"dense(99999999)\""; "\"dense(2)\""; "\"softmax\""; "\"dropout(1.5)\""; "[]"; "{}"; "\"\""; "[1,2,3]" |]

/// One edit of a JSON text at a value: a number, a string, a literal, or a whole field removed.
let private mutateJson (text: string) : Gen<string> =
    gen {
        let values = RegularExpressions.Regex.Matches(text, "-?[0-9][0-9.eE+-]*|\"[^\"]*\"|true|false|null") |> Seq.toArray
        let! i = Gen.choose (0, max 0 (values.Length - 1))
        let! replacement = Gen.elements replacements
        let! kind = Gen.choose (0, 9)
        return
            if values.Length = 0 then text + replacement
            else
            let m = values.[i]
            match kind with
            | 0 -> text.Substring(0, m.Index)                                    // cut short
            | 1 -> text.Remove(m.Index, m.Length)                                // a value gone
            | _ -> text.Remove(m.Index, m.Length).Insert(m.Index, replacement)
    }

let genModelText : Gen<string> =
    gen {
        let! seed = Gen.elements modelSeeds
        let! k = Gen.choose (1, 3)
        let rec apply (t: string) n = if n = 0 then Gen.constant t else mutateJson t |> Gen.bind (fun t -> apply t (n - 1))
        return! apply seed k
    }

let modelAttempt (path: string) (text: string) =
    File.WriteAllText(path, text)
    let net, classes = ModelFile.read path
    if classes.Length <> 0 && classes.Length <> net.Outputs then failwith "class names that do not fit the outputs accepted"
    if net.Parameters |> Array.exists (Double.IsFinite >> not) then failwith "a non-finite parameter accepted"
    // a model that loads runs
    let x = MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.Dense(net.Inputs, 2, fun i j -> float (i + j) / 10.0)
    Toolkit.Nn.Network.predict net x |> ignore

let modelRefusal (e: exn) = e :? InvalidDataException

let models (cases: int) (seed: int) =
    let path = Path.Combine(Path.GetTempPath(), sprintf "toolkit-fuzz-%O.json" (Guid.NewGuid()))
    try run "model files (mutated saved models, versions 1 and 2)" (sample seed cases genModelText) id (modelAttempt path) modelRefusal
    finally File.Delete path

/// The reports as a Markdown table, and the most frequent refusals of each.
let table (reports: Report list) =
    [ yield "| input | cases | accepted | refused with a clear error | crashes | slowest case |"
      yield "|---|---:|---:|---:|---:|---:|"
      for r in reports do
          yield sprintf "| %s | %d | %d | %d | %d | %.0f ms |" r.Kind r.Cases r.Accepted r.Refused r.Crashes.Length r.SlowestMs
      yield ""
      yield "The most frequent refusals (numbers shown as N, quoted text as '…'):"
      yield ""
      for r in reports do
          yield sprintf "- %s:" r.Kind
          for m, n in r.CommonRefusals do yield sprintf "  - %d× %s" n (m.Replace("|", "\\|")) ]
    |> String.concat "\n"
