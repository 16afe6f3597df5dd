using MathNet.Numerics.LinearAlgebra;
using Xunit;

namespace Toolkit.Tests.Docs;

// The C# beside the F# of docs/softmax-cross-entropy.fsx (regions quoted there; the asserts hold the numbers).
public class SoftmaxCrossEntropyPage
{
    [Fact]
    public void StableSoftmax()
    {
        //[softmax-stable]
        var z = Tensor.Variable("z", new double[,] { { 1000 }, { -1000 }, { 999 } });   // one sample, a column
        double[] p = Tensor.Softmax(z, TensorAxis.Rows).Value.Column(0).ToArray();      // [0.731, 0, 0.269]: no overflow
        //[/softmax-stable]
        Assert.Equal(1 / (1 + Math.Exp(-1)), p[0], 12);
        Assert.Equal(0.0, p[1], 12);
        Assert.Equal(1 / (1 + Math.Exp(1)), p[2], 12);
    }

    [Fact]
    public void TheFusedGradient()
    {
        //[softmax-delta]
        var z = Tensor.Variable("z", new double[,] { { 1 }, { -0.5 }, { 2 } });
        var y = Tensor.Constant(Matrix<double>.Build.DenseOfArray(new double[,] { { 0 }, { 1 }, { 0 } }));
        var H = Tensor.SoftmaxCrossEntropy(z, y, SampleLayout.ColumnsAreSamples);
        var p = Tensor.Softmax(z, TensorAxis.Rows).Value;
        var dz = H.Backward()[z];                       // equals p − y
        //[/softmax-delta]
        Assert.True((dz - (p - y.Value)).Enumerate().Max(Math.Abs) < 1e-15);
        //[softmax-large]
        var logits = Tensor.Variable("logits", new double[,] { { 1000 }, { -1000 }, { 0 } });
        var target = Tensor.Constant(Matrix<double>.Build.DenseOfArray(new double[,] { { 0 }, { 1 }, { 0 } }));
        var loss = Tensor.SoftmaxCrossEntropy(logits, target, SampleLayout.ColumnsAreSamples);
        double h = loss.Value[0, 0];                     // 2000: the label's score is 2000 below the best
        var delta = loss.Backward()[logits];            // p − y = [1, −1, 0]
        //[/softmax-large]
        Assert.Equal(2000, h, 9);
        Assert.Equal(new[] { 1.0, -1, 0 }, delta.Column(0).Select(v => Math.Round(v, 12)));
    }
}
