namespace Toolkit.Nn

open Toolkit
open System
open System.Numerics
open System.Numerics.Tensors
open Toolkit.Tensors

/// Threads for the training path.
[<RequireQualifiedAccess>]
module FastPath =
    /// <summary>The threads worth using for a network of these layer sizes at this batch
    /// size: one when a batch's forward products come to under 10 MFLOP (sharing such small
    /// products between cores costs more than it saves), else every core. Measured on a 2-core
    /// machine (docs/performance.md, "Scaling"): 784-30-10 at batch 10 (0.5 MFLOP) runs 1.5× faster
    /// on one thread; 784-128-10 at batch 128 (26 MFLOP) 1.4× faster on two.</summary>
    let suggestedThreads (sizes: int list) (batch: int) : int =
        let flops = sizes |> List.pairwise |> List.sumBy (fun (i, o) -> 2.0 * float i * float o * float batch)
        if flops < 1e7 then 1 else Environment.ProcessorCount

    /// <summary>How many samples an evaluation pass takes at once: up to 1,000, fewer when the
    /// layers' buffers for that many would pass 256 MB in float64 (a convolutional network keeps
    /// about a megabyte per sample), never fewer than <paramref name="least"/> (the training batch).</summary>
    let evaluationBatch (layers: Layer seq) (least: int) : int =
        let perSample = layers |> Seq.sumBy (fun l -> 2L * int64 l.Outputs + int64 l.ScratchSize) |> max 1L
        int (max (int64 least) (min 1000L ((256L <<< 20) / 8L / perSample)))

    /// <summary>The same rule for any network, its forward products' FLOPs counted by its layers
    /// (a convolution's are many times its parameters). <c>toolkit train</c> takes one thread
    /// where this says one, and measures where it says more (<c>ThreadChoice</c>): a neighbour
    /// on a shared second core can make every core slower than one.</summary>
    let threadsFor (layers: Layer seq) (batch: int) : int =
        if Seq.sumBy (fun (l: Layer) -> l.Flops) layers * float batch < 1e7 then 1 else Environment.ProcessorCount

/// <summary>
/// A network laid out for training in float64 (<c>FastNet&lt;float&gt;</c>) or float32
/// (<c>FastNet&lt;float32&gt;</c>, products by SGEMM): every layer's forward and backward pass
/// over buffers made once, all parameters in one array and their gradients in another, each
/// product one OpenBLAS call, the loss from <c>Loss.sample</c>, the optimiser's one-pass update:
/// a training step in steady state allocates nothing. It walks the network's layers and never
/// asks which kind they are; the reference computations (<c>Network.forward</c>,
/// <c>Network.backward</c>) are this same walk in float64, and the matrix graph
/// (<c>Network.toTExpr</c>) is the independent check.
/// </summary>
[<Sealed>]
type FastNet<'T when 'T :> IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>(network: Network, maxBatch: int, seed: int) =
    do
        if maxBatch < 1 then invalidArg "maxBatch" (sprintf "the batch size must be at least 1, not %d" maxBatch)
        NetworkShape.check network.Layers network.Parameters
    let layers = network.Layers
    let L = layers.Length
    let nIn, nOut = network.Inputs, network.Outputs
    let loss = network.Loss
    // a loss the last layer fuses with reads that layer's input, and backward starts before it
    let fused = layers.[L - 1].LossInput loss = LossInput.Logits && L >= 2
    let lossInput = if fused then LossInput.Logits else LossInput.Outputs
    let p = network.Parameters |> Array.map Precision.store<'T>
    let g = Array.zeroCreate<'T> p.Length
    let x = Array.zeroCreate<'T> (nIn * maxBatch)
    let y = Array.zeroCreate<'T> (nOut * maxBatch)
    let outs = layers |> Array.map (fun l -> Array.zeroCreate<'T> (l.Outputs * maxBatch))
    let douts = layers |> Array.map (fun l -> Array.zeroCreate<'T> (l.Outputs * maxBatch))
    let rng = Toolkit.CountedRandom(seed)
    let buffers =
        let offsets = network.Offsets
        layers |> Array.mapi (fun l layer ->
            LayerBuffers<'T>(p, g, offsets.[l], (if l = 0 then x else outs.[l - 1]), outs.[l], (if l = 0 then null else douts.[l - 1]),
                             douts.[l], Array.zeroCreate (layer.ScratchSize * maxBatch), rng))
    // each layer bound to its buffers once: a step makes plain interface calls
    let passes = Array.map2 (fun (l: Layer) b -> l.Bind b) layers buffers
    // the loss's input and its gradient's destination
    let lossIn = if fused then outs.[L - 2] else outs.[L - 1]
    let lossGrad = if fused then douts.[L - 2] else douts.[L - 1]
    let lossWidth = if fused then layers.[L - 1].Inputs else nOut
    let mutable lastCorrect = 0

    /// A network laid out for batches of up to maxBatch samples (dropout seeded with 0).
    new(network: Network, maxBatch: int) = FastNet<'T>(network, maxBatch, 0)

    /// The number of parameters.
    member _.ParameterCount = p.Length
    /// The generator of the dropout masks (its draws are a checkpoint's record of it).
    member _.Random = rng
    /// How many samples of the last batch the outputs classified right (before the update).
    member _.LastCorrect = lastCorrect
    /// The parameters (layer after layer, as in <c>Network.Parameters</c>), the live array.
    member _.Parameters : 'T[] = p
    /// The gradients of the last <c>Gradient</c> call, in the same order.
    member _.Gradients : 'T[] = g
    /// The largest batch the buffers hold.
    member _.MaxBatch = maxBatch
    /// Each layer's output for the last batch (outputs × samples, the live buffers).
    member _.Outputs : 'T[][] = outs
    /// ∂C/∂(each layer's output) for the last batch, the live buffers.
    member _.OutputGradients : 'T[][] = douts

    member private _.Forward(m: int, training: bool) =
        for l in 0 .. L - 1 do
            let b = buffers.[l]
            b.Samples <- m
            b.Training <- training
            passes.[l].Forward()

    /// The batch's summed cost against the targets in y, sample by sample through
    /// <c>Loss.sample</c> on the buffers themselves; with withDelta, ∂C/∂(the loss's input) as well,
    /// with the batch mean in it.
    member private _.Cost(m: int, withDelta: bool) : float =
        let inv = 1.0 / float m
        let mutable cost = 0.0
        for j in 0 .. m - 1 do
            let p = ReadOnlySpan<'T>(lossIn, j * lossWidth, lossWidth)
            let t = ReadOnlySpan<'T>(y, j * nOut, nOut)
            cost <- cost + (if withDelta then Loss.sample loss lossInput p t inv (Span<'T>(lossGrad, j * lossWidth, lossWidth)) Span<'T>.Empty
                            else Loss.sample loss lossInput p t inv Span<'T>.Empty Span<'T>.Empty)
        cost

    member private _.Gather(xs: Samples, ys: float[], idx: int[], start: int, m: int) =
        if m < 1 || m > maxBatch then invalidArg "m" (sprintf "the batch has %d samples; this FastNet holds 1 to %d" m maxBatch)
        if xs.Features <> nIn then invalidArg "xs" (sprintf "the network takes %d inputs but the samples have %d features" nIn xs.Features)
        for k in 0 .. m - 1 do
            xs.CopyTo(idx.[start + k], 1, Span<'T>(x, k * nIn, nIn))
            TensorPrimitives.ConvertTruncating<float, 'T>(ReadOnlySpan<float>(ys, idx.[start + k] * nOut, nOut), Span<'T>(y, k * nOut, nOut))

    member private _.CountCorrect(m: int) =
        let out = outs.[L - 1]
        lastCorrect <- 0
        for k in 0 .. m - 1 do
            if TensorPrimitives.IndexOfMax(ReadOnlySpan<'T>(out, k * nOut, nOut)) = TensorPrimitives.IndexOfMax(ReadOnlySpan<'T>(y, k * nOut, nOut)) then
                lastCorrect <- lastCorrect + 1

    /// <summary>Forward and backward on the samples idx[start .. start + m − 1] of a data set
    /// (its targets stored column-major in float64, targets × samples, as a MathNet matrix stores
    /// them), in training mode: fills <c>Gradients</c> and returns the batch's mean cost.
    /// Each batch is gathered and converted to the storage precision in one pass. No allocation.</summary>
    member this.Gradient(xs: Samples, ys: float[], idx: int[], start: int, m: int) : float =
        this.Gather(xs, ys, idx, start, m)
        this.Forward(m, true)
        this.CountCorrect m
        let cost = this.Cost(m, true)
        for l in (if fused then L - 2 else L - 1) .. -1 .. 0 do
            passes.[l].Backward()
        cost / float m

    /// <summary>The mean cost of the same samples, forward only, in evaluation mode.</summary>
    member this.BatchCost(xs: Samples, ys: float[], idx: int[], start: int, m: int) : float =
        this.Gather(xs, ys, idx, start, m)
        this.Forward(m, false)
        this.CountCorrect m
        this.Cost(m, false) / float m

    /// <summary>The mean cost and the accuracy (largest output = label) over a whole data set
    /// stored like the training data: forward passes only, in evaluation mode, in batches through
    /// the same buffers, no allocation. With no labels (real-valued targets) the accuracy is NaN.</summary>
    member this.Evaluate(xs: Samples, ys: float[], labels: int[]) : float * float =
        let n = xs.Count
        if xs.Features <> nIn || ys.Length <> n * nOut || (labels.Length <> n && labels.Length <> 0) then
            invalidArg "xs" (sprintf "Evaluate: %d samples need %d inputs each, %d×%d targets and %d labels (or none), got %d inputs, %d targets and %d labels"
                                n nIn n nOut n xs.Features ys.Length labels.Length)
        let mutable cost = 0.0
        let mutable right = 0
        let mutable start = 0
        while start < n do
            let m = min maxBatch (n - start)
            // samples start … start + m − 1 lie side by side: one copy each
            xs.CopyTo(start, m, Span<'T>(x, 0, m * nIn))
            TensorPrimitives.ConvertTruncating<float, 'T>(ReadOnlySpan<float>(ys, start * nOut, m * nOut), Span<'T>(y, 0, m * nOut))
            this.Forward(m, false)
            cost <- cost + this.Cost(m, false)
            let out = outs.[L - 1]
            if labels.Length > 0 then
                for k in 0 .. m - 1 do
                    if TensorPrimitives.IndexOfMax(ReadOnlySpan<'T>(out, k * nOut, nOut)) = labels.[start + k] then right <- right + 1
            start <- start + m
        cost / float n, (if labels.Length = 0 then nan else float right / float n)

    /// <summary>The outputs for the first m samples of xs, in evaluation mode, into
    /// <paramref name="result"/> (outputs × m).</summary>
    member this.Predict(xs: Samples, m: int, result: float[]) =
        if xs.Features <> nIn then invalidArg "xs" (sprintf "the network takes %d inputs but the samples have %d features" nIn xs.Features)
        let mutable start = 0
        while start < m do
            let k = min maxBatch (m - start)
            xs.CopyTo(start, k, Span<'T>(x, 0, k * nIn))
            this.Forward(k, false)
            TensorPrimitives.ConvertTruncating<'T, float>(ReadOnlySpan<'T>(outs.[L - 1], 0, k * nOut), Span<float>(result, start * nOut, k * nOut))
            start <- start + k

    /// <summary>One optimiser step on a batch, in place, at the scheduled learning rate: returns
    /// the batch's cost (measured where the rule takes its gradient, before the step). The rule is
    /// <c>Optimizer.update</c>, the one the reference step runs.</summary>
    member this.Step(optimizer: Optimizer, state: OptimizerState<'T>, rate: float, xs: Samples, ys: float[], idx: int[], start: int, m: int) : float =
        this.Step(optimizer, state, rate, xs, ys, idx, start, m, id)

    /// <summary>The same step with <paramref name="combine"/> between the gradient and the update:
    /// given the batch's cost, it may change the gradient in place and returns the cost the step
    /// reports (a data-parallel run sums both across its processes there). A batch of no samples
    /// (a process whose share of a short last batch is empty) contributes a zero gradient.</summary>
    member this.Step(optimizer: Optimizer, state: OptimizerState<'T>, rate: float, xs: Samples, ys: float[], idx: int[], start: int, m: int,
                     combine: float -> float) : float =
        Optimizer.lookAhead optimizer state 1.0 p
        let c =
            if m > 0 then this.Gradient(xs, ys, idx, start, m)
            else
                Array.fill g 0 g.Length 'T.Zero
                0.0
        Optimizer.lookAhead optimizer state -1.0 p
        let c = combine c
        Optimizer.update optimizer state rate g p
        c

    /// The network with the current parameters (a new vector; the FastNet keeps its own).
    member _.ToNetwork() : Network = { network with Parameters = p |> Array.map Precision.load }
