namespace Toolkit.Nn

open System
open System.Numerics
open System.Numerics.Tensors
open MathNet.Numerics.LinearAlgebra
open Toolkit.Linalg

/// Which trainings the fast path takes.
[<RequireQualifiedAccess>]
module FastPath =
    /// The losses the fast path fuses with their output activation.
    let supportedLoss (loss: Loss) (output: Activation) =
        match loss, output with
        | Loss.Quadratic, _ -> true
        | Loss.BinaryCrossEntropy, Activation.Sigmoid -> true
        | Loss.CrossEntropy, Activation.Softmax -> true
        | _ -> false

    /// <summary>The OpenBLAS threads worth using for a network of these layer sizes at this batch
    /// size: one when a batch's forward products come to under 10 MFLOP (sharing such small
    /// products between cores costs more than it saves), else every core. Measured on a 2-core
    /// machine (docs/performance.md, "Scaling"): 784-30-10 at batch 10 (0.5 MFLOP) runs 1.5× faster
    /// on one thread; 784-128-10 at batch 128 (26 MFLOP) 1.4× faster on two.</summary>
    let suggestedThreads (sizes: int list) (batch: int) : int =
        let flops = sizes |> List.pairwise |> List.sumBy (fun (i, o) -> 2.0 * float i * float o * float batch)
        if flops < 1e7 then 1 else Environment.ProcessorCount

    /// True when the fast path can train the network with the optimiser (else <c>Train</c> takes the reference path).
    let supports (network: Network) (optimizer: Optimizer) =
        supportedLoss network.Loss network.Layers.[network.Layers.Length - 1].Activation
        && (match optimizer with
            | Optimizer.Sgd _ | Optimizer.GradientDescent _ | Optimizer.Momentum _ | Optimizer.Nesterov _ | Optimizer.Adam _ -> true
            | Optimizer.RandomSearch _ | Optimizer.RandomLocalSearch _ -> false)

/// <summary>
/// The fast training path in float64 (<c>FastNet&lt;float&gt;</c>) or float32
/// (<c>FastNet&lt;float32&gt;</c>, products by SGEMM, elementwise work in float32 SIMD lanes; the
/// costs are summed in float64): the same network and the same four equations as <c>Network</c>,
/// on preallocated buffers. All weights and biases live in one array (and their gradients in
/// another), every product is one OpenBLAS call with transpose flags into a buffer, bias and
/// activation are applied in one vectorized pass, the optimiser updates in place in one pass: a
/// training step in steady state allocates nothing. <c>Network.backward</c> stays the reference; a property test checks
/// that this path gives the same gradients.
/// </summary>
[<Sealed>]
type FastNet<'T when 'T :> IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>(network: Network, maxBatch: int) =
    static let isDouble = typeof<'T> = typeof<float>
    /// y ← alpha·x + y in 'T's precision (daxpy/saxpy).
    static let axpy (alpha: float) (x: 'T[]) (y: 'T[]) =
        if isDouble then Blas.axpy alpha (box x :?> float[]) (box y :?> float[]) else Blas.saxpy (float32 alpha) (box x :?> float32[]) (box y :?> float32[])
    /// C ← op(A)·op(B) on parts of arrays, in 'T's precision (dgemm or sgemm).
    static let gemmAt (ta: bool) (tb: bool) (m: int) (n: int) (k: int) (a: 'T[]) (aOff: int) (lda: int) (b: 'T[]) (bOff: int) (ldb: int) (c: 'T[]) (cOff: int) (ldc: int) =
        if isDouble then Blas.gemmAt ta tb m n k 1.0 (box a :?> float[]) aOff lda (box b :?> float[]) bOff ldb 0.0 (box c :?> float[]) cOff ldc
        else Blas.sgemmAt ta tb m n k 1.0f (box a :?> float32[]) aOff lda (box b :?> float32[]) bOff ldb 0.0f (box c :?> float32[]) cOff ldc
    let layers = network.Layers
    let L = layers.Length
    let nIn = layers |> Array.map (fun l -> l.W.ColumnCount)
    let nOut = layers |> Array.map (fun l -> l.W.RowCount)
    let acts = layers |> Array.map (fun l -> l.Activation)
    let loss = network.Loss
    // offsets of Wˡ and bˡ in the parameter array
    let wOff = Array.zeroCreate L
    let bOff = Array.zeroCreate L
    let count =
        let mutable o = 0
        for l in 0 .. L - 1 do
            wOff.[l] <- o
            o <- o + nOut.[l] * nIn.[l]
            bOff.[l] <- o
            o <- o + nOut.[l]
        o
    let p = Array.zeroCreate<'T> count
    do
        for l in 0 .. L - 1 do
            layers.[l].W.ToColumnMajorArray() |> Array.iteri (fun i v -> p.[wOff.[l] + i] <- Precision.store<'T> v)
            layers.[l].B.ToColumnMajorArray() |> Array.iteri (fun i v -> p.[bOff.[l] + i] <- Precision.store<'T> v)
    let g = Array.zeroCreate<'T> count
    let x = Array.zeroCreate<'T> (nIn.[0] * maxBatch)
    let y = Array.zeroCreate<'T> (nOut.[L - 1] * maxBatch)
    let z = Array.init L (fun l -> Array.zeroCreate<'T> (nOut.[l] * maxBatch))
    let a = Array.init L (fun l -> Array.zeroCreate<'T> (nOut.[l] * maxBatch))
    let delta = Array.init L (fun l -> Array.zeroCreate<'T> (nOut.[l] * maxBatch))
    do
        if not (FastPath.supportedLoss loss acts.[L - 1]) then
            invalidArg "network" (sprintf "FastNet trains the quadratic cost, sigmoid + binary cross-entropy and softmax + cross-entropy, not %s with a %s output" (Loss.name loss) (Activation.name acts.[L - 1]))
        if maxBatch < 1 then invalidArg "maxBatch" (sprintf "the batch size must be at least 1, not %d" maxBatch)
    // optimiser state, allocated on first use
    let mutable v : 'T[] = null       // velocity (momentum) or first moment (Adam), in the storage precision
    let mutable m2 : 'T[] = null      // Adam's second moment
    let mutable t = 0
    let mutable lastCorrect = 0

    /// The number of parameters.
    member _.ParameterCount = count
    /// How many samples of the last batch the outputs classified right (before the update).
    member _.LastCorrect = lastCorrect
    /// The parameters (W1 column-major, b1, W2, b2, …), the live array.
    member _.Parameters : 'T[] = p
    /// The gradients of the last <c>Gradient</c> call, in the same order.
    member _.Gradients : 'T[] = g

    /// zˡ = Wˡ·aˡ⁻¹ + bˡ, aˡ = g(zˡ) for the m samples in x: one gemm and one fused pass per layer.
    member private _.Forward(m: int) =
        for l in 0 .. L - 1 do
            let input = if l = 0 then x else a.[l - 1]
            gemmAt false false nOut.[l] m nIn.[l] p wOff.[l] nOut.[l] input 0 nIn.[l] z.[l] 0 nOut.[l]
            FastKernels.biasActivate acts.[l] nOut.[l] m p bOff.[l] z.[l] a.[l]

    /// The batch's summed cost against the targets in y; with withDelta, (1) δᴸ = ∇ₐC ⊙ σ′(zᴸ)
    /// as well, with the batch mean in it.
    member private _.Cost(m: int, withDelta: bool) : float =
        let nL = nOut.[L - 1]
        let out, zL, dL = a.[L - 1], z.[L - 1], delta.[L - 1]
        let n = nL * m
        let inv = 1.0 / float m
        let mutable cost = 0.0
        match loss with
        | Loss.BinaryCrossEntropy ->
            for i in 0 .. n - 1 do
                cost <- cost + Toolkit.Tensors.Kernels.bceWithLogit (Precision.load zL.[i]) (Precision.load y.[i])
                if withDelta then dL.[i] <- Precision.store<'T> ((Precision.load out.[i] - Precision.load y.[i]) * inv)
        | Loss.CrossEntropy ->
            for j in 0 .. m - 1 do
                let o = j * nL
                let mutable mx = Double.NegativeInfinity
                for i in 0 .. nL - 1 do mx <- max mx (Precision.load zL.[o + i])
                let mutable s = 0.0
                for i in 0 .. nL - 1 do s <- s + Math.Exp(Precision.load zL.[o + i] - mx)
                let lse = mx + Math.Log s
                let mutable mass = 0.0
                for i in 0 .. nL - 1 do
                    cost <- cost - Precision.load y.[o + i] * (Precision.load zL.[o + i] - lse)
                    mass <- mass + Precision.load y.[o + i]
                if withDelta then
                    for i in 0 .. nL - 1 do dL.[o + i] <- Precision.store<'T> ((Precision.load out.[o + i] * mass - Precision.load y.[o + i]) * inv)
        | _ ->
            for i in 0 .. n - 1 do
                let d = Precision.load out.[i] - Precision.load y.[i]
                cost <- cost + 0.5 * d * d
                if withDelta then dL.[i] <- Precision.store<'T> (d * inv)
            if withDelta then FastKernels.throughActivation acts.[L - 1] nL m zL out dL
        cost

    /// <summary>Forward and backward on the samples idx[start .. start + m − 1] of a data set
    /// stored column-major in float64 (inputs × samples, targets × samples, as a MathNet matrix
    /// stores them): fills <c>Gradients</c> and returns the batch's cost. Each batch is gathered
    /// and converted to the storage precision in one pass, so a float32 network needs no float32
    /// copy of the data set. No allocation.</summary>
    member this.Gradient(xs: float[], ys: float[], idx: int[], start: int, m: int) : float =
        if m < 1 || m > maxBatch then invalidArg "m" (sprintf "the batch has %d samples; this FastNet holds 1 to %d" m maxBatch)
        let n0, nL = nIn.[0], nOut.[L - 1]
        for k in 0 .. m - 1 do
            TensorPrimitives.ConvertTruncating<float, 'T>(ReadOnlySpan<float>(xs, idx.[start + k] * n0, n0), Span<'T>(x, k * n0, n0))
            TensorPrimitives.ConvertTruncating<float, 'T>(ReadOnlySpan<float>(ys, idx.[start + k] * nL, nL), Span<'T>(y, k * nL, nL))
        this.Forward m
        // how many samples the outputs classify right (largest output = largest target)
        let outL = a.[L - 1]
        lastCorrect <- 0
        for k in 0 .. m - 1 do
            if TensorPrimitives.IndexOfMax(ReadOnlySpan<'T>(outL, k * nL, nL)) = TensorPrimitives.IndexOfMax(ReadOnlySpan<'T>(y, k * nL, nL)) then
                lastCorrect <- lastCorrect + 1
        let cost = this.Cost(m, true)
        // (2)–(4), right to left
        for l in L - 1 .. -1 .. 0 do
            let input = if l = 0 then x else a.[l - 1]
            let rows = nOut.[l]
            let dl = delta.[l]
            // (4) ∂C/∂Wˡ = δˡ·(aˡ⁻¹)ᵀ
            gemmAt false true rows nIn.[l] m dl 0 rows input 0 nIn.[l] g wOff.[l] rows
            // (3) ∂C/∂bˡ = δˡ summed over the batch
            FastKernels.sumColumns rows m dl g bOff.[l]
            // (2) δˡ⁻¹ = ((Wˡ)ᵀ δˡ) ⊙ σ′(zˡ⁻¹)
            if l > 0 then
                gemmAt true false nIn.[l] m rows p wOff.[l] rows dl 0 rows delta.[l - 1] 0 nIn.[l]
                FastKernels.throughActivation acts.[l - 1] nOut.[l - 1] m z.[l - 1] a.[l - 1] delta.[l - 1]
        cost / float m

    /// <summary>The mean cost and the accuracy (largest output = label) over a whole data set
    /// stored like the training data: forward passes only, in batches through the same buffers,
    /// no allocation.</summary>
    member this.Evaluate(xs: float[], ys: float[], labels: int[]) : float * float =
        let n = labels.Length
        let n0, nL = nIn.[0], nOut.[L - 1]
        if xs.Length <> n * n0 || ys.Length <> n * nL then
            invalidArg "xs" (sprintf "Evaluate: %d labels need %d×%d inputs and %d×%d targets, got %d and %d values" n n0 n nL n xs.Length ys.Length)
        let mutable cost = 0.0
        let mutable right = 0
        let mutable start = 0
        while start < n do
            let m = min maxBatch (n - start)
            // samples start … start + m − 1 lie side by side: one copy each
            TensorPrimitives.ConvertTruncating<float, 'T>(ReadOnlySpan<float>(xs, start * n0, m * n0), Span<'T>(x, 0, m * n0))
            TensorPrimitives.ConvertTruncating<float, 'T>(ReadOnlySpan<float>(ys, start * nL, m * nL), Span<'T>(y, 0, m * nL))
            this.Forward m
            cost <- cost + this.Cost(m, false)
            let out = a.[L - 1]
            for k in 0 .. m - 1 do
                if TensorPrimitives.IndexOfMax(ReadOnlySpan<'T>(out, k * nL, nL)) = labels.[start + k] then right <- right + 1
            start <- start + m
        cost / float n, float right / float n

    /// <summary>One optimiser step on a batch, in place: returns the batch's cost (measured at
    /// the parameters before the step).</summary>
    member this.Step(optimizer: Optimizer, rate: float, xs: float[], ys: float[], idx: int[], start: int, m: int) : float =
        match optimizer with
        | Optimizer.Sgd _ | Optimizer.GradientDescent _ ->
            let c = this.Gradient(xs, ys, idx, start, m)
            FastKernels.sgd rate g p                              // p := p − η∇C
            c
        | Optimizer.Momentum (_, mu) ->
            if isNull v then v <- Array.zeroCreate count
            let c = this.Gradient(xs, ys, idx, start, m)
            FastKernels.momentum rate mu g v p                    // v := μv − η∇C, p := p + v
            c
        | Optimizer.Nesterov (_, mu) ->
            if isNull v then v <- Array.zeroCreate count
            axpy mu v p                                           // look ahead to p + μv
            let c = this.Gradient(xs, ys, idx, start, m)
            axpy -mu v p                                          // back to p
            FastKernels.momentum rate mu g v p
            c
        | Optimizer.Adam (_, b1, b2, eps) ->
            if isNull v then v <- Array.zeroCreate count
            if isNull m2 then m2 <- Array.zeroCreate count
            let c = this.Gradient(xs, ys, idx, start, m)
            t <- t + 1
            FastKernels.adam rate b1 b2 eps (1.0 - b1 ** float t) (1.0 - b2 ** float t) g v m2 p
            c
        | Optimizer.RandomSearch _ | Optimizer.RandomLocalSearch _ ->
            invalidOp "the random strategies take the reference path (Train), not FastNet"

    /// The network with the current parameters (new matrices; the FastNet keeps its own).
    member _.ToNetwork() : Network =
        { network with
            Layers =
                Array.init L (fun l ->
                    { layers.[l] with
                        W = Matrix<float>.Build.Dense(nOut.[l], nIn.[l], Array.init (nOut.[l] * nIn.[l]) (fun i -> Precision.load p.[wOff.[l] + i]))
                        B = Matrix<float>.Build.Dense(nOut.[l], 1, Array.init nOut.[l] (fun i -> Precision.load p.[bOff.[l] + i])) }) }
