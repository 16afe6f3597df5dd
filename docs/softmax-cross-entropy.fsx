(**
---
title: Softmax and cross-entropy
category: Networks
categoryindex: 3
index: 3
---
*)
(*** condition: prepare ***)
#r "nuget: MathNet.Numerics, 5.0.0"
#r "nuget: System.Numerics.Tensors, 10.0.12"
#r "../src/Toolkit.Core/bin/Release/net10.0/Toolkit.Core.dll"
(**
# Softmax and cross-entropy

Softmax turns scores z into probabilities pᵢ = eᶻⁱ / Σⱼ eᶻʲ; cross-entropy H = −Σᵢ yᵢ log pᵢ
measures them against the one-hot label y. Toolkit computes softmax with the largest score
subtracted first (the same p, and no overflow):
*)
open MathNet.Numerics.LinearAlgebra
open Toolkit.Nn
open Toolkit.Tensors

let column (v: float list) = Matrix<float>.Build.DenseOfColumnArrays [| Array.ofList v |]
let large = Kernels.softmax Axis.Rows (column [ 1000.0; -1000.0; 999.0 ])
(*** include-value: large.Column(0).ToArray() ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/SoftmaxCrossEntropyPage.cs,key=softmax-stable]
*)
(**
Computed naively, e¹⁰⁰⁰ overflows to ∞ and p becomes NaN; shifted, the scores 1000 and 999 share
the probability as e¹/(e¹ + 1) and 1/(e¹ + 1), and −1000 gets none.

## The Jacobian and why the fused gradient is p − y

Softmax's derivative is a matrix per sample, J = diag(p) − ppᵀ (∂pᵢ/∂zⱼ = pᵢ(δᵢⱼ − pⱼ)), and
cross-entropy's is ∂H/∂p = −y/p. Their product collapses: Jᵀ·(∂H/∂p) = p − y. Checked here on
one sample:
*)
let z = Vector<float>.Build.DenseOfArray [| 1.0; -0.5; 2.0 |]
let y = Vector<float>.Build.DenseOfArray [| 0.0; 1.0; 0.0 |]
let p = (Kernels.softmax Axis.Rows (Matrix<float>.Build.DenseOfColumnVectors z)).Column 0
let J = Activation.softmaxJacobian p
let viaJacobian = J.TransposeThisAndMultiply(-(y.PointwiseDivide p))
let fused = p - y
let both = [ sprintf "Jᵀ·∂H/∂p = %A" (viaJacobian.ToArray() |> Array.map (fun v -> System.Math.Round(v, 12)))
             sprintf "p − y     = %A" (fused.ToArray() |> Array.map (fun v -> System.Math.Round(v, 12))) ]
(*** include-value: both ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/SoftmaxCrossEntropyPage.cs,key=softmax-delta]
*)
(**
So a softmax output layer trained with cross-entropy never builds the Jacobian: δᴸ = p − y,
which is what `Loss.CrossEntropy` computes when it reads the logits (`LossInput.Logits`, as it
does after a softmax layer), in training and in the matrix graph alike. It is stable for logits of ±1000 as well:
*)
let logits = Matrix<float>.Build.DenseOfColumnArrays [| [| 1000.0; -1000.0; 0.0 |] |]
let target = Matrix<float>.Build.DenseOfColumnArrays [| [| 0.0; 1.0; 0.0 |] |]
let probabilities = Activation.apply Activation.Softmax logits
let stable =
    [ sprintf "p = %A" (probabilities.Column(0).ToArray())
      sprintf "loss %g (the label's score is 2000 below the best, so H = 2000)" (Loss.value Loss.CrossEntropy LossInput.Logits logits target)
      sprintf "δᴸ = p − y: %A" ((Loss.gradient Loss.CrossEntropy LossInput.Logits logits target).Column(0).ToArray())
      sprintf "through the Jacobian instead: %A" ((Activation.gradient Activation.Softmax logits probabilities (Loss.gradient Loss.CrossEntropy LossInput.Outputs probabilities target)).Column(0).ToArray()) ]
(*** include-value: stable ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/SoftmaxCrossEntropyPage.cs,key=softmax-large]
*)
(**
The label's probability underflows to 0, so −y/p is −∞ (clamped here to −10¹⁵) and the product
through the Jacobian is no longer p − y; δᴸ = p − y from the logits stays exact.
The loss itself is computed from the logits (log-sum-exp), not from log p, for the same reason.
*)
