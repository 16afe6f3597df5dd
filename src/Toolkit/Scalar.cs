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
    // A node of the graph as the operators build it: what it computes, from which nodes, and
    // its value when every variable below it is bound (computed as the node is made, as
    // micrograd does, by the core's own rules). Backward lays the graph out by one walk over
    // these objects straight into the core's arrays, with no hashing but a variable's name; the
    // core's expression (for printing, symbolic derivatives, pictures) is made only when asked.
    // Var: one node per name; Unnamed: a variable made without a name, one node per object
    private enum Kind : byte { Const, Var, Unnamed, Unary, Binary, Named }

    // Small, as a graph has millions of them: 64 bytes with the object's header.
    private readonly Kind kind;
    private readonly bool known;        // value is the node's forward value
    // what the node computes; a named node, which computes nothing of its own, keeps its name
    // here in an Op.Var (a variable's name is in its Op.Var too). An unnamed variable has none
    // until a name is first asked for (NameUnnamed): a backward pass does not need one.
    private Op? op;
    private readonly Scalar? a, b;
    private readonly double value;
    // which layout placed this node last, and where: (stamp << 32) | position, read and written
    // as one value so a reader never pairs one layout's stamp with another's position
    private long placed;

    private Scalar(Kind kind, Op? op, Scalar? a, Scalar? b, double value, bool known)
    {
        this.kind = kind; this.op = op; this.a = a; this.b = b; this.value = value; this.known = known;
    }

    // a variable's or a named node's name
    private string? name => (op ?? NameUnnamed()) is Op.Var v ? v.name : null;

    // an unnamed variable's name, θ1, θ2, … in the order names are first asked for, made once
    // (two threads asking at once agree on the first one made)
    private Op NameUnnamed()
    {
        var k = Interlocked.Increment(ref lastUnnamed);
        var made = Op.NewVar(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"θ{k}"));
        return Interlocked.CompareExchange(ref op, made, null) ?? made;
    }

    // what the backward sweep dispatches on for every unnamed variable (it reads no name)
    private static readonly Op Unnamed = Op.NewVar("θ");

    private static Scalar OfUnary(Op op, Scalar x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var known = x.known;
        return new(Kind.Unary, op, x, null, known ? Rules.unary(((Op.Unary)op).Item, x.value) : 0, known);
    }

    private static Scalar OfBinary(Op op, Scalar x, Scalar y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        var known = x.known && y.known;
        return new(Kind.Binary, op, x, y, known ? Rules.binary(((Op.Binary)op).Item, x.value, y.value) : 0, known);
    }

    private static Scalar OfVariable(string name, double value, bool bound) => new(Kind.Var, Op.NewVar(name), null, null, value, bound);

    private static long lastUnnamed;

    /// <summary>The core's expression for this node, made each time it is asked for (nodes
    /// shared in the graph are shared in the expression); built without recursion.</summary>
    internal Expr Expr
    {
        get
        {
            var made = new Dictionary<Scalar, Expr>(ReferenceEqualityComparer.Instance);
            var stack = new Stack<(Scalar Node, bool Ready)>();
            stack.Push((this, false));
            while (stack.Count > 0)
            {
                var (n, ready) = stack.Pop();
                if (made.ContainsKey(n)) continue;
                if (!ready && n.kind is Kind.Unary or Kind.Binary or Kind.Named)
                {
                    stack.Push((n, true));
                    if (n.b is not null && !made.ContainsKey(n.b)) stack.Push((n.b, false));
                    if (!made.ContainsKey(n.a!)) stack.Push((n.a!, false));
                    continue;
                }
                made[n] = n.kind switch
                {
                    Kind.Const => Expr.NewConst(n.value),
                    Kind.Var or Kind.Unnamed => Expr.NewVar(n.name),
                    Kind.Unary => Expr.NewUnary(((Op.Unary)n.op!).Item, made[n.a!]),
                    Kind.Binary => Expr.NewBinary(((Op.Binary)n.op!).Item, made[n.a!], made[n.b!]),
                    _ => Expr.NewNamed(n.name, made[n.a!]),
                };
            }
            return made[this];
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
                Expr.Var v => values is not null && values.TryGetValue(v.name, out var x) ? OfVariable(v.name, x, true) : OfVariable(v.name, 0, false),
                Expr.Unary u => OfUnary(Op.NewUnary(u.op), made[u.arg]),
                Expr.Binary bi => OfBinary(Op.NewBinary(bi.op), made[bi.left], made[bi.right]),
                Expr.Named nm => made[nm.body].Named(nm.name),
                _ => throw new InvalidOperationException("an expression node of an unknown kind"),
            };
            made[e] = s;
        }
        return made[root];
    }

    private static readonly object layoutLock = new();
    private static int lastStamp;
    // the node count of the last layout on this thread: the next one's arrays start that size
    [ThreadStatic] private static int lastCount;

    /// <summary>A graph laid out: the core's graph (when laid out with names), the arrays the
    /// backward sweep reads, the bound variables' values (when asked for), every node's value
    /// (when all variables are bound), the stamp by which a node's position can be read back,
    /// and the position of the node asked for (if any).</summary>
    private sealed record Layouts(Toolkit.Graph.Graph? Graph, Op[] Ops, int[] Arg0, int[] Arg1, Dictionary<string, double>? Env, double[]? Values, int Stamp, int? Found);

    private static void Grow<T>(ref T[] items)
    {
        var bigger = System.Buffers.ArrayPool<T>.Shared.Rent(2 * items.Length);
        Array.Copy(items, bigger, items.Length);
        System.Buffers.ArrayPool<T>.Shared.Return(items, clearArray: true);
        items = bigger;
    }

    /// <summary>This graph laid out for the core's passes. One post-order walk (no recursion, no
    /// hashing but a variable's name: each node records the layout that placed it) finds every
    /// distinct node once, in the order it finishes them, which is topological, and writes the
    /// arrays the core's sweep reads as it finishes each; with names, a second pass writes the
    /// names and the bound values by name.</summary>
    /// <param name="withEnv">Gather the bound variables' values by name.</param>
    /// <param name="find">A node whose position to report (<c>Found</c>; null if it is not in the graph).</param>
    /// <param name="named">Make the core's graph, with every variable's name (unnamed ones get
    /// theirs); without it, only the arrays the backward sweep reads.</param>
    /// <exception cref="ArgumentException">One variable name is bound to two different values.</exception>
    private Layouts Layout(bool withEnv, Scalar? find = null, bool named = true)
    {
        named |= withEnv;
        var pool = System.Buffers.ArrayPool<Scalar>.Shared;
        var stack = pool.Rent(256);
        // the nodes in order, for the pass that writes names and values by name
        var order = named ? pool.Rent(256) : null;
        var variables = new Dictionary<string, Scalar>();
        List<(int Position, string Name)>? namedNodes = null;
        int count = 0;
        // the arrays the sweep reads, written as the walk finishes each node (its arguments are
        // placed by then), sized as the last layout on this thread was, then cut to the count
        var capacity = Math.Max(16, lastCount);
        var ops = new Op[capacity];
        var arg0 = GC.AllocateUninitializedArray<int>(capacity);
        var arg1 = GC.AllocateUninitializedArray<int>(capacity);
        var values = known ? GC.AllocateUninitializedArray<double>(capacity) : null;
        try
        {
            // layouts write their marks into the nodes and read them back: one at a time, so
            // graphs shared between threads are laid out correctly (the core's passes run outside
            // the lock)
            lock (layoutLock)
            {
                var stamp = ++lastStamp;
                int top = 0;
                stack[top++] = this;
                while (top > 0)
                {
                    var n = stack[top - 1];
                    if ((int)(n.placed >> 32) == stamp) { top--; continue; }
                    // the arguments first (a before b); the node is finished when both are placed
                    var ready = true;
                    if (n.b is { } b && (int)(b.placed >> 32) != stamp)
                    {
                        if (top == stack.Length) Grow(ref stack);
                        stack[top++] = b;
                        ready = false;
                    }
                    if (n.a is { } a && (int)(a.placed >> 32) != stamp)
                    {
                        if (top == stack.Length) Grow(ref stack);
                        stack[top++] = a;
                        ready = false;
                    }
                    if (!ready) continue;
                    top--;
                    int position;
                    if (n.kind == Kind.Named)
                    {
                        // a name is the node's: the named node is its body's position
                        position = (int)n.a!.placed;
                        if (n.a.kind is not (Kind.Var or Kind.Unnamed)) (namedNodes ??= new()).Add((position, n.name!));
                    }
                    else if (n.kind == Kind.Var && variables.TryGetValue(n.name!, out var first))
                    {
                        // one node per name; a bound one gives the value
                        position = (int)first.placed;
                        if (n.known)
                        {
                            if (first.known && !first.value.Equals(n.value))
                                throw new ArgumentException($"variable '{n.name}' is bound to two different values; use one Variable per name");
                            if (!first.known) variables[n.name!] = n;
                        }
                    }
                    else
                    {
                        if (count == ops.Length)
                        {
                            Array.Resize(ref ops, 2 * count);
                            Array.Resize(ref arg0, 2 * count);
                            Array.Resize(ref arg1, 2 * count);
                            if (values is not null) Array.Resize(ref values, 2 * count);
                        }
                        position = count++;
                        Ops.Store(ops, position, n.op ?? (named ? n.NameUnnamed() : Unnamed));
                        arg0[position] = n.a is null ? -1 : (int)n.a.placed;
                        arg1[position] = n.b is null ? -1 : (int)n.b.placed;
                        if (values is not null) values[position] = n.value;
                        if (order is not null)
                        {
                            if (position == order.Length) Grow(ref order);
                            order[position] = n;
                        }
                        if (n.kind == Kind.Var) variables.Add(n.name!, n);
                    }
                    n.placed = ((long)stamp << 32) | (uint)position;
                }
                // the output is the last node: the walk finishes the root last
                lastCount = count;
                if (count < ops.Length)
                {
                    Array.Resize(ref ops, count);
                    Array.Resize(ref arg0, count);
                    Array.Resize(ref arg1, count);
                    if (values is not null) Array.Resize(ref values, count);
                }
                var names = named ? new string[count] : null;
                var env = withEnv ? new Dictionary<string, double>(variables.Count) : null;
                if (order is not null)
                {
                    // names and values by name; this pass reads the marks too, so it holds the
                    // lock as well: another layout of a shared node would move them
                    for (var j = 0; j < count; j++)
                    {
                        var n = order[j];
                        if (n.kind is Kind.Var or Kind.Unnamed)
                        {
                            names![j] = n.name!;
                            // a name's bound value, wherever it is bound
                            if (env is not null && (n.kind == Kind.Unnamed ? n : variables[n.name!]) is { known: true } v) env[v.name!] = v.value;
                        }
                    }
                }
                if (namedNodes is not null && names is not null)
                    foreach (var (position, name) in namedNodes) names[position] = name;
                var found = find is null ? null : PlacedBy(find, stamp);
                var graph = names is null ? null : Toolkit.Graph.GraphModule.ofArrays(ops, names, arg0, arg1);
                return new Layouts(graph, ops, arg0, arg1, env, values, stamp, found);
            }
        }
        finally
        {
            pool.Return(stack, clearArray: true);
            if (order is not null) pool.Return(order, clearArray: true);
        }
    }

    /// <summary>Where the layout with the given stamp placed a node, if that layout was the
    /// node's last (no walk: the node's own mark).</summary>
    internal static int? PlacedBy(Scalar node, int stamp)
    {
        var mark = node.placed;
        return (int)(mark >> 32) == stamp ? (int)mark : null;
    }

    /// <summary>Where a node of this graph sits in the layout with the given stamp, or null if
    /// it is not a node of this graph.</summary>
    internal int? PositionOf(Scalar node, int stamp)
    {
        // laid out again since (another pass on a shared node): the walk is the same, so the
        // positions are too
        return PlacedBy(node, stamp) ?? Layout(withEnv: false, find: node, named: false).Found;
    }

    /// <summary>An input variable with a value.</summary>
    public static Scalar Variable(string name, double value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return OfVariable(name, value, true);
    }

    /// <summary>An input variable without a value: give it one when evaluating
    /// (<see cref="Evaluate(IReadOnlyDictionary{string, double})"/>, <see cref="Backward(IReadOnlyDictionary{string, double})"/>).</summary>
    public static Scalar Variable(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return OfVariable(name, 0, false);
    }

    /// <summary>An input variable without a name, as micrograd's <c>Value(2.0)</c>: for the many
    /// weights of a model, read back by the object (<c>g[w]</c>). Each is its own variable. Where a
    /// name is needed (printing, <see cref="Variables"/>, a gradient dictionary) it has one made
    /// for it the first time, θ1, θ2, … in the order names are first needed, unique in the process
    /// (so do not name variables of your own that way); <see cref="Backward()"/> needs none.</summary>
    public static Scalar Variable(double value)
    {
        return new Scalar(Kind.Unnamed, null, null, null, value, true);
    }

    /// <summary>A constant.</summary>
    public static Scalar Constant(double value) => new(Kind.Const, Op.NewConst(value), null, null, value, true);

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
    public static Scalar operator +(Scalar x, Scalar y) => OfBinary(Ops.Add, x, y);
    /// <summary>x − y</summary>
    public static Scalar operator -(Scalar x, Scalar y) => OfBinary(Ops.Sub, x, y);
    /// <summary>x · y</summary>
    public static Scalar operator *(Scalar x, Scalar y) => OfBinary(Ops.Mul, x, y);
    /// <summary>x / y</summary>
    public static Scalar operator /(Scalar x, Scalar y) => OfBinary(Ops.Div, x, y);
    /// <summary>−x</summary>
    public static Scalar operator -(Scalar x) => OfUnary(Ops.Neg, x);

    /// <summary>x raised to a real power y.</summary>
    public static Scalar Pow(Scalar x, Scalar y) => OfBinary(Ops.Pow, x, y);
    /// <summary>x raised to an integer power n (defined for negative x).</summary>
    public static Scalar Pow(Scalar x, int n) => OfUnary(Ops.PowInt(n), x);
    /// <summary>eˣ</summary>
    public static Scalar Exp(Scalar x) => OfUnary(Ops.Exp, x);
    /// <summary>Natural logarithm.</summary>
    public static Scalar Log(Scalar x) => OfUnary(Ops.Log, x);
    /// <summary>Square root.</summary>
    public static Scalar Sqrt(Scalar x) => OfUnary(Ops.Sqrt, x);
    /// <summary>The logistic sigmoid σ(x) = 1 / (1 + e⁻ˣ).</summary>
    public static Scalar Sigmoid(Scalar x) => OfUnary(Ops.Sigmoid, x);
    /// <summary>Hyperbolic tangent.</summary>
    public static Scalar Tanh(Scalar x) => OfUnary(Ops.Tanh, x);
    /// <summary>max(0, x).</summary>
    public static Scalar Relu(Scalar x) => OfUnary(Ops.Relu, x);
    /// <summary>|x|.</summary>
    public static Scalar Abs(Scalar x) => OfUnary(Ops.Abs, x);
    /// <summary>x for x &gt; 0, <paramref name="slope"/>·x otherwise.</summary>
    public static Scalar LeakyRelu(Scalar x, double slope = 0.01) => OfUnary(Ops.LeakyRelu(slope), x);
    /// <summary>softplus x = ln(1 + eˣ), a smooth ReLU whose derivative is σ(x).</summary>
    public static Scalar Softplus(Scalar x) => OfUnary(Ops.Softplus, x);
    /// <summary>ELU: x for x &gt; 0, eˣ − 1 otherwise.</summary>
    public static Scalar Elu(Scalar x) => OfUnary(Ops.Elu, x);
    /// <summary>GELU: x·Φ(x), Φ the standard normal distribution function.</summary>
    public static Scalar Gelu(Scalar x) => OfUnary(Ops.Gelu, x);

    /// <summary>Any one-argument function of the toolkit's vocabulary by the name the parser
    /// knows (<c>"softplus"</c>, <c>"leakyrelu"</c> …), so an op added to the core is usable
    /// from C# at once.</summary>
    /// <param name="function">The function's name.</param>
    /// <param name="x">Its argument.</param>
    /// <param name="parameter">The op's parameter, for an op that has one (the leaky ReLU's slope).</param>
    /// <exception cref="ArgumentException">No function has that name.</exception>
    public static Scalar Call(string function, Scalar x, double? parameter = null) => OfUnary(Ops.Call(function, parameter), x);
    /// <summary>The larger of x and y.</summary>
    public static Scalar Max(Scalar x, Scalar y) => OfBinary(Ops.Max, x, y);
    /// <summary>The smaller of x and y.</summary>
    public static Scalar Min(Scalar x, Scalar y) => OfBinary(Ops.Min, x, y);

    /// <summary>This node with a name (<c>(b * c).Named("u")</c>), shown in every printout,
    /// explanation and picture.</summary>
    public Scalar Named(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new Scalar(Kind.Named, Op.NewVar(name), this, null, value, known);
    }

    /// <summary>The variable's name when this node is a variable, else null.</summary>
    internal string? VariableName => kind is Kind.Var or Kind.Unnamed ? name : null;

    /// <summary>A variable made with a name (one node per name in a graph).</summary>
    internal bool IsNamedVariable => kind == Kind.Var;

    /// <summary>The node's name, or null.</summary>
    public string? Name => kind is Kind.Named or Kind.Var or Kind.Unnamed ? name : null;

    /// <summary>The variables the expression uses, in the order they are first reached.</summary>
    public IReadOnlyList<string> Variables => Layout(withEnv: false).Graph!.Variables;

    // the bound values, gathered in the layout; values given to the call override them
    private (Toolkit.Graph.Graph Graph, IReadOnlyDictionary<string, double> Env, int Stamp) Prepare(IReadOnlyDictionary<string, double>? values)
    {
        var layout = Layout(withEnv: true);
        var env = layout.Env!;
        if (values is not null)
            foreach (var (k, v) in values) env[k] = v;
        return (layout.Graph!, env, layout.Stamp);
    }

    // the forward pass: the values the operators computed when every variable is bound and no
    // values are given, else the core's pass over the variables' values
    private (Forward Forward, int Stamp) ForwardPass(IReadOnlyDictionary<string, double>? values)
    {
        if (values is null && known)
        {
            var layout = Layout(withEnv: false);
            return (new Forward(layout.Graph!, layout.Values!), layout.Stamp);
        }
        var (graph, env, stamp) = Prepare(values);
        return (Eval.forward(graph, env), stamp);
    }

    private Gradients BackwardPass(IReadOnlyDictionary<string, double>? values)
    {
        if (values is null && known)
        {
            // the values the operators computed, swept without names: the core's graph (for
            // names, explanations, pictures) is made if the gradients are asked for it
            var layout = Layout(withEnv: false, named: false);
            return new Gradients(layout.Values!, Eval.sweep(layout.Ops, layout.Arg0, layout.Arg1, layout.Values!), this, layout.Stamp);
        }
        var (forward, stamp) = ForwardPass(values);
        return new Gradients(Eval.backward(forward), this, stamp);
    }

    /// <summary>The core's result for a backward pass made without names: the graph laid out
    /// again, named (the walk is the same, so the positions are too), over the values and dvars
    /// already computed; and the stamp of that layout.</summary>
    internal (Backward Result, int Stamp) Named(double[] values, double[] dvars)
    {
        var layout = Layout(withEnv: false);
        return (new Backward(new Forward(layout.Graph!, values), dvars), layout.Stamp);
    }

    /// <summary>The value, from the variables' bound values.</summary>
    /// <exception cref="UnboundVariableException">A variable has no value (an ArgumentException).</exception>
    public double Value => ForwardPass(null).Forward.Value;

    /// <summary>The value, with <paramref name="values"/> given for (or overriding) variables.</summary>
    public double Evaluate(IReadOnlyDictionary<string, double> values) => ForwardPass(values).Forward.Value;

    /// <summary>The forward and backward passes: the value and every node's dvar.</summary>
    public Gradients Backward() => BackwardPass(null);

    /// <summary>The forward and backward passes with <paramref name="values"/> for the variables.</summary>
    public Gradients Backward(IReadOnlyDictionary<string, double> values) => BackwardPass(values);

    /// <summary>The directional derivative by forward mode (dual numbers): ∇f · direction.</summary>
    public double DirectionalDerivative(IReadOnlyDictionary<string, double> direction) =>
        Eval.directional(ForwardPass(null).Forward, direction);

    /// <summary>The symbolic derivative d(this)/d(variable), simplified; named intermediate
    /// nodes appear by name.</summary>
    public Scalar Derivative(Scalar variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        if (variable.kind is not (Kind.Var or Kind.Unnamed))
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
