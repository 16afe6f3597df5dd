using Xunit;

namespace Toolkit.Tests.Docs;

// The C# beside the F# of docs/index.fsx (regions quoted there; the asserts hold the numbers).
public class IndexPage
{
    [Fact]
    public void TheSymbolicPartials()
    {
        // (the graph itself is ScalarTests' "backward" region, which the page quotes first)
        var a = Scalar.Variable("a", 5);
        var b = Scalar.Variable("b", 3);
        var c = Scalar.Variable("c", 2);
        var J = 3 * (a + b * c);
        //[first-partials]
        var partials = J.Variables.Select(x => $"dJ/d{x} = {J.Derivative(x)}").ToArray();
        // "dJ/da = 3", "dJ/db = 3 * c", "dJ/dc = 3 * b"
        //[/first-partials]
        Assert.Equal(new[] { "dJ/da = 3", "dJ/db = 3 * c", "dJ/dc = 3 * b" }, partials);
    }
}
