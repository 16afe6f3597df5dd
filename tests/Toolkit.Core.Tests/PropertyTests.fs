/// Properties over generated graphs with shared nodes: every way of differentiating agrees.
module Toolkit.Tests.PropertyTests

open Expecto
open Toolkit.Graph
open Toolkit.Tests.Generators

let private agree what tolerance (a: float) (b: float) =
    let err = Numeric.relativeError a b
    if err > tolerance then failtestf "%s: %.17g vs %.17g (relative error %.3g > %g)" what a b err tolerance

[<Tests>]
let tests =
    testList "generated graphs" [
        testPropertyWithConfig config "reverse mode = forward mode = symbolic derivative = central differences" <| fun (c: Case) ->
            let g = Graph.ofExpr c.Expr
            let f = Eval.forward g c.Env
            let b = Eval.backward f
            let symbolic = Symbolic.gradient c.Expr |> dict
            for v in g.Variables do
                let reverse = b.Dvar v
                let forward = Eval.directional f (readOnlyDict [ v, 1.0 ])
                let sym = (Eval.forward (Graph.ofExpr symbolic.[v]) c.Env).Value
                let numeric = Numeric.centralDifference g c.Env v Numeric.defaultStep
                agree (sprintf "d/d%s reverse vs forward" v) Tolerance.exact reverse forward
                agree (sprintf "d/d%s reverse vs symbolic %s" v (Print.text symbolic.[v])) Tolerance.exact reverse sym
                agree (sprintf "d/d%s reverse vs central difference" v) Tolerance.finiteDifference reverse numeric

        testPropertyWithConfig config "the gradient check passes and finds no bad local rule" <| fun (c: Case) ->
            let check = Numeric.check Tolerance.finiteDifference (Graph.ofExpr c.Expr) c.Env
            if not check.Passed then failtestf "%A" check

        testPropertyWithConfig config "a graph recorded with GraphBuilder gives the same values and dvars as Graph.ofExpr" <| fun (c: Case) ->
            let g = Graph.ofExpr c.Expr
            let b = GraphBuilder()
            b.Const 42.0 |> ignore                                   // unused: left out by Build
            let pos = Array.zeroCreate g.Count
            for i in 0 .. g.Count - 1 do
                let a = g.Args i
                pos.[i] <-
                    match g.Node i with
                    | Const v -> b.Const v
                    | Var n -> b.Var n
                    | Unary (op, _) -> b.Unary(op, pos.[a.[0]])
                    | Binary (op, _, _) -> b.Binary(op, pos.[a.[0]], pos.[a.[1]])
                    | Named _ -> failwith "never laid out"
                match g.Name i, g.Node i with
                | Some n, (Unary _ | Binary _ | Const _) -> b.Name(pos.[i], n)
                | _ -> ()
            let recorded = b.Build pos.[g.Output]
            Expect.equal recorded.Count g.Count "same nodes, the unused constant left out"
            let b1 = Eval.backward (Eval.forward g c.Env)
            let b2 = Eval.backward (Eval.forward recorded c.Env)
            Expect.equal b2.Forward.Values b1.Forward.Values "values"
            Expect.equal b2.Dvars b1.Dvars "dvars"
            Expect.equal (Print.program (recorded.Source recorded.Output)) (Print.program c.Expr) "same program"

        testPropertyWithConfig config "every node object of an expression is found where the layout put it, and no other object" <| fun (c: Case) ->
            let g = Graph.ofExpr c.Expr
            // every object of the expression, by a walk of its own
            let seen = System.Collections.Generic.HashSet<Expr>(HashIdentity.Reference)
            let stack = System.Collections.Generic.Stack<Expr>([ c.Expr ])
            while stack.Count > 0 do
                let e = stack.Pop()
                if seen.Add e then for child in Expr.children e do stack.Push child
            let rec placed (e: Expr) =
                match e with
                | Named (_, body) -> placed body
                | Var n -> g.PositionOfVariable n
                | _ -> Array.tryFindIndex (fun i -> obj.ReferenceEquals(g.Node i, e)) [| 0 .. g.Count - 1 |]
            for e in seen do
                let p = g.PositionOf e
                Expect.isSome p (sprintf "%s is found" (Print.text e))
                Expect.equal p (placed e) (sprintf "%s at its node" (Print.text e))
            Expect.isNone (g.PositionOf(Expr.Const 1.5 + Expr.var "x")) "an object not in the expression"

        testPropertyWithConfig config "backward twice gives identical dvars" <| fun (c: Case) ->
            let f = Eval.forward (Graph.ofExpr c.Expr) c.Env
            Expect.equal (Eval.backward f).Dvars (Eval.backward f).Dvars "repeatable"

        testPropertyWithConfig config "print → parse round-trips the program exactly" <| fun (c: Case) ->
            let text = Print.program c.Expr
            let back = Parse.program text
            Expect.equal (Print.program back) text "same text"
            Expect.isTrue (Expr.structurallyEqual (Expr.unname back) (Expr.unname c.Expr) || Print.inlineText back = Print.inlineText c.Expr) "same structure"
            let v1 = (Eval.forward (Graph.ofExpr c.Expr) c.Env).Value
            let v2 = (Eval.forward (Graph.ofExpr back) c.Env).Value
            Expect.equal v2 v1 "same value"

        testPropertyWithConfig config "plain (inline) text round-trips too" <| fun (c: Case) ->
            let text = Print.inlineText c.Expr
            Expect.isTrue (Expr.structurallyEqual (Parse.program text) (Expr.unname c.Expr) || Print.inlineText (Parse.program text) = text) text

        testPropertyWithConfig config "simplification preserves values" <| fun (c: Case) ->
            let s = Simplify.simplify c.Expr
            let v1 = (Eval.forward (Graph.ofExpr c.Expr) c.Env).Value
            let v2 = (Eval.forward (Graph.ofExpr s) c.Env).Value
            agree (sprintf "simplified %s" (Print.text s)) 1e-8 v1 v2

        testPropertyWithConfig config "a symbolic derivative printed and read back has the same value" <| fun (c: Case) ->
            for (v, d) in Symbolic.gradient c.Expr do
                let text = Print.inlineText d
                let back = Parse.program text
                let v1 = (Eval.forward (Graph.ofExpr d) c.Env).Value
                let v2 = (Eval.forward (Graph.ofExpr back) c.Env).Value
                agree (sprintf "d/d%s = %s" v text) 1e-12 v1 v2

        testPropertyWithConfig config "Hessian is symmetric and matches differences of the gradient" <| fun (c: Case) ->
            let vars, h = Symbolic.hessian c.Expr c.Env
            let g = Graph.ofExpr c.Expr
            for i in 0 .. vars.Length - 1 do
                for j in 0 .. vars.Length - 1 do
                    agree (sprintf "H[%s,%s] = H[%s,%s]" vars.[i] vars.[j] vars.[j] vars.[i]) 1e-7 h.[i, j] h.[j, i]
                // column j by central differences of the reverse-mode gradient
                let grad (shift: float) =
                    let env = System.Collections.Generic.Dictionary<string, float>(c.Env)
                    env.[vars.[i]] <- env.[vars.[i]] + shift
                    Eval.backward (Eval.forward g env)
                let hstep = 1e-5 * max 1.0 (abs c.Env.[vars.[i]])
                let plus, minus = grad hstep, grad -hstep
                for j in 0 .. vars.Length - 1 do
                    let numeric = (plus.Dvar vars.[j] - minus.Dvar vars.[j]) / (2.0 * hstep)
                    agree (sprintf "H[%s,%s] vs differences" vars.[j] vars.[i]) 1e-4 h.[j, i] numeric

        testPropertyWithConfig config "the layout keyed by the nodes' addresses is the layout keyed by identity hashes" <| fun (c: Case) ->
            Toolkit.Tests.GraphTests.expectSameLayout (Graph.ofExprBy true c.Expr) (Graph.ofExprBy false c.Expr)
    ]
