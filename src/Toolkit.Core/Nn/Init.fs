namespace Toolkit.Nn

open System

/// How a layer's weights are drawn.
[<RequireQualifiedAccess>]
type Init =
    /// N(0, 1), the notes' choice for the 784-30-10 network (biases drawn the same way).
    | Normal
    /// Xavier/Glorot: N(0, 1/n_in), for sigmoid and tanh layers (biases zero).
    | Xavier
    /// He: N(0, 2/n_in), for ReLU layers (biases zero).
    | He
    /// Weights and biases uniform in ±1/√n_in (PyTorch's default for a linear layer).
    | Uniform

/// Drawing initial parameters from a seeded generator: the same seed gives bit-identical values.
[<RequireQualifiedAccess>]
[<CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Init =

    /// A standard normal sample (Box–Muller).
    let normal (rng: Random) : float =
        let u1 = 1.0 - rng.NextDouble()
        let u2 = rng.NextDouble()
        sqrt (-2.0 * log u1) * cos (2.0 * Math.PI * u2)

    /// One weight of a layer with <paramref name="fanIn"/> inputs.
    let weight (init: Init) (fanIn: int) (rng: Random) : float =
        match init with
        | Init.Normal -> normal rng
        | Init.Xavier -> sqrt (1.0 / float fanIn) * normal rng
        | Init.He -> sqrt (2.0 / float fanIn) * normal rng
        | Init.Uniform -> 1.0 / sqrt (float fanIn) * (2.0 * rng.NextDouble() - 1.0)

    /// One bias of a layer with <paramref name="fanIn"/> inputs (no draw for Xavier and He: zero).
    let bias (init: Init) (fanIn: int) (rng: Random) : float =
        match init with
        | Init.Normal -> normal rng
        | Init.Uniform -> 1.0 / sqrt (float fanIn) * (2.0 * rng.NextDouble() - 1.0)
        | Init.Xavier | Init.He -> 0.0

    /// The name used on the command line.
    let name (init: Init) =
        match init with
        | Init.Normal -> "normal"
        | Init.Xavier -> "xavier"
        | Init.He -> "he"
        | Init.Uniform -> "uniform"
