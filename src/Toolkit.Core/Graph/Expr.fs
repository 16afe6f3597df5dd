namespace Toolkit.Graph

/// An operation of one argument: one node of the graph with one input edge.
[<RequireQualifiedAccess>]
type UnaryOp =
    /// −x
    | Neg
    /// x raised to a fixed integer power n (defined for negative x too).
    | PowInt of n: int
    /// eˣ
    | Exp
    /// Natural logarithm ln x (x > 0).
    | Log
    /// √x (x ≥ 0).
    | Sqrt
    /// The logistic sigmoid σ(x) = 1 / (1 + e⁻ˣ).
    | Sigmoid
    /// The hyperbolic tangent.
    | Tanh
    /// max(0, x); its derivative at 0 is taken as 0 (the usual sub-gradient).
    | Relu
    /// |x|; its derivative at 0 is taken as 0.
    | Abs
    /// The Heaviside step: 1 for x > 0, else 0 (the derivative of ReLU; its own derivative is 0).
    | Step
    /// The sign of x: −1, 0 or 1 (the derivative of |x|; its own derivative is 0).
    | Sign
    /// x for x > 0, slope·x otherwise; its derivative at 0 is taken as the slope.
    | LeakyRelu of slope: float
    /// softplus x = ln(1 + eˣ), a smooth ReLU; its derivative is σ(x).
    | Softplus
    /// ELU (α = 1): x for x > 0, eˣ − 1 otherwise.
    | Elu
    /// GELU, x·Φ(x) with Φ the standard normal distribution function (the exact form, as
    /// PyTorch's default and ONNX's Gelu).
    | Gelu
    /// Φ(x), the standard normal distribution function ½(1 + erf(x/√2)): the derivative of GELU
    /// needs it; its own derivative is the normal density e^(−x²/2)/√(2π).
    | Phi

/// An operation of two arguments: one node of the graph with two input edges.
[<RequireQualifiedAccess>]
type BinaryOp =
    /// x + y
    | Add
    /// x − y
    | Sub
    /// x · y
    | Mul
    /// x / y
    | Div
    /// x raised to a real power y (x > 0 unless y is a constant integer-valued exponent).
    | Pow
    /// The larger of x and y (ties send the whole derivative to x).
    | Max
    /// The smaller of x and y (ties send the whole derivative to x).
    | Min

/// <summary>
/// A computation graph, as data. Every value of this type is one node; a node referenced from
/// two places is one shared node (identity is reference identity), evaluated once, and its
/// dvar is the sum over every path to the output (the multivariable chain rule).
/// </summary>
/// <remarks>
/// Build graphs with the operators (<c>+ - * /</c>, <c>**</c>, unary minus) and the
/// functions of the <see cref="T:Toolkit.Graph.ExprModule"/> module, or parse them from text
/// with <c>Parse.program</c>. Equality is reference equality: two separately built copies of
/// <c>b*c</c> are two nodes; use <c>Expr.structurallyEqual</c> to compare shapes.
/// </remarks>
[<ReferenceEquality>]
[<StructuredFormatDisplay("{Display}")>]
type Expr =
    /// A number.
    | Const of value: float
    /// An input variable, looked up by name when the graph is evaluated.
    | Var of name: string
    /// A named intermediate node (<c>u = b*c</c>): the same node as its body, carrying the
    /// name the notes give it so every printer, trace and picture can use it.
    | Named of name: string * body: Expr
    /// A one-argument operation.
    | Unary of op: UnaryOp * arg: Expr
    /// A two-argument operation.
    | Binary of op: BinaryOp * left: Expr * right: Expr

    member private e.Display =
        match e with
        | Const v -> string v
        | Var n -> n
        | Named (n, _) -> n
        | Unary (op, _) -> sprintf "%A(…)" op
        | Binary (op, _, _) -> sprintf "%A(…, …)" op

    /// x + y
    static member (+) (x: Expr, y: Expr) = Binary(BinaryOp.Add, x, y)
    /// x + c
    static member (+) (x: Expr, c: float) = Binary(BinaryOp.Add, x, Const c)
    /// c + y
    static member (+) (c: float, y: Expr) = Binary(BinaryOp.Add, Const c, y)
    /// x − y
    static member (-) (x: Expr, y: Expr) = Binary(BinaryOp.Sub, x, y)
    /// x − c
    static member (-) (x: Expr, c: float) = Binary(BinaryOp.Sub, x, Const c)
    /// c − y
    static member (-) (c: float, y: Expr) = Binary(BinaryOp.Sub, Const c, y)
    /// x · y
    static member (*) (x: Expr, y: Expr) = Binary(BinaryOp.Mul, x, y)
    /// x · c
    static member (*) (x: Expr, c: float) = Binary(BinaryOp.Mul, x, Const c)
    /// c · y
    static member (*) (c: float, y: Expr) = Binary(BinaryOp.Mul, Const c, y)
    /// x / y
    static member (/) (x: Expr, y: Expr) = Binary(BinaryOp.Div, x, y)
    /// x / c
    static member (/) (x: Expr, c: float) = Binary(BinaryOp.Div, x, Const c)
    /// c / y
    static member (/) (c: float, y: Expr) = Binary(BinaryOp.Div, Const c, y)
    /// −x
    static member (~-) (x: Expr) = Unary(UnaryOp.Neg, x)
    /// x raised to a real power y.
    static member Pow (x: Expr, y: Expr) = Binary(BinaryOp.Pow, x, y)
    /// x raised to an integer power n.
    static member Pow (x: Expr, n: int) = Unary(UnaryOp.PowInt n, x)
    /// x raised to a real power c (an integer-valued c gives an integer power).
    static member Pow (x: Expr, c: float) =
        if c = System.Math.Round c && abs c <= 1e9 then Unary(UnaryOp.PowInt(int c), x)
        else Binary(BinaryOp.Pow, x, Const c)

/// Constructors and inspection of graph nodes.
[<RequireQualifiedAccess>]
[<CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Expr =
    /// A constant node.
    let constant (v: float) = Const v
    /// An input variable.
    let var (name: string) = Var name
    /// Gives a node a name (<c>u = b*c</c>); printers, traces and pictures show the name.
    let named (name: string) (body: Expr) = Named(name, body)
    /// eˣ
    let exp x = Unary(UnaryOp.Exp, x)
    /// ln x
    let log x = Unary(UnaryOp.Log, x)
    /// √x
    let sqrt x = Unary(UnaryOp.Sqrt, x)
    /// σ(x) = 1 / (1 + e⁻ˣ)
    let sigmoid x = Unary(UnaryOp.Sigmoid, x)
    /// tanh x
    let tanh x = Unary(UnaryOp.Tanh, x)
    /// max(0, x)
    let relu x = Unary(UnaryOp.Relu, x)
    /// |x|
    let abs x = Unary(UnaryOp.Abs, x)
    /// The Heaviside step: 1 for x > 0, else 0.
    let step x = Unary(UnaryOp.Step, x)
    /// The sign of x: −1, 0 or 1.
    let sign x = Unary(UnaryOp.Sign, x)
    /// x for x > 0, slope·x otherwise.
    let leakyRelu (slope: float) x = Unary(UnaryOp.LeakyRelu slope, x)
    /// ln(1 + eˣ)
    let softplus x = Unary(UnaryOp.Softplus, x)
    /// x for x > 0, eˣ − 1 otherwise.
    let elu x = Unary(UnaryOp.Elu, x)
    /// x·Φ(x)
    let gelu x = Unary(UnaryOp.Gelu, x)
    /// Φ(x), the standard normal distribution function.
    let phi x = Unary(UnaryOp.Phi, x)
    /// x raised to the integer power n.
    let powInt (n: int) x = Unary(UnaryOp.PowInt n, x)
    /// x raised to the real power y.
    let pow x y = Binary(BinaryOp.Pow, x, y)
    /// The larger of x and y.
    let max x y = Binary(BinaryOp.Max, x, y)
    /// The smaller of x and y.
    let min x y = Binary(BinaryOp.Min, x, y)

    /// The direct inputs of a node (a named node's input is its body).
    let children (e: Expr) : Expr list =
        match e with
        | Const _ | Var _ -> []
        | Named (_, body) -> [ body ]
        | Unary (_, x) -> [ x ]
        | Binary (_, x, y) -> [ x; y ]

    /// Strips names: the unnamed node a named node stands for.
    let rec unname (e: Expr) =
        match e with
        | Named (_, body) -> unname body
        | _ -> e

    /// Structural equality: same shape, operations, constants and names, whatever the sharing.
    /// Iterative, so deep graphs do not overflow the stack.
    let structurallyEqual (x: Expr) (y: Expr) : bool =
        let stack = System.Collections.Generic.Stack<struct (Expr * Expr)>()
        stack.Push(struct (x, y))
        let mutable equal = true
        while equal && stack.Count > 0 do
            let struct (a, b) = stack.Pop()
            if not (obj.ReferenceEquals(a, b)) then
                match a, b with
                | Const u, Const v -> equal <- (u = v || (System.Double.IsNaN u && System.Double.IsNaN v))
                | Var m, Var n -> equal <- (m = n)
                | Named (m, p), Named (n, q) -> if m = n then stack.Push(struct (p, q)) else equal <- false
                | Unary (o, p), Unary (r, q) -> if o = r then stack.Push(struct (p, q)) else equal <- false
                | Binary (o, p1, p2), Binary (r, q1, q2) ->
                    if o = r then
                        stack.Push(struct (p1, q1))
                        stack.Push(struct (p2, q2))
                    else equal <- false
                | _ -> equal <- false
        equal
