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
        | Show of Expr * minPrec: int * depth: int

    let private render (showNames: bool) (latex: bool) (limit: int) (maxDepth: int) (root: Expr) =
        let sb = StringBuilder()
        let stack = Collections.Generic.Stack<Work>()
        stack.Push(Show(root, 0, 0))
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
        while stack.Count > 0 && sb.Length <= limit do
            match stack.Pop() with
            | Text s -> sb.Append s |> ignore
            | Show (_, _, depth) when depth > maxDepth -> sb.Append "…" |> ignore
            | Show (e, minPrec, depth) ->
                // every Show pushed below is one level deeper
                let show (x: Expr) (p: int) = Show(x, p, depth + 1)
                let p = precedence e
                let e = if showNames then e else Expr.unname e
                let p = if showNames then p else precedence e
                if p < minPrec then push [ Text(if latex then "\\left(" else "("); show e 0; Text(if latex then "\\right)" else ")") ]
                else
                    match e with
                    | Const v ->
                        let s = number v
                        sb.Append(if latex then s.Replace("E", "\\times 10^{") + (if s.Contains "E" then "}" else "") else s) |> ignore
                    | Var n -> sb.Append(name n) |> ignore
                    | Named (n, body) -> if showNames then sb.Append(name n) |> ignore else push [ show body minPrec ]
                    | Unary (UnaryOp.Neg, (Const _ as c)) when not latex -> push [ Text "-("; show c 0; Text ")" ]
                    | Unary (UnaryOp.Neg, x) -> push [ Text "-"; show x 3 ]
                    | Unary (UnaryOp.PowInt n, x) ->
                        if latex then push [ show x 5; Text(sprintf "^{%d}" n) ]
                        else push [ show x 5; Text(sprintf "^%d" n) ]
                    | Unary (op, x) when latex ->
                        match op with
                        | UnaryOp.Exp -> push [ Text "e^{"; show x 0; Text "}" ]
                        | UnaryOp.Sqrt -> push [ Text "\\sqrt{"; show x 0; Text "}" ]
                        | UnaryOp.Abs -> push [ Text "\\left|"; show x 0; Text "\\right|" ]
                        | UnaryOp.Log -> push [ Text "\\log\\left("; show x 0; Text "\\right)" ]
                        | UnaryOp.Tanh -> push [ Text "\\tanh\\left("; show x 0; Text "\\right)" ]
                        | UnaryOp.Sigmoid -> push [ Text "\\sigma\\left("; show x 0; Text "\\right)" ]
                        | _ ->
                            let sub = match Rules.parameter op with Some p -> sprintf "_{%s}" (number p) | None -> ""
                            push [ Text(sprintf "\\operatorname{%s}%s\\left(" (functionName op) sub); show x 0; Text "\\right)" ]
                    | Unary (op, x) ->
                        match Rules.parameter op with
                        | Some p -> push [ Text(functionName op + "("); show x 0; Text(", " + number p + ")") ]
                        | None -> push [ Text(functionName op + "("); show x 0; Text ")" ]
                    | Binary ((BinaryOp.Max | BinaryOp.Min) as op, x, y) ->
                        if latex then push [ Text(sprintf "\\%s\\left(" (operatorSymbol op)); show x 0; Text ", "; show y 0; Text "\\right)" ]
                        else push [ Text(operatorSymbol op + "("); show x 0; Text ", "; show y 0; Text ")" ]
                    | Binary (BinaryOp.Pow, x, y) ->
                        // a constant integer-valued real exponent keeps a ".0" so it reads back as a real power
                        let exponent =
                            match y with
                            // (only where the number prints as digits alone: 1E+308 already reads as a real)
                            | Const c when not latex && Double.IsFinite c && c = Math.Round c && (number (abs c) |> Seq.forall Char.IsDigit) ->
                                Text((if c < 0.0 || Double.IsNegative c then "-" else "") + number (abs c) + ".0")
                            | _ -> show y 3
                        if latex then push [ show x 5; Text "^{"; show y 0; Text "}" ]
                        else push [ show x 5; Text "^"; exponent ]
                    | Binary (BinaryOp.Div, x, y) when latex -> push [ Text "\\frac{"; show x 0; Text "}{"; show y 0; Text "}" ]
                    | Binary (BinaryOp.Mul, x, y) when latex ->
                        // 3c, 3·c: a number in front reads as a coefficient
                        let sep = match Expr.unname x, Expr.unname y with
                                  | Const _, (Var _ | Named _) -> " "
                                  | _ -> " \\cdot "
                        push [ show x 2; Text sep; show y 3 ]
                    | Binary (op, x, y) ->
                        let p = precedence e
                        let sym = match op with BinaryOp.Sub when latex -> "-" | _ -> operatorSymbol op
                        push [ show x p; Text(sprintf " %s " sym); show y (p + 1) ]
        if stack.Count > 0 || sb.Length > limit then sb.Length <- min sb.Length limit; sb.Append "…" |> ignore
        sb.ToString()

    /// <summary>An expression as plain text in the notation <c>Parse</c> reads:
    /// named nodes print as their names (<c>3*v</c>).</summary>
    let text (e: Expr) = render true false Int32.MaxValue Int32.MaxValue e

    /// <summary>The text of an expression cut at <paramref name="limit"/> characters (and "…"),
    /// parts nested deeper than 24 levels shown as "…": for labels, where the whole text of a
    /// deep node would repeat the whole graph. The work is bounded by the limit and the depth.</summary>
    let textUpTo (limit: int) (e: Expr) = render true false limit 24 e

    /// An expression as plain text with every named node written out in full (<c>3*(a + b*c)</c>).
    let inlineText (e: Expr) = render false false Int32.MaxValue Int32.MaxValue e

    /// An expression as LaTeX (named nodes by name).
    let latex (e: Expr) = render true true Int32.MaxValue Int32.MaxValue e

    /// The distinct nodes (by identity) children first, without recursion; into named nodes'
    /// bodies or not.
    let private postOrder (intoNames: bool) (e: Expr) : Collections.Generic.List<Expr> =
        let order = Collections.Generic.List<Expr>()
        let seen = Collections.Generic.HashSet<Expr>(HashIdentity.Reference)
        let work = Collections.Generic.Stack<struct (Expr * bool)>()
        work.Push(struct (e, false))
        while work.Count > 0 do
            let struct (x, expanded) = work.Pop()
            if expanded then order.Add x
            elif seen.Add x then
                work.Push(struct (x, true))
                match x with
                | Named _ when not intoNames -> ()
                | _ -> for c in List.rev (Expr.children x) do work.Push(struct (c, false))
        order

    /// <summary>A whole program: one statement per named node, in evaluation order, then the
    /// output (<c>u = b*c; v = a + u; J = 3*v</c>). <c>Parse.program</c> reads it back.</summary>
    let program (e: Expr) =
        // every named node after the named nodes its body uses; a name for a bare variable
        // (a0 = x) is kept too
        let statements = Collections.Generic.List<string>()
        let written = Collections.Generic.HashSet<string>()
        for x in postOrder true e do
            match x with
            | Named (n, body) when written.Add n -> statements.Add(sprintf "%s = %s" n (text body))
            | _ -> ()
        match e with
        | Named _ -> ()
        | _ -> statements.Add(text e)
        String.Join("; ", statements)

    /// <summary>An expression whose printed form repeats shared parts (a symbolic derivative
    /// reuses the products of the forward pass many times) as a program that names each
    /// compound node used more than once (<c>_1 = x * x; _2 = _1 * _1; 2 * _2</c>): its length
    /// is linear in the distinct nodes, where the plain text can grow exponentially.
    /// <c>Parse.program</c> reads it back to the same value.</summary>
    let shared (e: Expr) =
        // uses of each node, by identity, counted without recursion
        let uses = Collections.Generic.Dictionary<Expr, int>(HashIdentity.Reference)
        let stack = Collections.Generic.Stack<Expr>()
        stack.Push e
        while stack.Count > 0 do
            let x = stack.Pop()
            match uses.TryGetValue x with
            | true, k -> uses.[x] <- k + 1
            | _ ->
                uses.[x] <- 1
                match x with
                | Named _ -> ()
                | _ -> for c in Expr.children x do stack.Push c
        // the new names must not be the expression's own: _1, or __1 if a name starts with _ …
        let own = uses.Keys |> Seq.choose (fun x -> match x with Var n | Named (n, _) -> Some n | _ -> None) |> Array.ofSeq
        let mutable prefix = "_"
        while own |> Array.exists (fun n -> n.StartsWith prefix) do prefix <- prefix + "_"
        let compound x = match x with Unary _ | Binary _ -> true | _ -> false
        let statements = Collections.Generic.List<string>()
        // each node, once its children are, with its shared parts replaced by their names
        let written = Collections.Generic.Dictionary<Expr, Expr>(HashIdentity.Reference)
        for x in postOrder false e do
            let body =
                match x with
                | Unary (op, a) -> Unary(op, written.[a])
                | Binary (op, a, b) -> Binary(op, written.[a], written.[b])
                | _ -> x
            if compound x && uses.[x] > 1 && not (obj.ReferenceEquals(x, e)) then
                let name = sprintf "%s%d" prefix (statements.Count + 1)
                statements.Add(sprintf "%s = %s" name (text body))
                written.[x] <- Var name
            else written.[x] <- body
        statements.Add(text written.[e])
        String.Join("; ", statements)

    /// <summary>How long a label (a node's expression in a table, a picture or an explanation)
    /// may be: a deep node's full text would repeat most of the graph.</summary>
    [<Literal>]
    let LabelLength = 120

    /// <summary>Readable text for an expression of any size: the plain text when it is at most
    /// <paramref name="limit"/> characters, else the <see cref="shared"/> program.</summary>
    let compact (limit: int) (e: Expr) =
        let t = render true false limit Int32.MaxValue e
        if t.Length <= limit then t else shared e
