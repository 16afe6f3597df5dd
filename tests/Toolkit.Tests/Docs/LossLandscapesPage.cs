using Xunit;

namespace Toolkit.Tests.Docs;

// The C# beside the F# of docs/loss-landscapes.fsx (regions quoted there; the asserts hold the numbers).
public class LossLandscapesPage
{
    [Fact]
    public void AroundATrainedNetwork()
    {
        //[landscape-trained]
        var (fullTrain, fullTest) = Dataset.FashionMnist();
        var train = new Dataset(fullTrain.Features.SubMatrix(0, 10_000, 0, 784), fullTrain.Labels.Take(10_000).ToArray(), 10);
        var test = new Dataset(fullTest.Features.SubMatrix(0, 1_000, 0, 784), fullTest.Labels.Take(1_000).ToArray(), 10);
        var net = new Network(784, new Dense(30, Activation.Sigmoid), new Dense(10, Activation.Sigmoid));
        new Trainer(net, Loss.Quadratic, new Sgd(3.0)) { BatchSize = 10 }.Fit(train, epochs: 3);
        LossLine line = Landscape.Line(net, test, range: 1.0, points: 41);     // L(W + a·W1), per-unit direction
        LossPlane plane = Landscape.Plane(net, test, range: 1.0, points: 31);  // L(W + a·W1 + b·W2)
        string svg = plane.ToSvg();                                            // or plane.SaveHtml(path): interactive, offline
        //[/landscape-trained]
        Assert.Equal(net.Loss(test), line.Loss[20], 9);
        Assert.Equal(line.Loss[20], plane[15, 15], 9);
        Assert.True(line.Loss[0] > line.Loss[20] || line.Loss[40] > line.Loss[20], "a trained network sits lower than a full step away on at least one side");
        Assert.StartsWith("<svg", svg);
    }
}
