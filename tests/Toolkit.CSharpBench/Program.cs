// Builds micrograd's workloads with Toolkit's C# facade (Scalar and its operators, or a new Tape
// and TapeScalar's operators), calls Backward(), and prints one JSON line per run: the graph, its
// nodes, the median seconds of build + backward, the value and the first input's dvar. The inputs
// are unnamed variables, as micrograd's leaves are Values without names; as the Python side
// does, the collector cleans up between runs, outside the timing.
// Usage: Toolkit.CSharpBench chain|wide|neuron NODES [REPEATS] [MIN_SECONDS] [scalar|tape]
// (at least REPEATS runs, and more until the runs took MIN_SECONDS: small graphs are timed over
// many runs, as scripts/micrograd_bench.py times them)
using System.Diagnostics;
using System.Text.Json;
using Toolkit;

// `cnn EPOCHS THREADS SEED`: the convolutional network of the CNN benchmark trained through the
// facade as a C# user trains it (Dataset, Network, Trainer.Fit), one JSON line as toolkit train --json
if (args[0] == "cnn") return TrainCnn(int.Parse(args[1]), int.Parse(args[2]), int.Parse(args[3]));

var graph = args[0];
var n = int.Parse(args[1]);
var repeats = args.Length > 2 ? int.Parse(args[2]) : 3;
var minSeconds = args.Length > 3 ? double.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 0;
var onTape = args.Length > 4 && args[4] == "tape";

// n operation nodes: alternately tanh(x) and x*w, w shared
(Scalar Out, Scalar X0) Chain(int nodes)
{
    var x = Scalar.Variable(0.5);
    var w = Scalar.Variable(1.0001);
    var v = x;
    for (var k = 0; k < nodes; k++) v = k % 2 == 0 ? Scalar.Tanh(v) : v * w;
    return (v, x);
}

// layers of width 1000, every node used three times: r_i = tanh(p_i * p_(i+1) + p_(i+2)); then a sum
(Scalar Out, Scalar X0) Wide(int nodes)
{
    const int width = 1000;
    var xs = Enumerable.Range(0, width).Select(i => Scalar.Variable(0.5 + 0.4 * Math.Sin(i))).ToArray();
    var p = xs;
    var layers = Math.Max(1, (nodes - width) / (3 * width));
    for (var l = 0; l < layers; l++)
    {
        var q = p;
        p = Enumerable.Range(0, width).Select(i => Scalar.Tanh(q[i] * q[(i + 1) % width] + q[(i + 2) % width])).ToArray();
    }
    var sum = p[0];
    for (var i = 1; i < width; i++) sum = sum + p[i];
    return (sum, xs[0]);
}

// micrograd's neuron with n/3 weights: s = Σ wᵢxᵢ, then tanh(s)·tanh(s)
(Scalar Out, Scalar X0) Neuron(int nodes)
{
    var k = Math.Max(1, nodes / 3);
    var s = Scalar.Constant(0);
    Scalar? w0 = null;
    for (var i = 0; i < k; i++)
    {
        var w = Scalar.Variable(Math.Sin(i));
        var x = Scalar.Variable(Math.Cos(i));
        w0 ??= w;
        s = s + w * x;
    }
    return (Scalar.Tanh(s) * Scalar.Tanh(s), w0!);
}

// the same graphs recorded on a new tape each run
(TapeScalar Out, TapeScalar X0) ChainOnTape(int nodes)
{
    var tape = new Tape();
    var x = tape.Variable(0.5);
    var w = tape.Variable(1.0001);
    var v = x;
    for (var k = 0; k < nodes; k++) v = k % 2 == 0 ? TapeScalar.Tanh(v) : v * w;
    return (v, x);
}

(TapeScalar Out, TapeScalar X0) WideOnTape(int nodes)
{
    const int width = 1000;
    var tape = new Tape();
    var xs = Enumerable.Range(0, width).Select(i => tape.Variable(0.5 + 0.4 * Math.Sin(i))).ToArray();
    var p = xs;
    var layers = Math.Max(1, (nodes - width) / (3 * width));
    for (var l = 0; l < layers; l++)
    {
        var q = p;
        p = Enumerable.Range(0, width).Select(i => TapeScalar.Tanh(q[i] * q[(i + 1) % width] + q[(i + 2) % width])).ToArray();
    }
    var sum = p[0];
    for (var i = 1; i < width; i++) sum = sum + p[i];
    return (sum, xs[0]);
}

(TapeScalar Out, TapeScalar X0) NeuronOnTape(int nodes)
{
    var k = Math.Max(1, nodes / 3);
    var tape = new Tape();
    var s = tape.Constant(0);
    var w0 = default(TapeScalar);
    for (var i = 0; i < k; i++)
    {
        var w = tape.Variable(Math.Sin(i));
        var x = tape.Variable(Math.Cos(i));
        if (i == 0) w0 = w;
        s = s + w * x;
    }
    return (TapeScalar.Tanh(s) * TapeScalar.Tanh(s), w0);
}

(double Value, double Grad0) RunOnce()
{
    if (onTape)
    {
        var (output, x0) = graph switch { "chain" => ChainOnTape(n), "wide" => WideOnTape(n), "neuron" => NeuronOnTape(n), _ => throw new ArgumentException($"unknown graph '{graph}'") };
        var g = output.Backward();
        return (g.Value, g[x0]);
    }
    else
    {
        var (output, x0) = graph switch { "chain" => Chain(n), "wide" => Wide(n), "neuron" => Neuron(n), _ => throw new ArgumentException($"unknown graph '{graph}'") };
        var g = output.Backward();
        return (g.Value, g[x0]);
    }
}

var times = new List<double>();
double value = 0, grad0 = 0;
for (var r = 0; r < repeats || times.Sum() < minSeconds; r++)
{
    var sw = Stopwatch.StartNew();
    (value, grad0) = RunOnce();
    times.Add(sw.Elapsed.TotalSeconds);
    GC.Collect();
}
times.Sort();
var median = times[times.Count / 2];
Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
{
    ["graph"] = graph, ["facade"] = onTape ? "tape" : "scalar", ["nodes"] = n, ["seconds"] = median, ["nodes_per_second"] = n / median,
    ["peak_rss_mb"] = Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0, ["value"] = value, ["grad0"] = grad0,
}));

return 0;

static int TrainCnn(int epochs, int threads, int seed)
{
    LinearAlgebra.Threads = threads;
    var (train, test) = Dataset.FashionMnist();
    var net = new Network(new ImageShape(1, 28, 28), WeightInit.Uniform, seed,
        new Conv2D(1, 32, 3, padding: 1), new ActivationLayer(Activation.Relu), new MaxPool2D(2),
        new Conv2D(32, 64, 3, padding: 1), new ActivationLayer(Activation.Relu), new MaxPool2D(2),
        new Flatten(), new Dense(128, Activation.Relu), new Dropout(0.3), new Dense(10, Activation.Softmax));
    var result = new Trainer(net, Loss.CrossEntropy, new Adam(0.001)) { BatchSize = 64, Seed = seed }.Fit(train, epochs, test: test);
    Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["seconds_per_epoch"] = result.Select(e => e.Seconds).ToArray(),
        ["test_accuracy_per_epoch"] = result.Select(e => e.TestAccuracy).ToArray(),
        ["layers"] = net.Describe(),
        ["peak_memory_mb"] = Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0,
    }));
    return 0;
}
