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
    // A node of the graph as the operators build it: what it computes and from which nodes. The
    // graph is laid out for a pass (Backward, Evaluate) by one walk over these objects into the
    // core's GraphBuilder tape, with no hashing; the core's expression (for printing, symbolic
    // derivatives, pictures) is made only when asked for.
    private enum Kind : byte { Const, Var, Unary, Binary, Named }

    private readonly Kind kind;
    private readonly UnaryOp? unaryOp;
    private readonly BinaryOp? binaryOp;
    private readonly Scalar? a, b;
    private readonly string? name;      // a variable's or a named node's
    private readonly double value;      // a constant's, or a variable's bound value
    private readonly bool bound;        // a variable created with a value
    private Expr? expr;
    // which layout placed this node last, and where: (stamp << 32) | position, read and written
    // as one value so a reader never pairs one layout's stamp with another's position
    private long placed;

    private Scalar(Kind kind, UnaryOp? unaryOp, BinaryOp? binaryOp, Scalar? a, Scalar? b, string? name, double value, bool bound)
    {
        this.kind = kind; this.unaryOp = unaryOp; this.binaryOp = binaryOp;
        this.a = a; this.b = b; this.name = name; this.value = value; this.bound = bound;
    }

    private static Scalar OfUnary(UnaryOp op, Scalar x) => new(Kind.Unary, op, null, x, null, null, 0, false);
    private static Scalar OfBinary(BinaryOp op, Scalar x, Scalar y) => new(Kind.Binary, null, op, x, y, null, 0, false);

    /// <summary>The core's expression for this node, made when first asked for and kept (nodes
    /// shared in the graph are shared in the expression); built without recursion.</summary>
    internal Expr Expr
    {
        get
        {
            if (expr is not null) return expr;
            var stack = new Stack<(Scalar Node, bool Ready)>();
            stack.Push((this, false));
            while (stack.Count > 0)
            {
                var (n, ready) = stack.Pop();
                if (n.expr is not null) continue;
                if (!ready && n.kind is Kind.Unary or Kind.Binary or Kind.Named)
                {
                    stack.Push((n, true));
                    if (n.b is not null && n.b.expr is null) stack.Push((n.b, false));
                    if (n.a!.expr is null) stack.Push((n.a, false));
                    continue;
                }
                n.expr = n.kind switch
                {
                    Kind.Const => Expr.NewConst(n.value),
                    Kind.Var => Expr.NewVar(n.name),
                    Kind.Unary => Expr.NewUnary(n.unaryOp, n.a!.expr),
                    Kind.Binary => Expr.NewBinary(n.binaryOp, n.a!.expr, n.b!.expr),
                    _ => Expr.NewNamed(n.name, n.a!.expr),
                };
            }
            return expr!;
        }
    }

    /// <summary>The nodes of a core expression as Scalars (shared where it shares), its
    /// variables bound to <paramref name="values"/> where they have one.</summary>
    private static Scalar FromExpr(Expr root, IReadOnlyDictionary<string, double>? values)
    {
        var made = new Dictionary<Expr, Scalar>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Expr Node, bool Ready)>();
        stack.Push((root, false));
        while (stack.Count > 0)
        {
            var (e, ready) = stack.Pop();
            if (made.ContainsKey(e)) continue;
            var children = Toolkit.Graph.ExprModule.children(e);
            if (!ready && !children.IsEmpty)
            {
                stack.Push((e, true));
                foreach (var c in children.Reverse()) if (!made.ContainsKey(c)) stack.Push((c, false));
                continue;
            }
            var s = e switch
            {
                Expr.Const c => Constant(c.value),
                Expr.Var v => values is not null && values.TryGetValue(v.name, out var x) ? new Scalar(Kind.Var, null, null, null, null, v.name, x, true)
                              : new Scalar(Kind.Var, null, null, null, null, v.name, 0, false),
                Expr.Unary u => OfUnary(u.op, made[u.arg]),
                Expr.Binary bi => OfBinary(bi.op, made[bi.left], made[bi.right]),
                Expr.Named nm => new Scalar(Kind.Named, null, null, made[nm.body], null, nm.name, 0, false),
                _ => throw new InvalidOperationException("an expression node of an unknown kind"),
            };
            s.expr = e;
            made[e] = s;
        }
        return made[root];
    }

    private static readonly object layoutLock = new();
    private static int lastStamp;

    /// <summary>This graph laid out for the core's passes: one post-order walk (no recursion, no
    /// hashing: each node records the layout that placed it) recording every distinct node once
    /// on a GraphBuilder tape, and the bound values gathered. Returns the stamp of the layout, by
    /// which a node's position can be read back.</summary>
    /// <exception cref="ArgumentException">One variable name is bound to two different values.</exception>
    private (Toolkit.Graph.Graph Graph, Dictionary<string, double> Env, int Stamp) Layout()
    {
        var builder = new GraphBuilder(256);
        var env = new Dictionary<string, double>();
        int stamp, output;
        // layouts write their marks into the nodes: one at a time, so graphs shared between
        // threads are laid out correctly (the passes themselves run outside the lock)
        lock (layoutLock)
        {
            stamp = ++lastStamp;
            var stack = new Stack<(Scalar Node, bool Ready)>();
            stack.Push((this, false));
            while (stack.Count > 0)
            {
                var (n, ready) = stack.Pop();
                if ((int)(n.placed >> 32) == stamp) continue;
                if (!ready && n.kind is Kind.Unary or Kind.Binary or Kind.Named)
                {
                    stack.Push((n, true));
                    if (n.b is not null && (int)(n.b.placed >> 32) != stamp) stack.Push((n.b, false));
                    if ((int)(n.a!.placed >> 32) != stamp) stack.Push((n.a, false));
                    continue;
                }
                int position;
                switch (n.kind)
                {
                    case Kind.Const: position = builder.Const(n.value); break;
                    case Kind.Var:
                        position = builder.Var(n.name);
                        if (n.bound)
                        {
                            if (env.TryGetValue(n.name!, out var other) && !other.Equals(n.value))
                                throw new ArgumentException($"variable '{n.name}' is bound to two different values; use one Variable per name");
                            env[n.name!] = n.value;
                        }
                        break;
                    case Kind.Unary: position = builder.Unary(n.unaryOp, (int)n.a!.placed); break;
                    case Kind.Binary: position = builder.Binary(n.binaryOp, (int)n.a!.placed, (int)n.b!.placed); break;
                    default:
                        // a name is the node's: the named node is its body's position
                        position = (int)n.a!.placed;
                        if (n.a.kind != Kind.Var) builder.Name(position, n.name);
                        break;
                }
                n.placed = ((long)stamp << 32) | (uint)position;
            }
            output = (int)placed;
        }
        return (builder.Build(output), env, stamp);
    }

    /// <summary>Where a node of this graph sits in the layout with the given stamp, or null if
    /// it is not a node of this graph.</summary>
    internal int? PositionOf(Scalar node, int stamp)
    {
        var mark = node.placed;
        if ((int)(mark >> 32) == stamp) return (int)mark;
        // laid out again since (another pass on a shared node): the walk is the same, so the
        // positions are too
        var (_, _, again) = Layout();
        mark = node.placed;
        return (int)(mark >> 32) == again ? (int)mark : null;
    }

    /// <summary>An input variable with a value.</summary>
    public static Scalar Variable(string name, double value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new Scalar(Kind.Var, null, null, null, null, name, value, true);
    }

    /// <summary>An input variable without a value: give it one when evaluating
    /// (<see cref="Evaluate(IReadOnlyDictionary{string, double})"/>, <see cref="Backward(IReadOnlyDictionary{string, double})"/>).</summary>
    public static Scalar Variable(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new Scalar(Kind.Var, null, null, null, null, name, 0, false);
    }

    /// <summary>A constant.</summary>
    public static Scalar Constant(double value) => new(Kind.Const, null, null, null, null, null, value, false);

    /// <summary>
    /// Reads an expression or a program in ordinary notation: <c>3*(a + b*c)</c>, or statements
    /// that name intermediate nodes, <c>u = b*c; v = a + u; J = 3*v</c> (the last is the output).
    /// </summary>
    /// <exception cref="ParseException">The text is not valid; the exception gives the line and column.</exception>
    public static Scalar Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return FromExpr(Toolkit.Graph.Parse.program(text), null);
    }

    /// <summary>A constant, so that <c>3 * x</c> works.</summary>
    public static implicit operator Scalar(double value) => Constant(value);

    /// <summary>x + y</summary>
    public static Scalar operator +(Scalar x, Scalar y) => OfBinary(BinaryOp.Add, x, y);
    /// <summary>x − y</summary>
    public static Scalar operator -(Scalar x, Scalar y) => OfBinary(BinaryOp.Sub, x, y);
    /// <summary>x · y</summary>
    public static Scalar operator *(Scalar x, Scalar y) => OfBinary(BinaryOp.Mul, x, y);
    /// <summary>x / y</summary>
    public static Scalar operator /(Scalar x, Scalar y) => OfBinary(BinaryOp.Div, x, y);
    /// <summary>−x</summary>
    public static Scalar operator -(Scalar x) => OfUnary(UnaryOp.Neg, x);

    /// <summary>x raised to a real power y.</summary>
    public static Scalar Pow(Scalar x, Scalar y) => OfBinary(BinaryOp.Pow, x, y);
    /// <summary>x raised to an integer power n (defined for negative x).</summary>
    public static Scalar Pow(Scalar x, int n) => OfUnary(UnaryOp.NewPowInt(n), x);
    /// <summary>eˣ</summary>
    public static Scalar Exp(Scalar x) => OfUnary(UnaryOp.Exp, x);
    /// <summary>Natural logarithm.</summary>
    public static Scalar Log(Scalar x) => OfUnary(UnaryOp.Log, x);
    /// <summary>Square root.</summary>
    public static Scalar Sqrt(Scalar x) => OfUnary(UnaryOp.Sqrt, x);
    /// <summary>The logistic sigmoid σ(x) = 1 / (1 + e⁻ˣ).</summary>
    public static Scalar Sigmoid(Scalar x) => OfUnary(UnaryOp.Sigmoid, x);
    /// <summary>Hyperbolic tangent.</summary>
    public static Scalar Tanh(Scalar x) => OfUnary(UnaryOp.Tanh, x);
    /// <summary>max(0, x).</summary>
    public static Scalar Relu(Scalar x) => OfUnary(UnaryOp.Relu, x);
    /// <summary>|x|.</summary>
    public static Scalar Abs(Scalar x) => OfUnary(UnaryOp.Abs, x);
    /// <summary>x for x &gt; 0, <paramref name="slope"/>·x otherwise.</summary>
    public static Scalar LeakyRelu(Scalar x, double slope = 0.01) => OfUnary(UnaryOp.NewLeakyRelu(slope), x);
    /// <summary>softplus x = ln(1 + eˣ), a smooth ReLU whose derivative is σ(x).</summary>
    public static Scalar Softplus(Scalar x) => OfUnary(UnaryOp.Softplus, x);
    /// <summary>ELU: x for x &gt; 0, eˣ − 1 otherwise.</summary>
    public static Scalar Elu(Scalar x) => OfUnary(UnaryOp.Elu, x);
    /// <summary>GELU: x·Φ(x), Φ the standard normal distribution function.</summary>
    public static Scalar Gelu(Scalar x) => OfUnary(UnaryOp.Gelu, x);

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
        return OfUnary(op, x);
    }
    /// <summary>The larger of x and y.</summary>
    public static Scalar Max(Scalar x, Scalar y) => OfBinary(BinaryOp.Max, x, y);
    /// <summary>The smaller of x and y.</summary>
    public static Scalar Min(Scalar x, Scalar y) => OfBinary(BinaryOp.Min, x, y);

    /// <summary>This node with a name (<c>(b * c).Named("u")</c>), shown in every printout,
    /// explanation and picture.</summary>
    public Scalar Named(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new Scalar(Kind.Named, null, null, this, null, name, 0, false);
    }

    /// <summary>The variable's name when this node is a variable, else null.</summary>
    internal string? VariableName => kind == Kind.Var ? name : null;

    /// <summary>The node's name, or null.</summary>
    public string? Name => kind is Kind.Named or Kind.Var ? name : null;

    /// <summary>The variables the expression uses, in the order they are first reached.</summary>
    public IReadOnlyList<string> Variables => Layout().Graph.Variables;

    // the bound values, gathered in the layout; values given to the call override them
    private (Toolkit.Graph.Graph Graph, IReadOnlyDictionary<string, double> Env, int Stamp) Prepare(IReadOnlyDictionary<string, double>? values)
    {
        var (graph, env, stamp) = Layout();
        if (values is not null)
            foreach (var (k, v) in values) env[k] = v;
        return (graph, env, stamp);
    }

    private Forward ForwardPass(IReadOnlyDictionary<string, double>? values)
    {
        var (graph, env, _) = Prepare(values);
        return Eval.forward(graph, env);
    }

    private Gradients BackwardPass(IReadOnlyDictionary<string, double>? values)
    {
        var (graph, env, stamp) = Prepare(values);
        return new Gradients(Eval.backward(Eval.forward(graph, env)), this, stamp);
    }

    /// <summary>The value, from the variables' bound values.</summary>
    /// <exception cref="UnboundVariableException">A variable has no value (an ArgumentException).</exception>
    public double Value => ForwardPass(null).Value;

    /// <summary>The value, with <paramref name="values"/> given for (or overriding) variables.</summary>
    public double Evaluate(IReadOnlyDictionary<string, double> values) => ForwardPass(values).Value;

    /// <summary>The forward and backward passes: the value and every node's dvar.</summary>
    public Gradients Backward() => BackwardPass(null);

    /// <summary>The forward and backward passes with <paramref name="values"/> for the variables.</summary>
    public Gradients Backward(IReadOnlyDictionary<string, double> values) => BackwardPass(values);

    /// <summary>The directional derivative by forward mode (dual numbers): ∇f · direction.</summary>
    public double DirectionalDerivative(IReadOnlyDictionary<string, double> direction) =>
        Eval.directional(ForwardPass(null), direction);

    /// <summary>The symbolic derivative d(this)/d(variable), simplified; named intermediate
    /// nodes appear by name.</summary>
    public Scalar Derivative(Scalar variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        if (variable.kind != Kind.Var)
            throw new ArgumentException($"Derivative needs a variable, not '{variable}'", nameof(variable));
        return Derivative(variable.name!);
    }

    /// <summary>The symbolic derivative d(this)/d(variable), by the variable's name.</summary>
    public Scalar Derivative(string variable) => FromExpr(Symbolic.derivative(Expr, variable), Prepare(null).Env);

    /// <summary>The Hessian ∂²f/∂xᵢ∂xⱼ at the bound values, rows and columns in <see cref="Variables"/> order.</summary>
    public double[,] Hessian() => Symbolic.hessian(Expr, Prepare(null).Env).Item2;

    /// <summary>Checks every dvar against central finite differences and every node's local
    /// derivative rule against differences of its own operation.</summary>
    public GradientCheckReport CheckGradient(double tolerance = 1e-6) => CheckGradientAt(tolerance);

    private GradientCheckReport CheckGradientAt(double tolerance)
    {
        var (graph, env, _) = Prepare(null);
        return new(Numeric.check(tolerance, graph, env));
    }

    /// <summary>The forward and backward passes, step by step in the notes' notation.</summary>
    public string Explain() => Toolkit.Graph.Explain.text(Backward().Result);

    /// <summary>The graph with values and dvars as Graphviz DOT.</summary>
    public string ToDot() => Render.dot(Backward().Result);
    /// <summary>The graph with values and dvars as a Mermaid flowchart.</summary>
    public string ToMermaid() => Render.mermaid(Backward().Result);
    /// <summary>The graph with values and dvars as a self-contained SVG.</summary>
    public string ToSvg() => Render.svg(Backward().Result);

    /// <summary>Writes the expression as an ONNX model: a float32 scalar input per variable (by its
    /// name), and the outputs "value" and "gradient" (the derivatives in <see cref="Variables"/>
    /// order), for ONNX Runtime and other ONNX readers.</summary>
    public void SaveOnnx(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        Toolkit.Onnx.Onnx.saveExpr(path, Expr);
    }

    /// <summary>The expression as text (named nodes by name); <see cref="Parse"/> reads it back.</summary>
    public override string ToString() => Print.text(Expr);
    /// <summary>The expression with every named node written out.</summary>
    public string ToInlineString() => Print.inlineText(Expr);
    /// <summary>The expression as LaTeX.</summary>
    public string ToLatex() => Print.latex(Expr);
    /// <summary>The whole program, one statement per named node (<c>u = b * c; v = a + u; J = 3 * v</c>).</summary>
    public string ToProgram() => Print.program(Expr);
}
