namespace Toolkit.Graph

open System
open System.Collections.Generic

/// One variable's line of a gradient check.
type GradientCheckEntry =
    { /// The variable.
      Variable: string
      /// dJ/dx from the backward pass.
      Analytic: float
      /// dJ/dx from central differences.
      Numeric: float
      /// |analytic − numeric| / max(1, |analytic|, |numeric|): relative for large values,
      /// absolute near zero, so a tolerance means the same thing at every magnitude.
      RelativeError: float }

/// A node whose local derivative rule disagrees with finite differences of its own operation.
type LocalRuleFailure =
    { /// The node's position in the graph.
      Position: int
      /// The node as text (by name where it has one).
      Node: string
      /// Which argument (0 or 1) the partial is with respect to.
      Argument: int
      /// The rule's partial.
      Rule: float
      /// The central-difference partial.
      Numeric: float
      /// Relative error as in <see cref="T:Toolkit.Graph.GradientCheckEntry"/>.
      RelativeError: float }

/// <summary>A node whose operation is not differentiable at its argument, within the step of the
/// central difference: a kink (its one-sided slopes differ: ReLU, |x| at 0) or the edge of its
/// domain (a one-sided slope is not finite: √x at 0). Central differences measure no derivative
/// there; the backward pass takes the rule's sub-gradient.</summary>
type NonSmoothPoint =
    { /// The node's position in the graph.
      Position: int
      /// The node as text (by name where it has one).
      Node: string
      /// Which argument (0 or 1).
      Argument: int
      /// The argument's value.
      At: float
      /// The slope from the left, (f(x) − f(x − h))/h.
      Left: float
      /// The slope from the right, (f(x + h) − f(x))/h.
      Right: float }
    /// "a kink" or "the edge of its domain".
    member p.Kind = if Double.IsFinite p.Left && Double.IsFinite p.Right then "a kink" else "the edge of its domain"

/// The result of a gradient check.
type GradientCheck =
    { /// One entry per variable.
      Entries: GradientCheckEntry[]
      /// The tolerance used.
      Tolerance: float
      /// The first node (in evaluation order) whose local rule disagrees, if any.
      FirstBadNode: LocalRuleFailure option
      /// The nodes that sit on a kink or a domain edge at this point.
      NonSmooth: NonSmoothPoint[] }
    /// True when every variable's relative error is within the tolerance and no local rule disagrees.
    member c.Passed =
        c.FirstBadNode.IsNone && c.Entries |> Array.forall (fun e -> e.RelativeError <= c.Tolerance)
    /// <summary>True when the check did not pass only because the point sits on a kink or a domain
    /// edge (<c>NonSmooth</c>), where central differences measure no derivative: no rule is wrong.</summary>
    member c.Inconclusive = not c.Passed && c.FirstBadNode.IsNone && c.NonSmooth.Length > 0

/// Numerical derivatives (the notes' nudging) and gradient checking.
[<RequireQualifiedAccess>]
module Numeric =

    /// The default step of the central difference: about the cube root of machine epsilon,
    /// which balances truncation error (h²) against rounding error (ε/h).
    let defaultStep = 1e-5

    /// The default tolerance of a gradient check, on the relative error.
    let defaultTolerance = 1e-6

    /// Relative error scaled to magnitude: |a − b| / max(1, |a|, |b|).
    let relativeError (a: float) (b: float) =
        if a = b then 0.0 else abs (a - b) / (max 1.0 (max (abs a) (abs b)))

    let private valueAt (g: Graph) (env: IReadOnlyDictionary<string, float>) (var: string) (x: float) =
        let env' = Dictionary<string, float>(env)
        env'.[var] <- x
        (Eval.forward g env').Value

    /// <summary>The notes' forward difference (f(x + h) − f(x)) / h: error of order h.</summary>
    let forwardDifference (g: Graph) (env: IReadOnlyDictionary<string, float>) (var: string) (h: float) =
        let x = env.[var]
        (valueAt g env var (x + h) - valueAt g env var x) / h

    /// <summary>The central difference (f(x + h) − f(x − h)) / 2h: error of order h².</summary>
    let centralDifference (g: Graph) (env: IReadOnlyDictionary<string, float>) (var: string) (h: float) =
        let x = env.[var]
        let h = h * max 1.0 (abs x)
        (valueAt g env var (x + h) - valueAt g env var (x - h)) / (2.0 * h)

    /// The gradient by central differences, one pair of forward passes per variable.
    let gradient (g: Graph) (env: IReadOnlyDictionary<string, float>) : (string * float)[] =
        g.Variables |> Array.map (fun v -> v, centralDifference g env v defaultStep)

    // Every node's local partials against central differences of its own operation; a node whose
    // operation has a kink or a domain edge within the step is listed apart, not called wrong.
    let private localCheck (partials: Rules.Partials) (g: Graph) (values: float[]) (tolerance: float) =
        let step (x: float) = defaultStep * max 1.0 (abs x)
        let probes =
            [| for i in 0 .. g.Count - 1 do
                 let node = g.Node i
                 let args = g.Args i
                 let z = values.[i]
                 match node with
                 | Unary (op, _) ->
                     let x = values.[args.[0]]
                     let struct (rule, _) = partials node x 0.0 z
                     yield i, 0, x, rule, (fun t -> Rules.unary op t)
                 | Binary (op, _, _) ->
                     let x = values.[args.[0]]
                     let y = values.[args.[1]]
                     let struct (rx, ry) = partials node x y z
                     yield i, 0, x, rx, (fun t -> Rules.binary op t y)
                     yield i, 1, y, ry, (fun t -> Rules.binary op x t)
                 | _ -> () |]
        let shown i = match g.Source i with Named (n, _) -> n | s -> Print.text s
        let nonSmooth = ResizeArray<NonSmoothPoint>()
        let mutable firstBad = None
        for i, k, x, rule, f in probes do
            let h = step x
            let fx = f x
            let left, right = (fx - f (x - h)) / h, (f (x + h) - fx) / h
            if not (Double.IsFinite left && Double.IsFinite right) || relativeError left right > 0.1 then
                nonSmooth.Add { Position = i; Node = shown i; Argument = k; At = x; Left = left; Right = right }
            elif firstBad.IsNone then
                let numeric = (left + right) / 2.0
                let err = relativeError rule numeric
                if Double.IsFinite rule && err > tolerance then
                    firstBad <- Some { Position = i; Node = shown i; Argument = k; Rule = rule; Numeric = numeric; RelativeError = err }
        firstBad, nonSmooth.ToArray()

    /// <summary>A gradient check with a given rule table: the backward pass's dJ/dx against
    /// central differences for every variable, and every node's local partials against
    /// central differences of its own operation, naming the first node that disagrees.</summary>
    let checkWith (partials: Rules.Partials) (tolerance: float) (g: Graph) (env: IReadOnlyDictionary<string, float>) : GradientCheck =
        let f = Eval.forward g env
        let b = Eval.backwardWith partials f
        let numeric = gradient g env
        let entries =
            numeric
            |> Array.map (fun (v, n) ->
                let a = b.Dvar v
                { Variable = v; Analytic = a; Numeric = n; RelativeError = relativeError a n })
        let firstBad, nonSmooth = localCheck partials g f.Values (max tolerance 1e-5)
        { Entries = entries; Tolerance = tolerance; FirstBadNode = firstBad; NonSmooth = nonSmooth }

    /// <summary>A gradient check with the built-in derivative rules.</summary>
    let check (tolerance: float) (g: Graph) (env: IReadOnlyDictionary<string, float>) : GradientCheck =
        checkWith Rules.partials tolerance g env
