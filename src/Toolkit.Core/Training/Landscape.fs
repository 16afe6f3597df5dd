namespace Toolkit.Training

open System
open Toolkit.Nn

/// How a random direction in parameter space is scaled.
[<RequireQualifiedAccess>]
type DirectionScale =
    /// Every entry drawn from N(0, 1), as in the notes' L(W + a·W1).
    | Gaussian
    /// Filter-wise normalised (Li et al., 2018): the incoming weights of each unit are scaled to
    /// the norm of that unit's weights in the network, and the biases are left still, so that a
    /// step of a = 1 is as large as the network's own weights and pictures of different networks
    /// (or of one network before and after training) compare.
    | PerUnit

/// The loss along one direction: L(W + a·W1) and the accuracy at each a.
type LandscapeLine =
    { /// The steps a along the direction (a = 0 is the network itself).
      Alphas: float[]
      /// The mean loss at each a.
      Loss: float[]
      /// The accuracy (largest output = label) at each a.
      Accuracy: float[] }

/// The loss over a plane: L(W + a·W1 + b·W2), Loss.[i, j] at (Alphas.[i], Betas.[j]).
type LandscapePlane =
    { /// The steps a along the first direction.
      Alphas: float[]
      /// The steps b along the second direction.
      Betas: float[]
      /// The mean loss, Loss.[i, j] at a = Alphas.[i], b = Betas.[j].
      Loss: float[,]
      /// The accuracy, laid out like Loss.
      Accuracy: float[,] }

/// <summary>
/// Loss landscapes: a network's loss seen along one random direction, L(W + a·W1), and over a
/// plane of two, L(W + a·W1 + b·W2), on any labelled data set. Every point is a batched forward
/// pass through one set of preallocated buffers (the layers' own passes, in evaluation mode);
/// only the parameters change between points.
/// </summary>
[<RequireQualifiedAccess>]
module Landscape =

    /// <summary>n evenly spaced values from −range to range (n ≥ 2), the grid of a picture.</summary>
    let grid (range: float) (n: int) : float[] =
        if n < 2 then invalidArg "n" (sprintf "a grid needs at least 2 points, not %d" n)
        if not (range > 0.0) || Double.IsInfinity range then invalidArg "range" (sprintf "the range must be a positive number, not %g" range)
        Array.init n (fun i -> -range + 2.0 * range * float i / float (n - 1))

    /// <summary>A random direction in the network's parameter space (laid out like
    /// <c>Network.Parameters</c>), from a seed: the same seed gives the same direction.</summary>
    let direction (net: Network) (scale: DirectionScale) (seed: int) : float[] =
        let rng = Random(seed)
        let d = Array.init net.Parameters.Length (fun _ -> Init.normal rng)
        match scale with
        | DirectionScale.Gaussian -> d
        | DirectionScale.PerUnit ->
            // each unit's slice of the direction gets the norm of that unit's incoming weights
            // (the layer says which parameters feed which unit); the rest (biases) is zeroed
            let offsets = net.Offsets
            net.Layers |> Array.iteri (fun l layer ->
                let o = offsets.[l]
                let units = Array.init layer.ParameterCount layer.UnitOf
                let count = if units.Length = 0 then 0 else Array.max units + 1
                let nw, nd = Array.zeroCreate count, Array.zeroCreate count
                for i in 0 .. units.Length - 1 do
                    let u = units.[i]
                    if u >= 0 then
                        nw.[u] <- nw.[u] + net.Parameters.[o + i] * net.Parameters.[o + i]
                        nd.[u] <- nd.[u] + d.[o + i] * d.[o + i]
                for i in 0 .. units.Length - 1 do
                    let u = units.[i]
                    d.[o + i] <- if u < 0 || not (nd.[u] > 0.0) then 0.0 else sqrt nw.[u] / sqrt nd.[u] * d.[o + i])
            d

    /// Parameters to evaluate at (write them into Buffer), and the evaluation: mean loss, accuracy.
    type private Evaluator(net: Network, data: LabelledData) =
        let fast = FastNet<float>(net, min data.Labels.Length (FastPath.evaluationBatch net.Layers 1))
        let xs, ys = data.X, Toolkit.Tensors.Kernels.storage data.Y
        member _.Buffer = fast.Parameters
        member _.Evaluate() = fast.Evaluate(xs, ys, data.Labels)

    let private check (net: Network) (data: LabelledData) (directions: float[] list) =
        if data.X.RowCount <> net.Inputs then
            invalidArg "data" (sprintf "the network takes %d inputs but the data has %d features" net.Inputs data.X.RowCount)
        if data.Labels.Length = 0 then invalidArg "data" "the data set is empty"
        let count = net.Parameters.Length
        for d in directions do
            if d.Length <> count then invalidArg "direction" (sprintf "the network has %d parameters but the direction has %d entries" count d.Length)

    /// <summary>L(W + a·W1) for each a in <paramref name="alphas"/>, on <paramref name="data"/>.</summary>
    let line (net: Network) (data: LabelledData) (direction: float[]) (alphas: float[]) : LandscapeLine =
        check net data [ direction ]
        let w = net.Parameters
        let e = Evaluator(net, data)
        let results =
            alphas |> Array.map (fun a ->
                let p = e.Buffer
                for i in 0 .. p.Length - 1 do p.[i] <- w.[i] + a * direction.[i]
                e.Evaluate())
        { Alphas = Array.copy alphas; Loss = Array.map fst results; Accuracy = Array.map snd results }

    /// <summary>L(W + a·W1 + b·W2) over the grid alphas × betas, on <paramref name="data"/>.</summary>
    let plane (net: Network) (data: LabelledData) (d1: float[]) (d2: float[]) (alphas: float[]) (betas: float[]) : LandscapePlane =
        check net data [ d1; d2 ]
        let w = net.Parameters
        let e = Evaluator(net, data)
        let loss = Array2D.zeroCreate alphas.Length betas.Length
        let accuracy = Array2D.zeroCreate alphas.Length betas.Length
        for i in 0 .. alphas.Length - 1 do
            for j in 0 .. betas.Length - 1 do
                let a, b = alphas.[i], betas.[j]
                let p = e.Buffer
                for k in 0 .. p.Length - 1 do p.[k] <- w.[k] + a * d1.[k] + b * d2.[k]
                let l, acc = e.Evaluate()
                loss.[i, j] <- l
                accuracy.[i, j] <- acc
        { Alphas = Array.copy alphas; Betas = Array.copy betas; Loss = loss; Accuracy = accuracy }

    /// <summary>A function of two parameters over the grid xs × ys: values.[i, j] = f xs.[i] ys.[j]
    /// (the notes' small examples, and the surface an optimiser's trajectory is drawn on).</summary>
    let surface (f: float -> float -> float) (xs: float[]) (ys: float[]) : float[,] =
        Array2D.init xs.Length ys.Length (fun i j -> f xs.[i] ys.[j])

    /// <summary>The coordinates (a, b) of the point of the plane W + a·W1 + b·W2 nearest to p
    /// (least squares): where a trajectory of parameters lies in a plane's picture.</summary>
    let project (origin: float[]) (d1: float[]) (d2: float[]) (p: float[]) : float * float =
        if origin.Length <> p.Length || d1.Length <> p.Length || d2.Length <> p.Length then
            invalidArg "p" (sprintf "the origin, the directions and the point have %d, %d, %d and %d entries" origin.Length d1.Length d2.Length p.Length)
        let mutable g11, g12, g22, r1, r2 = 0.0, 0.0, 0.0, 0.0, 0.0
        for k in 0 .. p.Length - 1 do
            let r = p.[k] - origin.[k]
            g11 <- g11 + d1.[k] * d1.[k]
            g12 <- g12 + d1.[k] * d2.[k]
            g22 <- g22 + d2.[k] * d2.[k]
            r1 <- r1 + d1.[k] * r
            r2 <- r2 + d2.[k] * r
        let det = g11 * g22 - g12 * g12
        if not (abs det > 1e-12 * g11 * g22) then invalidArg "d2" "the two directions are parallel (or zero): they span no plane"
        (g22 * r1 - g12 * r2) / det, (g11 * r2 - g12 * r1) / det
