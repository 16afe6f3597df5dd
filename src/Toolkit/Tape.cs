using System.Buffers;
using Toolkit.Graph;

namespace Toolkit;

/// <summary>
/// Records a scalar graph as it is built, node after node, into flat arrays (a tape, as
/// PyTorch's autograd records): for graphs of millions of nodes, and for a training loop that
/// builds one graph per step. Its nodes are <see cref="TapeScalar"/> values, built with the same
/// operators and functions as <see cref="Scalar"/>, each computing its value as it is recorded.
/// <see cref="TapeScalar.Backward"/> is one sweep back along the tape, with no search for the
/// graph: the order of recording is already topological.
/// </summary>
/// <remarks>
/// <para>Where <see cref="Scalar"/> makes one object per node (freed by the collector when no
/// longer used, as micrograd's are), a tape makes none: a graph of 10⁶ nodes is a few arrays.
/// The nodes live as long as the tape; <see cref="Clear"/> forgets them and keeps the arrays
/// for the next graph. Use a tape per graph (or one tape, cleared each step) and
/// <see cref="Scalar"/> for a graph to print, explain, draw or differentiate symbolically.</para>
/// <para>A tape is not thread-safe: record on it from one thread at a time.</para>
/// </remarks>
/// <example>
/// <code>
/// var tape = new Tape();
/// var w = tape.Variable(0.5); var x = tape.Variable(2.0);
/// var loss = TapeScalar.Tanh(w * x + 1) * 3;
/// var g = loss.Backward();     // g[w] == 3·(1 − tanh²(2))·2
/// </code>
/// </example>
public sealed class Tape
{
    // the nodes in the order they were recorded: what each computes, its arguments' positions
    // (−1 for none), its value; the arrays the core's backward sweep reads as they are
    private Op[] ops;
    private int[] arg0, arg1;
    private double[] values;
    private int count;
    // how many times the tape was cleared: a TapeScalar of an earlier generation is refused
    private int generation;

    // what the sweep dispatches on for every variable (a tape's variables have no names)
    private static readonly Op VariableOp = Op.NewVar("θ");

    /// <summary>An empty tape.</summary>
    public Tape() : this(1024) { }

    /// <summary>An empty tape with room for <paramref name="capacity"/> nodes before it grows.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is not positive.</exception>
    public Tape(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        // from the shared pools, and grown through them: a program that makes a tape per step
        // then reuses the arrays earlier tapes grew out of, where new ones (from 85,000 bytes on,
        // the large-object heap) would each be fresh memory, given back to the system by a
        // collection and faulted in again page by page
        ops = ArrayPool<Op>.Shared.Rent(capacity);
        arg0 = ArrayPool<int>.Shared.Rent(capacity);
        arg1 = ArrayPool<int>.Shared.Rent(capacity);
        values = ArrayPool<double>.Shared.Rent(capacity);
    }

    /// <summary>The number of nodes recorded since the tape was made or last cleared.</summary>
    public int Count => count;

    /// <summary>Records an input variable with a value (a weight, a feature): read its dvar back
    /// by the TapeScalar (<c>g[w]</c>).</summary>
    public TapeScalar Variable(double value) => Record(VariableOp, -1, -1, value);

    /// <summary>Records a constant.</summary>
    public TapeScalar Constant(double value) => Record(Op.NewConst(value), -1, -1, value);

    /// <summary>Forgets every node and keeps the arrays for the next graph. TapeScalars recorded
    /// before can no longer be used (they throw <see cref="InvalidOperationException"/>);
    /// <see cref="TapeGradients"/> made before keep their values.</summary>
    public void Clear()
    {
        // the constants' operation objects are let go with the nodes
        Array.Clear(ops, 0, count);
        count = 0;
        generation++;
    }

    internal int Generation => generation;

    internal double ValueAt(int position) => values[position];

    /// <summary>Records a node (its arguments already checked to be this tape's, of this
    /// generation) and returns it.</summary>
    internal TapeScalar Record(Op op, int a, int b, double value)
    {
        var i = count;
        if (i == ops.Length) Grow();
        Ops.Store(ops, i, op);
        arg0[i] = a;
        arg1[i] = b;
        values[i] = value;
        count = i + 1;
        return new TapeScalar(this, i, generation);
    }

    private void Grow()
    {
        if (count == Array.MaxLength)
            throw new InvalidOperationException($"the tape is full ({count:N0} nodes): clear it, or record the graph on more than one tape");
        var size = (int)Math.Min(2L * count, Array.MaxLength);
        // the operations array is cleared as it goes back, so the pool keeps no constant alive
        Move(ref ops, size, clear: true);
        Move(ref arg0, size, clear: false);
        Move(ref arg1, size, clear: false);
        Move(ref values, size, clear: false);
    }

    private void Move<T>(ref T[] items, int size, bool clear)
    {
        var bigger = ArrayPool<T>.Shared.Rent(size);
        Array.Copy(items, bigger, count);
        ArrayPool<T>.Shared.Return(items, clearArray: clear);
        items = bigger;
    }

    /// <summary>The backward sweep from the node at <paramref name="output"/>: the core's sweep
    /// over the tape's arrays, which are already in topological order, past the nodes the
    /// output does not use.</summary>
    internal TapeGradients Backward(int output) =>
        new(this, generation, output, values[output], Eval.sweepFrom(true, output, ops, arg0, arg1, values));
}
