using Microsoft.FSharp.Core;
using Toolkit.Graph;

namespace Toolkit;

/// <summary>
/// A node of a scalar computation graph, as C# sees it: build expressions with operators and
/// the static functions, then ask for the value, every node's dvar, symbolic derivatives, a
/// gradient check, a step-by-step explanation or a picture.
/// </summary>
/// <example>
/// <code>
/// var a = Scalar.Variable("a", 5); var b = Scalar.Variable("b", 3); var c = Scalar.Variable("c", 2);
/// var J = 3 * (a + b * c);
/// var g = J.Backward();        // g[a] == 3, g[b] == 6, g[c] == 9
/// J.Derivative(b).ToString();  // "3 * c"
/// </code>
/// </example>
public sealed class Scalar
{
    internal Expr Expr { get; }

    /// <summary>The values bound to variables when they were created with
    /// <see cref="Variable(string, double)"/>, carried along by every operation.</summary>
    internal Bindings<double> Bindings { get; }

    internal Scalar(Expr expr, Bindings<double> bindings)
    {
        Expr = expr;
        Bindings = bindings;
    }

    private static Scalar Combine(Expr expr, Scalar x, Scalar y) => new(expr, Bindings<double>.Join(x.Bindings, y.Bindings));

    private Scalar With(Expr expr) => new(expr, Bindings);

    /// <summary>An input variable with a value.</summary>
    public static Scalar Variable(string name, double value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new Scalar(Expr.NewVar(name), Bindings<double>.Of(name, value));
    }

    /// <summary>An input variable without a value: give it one when evaluating
    /// (<see cref="Evaluate(IReadOnlyDictionary{string, double})"/>, <see cref="Backward(IReadOnlyDictionary{string, double})"/>).</summary>
    public static Scalar Variable(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new Scalar(Expr.NewVar(name), Bindings<double>.Empty);
    }

    /// <summary>A constant.</summary>
    public static Scalar Constant(double value) => new(Expr.NewConst(value), Bindings<double>.Empty);

    /// <summary>
    /// Reads an expression or a program in ordinary notation: <c>3*(a + b*c)</c>, or statements
    /// that name intermediate nodes, <c>u = b*c; v = a + u; J = 3*v</c> (the last is the output).
    /// </summary>
    /// <exception cref="ParseException">The text is not valid; the exception gives the line and column.</exception>
    public static Scalar Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new Scalar(Toolkit.Graph.Parse.program(text), Bindings<double>.Empty);
    }

    /// <summary>A constant, so that <c>3 * x</c> works.</summary>
    public static implicit operator Scalar(double value) => Constant(value);

    /// <summary>x + y</summary>
    public static Scalar operator +(Scalar x, Scalar y) => Combine(Expr.NewBinary(BinaryOp.Add, x.Expr, y.Expr), x, y);
    /// <summary>x − y</summary>
    public static Scalar operator -(Scalar x, Scalar y) => Combine(Expr.NewBinary(BinaryOp.Sub, x.Expr, y.Expr), x, y);
    /// <summary>x · y</summary>
    public static Scalar operator *(Scalar x, Scalar y) => Combine(Expr.NewBinary(BinaryOp.Mul, x.Expr, y.Expr), x, y);
    /// <summary>x / y</summary>
    public static Scalar operator /(Scalar x, Scalar y) => Combine(Expr.NewBinary(BinaryOp.Div, x.Expr, y.Expr), x, y);
    /// <summary>−x</summary>
    public static Scalar operator -(Scalar x) => x.With(Expr.NewUnary(UnaryOp.Neg, x.Expr));

    /// <summary>x raised to a real power y.</summary>
    public static Scalar Pow(Scalar x, Scalar y) => Combine(Expr.NewBinary(BinaryOp.Pow, x.Expr, y.Expr), x, y);
    /// <summary>x raised to an integer power n (defined for negative x).</summary>
    public static Scalar Pow(Scalar x, int n) => x.With(Expr.NewUnary(UnaryOp.NewPowInt(n), x.Expr));
    /// <summary>eˣ</summary>
    public static Scalar Exp(Scalar x) => x.With(Expr.NewUnary(UnaryOp.Exp, x.Expr));
    /// <summary>Natural logarithm.</summary>
    public static Scalar Log(Scalar x) => x.With(Expr.NewUnary(UnaryOp.Log, x.Expr));
    /// <summary>Square root.</summary>
    public static Scalar Sqrt(Scalar x) => x.With(Expr.NewUnary(UnaryOp.Sqrt, x.Expr));
    /// <summary>The logistic sigmoid σ(x) = 1 / (1 + e⁻ˣ).</summary>
    public static Scalar Sigmoid(Scalar x) => x.With(Expr.NewUnary(UnaryOp.Sigmoid, x.Expr));
    /// <summary>Hyperbolic tangent.</summary>
    public static Scalar Tanh(Scalar x) => x.With(Expr.NewUnary(UnaryOp.Tanh, x.Expr));
    /// <summary>max(0, x).</summary>
    public static Scalar Relu(Scalar x) => x.With(Expr.NewUnary(UnaryOp.Relu, x.Expr));
    /// <summary>|x|.</summary>
    public static Scalar Abs(Scalar x) => x.With(Expr.NewUnary(UnaryOp.Abs, x.Expr));
    /// <summary>x for x &gt; 0, <paramref name="slope"/>·x otherwise.</summary>
    public static Scalar LeakyRelu(Scalar x, double slope = 0.01) => x.With(Expr.NewUnary(UnaryOp.NewLeakyRelu(slope), x.Expr));
    /// <summary>softplus x = ln(1 + eˣ), a smooth ReLU whose derivative is σ(x).</summary>
    public static Scalar Softplus(Scalar x) => x.With(Expr.NewUnary(UnaryOp.Softplus, x.Expr));
    /// <summary>ELU: x for x &gt; 0, eˣ − 1 otherwise.</summary>
    public static Scalar Elu(Scalar x) => x.With(Expr.NewUnary(UnaryOp.Elu, x.Expr));
    /// <summary>GELU: x·Φ(x), Φ the standard normal distribution function.</summary>
    public static Scalar Gelu(Scalar x) => x.With(Expr.NewUnary(UnaryOp.Gelu, x.Expr));

    /// <summary>Any one-argument function of the toolkit's vocabulary by the name the parser
    /// knows (<c>"softplus"</c>, <c>"leakyrelu"</c> …), so an op added to the core is usable
    /// from C# at once.</summary>
    /// <param name="function">The function's name.</param>
    /// <param name="x">Its argument.</param>
    /// <param name="parameter">The op's parameter, for an op that has one (the leaky ReLU's slope).</param>
    /// <exception cref="ArgumentException">No function has that name.</exception>
    public static Scalar Call(string function, Scalar x, double? parameter = null)
    {
        ArgumentNullException.ThrowIfNull(function);
        if (!Rules.callable.TryGetValue(function, out var make))
            throw new ArgumentException($"unknown function '{function}' (known: {string.Join(", ", Rules.callable.Keys.Order())})", nameof(function));
        var op = make.Invoke(parameter.HasValue ? FSharpOption<double>.Some(parameter.Value) : FSharpOption<double>.None);
        return x.With(Expr.NewUnary(op, x.Expr));
    }
    /// <summary>The larger of x and y.</summary>
    public static Scalar Max(Scalar x, Scalar y) => Combine(Expr.NewBinary(BinaryOp.Max, x.Expr, y.Expr), x, y);
    /// <summary>The smaller of x and y.</summary>
    public static Scalar Min(Scalar x, Scalar y) => Combine(Expr.NewBinary(BinaryOp.Min, x.Expr, y.Expr), x, y);

    /// <summary>This node with a name (<c>(b * c).Named("u")</c>), shown in every printout,
    /// explanation and picture.</summary>
    public Scalar Named(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return With(Expr.NewNamed(name, Expr));
    }

    /// <summary>The node's name, or null.</summary>
    public string? Name => Expr switch
    {
        Expr.Named n => n.name,
        Expr.Var v => v.name,
        _ => null,
    };

    /// <summary>The variables the expression uses, in the order they are first reached.</summary>
    public IReadOnlyList<string> Variables => Toolkit.Graph.GraphModule.ofExpr(Expr).Variables;

    // the bound values, gathered once per evaluation; values given to the call override them
    private IReadOnlyDictionary<string, double> Env(IReadOnlyDictionary<string, double>? values)
    {
        var env = Bindings.Gather();
        if (values is not null)
            foreach (var (k, v) in values) env[k] = v;
        return env;
    }

    private Forward ForwardPass(IReadOnlyDictionary<string, double>? values)
    {
        return Eval.forward(Toolkit.Graph.GraphModule.ofExpr(Expr), Env(values));
    }

    /// <summary>The value, from the variables' bound values.</summary>
    /// <exception cref="UnboundVariableException">A variable has no value (an ArgumentException).</exception>
    public double Value => ForwardPass(null).Value;

    /// <summary>The value, with <paramref name="values"/> given for (or overriding) variables.</summary>
    public double Evaluate(IReadOnlyDictionary<string, double> values) => ForwardPass(values).Value;

    /// <summary>The forward and backward passes: the value and every node's dvar.</summary>
    public Gradients Backward() => new(Eval.backward(ForwardPass(null)));

    /// <summary>The forward and backward passes with <paramref name="values"/> for the variables.</summary>
    public Gradients Backward(IReadOnlyDictionary<string, double> values) => new(Eval.backward(ForwardPass(values)));

    /// <summary>The directional derivative by forward mode (dual numbers): ∇f · direction.</summary>
    public double DirectionalDerivative(IReadOnlyDictionary<string, double> direction) =>
        Eval.directional(ForwardPass(null), direction);

    /// <summary>The symbolic derivative d(this)/d(variable), simplified; named intermediate
    /// nodes appear by name.</summary>
    public Scalar Derivative(Scalar variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        if (variable.Expr is not Expr.Var v)
            throw new ArgumentException($"Derivative needs a variable, not '{variable}'", nameof(variable));
        return Derivative(v.name);
    }

    /// <summary>The symbolic derivative d(this)/d(variable), by the variable's name.</summary>
    public Scalar Derivative(string variable) => With(Symbolic.derivative(Expr, variable));

    /// <summary>The Hessian ∂²f/∂xᵢ∂xⱼ at the bound values, rows and columns in <see cref="Variables"/> order.</summary>
    public double[,] Hessian() => Symbolic.hessian(Expr, Env(null)).Item2;

    /// <summary>Checks every dvar against central finite differences and every node's local
    /// derivative rule against differences of its own operation.</summary>
    public GradientCheckReport CheckGradient(double tolerance = 1e-6) =>
        new(Numeric.check(tolerance, Toolkit.Graph.GraphModule.ofExpr(Expr), Env(null)));

    /// <summary>The forward and backward passes, step by step in the notes' notation.</summary>
    public string Explain() => Toolkit.Graph.Explain.text(Backward().Result);

    /// <summary>The graph with values and dvars as Graphviz DOT.</summary>
    public string ToDot() => Render.dot(Backward().Result);
    /// <summary>The graph with values and dvars as a Mermaid flowchart.</summary>
    public string ToMermaid() => Render.mermaid(Backward().Result);
    /// <summary>The graph with values and dvars as a self-contained SVG.</summary>
    public string ToSvg() => Render.svg(Backward().Result);

    /// <summary>The expression as text (named nodes by name); <see cref="Parse"/> reads it back.</summary>
    public override string ToString() => Print.text(Expr);
    /// <summary>The expression with every named node written out.</summary>
    public string ToInlineString() => Print.inlineText(Expr);
    /// <summary>The expression as LaTeX.</summary>
    public string ToLatex() => Print.latex(Expr);
    /// <summary>The whole program, one statement per named node (<c>u = b * c; v = a + u; J = 3 * v</c>).</summary>
    public string ToProgram() => Print.program(Expr);
}
