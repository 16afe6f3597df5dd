/// `toolkit grad`: the value, every node's value and dvar, and the symbolic partials of an expression.
module Toolkit.Cli.Grad

open System
open System.Collections.Generic
open System.Globalization
open Argu
open Toolkit
open Toolkit.Graph

/// The options of `toolkit grad`.
type GradArgs =
    | [<MainCommand; Mandatory; Unique>] Expression of expression: string
    | [<Unique>] At of values: string
    | Json
    | Dot
    | Mermaid
    | [<Unique>] Svg of file: string
    | [<Unique>] Onnx of file: string
    | Explain
    | Check
    | Latex
    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Expression _ -> "the expression or program, e.g. \"3*(a+b*c)\" or \"u = b*c; v = a + u; J = 3*v\""
            | At _ -> "the variables' values, e.g. a=5,b=3,c=2"
            | Json -> "print one JSON object (value, gradient, symbolic, nodes) and nothing else"
            | Dot -> "print the graph as Graphviz DOT"
            | Mermaid -> "print the graph as a Mermaid flowchart"
            | Svg _ -> "write the graph as a self-contained SVG file"
            | Onnx _ -> "write the expression as an ONNX model: an input per variable, outputs 'value' and 'gradient'"
            | Explain -> "print the forward and backward passes step by step"
            | Check -> "check every dvar against central finite differences (exit 3 if the check fails, or cannot decide because the point sits on a kink or a domain edge, which it names)"
            | Latex -> "print the symbolic partials as LaTeX too"

/// A user error: printed as one line, exit code 1, no stack trace.
exception UserError of string

/// Reads `a=5,b=3,c=2`.
let parseAssignments (text: string) : IReadOnlyDictionary<string, float> =
    let d = Dictionary<string, float>()
    for part in text.Split([| ','; ';' |], StringSplitOptions.RemoveEmptyEntries ||| StringSplitOptions.TrimEntries) do
        match part.Split('=', 2) with
        | [| name; value |] ->
            match Double.TryParse(value.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture) with
            | true, v -> d.[name.Trim()] <- v
            | _ -> raise (UserError(sprintf "--at: '%s' is not a number (in '%s')" (value.Trim()) part))
        | _ -> raise (UserError(sprintf "--at: '%s' is not of the form name=value" part))
    d :> IReadOnlyDictionary<_, _>

let private num (v: float) =
    if Double.IsNaN v then "NaN" elif Double.IsInfinity v then (if v > 0.0 then "∞" else "-∞")
    else v.ToString("G10", CultureInfo.InvariantCulture)

/// Everything `grad` computes, once.
type Result =
    { Expr: Expr
      Backward: Backward
      Symbolic: (string * Expr)[]
      Check: GradientCheck option
      /// Why a value is NaN or infinite, if one is.
      NonFinite: string option }

let compute (text: string) (env: IReadOnlyDictionary<string, float>) (check: bool) : Result =
    let e =
        match Parse.tryProgram text with
        | Ok e -> e
        | Error msg -> raise (UserError(sprintf "cannot read the expression: %s" msg))
    let g = Graph.ofExpr e
    let missing = g.Variables |> Array.filter (fun v -> not (env.ContainsKey v))
    if missing.Length > 0 then
        // a long list is cut: a graph may have thousands of inputs
        let some (xs: string[]) = if xs.Length <= 12 then String.Join(", ", xs) else String.Join(", ", xs.[.. 9]) + sprintf " and %d more" (xs.Length - 10)
        let someOf (xs: string[]) = if xs.Length <= 12 then String.Join(",", xs) else String.Join(",", xs.[.. 9]) + ",…"
        raise (UserError(sprintf "no value for %s: give %s with --at, e.g. --at %s"
                              (some (missing |> Array.map (sprintf "'%s'")))
                              (if missing.Length = 1 then "it" else "them")
                              (someOf (g.Variables |> Array.map (fun v -> v + "=" + (match env.TryGetValue v with | true, x -> num x | _ -> "…"))))))
    let f = Eval.forward g env
    let nonFinite = Explain.nonFinite f
    { Expr = e
      Backward = Eval.backward f
      Symbolic = Symbolic.gradient e
      Check = if check && nonFinite.IsNone then Some(Numeric.check Numeric.defaultTolerance g env) else None
      NonFinite = nonFinite }

/// How much symbolic text grad prints in all: a graph with many inputs has a derivative per
/// input, each as large as the graph.
let private symbolicBudget = 1_000_000

/// The symbolic derivatives as text (plain when short, with shared parts named when long), until
/// the budget is spent; None for the rest.
let private symbolicTexts (r: Result) : (string * string option)[] =
    let mutable spent = 0
    r.Symbolic |> Array.map (fun (n, d) ->
        if spent > symbolicBudget then n, None
        else
            let t = Print.compact 2000 d
            spent <- spent + t.Length
            n, Some t)

let private jsonOf (text: string) (r: Result) (latex: bool) =
    let b = r.Backward
    let g = b.Forward.Graph
    Json.objectText (fun w ->
        w.WriteString("expression", text)
        Json.number w "value" b.Value
        w.WriteStartObject("gradient")
        for (n, d) in b.Gradient do Json.number w n d
        w.WriteEndObject()
        w.WriteStartObject("symbolic")
        for (n, t) in symbolicTexts r do
            match t with
            | Some t -> w.WriteString(n, t)
            | None -> w.WriteNull n
        w.WriteEndObject()
        if latex then
            w.WriteStartObject("latex")
            for (n, d), (_, t) in Array.zip r.Symbolic (symbolicTexts r) do
                match t with
                | Some t when t.Length <= 2000 -> w.WriteString(n, Print.latex d)
                | _ -> w.WriteNull n
            w.WriteEndObject()
        w.WriteStartArray("nodes")
        for i in 0 .. g.Count - 1 do
            w.WriteStartObject()
            w.WriteNumber("id", i)
            match g.Name i with
            | Some n -> w.WriteString("name", n)
            | None -> w.WriteNull("name")
            w.WriteString("expression", (match g.Source i with Named (_, body) -> Print.textUpTo Print.LabelLength body | s -> Print.textUpTo Print.LabelLength s))
            Json.number w "value" b.Forward.Values.[i]
            Json.number w "dvar" b.Dvars.[i]
            w.WriteStartArray("inputs")
            for j in g.Args i do w.WriteNumberValue j
            w.WriteEndArray()
            w.WriteEndObject()
        w.WriteEndArray()
        match r.Check with
        | Some c ->
            w.WriteStartObject("check")
            w.WriteBoolean("passed", c.Passed)
            w.WriteNumber("tolerance", c.Tolerance)
            w.WriteStartArray("entries")
            for e in c.Entries do
                w.WriteStartObject()
                w.WriteString("variable", e.Variable)
                Json.number w "analytic" e.Analytic
                Json.number w "numeric" e.Numeric
                Json.number w "relative_error" e.RelativeError
                w.WriteEndObject()
            w.WriteEndArray()
            match c.FirstBadNode with
            | Some bad -> w.WriteString("first_bad_node", bad.Node)
            | None -> w.WriteNull("first_bad_node")
            w.WriteBoolean("inconclusive", c.Inconclusive)
            w.WriteStartArray("non_smooth")
            for p in c.NonSmooth do
                w.WriteStartObject()
                w.WriteString("node", p.Node)
                w.WriteString("kind", p.Kind)
                Json.number w "at" p.At
                Json.number w "left_slope" p.Left
                Json.number w "right_slope" p.Right
                w.WriteEndObject()
            w.WriteEndArray()
            w.WriteEndObject()
        | None -> ())

let private report (r: Result) (latex: bool) : string list =
    let b = r.Backward
    let g = b.Forward.Graph
    let labels = Array.init g.Count (Explain.label g)
    let width = labels |> Array.map String.length |> Array.fold max 4
    [ yield sprintf "value: %s" (num b.Value)
      yield ""
      yield sprintf "%-*s  %14s  %14s" width "node" "value" "dvar"
      for i in 0 .. g.Count - 1 do
          match g.Node i with
          | Const _ -> ()
          | _ -> yield sprintf "%-*s  %14s  %14s" width labels.[i] (num b.Forward.Values.[i]) (num b.Dvars.[i])
      yield ""
      let out = match g.Name g.Output with Some n -> n | None -> "f"
      if g.Name g.Output = None then yield sprintf "f = %s" labels.[g.Output]
      let texts = symbolicTexts r
      for (n, d), (_, t) in Array.zip r.Symbolic texts do
          match t with
          | Some t ->
              yield sprintf "∂%s/∂%s = %s = %s" out n t (num (b.Dvar n))
              if latex && t.Length <= 2000 then yield sprintf "    LaTeX: %s" (Print.latex d)
          | None -> yield sprintf "∂%s/∂%s = %s (the symbolic form is not printed: the ones above fill %d characters)" out n (num (b.Dvar n)) symbolicBudget ]

let private checkLines (c: GradientCheck) =
    let rowVerdict (e: GradientCheckEntry) =
        if e.RelativeError <= c.Tolerance then "ok" elif c.Inconclusive then "not comparable" else "FAIL"
    [ yield ""
      yield sprintf "gradient check (central differences, tolerance %g):" c.Tolerance
      yield sprintf "  %-10s %16s %16s %12s" "variable" "analytic" "numeric" "rel. error"
      for e in c.Entries do
          yield sprintf "  %-10s %16s %16s %12.3g %s" e.Variable (num e.Analytic) (num e.Numeric) e.RelativeError (rowVerdict e)
      // why a difference is not a wrong rule: the point sits where the operation has no derivative
      for p in c.NonSmooth do
          yield sprintf "  %s sits on %s at its argument %s (within the difference step): its slopes are %s from the left and %s from the right, so a central difference across it measures no derivative; the backward pass uses the rule at the point itself"
                    p.Node p.Kind (num p.At) (num p.Left) (num p.Right)
      match c.FirstBadNode with
      | Some bad ->
          yield sprintf "  first node whose local rule disagrees: %s (argument %d: rule %s, numeric %s)" bad.Node bad.Argument (num bad.Rule) (num bad.Numeric)
          yield "check FAILED: a derivative rule disagrees with finite differences"
      | None when c.Passed -> yield "check passed: every dvar and every node's local rule agree with finite differences"
      | None when c.Inconclusive -> yield "check inconclusive: the point sits on a kink or a domain edge (above); no node's rule disagrees with finite differences elsewhere"
      | None -> yield "check FAILED: a dvar disagrees with finite differences although every node's local rule agrees (a rounding-sensitive point?)" ]

/// Runs `toolkit grad`; returns the exit code.
let run (args: ParseResults<GradArgs>) : int =
    let text = args.GetResult Expression
    let env = args.TryGetResult At |> Option.map parseAssignments |> Option.defaultValue (readOnlyDict [])
    let r = compute text env (args.Contains Check)
    let latex = args.Contains Latex
    let failedCheck = match r.Check with Some c -> not c.Passed | None -> false
    match args.TryGetResult Svg with
    | Some path -> AtomicFile.writeAllText path (Render.svg r.Backward)
    | None -> ()
    match args.TryGetResult Onnx with
    | Some path -> Toolkit.Onnx.Onnx.saveExpr path r.Expr
    | None -> ()
    // a non-finite value is an error, but a requested picture is still drawn, with the bad
    // nodes marked, so that the origin can be seen
    match r.NonFinite with
    | Some why ->
        if args.Contains Dot then stdout.Write(Render.dot r.Backward)
        elif args.Contains Mermaid then stdout.Write(Render.mermaid r.Backward)
        let drawn =
            match args.TryGetResult Svg with
            | Some path -> sprintf " (the picture in %s marks it)" path
            | None -> if args.Contains Dot || args.Contains Mermaid then " (the picture marks it)" else ""
        raise (UserError(sprintf "the expression has no finite value at this point: %s%s" why drawn))
    | None -> ()
    let badDvars =
        r.Backward.Gradient |> Array.filter (fun (_, d) -> not (Double.IsFinite d)) |> Array.map fst
    if badDvars.Length > 0 then
        eprintfn "warning: the derivative with respect to %s is not finite here (a kink or the edge of a domain)" (String.Join(", ", badDvars))
    if args.Contains Json then
        stdout.WriteLine(jsonOf text r latex)
    elif args.Contains Dot then
        stdout.Write(Render.dot r.Backward)
    elif args.Contains Mermaid then
        stdout.Write(Render.mermaid r.Backward)
    else
        for l in report r latex do stdout.WriteLine l
        if args.Contains Explain then
            stdout.WriteLine ""
            stdout.WriteLine(Explain.text r.Backward)
        match r.Check with
        | Some c -> for l in checkLines c do stdout.WriteLine l
        | None -> ()
        for written in [ args.TryGetResult Svg; args.TryGetResult Onnx ] do
            match written with
            | Some path -> stdout.WriteLine(sprintf "\nwrote %s" path)
            | None -> ()
    if failedCheck then 3 else 0
