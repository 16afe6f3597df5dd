(**
---
title: The hinge loss
category: Networks
categoryindex: 3
index: 4
---
*)
(*** condition: prepare ***)
#r "nuget: MathNet.Numerics, 5.0.0"
#r "nuget: System.Numerics.Tensors, 10.0.12"
#r "../src/Toolkit.Core/bin/Release/net10.0/Toolkit.Core.dll"
(**
# The multiclass SVM (hinge) loss

For scores s of one sample whose class is y, the notes' SVM loss asks the right class to beat
every other by a margin Δ = 1: Lᵢ = Σ_{j≠y} max(0, s_j − s_y + Δ), averaged over the samples.
Its gradient is a count: ∂Lᵢ/∂s_j = 1 for each class j whose margin is violated, and
∂Lᵢ/∂s_y = −(the number of violations).

## The notes' example: 3 samples, 3 classes, 1-D

One weight per class, samples x = 1, 2, −1 of classes 0, 1, 2, so s_j = w_j·xᵢ. At w = [0.5, −1, 2]:
*)
open MathNet.Numerics.LinearAlgebra
open Toolkit.Tensors

let w, xs = [| 0.5; -1.0; 2.0 |], [| 1.0; 2.0; -1.0 |]
let scores = Matrix<float>.Build.Dense(3, 3, fun j i -> w.[j] * xs.[i])       // column i: sample i
let labels = Matrix<float>.Build.DenseIdentity 3
let perSample =
    [ for i in 0 .. 2 ->
        let terms = [ for j in 0 .. 2 do if j <> i then yield max 0.0 (scores.[j, i] - scores.[i, i] + 1.0) ]
        sprintf "L%d = %s = %g" i (System.String.Join(" + ", terms |> List.map (sprintf "%g"))) (List.sum terms) ]
let L = Loss.value (Loss.Hinge 1.0) LossInput.Outputs scores labels
(*** include-value: perSample ***)
(*** include-value: L ***)
(**
The gradient with respect to the scores, one column per sample (each column sums to 0: what one
class gains, the right class loses), averaged over the three samples:
*)
let dS = Loss.gradient (Loss.Hinge 1.0) LossInput.Outputs scores labels
(*** include-value: dS.ToMatrixString() ***)
(** and through s_j = w_j·xᵢ to the weights, checked against central differences: *)
let loss (w: float[]) =
    let s = Matrix<float>.Build.Dense(3, 3, fun j i -> w.[j] * xs.[i])
    Loss.value (Loss.Hinge 1.0) LossInput.Outputs s labels
let dw = Array.init 3 (fun j -> Seq.sum (seq { for i in 0 .. 2 -> dS.[j, i] * xs.[i] }))
let numeric = Array.init 3 (fun j ->
    let h = 1e-6
    let nudged d = w |> Array.mapi (fun k v -> if k = j then v + d else v)
    (loss (nudged h) - loss (nudged -h)) / (2.0 * h))
let weights = [ for j in 0 .. 2 -> sprintf "dL/dw%d: analytic %g, central differences %.6f" j dw.[j] numeric.[j] ]
(*** include-value: weights ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/HingeLossPage.cs,key=hinge-graph]
*)
(**
The loss is piecewise linear, so the two agree exactly except at a kink, where a margin is exactly
met and the loss has only a sub-gradient. The [loss landscapes](loss-landscapes.html) page draws
this loss along one weight and over two, with the optimisers' paths on it; `--loss hinge` trains
a network with it from the command line.
*)
