namespace Toolkit.Graph

open System.Collections.Generic

/// Symbolic derivatives: d(expr)/d(var) as a new expression, by the same reverse sweep as
/// the backward pass, with expressions in place of numbers.
[<RequireQualifiedAccess>]
module Symbolic =

    let private mul a b = Simplify.rewriteBinary BinaryOp.Mul a b
    let private add a b = Simplify.rewriteBinary BinaryOp.Add a b

    /// <summary>The symbolic dvar of every variable: dJ/dx as an expression, simplified.
    /// Intermediate named nodes appear by name (for <c>a = sigmoid(z)</c>, dL/dz is
    /// <c>a - y</c>).</summary>
    let gradient (e: Expr) : (string * Expr)[] =
        let g = Graph.ofExpr e
        let d = Array.zeroCreate<Expr> g.Count      // null: no path to the output
        d.[g.Output] <- Const 1.0
        for i in g.Count - 1 .. -1 .. 0 do
            let di = d.[i]
            if not (isNull (box di)) then
                let args = g.Args i
                let partials = Rules.partialExprs (g.Node i) (g.Source i)
                List.iteri (fun k p ->
                    let j = args.[k]
                    let contribution = mul di p
                    d.[j] <- if isNull (box d.[j]) then contribution else add d.[j] contribution) partials
        let raw = g.Variables |> Array.map (fun n -> let i = (g.PositionOfVariable n).Value in if isNull (box d.[i]) then Const 0.0 else d.[i])
        // the variables' derivatives share most of their nodes: simplified together, in one pass
        Array.zip g.Variables (Simplify.simplifyAll raw)

    /// <summary>d(expr)/d(var) as an expression, simplified. A variable the expression does
    /// not use gives the constant 0.</summary>
    let derivative (e: Expr) (var: string) : Expr =
        match gradient e |> Array.tryFind (fun (n, _) -> n = var) with
        | Some (_, d) -> d
        | None -> Const 0.0

    /// <summary>The Hessian of a scalar expression at a point: H[i, j] = ∂²J/∂xᵢ∂xⱼ over the
    /// expression's variables (in <c>Graph.Variables</c> order), by reverse mode over each
    /// symbolic first derivative.</summary>
    let hessian (e: Expr) (env: IReadOnlyDictionary<string, float>) : string[] * float[,] =
        let vars = (Graph.ofExpr e).Variables
        let grad = gradient e
        let h = Array2D.zeroCreate vars.Length vars.Length
        grad
        |> Array.iteri (fun i (_, di) ->
            let b = Eval.backward (Eval.forward (Graph.ofExpr di) env)
            vars |> Array.iteri (fun j v -> h.[i, j] <- b.Dvar v))
        vars, h
