using Toolkit.Training;
using FNetwork = Toolkit.Nn.NetworkModule;

namespace Toolkit;

/// <summary>
/// Each feature's mean and standard deviation over a training set: features of any range train
/// as well as pixels in [0, 1] do once standardised (the mean subtracted, divided by the
/// deviation), as <c>toolkit train</c> does for tables. <see cref="FoldInto"/> puts the scaling
/// into a trained network's first layer, so that the network takes raw features.
/// </summary>
/// <example>
/// <code>
/// var scaling = FeatureScaling.Of(train);
/// new Trainer(net, Loss.Quadratic, new Sgd(0.5)).Fit(scaling.Apply(train), epochs: 20);
/// Network model = scaling.FoldInto(net);   // model.Predict takes the raw features
/// </code>
/// </example>
public sealed class FeatureScaling
{
    private readonly double[] mean, deviation;

    private FeatureScaling(double[] mean, double[] deviation)
    {
        this.mean = mean;
        this.deviation = deviation;
    }

    /// <summary>The means and standard deviations of a data set's features (a constant feature
    /// keeps a deviation of 1, so it is only centred).</summary>
    public static FeatureScaling Of(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var (m, s) = Datasets.moments(data.Data);
        return new FeatureScaling(m, s);
    }

    /// <summary>Each feature's mean.</summary>
    public IReadOnlyList<double> Means => mean;

    /// <summary>Each feature's standard deviation (what it is divided by).</summary>
    public IReadOnlyList<double> Deviations => deviation;

    /// <summary>The data set with its features standardised by this scaling (a new data set; the
    /// labels or targets and class names the same).</summary>
    /// <exception cref="ArgumentException">The data has another number of features.</exception>
    public Dataset Apply(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.FeatureCount != mean.Length)
            throw new ArgumentException($"the scaling is of {mean.Length} features, the data has {data.FeatureCount}", nameof(data));
        return new Dataset(Datasets.standardise(mean, deviation, data.Data), data.ClassNames.ToArray());
    }

    /// <summary>A network that takes raw features and gives what <paramref name="trained"/> gives
    /// for them standardised: the scaling folded into its first (dense) layer's weights and biases.</summary>
    /// <exception cref="ArgumentException">The network takes another number of inputs, or its first
    /// layer is not dense.</exception>
    public Network FoldInto(Network trained)
    {
        ArgumentNullException.ThrowIfNull(trained);
        if (trained.Core.Inputs != mean.Length)
            throw new ArgumentException($"the scaling is of {mean.Length} features, the network takes {trained.Core.Inputs}", nameof(trained));
        return new Network(FNetwork.withInputScaling(mean, deviation, trained.Core));
    }
}
