namespace Toolkit.Graph

open System
open System.Collections.Generic

/// <summary>
/// Simplification that keeps values: constant folding and identities (0 + x, 1·x, x − x, …),
/// and a rational normal form (sums of products of powers over a factored denominator,
/// common factors cancelled) so that, for example, the derivative of the logistic loss
/// through a = σ(z), (−y/a + (1 − y)/(1 − a))·a·(1 − a), comes out as a − y.
/// </summary>
/// <remarks>
/// Named nodes and non-polynomial calls (exp, log, σ, …) are atoms: names are kept, never
/// expanded. The normal form is used only when it is no larger than the identities' result.
/// Cancelling a common factor (x/x → 1) drops a removable singularity, as algebra does.
/// </remarks>
[<RequireQualifiedAccess>]
module Simplify =

    let private isConst (e: Expr) = match e with Const _ -> true | _ -> false
    let private constOf (e: Expr) = match e with Const v -> v | _ -> nan
    let private folded (v: float) (otherwise: unit -> Expr) =
        if Double.IsFinite v then Const v else otherwise ()

    /// One rewriting step on a node whose arguments are already simplified.
    let rewriteUnary (op: UnaryOp) (x: Expr) : Expr =
        let keep () = Unary(op, x)
        match op, x with
        | _, Const c -> folded (Rules.unary op c) keep
        | UnaryOp.Neg, Unary (UnaryOp.Neg, y) -> y
        | UnaryOp.PowInt 0, _ -> Const 1.0
        | UnaryOp.PowInt 1, _ -> x
        | UnaryOp.PowInt n, Unary (UnaryOp.PowInt m, y) when abs (int64 n * int64 m) < 1000L -> Unary(UnaryOp.PowInt(n * m), y)
        | _ -> keep ()

    /// One rewriting step on a two-argument node whose arguments are already simplified.
    let rewriteBinary (op: BinaryOp) (x: Expr) (y: Expr) : Expr =
        let keep () = Binary(op, x, y)
        let is v e = match e with Const c -> c = v | _ -> false
        match op with
        | _ when isConst x && isConst y -> folded (Rules.binary op (constOf x) (constOf y)) keep
        | BinaryOp.Add ->
            match x, y with
            | _ when is 0.0 x -> y
            | _ when is 0.0 y -> x
            | _, Unary (UnaryOp.Neg, v) -> Binary(BinaryOp.Sub, x, v)
            | _, Const c when c < 0.0 -> Binary(BinaryOp.Sub, x, Const -c)
            | Unary (UnaryOp.Neg, u), _ -> Binary(BinaryOp.Sub, y, u)
            | _ -> keep ()
        | BinaryOp.Sub ->
            match x, y with
            | _ when is 0.0 y -> x
            | _ when is 0.0 x -> (match y with Const c -> Const -c | Unary (UnaryOp.Neg, v) -> v | _ -> Unary(UnaryOp.Neg, y))
            | _, Unary (UnaryOp.Neg, v) -> Binary(BinaryOp.Add, x, v)
            | _, Const c when c < 0.0 -> Binary(BinaryOp.Add, x, Const -c)
            | _ when Expr.structurallyEqual x y -> Const 0.0
            | _ -> keep ()
        | BinaryOp.Mul ->
            match x, y with
            | _ when is 0.0 x || is 0.0 y -> Const 0.0
            | _ when is 1.0 x -> y
            | _ when is 1.0 y -> x
            | _ when is -1.0 x -> (match y with Unary (UnaryOp.Neg, v) -> v | _ -> Unary(UnaryOp.Neg, y))
            | _ when is -1.0 y -> (match x with Unary (UnaryOp.Neg, v) -> v | _ -> Unary(UnaryOp.Neg, x))
            | Const a, Binary (BinaryOp.Mul, Const b, v) when Double.IsNormal(a * b) -> Binary(BinaryOp.Mul, Const(a * b), v)
            | _, Const _ -> Binary(BinaryOp.Mul, y, x)                 // numbers in front: 3·c
            | Unary (UnaryOp.Neg, u), Unary (UnaryOp.Neg, v) -> Binary(BinaryOp.Mul, u, v)
            | _ -> keep ()
        | BinaryOp.Div ->
            match x, y with
            | _ when is 1.0 y -> x
            | _ when is 0.0 x -> Const 0.0
            | _ when Expr.structurallyEqual x y -> Const 1.0
            | _ -> keep ()
        | BinaryOp.Pow ->
            match y with
            | Const c when c = Math.Round c && abs c < 1000.0 -> rewriteUnary (UnaryOp.PowInt(int c)) x
            | _ -> keep ()
        | BinaryOp.Max | BinaryOp.Min ->
            if Expr.structurallyEqual x y then x else keep ()

    /// <summary>Constant folding and identities on several expressions at once, bottom-up
    /// (iterative, so depth costs no stack), each shared node rewritten once for all of them
    /// (the derivatives of many variables share most of their nodes). Named nodes are left as
    /// they are.</summary>
    let identitiesAll (roots: Expr[]) : Expr[] =
        let done' = Dictionary<Expr, Expr>(HashIdentity.Reference)
        let stack = Stack<struct (Expr * bool)>()
        for root in roots do
            stack.Push(struct (root, false))
            while stack.Count > 0 do
                let struct (e, expanded) = stack.Pop()
                if not (done'.ContainsKey e) then
                    match e with
                    | Named _ | Const _ | Var _ -> done'.[e] <- e
                    | Unary (op, x) ->
                        if expanded then done'.[e] <- rewriteUnary op done'.[x]
                        else stack.Push(struct (e, true)); stack.Push(struct (x, false))
                    | Binary (op, x, y) ->
                        if expanded then done'.[e] <- rewriteBinary op done'.[x] done'.[y]
                        else stack.Push(struct (e, true)); stack.Push(struct (y, false)); stack.Push(struct (x, false))
        roots |> Array.map (fun r -> done'.[r])

    /// <summary>Constant folding and identities, bottom-up (iterative, sharing kept). Named
    /// nodes are left as they are.</summary>
    let identities (e: Expr) : Expr = (identitiesAll [| e |]).[0]

    // ---- the rational normal form -------------------------------------------------------

    exception private GiveUp

    /// A monomial: (atom, exponent > 0) pairs sorted by atom.
    type private Mono = (int * int) list
    /// A polynomial: monomial → coefficient, no zero coefficients.
    type private Poly = Map<Mono, float>

    let private maxTerms = 64

    let private degree (m: Mono) = List.sumBy snd m
    /// Graded lexicographic order, descending is "leading".
    let private monoCompare (a: Mono) (b: Mono) =
        let c = compare (degree a) (degree b)
        if c <> 0 then c
        else
            let rec lex (a: Mono) (b: Mono) =
                match a, b with
                | [], [] -> 0
                | [], _ -> -1
                | _, [] -> 1
                | (i, e) :: r, (j, f) :: s ->
                    if i <> j then compare j i           // a smaller atom index ranks higher
                    elif e <> f then compare e f
                    else lex r s
            lex a b

    let rec private monoMul (a: Mono) (b: Mono) : Mono =
        match a, b with
        | [], m | m, [] -> m
        | (i, e) :: r, (j, f) :: s ->
            if i = j then (i, e + f) :: monoMul r s
            elif i < j then (i, e) :: monoMul r b
            else (j, f) :: monoMul a s

    /// b / a when a divides b.
    let private monoDiv (b: Mono) (a: Mono) : Mono option =
        let rec go (b: Mono) (a: Mono) acc =
            match b, a with
            | _, [] -> Some(List.rev acc @ b)
            | [], _ -> None
            | (i, e) :: r, (j, f) :: s ->
                if i = j then
                    if e > f then go r s ((i, e - f) :: acc)
                    elif e = f then go r s acc
                    else None
                elif i < j then go r a ((i, e) :: acc)
                else None
        go b a []

    // a coefficient that overflows, or underflows out of the normal range, would be a wrong
    // number in an exact-looking result (1e308/(x·x) once gave the derivative 0): give up instead
    let private checkedCoefficient (v: float) = if v = 0.0 || Double.IsNormal v then v else raise GiveUp
    let private maxAtoms = 64

    let private addTerm (m: Mono) (c: float) (p: Poly) : Poly =
        let c = checkedCoefficient c
        match Map.tryFind m p with
        | Some d ->
            let s = checkedCoefficient (c + d)
            // cancellation to rounding noise is a zero
            if s = 0.0 || abs s <= 1e-14 * (abs c + abs d) then Map.remove m p else Map.add m s p
        | None -> if c = 0.0 then p else Map.add m c p

    let private pconst (c: float) : Poly = if c = 0.0 then Map.empty else Map.ofList [ [], c ]
    let private patom (i: int) : Poly = Map.ofList [ [ i, 1 ], 1.0 ]
    let private padd (p: Poly) (q: Poly) = Map.fold (fun acc m c -> addTerm m c acc) p q
    let private pscale (k: float) (p: Poly) : Poly =
        if k = 0.0 then Map.empty
        else Map.map (fun _ c -> let v = k * c in if v = 0.0 then raise GiveUp else checkedCoefficient v) p
    let private pmul (p: Poly) (q: Poly) : Poly =
        let r =
            Map.fold (fun acc m c ->
                Map.fold (fun acc2 n d ->
                    let mn = monoMul m n
                    if mn.Length > maxAtoms then raise GiveUp
                    // a product of two non-zero coefficients that comes out 0 underflowed
                    let cd = c * d
                    if cd = 0.0 then raise GiveUp
                    addTerm mn cd acc2) acc q) Map.empty p
        if r.Count > maxTerms then raise GiveUp
        r
    let private leading (p: Poly) =
        p |> Map.toList |> List.reduce (fun a b -> if monoCompare (fst a) (fst b) >= 0 then a else b)

    /// n / d when d divides n exactly, by multivariate division on leading terms (for a
    /// single divisor, a zero remainder is the same as divisibility).
    let private tryDivide (n: Poly) (d: Poly) : Poly option =
        let (ld, cd) = leading d
        let mutable r = n
        let mutable q : Poly = Map.empty
        let mutable ok = true
        let mutable steps = 0
        while ok && not r.IsEmpty do
            steps <- steps + 1
            if steps > 10_000 then raise GiveUp
            let (lr, cr) = leading r
            match monoDiv lr ld with
            | Some m ->
                let t = Map.ofList [ m, cr / cd ]
                q <- padd q t
                r <- padd r (pscale -1.0 (pmul t d))
            | None -> ok <- false
        if ok then Some q else None

    /// A factor of a denominator, scaled so its leading coefficient is 1.
    let private monic (p: Poly) : float * Poly =
        let (_, c) = leading p
        c, pscale (1.0 / c) p

    /// Numerator over a product of monic factors with multiplicities.
    type private Rational = { N: Poly; D: (Poly * int) list }

    let private cancel (r: Rational) : Rational =
        if r.N.IsEmpty then { N = r.N; D = [] }
        else
            let mutable n = r.N
            let d =
                r.D
                |> List.choose (fun (p, m) ->
                    let mutable m = m
                    let mutable go = true
                    while go && m > 0 do
                        match tryDivide n p with
                        | Some q -> n <- q; m <- m - 1
                        | None -> go <- false
                    if m > 0 then Some(p, m) else None)
            { N = n; D = d }

    let private mergeFactors (combine: int -> int -> int) (a: (Poly * int) list) (b: (Poly * int) list) =
        let keys = (List.map fst a @ List.map fst b) |> List.distinct
        let get p l = l |> List.tryFind (fun (q, _) -> q = p) |> Option.map snd |> Option.defaultValue 0
        keys |> List.map (fun p -> p, combine (get p a) (get p b)) |> List.filter (fun (_, m) -> m > 0)

    let private expand (factors: (Poly * int) list) =
        factors |> List.fold (fun acc (p, m) -> Seq.fold (fun a _ -> pmul a p) acc (seq { 1 .. m })) (pconst 1.0)

    let private rmul (a: Rational) (b: Rational) =
        cancel { N = pmul a.N b.N; D = mergeFactors (+) a.D b.D }

    let private radd (a: Rational) (b: Rational) =
        let l = mergeFactors max a.D b.D
        let rest (d: (Poly * int) list) = mergeFactors (fun x y -> x - y) l d
        cancel { N = padd (pmul a.N (expand (rest a.D))) (pmul b.N (expand (rest b.D))); D = l }

    let private rinv (a: Rational) =
        if a.N.IsEmpty then raise GiveUp
        let c, p = monic a.N
        let num = pscale (1.0 / c) (expand a.D)
        match Map.toList p with
        | [ [], _ ] -> { N = num; D = [] }                 // a number: no denominator
        | _ -> cancel { N = num; D = [ p, 1 ] }

    let rec private rpow (a: Rational) (n: int) =
        // |n| ≤ 12 before negating: −Int32.MinValue is Int32.MinValue again
        if n > 12 || n < -12 then raise GiveUp
        if n = 0 then { N = pconst 1.0; D = [] }
        elif n < 0 then rinv (rpow a -n)
        elif n > 12 then raise GiveUp
        else Seq.fold (fun acc _ -> rmul acc a) a (seq { 2 .. n })

    let private ofPoly p = { N = p; D = [] }

    /// The largest monomial dividing every term (x1 in a·x1 − y·x1).
    let private commonMonomial (p: Poly) : Mono =
        let monos = p |> Map.toList |> List.map fst
        match monos with
        | [] -> []
        | first :: rest ->
            first
            |> List.choose (fun (atom, e) ->
                let least =
                    rest |> List.fold (fun acc m -> min acc (m |> List.tryFind (fun (a, _) -> a = atom) |> Option.map snd |> Option.defaultValue 0)) e
                if least > 0 then Some(atom, least) else None)

    let rec private toExprPoly (atoms: ResizeArray<Expr>) (p: Poly) : Expr =
        // a factor common to every term is written once, in front: x1·(a − y), as the notes do
        match commonMonomial p with
        | [] -> sumExpr atoms p
        | common when p.Count > 1 ->
            let rest = p |> Map.toList |> List.map (fun (m, c) -> (monoDiv m common).Value, c) |> Map.ofList
            let factor = common |> List.map (fun (i, e) -> if e = 1 then atoms.[i] else Unary(UnaryOp.PowInt e, atoms.[i])) |> List.reduce (fun a b -> Binary(BinaryOp.Mul, a, b))
            Binary(BinaryOp.Mul, factor, sumExpr atoms rest)
        | _ -> sumExpr atoms p

    and private sumExpr (atoms: ResizeArray<Expr>) (p: Poly) : Expr =
        let terms = p |> Map.toList |> List.sortWith (fun (a, _) (b, _) -> monoCompare b a)
        // a leading positive term reads better: a − y, not −y + a
        let terms =
            match List.tryFindIndex (fun (_, c) -> c > 0.0) terms with
            | Some k when k > 0 -> terms.[k] :: List.removeAt k terms
            | _ -> terms
        let monoExpr (m: Mono) =
            m
            |> List.map (fun (i, e) -> if e = 1 then atoms.[i] else Unary(UnaryOp.PowInt e, atoms.[i]))
            |> List.reduce (fun a b -> Binary(BinaryOp.Mul, a, b))
        let termExpr (m: Mono, c: float) =
            let c = abs c
            match m with
            | [] -> Const c
            | _ when c = 1.0 -> monoExpr m
            | _ -> Binary(BinaryOp.Mul, Const c, monoExpr m)
        match terms with
        | [] -> Const 0.0
        | (m0, c0) :: rest ->
            let first = if c0 < 0.0 then (match termExpr (m0, c0) with Const v -> Const -v | t -> Unary(UnaryOp.Neg, t)) else termExpr (m0, c0)
            rest |> List.fold (fun acc (m, c) -> Binary((if c < 0.0 then BinaryOp.Sub else BinaryOp.Add), acc, termExpr (m, c))) first

    let private toExpr (atoms: ResizeArray<Expr>) (r: Rational) : Expr =
        let num = toExprPoly atoms r.N
        match r.D with
        | [] -> num
        | factors ->
            let den =
                factors
                |> List.map (fun (p, m) -> let f = toExprPoly atoms p in if m = 1 then f else Unary(UnaryOp.PowInt m, f))
                |> List.reduce (fun a b -> Binary(BinaryOp.Mul, a, b))
            Binary(BinaryOp.Div, num, den)

    /// Counts the nodes of the printed (tree) form, stopping at a cap.
    let sizeUpTo (cap: int) (e: Expr) : int =
        let stack = Stack<Expr>()
        stack.Push e
        let mutable n = 0
        while stack.Count > 0 && n < cap do
            let x = stack.Pop()
            n <- n + 1
            match x with
            | Named _ -> ()
            | _ -> for c in Expr.children x do stack.Push c
        n

    /// Counts the nodes of the printed (tree) form, up to a million.
    let size (e: Expr) : int = sizeUpTo 1_000_000 e

    // the normal form is for reading: it is tried on expressions that print in up to this many nodes
    let private normalFormLimit = 400

    /// <summary>The rational normal form, or None when the expression is beyond it (too many
    /// terms, too deep, a division by an expression equal to zero).</summary>
    let rational (e: Expr) : Expr option =
        let atoms = ResizeArray<Expr>()
        let atomKeys = Dictionary<string, int>()
        let memo = Dictionary<Expr, Rational>(HashIdentity.Reference)
        let atom (key: string) (shown: Expr) =
            match atomKeys.TryGetValue key with
            | true, i -> ofPoly (patom i)
            | _ ->
                atoms.Add shown
                atomKeys.[key] <- atoms.Count - 1
                ofPoly (patom (atoms.Count - 1))
        let rec go (depth: int) (e: Expr) : Rational =
            if depth > 400 then raise GiveUp
            match memo.TryGetValue e with
            | true, r -> r
            | _ ->
                let r =
                    match e with
                    | Const c -> ofPoly (pconst c)
                    | Var n -> atom n e
                    | Named (n, _) -> atom ("\u0000" + n) e
                    | Unary (UnaryOp.Neg, x) -> let r = go (depth + 1) x in { r with N = pscale -1.0 r.N }
                    | Unary (UnaryOp.PowInt n, x) -> rpow (go (depth + 1) x) n
                    | Unary (op, x) ->
                        let arg = inner (depth + 1) x
                        let shown = Unary(op, arg)
                        atom (Print.text shown) shown
                    | Binary (BinaryOp.Add, x, y) -> radd (go (depth + 1) x) (go (depth + 1) y)
                    | Binary (BinaryOp.Sub, x, y) ->
                        let b = go (depth + 1) y
                        radd (go (depth + 1) x) { b with N = pscale -1.0 b.N }
                    | Binary (BinaryOp.Mul, x, y) -> rmul (go (depth + 1) x) (go (depth + 1) y)
                    | Binary (BinaryOp.Div, x, y) -> rmul (go (depth + 1) x) (rinv (go (depth + 1) y))
                    | Binary (BinaryOp.Pow, x, Const c) when c = Math.Round c && abs c <= 12.0 -> rpow (go (depth + 1) x) (int c)
                    | Binary (op, x, y) ->
                        let shown = Binary(op, inner (depth + 1) x, inner (depth + 1) y)
                        atom (Print.text shown) shown
                memo.[e] <- r
                r
        and inner depth x = toExpr atoms (go depth x)
        try
            Some(toExpr atoms (go 0 e))
        with
        | GiveUp -> None

    /// <summary>Simplifies expressions without changing their values (away from removable
    /// singularities): identities first, over all of them at once; then, for each that prints
    /// in at most 400 nodes, the rational normal form when it is no larger. The work is linear
    /// in the distinct nodes of all of them together.</summary>
    let simplifyAll (es: Expr[]) : Expr[] =
        identitiesAll es
        |> Array.map (fun light ->
            let n = sizeUpTo (normalFormLimit + 1) light
            if n > normalFormLimit then light
            else
                match rational light with
                | Some r ->
                    let r = identities r
                    if sizeUpTo (n + 1) r <= n then r else light
                | None -> light)

    /// <summary>Simplifies an expression (see <see cref="simplifyAll"/>).</summary>
    let simplify (e: Expr) : Expr = (simplifyAll [| e |]).[0]
