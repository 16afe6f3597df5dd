using Toolkit.Graph;

namespace Toolkit;

/// <summary>The core's operation objects for the facade's operators and functions: one per
/// operation, shared by every node of every graph that uses it (<see cref="Scalar"/>'s and
/// <see cref="Tape"/>'s alike), so recording a node stores a reference, not a new object.</summary>
internal static class Ops
{
    internal static readonly Op Add = Op.NewBinary(BinaryOp.Add), Sub = Op.NewBinary(BinaryOp.Sub),
        Mul = Op.NewBinary(BinaryOp.Mul), Div = Op.NewBinary(BinaryOp.Div), Pow = Op.NewBinary(BinaryOp.Pow),
        Max = Op.NewBinary(BinaryOp.Max), Min = Op.NewBinary(BinaryOp.Min),
        Neg = Op.NewUnary(UnaryOp.Neg), Exp = Op.NewUnary(UnaryOp.Exp), Log = Op.NewUnary(UnaryOp.Log),
        Sqrt = Op.NewUnary(UnaryOp.Sqrt), Sigmoid = Op.NewUnary(UnaryOp.Sigmoid), Tanh = Op.NewUnary(UnaryOp.Tanh),
        Relu = Op.NewUnary(UnaryOp.Relu), Abs = Op.NewUnary(UnaryOp.Abs), Softplus = Op.NewUnary(UnaryOp.Softplus),
        Elu = Op.NewUnary(UnaryOp.Elu), Gelu = Op.NewUnary(UnaryOp.Gelu);

    /// <summary>Stores <paramref name="op"/> at <paramref name="i"/>, which the caller has made
    /// sure is inside <paramref name="ops"/>. Op is a class with subclasses, so a plain store
    /// into an Op[] checks the element's type each time (a tenth of a 1,000-node backward): the
    /// op is stored through a reference instead, which it is known to fit.</summary>
    internal static void Store(Op[] ops, int i, Op op) =>
        System.Runtime.CompilerServices.Unsafe.Add(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(ops), i) = op;

    internal static Op PowInt(int n) => Op.NewUnary(UnaryOp.NewPowInt(n));

    internal static Op LeakyRelu(double slope) => Op.NewUnary(UnaryOp.NewLeakyRelu(slope));

    /// <summary>A one-argument function of the core's vocabulary by the name the parser knows.</summary>
    /// <exception cref="ArgumentException">No function has that name.</exception>
    internal static Op Call(string function, double? parameter)
    {
        ArgumentNullException.ThrowIfNull(function);
        if (!Rules.callable.TryGetValue(function, out var make))
            throw new ArgumentException($"unknown function '{function}' (known: {string.Join(", ", Rules.callable.Keys.Order())})", nameof(function));
        return Op.NewUnary(make.Invoke(parameter.HasValue ? Microsoft.FSharp.Core.FSharpOption<double>.Some(parameter.Value) : Microsoft.FSharp.Core.FSharpOption<double>.None));
    }
}
