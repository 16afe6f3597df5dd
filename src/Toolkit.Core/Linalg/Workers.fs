namespace Toolkit.Linalg

open System
open System.Threading

/// <summary>Work cut into parts that any thread may run: <c>Run i</c> computes part i and
/// touches nothing another part touches.</summary>
[<AbstractClass; AllowNullLiteral>]
type internal PartedWork() =
    /// Computes part i.
    abstract Run : part: int -> unit

/// Items 0 … count − 1 in parts of about equal size, each part a range for the body.
[<Sealed; AllowNullLiteral>]
type internal RangeWork(count: int, parts: int, body: Action<int, int>) =
    inherit PartedWork()
    override _.Run(part: int) =
        body.Invoke(int (int64 count * int64 part / int64 parts), int (int64 count * int64 (part + 1) / int64 parts))

/// Items 0 … count − 1 in a fixed number of groups, each group's range and number for the body.
[<Sealed; AllowNullLiteral>]
type internal GroupWork(count: int, groups: int, body: Action<int, int, int>) =
    inherit PartedWork()
    override _.Run(group: int) =
        body.Invoke(group, int (int64 count * int64 group / int64 groups), int (int64 count * int64 (group + 1) / int64 groups))

/// The shared state of the work in hand (a class, so that its fields can be changed atomically).
[<Sealed; AllowNullLiteral>]
type internal WorkState() =
    /// 1 while a run uses the helpers.
    [<DefaultValue>] val mutable Busy: int
    /// The work in hand.
    [<DefaultValue>] val mutable Work: PartedWork
    /// Its number of parts.
    [<DefaultValue>] val mutable Parts: int
    /// Which run this is; the high 32 bits of every claim name it.
    [<DefaultValue>] val mutable Generation: int64
    /// The next claim: the generation, then the part.
    [<DefaultValue>] val mutable Next: int64
    /// Parts claimed but not finished, and not yet claimed.
    [<DefaultValue>] val mutable Remaining: int
    /// An exception a helper met, for the caller to raise.
    [<DefaultValue>] val mutable Error: exn

/// <summary>
/// The threads Toolkit's matrix products run on. A product is cut into parts by its shape alone
/// (<c>Blas.parts</c>), never by the number of threads, so that a result has the same bits on
/// one thread or on many; the parts are claimed one at a time by the calling thread and by up
/// to Threads − 1 helpers, so a helper whose core is taken (by a neighbour on a shared virtual
/// machine) ends up with fewer parts instead of holding the others up, as a fixed split of the
/// work between threads would. One run uses the helpers at a time: a caller that finds them
/// busy runs its parts itself. Nothing is allocated per run.
/// </summary>
module internal Workers =

    let private state = WorkState()
    let mutable private threads = max 1 Environment.ProcessorCount
    let private helpers = ResizeArray<ManualResetEventSlim>()
    // Helpers that fall behind are left out for a while. When the caller, done with the parts it
    // claimed, waits longer for the helpers' last parts than it spent on its own, the parts
    // would have been done sooner without them (a neighbour has their core): after three such
    // runs in a row the next `soloRuns` run on the caller alone, then the helpers are tried
    // again. The parts are the same either way, so this changes speed, never results.
    let private soloRuns = 1000
    let mutable private solo = 0
    let mutable private strikes = 0

    /// Claims parts of the run in hand and runs them until none is left.
    let private claim () =
        let mutable go = true
        while go do
            let v = Interlocked.Increment(&state.Next) - 1L
            let part = int (v &&& 0xFFFFFFFFL)
            // a claim of an earlier run (a late helper) or past the last part does nothing
            if (v >>> 32) <> Volatile.Read(&state.Generation) || part >= Volatile.Read(&state.Parts) then go <- false
            else
                try
                    try state.Work.Run part
                    with e -> state.Error <- e
                finally Interlocked.Decrement(&state.Remaining) |> ignore

    /// How long a helper spins for the next run before it blocks: longer than the gaps between
    /// a training step's products and between steps, so that it is awake when the next product
    /// comes (waking a blocked thread, and on a virtual machine its idle core, can take longer
    /// than the product).
    let private spinTicks = Diagnostics.Stopwatch.Frequency / 1000L

    let private helper (signal: ManualResetEventSlim) () =
        let mutable seen = 0L
        while true do
            let start = Diagnostics.Stopwatch.GetTimestamp()
            let mutable spin = SpinWait()
            while Volatile.Read(&state.Generation) = seen && Diagnostics.Stopwatch.GetTimestamp() - start < spinTicks do
                spin.SpinOnce(-1)
            if Volatile.Read(&state.Generation) = seen then
                signal.Wait()
                signal.Reset()
            seen <- Volatile.Read(&state.Generation)
            claim ()

    /// The threads products run on (the caller's included).
    let count () = threads

    /// Sets the threads products run on (the caller's included); helpers start when first needed.
    let setCount (n: int) =
        if n < 1 then invalidArg "n" (sprintf "the thread count must be at least 1, not %d" n)
        threads <- n

    /// <summary>Runs the parts 0 … count − 1 of the work, on the threads, and returns when all
    /// are done (an exception in any part is raised here).</summary>
    let run (work: PartedWork) (count: int) =
        if count <= 1 || threads <= 1 || Interlocked.CompareExchange(&state.Busy, 1, 0) <> 0 then
            for i in 0 .. count - 1 do work.Run i
        elif solo > 0 then
            solo <- solo - 1
            try
                for i in 0 .. count - 1 do work.Run i
            finally Volatile.Write(&state.Busy, 0)
        else
            try
                lock helpers (fun () ->
                    while helpers.Count < threads - 1 do
                        let signal = new ManualResetEventSlim(false, 0)
                        Thread(helper signal, IsBackground = true, Name = "Toolkit products").Start()
                        helpers.Add signal)
                // the new generation first: a late claim of the last run now fails, whatever
                // the fields say while they change; then the fields; then claims may begin
                let g = state.Generation + 1L
                Volatile.Write(&state.Generation, g)
                state.Work <- work
                state.Error <- null
                state.Parts <- count
                state.Remaining <- count
                Interlocked.Exchange(&state.Next, g <<< 32) |> ignore
                for h in 0 .. min (threads - 1) (count - 1) - 1 do helpers.[h].Set()
                let start = Diagnostics.Stopwatch.GetTimestamp()
                claim ()
                let own = Diagnostics.Stopwatch.GetTimestamp()
                let mutable spin = SpinWait()
                while Volatile.Read(&state.Remaining) > 0 do spin.SpinOnce(-1)
                let waited = Diagnostics.Stopwatch.GetTimestamp() - own
                if waited > own - start then
                    strikes <- strikes + 1
                    if strikes >= 3 then
                        solo <- soloRuns
                        strikes <- 0
                else strikes <- 0
                match state.Error with
                | null -> ()
                | e -> raise (AggregateException("a part of a matrix product failed", e))
            finally
                state.Work <- Unchecked.defaultof<_>
                Volatile.Write(&state.Busy, 0)

    /// <summary>Runs <paramref name="body"/> on ranges that together cover items 0 … count − 1,
    /// one range per thread, on the same threads as the products (so that loops between products
    /// do not compete with helpers waiting for the next one). The body must write only its own
    /// items' values.</summary>
    let forRanges (count: int) (body: Action<int, int>) =
        let parts = min count threads
        if parts <= 1 then body.Invoke(0, count)
        else run (RangeWork(count, parts, body)) parts
