using Xunit;

namespace Toolkit.Tests.Docs;

// The C# beside the F# of docs/activations.fsx (regions quoted there; the asserts hold the numbers).
public class ActivationsPage
{
    //[act-curves]
    static readonly (string Name, Func<Scalar, Scalar> G)[] All =
    {
        ("sigmoid", Scalar.Sigmoid), ("tanh", Scalar.Tanh), ("relu", Scalar.Relu),
        ("leaky-relu:0.1", z => Scalar.LeakyRelu(z, 0.1)), ("softplus", Scalar.Softplus),
        ("elu", Scalar.Elu), ("gelu", Scalar.Gelu),
    };

    /// g(z) and g′(z) by one backward pass through the node.
    static (double G, double Slope) At(Func<Scalar, Scalar> g, double value)
    {
        var z = Scalar.Variable("z", value);
        var grads = g(z).Backward();
        return (grads.Value, grads[z]);
    }

    static readonly double[] Zs = Enumerable.Range(0, 161).Select(i => -4.0 + 0.05 * i).ToArray();
    //[/act-curves]

    [Fact]
    public void CurvesAndTheirSlopes()
    {
        var sigmoid = Zs.Select(z => At(Scalar.Sigmoid, z)).ToArray();
        Assert.Equal(0.5, sigmoid[80].G, 12);          // z = 0
        Assert.Equal(0.25, sigmoid[80].Slope, 12);
        Assert.Equal(1.0, At(Scalar.Relu, 1.9).Slope);
        //[act-agreement]
        double[] points = { -2.5, -0.7, 0.3, 1.9 };
        const double h = 1e-5;
        var agreement = All.Select(a =>
        {
            double worst = points.Max(p => Math.Abs(At(a.G, p).Slope - (At(a.G, p + h).G - At(a.G, p - h).G) / (2 * h)));
            return $"{a.Name,-10} largest difference {worst:E1}";
        }).ToList();
        //[/act-agreement]
        foreach (var a in All)
            foreach (var p in points)
                Assert.Equal((At(a.G, p + h).G - At(a.G, p - h).G) / (2 * h), At(a.G, p).Slope, 8);
        Assert.Equal(7, agreement.Count);
    }
}
