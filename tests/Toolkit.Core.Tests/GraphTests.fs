/// The graph's structure and passes: sharing, deep graphs, repeatability, forward mode, Hessian.
module Toolkit.Tests.GraphTests

open System
open Expecto
open Toolkit.Graph
open Toolkit.Tests.WorkedExamples

/// Two layouts are the same: operations, arguments and names at every position.
let expectSameLayout (g: Graph) (reference: Graph) =
    Expect.equal g.Count reference.Count "node count"
    for i in 0 .. g.Count - 1 do
        // Equals: a NaN constant equals itself
        if not (g.Op(i).Equals(reference.Op i)) || g.Args i <> reference.Args i || g.Name i <> reference.Name i then
            failtestf "node %d: %A of %A named %A, not %A of %A named %A" i (g.Op i) (g.Args i) (g.Name i)
                (reference.Op i) (reference.Args i) (reference.Name i)

/// A graph with shared nodes: `layers` layers of `width` nodes, each tanh(p·q + r) of three
/// nodes of the layer below, and their sum.
let private wide (width: int) (layers: int) =
    let mutable p = Array.init width (fun i -> Expr.var (sprintf "x%d" i))
    for _ in 1 .. layers do
        let q = p
        p <- Array.init width (fun i -> Expr.tanh (q.[i] * q.[(i + 1) % width] + q.[(i + 2) % width]))
    Array.reduce (+) p

[<Tests>]
let tests =
    testList "graph" [
        test "a layout by address during which collections run is made again by identity hashes, the same layout; scattered addresses are refused" {
            // collections from another thread while this one lays out fresh graphs, whose nodes a
            // collection moves: a walk that meets one is made again (the counter shows it
            // happened), and every layout is the identity one
            let before = Graph.LastLayout.Fallbacks
            use stop = new System.Threading.CancellationTokenSource()
            // every kind in turn: generation 0, 1, background full, blocking compacting full
            let collector =
                System.Threading.Tasks.Task.Run(fun () ->
                    let mutable k = 0
                    while not stop.IsCancellationRequested do
                        match k % 4 with
                        | 0 -> GC.Collect 0
                        | 1 -> GC.Collect 1
                        | 2 -> GC.Collect(2, GCCollectionMode.Forced, false)
                        | _ -> GC.Collect(2, GCCollectionMode.Forced, true, true)
                        k <- k + 1
                        Threading.Thread.Sleep 1)
            let mutable layouts = 0
            while layouts < 1000 && Graph.LastLayout.Fallbacks - before < 20 do
                let e = wide 100 60
                let g = Graph.ofExpr e
                expectSameLayout g (Graph.ofExprBy false e)
                layouts <- layouts + 1
            stop.Cancel()
            collector.Wait()
            Expect.isGreaterThan (Graph.LastLayout.Fallbacks - before) 0 (sprintf "a walk met a collection in %d layouts" layouts)
            // keys 64 KB apart (arrays on the pinned heap, which lie one after another), each in a
            // block of its own: the map gives up rather than spend 8,192 slots on every key (past
            // 16 MB of slots: 512 blocks)
            let map = AddressMap(0)
            let keys = Array.init 600 (fun _ -> GC.AllocateUninitializedArray<byte>(64 * 1024 - 24, true))
            let gaveUp =
                try
                    for k in 0 .. keys.Length - 1 do map.GetOrAdd(box keys.[k], k) |> ignore
                    false
                with AddressesUnusable -> true
            map.Release()
            Expect.isTrue gaveUp "scattered addresses are refused"
            // the shared pool makes new arrays of a type without references uninitialized: a map
            // whose slots come back dirty must still find every key new (it hung a layout once)
            let dirty = Buffers.ArrayPool<int>.Shared.Rent 8192
            Array.fill dirty 0 dirty.Length 7
            Buffers.ArrayPool<int>.Shared.Return(dirty, false)
            let map = AddressMap(0)
            let nodes = Array.init 3000 (fun i -> Expr.var (string i))
            for k in 0 .. nodes.Length - 1 do
                Expect.equal (map.GetOrAdd(box nodes.[k], k)) -1 "a new key"
            for k in 0 .. nodes.Length - 1 do
                Expect.equal (map.GetOrAdd(box nodes.[k], -5)) k "found again"
            map.Release()
        }
        test "a node used twice is one node; its dvar sums both paths" {
            let x = Expr.var "x"
            let u = Expr.named "u" (x * x)            // used by both terms below
            let f = u + Expr.sigmoid u
            let g = Graph.ofExpr f
            Expect.equal g.Count 4 "x, u, σ(u), +: u is not duplicated"
            let b = Eval.backward (Eval.forward g (at [ "x", 0.7 ]))
            let uv = 0.49
            let s = Rules.sigmoid uv
            let du = 1.0 + s * (1.0 - s)              // dz/du = ∂z/∂u direct + ∂z/∂σ·dσ/du
            Expect.floatClose Accuracy.veryHigh (b.Dvar "x") (du * 2.0 * 0.7) "dx = du · 2x"
        }
        test "two Var objects with the same name are one variable" {
            let e = Expr.var "x" * Expr.var "x"
            let g = Graph.ofExpr e
            Expect.equal g.Count 2 "x and x·x"
            Expect.equal ((Eval.backward (Eval.forward g (at [ "x", 3.0 ]))).Dvar "x") 6.0 "d(x²) = 2x"
        }
        test "the chain rule with several paths: dz/dt = ∂z/∂u·du/dt + ∂z/∂v·dv/dt" {
            // z = u·v, u = t², v = sin-free: v = exp(t); dz/dt = v·2t + u·eᵗ
            let e = Parse.program "u = t^2; v = exp(t); z = u*v"
            let b = Eval.backward (Eval.forward (Graph.ofExpr e) (at [ "t", 0.5 ]))
            let expected = exp 0.5 * 2.0 * 0.5 + 0.25 * exp 0.5
            Expect.floatClose Accuracy.veryHigh (b.Dvar "t") expected "sum over both paths"
        }
        test "a chain of 1,000,000 nodes: forward and backward do not overflow the stack" {
            let mutable e = Expr.var "x"
            for _ in 1 .. 1_000_000 do
                e <- -e
            let g = Graph.ofExpr e
            Expect.equal g.Count 1_000_001 "nodes"
            let b = Eval.backward (Eval.forward g (at [ "x", 1.5 ]))
            Expect.equal b.Value 1.5 "value (an even number of negations)"
            Expect.equal (b.Dvar "x") 1.0 "dvar"
            Expect.equal (Eval.directional b.Forward (at [ "x", 1.0 ])) 1.0 "forward mode"
            // printing and structural comparison are iterative too
            Expect.isTrue (Expr.structurallyEqual e e) "structural equality"
        }
        test "backward is a pure function: twice gives the same answer, and the forward pass is not changed" {
            let e = Parse.program "u = x*y; v = exp(u) + u; w = v*x"
            let f = Eval.forward (Graph.ofExpr e) (at [ "x", 0.3; "y", -1.2 ])
            let before = Array.copy f.Values
            let b1 = Eval.backward f
            let b2 = Eval.backward f
            Expect.equal b1.Dvars b2.Dvars "same dvars"
            Expect.equal f.Values before "values untouched"
        }
        test "forward mode: the directional derivative equals ∇f·d" {
            let e = Parse.program "x*exp(y) + log(x^2 + y^2)"
            let f = Eval.forward (Graph.ofExpr e) (at [ "x", 0.8; "y", 0.4 ])
            let b = Eval.backward f
            let d = Eval.directional f (at [ "x", 0.6; "y", -1.1 ])
            Expect.floatClose Accuracy.veryHigh d (0.6 * b.Dvar "x" - 1.1 * b.Dvar "y") "∇f·d"
        }
        test "Hessian of x²y + exp(xy) matches the closed form and is symmetric" {
            let vars, h = Symbolic.hessian (Parse.program "x^2*y + exp(x*y)") (at [ "x", 0.5; "y", 2.0 ])
            Expect.equal vars [| "x"; "y" |] "order"
            let x, y = 0.5, 2.0
            let e = exp (x * y)
            Expect.floatClose Accuracy.veryHigh h.[0, 0] (2.0 * y + y * y * e) "fxx"
            Expect.floatClose Accuracy.veryHigh h.[0, 1] (2.0 * x + e * (1.0 + x * y)) "fxy"
            Expect.floatClose Accuracy.veryHigh h.[1, 0] h.[0, 1] "symmetric"
            Expect.floatClose Accuracy.veryHigh h.[1, 1] (x * x * e) "fyy"
        }
        test "a variable with no value is named in the error" {
            let g = Graph.ofExpr (Parse.program "a*b")
            let missing =
                try Eval.forward g (at [ "a", 1.0 ]) |> ignore; None
                with :? UnboundVariableException as e -> Some(e.Name, e.Message)
            Expect.equal missing (Some("b", "variable 'b' has no value")) "names b"
        }
        test "the first non-finite value is found and explained" {
            let e = Parse.program "u = x - 2; w = log(u); J = w * 3 + x"
            let f = Eval.forward (Graph.ofExpr e) (at [ "x", 1.0 ])
            Expect.isTrue (Double.IsNaN f.Value) "NaN propagates"
            let i = (Eval.firstNonFinite f).Value
            Expect.equal (f.Graph.Name i) (Some "w") "origin is w, not J"
            Expect.equal (Explain.nonFinite f) (Some "w = NaN: log of -1 (log needs a positive argument)") "reason"
        }
        test "division by zero is explained" {
            let f = Eval.forward (Graph.ofExpr (Parse.program "1/(x - x)")) (at [ "x", 1.0 ])
            Expect.stringContains (Explain.nonFinite f).Value "division of 1 by zero" "reason"
        }
    ]
