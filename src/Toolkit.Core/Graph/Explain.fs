namespace Toolkit.Graph

open System
open System.Text

/// The forward and backward passes printed step by step in the notes' notation
/// (<c>u = b·c = 3·2 = 6</c>, <c>db = du·∂u/∂b = du·c = 3·2 = 6</c>).
[<RequireQualifiedAccess>]
module Explain =

    /// How a node is called in traces and pictures: its name, else its expression.
    let label (g: Graph) (i: int) : string =
        match g.Name i with
        | Some n -> n
        | None -> Print.text (g.Source i)

    /// The name of a node's dvar: <c>du</c> for a named node, <c>d(b * c)</c> otherwise.
    let dvarName (g: Graph) (i: int) : string =
        match g.Name i with
        | Some n -> "d" + n
        | None -> sprintf "d(%s)" (label g i)

    let private num (v: float) =
        if Double.IsNaN v then "NaN"
        elif Double.IsPositiveInfinity v then "∞"
        elif Double.IsNegativeInfinity v then "-∞"
        else
            let r = Math.Round(v, 6)
            if abs (r - v) < 1e-12 * max 1.0 (abs v) then Print.number r else v.ToString("G6", Globalization.CultureInfo.InvariantCulture)

    /// The nodes that use each node, with the argument slot they use it in.
    let users (g: Graph) : (int * int) list[] =
        let u = Array.create g.Count []
        for i in g.Count - 1 .. -1 .. 0 do
            g.Args i |> Array.iteri (fun k j -> u.[j] <- (i, k) :: u.[j])
        u

    /// The forward pass, one line per node, left to right.
    let forwardLines (b: Backward) : string list =
        let g = b.Forward.Graph
        let v = b.Forward.Values
        [ for i in 0 .. g.Count - 1 do
            match g.Node i with
            | Const _ -> ()
            | Var n -> yield sprintf "%s = %s" n (num v.[i])
            | node ->
                let body = match g.Source i with Named (_, body) -> Print.text body | s -> Print.text s
                let args = g.Args i
                let withValues =
                    match node with
                    | Unary (op, _) -> sprintf "%s(%s)" (Print.functionName op) (num v.[args.[0]])
                    | Binary ((BinaryOp.Max | BinaryOp.Min) as op, _, _) -> sprintf "%s(%s, %s)" (Print.operatorSymbol op) (num v.[args.[0]]) (num v.[args.[1]])
                    | Binary (op, _, _) -> sprintf "%s %s %s" (num v.[args.[0]]) (Print.operatorSymbol op) (num v.[args.[1]])
                    | _ -> ""
                let withValues = match node with Unary (UnaryOp.Neg, _) -> sprintf "-(%s)" (num v.[args.[0]]) | Unary (UnaryOp.PowInt n, _) -> sprintf "%s^%d" (num v.[args.[0]]) n | _ -> withValues
                match g.Name i with
                | Some n -> yield sprintf "%s = %s = %s = %s" n body withValues (num v.[i])
                | None -> yield sprintf "%s = %s = %s" body withValues (num v.[i]) ]

    /// The backward pass, one line per node (constants left out), right to left: each dvar as
    /// the sum over its users of the user's dvar times the local partial, symbolic then numeric.
    let backwardLines (b: Backward) : string list =
        let g = b.Forward.Graph
        let v = b.Forward.Values
        let d = b.Dvars
        let users = users g
        [ for i in g.Count - 1 .. -1 .. 0 do
            match g.Node i with
            | Const _ -> ()
            | _ when i = g.Output -> yield sprintf "%s = 1" (dvarName g i)
            | _ ->
                let terms =
                    users.[i]
                    |> List.map (fun (p, k) ->
                        let partial = (Rules.partialExprs (g.Node p) (g.Source p)).[k] |> Simplify.identities
                        let pv = v
                        let args = g.Args p
                        let x = pv.[args.[0]]
                        let y = if args.Length > 1 then pv.[args.[1]] else 0.0
                        let struct (dx, dy) = Rules.partials (g.Node p) x y pv.[p]
                        let partialValue = if k = 0 then dx else dy
                        let symbolic = sprintf "%s·∂%s/∂%s" (dvarName g p) (label g p) (label g i)
                        let rewritten =
                            match partial with
                            | Const _ -> None
                            | e -> Some(sprintf "%s·%s" (dvarName g p) (Print.text e))
                        symbolic, rewritten, sprintf "%s·%s" (num d.[p]) (num partialValue))
                let join (xs: string list) = String.Join(" + ", xs)
                let sb = StringBuilder()
                sb.Append(dvarName g i).Append(" = ").Append(join (terms |> List.map (fun (s, _, _) -> s))) |> ignore
                if terms |> List.exists (fun (_, r, _) -> r.IsSome) then
                    let parts = terms |> List.map (fun (s, r, _) -> defaultArg r s)
                    sb.Append(" = ").Append(join parts) |> ignore
                sb.Append(" = ").Append(join (terms |> List.map (fun (_, _, n) -> n))) |> ignore
                sb.Append(" = ").Append(num d.[i]) |> ignore
                yield sb.ToString() ]

    /// Both passes as one text: "forward (left to right)", then "backward (right to left)".
    let text (b: Backward) : string =
        let lines =
            [ yield "forward (left to right):"
              for l in forwardLines b -> "  " + l
              yield "backward (right to left):"
              for l in backwardLines b -> "  " + l ]
        String.Join("\n", lines)
