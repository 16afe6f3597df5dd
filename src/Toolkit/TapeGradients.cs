namespace Toolkit;

/// <summary>The result of <see cref="TapeScalar.Backward"/>: the output's value and the dvar
/// (d output/d node) of every node recorded up to the output.</summary>
public sealed class TapeGradients
{
    private readonly Tape tape;
    private readonly int generation, output;
    private readonly double[] dvars;

    internal TapeGradients(Tape tape, int generation, int output, double value, double[] dvars)
    {
        this.tape = tape;
        this.generation = generation;
        this.output = output;
        this.dvars = dvars;
        Value = value;
    }

    /// <summary>The value of the output.</summary>
    public double Value { get; }

    /// <summary>The number of nodes the sweep covered: every node recorded up to the output.</summary>
    public int Count => dvars.Length;

    /// <summary>The dvar of a node recorded up to the output (0 for one the output does not
    /// use: the tape keeps no record of which nodes the output uses, and the sweep gives them 0).</summary>
    /// <exception cref="ArgumentException">The node is <c>default(TapeScalar)</c> or from another tape.</exception>
    /// <exception cref="KeyNotFoundException">The node was recorded after the output, or in an
    /// earlier or later use of a cleared tape.</exception>
    public double this[TapeScalar node]
    {
        get
        {
            if (node.Equals(default(TapeScalar)))
                throw new ArgumentException("this TapeScalar is default(TapeScalar), which names no node", nameof(node));
            if (!ReferenceEquals(node.Tape, tape))
                throw new ArgumentException("the node is recorded on another tape than the output", nameof(node));
            if (node.Generation != generation)
                throw new KeyNotFoundException("the node was recorded in another use of the tape (it was cleared in between), not in the output's graph");
            if (node.Position > output)
                throw new KeyNotFoundException($"the node (at {node.Position}) was recorded after the output (at {output}), so the output does not depend on it");
            return dvars[node.Position];
        }
    }
}
