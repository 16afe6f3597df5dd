using MathNet.Numerics.LinearAlgebra;
using Toolkit.Nn;
using Toolkit.Training;
using FNetwork = Toolkit.Nn.NetworkModule;
using FActivation = Toolkit.Nn.Activation;
using FLoss = Toolkit.Tensors.Loss;

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

/// <summary>A layer of a <see cref="Network"/>: <see cref="Dense"/> or <see cref="Dropout"/>.</summary>
public abstract record Layer
{
    private protected Layer() { }
    internal abstract IEnumerable<Toolkit.Nn.Layer> ToCore(int inputs);
}

/// <summary>A dense layer: how many units, and their activation.</summary>
/// <param name="Units">The number of outputs.</param>
/// <param name="Activation">The activation.</param>
public sealed record Dense(int Units, Activation Activation) : Layer
{
    internal override IEnumerable<Toolkit.Nn.Layer> ToCore(int inputs)
    {
        if (Units < 1) throw new ArgumentOutOfRangeException(nameof(Units), Units, "a dense layer needs at least one unit");
        yield return new Toolkit.Nn.Dense(inputs, Units);
        var g = Network.ToCore(Activation);
        if (!g.IsIdentity) yield return new ActivationLayer(g, Units);
    }
}

/// <summary>Inverted dropout: in training each value is kept with probability 1 − rate and scaled
/// by 1/(1 − rate), else set to 0 (seeded by the trainer's seed); in evaluation it passes values through.</summary>
/// <param name="Rate">The probability of dropping a value, at least 0 and below 1.</param>
public sealed record Dropout(double Rate) : Layer
{
    internal override IEnumerable<Toolkit.Nn.Layer> ToCore(int inputs)
    {
        if (!(Rate >= 0 && Rate < 1)) throw new ArgumentOutOfRangeException(nameof(Rate), Rate, "a dropout rate is at least 0 and below 1");
        yield return new Toolkit.Nn.Dropout(Rate, inputs);
    }
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

/// <summary>Labelled samples: X is features × samples, one class label per sample.</summary>
public sealed class Dataset
{
    internal LabelledData Data { get; }
    internal Dataset(LabelledData data) => Data = data;

    /// <summary>A data set from features (features × samples) and class labels 0 … classes − 1.</summary>
    public Dataset(Matrix<double> x, IReadOnlyList<int> labels, int classes)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count != x.ColumnCount)
            throw new ArgumentException($"X has {x.ColumnCount} samples (columns) but there are {labels.Count} labels", nameof(labels));
        var l = labels.ToArray();
        Data = new LabelledData(x, Train.oneHot(classes, l), l);
    }

    /// <summary>The features, one column per sample.</summary>
    public Matrix<double> X => Data.X;
    /// <summary>The class of each sample.</summary>
    public IReadOnlyList<int> Labels => Data.Labels;
    /// <summary>The number of samples.</summary>
    public int Count => Data.X.ColumnCount;

    /// <summary>Fashion-MNIST's training and test sets, pixels in [0, 1], 10 classes.</summary>
    public static (Dataset Train, Dataset Test) FashionMnist(string? directory = null)
    {
        var d = Toolkit.Data.FashionMnist.load(directory ?? Toolkit.Data.FashionMnist.defaultDirectory);
        return (new Dataset(Train.ofImages(10, d.Train)), new Dataset(Train.ofImages(10, d.Test)));
    }
}

/// <summary>A feed-forward network of dense layers; columns of X are samples.</summary>
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
    public Network(int inputs, params Layer[] layers) : this(inputs, WeightInit.Normal, 1, layers) { }

    /// <summary>A network with the given initialisation and seed (the same seed gives the same weights).</summary>
    /// <exception cref="ArgumentException">No layers, or a layer's settings are out of range.</exception>
    public Network(int inputs, WeightInit init, int seed, params Layer[] layers)
    {
        if (layers is null || layers.Length == 0) throw new ArgumentException("a network needs at least one layer", nameof(layers));
        if (inputs < 1) throw new ArgumentOutOfRangeException(nameof(inputs), inputs, "a network needs at least one input");
        var fInit = init switch { WeightInit.Xavier => Init.Xavier, WeightInit.He => Init.He, WeightInit.Uniform => Init.Uniform, _ => Init.Normal };
        var core = new List<Toolkit.Nn.Layer>();
        var size = inputs;
        foreach (var layer in layers)
        {
            ArgumentNullException.ThrowIfNull(layer, nameof(layers));
            foreach (var l in layer.ToCore(size)) { core.Add(l); size = l.Outputs; }
        }
        Core = FNetwork.ofLayers(core, FLoss.Quadratic, fInit, seed);
    }

    private Network(Toolkit.Nn.Network core) => Core = core;

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

    /// <summary>The outputs for every sample (column) of X.</summary>
    public Matrix<double> Predict(Matrix<double> x) => FNetwork.predict(Core, x);

    /// <summary>The predicted class (the largest output) of every sample.</summary>
    public int[] Classify(Matrix<double> x) => FNetwork.classify(Core, x);

    /// <summary>The fraction of the data set classified correctly.</summary>
    public double Accuracy(Dataset data) => FNetwork.accuracy(Core, data.X, data.Data.Labels);

    /// <summary>Saves the network (a versioned JSON model file, written atomically).</summary>
    public void Save(string path) => Toolkit.Data.ModelFile.save(path, Core);

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

    /// <summary>Trains for <paramref name="epochs"/> epochs, reporting to <paramref name="progress"/>.
    /// Cancelling <paramref name="cancellationToken"/> stops training at the next batch and keeps
    /// the work: the network is left as of the last completed epoch, and the result says
    /// <see cref="TrainingResult.Cancelled"/>.</summary>
    /// <exception cref="ArithmeticException">The loss became NaN or infinite (a <c>NonFiniteLossException</c>
    /// naming the epoch, the batch and the first layer with non-finite values).</exception>
    public TrainingResult Fit(Dataset train, int epochs, IProgress<TrainingProgress>? progress = null,
                              CancellationToken cancellationToken = default, Dataset? test = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        var config = new TrainConfig(epochs, BatchSize, optimizer.ToCore(), Schedule.Constant, Seed, 0.0, 3, SinglePrecision ? Precision.Single : Precision.Double);
        var core = network.Core;
        core = new Toolkit.Nn.Network(core.Layers, core.Parameters, loss.Value);
        var events = Microsoft.FSharp.Core.FuncConvert.FromAction<TrainingEvent>(e =>
        {
            if (progress is null) return;
            if (e is TrainingEvent.BatchEnded b) progress.Report(new TrainingProgress(b.epoch, b.batch, b.batches, b.loss, b.accuracy, null));
            else if (e is TrainingEvent.EpochEnded m) progress.Report(new TrainingProgress(m.Item.Epoch, 0, 0, m.Item.TrainLoss, m.Item.TrainAccuracy, test is null ? null : m.Item.TestAccuracy));
        });
        // a loss that turns NaN or infinite throws NonFiniteLossException, an ArithmeticException
        var result = Train.fit(config, core, train.Data, (test ?? train).Data, events, cancellationToken);
        network.Core = result.Network;
        return new TrainingResult(
            result.Epochs.Select(m => new EpochResult(m.Epoch, m.TrainLoss, m.TrainAccuracy, test is null ? double.NaN : m.TestAccuracy, m.Seconds)).ToArray(),
            result.Cancelled);
    }

    /// <summary><see cref="Fit"/> on the thread pool.</summary>
    public Task<TrainingResult> FitAsync(Dataset train, int epochs, IProgress<TrainingProgress>? progress = null,
                                         CancellationToken cancellationToken = default, Dataset? test = null) =>
        Task.Run(() => Fit(train, epochs, progress, cancellationToken, test));
}
