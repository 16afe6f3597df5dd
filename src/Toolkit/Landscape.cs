using Toolkit.Training;
using FLandscape = Toolkit.Training.Landscape;

namespace Toolkit;

/// <summary>A network's loss along one random direction W1: L(W + a·W1) at each step a.</summary>
public sealed class LossLine
{
    internal LandscapeLine Core { get; }
    internal LossLine(LandscapeLine core) => Core = core;

    /// <summary>The steps a (a = 0 is the network itself).</summary>
    public IReadOnlyList<double> Steps => Core.Alphas;
    /// <summary>The mean loss at each step.</summary>
    public IReadOnlyList<double> Loss => Core.Loss;
    /// <summary>The accuracy at each step.</summary>
    public IReadOnlyList<double> Accuracy => Core.Accuracy;

    /// <summary>The line as a self-contained SVG chart (no browser needed to draw it).</summary>
    public string ToSvg(string title = "L(W + a·W1)") =>
        Toolkit.Charts.LineChart.svg(title, "a", "mean loss", false,
            Microsoft.FSharp.Collections.ListModule.OfSeq(new[] { new Toolkit.Charts.Series("loss", Core.Alphas.Zip(Core.Loss).Select(p => Tuple.Create(p.First, p.Second)).ToArray()) }));

    /// <summary>Writes the line as an interactive chart: one HTML file with plotly.js inside (opens offline), atomically.</summary>
    public void SaveHtml(string path, string title = "L(W + a·W1)") => Toolkit.Plot.Charts.save(path, Toolkit.Plot.Charts.landscapeLine(title, Core));
}

/// <summary>A network's loss over the plane of two random directions: L(W + a·W1 + b·W2).</summary>
public sealed class LossPlane
{
    internal LandscapePlane Core { get; }
    internal LossPlane(LandscapePlane core) => Core = core;

    /// <summary>The steps a along the first direction.</summary>
    public IReadOnlyList<double> Alphas => Core.Alphas;
    /// <summary>The steps b along the second direction.</summary>
    public IReadOnlyList<double> Betas => Core.Betas;
    /// <summary>The mean loss at (Alphas[i], Betas[j]).</summary>
    public double this[int i, int j] => Core.Loss[i, j];
    /// <summary>The accuracy at (Alphas[i], Betas[j]).</summary>
    public double AccuracyAt(int i, int j) => Core.Accuracy[i, j];

    /// <summary>The plane as a self-contained SVG heatmap (log colour scale).</summary>
    public string ToSvg(string title = "L(W + a·W1 + b·W2)") =>
        Toolkit.Charts.Heatmap.svg(title, "a", "b", true, Core.Alphas, Core.Betas, Core.Loss, Microsoft.FSharp.Collections.FSharpList<Toolkit.Charts.Series>.Empty);

    /// <summary>Writes the plane as an interactive contour chart (one self-contained HTML file), atomically.</summary>
    public void SaveHtml(string path, string title = "L(W + a·W1 + b·W2)") => Toolkit.Plot.Charts.save(path, Toolkit.Plot.Charts.landscapePlane(title, Core));
}

/// <summary>
/// Loss landscapes, the notes' way of looking at a loss in thousands of dimensions: along one
/// random direction and over a plane of two, around the network's current weights.
/// </summary>
public static class Landscape
{
    private static double[] Direction(Network network, bool perUnit, int seed) =>
        FLandscape.direction(network.Core, perUnit ? DirectionScale.PerUnit : DirectionScale.Gaussian, seed);

    /// <summary>L(W + a·W1) for <paramref name="points"/> steps a from −range to range, on <paramref name="data"/>.
    /// With <paramref name="perUnit"/> (default) each unit's weights in the direction are scaled to the
    /// network's own (biases still); otherwise the direction's entries are N(0, 1).</summary>
    public static LossLine Line(Network network, Dataset data, double range = 1.0, int points = 51, bool perUnit = true, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        return new LossLine(FLandscape.line(network.Core, data.Data, Direction(network, perUnit, seed), FLandscape.grid(range, points)));
    }

    /// <summary>L(W + a·W1 + b·W2) over a points × points grid from −range to range, on <paramref name="data"/>.</summary>
    public static LossPlane Plane(Network network, Dataset data, double range = 1.0, int points = 51, bool perUnit = true, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        var grid = FLandscape.grid(range, points);
        return new LossPlane(FLandscape.plane(network.Core, data.Data, Direction(network, perUnit, seed), Direction(network, perUnit, seed + 1), grid, grid));
    }
}
