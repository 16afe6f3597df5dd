using Xunit;

namespace Toolkit.Tests.Docs;

// The C# beside the F# of docs/optimisers.fsx (regions quoted there; the asserts hold the numbers).
public class OptimisersPage
{
    [Fact]
    public void GradientDescentOnTheBowl()
    {
        //[opt-bowl]
        var p0 = Scalar.Variable("p0");
        var p1 = Scalar.Variable("p1");
        var bowl = Scalar.Pow(p0 - 1, 2) + 3 * Scalar.Pow(p1 + 2, 2);      // lowest, 0, at (1, −2)
        var at = new Dictionary<string, double> { ["p0"] = -3, ["p1"] = 3 };
        var losses = new List<double>();
        for (var step = 0; step < 200; step++)                                // gradient descent, rate 0.05
        {
            var g = bowl.Backward(at);
            losses.Add(g.Value);
            at["p0"] -= 0.05 * g["p0"];
            at["p1"] -= 0.05 * g["p1"];
        }
        // a network's trainer takes the other rules as settings: new Momentum(0.05, 0.9),
        // new Momentum(0.05, 0.9, nesterov: true), new Adam(0.1), new RmsProp(0.05), new AdamW(0.1)
        //[/opt-bowl]
        Assert.Equal(91, losses[0], 12);
        Assert.True(losses[^1] < 1e-6, $"final loss {losses[^1]}");
        Assert.Equal(1, at["p0"], 3);
        Assert.Equal(-2, at["p1"], 6);
    }
}
