using MathNet.Numerics.LinearAlgebra;
using Toolkit.Models;
using F = Toolkit.Models.LogisticRegression;

namespace Toolkit;

/// <summary>How the logistic-regression gradient is computed: the notes' three programs, or the matrix graph.</summary>
public enum GradientMethod
{
    /// <summary>Two nested loops: over samples, then over features (dw1, dw2, …).</summary>
    Loops,
    /// <summary>One loop over samples, the features as vectors.</summary>
    Loop,
    /// <summary>Fully vectorized: Z = wᵀX + b, dZ = A − Y, dw = (1/m)·X·dZᵀ.</summary>
    Vectorized,
    /// <summary>The matrix graph's reverse mode.</summary>
    Graph,
}

/// <summary>A trained logistic-regression model and how its training went.</summary>
public sealed class LogisticModel
{
    internal LogisticModel(LogisticFit fit)
    {
        Weights = fit.Params.W;
        Bias = fit.Params.B;
        CostPerStep = fit.CostPerStep;
        Steps = fit.Steps;
        Converged = fit.Converged;
    }

    /// <summary>One weight per feature.</summary>
    public IReadOnlyList<double> Weights { get; }
    /// <summary>The bias.</summary>
    public double Bias { get; }
    /// <summary>The cost before each step, and after the last.</summary>
    public IReadOnlyList<double> CostPerStep { get; }
    /// <summary>How many steps were taken.</summary>
    public int Steps { get; }
    /// <summary>True when the parameters stopped moving before the step limit.</summary>
    public bool Converged { get; }

    private LogisticParams Params => new(Weights.ToArray(), Bias);

    /// <summary>P(y = 1) for every sample (column) of X.</summary>
    public double[] Predict(Matrix<double> x) => F.predict(Params, x);

    /// <summary>The fraction of samples classified correctly (threshold 0.5).</summary>
    public double Accuracy(Matrix<double> x, IReadOnlyList<double> y) => F.accuracy(Params, x, y.ToArray());
}

/// <summary>Logistic regression by gradient descent, on data laid out as the notes do: X is
/// features × samples, y holds one label (0 or 1) per sample.</summary>
public static class LogisticRegression
{
    private static Func<Matrix<double>, double[], LogisticParams, LogisticGradient> Pick(GradientMethod method) => method switch
    {
        GradientMethod.Loops => (x, y, p) => F.gradientLoops(x, y, p),
        GradientMethod.Loop => (x, y, p) => F.gradientLoop(x, y, p),
        GradientMethod.Graph => (x, y, p) => F.gradientGraph(x, y, p),
        _ => (x, y, p) => F.gradientVectorized(x, y, p),
    };

    /// <summary>Trains from zero weights until no parameter moves more than
    /// <paramref name="tolerance"/> or after <paramref name="maxSteps"/> steps.</summary>
    public static LogisticModel Fit(Matrix<double> x, IReadOnlyList<double> y, double learningRate = 0.02, int maxSteps = 500,
                                    double tolerance = 1e-6, GradientMethod method = GradientMethod.Vectorized)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        var g = Pick(method);
        var fit = F.fit(Microsoft.FSharp.Core.FuncConvert.FromFunc(g), learningRate, tolerance, maxSteps, x, y.ToArray(), F.zeros(x.RowCount));
        return new LogisticModel(fit);
    }

    /// <summary>The cost and its gradient at given parameters: (cost, dw, db).</summary>
    public static (double Cost, double[] DW, double DB) Gradient(Matrix<double> x, IReadOnlyList<double> y, IReadOnlyList<double> w, double b,
                                                                 GradientMethod method = GradientMethod.Vectorized)
    {
        var r = Pick(method)(x, y.ToArray(), new LogisticParams(w.ToArray(), b));
        return (r.Cost, r.DW, r.DB);
    }
}

/// <summary>Which linear-algebra provider runs the matrix products.</summary>
public static class LinearAlgebra
{
    /// <summary>One line: the provider, its core type and threads, and the library file; or why OpenBLAS is not used.</summary>
    public static string Describe() => Toolkit.Linalg.Blas.describe();

    /// <summary>True when OpenBLAS runs the products.</summary>
    public static bool IsNative => Toolkit.Linalg.Blas.isNative();

    /// <summary>The threads the matrix products (and the image layers' loops) run on; one per
    /// core unless OPENBLAS_NUM_THREADS says otherwise. A product is cut into parts by its shape
    /// alone, so training gives the same weights, bit for bit, on any number of threads.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public static int Threads
    {
        get => Toolkit.Linalg.Blas.threads();
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), value, "at least one thread");
            Toolkit.Linalg.Blas.setThreads(value);
        }
    }

    /// <summary>Makes MathNet's own dense products (A * B) run on OpenBLAS; returns true when it does.</summary>
    public static bool UseOpenBlasForMathNet() => Toolkit.Linalg.MathNetBlas.install();
}

/// <summary>Fashion-MNIST, from Debian's dataset-fashion-mnist (or any folder in MNIST's layout).</summary>
public static class FashionMnist
{
    /// <summary>Where Debian installs it.</summary>
    public static string DefaultDirectory => Toolkit.Data.FashionMnist.defaultDirectory;

    /// <summary>The ten class names, by label.</summary>
    public static IReadOnlyList<string> ClassNames => Toolkit.Data.FashionMnist.classNames;

    /// <summary>Two classes as the notes lay data out: X is 784 × samples in [0, 1]; y is 1 for
    /// <paramref name="positive"/>. Returns the training and the test set.</summary>
    public static (Matrix<double> TrainX, double[] TrainY, Matrix<double> TestX, double[] TestY) LoadBinary(int negative, int positive, string? directory = null)
    {
        // a damaged file throws an InvalidDataException naming the file and the problem
        var d = Toolkit.Data.FashionMnist.load(directory ?? DefaultDirectory);
        var train = Toolkit.Data.FashionMnist.binary(negative, positive, d.Train);
        var test = Toolkit.Data.FashionMnist.binary(negative, positive, d.Test);
        return (train.Item1, train.Item2, test.Item1, test.Item2);
    }
}
