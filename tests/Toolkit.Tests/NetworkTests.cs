using MathNet.Numerics.LinearAlgebra;
using Xunit;

namespace Toolkit.Tests;

// Define, train, evaluate, save and load a network, as a C# user would.
public class NetworkTests
{
    private sealed class Recorder : IProgress<TrainingProgress>
    {
        public List<TrainingProgress> Reports { get; } = new();
        public void Report(TrainingProgress value) => Reports.Add(value);
    }

    // reports synchronously on the training thread (System.Progress would post to the thread pool)
    private sealed class Progress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    private static Dataset Xor(int seed, int n)
    {
        var rng = new Random(seed);
        var x = new double[n, 2];
        for (var i = 0; i < n; i++) { x[i, 0] = rng.NextDouble() * 2 - 1; x[i, 1] = rng.NextDouble() * 2 - 1; }
        var labels = Enumerable.Range(0, n).Select(i => x[i, 0] * x[i, 1] > 0 ? 1 : 0).ToArray();
        return new Dataset(x, labels);
    }

    [Fact]
    public void TrainingGivesTheSameWeightsOnAnyNumberOfThreads()
    {
        var rng = new Random(3);
        var x = new double[256, 784];
        for (var i = 0; i < 256; i++) for (var j = 0; j < 784; j++) x[i, j] = rng.NextDouble();
        var data = new Dataset(x, Enumerable.Range(0, 256).Select(i => i % 10).ToArray());
        var before = LinearAlgebra.Threads;
        double[] TrainOn(int threads)
        {
            LinearAlgebra.Threads = threads;
            var net = new Network(784, WeightInit.He, 5, new Dense(256, Activation.Relu), new Dense(10, Activation.Softmax));
            new Trainer(net, Loss.CrossEntropy, new Momentum(0.05)) { BatchSize = 64 }.Fit(data, epochs: 2);
            return net.GetParameters();
        }
        try
        {
            Assert.Equal(TrainOn(1), TrainOn(2));
            Assert.Equal(2, LinearAlgebra.Threads);
        }
        finally { LinearAlgebra.Threads = before; }
        Assert.Throws<ArgumentOutOfRangeException>(() => LinearAlgebra.Threads = 0);
    }

    [Fact]
    public void TheNotesNetworkOnFashionMnistInTenLines()
    {
        //[network]
        var (train, test) = Dataset.FashionMnist();
        var net = new Network(784, new Dense(30, Activation.Sigmoid), new Dense(10, Activation.Sigmoid));
        var trainer = new Trainer(net, Loss.Quadratic, new Sgd(learningRate: 3.0)) { BatchSize = 10 };
        var progress = new Recorder();                              // any IProgress<TrainingProgress>
        trainer.Fit(train, epochs: 1, progress);
        double accuracy = net.Accuracy(test);
        var path = Path.Combine(Path.GetTempPath(), $"toolkit-{Guid.NewGuid()}.json");
        net.Save(path);
        var loaded = Network.Load(path);                            // predicts bit-identically
        //[/network]
        try
        {
            Assert.True(accuracy > 0.7, $"accuracy {accuracy}");
            Assert.Equal(6000, progress.Reports.Count(r => r.Batch > 0));
            Assert.Equal(net.Predict(test.Features).ToColumnMajorArray(), loaded.Predict(test.Features).ToColumnMajorArray());
            Assert.Equal(accuracy, loaded.Accuracy(test));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void AdamLearnsXorAndCancellationStopsTraining()
    {
        var train = Xor(1, 400);
        var test = Xor(2, 200);
        var net = new Network(2, WeightInit.Xavier, 5, new Dense(16, Activation.Tanh), new Dense(2, Activation.Softmax));
        var history = new Trainer(net, Loss.CrossEntropy, new Adam(0.02)) { BatchSize = 16 }.Fit(train, epochs: 60, test: test);
        Assert.Equal(60, history.Count);
        Assert.True(net.Accuracy(test) > 0.9);
        // cancelled during epoch 3: the network keeps epoch 2's parameters, and the result says so
        using var cts = new CancellationTokenSource();
        var trained = net.Predict(test.Features);
        var stopInEpoch3 = new Progress(p => { if (p.Epoch == 3 && p.Batch == 1) cts.Cancel(); });
        var result = new Trainer(net, Loss.CrossEntropy, new Momentum(0.1)) { BatchSize = 16 }.Fit(train, epochs: 5, stopInEpoch3, cts.Token);
        Assert.True(result.Cancelled);
        Assert.Equal(2, result.Count);
        Assert.NotEqual(trained.ToColumnMajorArray(), net.Predict(test.Features).ToColumnMajorArray());    // it trained two epochs
        Assert.True(net.Accuracy(test) > 0.9, $"accuracy {net.Accuracy(test)} after the cancelled run");
    }

    [Fact]
    public void ACheckpointedRunCancelledAndFittedAgainEndsAsAnUninterruptedOne()
    {
        var train = Xor(1, 300);
        var test = Xor(2, 100);
        Network Fresh() => new(2, WeightInit.Xavier, 5, new Dense(16, Activation.Relu), new Dropout(0.2), new Dense(2, Activation.Softmax));
        var straight = Fresh();
        new Trainer(straight, Loss.CrossEntropy, new Adam(0.01)) { BatchSize = 16 }.Fit(train, epochs: 6);

        var dir = Path.Combine(Path.GetTempPath(), $"toolkit-ck-{Guid.NewGuid()}");
        try
        {
            var net = Fresh();
            var trainer = new Trainer(net, Loss.CrossEntropy, new Adam(0.01)) { BatchSize = 16, CheckpointDirectory = dir };
            using var cts = new CancellationTokenSource();
            var first = trainer.Fit(train, epochs: 6, new Progress(p => { if (p.Epoch == 4 && p.Batch == 2) cts.Cancel(); }), cts.Token);
            Assert.True(first.Cancelled);
            Assert.Equal(3, first.Count);
            // a new process would build the network afresh and fit again: it goes on from epoch 3
            var again = Fresh();
            var second = new Trainer(again, Loss.CrossEntropy, new Adam(0.01)) { BatchSize = 16, CheckpointDirectory = dir }.Fit(train, epochs: 6);
            Assert.Equal(6, second.Count);
            Assert.Equal(straight.Predict(test.Features).ToColumnMajorArray(), again.Predict(test.Features).ToColumnMajorArray());
            // the checkpoint of this run is not another's
            var other = new Trainer(Fresh(), Loss.CrossEntropy, new Adam(0.02)) { BatchSize = 16, CheckpointDirectory = dir };
            var e = Assert.Throws<InvalidOperationException>(() => other.Fit(train, epochs: 6));
            Assert.Contains("another run", e.Message);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void NewActivationsOptimisersAndDropoutTrainFromCSharp()
    {
        var train = Xor(1, 400);
        var test = Xor(2, 200);
        var settings = new OptimizerSettings[] { new RmsProp(0.01), new AdamW(0.02, weightDecay: 0.01) };
        foreach (var activation in new[] { Activation.Softplus, Activation.Elu, Activation.Gelu })
        foreach (var optimizer in settings)
        {
            var net = new Network(2, WeightInit.Xavier, 5, new Dense(16, activation), new Dropout(0.1), new Dense(2, Activation.Softmax));
            Assert.Equal($"dense(16)-{activation.ToString().ToLowerInvariant()}-dropout(0.1)-dense(2)-softmax", net.Describe());
            new Trainer(net, Loss.CrossEntropy, optimizer) { BatchSize = 16 }.Fit(train, epochs: 60);
            // XOR of signs: 0.5 is chance; every combination here reached 0.93 or more (seed 5), so 0.8 leaves room
            Assert.True(net.Accuracy(test) > 0.8, $"{activation}, {optimizer.GetType().Name}: {net.Accuracy(test)}");
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => new Network(2, new Dropout(1.5), new Dense(2, Activation.Softmax)));
    }

    [Fact]
    public void ScalarFunctionsByNameReachEveryOpOfTheCore()
    {
        var x = Scalar.Variable("x", 1);
        var f = Scalar.Softplus(x) + Scalar.Call("gelu", x) + Scalar.LeakyRelu(-x, 0.2);
        var g = f.Backward();
        // softplus′ = σ, gelu′ = Φ + xφ, d/dx leakyrelu(−x) = −0.2 at x = 1
        var sigma = 1 / (1 + Math.Exp(-1));
        var phi = 0.5 * (1 + 0.6826894921370859);      // Φ(1) = ½(1 + erf(1/√2)), erf(1/√2) = 0.68268949…
        var density = Math.Exp(-0.5) / Math.Sqrt(2 * Math.PI);
        Assert.Equal(sigma + phi + density - 0.2, g[x], 12);
        var e = Assert.Throws<ArgumentException>(() => Scalar.Call("softmaxx", x));
        Assert.Contains("softplus", e.Message);
    }

    [Fact]
    public void DataOneSamplePerRowFromArraysAndCsv()
    {
        // two features per row, the class the sign of their product
        var rows = new double[,] { { 1, 1 }, { -1, 1 }, { 0.5, -2 }, { -3, -1 } };
        var data = new Dataset(rows, new[] { 1, 0, 0, 1 });
        Assert.Equal((4, 2, 2), (data.Count, data.FeatureCount, data.ClassNames.Count));
        Assert.Equal(rows[2, 1], data.Features[2, 1]);
        Assert.Throws<ArgumentException>(() => new Dataset(rows, new[] { 1, 0, 0 }));
        Assert.Throws<ArgumentException>(() => new Dataset(rows, new[] { 1, 0, 0, 7 }, classes: 3));
        Assert.Throws<ArgumentException>(() => new Dataset(new double[,] { { double.NaN } }, new[] { 0 }));

        // a CSV table with named classes, a held-out fifth
        var path = Path.Combine(Path.GetTempPath(), $"toolkit-{Guid.NewGuid()}.csv");
        var rng = new Random(3);
        File.WriteAllLines(path, new[] { "x,y,quadrant" }.Concat(Enumerable.Range(0, 400).Select(_ =>
        {
            double x = rng.NextDouble() * 2 - 1, y = rng.NextDouble() * 2 - 1;
            return FormattableString.Invariant($"{x},{y},{(x * y > 0 ? "same" : "opposite")}");
        })));
        try
        {
            var (train, test) = Dataset.FromCsv(path, label: "quadrant");
            Assert.Equal(new[] { "opposite", "same" }, train.ClassNames);
            Assert.Equal((320, 80), (train.Count, test.Count));
            var net = new Network(2, WeightInit.Xavier, 5, new Dense(16, Activation.Tanh), new Dense(2, Activation.Softmax));
            new Trainer(net, Loss.CrossEntropy, new Adam(0.02)) { BatchSize = 16 }.Fit(train, epochs: 60);
            // as AdamLearnsXor: 0.93 or more measured, 0.8 leaves room
            Assert.True(net.Accuracy(test) > 0.8, $"accuracy {net.Accuracy(test)}");
            var outputs = net.Predict(new[] { 0.5, 0.5 });
            Assert.Equal(2, outputs.Length);
            Assert.True(outputs[1] > outputs[0], "(0.5, 0.5) is 'same'");
            Assert.Equal(test.Count, net.Predict(test.Features).RowCount);
            Assert.Throws<ArgumentException>(() => net.Predict(new[] { 1.0, 2.0, 3.0 }));
            var e = Assert.Throws<FileNotFoundException>(() => Dataset.FromCsv(path + ".missing", label: "quadrant"));
            Assert.Contains("no such file", e.Message);
            var bad = Assert.Throws<InvalidDataException>(() => Dataset.FromCsv(path, label: "quadrnt"));
            Assert.Contains("did you mean quadrant?", bad.Message);
        }
        finally { File.Delete(path); }

        // a real-valued target: y = 2x, one output, the quadratic loss
        var xs = new double[200, 1];
        var ys = new double[200];
        for (var i = 0; i < 200; i++) { xs[i, 0] = i / 100.0 - 1; ys[i] = 2 * xs[i, 0]; }
        var line = Dataset.Regression(xs, ys);
        Assert.True(line.IsRegression);
        var fit = new Network(1, WeightInit.Xavier, 1, new Dense(1, Activation.Identity));
        new Trainer(fit, Loss.Quadratic, new Sgd(0.1)) { BatchSize = 10 }.Fit(line, epochs: 20);
        Assert.Equal(1.0, fit.Predict(new[] { 0.5 })[0], 2);
        Assert.Throws<InvalidOperationException>(() => fit.Accuracy(line));
    }

    [Fact]
    public void ANetworkSavedAsOnnxRunsInOnnxRuntimeWithTheSameOutputs()
    {
        var net = new Network(2, WeightInit.Xavier, 5, new Dense(16, Activation.Gelu), new Dropout(0.1), new Dense(2, Activation.Softmax));
        new Trainer(net, Loss.CrossEntropy, new Adam(0.02)) { BatchSize = 16 }.Fit(Xor(1, 200), epochs: 5);
        var path = Path.Combine(Path.GetTempPath(), $"toolkit-{Guid.NewGuid()}.onnx");
        try
        {
            net.SaveOnnx(path, new[] { "different", "same" });
            var test = Xor(2, 50);
            var expected = net.Predict(test.Features);
            using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path);
            var rows = test.Features;
            var input = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(
                rows.ToRowMajorArray().Select(v => (float)v).ToArray(), new[] { rows.RowCount, rows.ColumnCount });
            using var results = session.Run(new[] { Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("input", input) });
            var output = results.First().AsTensor<float>();
            for (var i = 0; i < rows.RowCount; i++)
                for (var j = 0; j < 2; j++)
                    Assert.Equal(expected[i, j], output[i, j], 5);       // float32 weights: five decimals
            Assert.Equal("different\nsame", session.ModelMetadata.CustomMetadataMap["classes"]);
            Assert.Throws<ArgumentException>(() => net.SaveOnnx(path, new[] { "one" }));
            // and back: the same layers (dropout is gone at inference), the same outputs to float32 rounding
            var back = Network.LoadOnnx(path);
            Assert.Equal("dense(16)-gelu-dense(2)-softmax", back.Describe());
            var again = back.Predict(test.Features);
            for (var i = 0; i < rows.RowCount; i++)
                for (var j = 0; j < 2; j++)
                    Assert.Equal(expected[i, j], again[i, j], 5);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void ACorruptModelFileIsRefused()
    {
        var path = Path.Combine(Path.GetTempPath(), $"toolkit-{Guid.NewGuid()}.json");
        File.WriteAllText(path, "{\"format\":\"something else\"}");
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => Network.Load(path));
            Assert.Contains("not a model file", e.Message);
        }
        finally { File.Delete(path); }
    }
}
