namespace Toolkit.Nn

open System
open System.Diagnostics
open Toolkit.Linalg

/// What a thread measurement found: the threads chosen for the products, and the median seconds of a
/// training step (forward and backward) with each number of threads tried.
type ThreadChoice =
    { /// The threads chosen.
      Threads: int
      /// (threads, median seconds per step) for each candidate, in the order tried.
      StepSeconds: (int * float) list }
    /// "1 thread 1.52 ms, 2 threads 0.93 ms per step".
    override c.ToString() =
        c.StepSeconds
        |> List.map (fun (t, s) -> sprintf "%d thread%s %.3g ms" t (if t = 1 then "" else "s") (s * 1e3))
        |> fun parts -> String.Join(", ", parts) + " per step"

/// <summary>
/// Threads for training chosen by measurement, not by rule: the same network's training step,
/// on a scratch copy with made-up inputs of the batch's size (training itself is untouched), is
/// timed in alternating rounds on each candidate thread count and the fastest median wins. On a
/// machine whose second core a neighbour may be using, a rule that always takes every core for
/// large products can double the time; so can one thread where the products are large and the
/// cores free. More threads must be 5% faster to be chosen (a tie goes to fewer).
/// </summary>
[<RequireQualifiedAccess>]
module ThreadChoice =

    /// Rounds of timing per candidate: the median of them is the candidate's time.
    let rounds = 5

    /// The middle value (the upper one of an even count).
    let internal median (xs: float seq) = let a = Seq.sort xs |> Array.ofSeq in a.[a.Length / 2]

    let private measureIn<'T when 'T :> Numerics.IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>
            (net: Network) (batch: int) (candidates: int list) : ThreadChoice =
        let f = FastNet<'T>(net, batch, 0)
        let rng = Random(1)
        let xs = Samples.OfValues(net.Inputs, Array.init (net.Inputs * batch) (fun _ -> rng.NextDouble()))
        let ys = Array.init (net.Outputs * batch) (fun i -> if i % net.Outputs = (i / net.Outputs) % net.Outputs then 1.0 else 0.0)
        let idx = Array.init batch id
        let step () = f.Gradient(xs, ys, idx, 0, batch) |> ignore
        // warm up on every candidate (the helper threads start, the JIT compiles the passes)
        for t in candidates do
            Blas.setThreads t
            for _ in 1 .. 3 do step ()
        // steps per timing: about 5 ms of work, so that a timer tick and a stray interrupt are small
        let once = Stopwatch.StartNew()
        step ()
        let k = int (min 100.0 (max 1.0 (ceil (0.005 / max 1e-7 once.Elapsed.TotalSeconds))))
        let times = candidates |> List.map (fun t -> t, ResizeArray<float>())
        for _ in 1 .. rounds do
            for t, ts in times do
                Blas.setThreads t
                let sw = Stopwatch.StartNew()
                for _ in 1 .. k do step ()
                ts.Add(sw.Elapsed.TotalSeconds / float k)
        let medians = times |> List.map (fun (t, ts) -> t, median ts)
        let best =
            medians |> List.fold (fun (bt, bs) (t, s) -> if (t < bt && s <= bs * 1.05) || (t > bt && s < bs / 1.05) then (t, s) else (bt, bs)) medians.Head
        Blas.setThreads (fst best)
        { Threads = fst best; StepSeconds = medians }

    /// <summary>Times a training step of <paramref name="net"/> at <paramref name="batch"/>
    /// samples on each of <paramref name="candidates"/> threads (in float32 when
    /// <paramref name="single"/>, else float64), leaves the products on the fastest and returns the
    /// choice with the times. Takes well under a second (a few milliseconds per candidate and
    /// round, or one step when a step is longer).</summary>
    let measure (net: Network) (batch: int) (single: bool) (candidates: int list) : ThreadChoice =
        if candidates.IsEmpty then invalidArg "candidates" "no thread counts to choose from"
        if candidates |> List.exists (fun t -> t < 1) then invalidArg "candidates" (sprintf "thread counts must be at least 1: %A" candidates)
        if batch < 1 then invalidArg "batch" (sprintf "the batch size must be at least 1, not %d" batch)
        let candidates = List.distinct candidates
        if candidates.Length = 1 || not (Blas.isNative ()) then
            Blas.setThreads candidates.Head
            { Threads = (if Blas.isNative () then candidates.Head else 1); StepSeconds = [] }
        elif single then measureIn<float32> net batch candidates
        else measureIn<float> net batch candidates

/// <summary>
/// Threads re-chosen while training runs. A product's result does not depend on the threads
/// (<c>Blas.parts</c>), so the count may change between any two batches: every
/// <paramref name="period"/> batches the other candidate runs <paramref name="probe"/> batches
/// (the first of them a warm-up), and the faster per batch, by the medians, is kept (the other
/// must be 5% faster to take over). A start-up measurement cannot see a neighbour that takes
/// the second core an hour into a run; this does, at the cost of a few batches in a hundred
/// on the slower count.
/// </summary>
[<Sealed>]
type AdaptiveThreads(start: int, candidates: int list, period: int, probe: int) =
    do
        if period < 1 || probe < 2 then invalidArg "period" (sprintf "a period of at least 1 batch and probes of at least 2, not %d and %d" period probe)
        if candidates |> List.exists (fun t -> t < 1) then invalidArg "candidates" (sprintf "thread counts must be at least 1: %A" candidates)
    let candidates = List.distinct (start :: candidates) |> Array.ofList
    let recent = Collections.Generic.Queue<float>()
    let probes = ResizeArray<float>()
    let sw = Stopwatch()
    let mutable current = 0
    let mutable probing = -1
    let mutable since = 0
    let mutable switches = 0
    do Blas.setThreads candidates.[0]

    /// Batches between two probes of the other count.
    member _.Period = period

    /// The threads the next batch runs on.
    member _.Threads = candidates.[(if probing >= 0 then probing else current)]
    /// The threads kept (not counting a probe in progress).
    member _.Chosen = candidates.[current]
    /// How many times the kept count changed.
    member _.Switches = switches

    /// Starts timing anew without recording: before the first batch, and after anything else
    /// that ran since the last batch (an epoch's evaluation).
    member _.Restart() = sw.Restart()

    /// A batch ended: records its time and sets the threads for the next.
    member _.BatchEnded() =
        let t = sw.Elapsed.TotalSeconds
        sw.Restart()
        if probing >= 0 then
            probes.Add t
            if probes.Count >= probe then
                if ThreadChoice.median (Seq.skip 1 probes) < ThreadChoice.median recent / 1.05 then
                    current <- probing
                    recent.Clear()
                    switches <- switches + 1
                probing <- -1
                probes.Clear()
                since <- 0
                Blas.setThreads candidates.[current]
        else
            recent.Enqueue t
            if recent.Count > 32 then recent.Dequeue() |> ignore
            since <- since + 1
            if since >= period && candidates.Length > 1 && recent.Count >= 8 then
                probing <- (current + 1) % candidates.Length
                Blas.setThreads candidates.[probing]
