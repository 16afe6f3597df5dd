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
        Assert.Equal(3, perStep.Count);
        // a step of a hundred times the samples costs more, and less than a hundred times as much
        Assert.True(perStep[2].Seconds > perStep[0].Seconds, $"{perStep[2].Seconds} vs {perStep[0].Seconds}");
        Assert.True(perStep[2].Seconds < 100 * perStep[0].Seconds, $"{perStep[2].Seconds} vs {perStep[0].Seconds}");
    }
}
