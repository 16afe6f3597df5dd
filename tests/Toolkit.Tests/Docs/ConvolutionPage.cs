using MathNet.Numerics.LinearAlgebra;
using Xunit;

namespace Toolkit.Tests.Docs;

// The C# beside the F# of docs/convolution.fsx (regions quoted there; the asserts hold the numbers).
public class ConvolutionPage
{
    [Fact]
    public void TheWorkedFourByFourExample()
    {
        //[conv-forward]
        var conv = new Network(new ImageShape(1, 4, 4), new Conv2D(1, 1, 2));
        conv.SetParameters(new[] { 1.0, 0.0, 0.0, -1.0, 0.5 });         // W = [[1, 0], [0, −1]], b = 0.5
        var image = Matrix<double>.Build.Dense(1, 16, (_, j) => j + 1);  // one sample per row: 1 … 16
        Matrix<double> z = conv.Predict(image);                          // 9 outputs, each a[y, x] − a[y+1, x+1] + 0.5
        //[/conv-forward]
        Assert.All(z.Row(0).ToArray(), v => Assert.Equal(-4.5, v));
        //[conv-backward]
        var targets = z - 1.0;                                           // every δ = z − t = 1
        double[] g = conv.Gradient(image, targets, Loss.Quadratic);      // ∂C/∂W (2×2, row by row), then ∂C/∂b
        //[/conv-backward]
        Assert.Equal(new[] { 54.0, 63.0, 90.0, 99.0, 9.0 }, g);
    }

    [Fact]
    public void ASmallCnnOnFashionMnist()
    {
        //[conv-train]
        var (train, test) = Dataset.FashionMnist();
        var cnn = new Network(784, WeightInit.He, 1,                     // 784 = 1 channel of 28 × 28
            new Conv2D(1, 8, 3, padding: 1, activation: Activation.Relu),
            new MaxPool2D(2),
            new Dense(10, Activation.Softmax));
        new Trainer(cnn, Loss.CrossEntropy, new Adam(0.002)) { BatchSize = 32, SinglePrecision = true }.Fit(train.Take(10000), epochs: 1);
        double accuracy = cnn.Accuracy(test);
        //[/conv-train]
        // one epoch on a sixth of the data: the page shows about 0.8; 0.7 is far below any seed's
        Assert.True(accuracy > 0.7, $"accuracy {accuracy}");
    }
}
