using Xunit;

namespace Toolkit.Tests.Docs;

// The C# beside the F# of docs/computation-graph.fsx: each region //[name] … //[/name] is quoted
// there, and the asserts hold it to the numbers the page computes.
public class ComputationGraphPage
{
    [Fact]
    public void ForwardAndBackward()
    {
        //[graph-build]
        var a = Scalar.Variable("a", 5);
        var b = Scalar.Variable("b", 3);
        var c = Scalar.Variable("c", 2);
        var u = (b * c).Named("u");
        var v = (a + u).Named("v");
        var J = (3 * v).Named("J");
        //[/graph-build]
        //[graph-forward]
        var g = J.Backward();                  // one forward and one backward pass
        var values = g.Nodes.Select(n => (n.Name ?? n.Expression, n.Value)).ToList();
        // ("3", 3), ("a", 5), ("b", 3), ("c", 2), ("u", 6), ("v", 11), ("J", 33)
        //[/graph-forward]
        //[graph-backward]
        double da = g[a], db = g[b], dc = g[c], du = g[u], dv = g[v];   // 3, 6, 9, 3, 3
        string steps = J.Explain();            // every step of both passes, in the notes' notation
        //[/graph-backward]
        //[graph-svg]
        string svg = J.ToSvg();                // also J.ToDot(), J.ToMermaid()
        //[/graph-svg]
        Assert.Contains(("u", 6.0), values);
        Assert.Contains(("J", 33.0), values);
        Assert.Equal(new[] { 3.0, 6, 9, 3, 3 }, new[] { da, db, dc, du, dv });
        Assert.Contains("dv", steps);
        Assert.StartsWith("<svg", svg);
    }

    [Fact]
    public void SymbolicPartials()
    {
        //[graph-symbolic]
        var J = Scalar.Parse("u = b*c; v = a + u; J = 3*v");
        var partials = J.Variables.Select(x => $"dJ/d{x} = {J.Derivative(x)}   (LaTeX: {J.Derivative(x).ToLatex()})").ToList();
        var L = Scalar.Parse("a = sigmoid(z); L = -(y*log(a) + (1-y)*log(1-a))");
        string dz = L.Derivative("z").ToString();          // "a - y"
        //[/graph-symbolic]
        Assert.Contains("dJ/db = 3 * c   (LaTeX: 3 c)", partials);
        Assert.Equal("a - y", dz);
    }

    [Fact]
    public void CheckingTheGradient()
    {
        var a = Scalar.Variable("a", 5);
        var b = Scalar.Variable("b", 3);
        var c = Scalar.Variable("c", 2);
        var J = 3 * (a + (b * c).Named("u"));
        //[graph-check]
        GradientCheckReport check = J.CheckGradient(1e-6);   // central differences for every input
        var table = check.Entries.Select(e => $"{e.Variable}: analytic {e.Analytic}, numeric {e.Numeric:G10}, relative error {e.RelativeError:G2}");
        bool passed = check.Passed;                           // true; else check.FirstBadNode names the node
        //[/graph-check]
        Assert.True(passed);
        Assert.Equal(3, table.Count());
        //[graph-modes]
        double directional = J.DirectionalDerivative(new Dictionary<string, double> { ["b"] = 1 });   // 6
        double[,] hessian = J.Hessian();                      // rows and columns in J.Variables' order
        //[/graph-modes]
        Assert.Equal(6, directional, 12);
        Assert.Equal(3, hessian[1, 2], 12);                   // ∂²J/∂b∂c
    }
}
