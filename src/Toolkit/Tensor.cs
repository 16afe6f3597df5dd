using MathNet.Numerics.LinearAlgebra;
using Toolkit.Tensors;
using FAxis = Toolkit.Tensors.Axis;
using FLayout = Toolkit.Tensors.Layout;

namespace Toolkit;

/// <summary>An axis to reduce along or normalise over.</summary>
public enum TensorAxis
{
    /// <summary>Down each column (over the rows): r×c becomes 1×c.</summary>
    Rows,
    /// <summary>Along each row (over the columns): r×c becomes r×1.</summary>
    Columns,
}

/// <summary>Where the samples of a batch are.</summary>
public enum SampleLayout
{
    /// <summary>Each column is a sample (the notes' Z = W·A + b).</summary>
    ColumnsAreSamples,
    /// <summary>Each row is a sample (Z = X·Wᵀ + bᵀ).</summary>
    RowsAreSamples,
}

/// <summary>
/// A node of a matrix computation graph, as C# sees it: matrices (MathNet dense, float64), the
/// matrix product, broadcasting bias additions, elementwise functions, reductions, softmax and
/// the losses; <see cref="Backward()"/> gives every node's dvar by the notes' matrix rules.
/// Shapes are checked when a node is built.
/// </summary>
/// <example>
/// <code>
/// var W = Tensor.Variable("W", Matrix&lt;double&gt;.Build.Random(2, 3));
/// var A = Tensor.Variable("A", Matrix&lt;double&gt;.Build.Random(3, 4));
/// var b = Tensor.Variable("b", Matrix&lt;double&gt;.Build.Dense(2, 1));
/// var J = Tensor.Sigmoid(W * A + b).SumAll();
/// var g = J.Backward();   // g[W] is 2×3: dW = dZ·Aᵀ
/// </code>
/// </example>
public sealed class Tensor
{
    internal TExpr Expr { get; }
    internal Bindings<Matrix<double>> Bindings { get; }

    internal Tensor(TExpr expr, Bindings<Matrix<double>> bindings)
    {
        Expr = expr;
        Bindings = bindings;
    }

    // joined, not merged: building is linear in the nodes; the values are gathered (and a name
    // bound to two matrices refused) when the graph is evaluated
    private static Tensor Combine(TExpr e, Tensor x, Tensor y) => new(e, Bindings<Matrix<double>>.Join(x.Bindings, y.Bindings));

    private Tensor With(TExpr e) => new(e, Bindings);

    /// <summary>An input matrix with a value.</summary>
    public static Tensor Variable(string name, Matrix<double> value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(value);
        return new Tensor(TExprModule.var(name, value.RowCount, value.ColumnCount), Bindings<Matrix<double>>.Of(name, value));
    }

    /// <summary>An input matrix with a value given as a 2-D array.</summary>
    public static Tensor Variable(string name, double[,] value) => Variable(name, Matrix<double>.Build.DenseOfArray(value));

    /// <summary>A constant matrix.</summary>
    public static Tensor Constant(Matrix<double> value) => new(TExprModule.constant(value), Bindings<Matrix<double>>.Empty);

    /// <summary>The node's shape.</summary>
    public (int Rows, int Columns) Shape
    {
        get { var s = TExprModule.shape(Expr); return (s.Rows, s.Cols); }
    }

    /// <summary>The matrix product A·B (A * B).</summary>
    public static Tensor operator *(Tensor a, Tensor b) => Combine(TExprModule.matmul(a.Expr, b.Expr), a, b);
    /// <summary>A + B; B may be a bias column, a bias row or a scalar, broadcast.</summary>
    public static Tensor operator +(Tensor a, Tensor b) => Combine(TExprModule.add(a.Expr, b.Expr), a, b);
    /// <summary>A − B, with the same broadcasting.</summary>
    public static Tensor operator -(Tensor a, Tensor b) => Combine(TExprModule.sub(a.Expr, b.Expr), a, b);
    /// <summary>−A.</summary>
    public static Tensor operator -(Tensor a) => a.With(TExprModule.neg(a.Expr));
    /// <summary>c·A.</summary>
    public static Tensor operator *(double c, Tensor a) => a.With(TExprModule.scale(c, a.Expr));

    /// <summary>Elementwise A ⊙ B (B broadcast like a bias).</summary>
    public Tensor PointwiseMultiply(Tensor b) => Combine(TExprModule.mul(Expr, b.Expr), this, b);
    /// <summary>Elementwise A / B (B broadcast like a bias).</summary>
    public Tensor PointwiseDivide(Tensor b) => Combine(TExprModule.div(Expr, b.Expr), this, b);
    /// <summary>Aᵀ.</summary>
    public Tensor Transpose() => With(TExprModule.transpose(Expr));
    /// <summary>The sum of all elements (1×1).</summary>
    public Tensor SumAll() => With(TExprModule.sumAll(Expr));
    /// <summary>The mean of all elements (1×1).</summary>
    public Tensor MeanAll() => With(TExprModule.meanAll(Expr));
    /// <summary>Sums along an axis.</summary>
    public Tensor Sum(TensorAxis axis) => With(TExprModule.sum(ToF(axis), Expr));
    /// <summary>Means along an axis.</summary>
    public Tensor Mean(TensorAxis axis) => With(TExprModule.mean(ToF(axis), Expr));
    /// <summary>This node with a name, shown in pictures and traces.</summary>
    public Tensor Named(string name) => With(TExprModule.named(name, Expr));

    /// <summary>Elementwise eˣ.</summary>
    public static Tensor Exp(Tensor a) => a.With(TExprModule.exp(a.Expr));
    /// <summary>Elementwise natural logarithm.</summary>
    public static Tensor Log(Tensor a) => a.With(TExprModule.log(a.Expr));
    /// <summary>Elementwise σ.</summary>
    public static Tensor Sigmoid(Tensor a) => a.With(TExprModule.sigmoid(a.Expr));
    /// <summary>Elementwise tanh.</summary>
    public static Tensor Tanh(Tensor a) => a.With(TExprModule.tanh(a.Expr));
    /// <summary>Elementwise max(0, x).</summary>
    public static Tensor Relu(Tensor a) => a.With(TExprModule.relu(a.Expr));
    /// <summary>Softmax along an axis (stable).</summary>
    public static Tensor Softmax(Tensor a, TensorAxis axis) => a.With(TExprModule.softmax(ToF(axis), a.Expr));
    /// <summary>Log-softmax along an axis (stable).</summary>
    public static Tensor LogSoftmax(Tensor a, TensorAxis axis) => a.With(TExprModule.logSoftmax(ToF(axis), a.Expr));

    /// <summary>Binary cross-entropy from logits, averaged over samples; never takes log(0).</summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor logits, Tensor targets, SampleLayout layout) =>
        Combine(TExprModule.bceWithLogits(ToF(layout), logits.Expr, targets.Expr), logits, targets);
    /// <summary>Softmax over the classes and cross-entropy against the targets, averaged over samples.</summary>
    public static Tensor SoftmaxCrossEntropy(Tensor logits, Tensor targets, SampleLayout layout) =>
        Combine(TExprModule.softmaxCrossEntropy(ToF(layout), logits.Expr, targets.Expr), logits, targets);
    /// <summary>½‖a − y‖² summed over outputs, averaged over samples.</summary>
    public static Tensor Quadratic(Tensor predictions, Tensor targets, SampleLayout layout) =>
        Combine(TExprModule.quadratic(ToF(layout), predictions.Expr, targets.Expr), predictions, targets);

    private static FAxis ToF(TensorAxis a) => a == TensorAxis.Rows ? FAxis.Rows : FAxis.Cols;
    private static FLayout ToF(SampleLayout l) => l == SampleLayout.ColumnsAreSamples ? FLayout.ColumnsAreSamples : FLayout.RowsAreSamples;

    private TForward Forward()
    {
        return TGraphModule.forward(TGraphModule.ofExpr(Expr), Bindings.Gather());
    }

    /// <summary>The value, from the variables' bound matrices.</summary>
    public Matrix<double> Value => Forward().Value;

    /// <summary>The forward and backward passes: every node's dvar (dJ/dnode, a matrix of the
    /// node's shape; a non-scalar output is differentiated as the sum of its elements).</summary>
    public TensorGradients Backward() => new(TGraphModule.backward(Forward()));
}

/// <summary>The result of a backward pass over a matrix graph.</summary>
public sealed class TensorGradients
{
    private readonly TBackward result;
    internal TensorGradients(TBackward result) => this.result = result;

    /// <summary>The output's value.</summary>
    public Matrix<double> Value => result.Value;

    /// <summary>dJ/dX for a variable (by name).</summary>
    public Matrix<double> this[string variable] => result.Dvar(variable);

    /// <summary>dJ/dnode for a variable or any node of the graph.</summary>
    public Matrix<double> this[Tensor node]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(node);
            if (node.Expr is TExpr.TVar v) return result.Dvar(v.name);
            var g = result.Forward.Graph;
            for (var i = 0; i < g.Count; i++)
                if (ReferenceEquals(g.Source(i), node.Expr) || ReferenceEquals(g.Node(i), node.Expr))
                    return result.Dvars[i];
            throw new KeyNotFoundException("the node is not part of this graph");
        }
    }
}
