/// Explain, render and the gradient check.
module Toolkit.Tests.ToolsTests

open System
open System.Xml.Linq
open Expecto
open Toolkit.Graph
open Toolkit.Tests.WorkedExamples

let private jBackward () =
    let e = Parse.program "u = b*c; v = a + u; J = 3*v"
    Eval.backward (Eval.forward (Graph.ofExpr e) (at [ "a", 5.0; "b", 3.0; "c", 2.0 ]))

[<Tests>]
let tests =
    testList "explain, render, check" [
        test "explain prints the notes' steps" {
            let lines = Explain.backwardLines (jBackward ())
            Expect.contains lines "dJ = 1" "seed"
            Expect.contains lines "dv = dJ·∂J/∂v = 1·3 = 3" "dv"
            Expect.contains lines "du = dv·∂v/∂u = 3·1 = 3" "du"
            Expect.contains lines "da = dv·∂v/∂a = 3·1 = 3" "da"
            Expect.contains lines "db = du·∂u/∂b = du·c = 3·2 = 6" "db"
            Expect.contains lines "dc = du·∂u/∂c = du·b = 3·3 = 9" "dc"
            let forward = Explain.forwardLines (jBackward ())
            Expect.contains forward "u = b * c = 3 * 2 = 6" "u"
            Expect.contains forward "J = 3 * v = 3 * 11 = 33" "J"
        }
        test "explain sums a node used twice over its users" {
            let e = Parse.program "u = x*x; f = u + u*u"
            let b = Eval.backward (Eval.forward (Graph.ofExpr e) (at [ "x", 2.0 ]))
            let lines = Explain.backwardLines b
            Expect.contains lines "du = d(u * u)·∂(u * u)/∂u + d(u * u)·∂(u * u)/∂u + df·∂f/∂u = d(u * u)·u + d(u * u)·u + df·∂f/∂u = 1·4 + 1·4 + 1·1 = 9" "three uses: u·u twice, f once"
        }
        test "DOT and Mermaid show every node with its value and dvar" {
            let b = jBackward ()
            let dot = Render.dot b
            for s in [ "u = b * c\\nvalue 6\\ndvar 3"; "v = a + u\\nvalue 11\\ndvar 3"; "J = 3 * v\\nvalue 33\\ndvar 1"; "a\\nvalue 5\\ndvar 3"; "n4 -> n5" ] do
                Expect.stringContains dot s s
            let mermaid = Render.mermaid b
            Expect.stringContains mermaid "flowchart LR" "header"
            Expect.stringContains mermaid "[\"u = b * c<br/>value 6<br/>dvar 3\"]" "u"
        }
        test "SVG is well-formed XML with every node, value and dvar" {
            let svg = Render.svg (jBackward ())
            let doc = XDocument.Parse svg
            let ns = XNamespace.Get "http://www.w3.org/2000/svg"
            let groups = doc.Descendants(ns + "g") |> Seq.filter (fun g -> g.Attribute(XName.Get "class") <> null && g.Attribute(XName.Get "class").Value.StartsWith "node") |> Seq.toList
            Expect.equal groups.Length 7 "one group per node"
            let texts cls = doc.Descendants(ns + "text") |> Seq.filter (fun t -> t.Attribute(XName.Get "class") <> null && t.Attribute(XName.Get "class").Value = cls) |> Seq.map (fun t -> t.Value) |> Set.ofSeq
            Expect.isTrue (Set.isSubset (set [ "u = b * c"; "v = a + u"; "J = 3 * v"; "a"; "b"; "c"; "3" ]) (texts "expr")) "expressions"
            Expect.isTrue (Set.isSubset (set [ "6"; "11"; "33"; "5" ]) (texts "value")) "values"
            Expect.isTrue (Set.isSubset (set [ "d=3"; "d=6"; "d=9"; "d=1" ]) (texts "dvar")) "dvars"
            let edges = doc.Descendants(ns + "path") |> Seq.filter (fun p -> p.Attribute(XName.Get "class") <> null && p.Attribute(XName.Get "class").Value = "edge") |> Seq.length
            Expect.equal edges 6 "edges"
        }
        test "a NaN node is marked in every picture, its origin flagged" {
            let e = Parse.program "u = log(x); J = u*2"
            let b = Eval.backward (Eval.forward (Graph.ofExpr e) (at [ "x", -1.0 ]))
            let svg = Render.svg b
            Expect.stringContains svg "class=\"node bad\"" "svg marks it"
            Expect.stringContains svg "first non-finite" "svg names the origin"
            Expect.stringContains (Render.dot b) "color=red" "dot marks it"
            Expect.stringContains (Render.mermaid b) "class " "mermaid marks it"
            let doc = XDocument.Parse svg
            Expect.isNotNull doc "still valid XML"
        }
        test "a line chart is SVG with one line and one legend entry per series, log axis ticks at 1, 2, 5" {
            let chart =
                Toolkit.Charts.LineChart.svg "t" "step" "loss" true
                    [ { Toolkit.Charts.Series.Name = "a"; Points = [| for k in 0 .. 10 -> float k, 10.0 ** (-float k / 5.0) |] }
                      { Toolkit.Charts.Series.Name = "b & c"; Points = [| 0.0, 1.0; 10.0, 0.5 |] } ]
            let doc = XDocument.Parse chart
            let ns = XNamespace.Get "http://www.w3.org/2000/svg"
            let lines = doc.Descendants(ns + "polyline") |> Seq.map (fun p -> p.Attribute(XName.Get "data-name").Value) |> List.ofSeq
            Expect.equal lines [ "a"; "b & c" ] "series"
            let ticks = doc.Descendants(ns + "text") |> Seq.filter (fun t -> t.Attribute(XName.Get "class") <> null && t.Attribute(XName.Get "class").Value = "ytick") |> Seq.map (fun t -> t.Value) |> List.ofSeq
            Expect.equal ticks [ "0.01"; "0.02"; "0.05"; "0.1"; "0.2"; "0.5"; "1" ] "log ticks"
        }
        test "gradient check passes with the built-in rules" {
            let g = Graph.ofExpr (Parse.program "a = sigmoid(w*x + b); L = -(y*log(a) + (1-y)*log(1-a))")
            let c = Numeric.check 1e-6 g (at [ "w", 0.5; "x", 1.5; "b", -0.2; "y", 1.0 ])
            Expect.isTrue c.Passed (sprintf "%A" c)
            Expect.equal (c.Entries |> Array.map (fun e -> e.Variable)) [| "y"; "w"; "x"; "b" |] "every variable"
        }
        test "gradient check catches a wrong rule and names the node" {
            // the notes' sign slip: σ′ written as −σ(1 − σ)
            let broken : Rules.Partials =
                fun node x y z ->
                    match node with
                    | Unary (UnaryOp.Sigmoid, _) -> struct (-z * (1.0 - z), 0.0)
                    | _ -> Rules.partials node x y z
            let g = Graph.ofExpr (Parse.program "u = w*x; a = sigmoid(u); L = (a - y)^2")
            let c = Numeric.checkWith broken 1e-6 g (at [ "w", 0.5; "x", 1.5; "y", 1.0 ])
            Expect.isFalse c.Passed "fails"
            Expect.equal (c.FirstBadNode |> Option.map (fun b -> b.Node)) (Some "a") "names a = sigmoid(u)"
            let wrong = c.Entries |> Array.find (fun e -> e.Variable = "w")
            Expect.isGreaterThan wrong.RelativeError 0.1 "dw is off"
            let right = c.Entries |> Array.find (fun e -> e.Variable = "y")
            Expect.isLessThan right.RelativeError 1e-6 "dy does not pass through σ"
            Expect.isFalse c.Inconclusive "a wrong rule is a failure, not a kink"
        }
        test "a point on a kink or a domain edge makes the check inconclusive, naming the node, not a failure of a rule" {
            for text, x, node, kind in [ "relu(x)", 0.0, "relu(x)", "a kink"
                                         "abs(x)", 1e-7, "abs(x)", "a kink"          // within the step, not on the corner
                                         "u = 3*x; v = max(u, 0.0); v*v", 0.0, "v", "a kink"
                                         "sqrt(x)", 0.0, "sqrt(x)", "the edge of its domain" ] do
                let c = Numeric.check 1e-6 (Graph.ofExpr (Parse.program text)) (at [ "x", x ])
                Expect.isFalse c.Passed (sprintf "%s at %g does not pass" text x)
                Expect.isTrue c.Inconclusive (sprintf "%s at %g: inconclusive" text x)
                Expect.isNone c.FirstBadNode (sprintf "%s at %g: no rule is blamed" text x)
                Expect.equal ([ for p in c.NonSmooth -> p.Node, p.Kind ] |> List.distinct) [ node, kind ] (sprintf "%s at %g: the node and why" text x)
            // away from the kink the same graphs pass
            for text in [ "relu(x)"; "abs(x)"; "sqrt(x)" ] do
                let c = Numeric.check 1e-6 (Graph.ofExpr (Parse.program text)) (at [ "x", 0.7 ])
                Expect.isTrue (c.Passed && c.NonSmooth.Length = 0) (sprintf "%s at 0.7" text)
        }
    ]
