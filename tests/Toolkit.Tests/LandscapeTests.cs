using System.Xml.Linq;
using MathNet.Numerics.LinearAlgebra;
using Xunit;

namespace Toolkit.Tests;

// Loss landscapes from C#, as a C# user would look at a network's loss.
public class LandscapeTests
{
    private static Dataset Blobs(int seed, int n)
    {
        var rng = new Random(seed);
        var labels = Enumerable.Range(0, n).Select(j => j % 2).ToArray();
        var x = Matrix<double>.Build.Dense(n, 2, (i, _) => (labels[i] == 1 ? 1.0 : -1.0) + 0.5 * (rng.NextDouble() - 0.5));
        return new Dataset(x, labels, 2);
    }

    [Fact]
    public void TheLineAndThePlanePassThroughTheNetworkItself()
    {
        var data = Blobs(3, 60);
        var net = new Network(2, WeightInit.Xavier, 4, new Dense(5, Activation.Tanh), new Dense(2, Activation.Softmax));
        new Trainer(net, Loss.CrossEntropy, new Sgd(learningRate: 0.5)) { BatchSize = 10 }.Fit(data, epochs: 5);

        //[landscape]
        var line = Landscape.Line(net, data, range: 1.0, points: 21);        // L(W + a·W1), a in [−1, 1]
        var plane = Landscape.Plane(net, data, range: 1.0, points: 11);      // L(W + a·W1 + b·W2)
        string svg = plane.ToSvg();                                          // static picture, no browser
        var page = Path.Combine(Path.GetTempPath(), $"toolkit-{Guid.NewGuid()}.html");
        line.SaveHtml(page);                                                 // interactive, opens offline
        //[/landscape]
        try
        {
            Assert.Equal(21, line.Steps.Count);
            Assert.Equal(0.0, line.Steps[10], 12);
            Assert.Equal(net.Accuracy(data), line.Accuracy[10], 12);
            Assert.Equal(line.Loss[10], plane[5, 5], 10);
            Assert.True(line.Loss[0] > line.Loss[10] || line.Loss[20] > line.Loss[10], "a trained network sits lower than a full step away on at least one side");
            var cells = XDocument.Parse(svg).Descendants().Count(e => e.Name.LocalName == "g" && (string?)e.Attribute("class") == "cells");
            Assert.Equal(1, cells);
            Assert.Contains("var data = [{\"type\":\"scatter\"", File.ReadAllText(page));
        }
        finally
        {
            File.Delete(page);
        }
    }

    [Fact]
    public void BadInputIsNamed()
    {
        var net = new Network(3, new Dense(2, Activation.Sigmoid));
        var ex = Assert.ThrowsAny<ArgumentException>(() => Landscape.Line(net, Blobs(1, 10)));
        Assert.Contains("takes 3 inputs but the data has 2 features", ex.Message);
        Assert.Contains("at least 2", Assert.ThrowsAny<ArgumentException>(() => Landscape.Line(net, Blobs(1, 10), points: 1)).Message);
    }
}
