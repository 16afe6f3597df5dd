using Toolkit.Graph;
using Xunit;

namespace Toolkit.Tests;

// The facade used as a C# user would: no F# types, operators, PascalCase.
// Regions marked //[name] … //[/name] are quoted by docs/csharp.md.
public class ScalarTests
{
    [Fact]
    public void NotesComputationGraph()
    {
        //[backward]
        var a = Scalar.Variable("a", 5);
        var b = Scalar.Variable("b", 3);
        var c = Scalar.Variable("c", 2);
        var J = 3 * (a + b * c);
        var g = J.Backward();
        // g.Value == 33, g[a] == 3, g[b] == 6, g[c] == 9
        //[/backward]
        Assert.Equal(33, g.Value);
        Assert.Equal(3, g[a]);
        Assert.Equal(6, g[b]);
        Assert.Equal(9, g[c]);
        Assert.Equal(6, g["b"]);
    }

    [Fact]
    public void NamedIntermediatesHaveDvars()
    {
        var a = Scalar.Variable("a", 5);
        var b = Scalar.Variable("b", 3);
        var c = Scalar.Variable("c", 2);
        var u = (b * c).Named("u");
        var v = (a + u).Named("v");
        var J = (3 * v).Named("J");
        var g = J.Backward();
        Assert.Equal(3, g[u]);
        Assert.Equal(3, g[v]);
        Assert.Equal("u = b * c; v = a + u; J = 3 * v", J.ToProgram());
        var node = g.Nodes.Single(n => n.Name == "u");
        Assert.Equal(6, node.Value);
        Assert.Equal(3, node.Dvar);
        Assert.Equal("b * c", node.Expression);
    }

    [Fact]
    public void SymbolicDerivatives()
    {
        //[symbolic]
        var J = Scalar.Parse("3*(a + b*c)");
        string db = J.Derivative("b").ToString();          // "3 * c"
        var L = Scalar.Parse("a = sigmoid(z); L = -(y*log(a) + (1-y)*log(1-a))");
        string dz = L.Derivative("z").ToString();          // "a - y"
        string dzInline = L.Derivative("z").ToInlineString(); // "sigmoid(z) - y"
        //[/symbolic]
        Assert.Equal("3 * c", db);
        Assert.Equal("a - y", dz);
        Assert.Equal("sigmoid(z) - y", dzInline);
        Assert.Equal("3 c", J.Derivative("b").ToLatex());
        var b = Scalar.Variable("b", 1);
        Assert.Equal("3 * c", J.Derivative(b).ToString());
    }

    [Fact]
    public void ParsedExpressionsTakeValuesWhenEvaluated()
    {
        var J = Scalar.Parse("u = b*c; v = a + u; J = 3*v");
        var values = new Dictionary<string, double> { ["a"] = 5, ["b"] = 3, ["c"] = 2 };
        Assert.Equal(33, J.Evaluate(values));
        var g = J.Backward(values);
        Assert.Equal(new Dictionary<string, double> { ["a"] = 3, ["b"] = 6, ["c"] = 9 }, g.ToDictionary());
        Assert.Equal(new[] { "a", "b", "c" }, J.Variables);
    }

    [Fact]
    public void SigmoidNeuron()
    {
        var w0 = Scalar.Variable("w0", 2); var w1 = Scalar.Variable("w1", -3); var w2 = Scalar.Variable("w2", -3);
        var x0 = Scalar.Variable("x0", -1); var x1 = Scalar.Variable("x1", -2);
        var f = Scalar.Sigmoid(w0 * x0 + w1 * x1 + w2);
        var g = f.Backward();
        Assert.Equal(0.7311, g.Value, 4);
        Assert.Equal(0.393, g[x0], 3);
        Assert.Equal(-0.590, g[x1], 3);
        Assert.Equal(-0.197, g[w0], 3);
        Assert.Equal(-0.393, g[w1], 3);
        Assert.Equal(0.197, g[w2], 3);
    }

    [Fact]
    public void GradientCheckExplainAndPictures()
    {
        //[tools]
        var x = Scalar.Variable("x", 0.5);
        var y = Scalar.Variable("y", -1.5);
        var f = (Scalar.Exp(x * y) + Scalar.Pow(x, 2)).Named("f");
        GradientCheckReport check = f.CheckGradient();   // check.Passed, check.Entries[i].RelativeError
        string steps = f.Explain();                      // forward and backward, step by step
        string svg = f.ToSvg();                          // also ToDot(), ToMermaid()
        //[/tools]
        Assert.True(check.Passed);
        Assert.Null(check.FirstBadNode);
        Assert.All(check.Entries, e => Assert.True(e.RelativeError < 1e-6));
        Assert.Contains("backward (right to left):", steps);
        Assert.Contains("df = 1", steps);
        Assert.StartsWith("<svg", svg);
        Assert.Contains("digraph", f.ToDot());
        Assert.Contains("flowchart LR", f.ToMermaid());
    }

    [Fact]
    public void ForwardModeAndHessian()
    {
        var x = Scalar.Variable("x", 0.5);
        var y = Scalar.Variable("y", 2.0);
        var f = Scalar.Pow(x, 2) * y + Scalar.Exp(x * y);
        var g = f.Backward();
        var d = f.DirectionalDerivative(new Dictionary<string, double> { ["x"] = 1, ["y"] = 2 });
        Assert.Equal(g[x] + 2 * g[y], d, 12);
        var h = f.Hessian();
        Assert.Equal(2 * 2.0 + 4 * Math.Exp(1), h[0, 0], 10);
        Assert.Equal(h[0, 1], h[1, 0], 12);
    }

    [Fact]
    public void BadInputGetsClearErrors()
    {
        var e = Assert.Throws<ParseException>(() => Scalar.Parse("3*(a+b"));
        Assert.Equal(1, e.Line);
        Assert.Equal(7, e.Column);
        Assert.Contains("expected ')'", e.Message);
        var missing = Assert.Throws<UnboundVariableException>(() => Scalar.Parse("a*b").Value);
        Assert.Contains("'a'", missing.Message);
        // two values for one name are refused when the graph is evaluated (building stays linear)
        var twice = Assert.Throws<ArgumentException>(() => (Scalar.Variable("x", 1) + Scalar.Variable("x", 2)).Value);
        Assert.Contains("bound to two different values", twice.Message);
        var g = Scalar.Log(Scalar.Variable("x", -1)).Backward();
        Assert.True(double.IsNaN(g.Value));
        Assert.Contains("log of -1", g.NonFiniteOrigin);
    }

    [Fact]
    public void FacadeShowsNoFSharpTypes()
    {
        var fsharp = typeof(Scalar).Assembly.GetExportedTypes()
            .SelectMany(t => t.GetMembers())
            .SelectMany(m => m switch
            {
                System.Reflection.MethodInfo mi => mi.GetParameters().Select(p => p.ParameterType).Append(mi.ReturnType),
                System.Reflection.PropertyInfo pi => new[] { pi.PropertyType },
                System.Reflection.ConstructorInfo ci => ci.GetParameters().Select(p => p.ParameterType),
                _ => Array.Empty<Type>(),
            })
            .Where(t => (t.Namespace ?? "").StartsWith("Microsoft.FSharp") || (t.Namespace ?? "").StartsWith("Toolkit.Graph"))
            .Distinct()
            .ToList();
        Assert.Empty(fsharp);
    }

    [Fact]
    public void AMicrogradNeuronBuiltWithOperatorsHasItsAnalyticGradient()
    {
        // s = Σ wᵢxᵢ over 10,000 weights, J = tanh(s)·tanh(s): dJ/dwᵢ = 2·tanh(s)·(1 − tanh²(s))·xᵢ
        const int n = 10_000;
        var w = Enumerable.Range(0, n).Select(i => Scalar.Variable($"w{i}", Math.Sin(i) / 50)).ToArray();
        var x = Enumerable.Range(0, n).Select(i => Scalar.Variable($"x{i}", Math.Cos(i))).ToArray();
        var s = Scalar.Constant(0);
        for (var i = 0; i < n; i++) s = s + w[i] * x[i];
        var J = Scalar.Tanh(s) * Scalar.Tanh(s);
        var g = J.Backward();
        var (value, dw) = NeuronByHand(n);
        Assert.Equal(value, g.Value, 12);
        foreach (var i in new[] { 0, 1, 4_999, n - 1 })
            Assert.Equal(dw(i), g[w[i]], 12);
        Assert.Equal(4 * n + 4, g.Nodes.Count);      // 2n variables, n products, n sums, the constant 0, two tanh, the last product
    }

    /// <summary>The micrograd neuron's value and dJ/dwᵢ worked by hand, for weights sin(i)/50
    /// and inputs cos(i): J = tanh²(s), dJ/dwᵢ = 2·tanh(s)·(1 − tanh²(s))·xᵢ.</summary>
    internal static (double Value, Func<int, double> Dw) NeuronByHand(int n)
    {
        var t = Math.Tanh(Enumerable.Range(0, n).Sum(i => Math.Sin(i) / 50 * Math.Cos(i)));
        return (t * t, i => 2 * t * (1 - t * t) * Math.Cos(i));
    }

    [Fact]
    public void AnyNodesDvarAfterOtherGraphsSharingItWereEvaluatedAndFromOtherThreads()
    {
        var a = Scalar.Variable("a", 2); var b = Scalar.Variable("b", 3);
        var u = (a * b).Named("u");
        var J = u * u + a;                           // dJ/du = 2u = 12
        var K = Scalar.Exp(u) - b;                   // shares u
        var g = J.Backward();
        K.Backward();                                // lays u out again, elsewhere
        Assert.Equal(12, g[u]);
        Assert.Equal(2 * 6 * 3 + 1, g[a]);
        Assert.Throws<KeyNotFoundException>(() => g[K]);
        // many threads differentiating, over and over, graphs that share u at different positions
        // (a layout that read a shared node's mark outside its lock got another layout's position
        // now and then)
        var c = Scalar.Variable("c", 0.5);
        var L = Scalar.Exp(c) * Scalar.Exp(u) - b;   // c and e^c come before u here
        var dLdu = Math.Exp(0.5) * Math.Exp(6);
        var results = Enumerable.Range(0, 20_000).AsParallel().WithDegreeOfParallelism(8).Select(k =>
        {
            var G = (k % 2 == 0 ? J : L).Backward();
            return k % 2 == 0 ? G[u] == 12 && G[a] == 37 : G[u] == dLdu && G[b] == -1 + dLdu * 2;
        }).ToArray();
        Assert.All(results, Assert.True);
    }

    [Fact]
    public void DeepGraphsPrintAndDifferentiateWithoutRecursion()
    {
        // 200,000 nested operations: the expression is built, printed and differentiated by loops
        var x = Scalar.Variable("x", 0.5);
        var v = x;
        for (var k = 0; k < 100_000; k++) v = Scalar.Tanh(v) * 1.0001;
        Assert.StartsWith("tanh(tanh(", v.ToString());
        var d = v.Derivative(x);                     // keeps x's value
        Assert.Equal(v.Backward()[x], d.Value, 12);
        var parsed = Scalar.Parse("u = b*c; v = a + u; J = 3*v");
        Assert.Equal(6, parsed.Backward(new Dictionary<string, double> { ["a"] = 5, ["b"] = 3, ["c"] = 2 })["b"]);
    }

    [Fact]
    public void AnExpressionAndItsGradientRunInOnnxRuntime()
    {
        var a = Scalar.Variable("a", 5); var b = Scalar.Variable("b", 3); var c = Scalar.Variable("c", 2);
        var J = Scalar.Tanh((a + b * c) / 10);
        var path = Path.Combine(Path.GetTempPath(), $"toolkit-{Guid.NewGuid()}.onnx");
        try
        {
            J.SaveOnnx(path);
            using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path);
            var inputs = new[] { ("a", 5f), ("b", 3f), ("c", 2f) }.Select(p =>
                Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor(p.Item1,
                    new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(new[] { p.Item2 }, Array.Empty<int>()))).ToList();
            using var results = session.Run(inputs);
            var value = results.First(r => r.Name == "value").AsTensor<float>().First();
            var gradient = results.First(r => r.Name == "gradient").AsTensor<float>().ToArray();
            var g = J.Backward();
            Assert.Equal(g.Value, value, 6);
            Assert.Equal(new[] { g[a], g[b], g[c] }, gradient.Select(v => (double)v).ToArray(), new ToleranceComparer(1e-6));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void UnnamedVariablesAreMicrogradsValues()
    {
        //[unnamed]
        var a = Scalar.Variable(2.0);                // no name, as micrograd's Value(2.0)
        var b = Scalar.Variable(2.0);                // another variable, though the value is the same
        var J = a * b + a;
        var g = J.Backward();                        // g[a] == 3, g[b] == 2
        //[/unnamed]
        Assert.Equal(6, g.Value);
        Assert.Equal(3, g[a]);
        Assert.Equal(2, g[b]);
        // a name is made for each where one is needed, and it reads back
        Assert.StartsWith("θ", a.Name);
        Assert.NotEqual(a.Name, b.Name);
        Assert.Equal(new[] { a.Name!, b.Name! }, J.Variables);
        Assert.Equal(3, g[a.Name!]);
        Assert.Equal(2, g.ToDictionary()[b.Name!]);
        Assert.Equal($"{a.Name} * {b.Name} + {a.Name}", J.ToString());
        Assert.Equal(6, Scalar.Parse(J.ToString()).Evaluate(new Dictionary<string, double> { [a.Name!] = 2, [b.Name!] = 2 }));
        Assert.Equal(3, J.Derivative(a).Value);
        // values given at evaluation override theirs, and they mix with named variables
        Assert.Equal(5 * 2 + 5, J.Evaluate(new Dictionary<string, double> { [a.Name!] = 5 }));
        var K = a * Scalar.Variable("y");
        Assert.Equal(8, K.Evaluate(new Dictionary<string, double> { ["y"] = 4 }));
        Assert.Equal(4, K.Backward(new Dictionary<string, double> { ["y"] = 4 })[a]);
    }

    [Fact]
    public void BackwardNamesNoUnnamedVariableAndEveryReadingAgrees()
    {
        // Backward() sweeps the layout without names; a name is made when one is first asked
        // for, so numbers follow that order, not the order of creation
        var a = Scalar.Variable(0.5);
        var b = Scalar.Variable(-1.5);
        var u = (a * b).Named("u");
        var J = Scalar.Tanh(u) * a + b;
        var g = J.Backward();
        var dA = g[a];
        var dB = g[b];
        var bName = b.Name!;
        var aName = a.Name!;
        Assert.True(int.Parse(bName[1..]) < int.Parse(aName[1..]), $"{bName} was asked for first, so it is numbered before {aName}");
        // the same bits as the pass through the core's graph with the values given by name
        var byName = J.Backward(new Dictionary<string, double> { [aName] = 0.5, [bName] = -1.5 });
        Assert.Equal(BitConverter.DoubleToInt64Bits(byName[a]), BitConverter.DoubleToInt64Bits(dA));
        Assert.Equal(BitConverter.DoubleToInt64Bits(byName[b]), BitConverter.DoubleToInt64Bits(dB));
        Assert.Equal(byName.Value, g.Value);
        // the graph with names, made for the reading that needs it; the objects still read after
        var all = g.ToDictionary();
        Assert.Equal(dA, all[aName]);
        Assert.Equal(dB, g[bName]);
        Assert.Equal(dA, g[a]);
        Assert.Equal(g[u], g.Nodes.Single(n => n.Name == "u").Dvar);
        Assert.Equal(J.Backward().Nodes.Count, g.Nodes.Count);
        Assert.Contains(aName, J.Explain());
        // a node of another graph is not one of this one
        Assert.Throws<KeyNotFoundException>(() => g[Scalar.Variable(1.0)]);
    }

    [Fact]
    public async Task UnnamedVariablesGetOneNameEachWhenThreadsAskAtOnce()
    {
        // names are made on first asking: threads that ask for the same fresh variables' names
        // at the same moment must all read one name per variable
        for (var round = 0; round < 100; round++)
        {
            var ws = Enumerable.Range(0, 300).Select(i => Scalar.Variable(0.1 * i)).ToArray();
            var J = ws.Aggregate(Scalar.Constant(0), (s, w) => s + w * w);
            using var start = new Barrier(2);
            string?[] Read(bool viaGradients)
            {
                start.SignalAndWait();
                if (viaGradients)
                {
                    var g = J.Backward();
                    var all = g.ToDictionary();      // names every variable, in the graph's order
                    Assert.Equal(2 * 0.1 * 7, all[ws[7].Name!], 12);
                }
                return ws.Select(w => w.Name).ToArray();
            }
            var viaGradients = round % 2 == 0;
            var read = await Task.WhenAll(Task.Run(() => Read(viaGradients)), Task.Run(() => Read(false)));
            Assert.Equal(read[0], read[1]);
            Assert.Equal(ws.Length, read[0].Distinct().Count());
        }
    }

    [Fact]
    public void ValuesComputedAsTheGraphIsBuiltAreTheCoresForwardPass()
    {
        // Every operator and function of Scalar that takes Scalars (found by reflection, so one
        // added later is covered), composed at random: the value and dvars Backward() gives from
        // the values computed while building must be the core's own forward pass over the
        // variables' values, bit for bit (NaN included).
        var ops = typeof(Scalar).GetMethods(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(m => m.ReturnType == typeof(Scalar) && m.GetParameters().Any(p => p.ParameterType == typeof(Scalar))
                        && m.GetParameters().All(p => p.ParameterType == typeof(Scalar) || p.ParameterType == typeof(int) || p.HasDefaultValue))
            .ToArray();
        Assert.Contains(ops, m => m.Name == "op_Multiply");
        Assert.Contains(ops, m => m.Name == "Gelu");
        for (var seed = 0; seed < 200; seed++)
        {
            var random = new Random(seed);
            var leaves = new List<Scalar> { Scalar.Variable("x", random.NextDouble() * 4 - 2), Scalar.Variable(random.NextDouble() * 4 - 2), Scalar.Constant(random.Next(-3, 4)) };
            var nodes = new List<Scalar>(leaves);
            for (var k = 0; k < 12; k++)
            {
                var m = ops[random.Next(ops.Length)];
                var args = m.GetParameters().Select(p =>
                    p.ParameterType == typeof(Scalar) ? nodes[random.Next(nodes.Count)]
                    : p.ParameterType == typeof(int) ? random.Next(-3, 4)
                    : p.DefaultValue).ToArray();
                nodes.Add((Scalar)m.Invoke(null, args)!);
            }
            var J = nodes[^1];
            var built = J.Backward();
            var passed = J.Backward(new Dictionary<string, double>());   // values given: the core's forward pass
            Assert.Equal(BitConverter.DoubleToInt64Bits(passed.Value), BitConverter.DoubleToInt64Bits(built.Value));
            Assert.Equal(BitConverter.DoubleToInt64Bits(passed.Value), BitConverter.DoubleToInt64Bits(J.Value));
            foreach (var leaf in leaves.Take(2).Where(l => J.Variables.Contains(l.Name)))
                Assert.Equal(BitConverter.DoubleToInt64Bits(passed[leaf]), BitConverter.DoubleToInt64Bits(built[leaf]));
        }
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(double obj) => 0;
    }
}
