using Xunit;

namespace Toolkit.Tests.Docs;

// The C# beside the F# of docs/chain-rule.fsx (regions quoted there; the asserts hold the numbers).
public class ChainRulePage
{
    [Fact]
    public void OnePath()
    {
        //[chain-one-path]
        var x = Scalar.Variable("x", -2);
        var y = Scalar.Variable("y", 5);
        var z = Scalar.Variable("z", -4);
        var q = (x + y).Named("q");
        var f = (q * z).Named("f");
        var g = f.Backward();
        // f = -12, df/dq = -4, df/dx = -4, df/dy = -4, df/dz = 3
        string steps = f.Explain();
        //[/chain-one-path]
        Assert.Equal(-12, g.Value);
        Assert.Equal(new[] { -4.0, -4, -4, 3 }, new[] { g[q], g[x], g[y], g[z] });
        Assert.Contains("dq", steps);
    }

    [Fact]
    public void TwoPaths()
    {
        //[chain-two-paths]
        var t = Scalar.Variable("t", 1.5);
        var u = (t * t).Named("u");
        var v = Scalar.Exp(t).Named("v");
        var z = (u * v).Named("z");
        double backward = z.Backward()[t];                      // both paths' contributions, summed
        var dz = z.Derivative(t);                               // symbolic: "v * 2 * t + u * v" or alike
        double numeric = z.CheckGradient().Entries[0].Numeric;  // central differences
        double byPaths = Math.Exp(1.5) * 2 * 1.5 + 1.5 * 1.5 * Math.Exp(1.5);
        //[/chain-two-paths]
        Assert.Equal(byPaths, backward, 12);
        Assert.Equal(byPaths, dz.Value, 12);
        Assert.Equal(byPaths, numeric, 6);
    }

    [Fact]
    public void ANeuron()
    {
        //[chain-neuron]
        var w0 = Scalar.Variable("w0", 2); var w1 = Scalar.Variable("w1", -3); var w2 = Scalar.Variable("w2", -3);
        var x0 = Scalar.Variable("x0", -1); var x1 = Scalar.Variable("x1", -2);
        var f = Scalar.Sigmoid((w0 * x0 + w1 * x1 + w2).Named("s")).Named("f");
        var g = f.Backward();
        // f = 0.7311; dx = [0.393, -0.590]; dw = [-0.197, -0.393, 0.197]
        //[/chain-neuron]
        Assert.Equal(0.7311, g.Value, 4);
        Assert.Equal(new[] { 0.393, -0.590, -0.197, -0.393, 0.197 }, new[] { g[x0], g[x1], g[w0], g[w1], g[w2] }.Select(d => Math.Round(d, 3)));
    }
}
