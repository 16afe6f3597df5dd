using MathNet.Numerics.LinearAlgebra;
using Toolkit.Nn;
using Toolkit.Training;
using FNetwork = Toolkit.Nn.NetworkModule;
using FActivation = Toolkit.Nn.Activation;
using FLoss = Toolkit.Tensors.Loss;
using FTask = Toolkit.Training.Task;
using Target = Toolkit.Training.Target;

namespace Toolkit;

/// <summary>A layer's activation function.</summary>
public enum Activation
{
    /// <summary>g(z) = z.</summary>
    Identity,
    /// <summary>σ(z).</summary>
    Sigmoid,
    /// <summary>tanh z.</summary>
    Tanh,
    /// <summary>max(0, z).</summary>
    Relu,
    /// <summary>z for z &gt; 0, 0.01·z otherwise.</summary>
    LeakyRelu,
    /// <summary>Softmax over each sample's outputs.</summary>
    Softmax,
    /// <summary>softplus z = ln(1 + eᶻ), a smooth ReLU.</summary>
    Softplus,
    /// <summary>ELU: z for z &gt; 0, eᶻ − 1 otherwise.</summary>
    Elu,
    /// <summary>GELU: z·Φ(z).</summary>
    Gelu,
}

/// <summary>How weights are drawn.</summary>
public enum WeightInit
{
    /// <summary>N(0, 1) weights and biases (the notes' 784-30-10 network).</summary>
    Normal,
    /// <summary>Xavier/Glorot, for sigmoid and tanh.</summary>
    Xavier,
    /// <summary>He, for ReLU.</summary>
    He,
    /// <summary>Uniform in ±1/√inputs, weights and biases (PyTorch's default for a linear layer).</summary>
    Uniform,
}

/// <summary>The cost a network is trained on.</summary>
public sealed class Loss
{
    internal FLoss Value { get; }
    private Loss(FLoss value) => Value = value;

    /// <summary>½‖a − y‖² per sample, averaged over the batch.</summary>
    public static Loss Quadratic { get; } = new(FLoss.Quadratic);
    /// <summary>Binary cross-entropy (fused with a sigmoid output).</summary>
    public static Loss BinaryCrossEntropy { get; } = new(FLoss.BinaryCrossEntropy);
    /// <summary>Cross-entropy (fused with a softmax output).</summary>
    public static Loss CrossEntropy { get; } = new(FLoss.CrossEntropy);
    /// <summary>The multiclass SVM (hinge) loss with margin 1.</summary>
    public static Loss Hinge { get; } = new(FLoss.NewHinge(1.0));
}

/// <summary>An optimiser's settings.</summary>
public abstract class OptimizerSettings
{
    internal abstract Optimizer ToCore();
}

/// <summary>Mini-batch stochastic gradient descent.</summary>
public sealed class Sgd(double learningRate) : OptimizerSettings
{
    internal override Optimizer ToCore() => Optimizer.NewSgd(learningRate);
}

/// <summary>SGD with momentum (optionally Nesterov's).</summary>
public sealed class Momentum(double learningRate, double momentum = 0.9, bool nesterov = false) : OptimizerSettings
{
    internal override Optimizer ToCore() => nesterov ? Optimizer.NewNesterov(learningRate, momentum) : Optimizer.NewMomentum(learningRate, momentum);
}

/// <summary>Adam.</summary>
public sealed class Adam(double learningRate = 0.001, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8) : OptimizerSettings
{
    internal override Optimizer ToCore() => Optimizer.NewAdam(learningRate, beta1, beta2, epsilon);
}

/// <summary>RMSProp: a running mean of squared gradients scales each step.</summary>
public sealed class RmsProp(double learningRate = 0.001, double rho = 0.99, double epsilon = 1e-8) : OptimizerSettings
{
    internal override Optimizer ToCore() => Optimizer.NewRmsProp(learningRate, rho, epsilon);
}

/// <summary>AdamW: Adam with decoupled weight decay.</summary>
public sealed class AdamW(double learningRate = 0.001, double weightDecay = 0.01, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8) : OptimizerSettings
{
    internal override Optimizer ToCore() => Optimizer.NewAdamW(learningRate, beta1, beta2, epsilon, weightDecay);
}

/// <summary>
/// Samples to train or measure on, one sample per row (samples × features, as .NET and PyTorch
/// hold data), each with a class label (classification) or a real-valued target (regression).
/// </summary>
/// <example>
/// <code>
/// var data = new Dataset(new double[,] { { 0.1, 2.0 }, { 0.7, 1.5 } }, new[] { 0, 1 });
/// var (train, test) = Dataset.FromCsv("iris.csv", label: "species");
/// </code>
/// </example>
public sealed class Dataset
{
    internal LabelledData Data { get; }
    private readonly string[] classNames;

    internal Dataset(LabelledData data, string[] classNames)
    {
        Data = data;
        this.classNames = classNames;
    }

    private static Dataset OfTask(LabelledData data, FTask task) =>
        new(data, task is FTask.Classes c ? c.names : Array.Empty<string>());

    /// <summary>A classification data set: one sample per row of <paramref name="features"/>,
    /// its class in <paramref name="labels"/> (0 … classes − 1; the count is the largest label + 1
    /// unless given).</summary>
    /// <exception cref="ArgumentException">The labels do not match the rows, a label is outside the
    /// classes, or a feature is NaN or infinite.</exception>
    public Dataset(double[,] features, IReadOnlyList<int> labels, int? classes = null)
        : this(Matrix<double>.Build.DenseOfArray(features ?? throw new ArgumentNullException(nameof(features))), labels, classes) { }

    /// <summary>A classification data set from a matrix with one sample per row.</summary>
    /// <exception cref="ArgumentException">The labels do not match the rows, a label is outside the
    /// classes, or a feature is NaN or infinite.</exception>
    public Dataset(Matrix<double> features, IReadOnlyList<int> labels, int? classes = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count != features.RowCount)
            throw new ArgumentException($"{features.RowCount} samples (rows) but {labels.Count} labels", nameof(labels));
        CheckFinite(features, nameof(features));
        var l = labels.ToArray();
        var k = classes ?? (l.Length == 0 ? 2 : Math.Max(2, l.Max() + 1));
        if (k < 2) throw new ArgumentOutOfRangeException(nameof(classes), k, "at least two classes");
        var bad = Array.FindIndex(l, c => c < 0 || c >= k);
        if (bad >= 0) throw new ArgumentException($"sample {bad} has the label {l[bad]}, outside the {k} classes 0 … {k - 1}", nameof(labels));
        Data = new LabelledData(Samples.OfMatrix(features.Transpose()), Train.oneHot(k, l), l);
        classNames = Datasets.numbered(k);
    }

    /// <summary>A regression data set: one sample per row of <paramref name="features"/>, the value
    /// to predict in <paramref name="targets"/> (train with <see cref="Loss.Quadratic"/> and an
    /// identity output).</summary>
    /// <exception cref="ArgumentException">The targets do not match the rows, or a value is NaN or infinite.</exception>
    public static Dataset Regression(double[,] features, IReadOnlyList<double> targets)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        var x = Matrix<double>.Build.DenseOfArray(features);
        if (targets.Count != x.RowCount)
            throw new ArgumentException($"{x.RowCount} samples (rows) but {targets.Count} targets", nameof(targets));
        CheckFinite(x, nameof(features));
        if (targets.Any(t => !double.IsFinite(t))) throw new ArgumentException("a target is NaN or infinite", nameof(targets));
        return new Dataset(new LabelledData(Samples.OfMatrix(x.Transpose()), Matrix<double>.Build.Dense(1, targets.Count, targets.ToArray()), Array.Empty<int>()), Array.Empty<string>());
    }

    private static void CheckFinite(Matrix<double> x, string name)
    {
        var at = x.Find(v => !double.IsFinite(v));
        if (at is not null) throw new ArgumentException($"the feature at row {at.Item1}, column {at.Item2} is {at.Item3}", name);
    }

    /// <summary>The features, one sample per row (a copy).</summary>
    public Matrix<double> Features => Data.X.ToMatrix().Transpose();
    /// <summary>The class of each sample (empty for regression).</summary>
    public IReadOnlyList<int> Labels => Data.Labels;
    /// <summary>The target of each sample for regression (empty for classification).</summary>
    public IReadOnlyList<double> Targets => IsRegression ? Data.Y.Row(0).ToArray() : Array.Empty<double>();
    /// <summary>The classes' names, by label (numbers unless the data named them); empty for regression.</summary>
    public IReadOnlyList<string> ClassNames => classNames;
    /// <summary>True when the samples have real-valued targets rather than classes.</summary>
    public bool IsRegression => Data.Labels.Length == 0 && Data.Y.RowCount == 1 && classNames.Length == 0;
    /// <summary>The number of samples.</summary>
    public int Count => Data.X.ColumnCount;
    /// <summary>The number of features of a sample.</summary>
    public int FeatureCount => Data.X.RowCount;

    /// <summary>The first <paramref name="count"/> samples (all of them if there are fewer), with the same classes.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The count is below 1.</exception>
    public Dataset Take(int count)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "a data set has at least one sample");
        var n = Math.Min(count, Count);
        var labels = Data.Labels.Length == 0 ? Array.Empty<int>() : Data.Labels[..n];
        return new Dataset(new LabelledData(Data.X.Columns(Enumerable.Range(0, n).ToArray()), Data.Y.SubMatrix(0, Data.Y.RowCount, 0, n), labels), classNames);
    }

    /// <summary>A CSV table's training and test sets: every column but <paramref name="label"/>
    /// (a name, or a number from 1) is a feature; the label column holds classes, as numbers
    /// 0, 1, … or as names. The test set is <paramref name="testPath"/> if given, else
    /// <paramref name="testFraction"/> of the rows held out by a shuffle seeded with
    /// <paramref name="seed"/>.</summary>
    /// <exception cref="InvalidDataException">A cell is not a finite number, a row is ragged, or
    /// a column is missing (the message names the file, line and column).</exception>
    public static (Dataset Train, Dataset Test) FromCsv(string path, string label, string? testPath = null, double testFraction = 0.2, int seed = 1) =>
        FromCsv(path, Target.NewLabel(label ?? throw new ArgumentNullException(nameof(label))), testPath, testFraction, seed);

    /// <summary>As <see cref="FromCsv(string, string, string?, double, int)"/>, with a real-valued
    /// <paramref name="target"/> column (regression).</summary>
    /// <exception cref="InvalidDataException">A cell is not a finite number, a row is ragged, or
    /// a column is missing.</exception>
    public static (Dataset Train, Dataset Test) FromCsvRegression(string path, string target, string? testPath = null, double testFraction = 0.2, int seed = 1) =>
        FromCsv(path, Target.NewValue(target ?? throw new ArgumentNullException(nameof(target))), testPath, testFraction, seed);

    private static (Dataset, Dataset) FromCsv(string path, Target target, string? testPath, double testFraction, int seed)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!(testFraction > 0 && testFraction < 1)) throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "a fraction between 0 and 1");
        var test = testPath is null ? Microsoft.FSharp.Core.FSharpOption<string>.None : Microsoft.FSharp.Core.FSharpOption<string>.Some(testPath);
        var d = Datasets.csv(path, test, testFraction, seed, target, Microsoft.FSharp.Core.FSharpOption<bool>.None, Microsoft.FSharp.Core.FSharpOption<string[]>.None);
        return (OfTask(d.Train, d.Task), OfTask(d.Test, d.Task));
    }

    /// <summary>Images in MNIST's IDX layout (train-images-idx3-ubyte, train-labels-idx1-ubyte,
    /// t10k-…, gzip or raw) of any size and channel count, pixels scaled to [0, 1]; class names
    /// from <c>classes.txt</c> beside them, else numbered.</summary>
    /// <exception cref="InvalidDataException">A file is damaged or the files disagree.</exception>
    public static (Dataset Train, Dataset Test) FromImages(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var d = Datasets.images(directory, Microsoft.FSharp.Core.FSharpOption<string[]>.None);
        return (OfTask(d.Train, d.Task), OfTask(d.Test, d.Task));
    }

    /// <summary>Fashion-MNIST's training and test sets (784 pixels in [0, 1], its ten class names).</summary>
    public static (Dataset Train, Dataset Test) FashionMnist(string? directory = null) =>
        FromImages(directory ?? Toolkit.Data.FashionMnist.defaultDirectory);
}

/// <summary>A feed-forward network of layers; samples are rows, as in <see cref="Dataset"/>.</summary>
/// <example>
/// <code>
/// var net = new Network(784, new Dense(30, Activation.Sigmoid), new Dense(10, Activation.Sigmoid));
/// var trainer = new Trainer(net, Loss.Quadratic, new Sgd(learningRate: 3.0)) { BatchSize = 10 };
/// trainer.Fit(train, epochs: 1);
/// double accuracy = net.Accuracy(test);
/// </code>
/// </example>
public sealed class Network
{
    internal Toolkit.Nn.Network Core { get; set; }

    /// <summary>A network with N(0, 1) weights from seed 1 (the notes' choice).</summary>
    /// <remarks>When the first layer is a <see cref="Conv2D"/> (or a pooling), the inputs are a square
    /// image of its input channels (784 features and 1 channel: 28 × 28); give an
    /// <see cref="ImageShape"/> instead for any other.</remarks>
    public Network(int inputs, params Layer[] layers) : this(inputs, WeightInit.Normal, 1, layers) { }

    /// <summary>A network with the given initialisation and seed (the same seed gives the same weights).</summary>
    /// <exception cref="ArgumentException">No layers, a layer's settings are out of range, or a layer does not fit the one before.</exception>
    public Network(int inputs, WeightInit init, int seed, params Layer[] layers)
        : this(Build(InputOf(inputs, layers), init, seed, layers)) { }

    /// <summary>A network on images of the given shape (channels × height × width), with N(0, 1)
    /// weights from seed 1; the samples' features are the image channel after channel, row by row.</summary>
    public Network(ImageShape input, params Layer[] layers) : this(input, WeightInit.Normal, 1, layers) { }

    /// <summary>A network on images of the given shape, with the given initialisation and seed.</summary>
    /// <exception cref="ArgumentException">No layers, a layer's settings are out of range, or a layer does not fit the one before.</exception>
    public Network(ImageShape input, WeightInit init, int seed, params Layer[] layers)
        : this(Build(input.ToCore(), init, seed, layers)) { }

    private static SampleShape InputOf(int inputs, Layer[] layers)
    {
        if (inputs < 1) throw new ArgumentOutOfRangeException(nameof(inputs), inputs, "a network needs at least one input");
        if (layers is { Length: > 0 } && layers[0] is Conv2D conv)
        {
            var side = (int)Math.Round(Math.Sqrt(inputs / (double)conv.InChannels));
            if (conv.InChannels * side * side != inputs)
                throw new ArgumentException($"{inputs} inputs are not a square image of {conv.InChannels} channel(s): give the image's shape, new Network(new ImageShape(channels, height, width), …)", nameof(inputs));
            return SampleShape.Image(conv.InChannels, side, side);
        }
        return SampleShape.Flat(inputs);
    }

    private static Toolkit.Nn.Network Build(SampleShape input, WeightInit init, int seed, Layer[] layers)
    {
        if (layers is null || layers.Length == 0) throw new ArgumentException("a network needs at least one layer", nameof(layers));
        var fInit = init switch { WeightInit.Xavier => Init.Xavier, WeightInit.He => Init.He, WeightInit.Uniform => Init.Uniform, _ => Init.Normal };
        var core = new List<Toolkit.Nn.Layer>();
        var shape = input;
        foreach (var layer in layers)
        {
            ArgumentNullException.ThrowIfNull(layer, nameof(layers));
            foreach (var l in layer.ToCore(shape)) { core.Add(l); shape = l.OutputShape; }
        }
        return FNetwork.ofLayers(core, FLoss.Quadratic, fInit, seed);
    }

    internal Network(Toolkit.Nn.Network core) => Core = core;

    internal static FActivation ToCore(Activation a) => a switch
    {
        Activation.Identity => FActivation.Identity,
        Activation.Softmax => FActivation.Softmax,
        Activation.LeakyRelu => FActivation.LeakyRelu(0.01),
        // every other activation is the op of the core's vocabulary with the same name
        _ => ActivationModule.tryParse(a.ToString()) is { } g ? g.Value
             : throw new ArgumentOutOfRangeException(nameof(a), a, "not an activation"),
    };

    /// <summary>The layers as text, inputs side first (<c>dense(30)-sigmoid-dense(10)-sigmoid</c>).</summary>
    public string Describe() => FNetwork.describe(Core);

    /// <summary>The layer sizes, inputs first.</summary>
    public IReadOnlyList<int> Sizes => FNetwork.sizes(Core).ToArray();

    /// <summary>The shape of a sample coming in (height and width 1 for a vector of features).</summary>
    public ImageShape InputShape => ImageShape.Of(Core.InputShape);

    private Matrix<double> Columns(Matrix<double> features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.ColumnCount != Core.Inputs)
            throw new ArgumentException($"the network takes {Core.Inputs} features per sample, not {features.ColumnCount}", nameof(features));
        return features.Transpose();
    }

    /// <summary>The outputs for every sample, one sample per row: samples × outputs.</summary>
    /// <exception cref="ArgumentException">The rows do not have the network's number of inputs.</exception>
    public Matrix<double> Predict(Matrix<double> features) => FNetwork.predict(Core, Columns(features)).Transpose();

    /// <summary>The outputs for one sample.</summary>
    /// <exception cref="ArgumentException">The sample does not have the network's number of inputs.</exception>
    public double[] Predict(double[] sample) =>
        Predict(Matrix<double>.Build.DenseOfRowArrays(sample ?? throw new ArgumentNullException(nameof(sample)))).Row(0).ToArray();

    /// <summary>Every parameter, layer after layer in each layer's own order (a dense layer's W
    /// column-major, then b; a convolution's kernels as outputs × channels × k × k, then b): a copy.</summary>
    public double[] GetParameters() => (double[])Core.Parameters.Clone();

    /// <summary>Replaces every parameter (laid out as <see cref="GetParameters"/> gives them).</summary>
    /// <exception cref="ArgumentException">The count is not the network's.</exception>
    public void SetParameters(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count != Core.Parameters.Length)
            throw new ArgumentException($"the network has {Core.Parameters.Length} parameters, not {values.Count}", nameof(values));
        Core = FNetwork.withParameters(Core, values.ToArray());
    }

    /// <summary>The gradient of the mean loss over the samples (one per row) with respect to every
    /// parameter, laid out as <see cref="GetParameters"/> gives them: one backward pass, in float64,
    /// in training mode (dropout drops, batch normalisation uses the batch's statistics).</summary>
    /// <exception cref="ArgumentException">The features or targets do not fit the network.</exception>
    public double[] Gradient(Matrix<double> features, Matrix<double> targets, Loss loss)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(loss);
        var x = Columns(features);
        if (targets.RowCount != features.RowCount || targets.ColumnCount != Core.Outputs)
            throw new ArgumentException($"{features.RowCount} samples need {features.RowCount}×{Core.Outputs} targets, not {targets.RowCount}×{targets.ColumnCount}", nameof(targets));
        var withLoss = new Toolkit.Nn.Network(Core.Layers, Core.Parameters, loss.Value);
        return FNetwork.backward(withLoss, x, targets.Transpose()).Parameters;
    }

    /// <summary>The predicted class (the largest output) of every sample, one sample per row.</summary>
    /// <exception cref="ArgumentException">The rows do not have the network's number of inputs.</exception>
    public int[] Classify(Matrix<double> features) => FNetwork.classify(Core, Columns(features));

    /// <summary>The predicted class of every sample of a data set.</summary>
    public int[] Classify(Dataset data) => FNetwork.classifySamples(Core, (data ?? throw new ArgumentNullException(nameof(data))).Data.X);

    /// <summary>The fraction of the data set classified correctly.</summary>
    /// <exception cref="InvalidOperationException">The data set has real-valued targets, not classes.</exception>
    public double Accuracy(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.IsRegression) throw new InvalidOperationException("a regression data set has no classes to be accurate about; use Loss");
        var predicted = FNetwork.classifySamples(Core, data.Data.X);
        return (double)predicted.Where((c, j) => c == data.Data.Labels[j]).Count() / predicted.Length;
    }

    /// <summary>The mean loss over a data set (the loss the network was last trained with;
    /// the quadratic loss before training).</summary>
    public double Loss(Dataset data) => Train.evaluate(Core, (data ?? throw new ArgumentNullException(nameof(data))).Data).Item1;

    /// <summary>Saves the network (a versioned JSON model file, written atomically), with the names
    /// of the classes its outputs stand for, if given (one per output).</summary>
    /// <exception cref="ArgumentException">The class names do not match the outputs.</exception>
    public void Save(string path, IReadOnlyList<string>? classNames = null) =>
        Toolkit.Data.ModelFile.saveWithClasses(path, Core, classNames?.ToArray() ?? Array.Empty<string>());

    /// <summary>Saves the network as an ONNX model (opset 20; input "input" and output "output",
    /// samples × features with the batch dimension dynamic; weights in float32), for ONNX Runtime,
    /// PyTorch and other ONNX readers, with the class names, if given, in its metadata.</summary>
    /// <exception cref="NotSupportedException">A layer has no ONNX form.</exception>
    /// <exception cref="ArgumentException">The class names do not match the outputs.</exception>
    public void SaveOnnx(string path, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var names = classNames?.ToArray() ?? Array.Empty<string>();
        if (names.Length != 0 && names.Length != Core.Outputs)
            throw new ArgumentException($"{names.Length} class names for a network with {Core.Outputs} outputs", nameof(classNames));
        Toolkit.Onnx.Onnx.save(path, names, Core);
    }

    /// <summary>Reads an ONNX model that is a chain of dense layers (Gemm, or MatMul and Add) and
    /// activations, as <c>torch.onnx.export</c> writes a <c>Sequential</c> of <c>Linear</c> layers:
    /// the network predicts what the model does and trains further like any other.</summary>
    /// <exception cref="NotSupportedException">An operator or a shape has no toolkit layer (named in the message).</exception>
    /// <exception cref="InvalidDataException">The file is not an ONNX model.</exception>
    public static Network LoadOnnx(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return new Network(Toolkit.Onnx.Onnx.load(path).Item1);
    }

    /// <summary>Loads a network saved by <see cref="Save"/>; it predicts bit-identically.</summary>
    /// <exception cref="InvalidDataException">The file is not a model file, or is damaged.</exception>
    public static Network Load(string path)
    {
        return new Network(Toolkit.Data.ModelFile.load(path));
    }
}

/// <summary>What the trainer reports: after every mini-batch and every epoch.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="Batch">The mini-batch within the epoch, from 1 (0 for an epoch's end).</param>
/// <param name="Batches">Mini-batches per epoch.</param>
/// <param name="Loss">The batch's loss, or the epoch's mean training loss.</param>
/// <param name="Accuracy">The batch's accuracy, or the epoch's accuracy on the training data.</param>
/// <param name="TestAccuracy">At an epoch's end, the accuracy on the test set (if one was given); else null.</param>
public sealed record TrainingProgress(int Epoch, int Batch, int Batches, double Loss, double Accuracy, double? TestAccuracy);

/// <summary>One epoch of training.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="TrainLoss">The mean mini-batch loss.</param>
/// <param name="TrainAccuracy">Accuracy on the training data after the epoch.</param>
/// <param name="TestAccuracy">Accuracy on the test data after the epoch.</param>
/// <param name="Seconds">Training time of the epoch.</param>
public sealed record EpochResult(int Epoch, double TrainLoss, double TrainAccuracy, double TestAccuracy, double Seconds);

/// <summary>What <see cref="Trainer.Fit"/> did: one <see cref="EpochResult"/> per completed epoch,
/// and whether cancellation stopped it (the network is then as of the last completed epoch).</summary>
public sealed class TrainingResult : IReadOnlyList<EpochResult>
{
    private readonly EpochResult[] epochs;
    internal TrainingResult(EpochResult[] epochs, bool cancelled) { this.epochs = epochs; Cancelled = cancelled; }
    /// <summary>True when the cancellation token stopped training before the last epoch: the
    /// network holds the parameters of the last completed epoch (its starting ones if none completed).</summary>
    public bool Cancelled { get; }
    /// <summary>The completed epoch at an index.</summary>
    public EpochResult this[int index] => epochs[index];
    /// <summary>The number of completed epochs.</summary>
    public int Count => epochs.Length;
    /// <summary>The completed epochs, in order.</summary>
    public IEnumerator<EpochResult> GetEnumerator() => ((IEnumerable<EpochResult>)epochs).GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>Trains a network with a loss and an optimiser by mini-batches.</summary>
public sealed class Trainer(Network network, Loss loss, OptimizerSettings optimizer)
{
    /// <summary>Samples per mini-batch (default 10).</summary>
    public int BatchSize { get; init; } = 10;
    /// <summary>Seeds the shuffling: the same seed trains identically (default 1).</summary>
    public int Seed { get; init; } = 1;
    /// <summary>Train in float32 (SGEMM products; default true) or float64.</summary>
    public bool SinglePrecision { get; init; } = true;
    /// <summary>A folder for a checkpoint: after every epoch the training state (parameters,
    /// optimiser moments, random generators, measurements) is saved there atomically, and
    /// <see cref="Fit"/> goes on from a checkpoint it finds there, so that a run stopped (a crash,
    /// a cancellation) and fitted again ends with the weights an uninterrupted run has, bit for
    /// bit. Null (the default): no checkpoint.</summary>
    public string? CheckpointDirectory { get; init; }
    /// <summary>A run store to record each <see cref="Fit"/> in (settings, every epoch, the
    /// machine), as <c>toolkit train</c> records its runs; null (the default): not recorded.</summary>
    public RunStore? Runs { get; init; }

    /// <summary>Trains for <paramref name="epochs"/> epochs, reporting to <paramref name="progress"/>.
    /// Cancelling <paramref name="cancellationToken"/> stops training at the next batch and keeps
    /// the work: the network is left as of the last completed epoch, and the result says
    /// <see cref="TrainingResult.Cancelled"/>.</summary>
    /// <exception cref="ArithmeticException">The loss became NaN or infinite (a <c>NonFiniteLossException</c>
    /// naming the epoch, the batch and the first layer with non-finite values).</exception>
    /// <exception cref="InvalidOperationException">The <see cref="CheckpointDirectory"/> holds the
    /// checkpoint of another run, or of more epochs than asked for.</exception>
    /// <exception cref="InvalidDataException">The checkpoint there is damaged.</exception>
    /// <exception cref="IOException">The <see cref="Runs"/> store could not be written.</exception>
    public TrainingResult Fit(Dataset train, int epochs, IProgress<TrainingProgress>? progress = null,
                              CancellationToken cancellationToken = default, Dataset? test = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        var config = new TrainConfig(epochs, BatchSize, optimizer.ToCore(), Schedule.Constant, Seed, 0.0, 3, SinglePrecision ? Toolkit.Training.Precision.Single : Toolkit.Training.Precision.Double);
        var core = network.Core;
        core = new Toolkit.Nn.Network(core.Layers, core.Parameters, loss.Value);
        // the run recorded as it goes, as toolkit train records it
        long? run = Runs?.Start("C# Trainer.Fit", new[]
        {
            ("layers", FNetwork.describe(core)), ("loss", Toolkit.Tensors.LossModule.name(loss.Value)),
            ("optimizer", config.Optimizer.ToString()), ("batch", BatchSize.ToString()), ("seed", Seed.ToString()),
            ("precision", SinglePrecision ? "32" : "64"), ("data", $"{train.Count}×{train.FeatureCount}"), ("epochs", epochs.ToString()),
        });
        var events = Microsoft.FSharp.Core.FuncConvert.FromAction<TrainingEvent>(e =>
        {
            if (run is { } id && e is TrainingEvent.EpochEnded ended)
            {
                var m = ended.Item;
                Runs!.Core.AddEpoch(id, new Toolkit.Runs.EpochRecord(m.Epoch, m.TrainLoss, m.TrainAccuracy, m.TestLoss,
                                                                    test is null ? double.NaN : m.TestAccuracy, m.Seconds));
            }
            if (progress is null) return;
            if (e is TrainingEvent.BatchEnded b) progress.Report(new TrainingProgress(b.epoch, b.batch, b.batches, b.loss, b.accuracy, null));
            else if (e is TrainingEvent.EpochEnded m) progress.Report(new TrainingProgress(m.Item.Epoch, 0, 0, m.Item.TrainLoss, m.Item.TrainAccuracy, test is null ? null : m.Item.TestAccuracy));
        });
        // what makes this run this run: a checkpoint of another is refused, not resumed
        var fingerprint = Microsoft.FSharp.Collections.ListModule.OfSeq(new[]
        {
            Tuple.Create("layers", FNetwork.describe(core)), Tuple.Create("loss", Toolkit.Tensors.LossModule.name(loss.Value)),
            Tuple.Create("optimizer", config.Optimizer.ToString()), Tuple.Create("batch", BatchSize.ToString()),
            Tuple.Create("seed", Seed.ToString()), Tuple.Create("precision", SinglePrecision ? "32" : "64"),
            Tuple.Create("data", $"{train.Count}×{train.FeatureCount}"),
        });
        var resume = Microsoft.FSharp.Core.FSharpOption<TrainState>.None;
        if (CheckpointDirectory is not null && File.Exists(Path.Combine(CheckpointDirectory, Checkpoint.FileName)))
        {
            var saved = Checkpoint.load(CheckpointDirectory);
            var differences = Checkpoint.differences(saved.Item1, fingerprint);
            if (!differences.IsEmpty)
                throw new InvalidOperationException($"{CheckpointDirectory} holds the checkpoint of another run ({string.Join("; ", differences)})");
            if (saved.Item2.Epoch > epochs)
                throw new InvalidOperationException($"{CheckpointDirectory} holds a checkpoint after epoch {saved.Item2.Epoch}, more than the {epochs} epochs asked for");
            resume = saved.Item2;
        }
        var onEpoch = Microsoft.FSharp.Core.FuncConvert.FromAction<TrainState>(state =>
        {
            if (CheckpointDirectory is not null) Checkpoint.save(CheckpointDirectory, fingerprint, state);
        });
        // a loss that turns NaN or infinite throws NonFiniteLossException, an ArithmeticException
        TrainResult result;
        try
        {
            result = Train.fitFrom(config, core, train.Data, (test ?? train).Data, events, cancellationToken, resume, onEpoch);
        }
        catch (Exception e) when (run is { } id)
        {
            Runs!.Core.Finish(id, "failed: " + e.Message, Microsoft.FSharp.Core.FSharpOption<string>.None);
            throw;
        }
        if (run is { } done)
            Runs!.Core.Finish(done, result.Cancelled ? "cancelled" : result.StoppedEarly ? "stopped early" : "completed", Microsoft.FSharp.Core.FSharpOption<string>.None);
        network.Core = result.Network;
        return new TrainingResult(
            result.Epochs.Select(m => new EpochResult(m.Epoch, m.TrainLoss, m.TrainAccuracy, test is null ? double.NaN : m.TestAccuracy, m.Seconds)).ToArray(),
            result.Cancelled);
    }

    /// <summary><see cref="Fit"/> on the thread pool.</summary>
    public System.Threading.Tasks.Task<TrainingResult> FitAsync(Dataset train, int epochs, IProgress<TrainingProgress>? progress = null,
                                         CancellationToken cancellationToken = default, Dataset? test = null) =>
        System.Threading.Tasks.Task.Run(() => Fit(train, epochs, progress, cancellationToken, test));
}
