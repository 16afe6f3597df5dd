using Xunit;

namespace Toolkit.Tests.Docs;

// The C# beside the F# of docs/hinge-loss.fsx (regions quoted there; the asserts hold the numbers).
public class HingeLossPage
{
    sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(double x) => 0;
    }

    [Fact]
    public void TheNotesExample()
    {
        //[hinge-graph]
        double[] xs = { 1, 2, -1 };                                   // sample i is of class i
        var w = new[] { Scalar.Variable("w0", 0.5), Scalar.Variable("w1", -1), Scalar.Variable("w2", 2) };
        Scalar L = 0;
        for (var i = 0; i < 3; i++)
            for (var j = 0; j < 3; j++)
                if (j != i) L += Scalar.Max(0, w[j] * xs[i] - w[i] * xs[i] + 1);   // max(0, s_j − s_i + 1)
        L = (L / 3).Named("L");                                       // the mean over the samples
        var g = L.Backward();                                         // dL/dw_j, through s_j = w_j·xᵢ
        GradientCheckReport check = L.CheckGradient();                // against central differences
        //[/hinge-graph]
        // the page's per-sample terms: L0 = 0 + 2.5, L1 = 4 + 7, L2 = 2.5 + 4
        Assert.Equal((2.5 + 11 + 6.5) / 3, g.Value, 12);
        Assert.True(check.Passed);
        Assert.Equal(new[] { 0, -5.0 / 3, 5.0 / 3 }, new[] { g[w[0]], g[w[1]], g[w[2]] }.Select(d => Math.Round(d, 12)), new ToleranceComparer(1e-12));
    }
}
