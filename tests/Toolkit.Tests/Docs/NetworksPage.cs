using MathNet.Numerics.LinearAlgebra;
using Xunit;

namespace Toolkit.Tests.Docs;

// The C# beside the F# of docs/networks.fsx (regions quoted there; the asserts hold the numbers).
public class NetworksPage
{
    [Fact]
    public void EquationTwoOnTheMatrixGraph()
    {
        //[nets-equation2]
        // a 3-4-2 network, tanh then softmax with cross-entropy, two samples as columns
        var W1 = Tensor.Variable("W1", new double[,] { { 0.2, -0.5, 0.1 }, { 0.7, 0.3, -0.2 }, { -0.4, 0.6, 0.5 }, { 0.1, 0.1, -0.3 } });
        var b1 = Tensor.Variable("b1", new double[,] { { 0.1 }, { 0 }, { -0.1 }, { 0.2 } });
        var W2 = Tensor.Variable("W2", new double[,] { { 0.3, -0.6, 0.2, 0.5 }, { -0.1, 0.4, 0.7, -0.2 } });
        var b2 = Tensor.Variable("b2", new double[,] { { 0 }, { 0.1 } });
        var X = Tensor.Constant(Matrix<double>.Build.DenseOfArray(new double[,] { { 0.5, -1.0 }, { 1.0, 0.2 }, { -0.3, 0.8 } }));
        var Y = Tensor.Constant(Matrix<double>.Build.DenseOfArray(new double[,] { { 1, 0 }, { 0, 1 } }));
        var Z1 = (W1 * X + b1).Named("Z1");
        var A1 = Tensor.Tanh(Z1);
        var Z2 = (W2 * A1 + b2).Named("Z2");
        var J = Tensor.SoftmaxCrossEntropy(Z2, Y, SampleLayout.ColumnsAreSamples);
        var g = J.Backward();
        var delta2 = g[Z2];                                              // δ² = (a² − y)/m
        var a1 = A1.Value;
        var byEquation2 = (W2.Value.TransposeThisAndMultiply(delta2)).PointwiseMultiply(a1.Map(t => 1 - t * t));   // (W²)ᵀδ² ⊙ tanh′(z¹)
        double largest = (g[Z1] - byEquation2).Enumerate().Max(Math.Abs);   // ~1e-17: the graph's δ¹ is equation 2's
        //[/nets-equation2]
        Assert.True(largest < 1e-15, $"largest difference {largest}");
        Assert.True((g[W1] - g[Z1] * X.Value.Transpose()).FrobeniusNorm() < 1e-15, "dW¹ = δ¹·xᵀ");
    }

    [Fact]
    public void ANetworkDefined()
    {
        //[nets-create]
        var net = new Network(3, WeightInit.Xavier, 7, new Dense(4, Activation.Tanh), new Dense(2, Activation.Softmax));
        string text = net.Describe();              // the layers, as the F# tab prints them
        // training: new Trainer(net, Loss.CrossEntropy, new Sgd(0.5)).Fit(data, epochs)
        //[/nets-create]
        Assert.Equal(new[] { 3, 4, 2 }, net.Sizes);
        Assert.Contains("tanh", text);
        var data = new Dataset(new double[,] { { 0.5, 1.0, -0.3 }, { -1.0, 0.2, 0.8 } }, new[] { 0, 1 });
        new Trainer(net, Loss.CrossEntropy, new Sgd(0.5)) { BatchSize = 2 }.Fit(data, epochs: 50);
        Assert.True(net.Loss(data) < 0.1, $"loss {net.Loss(data)}");
    }
}
