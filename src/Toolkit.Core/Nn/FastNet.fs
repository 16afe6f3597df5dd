namespace Toolkit.Nn

open System
open MathNet.Numerics.LinearAlgebra
open Toolkit.Linalg

/// <summary>
/// The fast training path: the same network and the same four equations as <c>Network</c>, on
/// preallocated buffers. All weights and biases live in one array (and their gradients in
/// another), every product is one OpenBLAS call with transpose flags into a buffer, bias and
/// activation are applied in one pass, the optimiser updates in place: a training step in steady
/// state allocates nothing. <c>Network.backward</c> stays the reference; a property test checks
/// that this path gives the same gradients.
/// </summary>
[<Sealed>]
type FastNet(network: Network, maxBatch: int) =
    static let supportedLoss (loss: Loss) (output: Activation) =
        match loss, output with
        | Loss.Quadratic, _ -> true
        | Loss.BinaryCrossEntropy, Activation.Sigmoid -> true
        | Loss.CrossEntropy, Activation.Softmax -> true
        | _ -> false
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
    let p = Array.zeroCreate<float> count
    do
        for l in 0 .. L - 1 do
            Array.blit (layers.[l].W.ToColumnMajorArray()) 0 p wOff.[l] (nOut.[l] * nIn.[l])
            Array.blit (layers.[l].B.ToColumnMajorArray()) 0 p bOff.[l] nOut.[l]
    let g = Array.zeroCreate<float> count
    let x = Array.zeroCreate<float> (nIn.[0] * maxBatch)
    let y = Array.zeroCreate<float> (nOut.[L - 1] * maxBatch)
    let z = Array.init L (fun l -> Array.zeroCreate<float> (nOut.[l] * maxBatch))
    let a = Array.init L (fun l -> Array.zeroCreate<float> (nOut.[l] * maxBatch))
    let delta = Array.init L (fun l -> Array.zeroCreate<float> (nOut.[l] * maxBatch))
    do
        if not (supportedLoss loss acts.[L - 1]) then
            invalidArg "network" (sprintf "FastNet trains the quadratic cost, sigmoid + binary cross-entropy and softmax + cross-entropy, not %s with a %s output" (Loss.name loss) (Activation.name acts.[L - 1]))
        if maxBatch < 1 then invalidArg "maxBatch" (sprintf "the batch size must be at least 1, not %d" maxBatch)
    // optimiser state, allocated on first use
    let mutable v : float[] = null
    let mutable m2 : float[] = null
    let mutable t = 0

    /// a = g(z) for n values, in one pass (softmax: column by column, max subtracted).
    static let activate (act: Activation) (rows: int) (cols: int) (z: float[]) (a: float[]) =
        let n = rows * cols
        match act with
        | Activation.Identity -> Array.blit z 0 a 0 n
        | Activation.Sigmoid -> for i in 0 .. n - 1 do a.[i] <- Toolkit.Graph.Rules.sigmoid z.[i]
        | Activation.Tanh -> for i in 0 .. n - 1 do a.[i] <- Math.Tanh z.[i]
        | Activation.Relu -> for i in 0 .. n - 1 do a.[i] <- (if z.[i] > 0.0 then z.[i] else 0.0)
        | Activation.LeakyRelu s -> for i in 0 .. n - 1 do a.[i] <- (if z.[i] > 0.0 then z.[i] else s * z.[i])
        | Activation.Softmax ->
            for j in 0 .. cols - 1 do
                let o = j * rows
                let mutable mx = Double.NegativeInfinity
                for i in 0 .. rows - 1 do mx <- max mx z.[o + i]
                let mutable s = 0.0
                for i in 0 .. rows - 1 do
                    let e = Math.Exp(z.[o + i] - mx)
                    a.[o + i] <- e
                    s <- s + e
                for i in 0 .. rows - 1 do a.[o + i] <- a.[o + i] / s

    /// d ← d ⊙ g′(z) in place (softmax: each column's Jacobianᵀ·d).
    static let throughActivation (act: Activation) (rows: int) (cols: int) (z: float[]) (a: float[]) (d: float[]) =
        let n = rows * cols
        match act with
        | Activation.Identity -> ()
        | Activation.Sigmoid -> for i in 0 .. n - 1 do d.[i] <- d.[i] * a.[i] * (1.0 - a.[i])
        | Activation.Tanh -> for i in 0 .. n - 1 do d.[i] <- d.[i] * (1.0 - a.[i] * a.[i])
        | Activation.Relu -> for i in 0 .. n - 1 do (if z.[i] <= 0.0 then d.[i] <- 0.0)
        | Activation.LeakyRelu s -> for i in 0 .. n - 1 do (if z.[i] <= 0.0 then d.[i] <- d.[i] * s)
        | Activation.Softmax ->
            for j in 0 .. cols - 1 do
                let o = j * rows
                let mutable s = 0.0
                for i in 0 .. rows - 1 do s <- s + d.[o + i] * a.[o + i]
                for i in 0 .. rows - 1 do d.[o + i] <- a.[o + i] * (d.[o + i] - s)

    /// True when this path can train the network with the optimiser (else use <c>Train</c>'s reference path).
    static member Supports(network: Network, optimizer: Optimizer) =
        supportedLoss network.Loss network.Layers.[network.Layers.Length - 1].Activation
        && (match optimizer with
            | Optimizer.Sgd _ | Optimizer.GradientDescent _ | Optimizer.Momentum _ | Optimizer.Nesterov _ | Optimizer.Adam _ -> true
            | Optimizer.RandomSearch _ | Optimizer.RandomLocalSearch _ -> false)

    /// The number of parameters.
    member _.ParameterCount = count
    /// The parameters (W1 column-major, b1, W2, b2, …), the live array.
    member _.Parameters = p
    /// The gradients of the last <c>Gradient</c> call, in the same order.
    member _.Gradients = g

    /// <summary>Forward and backward on the samples idx[start .. start + m − 1] of a data set
    /// stored column-major (inputs × samples, targets × samples): fills <c>Gradients</c> and
    /// returns the batch's cost. No allocation.</summary>
    member _.Gradient(xs: float[], ys: float[], idx: int[], start: int, m: int) : float =
        if m < 1 || m > maxBatch then invalidArg "m" (sprintf "the batch has %d samples; this FastNet holds 1 to %d" m maxBatch)
        let n0, nL = nIn.[0], nOut.[L - 1]
        for k in 0 .. m - 1 do
            Array.blit xs (idx.[start + k] * n0) x (k * n0) n0
            Array.blit ys (idx.[start + k] * nL) y (k * nL) nL
        // forward: zˡ = Wˡ·aˡ⁻¹ + bˡ, aˡ = g(zˡ)
        for l in 0 .. L - 1 do
            let input = if l = 0 then x else a.[l - 1]
            Blas.gemmAt false false nOut.[l] m nIn.[l] 1.0 p wOff.[l] nOut.[l] input 0 nIn.[l] 0.0 z.[l] 0 nOut.[l]
            let zl = z.[l]
            let rows = nOut.[l]
            for j in 0 .. m - 1 do
                for i in 0 .. rows - 1 do
                    zl.[j * rows + i] <- zl.[j * rows + i] + p.[bOff.[l] + i]
            activate acts.[l] rows m zl a.[l]
        // the cost, and (1) δᴸ with the batch mean in it
        let out, zL, dL = a.[L - 1], z.[L - 1], delta.[L - 1]
        let n = nL * m
        let inv = 1.0 / float m
        let mutable cost = 0.0
        match loss, acts.[L - 1] with
        | Loss.BinaryCrossEntropy, _ ->
            for i in 0 .. n - 1 do
                cost <- cost + Toolkit.Tensors.Kernels.bceWithLogit zL.[i] y.[i]
                dL.[i] <- (out.[i] - y.[i]) * inv
        | Loss.CrossEntropy, _ ->
            for j in 0 .. m - 1 do
                let o = j * nL
                let mutable mx = Double.NegativeInfinity
                for i in 0 .. nL - 1 do mx <- max mx zL.[o + i]
                let mutable s = 0.0
                for i in 0 .. nL - 1 do s <- s + Math.Exp(zL.[o + i] - mx)
                let lse = mx + Math.Log s
                let mutable mass = 0.0
                for i in 0 .. nL - 1 do
                    cost <- cost - y.[o + i] * (zL.[o + i] - lse)
                    mass <- mass + y.[o + i]
                for i in 0 .. nL - 1 do dL.[o + i] <- (out.[o + i] * mass - y.[o + i]) * inv
        | _ ->
            for i in 0 .. n - 1 do
                let d = out.[i] - y.[i]
                cost <- cost + 0.5 * d * d
                dL.[i] <- d * inv
            throughActivation acts.[L - 1] nL m zL out dL
        // (2)–(4), right to left
        for l in L - 1 .. -1 .. 0 do
            let input = if l = 0 then x else a.[l - 1]
            let rows = nOut.[l]
            let dl = delta.[l]
            // (4) ∂C/∂Wˡ = δˡ·(aˡ⁻¹)ᵀ
            Blas.gemmAt false true rows nIn.[l] m 1.0 dl 0 rows input 0 nIn.[l] 0.0 g wOff.[l] rows
            // (3) ∂C/∂bˡ = δˡ summed over the batch
            for i in 0 .. rows - 1 do
                let mutable s = 0.0
                for j in 0 .. m - 1 do s <- s + dl.[j * rows + i]
                g.[bOff.[l] + i] <- s
            // (2) δˡ⁻¹ = ((Wˡ)ᵀ δˡ) ⊙ σ′(zˡ⁻¹)
            if l > 0 then
                Blas.gemmAt true false nIn.[l] m rows 1.0 p wOff.[l] rows dl 0 rows 0.0 delta.[l - 1] 0 nIn.[l]
                throughActivation acts.[l - 1] nOut.[l - 1] m z.[l - 1] a.[l - 1] delta.[l - 1]
        cost * inv

    /// <summary>One optimiser step on a batch, in place: returns the batch's cost (measured at
    /// the parameters before the step).</summary>
    member this.Step(optimizer: Optimizer, rate: float, xs: float[], ys: float[], idx: int[], start: int, m: int) : float =
        match optimizer with
        | Optimizer.Sgd _ | Optimizer.GradientDescent _ ->
            let c = this.Gradient(xs, ys, idx, start, m)
            Blas.axpy -rate g p
            c
        | Optimizer.Momentum (_, mu) ->
            if isNull v then v <- Array.zeroCreate count
            let c = this.Gradient(xs, ys, idx, start, m)
            Blas.scal mu v
            Blas.axpy -rate g v                                   // v := μv − η∇C
            Blas.axpy 1.0 v p                                     // p := p + v
            c
        | Optimizer.Nesterov (_, mu) ->
            if isNull v then v <- Array.zeroCreate count
            Blas.axpy mu v p                                      // look ahead to p + μv
            let c = this.Gradient(xs, ys, idx, start, m)
            Blas.axpy -mu v p                                     // back to p
            Blas.scal mu v
            Blas.axpy -rate g v
            Blas.axpy 1.0 v p
            c
        | Optimizer.Adam (_, b1, b2, eps) ->
            if isNull v then v <- Array.zeroCreate count
            if isNull m2 then m2 <- Array.zeroCreate count
            let c = this.Gradient(xs, ys, idx, start, m)
            t <- t + 1
            let c1 = 1.0 - b1 ** float t
            let c2 = 1.0 - b2 ** float t
            for i in 0 .. count - 1 do
                v.[i] <- b1 * v.[i] + (1.0 - b1) * g.[i]
                m2.[i] <- b2 * m2.[i] + (1.0 - b2) * g.[i] * g.[i]
                p.[i] <- p.[i] - rate * (v.[i] / c1) / (sqrt (m2.[i] / c2) + eps)
            c
        | Optimizer.RandomSearch _ | Optimizer.RandomLocalSearch _ ->
            invalidOp "the random strategies take the reference path (Train), not FastNet"

    /// The network with the current parameters (new matrices; the FastNet keeps its own).
    member _.ToNetwork() : Network =
        { network with
            Layers =
                Array.init L (fun l ->
                    { layers.[l] with
                        W = Matrix<float>.Build.Dense(nOut.[l], nIn.[l], Array.sub p wOff.[l] (nOut.[l] * nIn.[l]))
                        B = Matrix<float>.Build.Dense(nOut.[l], 1, Array.sub p bOff.[l] nOut.[l]) }) }
