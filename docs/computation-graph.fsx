(**
---
title: The computation graph
category: Backpropagation
categoryindex: 2
index: 1
---
*)
(*** condition: prepare ***)
#r "../src/Toolkit.Core/bin/Release/net10.0/Toolkit.Core.dll"
(**
# The computation graph, forward and backward

The notes' first example is J(a, b, c) = 3(a + bc) at a = 5, b = 3, c = 2. It is split into
three steps, each a node of a graph: u = bc, v = a + u, J = 3v. A left-to-right pass computes
every node's value; a right-to-left pass computes every node's `dvar`, the derivative of the
output J with respect to that node, reusing what the nodes to its right already computed.

## Building the graph

A program of statements names the intermediate nodes, so the notes' names appear in every
output. (The graph is an ordinary F# value: `Expr`, a discriminated union; `3.0 * (a + b * c)`
with `Expr.var` builds the same graph without names.)
*)
open Toolkit.Graph

let J = Parse.program "u = b*c; v = a + u; J = 3*v"
let graph = Graph.ofExpr J
let point = readOnlyDict [ "a", 5.0; "b", 3.0; "c", 2.0 ]
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/ComputationGraphPage.cs,key=graph-build]
*)
(**
## Forward: every node's value
*)
let forward = Eval.forward graph point
let values = [ for i in 0 .. graph.Count - 1 -> Explain.label graph i, forward.Values.[i] ]
(*** include-value: values ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/ComputationGraphPage.cs,key=graph-forward]
*)
(**
## Backward: every node's dvar

`Eval.backward` makes one sweep over the nodes in reverse topological order. Each node's dvar is
the sum, over the nodes that use it, of their dvar times the local partial derivative. Step by
step, in the notes' notation:
*)
let backward = Eval.backward forward
printfn "%s" (Explain.text backward)
(*** include-output ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/ComputationGraphPage.cs,key=graph-backward]
*)
(**
So dv = 3, du = 3, da = 3, db = 6 and dc = 9, as in the notes.

## The picture

Values in green above each node, dvars in red below, inputs on the left. (`Render.dot` and
`Render.mermaid` give the same graph as Graphviz or Mermaid text.)
*)
Render.svg backward
(*** include-it-raw ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/ComputationGraphPage.cs,key=graph-svg]
*)
(**
## Symbolic partials

The same reverse sweep with expressions in place of numbers gives each partial as a new,
simplified expression:
*)
let symbolic = [ for (x, d) in Symbolic.gradient J -> sprintf "dJ/d%s = %s   (LaTeX: %s)" x (Print.text d) (Print.latex d) ]
(*** include-value: symbolic ***)
(**
Named intermediates stay named. For the logistic loss of the notes,
L = −(y log a + (1 − y) log(1 − a)) with a = σ(z), the chain of dL/da = −y/a + (1 − y)/(1 − a)
and da/dz = a(1 − a) simplifies to the famous result:
*)
let L = Parse.program "a = sigmoid(z); L = -(y*log(a) + (1-y)*log(1-a))"
let dz = Print.text (Symbolic.derivative L "z")
(*** include-value: dz ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/ComputationGraphPage.cs,key=graph-symbolic]
*)
(**
## Checking the gradient

The notes check derivatives by nudging an input by 0.001. `Numeric.forwardDifference` is that
rule; `Numeric.centralDifference` is (f(x + h) − f(x − h)) / 2h, far more accurate. The gradient
check compares the backward pass with central differences for every variable, and also checks
every node's local rule, naming the first node that disagrees:
*)
let nudge = Numeric.forwardDifference graph point "a" 0.001
(*** include-value: nudge ***)
let check = Numeric.check 1e-6 graph point
let checkTable = [ for e in check.Entries -> sprintf "%s: analytic %g, numeric %.10g, relative error %.2g" e.Variable e.Analytic e.Numeric e.RelativeError ]
(*** include-value: checkTable ***)
(*** include-value: check.Passed ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/ComputationGraphPage.cs,key=graph-check]
*)
(**
## Forward mode and second derivatives

Forward mode pushes a tangent left to right (dual numbers); the output's tangent is the
directional derivative ∇J · d. The Hessian of a scalar expression comes from reverse mode over
each symbolic first derivative.
*)
let directional = Eval.directional forward (readOnlyDict [ "b", 1.0 ])
(*** include-value: directional ***)
let _, hessian = Symbolic.hessian J point
(*** include-value: hessian ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/ComputationGraphPage.cs,key=graph-modes]
*)
(**
## From the command line

    toolkit grad "u = b*c; v = a + u; J = 3*v" --at a=5,b=3,c=2 --explain --check
    toolkit grad "3*(a+b*c)" --at a=5,b=3,c=2 --json
    toolkit grad "3*(a+b*c)" --at a=5,b=3,c=2 --svg graph.svg    # also --dot, --mermaid

The expression language: numbers, names, `+ - * /`, `^` (right-associative, binding tighter than
unary minus, so `-x^2` is −(x²)), parentheses, `exp log sqrt sigmoid tanh relu abs step sign`,
two-argument `max min`, and statements `name = expression` separated by `;`.
*)
