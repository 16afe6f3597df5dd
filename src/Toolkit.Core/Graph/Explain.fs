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
        | None -> Print.textUpTo Print.LabelLength (g.Source i)

    /// The name of a node's dvar: <c>du</c> for a named node, <c>d(b * c)</c> otherwise.
    let dvarName (g: Graph) (i: int) : string =
        match g.Name i with
        | Some n -> "d" + n
        | None -> sprintf "d(%s)" (label g i)

    /// A node's label, in parentheses unless it is a name or a number (for ∂u/∂(b * c)).
    let private wrapped (g: Graph) (i: int) =
        match g.Name i with
        | Some n -> n
        | None -> sprintf "(%s)" (label g i)

    let private num (v: float) =
        if Double.IsNaN v then "NaN"
        elif Double.IsPositiveInfinity v then "∞"
        elif Double.IsNegativeInfinity v then "-∞"
        else
            let r = Math.Round(v, 6)
            if abs (r - v) < 1e-12 * max 1.0 (abs v) then Print.number r else v.ToString("G6", Globalization.CultureInfo.InvariantCulture)

    /// The nodes that use each node, with the argument slot they use it in (in evaluation order).
    let users (g: Graph) : (int * int) list[] =
        let u = Array.create g.Count []
        for i in g.Count - 1 .. -1 .. 0 do
            let args = g.Args i
            for k in args.Length - 1 .. -1 .. 0 do
                u.[args.[k]] <- (i, k) :: u.[args.[k]]
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
                let body = match g.Source i with Named (_, body) -> Print.textUpTo Print.LabelLength body | s -> Print.textUpTo Print.LabelLength s
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
                        let args = g.Args p
                        let x = v.[args.[0]]
                        let y = if args.Length > 1 then v.[args.[1]] else 0.0
                        let struct (dx, dy) = Rules.partials (g.Node p) x y v.[p]
                        let partialValue = if k = 0 then dx else dy
                        let symbolic = sprintf "%s·∂%s/∂%s" (dvarName g p) (wrapped g p) (wrapped g i)
                        let rewritten =
                            match partial with
                            | Const _ -> None
                            | e -> Some(sprintf "%s·%s" (dvarName g p) (Print.textUpTo Print.LabelLength e))
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

    /// <summary>Why a forward pass has a NaN or ±∞: the first node where a non-finite value
    /// starts, its arguments and the domain rule it broke (<c>log(x): log of -1 (log needs a
    /// positive argument)</c>). None when every value is finite.</summary>
    let nonFinite (f: Forward) : string option =
        Eval.firstNonFinite f
        |> Option.map (fun i ->
            let g = f.Graph
            let v = f.Values
            let args = g.Args i |> Array.map (fun j -> v.[j])
            let reason =
                match g.Node i with
                | Unary (UnaryOp.Log, _) when args.[0] < 0.0 -> sprintf "log of %s (log needs a positive argument)" (num args.[0])
                | Unary (UnaryOp.Log, _) -> "log of 0 is -∞"
                | Unary (UnaryOp.Sqrt, _) -> sprintf "square root of %s (sqrt needs a non-negative argument)" (num args.[0])
                | Unary (UnaryOp.Exp, _) -> sprintf "exp(%s) overflows a double" (num args.[0])
                | Unary (UnaryOp.PowInt n, _) when args.[0] = 0.0 && n < 0 -> sprintf "0 to the power %d divides by zero" n
                | Binary (BinaryOp.Div, _, _) when args.[1] = 0.0 -> sprintf "division of %s by zero" (num args.[0])
                | Binary (BinaryOp.Pow, _, _) when args.[0] < 0.0 ->
                    sprintf "%s to the non-integer power %s (a real power needs a positive base)" (num args.[0]) (num args.[1])
                | (Var _ | Const _) -> sprintf "the input itself is %s" (num v.[i])
                | _ -> sprintf "the result of %s is %s" (String.Join(", ", args |> Array.map num)) (num v.[i])
            sprintf "%s = %s: %s" (label g i) (num v.[i]) reason)

    /// Both passes as one text: "forward (left to right)", then "backward (right to left)".
    let text (b: Backward) : string =
        let lines =
            [ yield "forward (left to right):"
              for l in forwardLines b -> "  " + l
              yield "backward (right to left):"
              for l in backwardLines b -> "  " + l ]
        String.Join("\n", lines)
