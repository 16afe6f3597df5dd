using Xunit;

namespace Toolkit.Tests.Docs;

// The C# beside the F# of docs/gradient-checking.fsx (regions quoted there; the asserts hold the numbers).
public class GradientCheckingPage
{
    [Fact]
    public void StepSizes()
    {
        //[check-steps]
        var J = Scalar.Parse("u = b*c; v = a + u; J = 3*v*sigmoid(v/10)");
        var at = new Dictionary<string, double> { ["a"] = 5, ["b"] = 3, ["c"] = 2 };
        double exact = J.Backward(at)["b"];
        double At(double db) => J.Evaluate(new Dictionary<string, double>(at) { ["b"] = at["b"] + db });
        double Forward(double h) => (At(h) - At(0)) / h;           // the notes' nudge
        double Central(double h) => (At(h) - At(-h)) / (2 * h);
        var errors = Enumerable.Range(1, 13).Select(k => Math.Pow(10, -k))
                               .Select(h => (h, Forward: Math.Abs(Forward(h) - exact), Central: Math.Abs(Central(h) - exact)));
        //[/check-steps]
        var best = errors.MinBy(e => e.Central);
        Assert.InRange(best.h, 1e-7, 1e-3);
        Assert.True(best.Central < 1e-8, $"central at its best {best.Central}");
        Assert.True(errors.Min(e => e.Forward) > best.Central, "forward differences are never as close");
    }

    [Fact]
    public void TheCheck()
    {
        //[check-check]
        var a = Scalar.Variable("a", 5);
        var b = Scalar.Variable("b", 3);
        var c = Scalar.Variable("c", 2);
        var v = (a + (b * c).Named("u")).Named("v");
        var J = 3 * v * Scalar.Sigmoid(v / 10);
        GradientCheckReport check = J.CheckGradient(1e-6);
        var lines = check.Entries.Select(e => $"d{e.Variable}: backward {e.Analytic:F10}, numeric {e.Numeric:F10}, error {e.RelativeError:E1}");
        // check.Passed is true; a wrong local rule would be named by check.FirstBadNode
        //[/check-check]
        Assert.True(check.Passed);
        Assert.Null(check.FirstBadNode);
        Assert.Equal(3, lines.Count());
        Assert.All(check.Entries, e => Assert.True(e.RelativeError < 1e-6));
    }
}
