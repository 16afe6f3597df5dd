using Xunit;

namespace Toolkit.Tests.Docs;

// The C# beside the F# of docs/runs.fsx (regions quoted there; the asserts hold the numbers).
public class RunsPage
{
    /// The page's data: two noisy classes in the plane, 400 samples, a row each.
    static Dataset Blobs(int seed)
    {
        var rng = new Random(seed);
        var x = new double[400, 2];
        var labels = new int[400];
        for (var i = 0; i < 400; i++)
        {
            labels[i] = i % 2;
            x[i, 0] = labels[i] * 2 - 1 + rng.NextDouble() - 0.5;
            x[i, 1] = rng.NextDouble() * 2 - 1;
        }
        return new Dataset(x, labels);
    }

    [Fact]
    public void ASweepRecordedAndCompared()
    {
        var path = Path.Combine(Path.GetTempPath(), $"toolkit-docs-{Guid.NewGuid()}-runs.db");
        try
        {
            Dataset train = Blobs(1), test = Blobs(2);
            //[runs-sweep]
            var store = RunStore.Open(path);                        // created if missing
            foreach (var lr in new[] { 0.01, 0.1, 1.0 })
            {
                var net = new Network(2, WeightInit.Xavier, 1, new Dense(8, Activation.Tanh), new Dense(2, Activation.Softmax));
                new Trainer(net, Loss.CrossEntropy, new Sgd(lr)) { Runs = store }.Fit(train, epochs: 5, test: test);
            }
            IReadOnlyList<Run> runs = store.List();                 // settings, epochs, machine, status
            Run best = RunStore.Best(runs, "test-loss")!;            // lowest test loss at the last epoch
            string optimizer = best.Settings.First(s => s.Key == "optimizer").Value;
            IReadOnlyList<string> differ = RunStore.DifferingSettings(runs);   // ["optimizer"]
            // RunStore.SaveChart(runs, "curves.html", "test-loss") draws their curves
            //[/runs-sweep]
            Assert.Equal(3, runs.Count);
            Assert.All(runs, r => Assert.Equal(5, r.Epochs.Count));
            Assert.All(runs, r => Assert.Equal("completed", r.Status));
            Assert.Equal(runs.Min(r => r.Final("test-loss")), best.Final("test-loss"));
            Assert.Contains("Sgd", optimizer);
            Assert.Equal(best.Id, store.Find(best.Id)!.Id);
            Assert.Null(store.Find(99));
            Assert.Throws<ArgumentException>(() => RunStore.Best(runs, "accuracy"));
            Assert.Equal(new[] { "optimizer" }, RunStore.DifferingSettings(runs));
            var chart = Path.Combine(Path.GetTempPath(), $"toolkit-docs-{Guid.NewGuid()}.html");
            RunStore.SaveChart(runs, chart, "test-loss");
            Assert.Contains($"run {runs[2].Id}", File.ReadAllText(chart));
            File.Delete(chart);
        }
        finally
        {
            foreach (var f in new[] { path, path + "-wal", path + "-shm" }) File.Delete(f);
        }
    }

    [Fact]
    public void BadFilesAreNamed()
    {
        var path = Path.Combine(Path.GetTempPath(), $"toolkit-docs-{Guid.NewGuid()}.db");
        try
        {
            File.WriteAllText(path, "not a database");
            var e = Assert.Throws<InvalidDataException>(() => RunStore.Open(path));
            Assert.Contains(path, e.Message);
        }
        finally { File.Delete(path); }
    }
}
