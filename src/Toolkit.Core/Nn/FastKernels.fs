namespace Toolkit.Nn

open System
open System.Numerics
open System.Numerics.Tensors

/// Conversions between a storage precision and the float64 the fast path computes in.
module internal Precision =
    /// float → 'T
    let inline store<'T when 'T :> IFloatingPointIeee754<'T>> (v: float) : 'T = 'T.CreateTruncating v
    /// 'T → float
    let inline load<'T when 'T :> IFloatingPointIeee754<'T>> (v: 'T) : float = Double.CreateTruncating v

/// <summary>
/// The fast path's elementwise work, vectorized (SIMD through <c>Vector&lt;'T&gt;</c> and
/// <c>TensorPrimitives</c>) and in the storage precision, so that float32 runs eight or sixteen
/// lanes at a time: the bias and activation of a layer in one call, the activation's derivative
/// into δ in place, the bias gradient as a sum of columns, and the optimisers' updates in one pass
/// over the parameters. Matrices are column-major, one column per sample.
/// </summary>
module internal FastKernels =

    let inline private ro (a: 'T[]) (off: int) (n: int) = ReadOnlySpan<'T>(a, off, n)
    let inline private sp (a: 'T[]) (off: int) (n: int) = Span<'T>(a, off, n)

    let inline private scalar<'T when 'T :> IFloatingPointIeee754<'T>> (v: float) : 'T = Precision.store v
    let inline private num<'T when 'T :> IFloatingPointIeee754<'T>> (v: 'T) : float = Precision.load v

    /// The largest multiple of the vector width not above n.
    let inline private vectorEnd<'T when 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType> (n: int) = n - n % Vector<'T>.Count

    /// zⱼ ← zⱼ + b for every column j, then a ← g(z) (softmax: column by column, its largest
    /// value subtracted first, summed in float64).
    let biasActivate<'T when 'T :> IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>
            (act: Activation) (rows: int) (cols: int) (b: 'T[]) (bOff: int) (z: 'T[]) (a: 'T[]) =
        let bias = ro b bOff rows
        for j in 0 .. cols - 1 do
            TensorPrimitives.Add(ro z (j * rows) rows, bias, sp z (j * rows) rows)
        let n = rows * cols
        match act with
        | Activation.Identity -> Array.blit z 0 a 0 n
        | Activation.Sigmoid -> TensorPrimitives.Sigmoid(ro z 0 n, sp a 0 n)
        | Activation.Tanh -> TensorPrimitives.Tanh(ro z 0 n, sp a 0 n)
        | Activation.Relu -> TensorPrimitives.Max(ro z 0 n, 'T.Zero, sp a 0 n)
        | Activation.LeakyRelu s ->
            let slope = Vector<'T>(scalar<'T> s)
            let e = vectorEnd<'T> n
            let mutable i = 0
            while i < e do
                let v = Vector<'T>(z, i)
                Vector.ConditionalSelect(Vector.GreaterThan(v, Vector<'T>.Zero), v, v * slope).CopyTo(a, i)
                i <- i + Vector<'T>.Count
            for i in e .. n - 1 do a.[i] <- if num z.[i] > 0.0 then z.[i] else scalar<'T> (s * num z.[i])
        | Activation.Softmax ->
            for j in 0 .. cols - 1 do
                let o = j * rows
                let mx = num(TensorPrimitives.Max(ro z o rows))
                let mutable s = 0.0
                for i in 0 .. rows - 1 do s <- s + Math.Exp(num z.[o + i] - mx)
                for i in 0 .. rows - 1 do a.[o + i] <- scalar<'T> (Math.Exp(num z.[o + i] - mx) / s)

    /// d ← d ⊙ g′(z) in place, g′ written with the activation's output a where that is cheaper
    /// (σ′ = a(1 − a), tanh′ = 1 − a²); ReLU's sub-gradient at 0 is 0; softmax: each column's Jacobianᵀ·d.
    let throughActivation<'T when 'T :> IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>
            (act: Activation) (rows: int) (cols: int) (z: 'T[]) (a: 'T[]) (d: 'T[]) =
        let n = rows * cols
        let e = vectorEnd<'T> n
        let w = Vector<'T>.Count
        let one = Vector<'T>.One
        match act with
        | Activation.Identity -> ()
        | Activation.Sigmoid ->
            let mutable i = 0
            while i < e do
                let s = Vector<'T>(a, i)
                (Vector<'T>(d, i) * s * (one - s)).CopyTo(d, i)
                i <- i + w
            for i in e .. n - 1 do d.[i] <- scalar<'T> (num d.[i] * num a.[i] * (1.0 - num a.[i]))
        | Activation.Tanh ->
            let mutable i = 0
            while i < e do
                let t = Vector<'T>(a, i)
                (Vector<'T>(d, i) * (one - t * t)).CopyTo(d, i)
                i <- i + w
            for i in e .. n - 1 do d.[i] <- scalar<'T> (num d.[i] * (1.0 - num a.[i] * num a.[i]))
        | Activation.Relu ->
            let mutable i = 0
            while i < e do
                Vector.ConditionalSelect(Vector.GreaterThan(Vector<'T>(z, i), Vector<'T>.Zero), Vector<'T>(d, i), Vector<'T>.Zero).CopyTo(d, i)
                i <- i + w
            for i in e .. n - 1 do if not (num z.[i] > 0.0) then d.[i] <- 'T.Zero
        | Activation.LeakyRelu s ->
            let slope = Vector<'T>(scalar<'T> s)
            let mutable i = 0
            while i < e do
                let dv = Vector<'T>(d, i)
                Vector.ConditionalSelect(Vector.GreaterThan(Vector<'T>(z, i), Vector<'T>.Zero), dv, dv * slope).CopyTo(d, i)
                i <- i + w
            for i in e .. n - 1 do if not (num z.[i] > 0.0) then d.[i] <- scalar<'T> (num d.[i] * s)
        | Activation.Softmax ->
            for j in 0 .. cols - 1 do
                let o = j * rows
                let s = num (TensorPrimitives.Dot(ro d o rows, ro a o rows))
                for i in 0 .. rows - 1 do d.[o + i] <- scalar<'T> (num a.[o + i] * (num d.[o + i] - s))

    /// g[gOff .. gOff + rows − 1] ← Σⱼ δ[:, j]: equation (3), the bias gradient summed over the batch.
    let sumColumns<'T when 'T :> IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>
            (rows: int) (cols: int) (d: 'T[]) (g: 'T[]) (gOff: int) =
        let acc = sp g gOff rows
        acc.Clear()
        for j in 0 .. cols - 1 do
            TensorPrimitives.Add(ro g gOff rows, ro d (j * rows) rows, acc)

    /// p ← p − η·g (gradient descent, SGD).
    let sgd<'T when 'T :> IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>
            (rate: float) (g: 'T[]) (p: 'T[]) =
        TensorPrimitives.MultiplyAdd(ro g 0 g.Length, scalar<'T> -rate, ro p 0 p.Length, sp p 0 p.Length)

    /// v ← μ·v − η·g, then p ← p + c·v, in one pass (c = 1: momentum; Nesterov calls it with the
    /// look-ahead folded in).
    let momentum<'T when 'T :> IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>
            (rate: float) (mu: float) (g: 'T[]) (v: 'T[]) (p: 'T[]) =
        let n = p.Length
        let e = vectorEnd<'T> n
        let w = Vector<'T>.Count
        let vmu, veta = Vector<'T>(scalar<'T> mu), Vector<'T>(scalar<'T> rate)
        let mutable i = 0
        while i < e do
            let vi = vmu * Vector<'T>(v, i) - veta * Vector<'T>(g, i)
            vi.CopyTo(v, i)
            (Vector<'T>(p, i) + vi).CopyTo(p, i)
            i <- i + w
        for i in e .. n - 1 do
            let vi = mu * num v.[i] - rate * num g.[i]
            v.[i] <- scalar<'T> vi
            p.[i] <- scalar<'T> (num p.[i] + vi)

    /// Adam's update in one pass: m ← β₁m + (1 − β₁)g, s ← β₂s + (1 − β₂)g²,
    /// p ← p − η·(m/c₁)/(√(s/c₂) + ε), with the bias corrections c₁ = 1 − β₁ᵗ, c₂ = 1 − β₂ᵗ.
    let adam<'T when 'T :> IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>
            (rate: float) (b1: float) (b2: float) (eps: float) (c1: float) (c2: float) (g: 'T[]) (m: 'T[]) (s: 'T[]) (p: 'T[]) =
        let n = p.Length
        let e = vectorEnd<'T> n
        let w = Vector<'T>.Count
        let vb1, vb1c = Vector<'T>(scalar<'T> b1), Vector<'T>(scalar<'T> (1.0 - b1))
        let vb2, vb2c = Vector<'T>(scalar<'T> b2), Vector<'T>(scalar<'T> (1.0 - b2))
        let step, ic2, veps = Vector<'T>(scalar<'T> (rate / c1)), Vector<'T>(scalar<'T> (1.0 / c2)), Vector<'T>(scalar<'T> eps)
        let mutable i = 0
        while i < e do
            let gi = Vector<'T>(g, i)
            let mi = vb1 * Vector<'T>(m, i) + vb1c * gi
            let si = vb2 * Vector<'T>(s, i) + vb2c * gi * gi
            mi.CopyTo(m, i)
            si.CopyTo(s, i)
            (Vector<'T>(p, i) - step * mi / (Vector.SquareRoot(si * ic2) + veps)).CopyTo(p, i)
            i <- i + w
        for i in e .. n - 1 do
            let gi = num g.[i]
            let mi = b1 * num m.[i] + (1.0 - b1) * gi
            let si = b2 * num s.[i] + (1.0 - b2) * gi * gi
            m.[i] <- scalar<'T> mi
            s.[i] <- scalar<'T> si
            p.[i] <- scalar<'T> (num p.[i] - rate * (mi / c1) / (sqrt (si / c2) + eps))
