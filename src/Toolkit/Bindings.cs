namespace Toolkit;

/// <summary>
/// The values bound to variables (<c>Scalar.Variable("a", 5)</c>, <c>Tensor.Variable("W", w)</c>),
/// carried by every node built from them. Joining two nodes' bindings is one small object, not a copy, so building a graph of n
/// nodes with operators is linear in n; the bindings are gathered into one dictionary (and two
/// values for one name are refused) once, when the graph is evaluated.
/// </summary>
internal abstract class Bindings<T>
{
    public static readonly Bindings<T> Empty = new Leaf(null, default!);

    public static Bindings<T> Of(string name, T value) => new Leaf(name, value);

    /// <summary>Both sets of bindings: the same object when one is empty or both are one.</summary>
    public static Bindings<T> Join(Bindings<T> x, Bindings<T> y) =>
        ReferenceEquals(x, y) || ReferenceEquals(y, Empty) ? x
        : ReferenceEquals(x, Empty) ? y
        : new Pair(x, y);

    /// <summary>Every binding, once, by name; a walk over the joins that visits each join once
    /// however often the graph shares it.</summary>
    /// <exception cref="ArgumentException">One name is bound to two different values.</exception>
    public Dictionary<string, T> Gather()
    {
        var result = new Dictionary<string, T>();
        var seen = new HashSet<Bindings<T>>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<Bindings<T>>();
        stack.Push(this);
        while (stack.Count > 0)
        {
            var b = stack.Pop();
            if (!seen.Add(b)) continue;
            switch (b)
            {
                case Leaf { Name: { } name, Value: var value }:
                    if (result.TryGetValue(name, out var existing) && !ReferenceEquals(existing, value) && !Equals(existing, value))
                        throw new ArgumentException(
                            $"variable '{name}' is bound to two different values; use one Variable per name");
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

    private sealed class Leaf(string? name, T value) : Bindings<T>
    {
        public string? Name { get; } = name;
        public T Value { get; } = value;
    }

    private sealed class Pair(Bindings<T> left, Bindings<T> right) : Bindings<T>
    {
        public Bindings<T> Left { get; } = left;
        public Bindings<T> Right { get; } = right;
    }
}
