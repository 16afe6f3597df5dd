using MathNet.Numerics.LinearAlgebra;
using Xunit;

namespace Toolkit.Tests.Docs;

// The C# beside the F# of docs/logistic-regression.fsx (regions quoted there; the asserts hold the numbers).
public class LogisticRegressionPage
{
    [Fact]
    public void FourWaysOneGradient()
    {
        //[logreg-gradients]
        var x = Matrix<double>.Build.DenseOfArray(new double[,] { { 0.5, -1.0, 2.0, 0.1 }, { 1.5, 0.3, -0.7, -2.0 } });   // features × samples
        double[] y = { 1, 0, 1, 0 };
        var gradients = Enum.GetValues<GradientMethod>()           // Loops, Loop, Vectorized, Graph
            .Select(m => (Method: m, Gradient: LogisticRegression.Gradient(x, y, new[] { 0.2, -0.4 }, 0.1, m)))
            .ToList();
        //[/logreg-gradients]
        var first = gradients[0].Gradient;
        foreach (var (_, g) in gradients)
        {
            Assert.Equal(first.Cost, g.Cost, 14);
            Assert.Equal(first.DB, g.DB, 14);
            for (var j = 0; j < 2; j++) Assert.Equal(first.DW[j], g.DW[j], 14);
        }
        //[logreg-fit]
        var model = LogisticRegression.Fit(x, y, learningRate: 0.5, maxSteps: 10_000, tolerance: 1e-8);
        string summary = $"{model.Steps} steps, converged {model.Converged}, cost {model.CostPerStep[0]:F4} → {model.CostPerStep[^1]:F6}, accuracy {model.Accuracy(x, y):F2}";
        //[/logreg-fit]
        Assert.Equal(1.0, model.Accuracy(x, y));
        Assert.True(model.CostPerStep[^1] < model.CostPerStep[0]);
        Assert.Contains("steps", summary);
    }

    [Fact]
    public void FashionMnistPairs()
    {
        //[logreg-fashion]
        var (trainX, trainY, testX, testY) = FashionMnist.LoadBinary(0, 1);   // T-shirt/top against Trouser
        var model = LogisticRegression.Fit(trainX, trainY, learningRate: 0.02, maxSteps: 300, tolerance: 1e-6);
        double train = model.Accuracy(trainX, trainY), test = model.Accuracy(testX, testY);
        //[/logreg-fashion]
        // the page prints both: above 0.95 on this easy pair with every seed-free run (it is deterministic)
        Assert.True(test > 0.95, $"test accuracy {test}");
        Assert.True(train > 0.95, $"train accuracy {train}");
    }
}
