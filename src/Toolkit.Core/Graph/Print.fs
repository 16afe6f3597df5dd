namespace Toolkit.Graph

open System
open System.Globalization
open System.Text

/// Printing expressions as plain text (which <c>Parse</c> reads back) and as LaTeX.
[<RequireQualifiedAccess>]
module Print =

    /// A number as the shortest text that reads back to the same double.
    let number (v: float) = v.ToString("R", CultureInfo.InvariantCulture)

    // Precedence: 1 sums, 2 products, 3 unary minus, 4 powers, 5 atoms and calls.
    let private precedence (e: Expr) =
        match e with
        | Const v when v < 0.0 || (v = 0.0 && Double.IsNegative v) -> 3
        | Const _ | Var _ | Named _ -> 5
        | Unary (UnaryOp.Neg, _) -> 3
        | Unary (UnaryOp.PowInt _, _) -> 4
        | Unary _ -> 5
        | Binary ((BinaryOp.Add | BinaryOp.Sub), _, _) -> 1
        | Binary ((BinaryOp.Mul | BinaryOp.Div), _, _) -> 2
        | Binary (BinaryOp.Pow, _, _) -> 4
        | Binary _ -> 5

    /// The function name used in text for a one-argument operation that prints as a call
    /// (the table of derivatives names every op once: <c>Rules.name</c>).
    let functionName (op: UnaryOp) = Rules.name op

    /// The operator symbol of a two-argument operation in text.
    let operatorSymbol (op: BinaryOp) =
        match op with
        | BinaryOp.Add -> "+"
        | BinaryOp.Sub -> "-"
        | BinaryOp.Mul -> "*"
        | BinaryOp.Div -> "/"
        | BinaryOp.Pow -> "^"
        | BinaryOp.Max -> "max"
        | BinaryOp.Min -> "min"

    // Deep expressions print with an explicit stack of pending work rather than recursion.
    type private Work =
        | Text of string
        | Show of Expr * minPrec: int

    let private render (showNames: bool) (latex: bool) (root: Expr) =
        let sb = StringBuilder()
        let stack = Collections.Generic.Stack<Work>()
        stack.Push(Show(root, 0))
        let push (items: Work list) = for w in List.rev items do stack.Push w
        let name (n: string) =
            if not latex then n
            else
                // w1 → w_{1}; a single letter stays; longer names upright
                let i = n |> Seq.tryFindIndex Char.IsDigit
                match i with
                | Some k when k > 0 && n.Substring(k) |> Seq.forall Char.IsDigit ->
                    let stem = n.Substring(0, k)
                    (if stem.Length = 1 then stem else sprintf "\\mathrm{%s}" stem) + sprintf "_{%s}" (n.Substring k)
                | _ -> if n.Length = 1 then n else sprintf "\\mathrm{%s}" n
        while stack.Count > 0 do
            match stack.Pop() with
            | Text s -> sb.Append s |> ignore
            | Show (e, minPrec) ->
                let p = precedence e
                let e = if showNames then e else Expr.unname e
                let p = if showNames then p else precedence e
                if p < minPrec then push [ Text(if latex then "\\left(" else "("); Show(e, 0); Text(if latex then "\\right)" else ")") ]
                else
                    match e with
                    | Const v ->
                        let s = number v
                        sb.Append(if latex then s.Replace("E", "\\times 10^{") + (if s.Contains "E" then "}" else "") else s) |> ignore
                    | Var n -> sb.Append(name n) |> ignore
                    | Named (n, body) -> if showNames then sb.Append(name n) |> ignore else push [ Show(body, minPrec) ]
                    | Unary (UnaryOp.Neg, (Const _ as c)) when not latex -> push [ Text "-("; Show(c, 0); Text ")" ]
                    | Unary (UnaryOp.Neg, x) -> push [ Text "-"; Show(x, 3) ]
                    | Unary (UnaryOp.PowInt n, x) ->
                        if latex then push [ Show(x, 5); Text(sprintf "^{%d}" n) ]
                        else push [ Show(x, 5); Text(sprintf "^%d" n) ]
                    | Unary (op, x) when latex ->
                        match op with
                        | UnaryOp.Exp -> push [ Text "e^{"; Show(x, 0); Text "}" ]
                        | UnaryOp.Sqrt -> push [ Text "\\sqrt{"; Show(x, 0); Text "}" ]
                        | UnaryOp.Abs -> push [ Text "\\left|"; Show(x, 0); Text "\\right|" ]
                        | UnaryOp.Log -> push [ Text "\\log\\left("; Show(x, 0); Text "\\right)" ]
                        | UnaryOp.Tanh -> push [ Text "\\tanh\\left("; Show(x, 0); Text "\\right)" ]
                        | UnaryOp.Sigmoid -> push [ Text "\\sigma\\left("; Show(x, 0); Text "\\right)" ]
                        | _ ->
                            let sub = match Rules.parameter op with Some p -> sprintf "_{%s}" (number p) | None -> ""
                            push [ Text(sprintf "\\operatorname{%s}%s\\left(" (functionName op) sub); Show(x, 0); Text "\\right)" ]
                    | Unary (op, x) ->
                        match Rules.parameter op with
                        | Some p -> push [ Text(functionName op + "("); Show(x, 0); Text(", " + number p + ")") ]
                        | None -> push [ Text(functionName op + "("); Show(x, 0); Text ")" ]
                    | Binary ((BinaryOp.Max | BinaryOp.Min) as op, x, y) ->
                        if latex then push [ Text(sprintf "\\%s\\left(" (operatorSymbol op)); Show(x, 0); Text ", "; Show(y, 0); Text "\\right)" ]
                        else push [ Text(operatorSymbol op + "("); Show(x, 0); Text ", "; Show(y, 0); Text ")" ]
                    | Binary (BinaryOp.Pow, x, y) ->
                        // a constant integer-valued real exponent keeps a ".0" so it reads back as a real power
                        let exponent =
                            match y with
                            | Const c when not latex && Double.IsFinite c && c = Math.Round c && c >= 0.0 -> Text(number c + ".0")
                            | _ -> Show(y, 3)
                        if latex then push [ Show(x, 5); Text "^{"; Show(y, 0); Text "}" ]
                        else push [ Show(x, 5); Text "^"; exponent ]
                    | Binary (BinaryOp.Div, x, y) when latex -> push [ Text "\\frac{"; Show(x, 0); Text "}{"; Show(y, 0); Text "}" ]
                    | Binary (BinaryOp.Mul, x, y) when latex ->
                        // 3c, 3·c: a number in front reads as a coefficient
                        let sep = match Expr.unname x, Expr.unname y with
                                  | Const _, (Var _ | Named _) -> " "
                                  | _ -> " \\cdot "
                        push [ Show(x, 2); Text sep; Show(y, 3) ]
                    | Binary (op, x, y) ->
                        let p = precedence e
                        let sym = match op with BinaryOp.Sub when latex -> "-" | _ -> operatorSymbol op
                        push [ Show(x, p); Text(sprintf " %s " sym); Show(y, p + 1) ]
        sb.ToString()

    /// <summary>An expression as plain text in the notation <c>Parse</c> reads:
    /// named nodes print as their names (<c>3*v</c>).</summary>
    let text (e: Expr) = render true false e

    /// An expression as plain text with every named node written out in full (<c>3*(a + b*c)</c>).
    let inlineText (e: Expr) = render false false e

    /// An expression as LaTeX (named nodes by name).
    let latex (e: Expr) = render true true e

    /// <summary>A whole program: one statement per named node, in evaluation order, then the
    /// output (<c>u = b*c; v = a + u; J = 3*v</c>). <c>Parse.program</c> reads it back.</summary>
    let program (e: Expr) =
        let g = Graph.ofExpr e
        let statements =
            [ for i in 0 .. g.Count - 1 do
                match g.Source i with
                | Named (n, body) -> yield sprintf "%s = %s" n (text body)
                | _ -> () ]
        let last =
            match g.Source g.Output with
            | Named _ -> []
            | s -> [ text s ]
        String.Join("; ", statements @ last)
