namespace Toolkit.Graph

open System
open System.Collections.Generic

/// The values of every node of a graph after a forward pass (left to right).
type Forward =
    { /// The graph that was evaluated.
      Graph: Graph
      /// The value of every node, indexed by node position.
      Values: float[] }
    /// The value of the output node.
    member f.Value = f.Values.[f.Graph.Output]

/// The dvars of every node after a backward pass (right to left): dvar = dJ/dvar, J the output.
type Backward =
    { /// The forward pass this backward pass used.
      Forward: Forward
      /// dJ/dnode for every node, indexed by node position.
      Dvars: float[] }
    /// The value of the output node.
    member b.Value = b.Forward.Value
    /// dJ/dx for the variable named <c>name</c> (0 if the output does not depend on it).
    member b.Dvar(name: string) =
        match b.Forward.Graph.PositionOfVariable name with
        | Some i -> b.Dvars.[i]
        | None -> 0.0
    /// dJ/dx for every variable, by name, in the graph's variable order.
    member b.Gradient : (string * float)[] =
        let g = b.Forward.Graph
        Array.map2 (fun n i -> n, b.Dvars.[i]) g.VariableNames g.VarPositions

/// Raised when an evaluation needs a variable that was given no value (an ArgumentException:
/// the values given lack one). The message names the variable.
type UnboundVariableException(name: string) =
    inherit ArgumentException(sprintf "variable '%s' has no value" name)
    /// The variable.
    member _.Name = name

/// The forward pass, the backward pass (reverse mode) and the tangent pass (forward mode).
[<RequireQualifiedAccess>]
module Eval =

    let inline private fill (g: Graph) (lookup: string -> float) (values: float[]) =
        let ops = g.Ops
        let a0 = g.Arg0
        let a1 = g.Arg1
        for i in 0 .. ops.Length - 1 do
            values.[i] <-
                match ops.[i] with
                | Op.Const v -> v
                | Op.Var name -> lookup name
                | Op.Unary op -> Rules.unary op values.[a0.[i]]
                | Op.Binary op -> Rules.binary op values.[a0.[i]] values.[a1.[i]]

    /// <summary>The forward pass: the value of every node, given the variables' values.</summary>
    /// <exception cref="T:Toolkit.Graph.UnboundVariableException">A variable has no value.</exception>
    let forward (g: Graph) (env: IReadOnlyDictionary<string, float>) : Forward =
        let lookup name =
            match env.TryGetValue name with
            | true, v -> v
            | _ -> raise (UnboundVariableException name)
        let values = Array.zeroCreate g.Count
        fill g lookup values
        { Graph = g; Values = values }

    /// <summary>The backward sweep itself, over a layout's arrays (operations, argument positions,
    /// every node's value) from the node at <paramref name="output"/> down: the dvars of the
    /// nodes up to it. <c>backward</c> is this sweep on a graph; the C# facade runs it on its own
    /// layout and on its tape, without the graph's names.</summary>
    /// <param name="prune">Skip the nodes the output does not use (found in the same sweep: a
    /// node is used when a used node takes it as an argument). A layout holds only the output's
    /// nodes; a tape holds every node recorded before it, and an unused one's local derivative
    /// (NaN at log(−1), say) would turn its shared arguments' dvars into NaN through 0·NaN.</param>
    /// <param name="output">The position of the output, whose dvar is 1.</param>
    /// <param name="ops">What each node computes.</param>
    /// <param name="a0">Each node's first argument's position (−1 for none).</param>
    /// <param name="a1">Each node's second argument's position (−1 for none).</param>
    /// <param name="v">Each node's value.</param>
    let internal sweepFrom (prune: bool) (output: int) (ops: Op[]) (a0: int[]) (a1: int[]) (v: float[]) : float[] =
        let d = Array.zeroCreate<float> (output + 1)
        // pooled: a new array of 85,000 bytes or more is fresh memory, faulted in page by page
        let used = if prune then System.Buffers.ArrayPool<bool>.Shared.Rent(output + 1) else null
        d.[output] <- 1.0
        if prune then
            System.Array.Clear(used, 0, output + 1)
            used.[output] <- true
        for i in output .. -1 .. 0 do
            if not prune || used.[i] then
                let di = d.[i]
                match ops.[i] with
                | Op.Unary op ->
                    let k = a0.[i]
                    d.[k] <- d.[k] + di * Rules.dUnary op v.[k] v.[i]
                    if prune then used.[k] <- true
                | Op.Binary op ->
                    let j = a0.[i]
                    let k = a1.[i]
                    let struct (dx, dy) = Rules.dBinary op v.[j] v.[k] v.[i]
                    d.[j] <- d.[j] + di * dx
                    d.[k] <- d.[k] + di * dy
                    if prune then
                        used.[j] <- true
                        used.[k] <- true
                | _ -> ()
        if prune then System.Buffers.ArrayPool<bool>.Shared.Return used
        d

    /// <summary>The backward sweep over a whole layout, the output last.</summary>
    let internal sweep (ops: Op[]) (a0: int[]) (a1: int[]) (v: float[]) : float[] =
        sweepFrom false (ops.Length - 1) ops a0 a1 v

    /// <summary>The backward pass: dJ/dnode for every node, in one reverse topological sweep.
    /// Each node's dvar is the sum, over the nodes that use it, of their dvar times the local
    /// partial (the multivariable chain rule); it is final before the sweep reaches the node.
    /// O(nodes), no recursion; a pure function of its input.</summary>
    let backward (f: Forward) : Backward =
        let g = f.Graph
        { Forward = f; Dvars = sweep g.Ops g.Arg0 g.Arg1 f.Values }

    /// <summary>The backward pass with another rule table (to test the gradient check, or to
    /// try a rule): the same sweep as <c>backward</c>, calling <paramref name="partials"/> at
    /// every node instead of the built-in table.</summary>
    let backwardWith (partials: Rules.Partials) (f: Forward) : Backward =
        let g = f.Graph
        let ops = g.Ops
        let a0 = g.Arg0
        let a1 = g.Arg1
        let v = f.Values
        let d = Array.zeroCreate<float> g.Count
        d.[g.Output] <- 1.0
        for i in g.Count - 1 .. -1 .. 0 do
            match ops.[i] with
            | Op.Unary _ | Op.Binary _ ->
                let node = g.Node i
                let j = a0.[i]
                let k = a1.[i]
                let y = if k >= 0 then v.[k] else 0.0
                let struct (dx, dy) = partials node v.[j] y v.[i]
                d.[j] <- d.[j] + d.[i] * dx
                if k >= 0 then d.[k] <- d.[k] + d.[i] * dy
            | _ -> ()
        { Forward = f; Dvars = d }

    /// <summary>Forward mode (dual numbers laid out as arrays): the tangent of every node along
    /// a direction in variable space, ṅ = Σₖ ∂n/∂argₖ · ȧrgₖ, in one left-to-right sweep.
    /// The output's tangent is the directional derivative ∇J · direction.</summary>
    /// <param name="f">A forward pass (the primal values).</param>
    /// <param name="direction">The tangent of each variable; missing variables have tangent 0.</param>
    let tangent (f: Forward) (direction: IReadOnlyDictionary<string, float>) : float[] =
        let g = f.Graph
        let ops = g.Ops
        let a0 = g.Arg0
        let a1 = g.Arg1
        let v = f.Values
        let t = Array.zeroCreate<float> g.Count
        for i in 0 .. g.Count - 1 do
            t.[i] <-
                match ops.[i] with
                | Op.Const _ -> 0.0
                | Op.Var name ->
                    match direction.TryGetValue name with
                    | true, x -> x
                    | _ -> 0.0
                | Op.Unary op ->
                    let j = a0.[i]
                    if t.[j] = 0.0 then 0.0 else Rules.dUnary op v.[j] v.[i] * t.[j]
                | Op.Binary op ->
                    let j = a0.[i]
                    let k = a1.[i]
                    let struct (dx, dy) = Rules.dBinary op v.[j] v.[k] v.[i]
                    // a zero tangent contributes nothing, even where a partial is infinite
                    (if t.[j] = 0.0 then 0.0 else dx * t.[j]) + (if t.[k] = 0.0 then 0.0 else dy * t.[k])
        t

    /// The directional derivative of the output along <paramref name="direction"/>, by forward mode.
    let directional (f: Forward) (direction: IReadOnlyDictionary<string, float>) : float =
        (tangent f direction).[f.Graph.Output]

    /// The first node, in evaluation order, whose value is NaN or ±∞ although all its
    /// arguments are finite: where a non-finite value starts. None if every value is finite.
    let firstNonFinite (f: Forward) : int option =
        let g = f.Graph
        let finite i = Double.IsFinite f.Values.[i]
        seq { 0 .. g.Count - 1 }
        |> Seq.tryFind (fun i -> not (finite i) && Array.forall finite (g.Args i))
