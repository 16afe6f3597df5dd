using MathNet.Numerics.LinearAlgebra;
using Toolkit.Tensors;
using Xunit;

namespace Toolkit.Tests;

// The matrix graph and logistic regression through the facade, as a C# user writes them.
public class TensorTests
{
    private static Matrix<double> M(double[,] a) => Matrix<double>.Build.DenseOfArray(a);

    [Fact]
    public void DenseLayerFollowsTheNotesMatrixRules()
    {
        //[dense]
        var W = Tensor.Variable("W", new double[,] { { 1, 2, 3 }, { -1, 0.5, 0 } });
        var A = Tensor.Variable("A", new double[,] { { 1, 0, 2, -1 }, { 0.5, 1, 1, 0 }, { -2, 3, 0, 1 } });
        var b = Tensor.Variable("b", new double[,] { { 0.1 }, { -0.2 } });
        var Z = (W * A + b).Named("Z");               // Z = W·A + b, b broadcast over the samples
        var J = Z.SumAll();
        var g = J.Backward();                         // dZ = ones: dW = dZ·Aᵀ, dA = Wᵀ·dZ, db = row sums of dZ
        //[/dense]
        var dZ = Matrix<double>.Build.Dense(2, 4, 1.0);
        Assert.True((g[W] - dZ * M(new double[,] { { 1, 0, 2, -1 }, { 0.5, 1, 1, 0 }, { -2, 3, 0, 1 } }).Transpose()).FrobeniusNorm() < 1e-12);
        Assert.True((g["A"] - M(new double[,] { { 1, 2, 3 }, { -1, 0.5, 0 } }).Transpose() * dZ).FrobeniusNorm() < 1e-12);
        Assert.Equal(4.0, g[b][0, 0], 12);
        Assert.Equal((2, 4), Z.Shape);
        Assert.Equal(Matrix<double>.Build.Dense(2, 4, 1.0), g[Z]);
    }

    [Fact]
    public void ShapesAreCheckedWhereTheNodeIsBuilt()
    {
        var a = Tensor.Variable("A", Matrix<double>.Build.Dense(3, 4));
        var b = Tensor.Variable("B", Matrix<double>.Build.Dense(5, 2));
        var e = Assert.Throws<ShapeException>(() => a * b);
        Assert.Equal("matmul: (3×4) · (5×2): inner dimensions 4 and 5 differ", e.Message);
        // one name bound to two matrices is refused when the graph is evaluated
        var twice = Tensor.Variable("A", Matrix<double>.Build.Dense(3, 4, 1.0)) + Tensor.Variable("A", Matrix<double>.Build.Dense(3, 4, 2.0));
        Assert.Contains("bound to two different values", Assert.Throws<ArgumentException>(() => twice.Value).Message);
        // the same matrix under one name twice is one variable
        var w = Matrix<double>.Build.Dense(3, 4, 1.5);
        Assert.Equal(3.0, (Tensor.Variable("W", w) + Tensor.Variable("W", w)).Value[0, 0]);
    }

    [Fact]
    public void SoftmaxCrossEntropyIsStableAndItsGradientIsPMinusY()
    {
        var z = Tensor.Variable("Z", new double[,] { { 1000, 0.5 }, { -1000, -0.5 } });
        var y = Tensor.Constant(M(new double[,] { { 1, 0 }, { 0, 1 } }));
        var loss = Tensor.SoftmaxCrossEntropy(z, y, SampleLayout.ColumnsAreSamples);
        var g = loss.Backward();
        Assert.True(double.IsFinite(g.Value[0, 0]));
        var p = Tensor.Softmax(Tensor.Constant(M(new double[,] { { 1000, 0.5 }, { -1000, -0.5 } })), TensorAxis.Rows).Value;
        Assert.True((g["Z"] - (p - M(new double[,] { { 1, 0 }, { 0, 1 } })) / 2).FrobeniusNorm() < 1e-12);
    }

    [Fact]
    public void LogisticRegressionThreeWaysAgree()
    {
        //[logreg]
        var x = Matrix<double>.Build.DenseOfArray(new double[,] { { 0.5, -1.0, 2.0, 0.1 }, { 1.5, 0.3, -0.7, -2.0 } });   // 2 features × 4 samples
        double[] y = { 1, 0, 1, 0 };
        var loops = LogisticRegression.Gradient(x, y, new[] { 0.2, -0.4 }, 0.1, GradientMethod.Loops);
        var vectorized = LogisticRegression.Gradient(x, y, new[] { 0.2, -0.4 }, 0.1, GradientMethod.Vectorized);
        var model = LogisticRegression.Fit(x, y, learningRate: 0.5, maxSteps: 200);
        //[/logreg]
        Assert.Equal(loops.Cost, vectorized.Cost, 12);
        for (var j = 0; j < 2; j++) Assert.Equal(loops.DW[j], vectorized.DW[j], 12);
        Assert.Equal(loops.DB, vectorized.DB, 12);
        Assert.Equal(model.Steps + 1, model.CostPerStep.Count);
        Assert.True(model.CostPerStep[^1] < model.CostPerStep[0]);
        Assert.Equal(1.0, model.Accuracy(x, y));
    }

    [Fact]
    public void FashionMnistTwoClasses()
    {
        var (trainX, trainY, testX, testY) = FashionMnist.LoadBinary(0, 1);
        Assert.Equal(784, trainX.RowCount);
        Assert.Equal(12000, trainX.ColumnCount);
        var model = LogisticRegression.Fit(trainX, trainY, learningRate: 0.02, maxSteps: 50);
        Assert.True(model.Accuracy(testX, testY) > 0.9);
        Assert.True(LinearAlgebra.IsNative, LinearAlgebra.Describe());
    }
}
