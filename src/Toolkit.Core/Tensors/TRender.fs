namespace Toolkit.Tensors

open System
open System.Globalization
open System.Text
open MathNet.Numerics.LinearAlgebra

/// Pictures of a matrix graph as Graphviz DOT, Mermaid text and SVG: each node shows what it
/// computes and its shape, each edge the shape that flows along it; with a forward pass, a 1×1
/// value is shown and a node holding a NaN or ±∞ is marked (the first one as the origin). The
/// SVG is laid out like the notes' figures, values above the boxes and dvars below.
[<RequireQualifiedAccess>]
module TRender =

    let private opText (e: TExpr) =
        match e with
        | TConst _ -> "const"
        | TVar (n, _) -> n
        | TNamed (n, _) -> n
        | TUnary (op, _, _) ->
            match op with
            | TUnary.Neg -> "−"
            | TUnary.Scale c -> sprintf "%s·" (c.ToString("G6", CultureInfo.InvariantCulture))
            | TUnary.Transpose -> "transpose"
            | TUnary.Map Toolkit.Graph.UnaryOp.Sigmoid -> "σ"
            | TUnary.Map f -> Toolkit.Graph.Rules.name f
            | TUnary.SumAll -> "sum"
            | TUnary.MeanAll -> "mean"
            | TUnary.Sum a -> sprintf "sum over %A" a
            | TUnary.Mean a -> sprintf "mean over %A" a
            | TUnary.Softmax a -> sprintf "softmax over %A" a
            | TUnary.LogSoftmax a -> sprintf "log-softmax over %A" a
        | TBinary (op, _, _, _) ->
            match op with
            | TBinary.MatMul -> "·"
            | TBinary.Add -> "+"
            | TBinary.Sub -> "−"
            | TBinary.Mul -> "⊙"
            | TBinary.Div -> "/"
        | TLossOf (l, input, _, _, _) ->
            match l, input with
            | Loss.BinaryCrossEntropy, LossInput.Logits -> "binary cross-entropy"
            | Loss.CrossEntropy, LossInput.Logits -> "softmax cross-entropy"
            | Loss.BinaryCrossEntropy, LossInput.Outputs -> "binary cross-entropy of probabilities"
            | Loss.CrossEntropy, LossInput.Outputs -> "cross-entropy of probabilities"
            | Loss.Quadratic, _ -> "quadratic loss"
            | Loss.Hinge m, _ -> sprintf "hinge loss (Δ = %g)" m

    type private Item = { Id: string; Lines: string list; Bad: bool }

    let private items (g: TGraph) (f: TForward option) =
        let origin = f |> Option.bind TGraph.firstNonFinite
        [| for i in 0 .. g.Count - 1 ->
            let s = g.Shape i
            let title =
                match g.Node i, g.Name i with
                | TVar _, Some n -> n
                | TConst _, _ -> "const"
                | node, Some n -> sprintf "%s = %s" n (opText node)
                | node, None -> opText node
            let valueLine, bad =
                match f with
                | Some f ->
                    let v : Matrix<float> = f.Values.[i]
                    let finite = v.Enumerate() |> Seq.forall Double.IsFinite
                    (if v.RowCount = 1 && v.ColumnCount = 1 then [ sprintf "value %s" (v.[0, 0].ToString("G6", CultureInfo.InvariantCulture)) ] else []), not finite
                | None -> [], false
            { Id = sprintf "n%d" i
              Lines = [ yield title; yield string s; yield! valueLine; if origin = Some i then yield "first non-finite value" ]
              Bad = bad } |]

    let private dotOf (g: TGraph) f =
        let sb = StringBuilder()
        sb.AppendLine("digraph G {").AppendLine("  rankdir=LR;").AppendLine("  node [shape=box, style=rounded, fontname=\"Helvetica\"];") |> ignore
        for it in items g f do
            let label = String.Join("\\n", it.Lines |> List.map (fun l -> l.Replace("\"", "\\\"")))
            let style = if it.Bad then ", color=red, style=\"rounded,filled\", fillcolor=\"#ffdddd\"" else ""
            sb.AppendLine(sprintf "  %s [label=\"%s\"%s];" it.Id label style) |> ignore
        for i in 0 .. g.Count - 1 do
            for j in g.Args i do
                sb.AppendLine(sprintf "  n%d -> n%d [label=\"%O\"];" j i (g.Shape j)) |> ignore
        sb.AppendLine("}").ToString()

    let private mermaidOf (g: TGraph) f =
        let sb = StringBuilder()
        sb.AppendLine("flowchart LR") |> ignore
        let its = items g f
        for it in its do
            sb.AppendLine(sprintf "  %s[\"%s\"]" it.Id (String.Join("<br/>", it.Lines |> List.map (fun l -> l.Replace("\"", "#quot;"))))) |> ignore
        for i in 0 .. g.Count - 1 do
            for j in g.Args i do
                sb.AppendLine(sprintf "  n%d -- \"%O\" --> n%d" j (g.Shape j) i) |> ignore
        let bad = its |> Array.filter (fun it -> it.Bad)
        if bad.Length > 0 then
            sb.AppendLine("  classDef bad fill:#ffdddd,stroke:#cc0000,stroke-width:2px")
              .AppendLine(sprintf "  class %s bad" (String.Join(",", bad |> Array.map (fun it -> it.Id)))) |> ignore
        sb.ToString()

    let private summary (m: Matrix<float>) =
        if m.RowCount = 1 && m.ColumnCount = 1 then m.[0, 0].ToString("G6", CultureInfo.InvariantCulture)
        else sprintf "‖·‖ = %s" (m.FrobeniusNorm().ToString("G4", CultureInfo.InvariantCulture))

    let private svgOf (g: TGraph) (f: TForward option) (d: Matrix<float>[] option) =
        let its = items g f
        let origin = f |> Option.bind TGraph.firstNonFinite
        let nodes =
            Array.init g.Count (fun i ->
                let bad (m: Matrix<float>) = m.Enumerate() |> Seq.exists (fun v -> not (Double.IsFinite v))
                let title = List.head its.[i].Lines
                ({ Text = sprintf "%s  %O" title (g.Shape i)
                   Above = f |> Option.map (fun f -> summary f.Values.[i])
                   Below = d |> Option.map (fun d -> summary d.[i])
                   Bad = its.[i].Bad || (match d with Some d -> bad d.[i] | None -> false)
                   Origin = (origin = Some i)
                   IsConstant = (match g.Node i with TConst _ -> true | _ -> false)
                   Args = g.Args i } : Toolkit.Graph.PictureNode))
        Toolkit.Graph.Render.picture nodes (fun j -> Some(string (g.Shape j)))

    /// The graph's structure with shapes, as Graphviz DOT.
    let dot (g: TGraph) = dotOf g None
    /// The graph after a forward pass (1×1 values shown, non-finite nodes marked), as DOT.
    let dotOfForward (f: TForward) = dotOf f.Graph (Some f)
    /// The graph's structure with shapes, as a Mermaid flowchart.
    let mermaid (g: TGraph) = mermaidOf g None
    /// The graph after a forward pass, as a Mermaid flowchart.
    let mermaidOfForward (f: TForward) = mermaidOf f.Graph (Some f)
    /// The graph's structure as SVG: a box per node with its shape, each edge labelled with the
    /// shape that flows along it.
    let svg (g: TGraph) = svgOf g None None
    /// The graph after a forward pass as SVG: each value (a number for 1×1, else its norm) above its box.
    let svgOfForward (f: TForward) = svgOf f.Graph (Some f) None
    /// The graph after a backward pass as SVG: values above the boxes, dvars below.
    let svgOfBackward (b: TBackward) = svgOf b.Forward.Graph (Some b.Forward) (Some b.Dvars)
