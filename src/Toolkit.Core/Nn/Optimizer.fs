namespace Toolkit.Nn

open System

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

/// How the learning rate changes over the steps (a factor on the optimiser's rate).
[<RequireQualifiedAccess>]
type Schedule =
    /// The same rate throughout.
    | Constant
    /// Multiply by <c>factor</c> every <c>every</c> steps.
    | Step of every: int * factor: float
    /// Cosine decay from the full rate to 0 over <c>total</c> steps.
    | Cosine of total: int

/// An optimiser's state between steps (velocities, moments, its random generator, the best loss).
type OptimizerState internal (n: int, seed: int) =
    member val internal Velocity = Array.zeroCreate<float> n with get, set
    member val internal M = Array.zeroCreate<float> n with get, set
    member val internal V = Array.zeroCreate<float> n with get, set
    member val internal T = 0 with get, set
    member val internal Rng = Random(seed)
    member val internal Best = nan with get, set
    /// How many steps were taken.
    member s.Steps = s.T

/// One interface for every optimiser: <c>step</c> takes parameters to new parameters.
[<RequireQualifiedAccess>]
[<CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Optimizer =

    /// Fresh state for n parameters; the seed drives the random strategies.
    let init (n: int) (seed: int) = OptimizerState(n, seed)

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
        | Optimizer.GradientDescent lr | Optimizer.Sgd lr | Optimizer.Momentum (lr, _) | Optimizer.Nesterov (lr, _) | Optimizer.Adam (lr, _, _, _) -> lr

    /// <summary>One step from <paramref name="p"/>; returns the new parameters (p is not changed).</summary>
    let step (o: Optimizer) (schedule: Schedule) (s: OptimizerState) (objective: Objective) (p: float[]) : float[] =
        let k = factor schedule s.T
        s.T <- s.T + 1
        let gauss () = Network.normal s.Rng
        match o with
        | Optimizer.RandomSearch scale ->
            if Double.IsNaN s.Best then s.Best <- objective.Loss p
            let candidate = Array.init p.Length (fun _ -> scale * gauss ())
            let loss = objective.Loss candidate
            if loss < s.Best then (s.Best <- loss; candidate) else Array.copy p
        | Optimizer.RandomLocalSearch size ->
            if Double.IsNaN s.Best then s.Best <- objective.Loss p
            let candidate = p |> Array.map (fun v -> v + k * size * gauss ())
            let loss = objective.Loss candidate
            if loss < s.Best then (s.Best <- loss; candidate) else Array.copy p
        | Optimizer.GradientDescent lr | Optimizer.Sgd lr ->
            let g = objective.Gradient p
            Array.map2 (fun v d -> v - k * lr * d) p g
        | Optimizer.Momentum (lr, mu) ->
            let g = objective.Gradient p
            let v = Array.map2 (fun v d -> mu * v - k * lr * d) s.Velocity g
            s.Velocity <- v
            Array.map2 (+) p v
        | Optimizer.Nesterov (lr, mu) ->
            let ahead = Array.map2 (fun x v -> x + mu * v) p s.Velocity
            let g = objective.Gradient ahead
            let v = Array.map2 (fun v d -> mu * v - k * lr * d) s.Velocity g
            s.Velocity <- v
            Array.map2 (+) p v
        | Optimizer.Adam (lr, b1, b2, eps) ->
            let g = objective.Gradient p
            s.M <- Array.map2 (fun m d -> b1 * m + (1.0 - b1) * d) s.M g
            s.V <- Array.map2 (fun v d -> b2 * v + (1.0 - b2) * d * d) s.V g
            let c1 = 1.0 - b1 ** float s.T
            let c2 = 1.0 - b2 ** float s.T
            Array.init p.Length (fun i -> p.[i] - k * lr * (s.M.[i] / c1) / (sqrt (s.V.[i] / c2) + eps))

    /// <summary>Runs <paramref name="steps"/> steps from <paramref name="start"/> and records the
    /// trajectory: the parameters and the loss after every step (the start first).</summary>
    let run (o: Optimizer) (schedule: Schedule) (seed: int) (steps: int) (objective: Objective) (start: float[]) : (float[] * float)[] =
        let s = init start.Length seed
        let mutable p = start
        [| yield p, objective.Loss p
           for _ in 1 .. steps do
               p <- step o schedule s objective p
               yield p, objective.Loss p |]
