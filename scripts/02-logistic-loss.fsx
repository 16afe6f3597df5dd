#!/usr/bin/env -S dotnet fsi
// The logistic-regression derivatives of the notes: dL/da, da/dz, and dz = a − y,
// symbolically, numerically and checked. Run: dotnet fsi scripts/02-logistic-loss.fsx
#load "load.fsx"
open Toolkit.Graph

let L = Parse.program "z = w1*x1 + w2*x2 + b; a = sigmoid(z); L = -(y*log(a) + (1-y)*log(1-a))"
let point = readOnlyDict [ "w1", 0.5; "w2", -0.3; "b", 0.1; "x1", 1.2; "x2", 0.7; "y", 1.0 ]
let g = Graph.ofExpr L
let passes = Eval.backward (Eval.forward g point)

for (x, d) in Symbolic.gradient L do
    printfn "dL/d%-3s = %-22s = %g" x (Print.text d) (passes.Dvar x)

let check = Numeric.check 1e-6 g point
for e in check.Entries do
    printfn "%-3s analytic %12.8f  numeric %12.8f  relative error %.1e" e.Variable e.Analytic e.Numeric e.RelativeError
printfn "gradient check passed: %b" check.Passed
