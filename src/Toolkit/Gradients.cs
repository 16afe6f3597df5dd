using Toolkit.Graph;

namespace Toolkit;

/// <summary>The result of a backward pass: the value and the dvar (dJ/dnode) of every node.</summary>
public sealed class Gradients
{
    private readonly Scalar root;
    // every node's value and dvar, by position in the layout with this stamp
    private readonly double[] values, dvars;
    private int stamp;
    private Backward? result;
    private readonly object resultLock = new();

    internal Gradients(Backward result, Scalar root, int stamp) : this(result.Forward.Values, result.Dvars, root, stamp)
    {
        this.result = result;
    }

    // from a sweep made without names: the core's result (graph, names) is made when asked for
    internal Gradients(double[] values, double[] dvars, Scalar root, int stamp)
    {
        this.values = values;
        this.dvars = dvars;
        this.root = root;
        this.stamp = stamp;
        Nodes = new NodeList(this);
    }

    /// <summary>The core's result, with the graph and its names; for a pass made without names,
    /// made on first use (and the layout that made it is the one positions are read from).</summary>
    internal Backward Result
    {
        get
        {
            lock (resultLock)
            {
                if (result is null)
                {
                    var (named, namedStamp) = root.Named(values, dvars);
                    result = named;
                    stamp = namedStamp;
                }
                return result;
            }
        }
    }

    // Every node's information, made when asked for: a graph of 10⁶ nodes costs nothing here
    // until a caller reads its nodes.
    private sealed class NodeList(Gradients owner) : IReadOnlyList<NodeInfo>
    {
        public NodeInfo this[int index] =>
            index >= 0 && index < Count ? new NodeInfo(owner.Result, index)
            : throw new ArgumentOutOfRangeException(nameof(index), index, $"the graph has {Count} nodes");
        public int Count => owner.values.Length;
        public IEnumerator<NodeInfo> GetEnumerator()
        {
            var result = owner.Result;
            for (var i = 0; i < Count; i++) yield return new NodeInfo(result, i);
        }
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>The value of the output.</summary>
    public double Value => values[^1];

    /// <summary>The dvar of a variable or of any node of the expression (dJ/dnode).</summary>
    /// <exception cref="KeyNotFoundException">The node is not part of the expression.</exception>
    public double this[Scalar node]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(node);
            // a named variable by its mark from this pass's layout, else by its name (another
            // object of the same name); another node (an unnamed variable too: it is its own
            // object) by its mark, else by laying the graph out again
            static int? OrNull(Microsoft.FSharp.Core.FSharpOption<int> o) => o is null ? null : o.Value;
            var position = node.IsNamedVariable ? Scalar.PlacedBy(node, stamp) ?? OrNull(Result.Forward.Graph.PositionOfVariable(node.VariableName))
                         : root.PositionOf(node, stamp);
            if (position is null)
                throw new KeyNotFoundException($"'{node}' is not a node of this expression");
            return dvars[position!.Value];
        }
    }

    /// <summary>The dvar of a variable, by name (0 if the output does not use it).</summary>
    public double this[string variable] => Result.Dvar(variable);

    /// <summary>dJ/dx for every variable.</summary>
    public IReadOnlyDictionary<string, double> ToDictionary() =>
        Result.Gradient.ToDictionary(p => p.Item1, p => p.Item2);

    /// <summary>Every node, in evaluation order (inputs first, output last).</summary>
    public IReadOnlyList<NodeInfo> Nodes { get; }

    /// <summary>Where a NaN or infinity first appears in the forward pass and why, or null.</summary>
    public string? NonFiniteOrigin
    {
        get
        {
            var reason = Toolkit.Graph.Explain.nonFinite(Result.Forward);
            return reason is null ? null : reason.Value;
        }
    }
}

/// <summary>One node of an evaluated graph.</summary>
public sealed class NodeInfo
{
    private readonly Lazy<string> expression;

    internal NodeInfo(Backward b, int i)
    {
        var g = b.Forward.Graph;
        Index = i;
        var name = g.Name(i);
        Name = name is null ? null : name.Value;
        // printed when read: a node's expression is as long as its whole subgraph
        expression = new Lazy<string>(() => g.Source(i) is Expr.Named n ? Print.text(n.body) : Print.text(g.Source(i)));
        Value = b.Forward.Values[i];
        Dvar = b.Dvars[i];
        Inputs = g.Args(i);
    }

    /// <summary>The node's position in evaluation order.</summary>
    public int Index { get; }
    /// <summary>The node's name (variable or named intermediate), or null.</summary>
    public string? Name { get; }
    /// <summary>The node's expression, with its inputs by name (printed when first read).</summary>
    public string Expression => expression.Value;
    /// <summary>The forward value.</summary>
    public double Value { get; }
    /// <summary>dJ/dnode.</summary>
    public double Dvar { get; }
    /// <summary>The positions of the node's inputs.</summary>
    public IReadOnlyList<int> Inputs { get; }

    /// <summary>"name: expression = value, dvar = d".</summary>
    public override string ToString() => $"{Name ?? Expression} = {Value}, dvar = {Dvar}";
}

/// <summary>A gradient check: analytic dvars against central finite differences.</summary>
public sealed class GradientCheckReport
{
    internal GradientCheckReport(GradientCheck c)
    {
        Passed = c.Passed;
        Tolerance = c.Tolerance;
        Entries = c.Entries.Select(e => new GradientCheckEntry(e.Variable, e.Analytic, e.Numeric, e.RelativeError)).ToArray();
        FirstBadNode = c.FirstBadNode is null ? null : c.FirstBadNode.Value.Node;
        Inconclusive = c.Inconclusive;
        NonSmoothNodes = c.NonSmooth.Select(p => p.Node).ToArray();
    }

    /// <summary>True when the check did not pass only because the point sits on a kink or the edge
    /// of a domain (<see cref="NonSmoothNodes"/>), where central differences measure no derivative.</summary>
    public bool Inconclusive { get; }
    /// <summary>The nodes whose operation has a kink or a domain edge at this point.</summary>
    public IReadOnlyList<string> NonSmoothNodes { get; }

    /// <summary>True when every relative error is within the tolerance and every local rule agrees.</summary>
    public bool Passed { get; }
    /// <summary>The tolerance on the relative error.</summary>
    public double Tolerance { get; }
    /// <summary>One entry per variable.</summary>
    public IReadOnlyList<GradientCheckEntry> Entries { get; }
    /// <summary>The first node whose local derivative rule disagrees with finite differences, or null.</summary>
    public string? FirstBadNode { get; }
}

/// <summary>One variable's line of a gradient check.</summary>
/// <param name="Variable">The variable.</param>
/// <param name="Analytic">dJ/dx from the backward pass.</param>
/// <param name="Numeric">dJ/dx from central differences.</param>
/// <param name="RelativeError">|analytic − numeric| / max(1, |analytic|, |numeric|).</param>
public sealed record GradientCheckEntry(string Variable, double Analytic, double Numeric, double RelativeError);
