using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;
using CoreStore = Toolkit.Runs.RunStore;
using CoreRun = Toolkit.Runs.RunRecord;

namespace Toolkit;

/// <summary>One epoch of a recorded run (an accuracy is NaN where the run has none: a regression).</summary>
public sealed record RunEpoch(int Epoch, double TrainLoss, double TrainAccuracy, double TestLoss, double TestAccuracy, double Seconds);

/// <summary>A training run as a <see cref="RunStore"/> keeps it.</summary>
public sealed class Run
{
    internal Run(CoreRun r)
    {
        Id = r.Id;
        Started = r.Started;
        Finished = r.Finished is null ? null : r.Finished.Value;
        Status = r.Status;
        Command = r.Command;
        Settings = r.Settings.Select(p => new KeyValuePair<string, string>(p.Item1, p.Item2)).ToArray();
        Machine = r.Machine.Select(p => new KeyValuePair<string, string>(p.Item1, p.Item2)).ToArray();
        Sweep = r.Sweep is null ? null : r.Sweep.Value;
        Model = r.Model is null ? null : r.Model.Value;
        ModelSha256 = r.ModelSha256 is null ? null : r.ModelSha256.Value;
        Epochs = r.Epochs.Select(e => new RunEpoch(e.Epoch, e.TrainLoss, e.TrainAccuracy, e.TestLoss, e.TestAccuracy, e.Seconds)).ToArray();
        Core = r;
    }

    internal CoreRun Core { get; }
    /// <summary>The run's number in its store.</summary>
    public long Id { get; }
    /// <summary>When it started (UTC).</summary>
    public DateTime Started { get; }
    /// <summary>When it finished (UTC); null while it runs, or if its process was killed.</summary>
    public DateTime? Finished { get; }
    /// <summary>"running", "completed", "stopped early", "cancelled" or "failed: why".</summary>
    public string Status { get; }
    /// <summary>The command that made it ("toolkit train …", "C# Trainer.Fit").</summary>
    public string Command { get; }
    /// <summary>The settings that make the run what it is (layers, optimiser, batch, seed, data…), in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Settings { get; }
    /// <summary>The machine it ran on (host, processors, OS, .NET, BLAS).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Machine { get; }
    /// <summary>The sweep it belongs to, or null.</summary>
    public string? Sweep { get; }
    /// <summary>The model file it wrote, or null.</summary>
    public string? Model { get; }
    /// <summary>The SHA-256 of the model file's bytes when the run finished, or null.</summary>
    public string? ModelSha256 { get; }
    /// <summary>Every epoch's measurements.</summary>
    public IReadOnlyList<RunEpoch> Epochs { get; }

    /// <summary>A metric at the last epoch (NaN if the run has none): one of
    /// <see cref="RunStore.Metrics"/>.</summary>
    /// <exception cref="ArgumentException">Not a metric's name.</exception>
    public double Final(string metric) => Core.Final(metric);

    /// <inheritdoc/>
    public override string ToString() => $"run {Id}: {Status}, {Epochs.Count} epochs";
}

/// <summary>
/// The runs of a machine or a project in one SQLite file, the same store <c>toolkit train</c>
/// records into and <c>toolkit runs</c> reads. Give one to <see cref="Trainer.Runs"/> to record
/// C# fits. Several processes may write to one file at once; an older file is migrated when opened.
/// </summary>
/// <example>
/// <code>
/// var store = RunStore.Open("runs.db");
/// var trainer = new Trainer(net, Loss.Quadratic, new Sgd(3.0)) { Runs = store };
/// trainer.Fit(train, epochs: 3, test: test);
/// Run? best = RunStore.Best(store.List(), "test-accuracy");
/// </code>
/// </example>
public sealed class RunStore
{
    private RunStore(CoreStore core) => Core = core;

    internal CoreStore Core { get; }

    /// <summary>The metrics runs are compared by: test-accuracy, train-accuracy (higher is
    /// better), test-loss, train-loss, seconds (lower is better).</summary>
    public static IReadOnlyList<string> Metrics { get; } = Toolkit.Runs.Metric.names.ToArray();

    /// <summary>The file the store is kept in.</summary>
    public string Path => Core.Path;

    /// <summary>Opens the store in a file, creating it if missing.</summary>
    /// <exception cref="InvalidDataException">The file is not a run store, or was written by a newer Toolkit.</exception>
    /// <exception cref="IOException">The file cannot be opened or written.</exception>
    public static RunStore Open(string path) => new(CoreStore.Open(path ?? throw new ArgumentNullException(nameof(path))));

    /// <summary>Every run, oldest first.</summary>
    /// <exception cref="InvalidDataException">The file is damaged.</exception>
    public IReadOnlyList<Run> List() => Core.List().Select(r => new Run(r)).ToArray();

    /// <summary>The run with this number, or null.</summary>
    public Run? Find(long id) => Core.TryGet(id) is { } r ? new Run(r.Value) : null;

    /// <summary>Of some runs, the best by a metric at their last epoch; null if none has it.</summary>
    /// <exception cref="ArgumentException">Not a metric's name (see <see cref="Metrics"/>).</exception>
    public static Run? Best(IEnumerable<Run> runs, string metric = "test-accuracy")
    {
        ArgumentNullException.ThrowIfNull(runs);
        var list = runs.ToList();
        var best = CoreStore.Best(metric, list.Select(r => r.Core));
        return best is null ? null : list.First(r => r.Id == best.Value.Id);
    }

    /// <summary>The settings in which some runs differ, in the order they first appear: what a
    /// comparison of them is about.</summary>
    public static IReadOnlyList<string> DifferingSettings(IEnumerable<Run> runs) =>
        CoreStore.DifferingSettings((runs ?? throw new ArgumentNullException(nameof(runs))).Select(r => r.Core)).ToArray();

    /// <summary>The runs' curves — a metric per epoch, one line per run — as an interactive chart
    /// (a self-contained HTML page that opens offline), as <c>toolkit runs plot</c> draws them.</summary>
    /// <exception cref="ArgumentException">Not a metric's name (see <see cref="Metrics"/>).</exception>
    public static void SaveChart(IEnumerable<Run> runs, string path, string metric = "test-accuracy")
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(path);
        if (!Metrics.Contains(metric)) throw new ArgumentException($"'{metric}' is not one of {string.Join(", ", Metrics)}", nameof(metric));
        var series = runs.Select(r => Tuple.Create($"run {r.Id}",
            r.Core.Epochs.Select(e => Tuple.Create((double)e.Epoch, Toolkit.Runs.Metric.value(metric, e)))
                         .Where(p => double.IsFinite(p.Item2)).ToArray()));
        Toolkit.Plot.Charts.save(path, Toolkit.Plot.Charts.lines($"{metric} per epoch", "epoch", metric, ListModule.OfSeq(series)));
    }

    /// <summary>Records a run's start (for <see cref="Trainer"/>).</summary>
    internal long Start(string command, IEnumerable<(string, string)> settings) =>
        Core.Start(command, ListModule.OfSeq(settings.Select(p => Tuple.Create(p.Item1, p.Item2))),
                   CoreStore.ThisMachine(LinearAlgebra.Describe()), FSharpOption<string>.None);
}
