using Xunit;

namespace Toolkit.Tests.Docs;

// The C# beside the F# of docs/distributed.fsx (regions quoted there; the asserts hold the numbers).
public class DistributedPage
{
    [Fact]
    public void WhatAStepCosts()
    {
        //[step-cost]
        var (train, test) = Dataset.FashionMnist();
        double StepSeconds(Func<Network> make, OptimizerSettings optimizer, Loss loss, int batch)
        {
            var result = new Trainer(make(), loss, optimizer) { BatchSize = batch }.Fit(train, epochs: 2, test: test);
            return result[1].Seconds / Math.Ceiling(train.Count / (double)batch);   // the second epoch: the first warms up
        }
        Network Notes() => new(784, new Dense(30, Activation.Sigmoid), new Dense(10, Activation.Sigmoid));
        var perStep = new[] { 10, 100, 1000 }.Select(b => (Batch: b, Seconds: StepSeconds(Notes, new Sgd(0.5), Loss.Quadratic, b))).ToList();
        //[/step-cost]
        // what the page shows, not how fast: times are measured in benchmarks, never asserted in tests
        Assert.Equal(new[] { 10, 100, 1000 }, perStep.Select(p => p.Batch));
        Assert.All(perStep, p => Assert.True(double.IsFinite(p.Seconds) && p.Seconds > 0, $"{p.Seconds}"));
    }
}
