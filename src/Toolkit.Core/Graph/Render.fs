namespace Toolkit.Graph

open System
open System.Globalization
open System.Text

/// <summary>A node of a picture drawn in columns: the text in its box, a line above (the
/// value) and below (the dvar), whether it is marked bad (and the first bad one), and the
/// positions of its arguments.</summary>
type PictureNode =
    { /// The box's text.
      Text: string
      /// Printed above the box (green): the forward value.
      Above: string option
      /// Printed below the box (red): the dvar.
      Below: string option
      /// Drawn red: a NaN or ±∞ in it.
      Bad: bool
      /// Marked as where the first non-finite value arose.
      Origin: bool
      /// A constant: drawn just left of its first user.
      IsConstant: bool
      /// The positions of its arguments (earlier nodes).
      Args: int[] }

/// Pictures of a graph: Graphviz DOT, Mermaid, and a self-contained SVG drawn without
/// Graphviz. Each node shows its expression, its value and its dvar, like the notes' figures
/// (inputs on the left, the output on the right, values above, dvars below); a node whose
/// value or dvar is NaN or ±∞ is marked, so the origin of a bad number can be found.
[<RequireQualifiedAccess>]
module Render =

    let private num (v: float) =
        if v = 0.0 then "0"
        elif Double.IsNaN v then "NaN"
        elif Double.IsPositiveInfinity v then "∞"
        elif Double.IsNegativeInfinity v then "-∞"
        else v.ToString("G6", CultureInfo.InvariantCulture)

    type private Item =
        { Id: string; Text: string; Value: string option; Dvar: string option; Bad: bool; Origin: bool }

    let private items (g: Graph) (values: float[] option) (dvars: float[] option) =
        let origin =
            match values with
            | Some v -> Eval.firstNonFinite { Graph = g; Values = v }
            | None -> None
        [| for i in 0 .. g.Count - 1 ->
            let text =
                match g.Node i, g.Source i with
                | Const c, _ -> Print.number c
                | Var n, _ -> n
                | _, Named (n, body) -> sprintf "%s = %s" n (Print.textUpTo Print.LabelLength body)
                | _, s -> Print.textUpTo Print.LabelLength s
            let bad a = match a with Some (arr: float[]) -> not (Double.IsFinite arr.[i]) | None -> false
            { Id = sprintf "n%d" i
              Text = text
              Value = values |> Option.map (fun v -> num v.[i])
              Dvar = dvars |> Option.map (fun d -> num d.[i])
              Bad = bad values || bad dvars
              Origin = (origin = Some i) } |]

    let private edges (g: Graph) =
        [ for i in 0 .. g.Count - 1 do
            for j in g.Args i -> j, i ]

    let private escapeDot (s: string) = s.Replace("\\", "\\\\").Replace("\"", "\\\"")

    let private dotOf (g: Graph) values dvars =
        let sb = StringBuilder()
        sb.AppendLine("digraph G {")
          .AppendLine("  rankdir=LR;")
          .AppendLine("  node [shape=box, style=rounded, fontname=\"Helvetica\"];") |> ignore
        for it in items g values dvars do
            let lines =
                [ yield it.Text
                  match it.Value with Some v -> yield "value " + v | None -> ()
                  match it.Dvar with Some d -> yield "dvar " + d | None -> ()
                  if it.Origin then yield "first non-finite value" ]
            let label = String.Join("\\n", lines |> List.map escapeDot)
            let style = if it.Bad then ", color=red, style=\"rounded,filled\", fillcolor=\"#ffdddd\"" else ""
            sb.AppendLine(sprintf "  %s [label=\"%s\"%s];" it.Id label style) |> ignore
        for (a, b) in edges g do
            sb.AppendLine(sprintf "  n%d -> n%d;" a b) |> ignore
        sb.AppendLine("}").ToString()

    let private escapeMermaid (s: string) =
        s.Replace("\"", "#quot;").Replace("<", "#lt;").Replace(">", "#gt;")

    let private mermaidOf (g: Graph) values dvars =
        let sb = StringBuilder()
        sb.AppendLine("flowchart LR") |> ignore
        let its = items g values dvars
        for it in its do
            let lines =
                [ yield it.Text
                  match it.Value with Some v -> yield "value " + v | None -> ()
                  match it.Dvar with Some d -> yield "dvar " + d | None -> ()
                  if it.Origin then yield "first non-finite value" ]
            sb.AppendLine(sprintf "  %s[\"%s\"]" it.Id (String.Join("<br/>", lines |> List.map escapeMermaid))) |> ignore
        for (a, b) in edges g do
            sb.AppendLine(sprintf "  n%d --> n%d" a b) |> ignore
        let bad = its |> Array.filter (fun it -> it.Bad)
        if bad.Length > 0 then
            sb.AppendLine("  classDef bad fill:#ffdddd,stroke:#cc0000,stroke-width:2px")
              .AppendLine(sprintf "  class %s bad" (String.Join(",", bad |> Array.map (fun it -> it.Id)))) |> ignore
        sb.ToString()

    /// Column of each node: the longest path from an input, so inputs sit left and the output
    /// right; a constant sits just left of its first user, so its edge crosses no other node.
    let columnsOf (nodes: PictureNode[]) : int[] =
        let n = nodes.Length
        let layer = Array.zeroCreate n
        for i in 0 .. n - 1 do
            for j in nodes.[i].Args do
                layer.[i] <- max layer.[i] (layer.[j] + 1)
        let firstUse = Array.create n Int32.MaxValue
        for i in 0 .. n - 1 do
            for j in nodes.[i].Args do
                firstUse.[j] <- min firstUse.[j] layer.[i]
        for i in 0 .. n - 1 do
            if nodes.[i].IsConstant && firstUse.[i] < Int32.MaxValue then layer.[i] <- firstUse.[i] - 1
        layer

    /// <summary>A graph drawn like the notes' figures, as self-contained SVG: inputs on the left,
    /// the output on the right, each value above its box and each dvar below; an edge from an
    /// argument to its user carries <paramref name="edgeLabel"/> (e.g. the shape that flows).</summary>
    let picture (nodes: PictureNode[]) (edgeLabel: int -> string option) : string =
        let n = nodes.Length
        if n = 0 then invalidArg "nodes" "a picture needs at least one node"
        let layer = columnsOf nodes
        let columns = Array.max layer + 1
        let charW, boxH, gapY, padX = 7.2, 26.0, 44.0, 60.0
        // wide enough for the value and dvar printed above and below, too
        let width i =
            let it = nodes.[i]
            let longest = [ it.Text.Length; (defaultArg it.Above "").Length; (defaultArg it.Below "").Length + 2; 3 ] |> List.max
            float longest * charW + 16.0
        // column widths and x positions
        let colW = Array.init columns (fun c -> seq { for i in 0 .. n - 1 do if layer.[i] = c then yield width i } |> Seq.fold max 40.0)
        let colX = Array.scan (fun x w -> x + w + padX) 20.0 colW
        // order each column by the mean row of the node's arguments, to keep edges short
        let row = Array.zeroCreate<float> n
        for c in 0 .. columns - 1 do
            let members = [| for i in 0 .. n - 1 do if layer.[i] = c then yield i |]
            let key i =
                let a = nodes.[i].Args
                if a.Length = 0 then float i else a |> Array.averageBy (fun j -> row.[j])
            members |> Array.sortBy key |> Array.iteri (fun r i -> row.[i] <- float r)
        let rows = row |> Array.fold max 0.0
        let y i = 40.0 + row.[i] * (boxH + gapY)
        let x i = colX.[layer.[i]]
        let totalW = colX.[columns] + 20.0
        let totalH = 40.0 + (rows + 1.0) * (boxH + gapY) + 10.0
        let sb = StringBuilder()
        let ap (s: string) = sb.Append(s) |> ignore
        ap (Toolkit.Svg.header totalW totalH "monospace" 12)
        ap "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#555\"/></marker></defs>\n"
        for b in 0 .. n - 1 do
            for a in nodes.[b].Args do
                let x1 = x a + width a
                let y1 = y a + boxH / 2.0
                let x2 = x b
                let y2 = y b + boxH / 2.0
                let mx = (x1 + x2) / 2.0
                ap (sprintf "<path class=\"edge\" data-from=\"n%d\" data-to=\"n%d\" d=\"M %.1f %.1f C %.1f %.1f, %.1f %.1f, %.1f %.1f\" fill=\"none\" stroke=\"#555\" marker-end=\"url(#arrow)\"/>\n" a b x1 y1 mx y1 mx y2 x2 y2)
                match edgeLabel a with
                | Some label ->
                    ap (sprintf "<text class=\"edge-label\" data-from=\"n%d\" data-to=\"n%d\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#555\" font-size=\"10\">%s</text>\n" a b mx ((y1 + y2) / 2.0 - 4.0) (Toolkit.Svg.escape label))
                | None -> ()
        for i in 0 .. n - 1 do
            let it = nodes.[i]
            let stroke, fill = if it.Bad then "#cc0000", "#ffdddd" else "#333", "#f4f7fb"
            ap (sprintf "<g class=\"node%s\" id=\"n%d\">\n" (if it.Bad then " bad" else "") i)
            ap (sprintf "  <rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"6\" fill=\"%s\" stroke=\"%s\" stroke-width=\"%s\"/>\n" (x i) (y i) (width i) boxH fill stroke (if it.Bad then "2" else "1"))
            ap (sprintf "  <text class=\"expr\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n" (x i + width i / 2.0) (y i + 17.0) (Toolkit.Svg.escape it.Text))
            match it.Above with
            | Some v -> ap (sprintf "  <text class=\"value\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#1b7f2a\">%s</text>\n" (x i + width i / 2.0) (y i - 5.0) (Toolkit.Svg.escape v))
            | None -> ()
            match it.Below with
            | Some d -> ap (sprintf "  <text class=\"dvar\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#b3261e\">d=%s</text>\n" (x i + width i / 2.0) (y i + boxH + 14.0) (Toolkit.Svg.escape d))
            | None -> ()
            if it.Origin then
                ap (sprintf "  <text class=\"origin\" x=\"%.1f\" y=\"%.1f\" fill=\"#cc0000\">⚠ first non-finite</text>\n" (x i) (y i + boxH + 28.0))
            ap "</g>\n"
        ap "</svg>\n"
        sb.ToString()

    let private pictureNodes (g: Graph) values dvars =
        items g values dvars |> Array.mapi (fun i it ->
            { Text = it.Text; Above = it.Value; Below = it.Dvar; Bad = it.Bad; Origin = it.Origin
              IsConstant = (match g.Node i with Const _ -> true | _ -> false); Args = g.Args i })

    let private svgOf (g: Graph) values dvars = picture (pictureNodes g values dvars) (fun _ -> None)

    /// The graph with values and dvars as Graphviz DOT text.
    let dot (b: Backward) = dotOf b.Forward.Graph (Some b.Forward.Values) (Some b.Dvars)
    /// The graph's structure alone as Graphviz DOT text.
    let dotOfGraph (g: Graph) = dotOf g None None
    /// The graph with values and dvars as Mermaid flowchart text.
    let mermaid (b: Backward) = mermaidOf b.Forward.Graph (Some b.Forward.Values) (Some b.Dvars)
    /// The graph's structure alone as Mermaid flowchart text.
    let mermaidOfGraph (g: Graph) = mermaidOf g None None
    /// The graph with values (above, green) and dvars (below, red) as a self-contained SVG.
    let svg (b: Backward) = svgOf b.Forward.Graph (Some b.Forward.Values) (Some b.Dvars)
    /// The graph with its forward values only, as SVG (for a forward pass that failed partway).
    let svgOfForward (f: Forward) = svgOf f.Graph (Some f.Values) None
    /// The graph's structure alone as a self-contained SVG.
    let svgOfGraph (g: Graph) = svgOf g None None
