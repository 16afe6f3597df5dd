(**
---
title: The chain rule with several paths
category: Backpropagation
categoryindex: 2
index: 2
---
*)
(*** condition: prepare ***)
#r "../src/Toolkit.Core/bin/Release/net10.0/Toolkit.Core.dll"
(**
# The chain rule with several paths

When a variable reaches the output along more than one path, its derivative is the sum over the
paths: for z = f(u, v) with u = u(t) and v = v(t),

  dz/dt = ∂z/∂u · du/dt + ∂z/∂v · dv/dt.

The backward pass does this without being told: every node adds, into the dvar of each argument,
its own dvar times its local partial, so a node used twice receives two contributions.

## The notes' first example: f(x, y, z) = (x + y)·z

At x = −2, y = 5, z = −4, with q = x + y:
*)
open Toolkit.Graph

let f = Parse.program "q = x + y; f = q * z"
let b = Eval.backward (Eval.forward (Graph.ofExpr f) (readOnlyDict [ "x", -2.0; "y", 5.0; "z", -4.0 ]))
/// the dvar of a named intermediate node
let dvarOf (b: Backward) (name: string) =
    let g = b.Forward.Graph
    b.Dvars.[[ 0 .. g.Count - 1 ] |> List.find (fun i -> g.Name i = Some name)]
let summary = [ sprintf "f = %g" b.Value; sprintf "df/dq = %g" (dvarOf b "q")
                sprintf "df/dx = %g, df/dy = %g, df/dz = %g" (b.Dvar "x") (b.Dvar "y") (b.Dvar "z") ]
(*** include-value: summary ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/ChainRulePage.cs,key=chain-one-path]
*)
(** Each step of the backward pass, as the notes write it: *)
printfn "%s" (Explain.text b)
(*** include-output ***)
(**
## Two paths: t reaches z through u and through v

z = u·v with u = t·t and v = exp(t). The picture shows t feeding both; its dvar is the sum of
what the two paths bring back.
*)
let z = Parse.program "u = t*t; v = exp(t); z = u*v"
let at = readOnlyDict [ "t", 1.5 ]
let bz = Eval.backward (Eval.forward (Graph.ofExpr z) at)
(*** hide ***)
Render.svg bz
(*** include-it-raw ***)
(**
By the rule above, dz/dt = v·2t + u·eᵗ = (2t + t²)·eᵗ. The backward pass, the symbolic
derivative, the two paths added by hand and central differences:
*)
let t = 1.5
let byPaths = exp t * 2.0 * t + t * t * exp t
let four =
    [ sprintf "backward pass        %.12f" (bz.Dvar "t")
      sprintf "symbolic             %.12f   (%s)" (Eval.forward (Graph.ofExpr (Symbolic.derivative z "t")) at).Value (Print.text (Symbolic.derivative z "t"))
      sprintf "the two paths        %.12f" byPaths
      sprintf "central differences  %.12f" (Numeric.centralDifference (Graph.ofExpr z) at "t" Numeric.defaultStep) ]
(*** include-value: four ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/ChainRulePage.cs,key=chain-two-paths]
*)
(**
## The notes' sigmoid neuron

f(w, x) = σ(w₀x₀ + w₁x₁ + w₂) at w = [2, −3, −3], x = [−1, −2]. The local gradient of the sigmoid
is (1 − f)·f, and every weight and input gets its share:
*)
let neuron = Parse.program "s = w0*x0 + w1*x1 + w2; f = sigmoid(s)"
let bn = Eval.backward (Eval.forward (Graph.ofExpr neuron) (readOnlyDict [ "w0", 2.0; "w1", -3.0; "w2", -3.0; "x0", -1.0; "x1", -2.0 ]))
let neuronNumbers =
    [ sprintf "f = %.4f, local gradient (1 − f)·f = %.4f" bn.Value ((1.0 - bn.Value) * bn.Value)
      sprintf "dx = [%.3f, %.3f]" (bn.Dvar "x0") (bn.Dvar "x1")
      sprintf "dw = [%.3f, %.3f, %.3f]" (bn.Dvar "w0") (bn.Dvar "w1") (bn.Dvar "w2") ]
(*** include-value: neuronNumbers ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/ChainRulePage.cs,key=chain-neuron]
*)
