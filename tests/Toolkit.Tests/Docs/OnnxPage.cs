using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace Toolkit.Tests.Docs;

// The C# beside the F# of docs/onnx.fsx (regions quoted there; the asserts hold the numbers).
public class OnnxPage
{
    [Fact]
    public void OutToOnnxRuntimeAndBack()
    {
        var path = Path.Combine(Path.GetTempPath(), $"toolkit-docs-{Guid.NewGuid()}.onnx");
        try
        {
            //[onnx-out]
            var net = new Network(4, WeightInit.He, 1, new Dense(16, Activation.Gelu), new Dropout(0.2),
                                  new Dense(8, Activation.LeakyRelu), new Dense(3, Activation.Softmax));
            net.SaveOnnx(path, new[] { "a", "b", "c" });                  // input "input": batch × 4
            var rng = new Random(2);
            var x = Matrix<double>.Build.Dense(1000, 4, (_, _) => 2 * rng.NextDouble() - 1);   // a row per sample
            using var session = new InferenceSession(path);
            var input = new DenseTensor<float>(x.ToRowMajorArray().Select(v => (float)v).ToArray(), new[] { 1000, 4 });
            using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("input", input) });
            var onnx = results.First().AsTensor<float>();
            var ours = net.Predict(x);                                    // 1000 × 3
            double largest = Enumerable.Range(0, 1000).SelectMany(i => Enumerable.Range(0, 3).Select(j => Math.Abs(onnx[i, j] - ours[i, j]))).Max();
            //[/onnx-out]
            Assert.True(largest < 1e-5, $"largest difference {largest}");
            //[onnx-in]
            Network back = Network.LoadOnnx(path);                        // any Gemm/MatMul+Add chain with activations
            double roundTrip = (back.Predict(x) - ours).Enumerate().Max(Math.Abs);
            //[/onnx-in]
            Assert.True(roundTrip < 1e-6, $"round trip {roundTrip}");
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void AnExpressionAndItsGradient()
    {
        var path = Path.Combine(Path.GetTempPath(), $"toolkit-docs-{Guid.NewGuid()}.onnx");
        try
        {
            //[onnx-expr]
            var J = Scalar.Parse("u = b*c; v = a + u; J = 3*v");
            J.SaveOnnx(path);                                             // outputs: the value and its gradient
            using var session = new InferenceSession(path);
            NamedOnnxValue Input(string name, float v) => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(new[] { v }, Array.Empty<int>()));
            using var results = session.Run(new[] { Input("a", 5), Input("b", 3), Input("c", 2) });
            var outputs = results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());
            //[/onnx-expr]
            Assert.Equal(new[] { 33f }, outputs.Values.First());
            Assert.Contains(outputs.Values, v => v.SequenceEqual(new[] { 3f, 6f, 9f }));
        }
        finally { File.Delete(path); }
    }
}
