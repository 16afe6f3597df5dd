using Toolkit.Graph;

namespace Toolkit;

/// <summary>
/// A node recorded on a <see cref="Tape"/>: build with the same operators and functions as
/// <see cref="Scalar"/> (a number on either side of an operator is recorded as a constant), read
/// its <see cref="Value"/>, and call <see cref="Backward"/> for every dvar.
/// </summary>
/// <remarks>A small value (the tape and a position), equal to another when both name the same
/// node. <c>default(TapeScalar)</c> names no node; one recorded before its tape was cleared
/// names none any more. Both are refused with a clear error.</remarks>
public readonly struct TapeScalar : IEquatable<TapeScalar>
{
    private readonly Tape tape;
    private readonly int position;
    private readonly int generation;

    internal TapeScalar(Tape tape, int position, int generation)
    {
        this.tape = tape;
        this.position = position;
        this.generation = generation;
    }

    /// <summary>The tape the node is recorded on.</summary>
    /// <exception cref="InvalidOperationException">This is <c>default(TapeScalar)</c>.</exception>
    public Tape Tape => tape ?? throw new InvalidOperationException(NoNode);

    /// <summary>The node's value, computed when it was recorded.</summary>
    /// <exception cref="InvalidOperationException">This is <c>default(TapeScalar)</c>, or its tape was cleared since.</exception>
    public double Value
    {
        get
        {
            CheckThis();
            return tape.ValueAt(position);
        }
    }

    /// <summary>The backward pass from this node: the dvar (d this/d node) of every node recorded
    /// up to it, in one sweep back along the tape.</summary>
    /// <exception cref="InvalidOperationException">This is <c>default(TapeScalar)</c>, or its tape was cleared since.</exception>
    public TapeGradients Backward()
    {
        CheckThis();
        return tape.Backward(position);
    }

    internal int Position => position;
    internal int Generation => generation;

    private const string NoNode = "this TapeScalar is default(TapeScalar), which names no node; record nodes with a Tape's Variable and Constant and the operators";

    private string Cleared => $"this TapeScalar was recorded before its tape was cleared (the tape has been cleared {tape.Generation} times; the node was recorded after {generation}), so it names no node any more";

    private void CheckThis()
    {
        if (tape is null) throw new InvalidOperationException(NoNode);
        if (generation != tape.Generation) throw new InvalidOperationException(Cleared);
    }

    private static void CheckArgument(TapeScalar x, string name)
    {
        if (x.tape is null) throw new ArgumentException(NoNode, name);
        if (x.generation != x.tape.Generation) throw new ArgumentException(x.Cleared, name);
    }

    private static TapeScalar OfUnary(Op op, TapeScalar x)
    {
        CheckArgument(x, nameof(x));
        return x.tape.Record(op, x.position, -1, Rules.unary(((Op.Unary)op).Item, x.tape.ValueAt(x.position)));
    }

    private static TapeScalar OfBinary(Op op, TapeScalar x, TapeScalar y)
    {
        CheckArgument(x, nameof(x));
        CheckArgument(y, nameof(y));
        if (!ReferenceEquals(x.tape, y.tape))
            throw new ArgumentException("the two nodes are recorded on different tapes; a graph is recorded on one tape", nameof(y));
        var tape = x.tape;
        return tape.Record(op, x.position, y.position, Rules.binary(((Op.Binary)op).Item, tape.ValueAt(x.position), tape.ValueAt(y.position)));
    }

    // a number beside a node: a constant on the node's tape
    private static TapeScalar OnTapeOf(TapeScalar node, double value, string name)
    {
        CheckArgument(node, name);
        return node.tape.Constant(value);
    }

    /// <summary>x + y</summary>
    public static TapeScalar operator +(TapeScalar x, TapeScalar y) => OfBinary(Ops.Add, x, y);
    /// <summary>x + y, y recorded as a constant</summary>
    public static TapeScalar operator +(TapeScalar x, double y) => OfBinary(Ops.Add, x, OnTapeOf(x, y, nameof(x)));
    /// <summary>x + y, x recorded as a constant</summary>
    public static TapeScalar operator +(double x, TapeScalar y) => OfBinary(Ops.Add, OnTapeOf(y, x, nameof(y)), y);
    /// <summary>x − y</summary>
    public static TapeScalar operator -(TapeScalar x, TapeScalar y) => OfBinary(Ops.Sub, x, y);
    /// <summary>x − y, y recorded as a constant</summary>
    public static TapeScalar operator -(TapeScalar x, double y) => OfBinary(Ops.Sub, x, OnTapeOf(x, y, nameof(x)));
    /// <summary>x − y, x recorded as a constant</summary>
    public static TapeScalar operator -(double x, TapeScalar y) => OfBinary(Ops.Sub, OnTapeOf(y, x, nameof(y)), y);
    /// <summary>x · y</summary>
    public static TapeScalar operator *(TapeScalar x, TapeScalar y) => OfBinary(Ops.Mul, x, y);
    /// <summary>x · y, y recorded as a constant</summary>
    public static TapeScalar operator *(TapeScalar x, double y) => OfBinary(Ops.Mul, x, OnTapeOf(x, y, nameof(x)));
    /// <summary>x · y, x recorded as a constant</summary>
    public static TapeScalar operator *(double x, TapeScalar y) => OfBinary(Ops.Mul, OnTapeOf(y, x, nameof(y)), y);
    /// <summary>x / y</summary>
    public static TapeScalar operator /(TapeScalar x, TapeScalar y) => OfBinary(Ops.Div, x, y);
    /// <summary>x / y, y recorded as a constant</summary>
    public static TapeScalar operator /(TapeScalar x, double y) => OfBinary(Ops.Div, x, OnTapeOf(x, y, nameof(x)));
    /// <summary>x / y, x recorded as a constant</summary>
    public static TapeScalar operator /(double x, TapeScalar y) => OfBinary(Ops.Div, OnTapeOf(y, x, nameof(y)), y);
    /// <summary>−x</summary>
    public static TapeScalar operator -(TapeScalar x) => OfUnary(Ops.Neg, x);

    /// <summary>x raised to a real power y.</summary>
    public static TapeScalar Pow(TapeScalar x, TapeScalar y) => OfBinary(Ops.Pow, x, y);
    /// <summary>x raised to a real power y, y recorded as a constant.</summary>
    public static TapeScalar Pow(TapeScalar x, double y) => OfBinary(Ops.Pow, x, OnTapeOf(x, y, nameof(x)));
    /// <summary>x raised to an integer power n (defined for negative x).</summary>
    public static TapeScalar Pow(TapeScalar x, int n) => OfUnary(Ops.PowInt(n), x);
    /// <summary>eˣ</summary>
    public static TapeScalar Exp(TapeScalar x) => OfUnary(Ops.Exp, x);
    /// <summary>Natural logarithm.</summary>
    public static TapeScalar Log(TapeScalar x) => OfUnary(Ops.Log, x);
    /// <summary>Square root.</summary>
    public static TapeScalar Sqrt(TapeScalar x) => OfUnary(Ops.Sqrt, x);
    /// <summary>The logistic sigmoid σ(x) = 1 / (1 + e⁻ˣ).</summary>
    public static TapeScalar Sigmoid(TapeScalar x) => OfUnary(Ops.Sigmoid, x);
    /// <summary>Hyperbolic tangent.</summary>
    public static TapeScalar Tanh(TapeScalar x) => OfUnary(Ops.Tanh, x);
    /// <summary>max(0, x).</summary>
    public static TapeScalar Relu(TapeScalar x) => OfUnary(Ops.Relu, x);
    /// <summary>|x|.</summary>
    public static TapeScalar Abs(TapeScalar x) => OfUnary(Ops.Abs, x);
    /// <summary>x for x &gt; 0, <paramref name="slope"/>·x otherwise.</summary>
    public static TapeScalar LeakyRelu(TapeScalar x, double slope = 0.01) => OfUnary(Ops.LeakyRelu(slope), x);
    /// <summary>softplus x = ln(1 + eˣ), a smooth ReLU whose derivative is σ(x).</summary>
    public static TapeScalar Softplus(TapeScalar x) => OfUnary(Ops.Softplus, x);
    /// <summary>ELU: x for x &gt; 0, eˣ − 1 otherwise.</summary>
    public static TapeScalar Elu(TapeScalar x) => OfUnary(Ops.Elu, x);
    /// <summary>GELU: x·Φ(x), Φ the standard normal distribution function.</summary>
    public static TapeScalar Gelu(TapeScalar x) => OfUnary(Ops.Gelu, x);
    /// <summary>Any one-argument function of the toolkit's vocabulary by the name the parser
    /// knows (<c>"softplus"</c>, <c>"leakyrelu"</c> …), as <see cref="Scalar.Call"/>.</summary>
    /// <exception cref="ArgumentException">No function has that name.</exception>
    public static TapeScalar Call(string function, TapeScalar x, double? parameter = null) => OfUnary(Ops.Call(function, parameter), x);
    /// <summary>The larger of x and y.</summary>
    public static TapeScalar Max(TapeScalar x, TapeScalar y) => OfBinary(Ops.Max, x, y);
    /// <summary>The smaller of x and y.</summary>
    public static TapeScalar Min(TapeScalar x, TapeScalar y) => OfBinary(Ops.Min, x, y);

    /// <summary>Whether <paramref name="other"/> names the same node of the same tape.</summary>
    public bool Equals(TapeScalar other) => ReferenceEquals(tape, other.tape) && position == other.position && generation == other.generation;
    /// <inheritdoc cref="Equals(TapeScalar)"/>
    public override bool Equals(object? obj) => obj is TapeScalar other && Equals(other);
    /// <summary>A hash of the node's identity.</summary>
    public override int GetHashCode() => HashCode.Combine(tape is null ? 0 : System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(tape), position, generation);
    /// <summary>The node's position on its tape and its value (<c>node 12 = 0.75</c>).</summary>
    public override string ToString() =>
        tape is null ? "default(TapeScalar)"
        : generation != tape.Generation ? $"node {position} of a cleared tape"
        : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"node {position} = {tape.ValueAt(position):R}");
}
