(**
---
title: Numerical gradients and gradient checking
category: Backpropagation
categoryindex: 2
index: 3
---
*)
(*** condition: prepare ***)
#r "../src/Toolkit.Core/bin/Release/net10.0/Toolkit.Core.dll"
(**
# Numerical gradients and gradient checking

The notes nudge a variable and watch the output: (f(x + h) − f(x))/h. It needs no derivative
rules at all, so it is the referee for the analytic gradient of the backward pass — slow (one
extra evaluation per variable) and approximate, but independent. Toolkit has both differences and
a gradient check that compares them with the backward pass variable by variable.

## How small should h be?

The one-sided difference is off by about h·f″/2 (truncation), the central difference
(f(x + h) − f(x − h))/2h by about h²·f‴/6; both also lose about ε/h to rounding, ε ≈ 2.2·10⁻¹⁶.
For J = 3(a + bc) times a sigmoid, the error in dJ/db against the backward pass, for h from 10⁻¹
to 10⁻¹³:
*)
open Toolkit.Graph
open Toolkit.Charts

let J = Parse.program "u = b*c; v = a + u; J = 3*v*sigmoid(v/10)"
let g = Graph.ofExpr J
let at = readOnlyDict [ "a", 5.0; "b", 3.0; "c", 2.0 ]
let exact = (Eval.backward (Eval.forward g at)).Dvar "b"
let steps = [| for k in 1 .. 13 -> 10.0 ** float -k |]
let errors difference = steps |> Array.map (fun h -> h, abs (difference g at "b" h - exact))
(*** hide ***)
LineChart.svg "Error of the numerical dJ/db against the backward pass" "log₁₀ h" "|error|" true
    [ { Name = "forward (f(x+h) − f(x))/h"; Points = errors Numeric.forwardDifference |> Array.map (fun (h, e) -> log10 h, e) }
      { Name = "central (f(x+h) − f(x−h))/2h"; Points = errors Numeric.centralDifference |> Array.map (fun (h, e) -> log10 h, e) } ]
(*** include-it-raw ***)
(**
The V shapes are the two errors trading places: on the right truncation (slope 1 for the forward
difference, 2 for the central one), on the left rounding. The best steps, measured:
*)
let best difference = errors difference |> Array.minBy snd |> fun (h, e) -> sprintf "h = %g, error %.1e" h e
let bests = [ "forward: " + best Numeric.forwardDifference; "central: " + best Numeric.centralDifference
              sprintf "Toolkit's default central step: %g" Numeric.defaultStep ]
(*** include-value: bests ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/GradientCheckingPage.cs,key=check-steps]
*)
(**
## A gradient check

`Numeric.check` runs the backward pass and central differences for every variable and reports
the relative error |analytic − numeric| / max(1, |analytic|, |numeric|) — relative for large
derivatives, absolute near zero, so one tolerance means the same thing at every magnitude:
*)
let check = Numeric.check 1e-6 g at
let lines = [ for e in check.Entries -> sprintf "d%s: backward %.10f, numeric %.10f, error %.1e" e.Variable e.Analytic e.Numeric e.RelativeError ]
(*** include-value: lines ***)
(*** include-value: check.Passed ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/GradientCheckingPage.cs,key=check-check]
*)
(**
## Finding a wrong rule

A check that fails should say where. `Numeric.checkWith` takes the table of local derivatives as
a parameter, so a mistake can be planted: here the sigmoid's derivative is written σ(x) instead of
σ(x)(1 − σ(x)), a classic slip. The check fails, and besides the variables it names the first
node whose local rule disagrees with differences of that node's own operation:
*)
let wrong : Rules.Partials =
    fun node x y z ->
        match node with
        | Unary (UnaryOp.Sigmoid, _) -> struct (z, 0.0)          // should be z·(1 − z)
        | _ -> Rules.partials node x y z
let broken = Numeric.checkWith wrong 1e-6 g at
let verdict =
    [ sprintf "passed: %b" broken.Passed
      match broken.FirstBadNode with
      | Some n -> sprintf "first bad node: %s (argument %d): rule %.6f, differences %.6f" n.Node n.Argument n.Rule n.Numeric
      | None -> "no bad node found" ]
(*** include-value: verdict ***)
(**
Every derivative rule, operation, layer and loss in Toolkit is checked this way by property
tests over generated inputs (FsCheck), with tolerances scaled to the magnitude of the values.
From the command line: `toolkit grad "…" --at … --check`.
*)
