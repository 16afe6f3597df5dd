using Toolkit.Nn;
using FActivationLayer = Toolkit.Nn.ActivationLayer;

namespace Toolkit;

/// <summary>The shape of one image: channels × height × width. Its features are stored channel
/// after channel, each row by row (as PyTorch's tensors hold an image).</summary>
/// <param name="Channels">Values per pixel (1 for grey, 3 for colour).</param>
/// <param name="Height">Rows of pixels.</param>
/// <param name="Width">Columns of pixels.</param>
public readonly record struct ImageShape(int Channels, int Height, int Width)
{
    /// <summary>Values per sample: channels · height · width.</summary>
    public int Size => Channels * Height * Width;

    internal SampleShape ToCore()
    {
        if (Channels < 1 || Height < 1 || Width < 1)
            throw new ArgumentOutOfRangeException(nameof(Channels), this, "an image has at least one channel, row and column");
        return SampleShape.Image(Channels, Height, Width);
    }

    internal static ImageShape Of(SampleShape s) => new(s.Channels, s.Height, s.Width);

    /// <summary>"1×28×28".</summary>
    public override string ToString() => $"{Channels}×{Height}×{Width}";
}

/// <summary>A layer of a <see cref="Network"/>: <see cref="Dense"/>, <see cref="Conv2D"/>,
/// <see cref="MaxPool2D"/>, <see cref="AvgPool2D"/>, <see cref="BatchNorm"/>, <see cref="Flatten"/>,
/// <see cref="ActivationLayer"/> or <see cref="Dropout"/>.</summary>
public abstract record Layer
{
    private protected Layer() { }
    internal abstract IEnumerable<Toolkit.Nn.Layer> ToCore(SampleShape input);

    // the core's own checks (a kernel larger than the image, …) as the argument exceptions .NET code expects
    private protected static Toolkit.Nn.Layer Make(string what, Func<Toolkit.Nn.Layer> make)
    {
        try { return make(); }
        catch (ArgumentException e) when (e is not ArgumentOutOfRangeException)
        {
            throw new ArgumentException($"{what}: {e.Message}", e.ParamName, e);
        }
    }
}

/// <summary>A dense layer: how many units, and their activation. After an image it takes all of
/// the image's values (it flattens).</summary>
/// <param name="Units">The number of outputs.</param>
/// <param name="Activation">The activation.</param>
public sealed record Dense(int Units, Activation Activation) : Layer
{
    internal override IEnumerable<Toolkit.Nn.Layer> ToCore(SampleShape input)
    {
        if (Units < 1) throw new ArgumentOutOfRangeException(nameof(Units), Units, "a dense layer needs at least one unit");
        yield return new Toolkit.Nn.Dense(input.Size, Units);
        var g = Network.ToCore(Activation);
        if (!g.IsIdentity) yield return new FActivationLayer(g, Units);
    }
}

/// <summary>An activation on its own (after a <see cref="BatchNorm"/>, say): g applied to every value,
/// the shape kept.</summary>
/// <param name="Function">The activation.</param>
public sealed record ActivationLayer(Activation Function) : Layer
{
    internal override IEnumerable<Toolkit.Nn.Layer> ToCore(SampleShape input)
    {
        var g = Network.ToCore(Function);
        if (!g.IsIdentity) yield return new FActivationLayer(g, input);
    }
}

/// <summary>Inverted dropout: in training each value is kept with probability 1 − rate and scaled
/// by 1/(1 − rate), else set to 0 (seeded by the trainer's seed); in evaluation it passes values through.</summary>
/// <param name="Rate">The probability of dropping a value, at least 0 and below 1.</param>
public sealed record Dropout(double Rate) : Layer
{
    internal override IEnumerable<Toolkit.Nn.Layer> ToCore(SampleShape input)
    {
        if (!(Rate >= 0 && Rate < 1)) throw new ArgumentOutOfRangeException(nameof(Rate), Rate, "a dropout rate is at least 0 and below 1");
        yield return new Toolkit.Nn.Dropout(Rate, input);
    }
}

/// <summary>A 2-D convolution: <c>outChannels</c> kernels of <c>inChannels</c> × k × k slide over
/// the image with a stride and zero padding (PyTorch's <c>nn.Conv2d</c>), then an optional activation.</summary>
/// <example><c>new Conv2D(1, 32, 3, padding: 1, activation: Activation.Relu)</c></example>
public sealed record Conv2D : Layer
{
    /// <summary>A convolution.</summary>
    /// <param name="inChannels">Channels of the image it takes.</param>
    /// <param name="outChannels">Kernels, and so channels of the image it gives.</param>
    /// <param name="kernelSize">k, for k × k kernels.</param>
    /// <param name="stride">The step between windows.</param>
    /// <param name="padding">Zeros added on every side (less than the kernel size).</param>
    /// <param name="activation">Applied to every output (none by default).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1, or the padding negative.</exception>
    public Conv2D(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, Activation activation = Activation.Identity)
    {
        if (inChannels < 1) throw new ArgumentOutOfRangeException(nameof(inChannels), inChannels, "at least one input channel");
        if (outChannels < 1) throw new ArgumentOutOfRangeException(nameof(outChannels), outChannels, "at least one output channel");
        if (kernelSize < 1) throw new ArgumentOutOfRangeException(nameof(kernelSize), kernelSize, "a kernel is at least 1×1");
        if (stride < 1) throw new ArgumentOutOfRangeException(nameof(stride), stride, "a stride is at least 1");
        if (padding < 0 || padding >= kernelSize) throw new ArgumentOutOfRangeException(nameof(padding), padding, "the padding is at least 0 and less than the kernel size");
        (InChannels, OutChannels, KernelSize, Stride, Padding, Activation) = (inChannels, outChannels, kernelSize, stride, padding, activation);
    }

    /// <summary>Channels of the image it takes.</summary>
    public int InChannels { get; }
    /// <summary>Channels of the image it gives.</summary>
    public int OutChannels { get; }
    /// <summary>k, for k × k kernels.</summary>
    public int KernelSize { get; }
    /// <summary>The step between windows.</summary>
    public int Stride { get; }
    /// <summary>Zeros added on every side.</summary>
    public int Padding { get; }
    /// <summary>Applied to every output.</summary>
    public Activation Activation { get; }

    internal override IEnumerable<Toolkit.Nn.Layer> ToCore(SampleShape input)
    {
        if (input.IsFlat || input.Channels != InChannels)
            throw new ArgumentException($"conv({OutChannels},{KernelSize}) takes images of {InChannels} channel(s), but is given {input}", nameof(InChannels));
        var conv = Make($"conv({OutChannels},{KernelSize})", () => new Toolkit.Nn.Conv2D(input, OutChannels, KernelSize, Stride, Padding));
        yield return conv;
        var g = Network.ToCore(Activation);
        if (!g.IsIdentity) yield return new FActivationLayer(g, conv.OutputShape);
    }
}

/// <summary>Max pooling: each k × k window's largest value (PyTorch's <c>nn.MaxPool2d</c>).</summary>
/// <param name="Size">k, the window's side.</param>
/// <param name="Stride">The step between windows (default: the size, windows that do not overlap).</param>
/// <param name="Padding">Padding on every side, at most half the window.</param>
public sealed record MaxPool2D(int Size, int? Stride = null, int Padding = 0) : Layer
{
    internal override IEnumerable<Toolkit.Nn.Layer> ToCore(SampleShape input)
    {
        if (input.IsFlat) throw new ArgumentException($"max pooling works on images, but is given a vector of {input.Size} features", nameof(Size));
        yield return Make($"maxpool({Size})", () => new Toolkit.Nn.MaxPool2D(input, Size, Stride ?? Size, Padding));
    }
}

/// <summary>Average pooling: each k × k window's mean, padding counted as zeros (PyTorch's <c>nn.AvgPool2d</c>).</summary>
/// <param name="Size">k, the window's side.</param>
/// <param name="Stride">The step between windows (default: the size).</param>
/// <param name="Padding">Padding on every side, at most half the window.</param>
public sealed record AvgPool2D(int Size, int? Stride = null, int Padding = 0) : Layer
{
    internal override IEnumerable<Toolkit.Nn.Layer> ToCore(SampleShape input)
    {
        if (input.IsFlat) throw new ArgumentException($"average pooling works on images, but is given a vector of {input.Size} features", nameof(Size));
        yield return Make($"avgpool({Size})", () => new Toolkit.Nn.AvgPool2D(input, Size, Stride ?? Size, Padding));
    }
}

/// <summary>Batch normalisation of each channel (each feature after a dense layer): the batch's
/// statistics in training, their running averages in evaluation (PyTorch's <c>nn.BatchNorm2d</c>/<c>1d</c>).</summary>
/// <param name="Momentum">The weight of each batch in the running averages.</param>
/// <param name="Epsilon">Added to the variance before its square root.</param>
public sealed record BatchNorm(double Momentum = 0.1, double Epsilon = 1e-5) : Layer
{
    internal override IEnumerable<Toolkit.Nn.Layer> ToCore(SampleShape input)
    {
        if (!(Momentum > 0 && Momentum <= 1)) throw new ArgumentOutOfRangeException(nameof(Momentum), Momentum, "above 0 and at most 1");
        if (!(Epsilon > 0 && double.IsFinite(Epsilon))) throw new ArgumentOutOfRangeException(nameof(Epsilon), Epsilon, "a positive number");
        yield return new Toolkit.Nn.BatchNorm(input, Momentum, Epsilon);
    }
}

/// <summary>An image as one vector of its values, channel after channel (PyTorch's <c>nn.Flatten</c>).</summary>
public sealed record Flatten : Layer
{
    internal override IEnumerable<Toolkit.Nn.Layer> ToCore(SampleShape input)
    {
        yield return new Toolkit.Nn.Flatten(input);
    }
}
