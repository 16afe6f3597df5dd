namespace Toolkit.Tensors

open System
open MathNet.Numerics.LinearAlgebra

/// The shape of a matrix: rows × columns (a scalar is 1×1).
[<Struct>]
type Shape =
    { Rows: int
      Cols: int }
    /// "3×4"
    override s.ToString() = sprintf "%d×%d" s.Rows s.Cols

/// An axis to reduce along or normalise over.
[<RequireQualifiedAccess>]
type Axis =
    /// Down each column (over the rows): an r×c matrix becomes 1×c.
    | Rows
    /// Along each row (over the columns): an r×c matrix becomes r×1.
    | Cols

/// Where the samples of a batch are: the notes use both layouts.
[<RequireQualifiedAccess>]
type Layout =
    /// Each column is a sample: Z = W·A + b, b a column.
    | ColumnsAreSamples
    /// Each row is a sample: Z = X·Wᵀ + bᵀ, b a row.
    | RowsAreSamples

/// A matrix operation of one argument.
[<RequireQualifiedAccess>]
type TUnary =
    /// −A
    | Neg
    /// c·A for a constant c
    | Scale of c: float
    /// Aᵀ
    | Transpose
    /// Any op of the scalar vocabulary applied to each element (eᴬ, ln A, σ(A), tanh A, …): its
    /// value and derivative come from the one table of derivatives, <c>Toolkit.Graph.Rules</c>.
    | Map of op: Toolkit.Graph.UnaryOp
    /// The sum of every element (1×1)
    | SumAll
    /// The mean of every element (1×1)
    | MeanAll
    /// Sums along an axis
    | Sum of axis: Axis
    /// Means along an axis
    | Mean of axis: Axis
    /// Softmax along an axis (each column sums to 1 for Axis.Rows), computed with the max subtracted
    | Softmax of axis: Axis
    /// Log-softmax along an axis, computed with the max subtracted
    | LogSoftmax of axis: Axis

/// A matrix operation of two arguments.
[<RequireQualifiedAccess>]
type TBinary =
    /// The matrix product A·B
    | MatMul
    /// A + B, B broadcast when it is a row, a column or a scalar (a bias)
    | Add
    /// A − B, with the same broadcasting
    | Sub
    /// Elementwise A ⊙ B, with the same broadcasting
    | Mul
    /// Elementwise A / B, with the same broadcasting
    | Div

/// <summary>
/// A matrix computation graph, as data: the tensor counterpart of <c>Toolkit.Graph.Expr</c>.
/// Every node carries its shape, checked when the node is built (use the functions of the
/// <c>TExpr</c> module, which name the op and both shapes when they do not fit). A node used
/// twice is one node (reference identity), its dvar summed over every use.
/// </summary>
[<ReferenceEquality>]
type TExpr =
    /// A constant matrix.
    | TConst of value: Matrix<float>
    /// An input matrix, looked up by name; its shape is fixed when the graph is built.
    | TVar of name: string * shape: Shape
    /// A named intermediate node (Z = W·A + b, A = σ(Z)).
    | TNamed of name: string * body: TExpr
    /// A one-argument matrix operation and its result shape.
    | TUnary of op: TUnary * arg: TExpr * shape: Shape
    /// A two-argument matrix operation and its result shape.
    | TBinary of op: TBinary * left: TExpr * right: TExpr * shape: Shape
    /// A loss (1×1) of predictions against targets, reading outputs or logits, with the samples
    /// in columns or in rows.
    | TLossOf of loss: Loss * input: LossInput * layout: Layout * prediction: TExpr * target: TExpr

/// A shape error: the operation, or the layers, and the shapes they were given (an
/// ArgumentException, as .NET code expects of arguments that do not fit).
type ShapeException(message: string) =
    inherit ArgumentException(message)

/// Building matrix graphs, with every shape checked where the node is made.
[<RequireQualifiedAccess>]
[<CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module TExpr =

    /// The shape of a node.
    let rec shape (e: TExpr) : Shape =
        match e with
        | TConst m -> { Rows = m.RowCount; Cols = m.ColumnCount }
        | TVar (_, s) -> s
        | TNamed (_, body) -> shape body
        | TUnary (_, _, s) | TBinary (_, _, _, s) -> s
        | TLossOf _ -> { Rows = 1; Cols = 1 }

    let private fail fmt = Printf.kprintf (fun s -> raise (ShapeException s)) fmt

    /// The result shape of a one-argument op on a given shape.
    let unaryShape (op: TUnary) (a: Shape) : Shape =
        match op with
        | TUnary.Transpose -> { Rows = a.Cols; Cols = a.Rows }
        | TUnary.SumAll | TUnary.MeanAll -> { Rows = 1; Cols = 1 }
        | TUnary.Sum Axis.Rows | TUnary.Mean Axis.Rows -> { Rows = 1; Cols = a.Cols }
        | TUnary.Sum Axis.Cols | TUnary.Mean Axis.Cols -> { Rows = a.Rows; Cols = 1 }
        | _ -> a

    /// Whether b can be broadcast onto a: the same shape, a row of a's width, a column of a's
    /// height, or a scalar.
    let broadcasts (a: Shape) (b: Shape) =
        (b.Rows = a.Rows || b.Rows = 1) && (b.Cols = a.Cols || b.Cols = 1)

    /// The result shape of a two-argument op, or a ShapeException naming the op and both shapes.
    let binaryShape (op: TBinary) (a: Shape) (b: Shape) : Shape =
        match op with
        | TBinary.MatMul ->
            if a.Cols <> b.Rows then
                fail "matmul: (%O) · (%O): inner dimensions %d and %d differ" a b a.Cols b.Rows
            { Rows = a.Rows; Cols = b.Cols }
        | _ ->
            let name = match op with TBinary.Add -> "add" | TBinary.Sub -> "sub" | TBinary.Mul -> "mul" | _ -> "div"
            if not (broadcasts a b) then
                fail "%s: (%O) and (%O): the right side must have the same shape, or be a row (1×%d), a column (%d×1) or a scalar (1×1)" name a b a.Cols a.Rows
            a

    /// Checks a loss's prediction and target shapes.
    let lossCheck (loss: Loss) (p: Shape) (t: Shape) =
        if p <> t then fail "%s loss: predictions (%O) and targets (%O) must have the same shape" (Loss.name loss) p t

    /// A constant matrix.
    let constant (m: Matrix<float>) = TConst m
    /// A constant filled with one value.
    let fill (rows: int) (cols: int) (v: float) = TConst(Matrix<float>.Build.Dense(rows, cols, v))
    /// An input of a given shape.
    let var (name: string) (rows: int) (cols: int) =
        if rows < 1 || cols < 1 then fail "var %s: a %d×%d matrix has no elements" name rows cols
        TVar(name, { Rows = rows; Cols = cols })
    /// Names a node.
    let named (name: string) (body: TExpr) = TNamed(name, body)
    /// A one-argument op.
    let unary (op: TUnary) (a: TExpr) = TUnary(op, a, unaryShape op (shape a))
    /// A two-argument op, shapes checked.
    let binary (op: TBinary) (a: TExpr) (b: TExpr) = TBinary(op, a, b, binaryShape op (shape a) (shape b))
    /// A·B
    let matmul a b = binary TBinary.MatMul a b
    /// A + B (B may be a bias row or column)
    let add a b = binary TBinary.Add a b
    /// A − B
    let sub a b = binary TBinary.Sub a b
    /// A ⊙ B
    let mul a b = binary TBinary.Mul a b
    /// A / B elementwise
    let div a b = binary TBinary.Div a b
    /// Aᵀ
    let transpose a = unary TUnary.Transpose a
    /// −A
    let neg a = unary TUnary.Neg a
    /// c·A
    let scale (c: float) a = unary (TUnary.Scale c) a
    /// op applied to each element, for any op of the scalar vocabulary.
    let map (op: Toolkit.Graph.UnaryOp) a = unary (TUnary.Map op) a
    /// eᴬ
    let exp a = map Toolkit.Graph.UnaryOp.Exp a
    /// ln A
    let log a = map Toolkit.Graph.UnaryOp.Log a
    /// σ(A)
    let sigmoid a = map Toolkit.Graph.UnaryOp.Sigmoid a
    /// tanh A
    let tanh a = map Toolkit.Graph.UnaryOp.Tanh a
    /// max(0, A)
    let relu a = map Toolkit.Graph.UnaryOp.Relu a
    /// Σ of all elements
    let sumAll a = unary TUnary.SumAll a
    /// mean of all elements
    let meanAll a = unary TUnary.MeanAll a
    /// Σ along an axis
    let sum axis a = unary (TUnary.Sum axis) a
    /// mean along an axis
    let mean axis a = unary (TUnary.Mean axis) a
    /// softmax along an axis
    let softmax axis a = unary (TUnary.Softmax axis) a
    /// log-softmax along an axis
    let logSoftmax axis a = unary (TUnary.LogSoftmax axis) a
    /// <summary>A loss (1×1) of <paramref name="prediction"/> (outputs or logits, as
    /// <paramref name="input"/> says) against <paramref name="target"/>, shapes checked.</summary>
    let loss (l: Loss) (input: LossInput) (layout: Layout) (prediction: TExpr) (target: TExpr) =
        lossCheck l (shape prediction) (shape target)
        TLossOf(l, input, layout, prediction, target)
    /// Binary cross-entropy from logits Z against labels Y in [0, 1]: −mean(y·log σ(z) + (1 − y)·log(1 − σ(z))).
    let bceWithLogits (layout: Layout) (z: TExpr) (y: TExpr) = loss Loss.BinaryCrossEntropy LossInput.Logits layout z y
    /// Softmax over the classes then cross-entropy against one-hot (or probability) targets, from logits.
    let softmaxCrossEntropy (layout: Layout) (z: TExpr) (y: TExpr) = loss Loss.CrossEntropy LossInput.Logits layout z y
    /// ½‖a − y‖² per sample, averaged over the samples (the notes' quadratic cost).
    let quadratic (layout: Layout) (a: TExpr) (y: TExpr) = loss Loss.Quadratic LossInput.Outputs layout a y

    /// The direct inputs of a node.
    let children (e: TExpr) : TExpr list =
        match e with
        | TConst _ | TVar _ -> []
        | TNamed (_, b) -> [ b ]
        | TUnary (_, a, _) -> [ a ]
        | TBinary (_, a, b, _) | TLossOf (_, _, _, a, b) -> [ a; b ]

    /// A dense layer in the notes' column layout: Z = W·A + b (b a column).
    let denseColumns (w: TExpr) (a: TExpr) (b: TExpr) = add (matmul w a) b
    /// A dense layer in the row layout: Z = X·Wᵀ + bᵀ (b a row).
    let denseRows (x: TExpr) (w: TExpr) (b: TExpr) = add (matmul x (transpose w)) b
