#!/usr/bin/env -S dotnet fsi
// The notes' first graph, J(a, b, c) = 3(a + bc), forward and backward, step by step.
// Run: dotnet fsi scripts/01-computation-graph.fsx
#load "load.fsx"
open Toolkit.Graph

let J = Parse.program "u = b*c; v = a + u; J = 3*v"
let passes = Eval.backward (Eval.forward (Graph.ofExpr J) (readOnlyDict [ "a", 5.0; "b", 3.0; "c", 2.0 ]))

printfn "%s\n" (Explain.text passes)
for (x, d) in Symbolic.gradient J do
    printfn "dJ/d%s = %s" x (Print.text d)

// The same graph from F# values instead of text: operators build the union.
let a, b, c = Expr.var "a", Expr.var "b", Expr.var "c"
let J2 = 3.0 * (a + b * c)
printfn "\n%s = %g" (Print.text J2) (Eval.forward (Graph.ofExpr J2) (readOnlyDict [ "a", 5.0; "b", 3.0; "c", 2.0 ])).Value
