namespace Toolkit.Nn

open Toolkit
open System
open System.Numerics
open System.Numerics.Tensors

/// An objective over a flat parameter vector: its loss and its gradient (on the whole data or
/// on a mini-batch, as the caller decides).
type Objective =
    { /// The loss at some parameters.
      Loss: float[] -> float
      /// The gradient at some parameters.
      Gradient: float[] -> float[] }

/// The notes' strategies, from random search to following the gradient, and the usual refinements.
[<RequireQualifiedAccess>]
type Optimizer =
    /// Strategy 1: try fresh random parameters N(0, scale²) each step, keep the best seen.
    | RandomSearch of scale: float
    /// Strategy 2: try the current parameters plus N(0, step²) noise, keep them if the loss falls.
    | RandomLocalSearch of step: float
    /// Strategy 3: follow the gradient of the whole objective, p := p − η·∇L.
    | GradientDescent of learningRate: float
    /// The same rule on mini-batch gradients (the objective the caller passes is a batch's).
    | Sgd of learningRate: float
    /// v := μ·v − η·∇L; p := p + v.
    | Momentum of learningRate: float * momentum: float
    /// Momentum with the gradient taken at the look-ahead point p + μ·v.
    | Nesterov of learningRate: float * momentum: float
    /// Adam: bias-corrected first and second moments.
    | Adam of learningRate: float * beta1: float * beta2: float * epsilon: float
    /// RMSProp: s := ρ·s + (1 − ρ)·g²; p := p − η·g/(√s + ε).
    | RmsProp of learningRate: float * rho: float * epsilon: float
    /// AdamW: Adam with the weight decay taken out of the gradient, p := p − η·λ·p before each step.
    | AdamW of learningRate: float * beta1: float * beta2: float * epsilon: float * weightDecay: float

/// How the learning rate changes over the steps (a factor on the optimiser's rate).
[<RequireQualifiedAccess>]
type Schedule =
    /// The same rate throughout.
    | Constant
    /// Multiply by <c>factor</c> every <c>every</c> steps.
    | Step of every: int * factor: float
    /// Cosine decay from the full rate to 0 over <c>total</c> steps.
    | Cosine of total: int

/// <summary>An optimiser's state between steps, in the precision of the parameters it updates:
/// velocity or first moment, second moment, the step count, the random strategies' generator and
/// best loss. The moments are allocated on the first step that needs them.</summary>
[<Sealed>]
type OptimizerState<'T>(n: int, seed: int) =
    // the last, partial SIMD vector of each array goes through these, zero-padded, so that every
    // rule is written once, for whole vectors
    let pad = Array.init 4 (fun _ -> Array.zeroCreate<'T> Vector<'T>.Count)
    member val internal First : 'T[] = null with get, set
    member val internal Second : 'T[] = null with get, set
    member val internal Rng = Toolkit.CountedRandom(seed)
    member val internal Best = nan with get, set
    member internal _.Pad = pad
    member internal _.Size = n
    /// The update's ranges for the threads, made on the first update that shares them.
    member val internal Work : obj = null with get, set
    /// How many steps were taken.
    member val Steps = 0 with get, set
    /// The first-moment or velocity array (null before the first step that needs it).
    member s.Velocity = s.First
    /// The second-moment array (null before the first step that needs it).
    member s.SecondMoment = s.Second

/// <summary>Every update rule, written once over SIMD vectors of the parameters' own precision
/// and used by both the reference step on float64 vectors (<c>Optimizer.step</c>) and the
/// training path in float32 or float64 (<c>FastNet.Step</c>).</summary>
[<RequireQualifiedAccess>]
[<CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Optimizer =

    /// Fresh state for n parameters; the seed drives the random strategies.
    let init<'T> (n: int) (seed: int) = OptimizerState<'T>(n, seed)

    /// The factor a schedule puts on the learning rate at a step (0-based).
    let factor (schedule: Schedule) (step: int) =
        match schedule with
        | Schedule.Constant -> 1.0
        | Schedule.Step (every, f) -> f ** float (step / max 1 every)
        | Schedule.Cosine total -> 0.5 * (1.0 + cos (Math.PI * float (min step total) / float (max 1 total)))

    /// The optimiser's base learning rate (0 for the random strategies).
    let learningRate (o: Optimizer) =
        match o with
        | Optimizer.RandomSearch _ | Optimizer.RandomLocalSearch _ -> 0.0
        | Optimizer.GradientDescent lr | Optimizer.Sgd lr | Optimizer.Momentum (lr, _) | Optimizer.Nesterov (lr, _)
        | Optimizer.Adam (lr, _, _, _) | Optimizer.RmsProp (lr, _, _) | Optimizer.AdamW (lr, _, _, _, _) -> lr

    /// True for the rules that follow a gradient (all but the random strategies).
    let usesGradient (o: Optimizer) =
        match o with
        | Optimizer.RandomSearch _ | Optimizer.RandomLocalSearch _ -> false
        | Optimizer.GradientDescent _ | Optimizer.Sgd _ | Optimizer.Momentum _ | Optimizer.Nesterov _
        | Optimizer.Adam _ | Optimizer.RmsProp _ | Optimizer.AdamW _ -> true

    /// The name used on the command line.
    let name (o: Optimizer) =
        match o with
        | Optimizer.RandomSearch _ -> "random-search"
        | Optimizer.RandomLocalSearch _ -> "random-local-search"
        | Optimizer.GradientDescent _ -> "gd"
        | Optimizer.Sgd _ -> "sgd"
        | Optimizer.Momentum _ -> "momentum"
        | Optimizer.Nesterov _ -> "nesterov"
        | Optimizer.Adam _ -> "adam"
        | Optimizer.RmsProp _ -> "rmsprop"
        | Optimizer.AdamW _ -> "adamw"

    let inline private v (x: float) : Vector<'T> = Vector<'T>(Precision.store<'T> x)

    // Each rule below is one function of whole SIMD vectors at position i. The loops run it over
    // every whole vector in place, then over the last, partial vector through zero-padded copies
    // (the state's Pad arrays), so no rule is written twice and no step allocates.
    let private toPad (pad: 'T[]) (a: 'T[]) (e: int) =
        if isNull a then null
        else
            Array.Clear pad
            Array.blit a e pad 0 (a.Length - e)
            pad

    let private fromPad (pad: 'T[]) (a: 'T[]) (e: int) = if not (isNull a) then Array.blit pad 0 a e (a.Length - e)

    let private wholeVectors<'T when 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType> (n: int) = n - n % Vector<'T>.Count

    // v ← μ·v − η·g; p ← p + v
    let private momentumAt (mu: Vector<'T>) (eta: Vector<'T>) (g: 'T[]) (vel: 'T[]) (p: 'T[]) (i: int) =
        let vi = mu * Vector<'T>(vel, i) - eta * Vector<'T>(g, i)
        vi.CopyTo(vel, i)
        (Vector<'T>(p, i) + vi).CopyTo(p, i)

    // m ← β₁m + (1 − β₁)g; s ← β₂s + (1 − β₂)g²; p ← keep·p − step·m/(√(s·ic₂) + ε)
    let private adamAt (b1: Vector<'T>) (b1c: Vector<'T>) (b2: Vector<'T>) (b2c: Vector<'T>) (step: Vector<'T>) (ic2: Vector<'T>) (eps: Vector<'T>)
                       (keep: Vector<'T>) (decay: bool) (g: 'T[]) (m: 'T[]) (sq: 'T[]) (p: 'T[]) (i: int) =
        let gi = Vector<'T>(g, i)
        let mi = b1 * Vector<'T>(m, i) + b1c * gi
        let si = b2 * Vector<'T>(sq, i) + b2c * gi * gi
        mi.CopyTo(m, i)
        si.CopyTo(sq, i)
        let pi = if decay then keep * Vector<'T>(p, i) else Vector<'T>(p, i)
        (pi - step * mi / (Vector.SquareRoot(si * ic2) + eps)).CopyTo(p, i)

    // s ← ρs + (1 − ρ)g²; p ← p − η·g/(√s + ε)
    let private rmsPropAt (rho: Vector<'T>) (rhoc: Vector<'T>) (eta: Vector<'T>) (eps: Vector<'T>) (g: 'T[]) (sq: 'T[]) (p: 'T[]) (i: int) =
        let gi = Vector<'T>(g, i)
        let si = rho * Vector<'T>(sq, i) + rhoc * gi * gi
        si.CopyTo(sq, i)
        (Vector<'T>(p, i) - eta * gi / (Vector.SquareRoot si + eps)).CopyTo(p, i)

    // Each rule runs over the parameters lo … hi − 1 (lo a whole number of vectors in); the
    // range that ends the array also takes its last, partial vector.

    /// p ← p − η·g (gradient descent, SGD), as p + g·(−η) in one TensorPrimitives pass (which
    /// takes the widest vectors the machine has: 512 bits where AVX-512 is there).
    let private sgd (rate: float) (g: 'T[]) (p: 'T[]) (lo: int) (hi: int) =
        TensorPrimitives.MultiplyAdd(ReadOnlySpan<'T>(g, lo, hi - lo), Precision.store<'T> -rate, ReadOnlySpan<'T>(p, lo, hi - lo), Span<'T>(p, lo, hi - lo))

    /// v ← μ·v − η·g, then p ← p + v (momentum; Nesterov takes its gradient at the look-ahead).
    let private momentum (s: OptimizerState<'T>) (rate: float) (mu: float) (g: 'T[]) (vel: 'T[]) (p: 'T[]) (lo: int) (hi: int) =
        let vmu, eta = v mu, v rate
        let e = min hi (wholeVectors<'T> p.Length)
        let mutable i = lo
        while i < e do
            momentumAt vmu eta g vel p i
            i <- i + Vector<'T>.Count
        if hi = p.Length && e < p.Length then
            momentumAt vmu eta (toPad s.Pad.[0] g e) (toPad s.Pad.[1] vel e) (toPad s.Pad.[2] p e) 0
            fromPad s.Pad.[1] vel e
            fromPad s.Pad.[2] p e

    /// Adam, and AdamW's decoupled weight decay λ: m ← β₁m + (1 − β₁)g, s ← β₂s + (1 − β₂)g²,
    /// p ← (1 − ηλ)·p − (η/c₁)·m/(√(s/c₂) + ε), with the bias corrections c₁ = 1 − β₁ᵗ,
    /// c₂ = 1 − β₂ᵗ at step t (λ = 0 for Adam, whose p is then not scaled at all).
    let private adam (s: OptimizerState<'T>) (rate: float) (b1: float) (b2: float) (eps: float) (decay: float) (t: int)
                     (g: 'T[]) (m: 'T[]) (sq: 'T[]) (p: 'T[]) (lo: int) (hi: int) =
        let vb1, vb1c, vb2, vb2c = v b1, v (1.0 - b1), v b2, v (1.0 - b2)
        let step, ic2, veps = v (rate / (1.0 - b1 ** float t)), v (1.0 / (1.0 - b2 ** float t)), v eps
        let keep, decays = v (1.0 - rate * decay), decay <> 0.0
        let e = min hi (wholeVectors<'T> p.Length)
        let mutable i = lo
        while i < e do
            adamAt vb1 vb1c vb2 vb2c step ic2 veps keep decays g m sq p i
            i <- i + Vector<'T>.Count
        if hi = p.Length && e < p.Length then
            adamAt vb1 vb1c vb2 vb2c step ic2 veps keep decays (toPad s.Pad.[0] g e) (toPad s.Pad.[1] m e) (toPad s.Pad.[2] sq e) (toPad s.Pad.[3] p e) 0
            fromPad s.Pad.[1] m e
            fromPad s.Pad.[2] sq e
            fromPad s.Pad.[3] p e

    /// RMSProp: s ← ρs + (1 − ρ)g², p ← p − η·g/(√s + ε).
    let private rmsProp (s: OptimizerState<'T>) (rate: float) (rho: float) (eps: float) (g: 'T[]) (sq: 'T[]) (p: 'T[]) (lo: int) (hi: int) =
        let vrho, vrhoc, eta, veps = v rho, v (1.0 - rho), v rate, v eps
        let e = min hi (wholeVectors<'T> p.Length)
        let mutable i = lo
        while i < e do
            rmsPropAt vrho vrhoc eta veps g sq p i
            i <- i + Vector<'T>.Count
        if hi = p.Length && e < p.Length then
            rmsPropAt vrho vrhoc eta veps (toPad s.Pad.[0] g e) (toPad s.Pad.[1] sq e) (toPad s.Pad.[2] p e) 0
            fromPad s.Pad.[1] sq e
            fromPad s.Pad.[2] p e

    let private first (s: OptimizerState<'T>) =
        if isNull s.First then s.First <- Array.zeroCreate s.Size
        s.First

    let private second (s: OptimizerState<'T>) =
        if isNull s.Second then s.Second <- Array.zeroCreate s.Size
        s.Second

    /// The rule over parameters lo … hi − 1.
    let private rule (o: Optimizer) (s: OptimizerState<'T>) (rate: float) (g: 'T[]) (p: 'T[]) (lo: int) (hi: int) =
        match o with
        | Optimizer.GradientDescent _ | Optimizer.Sgd _ -> sgd rate g p lo hi
        | Optimizer.Momentum (_, mu) | Optimizer.Nesterov (_, mu) -> momentum s rate mu g s.First p lo hi
        | Optimizer.Adam (_, b1, b2, eps) -> adam s rate b1 b2 eps 0.0 s.Steps g s.First s.Second p lo hi
        | Optimizer.AdamW (_, b1, b2, eps, wd) -> adam s rate b1 b2 eps wd s.Steps g s.First s.Second p lo hi
        | Optimizer.RmsProp (_, rho, eps) -> rmsProp s rate rho eps g s.Second p lo hi
        | Optimizer.RandomSearch _ | Optimizer.RandomLocalSearch _ -> ()

    /// An update split into ranges for the products' threads: one per state, reused, so that a
    /// step allocates nothing. Each parameter's new value is the same whoever computes it.
    [<Sealed; AllowNullLiteral>]
    type private UpdateParts<'T when 'T :> IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>(s: OptimizerState<'T>) =
        inherit Toolkit.Linalg.PartedWork()
        member val Optimizer = Optimizer.Sgd 0.0 with get, set
        member val Rate = 0.0 with get, set
        member val G : 'T[] = null with get, set
        member val P : 'T[] = null with get, set
        member val Parts = 1 with get, set
        override w.Run(part: int) =
            // ranges of whole vectors; the last range ends the array
            let vectors = w.P.Length / Vector<'T>.Count
            let lo = vectors * part / w.Parts * Vector<'T>.Count
            let hi = if part = w.Parts - 1 then w.P.Length else vectors * (part + 1) / w.Parts * Vector<'T>.Count
            rule w.Optimizer s w.Rate w.G w.P lo hi

    /// Parameters per range below which an update is not shared between threads.
    let private perPart = 1 <<< 15

    /// <summary>The update of a gradient rule, in place: p (and the state) from the gradient g
    /// taken at the point <c>lookAhead</c> moved to, at the learning rate already scheduled.
    /// Past 64K parameters it is shared by the products' threads (each parameter's rule alone).</summary>
    let update<'T when 'T :> IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>
            (o: Optimizer) (s: OptimizerState<'T>) (rate: float) (g: 'T[]) (p: 'T[]) =
        match o with
        | Optimizer.RandomSearch _ | Optimizer.RandomLocalSearch _ ->
            invalidArg "o" (sprintf "%s does not follow a gradient; it takes Optimizer.step" (name o))
        | _ -> ()
        s.Steps <- s.Steps + 1
        // the moments exist before the ranges share them
        match o with
        | Optimizer.Momentum _ | Optimizer.Nesterov _ -> first s |> ignore
        | Optimizer.Adam _ | Optimizer.AdamW _ -> first s |> ignore; second s |> ignore
        | Optimizer.RmsProp _ -> second s |> ignore
        | _ -> ()
        let parts = min (Toolkit.Linalg.Blas.threads ()) (p.Length / perPart)
        if parts <= 1 then rule o s rate g p 0 p.Length
        else
            let w =
                match s.Work with
                | :? UpdateParts<'T> as w -> w
                | _ ->
                    let made = UpdateParts<'T>(s)
                    s.Work <- box made
                    made
            w.Optimizer <- o
            w.Rate <- rate
            w.G <- g
            w.P <- p
            w.Parts <- parts
            Toolkit.Linalg.Workers.run w parts
            w.G <- null
            w.P <- null

    /// <summary>Moves p to where the rule takes its gradient and back: p + μ·v for Nesterov
    /// (<paramref name="sign"/> 1 there, −1 back), nowhere for the other rules.</summary>
    let lookAhead<'T when 'T :> IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>
            (o: Optimizer) (s: OptimizerState<'T>) (sign: float) (p: 'T[]) =
        match o with
        | Optimizer.Nesterov (_, mu) when not (isNull s.First) -> Buffers.axpy (sign * mu) s.First p
        | _ -> ()

    /// <summary>One step from <paramref name="p"/>, in float64; returns the new parameters (p is not
    /// changed). The gradient rules are <c>update</c>'s, the same the training path runs.</summary>
    let step (o: Optimizer) (schedule: Schedule) (s: OptimizerState<float>) (objective: Objective) (p: float[]) : float[] =
        let k = factor schedule s.Steps
        let gauss () = Init.normal s.Rng
        match o with
        | Optimizer.RandomSearch scale ->
            s.Steps <- s.Steps + 1
            if Double.IsNaN s.Best then s.Best <- objective.Loss p
            let candidate = Array.init p.Length (fun _ -> scale * gauss ())
            let loss = objective.Loss candidate
            if loss < s.Best then (s.Best <- loss; candidate) else Array.copy p
        | Optimizer.RandomLocalSearch size ->
            s.Steps <- s.Steps + 1
            if Double.IsNaN s.Best then s.Best <- objective.Loss p
            let candidate = p |> Array.map (fun v -> v + k * size * gauss ())
            let loss = objective.Loss candidate
            if loss < s.Best then (s.Best <- loss; candidate) else Array.copy p
        | Optimizer.GradientDescent _ | Optimizer.Sgd _ | Optimizer.Momentum _ | Optimizer.Nesterov _
        | Optimizer.Adam _ | Optimizer.RmsProp _ | Optimizer.AdamW _ ->
            let q = Array.copy p
            lookAhead o s 1.0 q
            let g = objective.Gradient q
            lookAhead o s -1.0 q
            update o s (k * learningRate o) g q
            q

    /// <summary>Runs <paramref name="steps"/> steps from <paramref name="start"/> and records the
    /// trajectory: the parameters and the loss after every step (the start first).</summary>
    let run (o: Optimizer) (schedule: Schedule) (seed: int) (steps: int) (objective: Objective) (start: float[]) : (float[] * float)[] =
        let s = init<float> start.Length seed
        let mutable p = start
        [| yield p, objective.Loss p
           for _ in 1 .. steps do
               p <- step o schedule s objective p
               yield p, objective.Loss p |]
