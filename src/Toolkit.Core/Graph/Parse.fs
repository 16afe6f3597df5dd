namespace Toolkit.Graph

open System
open System.Collections.Generic
open System.Globalization

/// A syntax error (a FormatException): where it is (1-based line and column) and what was
/// expected there; the message reads "line L, column C: problem".
type ParseException(line: int, column: int, problem: string) =
    inherit FormatException(sprintf "line %d, column %d: %s" line column problem)
    /// The 1-based line.
    member _.Line = line
    /// The 1-based column.
    member _.Column = column
    /// What is wrong there.
    member _.Problem = problem

/// <summary>
/// Reading expressions in ordinary mathematical notation: numbers, names, <c>+ - * /</c>
/// (left-associative), <c>^</c> (right-associative, binding tighter than unary minus:
/// <c>-x^2</c> is −(x²)), parentheses, every named op of the table of derivatives
/// (<c>Rules.callable</c>: <c>exp log sqrt sigmoid tanh relu abs step sign softplus elu gelu
/// phi</c>, and <c>leakyrelu(x)</c> or <c>leakyrelu(x, slope)</c>) and two-argument <c>max min</c>. Statements separated by <c>;</c> name
/// intermediate nodes (<c>u = b*c; v = a + u; J = 3*v</c>); the last one is the output.
/// </summary>
[<RequireQualifiedAccess>]
module Parse =

    type private Token =
        | Number of text: string * value: float
        | Ident of string
        | Sym of char
        | End

    type private Tok = { Token: Token; Line: int; Col: int }

    let private describe (t: Token) =
        match t with
        | Number (s, _) -> sprintf "the number %s" s
        | Ident s -> sprintf "the name '%s'" s
        | Sym c -> sprintf "'%c'" c
        | End -> "the end of the input"

    // the one-argument functions come from the table of derivatives (Rules.callable)
    let private binaryFunctions = dict [ "max", BinaryOp.Max; "min", BinaryOp.Min ]
    let private knownFunctions =
        String.Join(", ", Seq.append (Rules.callable.Keys |> Seq.sort) binaryFunctions.Keys)

    let private tokenize (text: string) : Tok[] =
        let tokens = ResizeArray<Tok>()
        let mutable i = 0
        let mutable line = 1
        let mutable lineStart = 0
        let col () = i - lineStart + 1
        while i < text.Length do
            let c = text.[i]
            if c = '\n' then
                i <- i + 1
                line <- line + 1
                lineStart <- i
            elif Char.IsWhiteSpace c then i <- i + 1
            elif Char.IsDigit c || (c = '.' && i + 1 < text.Length && Char.IsDigit text.[i + 1]) then
                let start = i
                let startCol = col ()
                while i < text.Length && (Char.IsDigit text.[i] || text.[i] = '.') do i <- i + 1
                if i < text.Length && (text.[i] = 'e' || text.[i] = 'E') then
                    let save = i
                    i <- i + 1
                    if i < text.Length && (text.[i] = '+' || text.[i] = '-') then i <- i + 1
                    if i < text.Length && Char.IsDigit text.[i] then
                        while i < text.Length && Char.IsDigit text.[i] do i <- i + 1
                    else i <- save      // "2e" is 2 followed by the name e
                let s = text.Substring(start, i - start)
                match Double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture) with
                | true, v when Double.IsInfinity v -> raise (ParseException(line, startCol, sprintf "the number %s is beyond the range of a double (about 1.8E+308)" s))
                | true, v -> tokens.Add { Token = Number(s, v); Line = line; Col = startCol }
                | _ -> raise (ParseException(line, startCol, sprintf "'%s' is not a number" s))
            elif Char.IsLetter c || c = '_' then
                let start = i
                let startCol = col ()
                while i < text.Length && (Char.IsLetterOrDigit text.[i] || text.[i] = '_') do i <- i + 1
                tokens.Add { Token = Ident(text.Substring(start, i - start)); Line = line; Col = startCol }
            elif "+-*/^(),;=".IndexOf c >= 0 then
                tokens.Add { Token = Sym c; Line = line; Col = col () }
                i <- i + 1
            else
                raise (ParseException(line, col (), sprintf "unexpected character '%c'" c))
        tokens.Add { Token = End; Line = line; Col = col () }
        tokens.ToArray()

    /// How a primary was written: a bare number literal folds into a following power or minus.
    type private Literal =
        | NotLiteral
        | IntLiteral
        | RealLiteral

    let private maxDepth = 500

    /// <summary>Reads a program (statements separated by <c>;</c>) and returns its output
    /// expression; statement names become named nodes, shared wherever they are used.</summary>
    /// <exception cref="T:Toolkit.Graph.ParseException">The text is not a valid program;
    /// the exception names the line, the column and what was expected.</exception>
    let program (text: string) : Expr =
        let toks = tokenize text
        let mutable pos = 0
        let peek () = toks.[pos]
        let next () =
            let t = toks.[pos]
            if pos < toks.Length - 1 then pos <- pos + 1
            t
        let fail (t: Tok) (msg: string) = raise (ParseException(t.Line, t.Col, msg))
        let expect (c: char) (what: string) =
            let t = peek ()
            match t.Token with
            | Sym s when s = c -> next () |> ignore
            | tok -> fail t (sprintf "expected %s but found %s" what (describe tok))
        let defined = Dictionary<string, Expr>()
        let definedAt = Dictionary<string, Tok>()
        let usedAsVariable = Dictionary<string, Tok>()
        let usedDefinitions = HashSet<string>()

        let rec expr depth : Expr =
            if depth > maxDepth then fail (peek ()) (sprintf "expression nested more than %d levels deep" maxDepth)
            let mutable left = term (depth + 1)
            let mutable go = true
            while go do
                match (peek ()).Token with
                | Sym '+' -> next () |> ignore; left <- left + term (depth + 1)
                | Sym '-' -> next () |> ignore; left <- left - term (depth + 1)
                | _ -> go <- false
            left
        and term depth : Expr =
            let mutable left = fst (unary depth)
            let mutable go = true
            while go do
                match (peek ()).Token with
                | Sym '*' -> next () |> ignore; left <- left * fst (unary depth)
                | Sym '/' -> next () |> ignore; left <- left / fst (unary depth)
                | _ -> go <- false
            left
        and unary depth : Expr * Literal =
            if depth > maxDepth then fail (peek ()) (sprintf "expression nested more than %d levels deep" maxDepth)
            match (peek ()).Token with
            | Sym '-' ->
                next () |> ignore
                match unary (depth + 1) with
                | Const c, (IntLiteral | RealLiteral as lit) -> Const -c, lit   // -3 is the number −3
                | e, _ -> Unary(UnaryOp.Neg, e), NotLiteral
            | Sym '+' ->
                next () |> ignore
                unary (depth + 1)
            | _ -> power depth
        and power depth : Expr * Literal =
            let (b, lit) = primary depth
            match (peek ()).Token with
            | Sym '^' ->
                next () |> ignore
                match unary (depth + 1) with
                | Const c, IntLiteral when abs c <= 1e9 -> Unary(UnaryOp.PowInt(int c), b), NotLiteral
                | e, _ -> Binary(BinaryOp.Pow, b, e), NotLiteral
            | _ -> b, lit
        and primary depth : Expr * Literal =
            let t = next ()
            match t.Token with
            | Number (s, v) ->
                Const v, (if s |> Seq.forall Char.IsDigit then IntLiteral else RealLiteral)
            | Sym '(' ->
                let e = expr (depth + 1)
                expect ')' (sprintf "')' to close the '(' at line %d, column %d" t.Line t.Col)
                e, NotLiteral
            | Ident name ->
                match (peek ()).Token with
                | Sym '(' ->
                    next () |> ignore
                    let args = ResizeArray<Expr>()
                    if (peek ()).Token <> Sym ')' then
                        args.Add(expr (depth + 1))
                        while (peek ()).Token = Sym ',' do
                            next () |> ignore
                            args.Add(expr (depth + 1))
                    let close = peek ()
                    match close.Token with
                    | Sym ')' -> next () |> ignore
                    | tok -> fail close (sprintf "expected ',' or ')' in the call of %s but found %s" name (describe tok))
                    match Rules.callable.TryGetValue name, binaryFunctions.TryGetValue name with
                    | (true, make), _ ->
                        let takesParameter = (Rules.parameter (make None)).IsSome
                        match args.Count, takesParameter with
                        | 1, _ -> Unary(make None, args.[0]), NotLiteral
                        | 2, true ->
                            match Expr.unname args.[1] with
                            | Const p -> Unary(make (Some p), args.[0]), NotLiteral
                            | Unary (UnaryOp.Neg, Const p) -> Unary(make (Some -p), args.[0]), NotLiteral
                            | _ -> fail t (sprintf "the second argument of %s is its parameter and must be a number" name)
                        | n, true -> fail t (sprintf "%s takes 1 argument and an optional number, not %d arguments" name n)
                        | n, false -> fail t (sprintf "%s takes 1 argument, not %d" name n)
                    | _, (true, op) ->
                        if args.Count <> 2 then fail t (sprintf "%s takes 2 arguments, not %d" name args.Count)
                        Binary(op, args.[0], args.[1]), NotLiteral
                    | _ ->
                        let hint = Toolkit.Suggest.didYouMean (Seq.append Rules.callable.Keys binaryFunctions.Keys) name
                        fail t (sprintf "unknown function '%s'%s (known: %s)" name hint knownFunctions)
                | _ ->
                    match defined.TryGetValue name with
                    | true, e -> usedDefinitions.Add name |> ignore; e, NotLiteral
                    | _ ->
                        if not (usedAsVariable.ContainsKey name) then usedAsVariable.[name] <- t
                        Var name, NotLiteral
            | tok -> fail t (sprintf "expected a number, a name, a function call or '(' but found %s" (describe tok))

        let mutable output = None
        let mutable go = true
        while go do
            let t = peek ()
            match t.Token, toks.[min (pos + 1) (toks.Length - 1)].Token with
            | End, _ ->
                if output.IsNone then fail t "expected an expression but the input is empty"
                go <- false
            | Ident name, Sym '=' ->
                next () |> ignore
                next () |> ignore
                if defined.ContainsKey name then
                    let first = definedAt.[name]
                    fail t (sprintf "'%s' is already defined at line %d, column %d" name first.Line first.Col)
                match usedAsVariable.TryGetValue name with
                | true, u -> fail t (sprintf "'%s' is used as an input at line %d, column %d before this definition" name u.Line u.Col)
                | _ -> ()
                let body = expr 0
                // u = u + 1 would make an input u and a node u, and scramble their derivatives
                if usedAsVariable.ContainsKey name then
                    fail t (sprintf "'%s' is used in its own definition; give the new value another name" name)
                let e = Named(name, body)
                defined.[name] <- e
                definedAt.[name] <- t
                output <- Some e
            | _ -> output <- Some(expr 0)
            if go then
                let t = peek ()
                match t.Token with
                | Sym ';' ->
                    next () |> ignore
                    if (peek ()).Token = End then go <- false
                | End -> go <- false
                | tok -> fail t (sprintf "expected an operator, ';' or the end of the input but found %s" (describe tok))
        // a statement nothing uses would vanish from the graph, and its inputs with it
        let last = output.Value
        for KeyValue (name, t) in definedAt do
            if not (usedDefinitions.Contains name) && not (obj.ReferenceEquals(defined.[name], last)) then
                fail t (sprintf "'%s' is defined but never used (the last statement is the output)" name)
        last

    /// Reads a program; a syntax error comes back as Error with its message
    /// ("line L, column C: problem").
    let tryProgram (text: string) : Result<Expr, string> =
        try Ok(program text)
        with :? ParseException as e -> Error e.Message
