namespace Toolkit;

/// <summary>
/// The values bound to variables (<c>Scalar.Variable("a", 5)</c>), carried by every node built from
/// them. Joining two nodes' bindings is one small object, not a copy, so building a graph of n
/// nodes with operators is linear in n; the bindings are gathered into one dictionary (and two
/// values for one name are refused) once, when the graph is evaluated.
/// </summary>
internal abstract class Bindings
{
    public static readonly Bindings Empty = new Leaf(null, 0);

    public static Bindings Of(string name, double value) => new Leaf(name, value);

    /// <summary>Both sets of bindings: the same object when one is empty or both are one.</summary>
    public static Bindings Join(Bindings x, Bindings y) =>
        ReferenceEquals(x, y) || ReferenceEquals(y, Empty) ? x
        : ReferenceEquals(x, Empty) ? y
        : new Pair(x, y);

    /// <summary>Every binding, once, by name; a walk over the joins that visits each join once
    /// however often the graph shares it.</summary>
    /// <exception cref="ArgumentException">One name is bound to two different values.</exception>
    public Dictionary<string, double> Gather()
    {
        var result = new Dictionary<string, double>();
        var seen = new HashSet<Bindings>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<Bindings>();
        stack.Push(this);
        while (stack.Count > 0)
        {
            var b = stack.Pop();
            if (!seen.Add(b)) continue;
            switch (b)
            {
                case Leaf { Name: { } name, Value: var value }:
                    if (result.TryGetValue(name, out var existing) && !existing.Equals(value))
                        throw new ArgumentException(
                            $"variable '{name}' is bound to two different values ({existing} and {value}); use one Scalar.Variable per name");
                    result[name] = value;
                    break;
                case Pair p:
                    stack.Push(p.Right);
                    stack.Push(p.Left);
                    break;
            }
        }
        return result;
    }

    private sealed class Leaf(string? name, double value) : Bindings
    {
        public string? Name { get; } = name;
        public double Value { get; } = value;
    }

    private sealed class Pair(Bindings left, Bindings right) : Bindings
    {
        public Bindings Left { get; } = left;
        public Bindings Right { get; } = right;
    }
}
