namespace Toolkit.Graph

open System

/// <summary>
/// The table of derivatives: for every operation, its value and its local partial derivatives,
/// once as numbers (for the forward and backward sweeps) and once as expressions (for the
/// symbolic derivative and the explain trace). The two columns sit side by side, case by case,
/// and a property test checks that they agree with each other and with finite differences.
/// </summary>
/// <remarks>
/// Each rule receives the argument value(s) and the node's own value, so that rules can reuse
/// the forward result as the notes do: σ′ = σ(1 − σ), tanh′ = 1 − tanh², (eˣ)′ = eˣ.
/// </remarks>
module Rules =

    /// σ(x) = 1 / (1 + e⁻ˣ), computed without overflow for large |x|.
    let sigmoid (x: float) =
        if x >= 0.0 then 1.0 / (1.0 + Math.Exp(-x))
        else
            let e = Math.Exp x
            e / (1.0 + e)

    /// The Heaviside step as used by the sub-gradients: 1 for x > 0, else 0.
    let step (x: float) = if x > 0.0 then 1.0 else 0.0

    /// ln(1 + eˣ) as max(x, 0) + ln(1 + e^−|x|): no overflow for large x, no loss for small.
    let softplus (x: float) = Math.Max(x, 0.0) + Math.Log(1.0 + Math.Exp(-Math.Abs x))

    /// Φ(x) = ½(1 + erf(x/√2)), the standard normal distribution function.
    let phi (x: float) = 0.5 * (1.0 + MathNet.Numerics.SpecialFunctions.Erf(x / Math.Sqrt 2.0))

    /// 1/√(2π), the normal density's constant.
    let invSqrt2Pi = 1.0 / Math.Sqrt(2.0 * Math.PI)

    /// <summary>The name of a one-argument operation: how the parser, the printer, the command
    /// line, model files and the C# facade write it. Every op has exactly one name; a parameter
    /// (the leaky ReLU's slope) is written after it as a second argument,
    /// <c>leakyrelu(x, 0.2)</c>.</summary>
    let name (op: UnaryOp) : string =
        match op with
        | UnaryOp.Neg -> "neg"
        | UnaryOp.PowInt _ -> "pow"
        | UnaryOp.Exp -> "exp"
        | UnaryOp.Log -> "log"
        | UnaryOp.Sqrt -> "sqrt"
        | UnaryOp.Sigmoid -> "sigmoid"
        | UnaryOp.Tanh -> "tanh"
        | UnaryOp.Relu -> "relu"
        | UnaryOp.Abs -> "abs"
        | UnaryOp.Step -> "step"
        | UnaryOp.Sign -> "sign"
        | UnaryOp.LeakyRelu _ -> "leakyrelu"
        | UnaryOp.Softplus -> "softplus"
        | UnaryOp.Elu -> "elu"
        | UnaryOp.Gelu -> "gelu"
        | UnaryOp.Phi -> "phi"

    /// The real parameter of an op that has one (the leaky ReLU's slope).
    let parameter (op: UnaryOp) : float option =
        match op with
        | UnaryOp.LeakyRelu s -> Some s
        | UnaryOp.Neg | UnaryOp.PowInt _ | UnaryOp.Exp | UnaryOp.Log | UnaryOp.Sqrt | UnaryOp.Sigmoid
        | UnaryOp.Tanh | UnaryOp.Relu | UnaryOp.Abs | UnaryOp.Step | UnaryOp.Sign | UnaryOp.Softplus
        | UnaryOp.Elu | UnaryOp.Gelu | UnaryOp.Phi -> None

    /// The leaky ReLU's slope when none is written (PyTorch's and ONNX's default).
    [<Literal>]
    let DefaultLeakySlope = 0.01

    /// <summary>Every op that is called by name, <c>f(x)</c> or <c>f(x, parameter)</c>, found
    /// from the union's own cases: a new case is known to the parser, the command line and the
    /// facade the moment <c>name</c> covers it. (−x and xⁿ are written as operators.) The value
    /// makes the op from its parameter, when it takes one.</summary>
    let callable : Collections.Generic.IReadOnlyDictionary<string, float option -> UnaryOp> =
        let d = Collections.Generic.Dictionary<string, float option -> UnaryOp>()
        for case in Microsoft.FSharp.Reflection.FSharpType.GetUnionCases(typeof<UnaryOp>) do
            let fields = case.GetFields()
            let make (args: obj[]) = Microsoft.FSharp.Reflection.FSharpValue.MakeUnion(case, args) :?> UnaryOp
            if fields.Length = 0 then
                let op = make [||]
                if op <> UnaryOp.Neg then d.[name op] <- (fun _ -> op)
            elif fields.Length = 1 && fields.[0].PropertyType = typeof<float> then
                let op = make [| box DefaultLeakySlope |]
                d.[name op] <- (fun p -> make [| box (defaultArg p DefaultLeakySlope) |])
        d :> _

    /// The value of a one-argument operation.
    let unary (op: UnaryOp) (x: float) : float =
        match op with
        | UnaryOp.Neg -> -x
        | UnaryOp.PowInt n -> pown x n
        | UnaryOp.Exp -> Math.Exp x
        | UnaryOp.Log -> Math.Log x
        | UnaryOp.Sqrt -> Math.Sqrt x
        | UnaryOp.Sigmoid -> sigmoid x
        | UnaryOp.Tanh -> Math.Tanh x
        | UnaryOp.Relu -> if x > 0.0 then x else 0.0
        | UnaryOp.Abs -> Math.Abs x
        | UnaryOp.Step -> step x
        | UnaryOp.Sign -> if Double.IsNaN x then nan else float (sign x)
        | UnaryOp.LeakyRelu s -> if x > 0.0 then x else s * x
        | UnaryOp.Softplus -> softplus x
        | UnaryOp.Elu -> if x > 0.0 then x else Math.Exp x - 1.0
        | UnaryOp.Gelu -> x * phi x
        | UnaryOp.Phi -> phi x

    /// The value of a two-argument operation.
    let binary (op: BinaryOp) (x: float) (y: float) : float =
        match op with
        | BinaryOp.Add -> x + y
        | BinaryOp.Sub -> x - y
        | BinaryOp.Mul -> x * y
        | BinaryOp.Div -> x / y
        | BinaryOp.Pow -> Math.Pow(x, y)
        | BinaryOp.Max -> if x >= y then x else y
        | BinaryOp.Min -> if x <= y then x else y

    /// ∂z/∂x for z = op(x), given x and z.
    let dUnary (op: UnaryOp) (x: float) (z: float) : float =
        match op with
        | UnaryOp.Neg -> -1.0                                  // (−x)′ = −1
        | UnaryOp.PowInt 0 -> 0.0
        // n − 1 would wrap around to Int32.MaxValue: xⁿ⁻¹ = xⁿ/x there
        | UnaryOp.PowInt n when n = Int32.MinValue -> float n * pown x n / x
        | UnaryOp.PowInt n -> float n * pown x (n - 1)         // (xⁿ)′ = n·xⁿ⁻¹
        | UnaryOp.Exp -> z                                     // (eˣ)′ = eˣ
        | UnaryOp.Log -> 1.0 / x                               // (ln x)′ = 1/x
        | UnaryOp.Sqrt -> 0.5 / z                              // (√x)′ = 1/(2√x)
        | UnaryOp.Sigmoid -> z * (1.0 - z)                     // σ′ = σ(1 − σ)
        | UnaryOp.Tanh -> 1.0 - z * z                          // tanh′ = 1 − tanh²
        | UnaryOp.Relu -> step x                               // 1 for x > 0, 0 for x ≤ 0
        | UnaryOp.Abs -> if Double.IsNaN x then nan else float (sign x) // sign x, 0 at 0
        | UnaryOp.Step | UnaryOp.Sign -> 0.0                   // flat away from 0
        | UnaryOp.LeakyRelu s -> if x > 0.0 then 1.0 else s    // 1 for x > 0, the slope for x ≤ 0
        | UnaryOp.Softplus -> sigmoid x                        // softplus′ = σ
        | UnaryOp.Elu -> if x > 0.0 then 1.0 else z + 1.0      // 1, or eˣ = elu(x) + 1
        // (xΦ)′ = Φ + x·φ, with Φ = z/x from the node's own value (one erf per element, not two)
        | UnaryOp.Gelu -> (if abs x > 1e-300 then z / x else phi x) + x * invSqrt2Pi * Math.Exp(-0.5 * x * x)
        | UnaryOp.Phi -> invSqrt2Pi * Math.Exp(-0.5 * x * x)   // Φ′ = φ = e^(−x²/2)/√(2π)

    /// (∂z/∂x, ∂z/∂y) for z = op(x, y), given x, y and z.
    let dBinary (op: BinaryOp) (x: float) (y: float) (z: float) : struct (float * float) =
        match op with
        | BinaryOp.Add -> struct (1.0, 1.0)                    // ∂(x+y) = 1, 1
        | BinaryOp.Sub -> struct (1.0, -1.0)                   // ∂(x−y) = 1, −1
        | BinaryOp.Mul -> struct (y, x)                        // ∂(xy) = y, x
        | BinaryOp.Div -> struct (1.0 / y, -x / (y * y))       // ∂(x/y) = 1/y, −x/y²
        | BinaryOp.Pow ->                                      // ∂(xʸ) = y·xʸ⁻¹, xʸ·ln x
            let dy = if x = 0.0 then 0.0 else z * Math.Log x
            struct (y * Math.Pow(x, y - 1.0), dy)
        | BinaryOp.Max -> if x >= y then struct (1.0, 0.0) else struct (0.0, 1.0)
        | BinaryOp.Min -> if x <= y then struct (1.0, 0.0) else struct (0.0, 1.0)

    /// <summary>The local partials of any operation node, as a pair (the second is 0 for a
    /// one-argument node). The shape a custom rule set must have to be checked by
    /// <c>GradCheck.runWith</c>.</summary>
    type Partials = Expr -> float -> float -> float -> struct (float * float)

    /// The table above as one function over an operation node: args x, y (y unused for
    /// one-argument nodes) and the node's value z.
    let partials : Partials =
        fun node x y z ->
            match node with
            | Unary (op, _) -> struct (dUnary op x z, 0.0)
            | Binary (op, _, _) -> dBinary op x y z
            | Const _ | Var _ | Named _ -> struct (0.0, 0.0)

    // Symbolic column. `x`, `y` are the argument nodes, `z` the node itself (shared, so that
    // a named node prints by its name: σ′ of a = σ(z) prints as a·(1 − a)).
    let private c v = Const v

    /// The normal density φ(x) = e^(−x²/2)/√(2π) as an expression.
    let private density (x: Expr) = c invSqrt2Pi * Unary(UnaryOp.Exp, c -0.5 * Unary(UnaryOp.PowInt 2, x))

    /// ∂z/∂x as an expression, for z = op(x).
    let dUnaryExpr (op: UnaryOp) (x: Expr) (z: Expr) : Expr =
        match op with
        | UnaryOp.Neg -> c -1.0
        | UnaryOp.PowInt 0 -> c 0.0
        | UnaryOp.PowInt 1 -> c 1.0
        | UnaryOp.PowInt n when n = Int32.MinValue -> c (float n) * (Unary(UnaryOp.PowInt n, x) / x)
        | UnaryOp.PowInt n -> c (float n) * Unary(UnaryOp.PowInt(n - 1), x)
        | UnaryOp.Exp -> z
        | UnaryOp.Log -> c 1.0 / x
        | UnaryOp.Sqrt -> c 0.5 / z
        | UnaryOp.Sigmoid -> z * (c 1.0 - z)
        | UnaryOp.Tanh -> c 1.0 - Unary(UnaryOp.PowInt 2, z)
        | UnaryOp.Relu -> Unary(UnaryOp.Step, x)
        | UnaryOp.Abs -> Unary(UnaryOp.Sign, x)
        | UnaryOp.Step | UnaryOp.Sign -> c 0.0
        | UnaryOp.LeakyRelu s -> c s + c (1.0 - s) * Unary(UnaryOp.Step, x)
        | UnaryOp.Softplus -> Unary(UnaryOp.Sigmoid, x)
        | UnaryOp.Elu -> Binary(BinaryOp.Min, Unary(UnaryOp.Exp, x), c 1.0)
        | UnaryOp.Gelu -> Unary(UnaryOp.Phi, x) + x * density x
        | UnaryOp.Phi -> density x

    /// (∂z/∂x, ∂z/∂y) as expressions, for z = op(x, y).
    let dBinaryExpr (op: BinaryOp) (x: Expr) (y: Expr) (z: Expr) : Expr * Expr =
        match op with
        | BinaryOp.Add -> c 1.0, c 1.0
        | BinaryOp.Sub -> c 1.0, c -1.0
        | BinaryOp.Mul -> y, x
        | BinaryOp.Div -> c 1.0 / y, -x / Unary(UnaryOp.PowInt 2, y)
        | BinaryOp.Pow -> y * Binary(BinaryOp.Pow, x, y - c 1.0), z * Unary(UnaryOp.Log, x)
        // ties go to x, as in the numeric column: x gets 1 − step(y − x)
        | BinaryOp.Max -> c 1.0 - Unary(UnaryOp.Step, y - x), Unary(UnaryOp.Step, y - x)
        | BinaryOp.Min -> c 1.0 - Unary(UnaryOp.Step, x - y), Unary(UnaryOp.Step, x - y)

    /// The symbolic partials of an operation node with respect to its arguments, in order.
    /// <c>self</c> is the expression that stands for the node (its named form, if named).
    let partialExprs (node: Expr) (self: Expr) : Expr list =
        match node with
        | Unary (op, x) -> [ dUnaryExpr op x self ]
        | Binary (op, x, y) -> let dx, dy = dBinaryExpr op x y self in [ dx; dy ]
        | Const _ | Var _ | Named _ -> []
