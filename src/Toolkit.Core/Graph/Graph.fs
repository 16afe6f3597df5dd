namespace Toolkit.Graph

open System.Collections.Generic

[<Struct>]
type internal IdentityEntry<'T> = { mutable Key: 'T; mutable Value: int; mutable Hash: int }

module internal IdentitySlot =
    /// The slot of an identity hash in a table of mask + 1 entries (a power of two): Fibonacci
    /// hashing of the runtime's identity hash, its high bits, which mix all of the hash's bits
    /// (the runtime's hashes come from a linear congruential generator, whose low bits repeat).
    let inline ofHash (hash: int) (mask: int) =
        int ((uint64 (uint32 hash) * 11400714819323198485UL) >>> 32) &&& mask

/// Counts of the collections that can move objects: the ephemeral ones (generations 0 and 1,
/// counted by every collection's generation-0 count but not by the background generation-2 ones,
/// which sweep in place) and the blocking full ones.
module internal Moves =
    /// The ephemeral collections so far (cheap: read every 1,024 nodes of a walk).
    let ephemeral () = System.GC.CollectionCount 0 - System.GC.CollectionCount 2
    /// The ephemeral and the blocking full collections so far.
    let all () = ephemeral (), System.GC.GetGCMemoryInfo(System.GCKind.FullBlocking).Index

/// Raised by an AddressMap when addresses no longer serve: a collection ran (it may have moved
/// the objects), or the keys lie so scattered that their slots would outweigh them. The layout
/// is made again by identity hashes.
exception internal AddressesUnusable

/// An identity map from node objects to ints (open addressing, linear probing, key, value and
/// the key's identity hash side by side so a probe touches one cache line, and growing the
/// table never goes back to the objects): a graph's lookup of its node objects, and a layout's
/// when its nodes' addresses do not serve (AddressMap). Reference identity is what sharing means.
[<Sealed; AllowNullLiteral>]
type internal IdentityMap<'T when 'T : not struct>(pooled: bool, expected: int) =
    // a pooled map takes its tables from the shared pool and gives them back on Release (a
    // layout's map, used once); an unpooled one is kept (a graph's lookup of its node objects)
    let take n = if pooled then System.Buffers.ArrayPool<IdentityEntry<'T>>.Shared.Rent n else Array.zeroCreate n
    let give (t: IdentityEntry<'T>[]) = if pooled then System.Buffers.ArrayPool<IdentityEntry<'T>>.Shared.Return(t, true)
    // tables are powers of two (the pool's sizes are too), cleared: the pool clears what it is
    // given. A table sized for the expected count never grows (growing took a fifth of a
    // 10⁴-node layout); it is at most half full.
    let mutable table : IdentityEntry<'T>[] =
        take (int (System.Numerics.BitOperations.RoundUpToPowerOf2(uint32 (max 1024 (2 * (min expected (1 <<< 28) + 1))))))
    let mutable count = 0
    let hashOf (e: 'T) = System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(box e)

    new() = IdentityMap<'T>(false, 0)

    member private _.Grow() =
        let old = table
        table <- take (old.Length * 2)
        let mask = table.Length - 1
        for i in 0 .. old.Length - 1 do
            if not (isNull (box old.[i].Key)) then
                let mutable j = IdentitySlot.ofHash old.[i].Hash mask
                while not (isNull (box table.[j].Key)) do j <- (j + 1) &&& mask
                table.[j] <- old.[i]
        give old
    /// Gives a pooled map's table back; the map is not used after.
    member _.Release() =
        give table
        table <- null
    /// The value stored for e, or adds e with v and returns -1.
    member m.GetOrAdd(e: 'T, v: int) : int =
        if 2 * (count + 1) > table.Length then m.Grow()
        let mask = table.Length - 1
        let hash = hashOf e
        let mutable j = IdentitySlot.ofHash hash mask
        let mutable result = -2
        while result = -2 do
            let k = table.[j].Key
            if isNull (box k) then
                table.[j] <- { Key = e; Value = v; Hash = hash }
                count <- count + 1
                result <- -1
            elif obj.ReferenceEquals(k, e) then result <- table.[j].Value
            else j <- (j + 1) &&& mask
        result
    /// The value stored for e, or -1.
    member _.TryGet(e: 'T) : int =
        let mask = table.Length - 1
        let mutable j = IdentitySlot.ofHash (hashOf e) mask
        let mutable result = -2
        while result = -2 do
            let k = table.[j].Key
            if isNull (box k) then result <- -1
            elif obj.ReferenceEquals(k, e) then result <- table.[j].Value
            else j <- (j + 1) &&& mask
        result

/// A map from objects to ints keyed by the objects' addresses, for one layout: valid only while
/// no collection moves an object. It checks the collection counts every 1,024 keys, and its user
/// checks them at the end; either way a walk that met a collection is made again with an
/// IdentityMap.
///
/// Direct-mapped, no hashing, no probing: the address space is cut into blocks of 64 KB, each
/// block that holds a key gets 8,192 slots, one per 8 bytes (objects are 8-byte aligned and at
/// least 24 bytes long, so no two keys share a slot), and a small directory finds a block's
/// slots. Nodes made one after another lie one after another, so their slots do too: a walk over
/// 10⁶ nodes reads its slots nearly in order instead of missing the cache on every node; no
/// identity hash is made and stored in each new node; and the slots hold no reference (no write
/// barrier, nothing for a collection to scan).
[<Sealed; AllowNullLiteral>]
type internal AddressMap(expected: int) =
    static let blockBits = 16
    static let slotsPerBlock = 1 <<< (blockBits - 3)
    // the slots, a block's run of 8,192 after another's, each holding its key's value + 1 (0:
    // empty); cleared block by block as blocks are handed out (the shared pool makes new arrays
    // of a type without references uninitialized)
    // (sized for the expected nodes at about 40 bytes each, 5 slots: grown by copying otherwise;
    // ofExprBy caps what it expects at 2²⁰ nodes)
    let mutable slots = System.Buffers.ArrayPool<int>.Shared.Rent(max slotsPerBlock (6 * expected))
    let mutable blocks = 0
    // the directory: block number → the first of its slots (open addressing; 0L: empty, so block
    // numbers are stored + 1)
    let mutable directory : struct (int64 * int)[] = Array.zeroCreate 64
    let mutable lastBlock = -1L
    let mutable lastStart = 0
    let mutable count = 0
    let ephemeral = Moves.ephemeral ()

    /// The first slot of a block, handing one out if it has none.
    member private m.StartOf(block: int64) =
        let mask = directory.Length - 1
        // block numbers pass 2³² only past 256 TB of address; beyond, they share slots and probe
        let mutable j = IdentitySlot.ofHash (int block) mask
        let mutable start = -1
        while start < 0 do
            let struct (k, first) = directory.[j]
            if k = block + 1L then start <- first
            elif k = 0L then
                // a new block; give up on keys so scattered that their slots would outweigh them:
                // past 16 MB of slots, 16 per key found or expected (a depth-first walk can
                // reach many blocks before it fills them)
                if int64 blocks * int64 slotsPerBlock > 16L * int64 (max count expected) + (1L <<< 22) then raise AddressesUnusable
                start <- blocks * slotsPerBlock
                if start + slotsPerBlock > slots.Length then
                    let bigger = System.Buffers.ArrayPool<int>.Shared.Rent(2 * slots.Length)
                    System.Array.Copy(slots, bigger, start)
                    System.Buffers.ArrayPool<int>.Shared.Return slots
                    slots <- bigger
                System.Array.Clear(slots, start, slotsPerBlock)
                blocks <- blocks + 1
                directory.[j] <- struct (block + 1L, start)
                if 2 * blocks > directory.Length then m.GrowDirectory()
            else j <- (j + 1) &&& mask
        start
    member private _.GrowDirectory() =
        let old = directory
        directory <- Array.zeroCreate (2 * old.Length)
        let mask = directory.Length - 1
        for struct (k, first) in old do
            if k <> 0L then
                let mutable j = IdentitySlot.ofHash (int (k - 1L)) mask
                while (let struct (d, _) = directory.[j] in d <> 0L) do j <- (j + 1) &&& mask
                directory.[j] <- struct (k, first)
    /// Gives the slots back to the pool; the map is not used after.
    member _.Release() =
        System.Buffers.ArrayPool<int>.Shared.Return slots
        slots <- null
    /// The value stored for e, or adds e with v and returns -1.
    /// <exception cref="AddressesUnusable">A collection has run since the map was made (checked
    /// every 1,024 keys), or the keys lie in so many blocks that their slots would pass 16 MB and
    /// 16 ints per key.</exception>
    member m.GetOrAdd(e: obj, v: int) : int =
        let mutable o = e
        let address = int64 (System.Runtime.CompilerServices.Unsafe.As<obj, nativeint> &o)
        let block = address >>> blockBits
        if block <> lastBlock then
            lastStart <- m.StartOf block
            lastBlock <- block
        let i = lastStart + int ((address &&& int64 ((1 <<< blockBits) - 1)) >>> 3)
        let stored = slots.[i]
        if stored = 0 then
            slots.[i] <- v + 1
            count <- count + 1
            // stop early rather than finish a walk that will be thrown away
            if (count &&& 1023) = 0 && Moves.ephemeral () <> ephemeral then raise AddressesUnusable
            -1
        else stored - 1

/// What a node computes, apart from its inputs: the operation the passes dispatch on.
[<RequireQualifiedAccess>]
type Op =
    /// A number.
    | Const of value: float
    /// An input variable.
    | Var of name: string
    /// A one-argument operation.
    | Unary of UnaryOp
    /// A two-argument operation.
    | Binary of BinaryOp

/// <summary>
/// An expression laid out for the passes: its distinct nodes in topological order (every
/// node after its inputs, the output last), each node's operation, argument positions and
/// name. Every pass (forward, backward, tangent, symbolic, explain, render) is a sweep over
/// these arrays, so results are indexed by node position and nothing recurses on depth.
/// </summary>
/// <remarks>
/// Sharing is identity: a node object referenced twice is one position. Variables are one
/// node per name. A named node (<c>u = b*c</c>) occupies the position of its body and gives
/// it its name. The hot passes read only flat arrays (operations and argument positions);
/// the expression objects of the nodes are made on first use for a graph recorded with a
/// <see cref="T:Toolkit.Graph.GraphBuilder"/>.
/// </remarks>
[<Sealed>]
type Graph internal (ops: Op[], names: string[], arg0: int[], arg1: int[], variables: string[], varPositions: int[],
                     exprs: Lazy<Expr[] * Expr[]>, positions: Lazy<IdentityMap<Expr> * int[]>) =
    // the variables' positions by name, made on the first lookup by name
    let byName =
        lazy
            let d = Dictionary<string, int>(variables.Length)
            for k in 0 .. variables.Length - 1 do d.TryAdd(variables.[k], varPositions.[k]) |> ignore
            d

    /// The number of distinct nodes.
    member _.Count = ops.Length
    /// The position of the output node (always the last).
    member _.Output = ops.Length - 1
    /// What the node at a position computes.
    member _.Op(i: int) = ops.[i]
    /// The operation node at a position, as an expression (names stripped).
    member _.Node(i: int) = (fst exprs.Value).[i]
    /// The expression that stands for the node at a position: its named form if it has a
    /// name, else the node itself. Symbolic results refer to nodes through these.
    member _.Source(i: int) = (snd exprs.Value).[i]
    /// The node's name, if it has one (a variable's name or a statement's name).
    member _.Name(i: int) : string option = match names.[i] with null -> None | n -> Some n
    /// The positions of the node's arguments (empty for constants and variables).
    member _.Args(i: int) : int[] =
        match ops.[i] with
        | Op.Unary _ -> [| arg0.[i] |]
        | Op.Binary _ -> [| arg0.[i]; arg1.[i] |]
        | _ -> [||]
    /// The variables of the graph, in the order they are first reached.
    member _.Variables : string[] = Array.copy variables
    /// The position of the node of a variable.
    member _.PositionOfVariable(name: string) : int option =
        match name with
        | null -> None
        | _ ->
            match byName.Value.TryGetValue name with
            | true, i -> Some i
            | _ -> None
    /// The position of a node object of the expression this graph was built from.
    member _.PositionOf(e: Expr) : int option =
        let visited, positionOfVisit = positions.Value
        match visited.TryGet e with
        | -1 -> None
        | v -> Some positionOfVisit.[v]
    member internal _.Ops = ops
    member internal _.Arg0 = arg0
    member internal _.Arg1 = arg1
    member internal _.VarPositions = varPositions
    member internal _.VariableNames = variables

/// Building the node layout of an expression.
[<RequireQualifiedAccess>]
[<CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Graph =

    /// <summary>The graph of a tape already in topological order (every argument before its
    /// node, the output last; one <c>Op.Var</c> per name, named in <paramref name="names"/>).
    /// The arrays become the graph's own. The two recorders (<c>GraphBuilder</c> and the C#
    /// facade's <c>Scalar</c>) keep the one-variable-per-name rule themselves; the order is
    /// checked here.</summary>
    let internal ofArrays (ops: Op[]) (names: string[]) (arg0: int[]) (arg1: int[]) : Graph =
        let n = ops.Length
        if n = 0 || names.Length <> n || arg0.Length <> n || arg1.Length <> n then
            invalidArg "ops" (sprintf "a graph needs one entry per node in every array (%d, %d, %d, %d)" n names.Length arg0.Length arg1.Length)
        let variables = ResizeArray<string>()
        let varPositions = ResizeArray<int>()
        for j in 0 .. n - 1 do
            // an argument is an earlier node: 0 ≤ k < j, as one unsigned comparison
            let a0, a1 = arg0.[j], arg1.[j]
            let ok =
                not (isNull (box ops.[j])) &&
                match ops.[j] with
                | Op.Const _ -> a0 = -1 && a1 = -1
                | Op.Var name ->
                    variables.Add name
                    varPositions.Add j
                    a0 = -1 && a1 = -1
                | Op.Unary _ -> uint a0 < uint j && a1 = -1
                | Op.Binary _ -> uint a0 < uint j && uint a1 < uint j
            if not ok then invalidArg "ops" (sprintf "node %d is not after its arguments" j)
        // node objects, made only when a pass asks for them (printing, symbolic, explain)
        let exprs =
            lazy
                let nodes = Array.zeroCreate<Expr> n
                let sources = Array.zeroCreate<Expr> n
                for j in 0 .. n - 1 do
                    nodes.[j] <-
                        match ops.[j] with
                        | Op.Const v -> Const v
                        | Op.Var name -> Var name
                        | Op.Unary op -> Unary(op, sources.[arg0.[j]])
                        | Op.Binary op -> Binary(op, sources.[arg0.[j]], sources.[arg1.[j]])
                    sources.[j] <-
                        match ops.[j], names.[j] with
                        | Op.Var _, _ | _, null -> nodes.[j]
                        | _, name -> Named(name, nodes.[j])
                nodes, sources
        let positions =
            lazy
                let nodes, sources = exprs.Value
                let map = IdentityMap<Expr>()
                let pos = ResizeArray<int>()
                for j in 0 .. n - 1 do
                    for e in [ nodes.[j]; sources.[j] ] do
                        if map.GetOrAdd(e, pos.Count) = -1 then pos.Add j
                map, pos.ToArray()
        Graph(ops, names, arg0, arg1, variables.ToArray(), varPositions.ToArray(), exprs, positions)

    /// How many nodes this thread's last layout visited (the next one's table starts that size),
    /// and how many of its layouts by address were made again by identity hashes.
    [<AbstractClass; Sealed>]
    type internal LastLayout =
        [<System.ThreadStatic; DefaultValue>]
        static val mutable private visits: int
        static member Visits with get () = LastLayout.visits and set v = LastLayout.visits <- v
        /// Layouts by address on this thread that had to be made again by identity hashes.
        [<System.ThreadStatic; DefaultValue>]
        static val mutable private fallbacks: int
        static member Fallbacks with get () = LastLayout.fallbacks and set v = LastLayout.fallbacks <- v

    /// A frame of the layout's walk: a node to visit, or one whose arguments are placed.
    [<Struct>]
    type private Frame =
        { E: Expr
          /// visit number of the node (when finishing) or of the parent (when visiting)
          Visit: int
          /// the parent's visit number and argument slot to report the position to
          Parent: int
          Slot: int
          Finish: bool }

    /// a.[i] ← v without the element type check a store into an array of a class with
    /// subclasses (Op, Expr) makes each time; i must be inside the array (it is not checked)
    let inline private store (a: 'T[]) (i: int) (v: 'T) =
        let first = &System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference a
        System.Runtime.CompilerServices.Unsafe.Add(&first, i) <- v

    let private rent<'T> (n: int) = System.Buffers.ArrayPool<'T>.Shared.Rent n
    let private giveBack<'T> (a: 'T[]) =
        System.Buffers.ArrayPool<'T>.Shared.Return(a, System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<'T>())
    /// Gives an array back to the pool, clearing only the references in its first `used` entries
    /// (the pool's arrays may be much longer than a small expression needs).
    let private giveBackUsed<'T> (a: 'T[]) (used: int) =
        if System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<'T>() then
            System.Array.Clear(a, 0, used)
        System.Buffers.ArrayPool<'T>.Shared.Return(a, false)
    let private grown<'T> (a: 'T[]) : 'T[] =
        let b = rent<'T> (2 * a.Length)
        Array.blit a 0 b 0 a.Length
        giveBack a
        b

    /// The buffers of one layout, taken from the shared pool and given back when it ends (only
    /// the graph's own arrays are allocated, exactly sized).
    [<Sealed>]
    type private Walk(identity: IdentityMap<Expr>, address: AddressMap, keepNodes: bool, expected: int) =
        // the per-node buffers start at the expected count, so they are not grown and copied
        let size = max 256 expected
        let mutable frames = rent<Frame> size
        let mutable top = 0
        let mutable deepest = 0
        // per visit number: the node's position once finished, and its arguments' positions
        let mutable position = rent<int> size
        let mutable pending0 = rent<int> size
        let mutable pending1 = rent<int> size
        let mutable visits = 0
        // per node
        let mutable ops = rent<Op> size
        let mutable names = rent<string> size
        let mutable arg0 = rent<int> size
        let mutable arg1 = rent<int> size
        let mutable nodes = rent<Expr> (if keepNodes then size else 256)
        let mutable sources = rent<Expr> (if keepNodes then size else 256)
        let mutable count = 0
        let varIndex = Dictionary<string, int>()
        let variables = ResizeArray<string>()
        let varPositions = ResizeArray<int>()
        // one Op per operation object, shared by the nodes that use it (the operations without a
        // parameter are single objects; up to 32 are kept, searched by identity)
        let opKeys = Array.zeroCreate<obj> 32
        let opValues = Array.zeroCreate<Op> 32
        let mutable opCount = 0
        let shared (key: obj) =
            let mutable i = 0
            while i < opCount && not (obj.ReferenceEquals(opKeys.[i], key)) do i <- i + 1
            if i < opCount then opValues.[i] else Unchecked.defaultof<Op>
        let keep (key: obj) (o: Op) =
            if opCount < opKeys.Length then
                opKeys.[opCount] <- key
                opValues.[opCount] <- o
                opCount <- opCount + 1
            o
        let opOf (e: Expr) =
            match e with
            | Const v -> Op.Const v
            | Var n -> Op.Var n
            | Unary (op, _) -> let o = shared op in if isNull (box o) then keep op (Op.Unary op) else o
            | Binary (op, _, _) -> let o = shared op in if isNull (box o) then keep op (Op.Binary op) else o
            | Named _ -> invalidOp "a named node is laid out on its body"

        member _.Top = top
        member _.Push(f: Frame) =
            if top = frames.Length then frames <- grown frames
            frames.[top] <- f
            top <- top + 1
            if top > deepest then deepest <- top
        member _.Pop() =
            top <- top - 1
            frames.[top]
        /// Takes the next visit number for a new node, its node and arguments not yet placed.
        member _.NewVisit() =
            if visits = position.Length then
                position <- grown position
                pending0 <- grown pending0
                pending1 <- grown pending1
            position.[visits] <- -1
            pending0.[visits] <- -1
            pending1.[visits] <- -1
            visits <- visits + 1
            visits - 1
        member _.Position(v: int) = position.[v]
        member _.Arg(v: int, slot: int) = if slot = 0 then pending0.[v] else pending1.[v]
        /// Tells a parent (a visit number, or -1 for none) where its argument in slot is.
        member _.Report(parent: int, slot: int, pos: int) =
            if parent >= 0 then
                if slot = 0 then pending0.[parent] <- pos else pending1.[parent] <- pos
        /// The node of visit v is at pos: tell its parent.
        member w.Placed(v: int, parent: int, slot: int, pos: int) =
            position.[v] <- pos
            w.Report(parent, slot, pos)
        /// Records a node; returns its position.
        member _.Emit(e: Expr, a: int, b: int) =
            if count = ops.Length then
                ops <- grown ops
                names <- grown names
                arg0 <- grown arg0
                arg1 <- grown arg1
                if keepNodes then
                    nodes <- grown nodes
                    sources <- grown sources
            store ops count (opOf e)
            names.[count] <- null
            arg0.[count] <- a
            arg1.[count] <- b
            if keepNodes then
                store nodes count e
                store sources count e
            count <- count + 1
            count - 1
        /// A variable's position: one node per name.
        member w.Variable(e: Expr, name: string) =
            match varIndex.TryGetValue name with
            | true, i -> i
            | _ ->
                let i = w.Emit(e, -1, -1)
                names.[i] <- name
                varIndex.[name] <- i
                variables.Add name
                varPositions.Add i
                i
        /// Names the node at i (the first name given wins; a variable keeps its own).
        member _.Name(i: int, name: string, source: Expr) =
            if isNull names.[i] then
                names.[i] <- name
                if keepNodes then sources.[i] <- source
        /// The visit number of e if visited before, else -1 (and e gets the next one): keyed by
        /// address when the walk has an AddressMap, else by identity.
        member _.Visit(e: Expr) =
            if isNull address then identity.GetOrAdd(e, visits) else address.GetOrAdd(e, visits)
        /// The graph's arrays, exactly sized: ops, names, arg0, arg1, nodes, sources, variables
        /// and their positions, each visit's position (the last three only when the node objects
        /// are kept), and the number of visits.
        member _.Result() =
            Array.sub ops 0 count, Array.sub names 0 count, Array.sub arg0 0 count, Array.sub arg1 0 count,
            (if keepNodes then Array.sub nodes 0 count else null), (if keepNodes then Array.sub sources 0 count else null),
            variables.ToArray(), varPositions.ToArray(),
            (if keepNodes then Array.sub position 0 visits else null), visits
        member _.Release() =
            giveBackUsed frames deepest; giveBack position; giveBack pending0; giveBack pending1
            giveBackUsed ops count; giveBackUsed names count; giveBack arg0; giveBack arg1
            giveBackUsed nodes (if keepNodes then count else 0); giveBackUsed sources (if keepNodes then count else 0)

    /// One depth-first walk with an explicit stack and one identity-map lookup per edge: every
    /// distinct node object recorded once, after its arguments.
    let private walk (root: Expr) (w: Walk) =
        w.Push { E = root; Visit = -1; Parent = -1; Slot = 0; Finish = false }
        while w.Top > 0 do
            let f = w.Pop()
            if f.Finish then
                let v = f.Visit
                let pos =
                    match f.E with
                    | Named (name, _) ->
                        let i = w.Arg(v, 0)
                        w.Name(i, name, f.E)
                        i
                    | Unary _ -> w.Emit(f.E, w.Arg(v, 0), -1)
                    | _ -> w.Emit(f.E, w.Arg(v, 0), w.Arg(v, 1))
                w.Placed(v, f.Parent, f.Slot, pos)
            else
                match w.Visit f.E with
                | -1 ->
                    let v = w.NewVisit()
                    match f.E with
                    | Const _ -> w.Placed(v, f.Parent, f.Slot, w.Emit(f.E, -1, -1))
                    | Var name -> w.Placed(v, f.Parent, f.Slot, w.Variable(f.E, name))
                    | Named (_, body) ->
                        w.Push { f with Visit = v; Finish = true }
                        w.Push { E = body; Visit = -1; Parent = v; Slot = 0; Finish = false }
                    | Unary (_, x) ->
                        w.Push { f with Visit = v; Finish = true }
                        w.Push { E = x; Visit = -1; Parent = v; Slot = 0; Finish = false }
                    | Binary (_, x, y) ->
                        w.Push { f with Visit = v; Finish = true }
                        w.Push { E = y; Visit = -1; Parent = v; Slot = 1; Finish = false }
                        w.Push { E = x; Visit = -1; Parent = v; Slot = 0; Finish = false }
                | seen ->
                    // visited before: in a DAG it is finished already (it cannot be an ancestor)
                    w.Report(f.Parent, f.Slot, w.Position seen)

    /// The layout of an expression, its node objects mapped to their visit numbers in `identity`,
    /// or by address (no identity map): then the walk is checked, before the result's arrays are
    /// allocated, to have met no collection that could move a node since the counts `before`
    /// (AddressesUnusable otherwise).
    let private layoutOf (keepNodes: bool) (root: Expr) (identity: IdentityMap<Expr>) (expected: int) =
        let address = if isNull identity then AddressMap(expected) else null
        let w = Walk(identity, address, keepNodes, expected)
        // counted after the map and the buffers are taken: taking them may start a collection
        let before = if isNull address then ValueNone else ValueSome (Moves.all ())
        try
            walk root w
            match before with
            | ValueSome counts when Moves.all () <> counts -> raise AddressesUnusable
            | _ -> ()
            w.Result()
        finally
            w.Release()
            if not (isNull address) then address.Release()

    /// The layout of an expression by identity hashes, or first by the nodes' addresses
    /// (<c>byAddress</c>; see AddressMap): the same graph either way. Internal, for the tests.
    let internal ofExprBy (byAddress: bool) (root: Expr) : Graph =
        // buffers sized as this thread's last layout was (a program lays out graphs of one size
        // again and again), up to 2²⁰ nodes: a small graph after a huge one takes no more. A walk
        // that needs more grows its buffers, and the allocation may start a collection, which
        // sends the layout back to identity hashes.
        let expected = min LastLayout.Visits (1 <<< 20)
        let lay byAddress =
            if byAddress then layoutOf false root null expected
            else
                let identity = IdentityMap<Expr>(true, expected)
                try layoutOf false root identity expected finally identity.Release()
        // by address, unless a collection that can move objects ran during the walk (a moved
        // node would be laid out twice) or the nodes lie too scattered
        let ops, names, arg0, arg1, _, _, variables, varPositions, _, visits =
            if not byAddress then lay false
            else
                try lay true
                with AddressesUnusable ->
                    LastLayout.Fallbacks <- LastLayout.Fallbacks + 1
                    lay false
        LastLayout.Visits <- visits
        // the same walk, so the same positions
        let second =
            lazy
                let map = IdentityMap<Expr>(false, visits)
                let _, _, _, _, nodes, sources, _, _, position, _ = layoutOf true root map visits
                map, nodes, sources, position
        Graph(ops, names, arg0, arg1, variables, varPositions,
              lazy (let _, nodes, sources, _ = second.Value in nodes, sources),
              lazy (let map, _, _, position = second.Value in map, position))

    /// <summary>Lays out an expression's nodes in topological order. O(nodes), iterative: one
    /// depth-first walk with an explicit stack and one lookup of the node object per edge, on
    /// buffers from the shared pool. The lookup is by the nodes' addresses (direct-mapped, so
    /// nodes made in order are looked up in order); a walk during which a collection could have
    /// moved a node is made again by identity hashes. The node objects by position
    /// (<c>Node</c>, <c>Source</c>) and the lookup of node objects (<c>PositionOf</c>) come from
    /// a second walk, made when first asked for: the passes (forward, backward) read only the
    /// arrays.</summary>
    let ofExpr (root: Expr) : Graph = ofExprBy true root

/// <summary>
/// Records a graph node by node, in the order it is built (a tape, as micrograd and PyTorch
/// record): each call returns the new node's position, and the positions are already a
/// topological order, so <c>Build</c> needs no search for shared nodes and no node objects:
/// for graphs of millions of nodes built by a program. <c>Graph.ofExpr</c> gives the same
/// <c>Graph</c> from an expression.
/// </summary>
[<Sealed>]
type GraphBuilder(capacity: int) =
    let ops = ResizeArray<Op>(capacity)
    let names = ResizeArray<string>(capacity)
    let arg0 = ResizeArray<int>(capacity)
    let arg1 = ResizeArray<int>(capacity)
    let varIndex = System.Collections.Generic.Dictionary<string, int>()
    // one Op object per distinct operation, shared by every node that uses it, made on first use
    // (so every op of the vocabulary, parameters included, is recorded without a list to keep)
    let unaryOps = System.Collections.Generic.Dictionary<UnaryOp, Op>()
    let binaryOps = System.Collections.Generic.Dictionary<BinaryOp, Op>()
    let add (op: Op) a b =
        ops.Add op
        names.Add null
        arg0.Add a
        arg1.Add b
        ops.Count - 1
    let check (what: string) (i: int) =
        if i < 0 || i >= ops.Count then
            invalidArg what (sprintf "node %d does not exist (the builder has %d nodes)" i ops.Count)

    /// A builder with room for <paramref name="capacity"/> nodes before it grows.
    new() = GraphBuilder(256)
    /// The number of nodes recorded so far.
    member _.Count = ops.Count
    /// Records a constant; returns its position.
    member _.Const(v: float) = add (Op.Const v) -1 -1
    /// Records a variable, once per name; returns its position.
    member _.Var(name: string) =
        match varIndex.TryGetValue name with
        | true, i -> i
        | _ ->
            let i = add (Op.Var name) -1 -1
            names.[i] <- name
            varIndex.[name] <- i
            i
    /// Records op(x); returns its position.
    member _.Unary(op: UnaryOp, x: int) =
        check "x" x
        let o =
            match unaryOps.TryGetValue op with
            | true, o -> o
            | _ -> let o = Op.Unary op in unaryOps.[op] <- o; o
        add o x -1
    /// Records op(x, y); returns its position.
    member _.Binary(op: BinaryOp, x: int, y: int) =
        check "x" x
        check "y" y
        let o =
            match binaryOps.TryGetValue op with
            | true, o -> o
            | _ -> let o = Op.Binary op in binaryOps.[op] <- o; o
        add o x y
    /// Gives the node at a position a name (<c>u = b*c</c>).
    member _.Name(i: int, name: string) =
        check "i" i
        match ops.[i] with
        | Op.Var _ -> invalidArg "i" "a variable keeps its own name"
        | _ -> names.[i] <- name

    /// <summary>The graph whose output is the node at <paramref name="output"/>, with the nodes
    /// it does not depend on left out. O(nodes), no hashing.</summary>
    member _.Build(output: int) : Graph =
        check "output" output
        // keep what the output depends on: one sweep right to left
        let keep = Array.zeroCreate<bool> (output + 1)
        keep.[output] <- true
        for i in output .. -1 .. 0 do
            if keep.[i] then
                if arg0.[i] >= 0 then keep.[arg0.[i]] <- true
                if arg1.[i] >= 0 then keep.[arg1.[i]] <- true
        let newIndex = Array.create (output + 1) -1
        let mutable n = 0
        for i in 0 .. output do
            if keep.[i] then
                newIndex.[i] <- n
                n <- n + 1
        let opsA = Array.zeroCreate<Op> n
        let namesA = Array.zeroCreate<string> n
        let a0 = Array.create n -1
        let a1 = Array.create n -1
        for i in 0 .. output do
            if keep.[i] then
                let j = newIndex.[i]
                opsA.[j] <- ops.[i]
                namesA.[j] <- names.[i]
                if arg0.[i] >= 0 then a0.[j] <- newIndex.[arg0.[i]]
                if arg1.[i] >= 0 then a1.[j] <- newIndex.[arg1.[i]]
        Graph.ofArrays opsA namesA a0 a1
