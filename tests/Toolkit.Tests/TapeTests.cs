using System.Reflection;
using Xunit;

namespace Toolkit.Tests;

// The tape used as a C# user would. Regions marked //[name] … //[/name] are quoted by docs/csharp.md.
public class TapeTests
{
    [Fact]
    public void NotesComputationGraphOnATape()
    {
        //[tape]
        var tape = new Tape();
        var a = tape.Variable(5);
        var b = tape.Variable(3);
        var c = tape.Variable(2);
        var J = 3 * (a + b * c);
        var g = J.Backward();
        // g.Value == 33, g[a] == 3, g[b] == 6, g[c] == 9
        //[/tape]
        Assert.Equal(33, g.Value);
        Assert.Equal(3, g[a]);
        Assert.Equal(6, g[b]);
        Assert.Equal(9, g[c]);
        Assert.Equal(33, J.Value);
        Assert.Equal(7, tape.Count);                 // a, b, c, b·c, a + b·c, the constant 3, the product
    }

    [Fact]
    public void TheReadmesTapeExample()
    {
        // README.md and the Tape class's example
        var tape = new Tape();
        var w = tape.Variable(0.5); var x = tape.Variable(2.0);
        var loss = TapeScalar.Tanh(w * x + 1) * 3;
        double dw = loss.Backward()[w];
        Assert.Equal(3 * (1 - Math.Tanh(2) * Math.Tanh(2)) * 2, dw, 15);
        Assert.Equal(3 * Math.Tanh(2), loss.Value, 15);
    }

    [Fact]
    public void AMicrogradNeuronOnATapeHasItsAnalyticGradient()
    {
        // s = Σ wᵢxᵢ over 10,000 weights, J = tanh(s)·tanh(s): dJ/dwᵢ = 2·tanh(s)·(1 − tanh²(s))·xᵢ
        const int n = 10_000;
        var tape = new Tape();
        var w = Enumerable.Range(0, n).Select(i => tape.Variable(Math.Sin(i) / 50)).ToArray();
        var x = Enumerable.Range(0, n).Select(i => tape.Variable(Math.Cos(i))).ToArray();
        var s = tape.Constant(0);
        for (var i = 0; i < n; i++) s = s + w[i] * x[i];
        var J = TapeScalar.Tanh(s) * TapeScalar.Tanh(s);
        var g = J.Backward();
        var (value, dw) = ScalarTests.NeuronByHand(n);
        Assert.Equal(value, g.Value, 12);
        foreach (var i in new[] { 0, 1, 4_999, n - 1 })
            Assert.Equal(dw(i), g[w[i]], 12);
        Assert.Equal(4 * n + 4, g.Count);
    }

    // TapeScalar's operators and functions (found by reflection, so one added later is covered),
    // each with the Scalar method it mirrors: a number where a TapeScalar overload takes one is a
    // constant node on the Scalar side
    private static IEnumerable<(MethodInfo Tape, MethodInfo Scalar)> Twins()
    {
        static Type Mirror(ParameterInfo p) =>
            p.ParameterType == typeof(TapeScalar) || (p.ParameterType == typeof(double) && !p.HasDefaultValue) ? typeof(Scalar) : p.ParameterType;
        foreach (var m in typeof(TapeScalar).GetMethods(BindingFlags.Public | BindingFlags.Static).Where(m => m.ReturnType == typeof(TapeScalar)))
        {
            var twin = typeof(Scalar).GetMethod(m.Name, m.GetParameters().Select(Mirror).ToArray());
            Assert.True(twin is not null, $"TapeScalar.{m.Name} has no Scalar method of the same name and arguments");
            yield return (m, twin!);
        }
    }

    [Fact]
    public void EveryOpOnATapeGivesScalarsValuesAndDvarsBitForBit()
    {
        // random graphs built twice, with TapeScalar's methods and with their Scalar twins: the
        // same values and dvars, bit for bit (any NaN alike: which NaN a sum of two gives depends
        // on their order). Scalar's values are the core's forward pass, and its dvars the core's
        // backward pass, checked against central differences and PyTorch by the core's tests. The
        // tape sweeps a node's users in the order they were recorded, Scalar's layout in the order
        // its walk finishes them: with three users or more the sums could round apart in the last
        // bit; on these fixed seeds they do not. The tape starts with room for one node and grows.
        var twins = Twins().ToArray();
        // and the other way: every operator and function of Scalar has its TapeScalar method
        foreach (var m in typeof(Scalar).GetMethods(BindingFlags.Public | BindingFlags.Static)
                     .Where(m => m.ReturnType == typeof(Scalar) && m.GetParameters().Any(p => p.ParameterType == typeof(Scalar))))
            Assert.True(twins.Any(t => t.Scalar == m), $"Scalar.{m.Name}({string.Join(", ", m.GetParameters().Select(p => p.ParameterType.Name))}) has no TapeScalar method");
        Assert.Contains(twins, t => t.Tape.Name == "op_Multiply" && t.Tape.GetParameters()[1].ParameterType == typeof(double));
        Assert.Contains(twins, t => t.Tape.Name == "Gelu");
        Assert.Contains(twins, t => t.Tape.Name == "Call");
        var functions = new[] { "softplus", "gelu", "leakyrelu", "sigmoid", "relu" };
        for (var seed = 0; seed < 300; seed++)
        {
            var random = new Random(seed);
            var tape = new Tape(1);
            var values = new[] { random.NextDouble() * 4 - 2, random.NextDouble() * 4 - 2, random.NextDouble() * 4 - 2 };
            var onTape = values.Select(tape.Variable).ToList();
            var scalars = values.Select(Scalar.Variable).ToList();
            for (var k = 0; k < 12; k++)
            {
                var (m, twin) = twins[random.Next(twins.Length)];
                var args = m.GetParameters().Select(p =>
                {
                    if (p.ParameterType == typeof(TapeScalar)) { var i = random.Next(onTape.Count); return ((object)onTape[i], (object)scalars[i]); }
                    if (p.ParameterType == typeof(int)) { var n = random.Next(-3, 4); return (n, n); }
                    if (p.ParameterType == typeof(string)) { var f = functions[random.Next(functions.Length)]; return (f, f); }
                    if (p.HasDefaultValue) return (p.DefaultValue, p.DefaultValue);
                    var c = (double)random.Next(-3, 4) / 2;
                    return (c, Scalar.Constant(c));
                }).ToArray();
                onTape.Add((TapeScalar)m.Invoke(null, args.Select(a => a.Item1).ToArray())!);
                scalars.Add((Scalar)twin.Invoke(null, args.Select(a => a.Item2).ToArray())!);
            }
            var g = onTape[^1].Backward();
            var expected = scalars[^1].Backward();
            Assert.Equal(Bits(expected.Value), Bits(g.Value));
            for (var i = 0; i < values.Length; i++)
            {
                // a variable the output does not use: Scalar's graph does not have it, the tape's sweep gives it 0
                var used = scalars[^1].Variables.Contains(scalars[i].Name!);
                Assert.Equal(Bits(used ? expected[scalars[i]] : 0.0), Bits(g[onTape[i]]));
            }
        }
    }

    private static long Bits(double x) => double.IsNaN(x) ? BitConverter.DoubleToInt64Bits(double.NaN) : BitConverter.DoubleToInt64Bits(x);

    [Fact]
    public void AClearedTapeRecordsTheNextGraphAsANewOneAndRefusesItsOldNodes()
    {
        var tape = new Tape(4);
        var w = tape.Variable(0.5);
        var first = TapeScalar.Exp(w * w).Backward();
        tape.Clear();
        Assert.Equal(0, tape.Count);
        // the next step's graph, as a training loop records it on one tape
        var v = tape.Variable(0.5);
        var again = TapeScalar.Exp(v * v).Backward();
        Assert.Equal(first.Value, again.Value);
        Assert.Equal(first[w], again[v]);
        Assert.Equal(Math.Exp(0.25) * 2 * 0.5, again[v], 15);
        // the node from before the clear names nothing now, wherever it is used
        var e = Assert.Throws<ArgumentException>(() => w * v);
        Assert.Contains("cleared", e.Message);
        Assert.Equal("x", e.ParamName);
        Assert.Contains("cleared", Assert.Throws<InvalidOperationException>(() => w.Value).Message);
        Assert.Contains("cleared", Assert.Throws<InvalidOperationException>(() => w.Backward()).Message);
        Assert.Throws<KeyNotFoundException>(() => again[w]);
        // gradients made before the clear keep what they computed
        Assert.Equal(Math.Exp(0.25) * 2 * 0.5, first[w], 15);
    }

    [Fact]
    public void MisusedNodesGetErrorsThatSayWhatIsWrong()
    {
        var tape = new Tape();
        var x = tape.Variable(1);
        var other = new Tape().Variable(2);
        var e = Assert.Throws<ArgumentException>(() => x + other);
        Assert.Contains("different tapes", e.Message);
        var none = default(TapeScalar);
        var d = Assert.Throws<ArgumentException>(() => TapeScalar.Tanh(none));
        Assert.Contains("default(TapeScalar)", d.Message);
        Assert.Equal("x", d.ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => 2 * none).ParamName);
        Assert.Contains("default(TapeScalar)", Assert.Throws<InvalidOperationException>(() => none.Value).Message);
        Assert.Contains("default(TapeScalar)", Assert.Throws<InvalidOperationException>(() => none.Backward()).Message);
        Assert.Equal("default(TapeScalar)", none.ToString());
        Assert.Throws<ArgumentOutOfRangeException>(() => new Tape(0));
        Assert.Contains("unknown function 'tanhh'", Assert.Throws<ArgumentException>(() => TapeScalar.Call("tanhh", x)).Message);

        var y = x * 3;
        var g = y.Backward();
        var later = y * y;
        Assert.Contains("after the output", Assert.Throws<KeyNotFoundException>(() => g[later]).Message);
        Assert.Contains("another tape", Assert.Throws<ArgumentException>(() => g[other]).Message);
        Assert.Throws<ArgumentException>(() => g[none]);
        // a node recorded before the output that it does not use: dvar 0
        var unused = tape.Variable(7);
        var z = x * x;
        Assert.Equal(0, z.Backward()[unused]);
        Assert.Equal(2, z.Backward()[x]);
        Assert.Equal("node 0 = 1", x.ToString());
        Assert.Equal(x, x);
        Assert.NotEqual(x, tape.Variable(1));
    }
}
