using Xunit;

namespace Toolkit.Tests.Docs;

// The C# beside the F# of docs/index.fsx (regions quoted there; the asserts hold the numbers).
public class IndexPage
{
    [Fact]
    public void AFirstGraph()
    {
        //[first-graph]
        var a = Scalar.Variable("a", 5);
        var b = Scalar.Variable("b", 3);
        var c = Scalar.Variable("c", 2);
        var J = 3 * (a + b * c);
        var g = J.Backward();
        // g.Value == 33, g[a] == 3, g[b] == 6, g[c] == 9
        //[/first-graph]
        Assert.Equal(33, g.Value);
        Assert.Equal(new[] { 3.0, 6, 9 }, new[] { g[a], g[b], g[c] });
        //[first-partials]
        var partials = J.Variables.Select(x => $"dJ/d{x} = {J.Derivative(x)}").ToArray();
        // "dJ/da = 3", "dJ/db = 3 * c", "dJ/dc = 3 * b"
        //[/first-partials]
        Assert.Equal(new[] { "dJ/da = 3", "dJ/db = 3 * c", "dJ/dc = 3 * b" }, partials);
    }
}
