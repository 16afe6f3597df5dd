namespace Toolkit

open System

/// <summary>
/// A seeded <c>System.Random</c> that counts its draws, so that its state can be saved as
/// (seed, draws) and restored by drawing again: what a checkpoint needs to resume a run bit for
/// bit. It gives the same numbers as <c>Random(seed)</c>: for a derived class .NET routes
/// <c>NextDouble</c> and <c>Next(n)</c> through <c>Sample</c>, which is counted here, and computes
/// them from it exactly as the seeded generator does.
/// </summary>
type CountedRandom(seed: int) =
    inherit Random(seed)
    let mutable draws = 0L
    /// The seed it started from.
    member _.Seed = seed
    /// How many numbers were drawn.
    member _.Draws = draws
    /// <summary>Draws and discards until <paramref name="total"/> draws were made (restoring a
    /// saved state on a fresh generator of the same seed).</summary>
    member this.SkipTo(total: int64) =
        if total < draws then invalidArg "total" (sprintf "the generator has drawn %d numbers, past %d" draws total)
        while draws < total do this.Sample() |> ignore
    /// One draw in [0, 1), counted.
    override _.Sample() =
        draws <- draws + 1L
        base.Sample()
    /// Next() does not go through Sample in .NET's seeded generator: counted here as one draw.
    override _.Next() =
        draws <- draws + 1L
        base.Next()
    /// Unbounded 64-bit draws are not counted one per call; the toolkit does not use them.
    override _.NextInt64() = raise (NotSupportedException "CountedRandom counts Sample-based draws only")
    /// Bytes are not counted one per call; the toolkit does not use them.
    override _.NextBytes(_: byte[]) : unit = raise (NotSupportedException "CountedRandom counts Sample-based draws only")
