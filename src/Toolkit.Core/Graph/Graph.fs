namespace Toolkit.Graph

open System.Collections.Generic

/// <summary>
/// An expression laid out for the passes: its distinct nodes in topological order (every
/// node after its inputs, the output last), each node's argument positions and name.
/// Every pass (forward, backward, tangent, symbolic, explain, render) is a sweep over these
/// arrays, so results are indexed by node position and nothing recurses on depth.
/// </summary>
/// <remarks>
/// Sharing is identity: a node object referenced twice is one position. Variables are one
/// node per name. A named node (<c>u = b*c</c>) occupies the position of its body and gives
/// it its name.
/// </remarks>
[<Sealed>]
type Graph internal (nodes: Expr[], sources: Expr[], names: string[], arg0: int[], arg1: int[],
                     variables: string[], varPositions: int[], index: Dictionary<Expr, int>) =

    /// The number of distinct nodes.
    member _.Count = nodes.Length
    /// The position of the output node (always the last).
    member _.Output = nodes.Length - 1
    /// The operation node at a position (names stripped).
    member _.Node(i: int) = nodes.[i]
    /// The expression that stands for the node at a position: its named form if it has a
    /// name, else the node itself. Symbolic results refer to nodes through these.
    member _.Source(i: int) = sources.[i]
    /// The node's name, if it has one (a variable's name or a statement's name).
    member _.Name(i: int) : string option = match names.[i] with null -> None | n -> Some n
    /// The positions of the node's arguments (empty for constants and variables).
    member _.Args(i: int) : int[] =
        match nodes.[i] with
        | Unary _ -> [| arg0.[i] |]
        | Binary _ -> [| arg0.[i]; arg1.[i] |]
        | _ -> [||]
    /// The variables of the graph, in the order they are first reached.
    member _.Variables : string[] = Array.copy variables
    /// The position of the node of a variable.
    member _.PositionOfVariable(name: string) : int option =
        match Array.tryFindIndex ((=) name) variables with
        | Some k -> Some varPositions.[k]
        | None -> None
    /// The position of a node object of the expression this graph was built from.
    member _.PositionOf(e: Expr) : int option =
        match index.TryGetValue e with
        | true, i -> Some i
        | _ -> None
    member internal _.Arg0 = arg0
    member internal _.Arg1 = arg1
    member internal _.Nodes = nodes
    member internal _.VarPositions = varPositions
    member internal _.VariableNames = variables

/// Building the node layout of an expression.
[<RequireQualifiedAccess>]
[<CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Graph =

    /// <summary>Lays out an expression's nodes in topological order. O(nodes), iterative.</summary>
    let ofExpr (root: Expr) : Graph =
        let index = Dictionary<Expr, int>(HashIdentity.Reference)
        let varIndex = Dictionary<string, int>()
        let nodes = ResizeArray<Expr>()
        let sources = ResizeArray<Expr>()
        let names = ResizeArray<string>()
        let arg0 = ResizeArray<int>()
        let arg1 = ResizeArray<int>()
        let variables = ResizeArray<string>()
        let varPositions = ResizeArray<int>()
        // Post-order walk with an explicit stack: (expression, children already pushed?).
        let stack = Stack<struct (Expr * bool)>()
        stack.Push(struct (root, false))
        let add (core: Expr) (a: int) (b: int) =
            let i = nodes.Count
            nodes.Add core
            sources.Add core
            names.Add null
            arg0.Add a
            arg1.Add b
            index.[core] <- i
            i
        while stack.Count > 0 do
            let struct (e, expanded) = stack.Pop()
            if not (index.ContainsKey e) then
                match e with
                | Named (name, body) ->
                    match index.TryGetValue body with
                    | true, i ->
                        index.[e] <- i
                        // the first (outermost) name wins; a variable keeps its own name
                        if isNull names.[i] then
                            names.[i] <- name
                            sources.[i] <- e
                    | _ ->
                        if expanded then failwith "Graph.ofExpr: internal error (named body not laid out)"
                        stack.Push(struct (e, true))
                        stack.Push(struct (body, false))
                | Const _ -> add e -1 -1 |> ignore
                | Var name ->
                    match varIndex.TryGetValue name with
                    | true, i -> index.[e] <- i
                    | _ ->
                        let i = add e -1 -1
                        names.[i] <- name
                        varIndex.[name] <- i
                        variables.Add name
                        varPositions.Add i
                | Unary (_, x) ->
                    if expanded then add e index.[x] -1 |> ignore
                    else
                        stack.Push(struct (e, true))
                        if not (index.ContainsKey x) then stack.Push(struct (x, false))
                | Binary (_, x, y) ->
                    if expanded then add e index.[x] index.[y] |> ignore
                    else
                        stack.Push(struct (e, true))
                        if not (index.ContainsKey y) then stack.Push(struct (y, false))
                        if not (index.ContainsKey x) then stack.Push(struct (x, false))
        // The root must be last: it is, since every other node is reached from it and a
        // post-order visit finishes the root after all of them.
        Graph(nodes.ToArray(), sources.ToArray(), names.ToArray(), arg0.ToArray(), arg1.ToArray(),
              variables.ToArray(), varPositions.ToArray(), index)
