using Xunit;

namespace Toolkit.Tests;

// Convolutional networks from C#, as a C# user would build, train, save and export them.
public class ConvTests
{
    // 8×8 grey images of a bar, vertical (class 0) or horizontal (class 1), at a random place and brightness, with noise
    private static Dataset Bars(int seed, int n)
    {
        var rng = new Random(seed);
        var x = new double[n, 64];
        var labels = new int[n];
        for (var i = 0; i < n; i++)
        {
            labels[i] = rng.Next(2);
            var at = rng.Next(1, 7);
            var bright = 0.5 + 0.5 * rng.NextDouble();
            for (var p = 0; p < 64; p++)
            {
                var (row, col) = (p / 8, p % 8);
                var on = labels[i] == 0 ? col == at : row == at;
                x[i, p] = (on ? bright : 0.0) + 0.1 * rng.NextDouble();
            }
        }
        return new Dataset(x, labels);
    }

    [Fact]
    public void ASmallConvolutionalNetworkLearnsBarsSavesAndExports()
    {
        var train = Bars(1, 400);
        var test = Bars(2, 200);
        //[cnn]
        var net = new Network(64, WeightInit.He, 3,                // 64 features, 1 channel: 8 × 8 images
            new Conv2D(1, 4, 3, padding: 1),
            new BatchNorm(),
            new ActivationLayer(Activation.Relu),
            new MaxPool2D(2),
            new Flatten(),
            new Dense(2, Activation.Softmax));
        var history = new Trainer(net, Loss.CrossEntropy, new Adam(0.01)) { BatchSize = 16 }.Fit(train, epochs: 5);
        double accuracy = net.Accuracy(test);
        //[/cnn]
        Assert.Equal(new ImageShape(1, 8, 8), net.InputShape);
        Assert.Equal("conv(4,3,pad=1)-batchnorm-relu-maxpool(2)-flatten-dense(2)-softmax", net.Describe());
        // bars are told apart by any vertical or horizontal edge filter; the margin below 1 is for seeds
        Assert.True(accuracy > 0.95, $"accuracy {accuracy} after {history.Count} epochs");
        var path = Path.Combine(Path.GetTempPath(), $"toolkit-{Guid.NewGuid()}");
        try
        {
            net.Save(path + ".json");
            var loaded = Network.Load(path + ".json");
            Assert.Equal(net.Predict(test.Features).ToColumnMajorArray(), loaded.Predict(test.Features).ToColumnMajorArray());
            net.SaveOnnx(path + ".onnx");
            Assert.True(File.Exists(path + ".onnx"));
        }
        finally { File.Delete(path + ".json"); File.Delete(path + ".onnx"); }
    }

    [Fact]
    public void ImageShapesAreCheckedWithMessagesThatNameTheLayerAndTheShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => new Network(60, new Conv2D(1, 4, 3), new Dense(2, Activation.Softmax)));
        Assert.Contains("60 inputs are not a square image of 1 channel(s)", e.Message);
        var net = new Network(new ImageShape(3, 6, 10), WeightInit.He, 1, new Conv2D(3, 2, 3, stride: 2), new Dense(2, Activation.Identity));
        Assert.Equal(new ImageShape(3, 6, 10), net.InputShape);
        Assert.Equal(new[] { 180, 16, 2 }, net.Sizes);                // 2 channels of 2 × 4 after the stride-2 convolution
        e = Assert.Throws<ArgumentException>(() => new Network(64, new Conv2D(1, 4, 9)));
        Assert.Contains("a 9×9 kernel with padding 0 does not fit a 8×8 image", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Network(new ImageShape(1, 8, 8), new Conv2D(3, 4, 3)));
        Assert.Contains("takes images of 3 channel(s), but is given 1×8×8", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Network(8, new Dense(4, Activation.Relu), new MaxPool2D(2)));
        Assert.Contains("max pooling works on images", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2D(1, 4, 3, padding: 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Network(64, new Conv2D(1, 4, 3), new BatchNorm(Momentum: 0)));
    }
}
