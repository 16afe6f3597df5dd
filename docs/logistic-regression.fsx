(**
---
title: Logistic regression three ways
category: Backpropagation
categoryindex: 2
index: 4
---
*)
(*** condition: prepare ***)
#r "nuget: MathNet.Numerics, 5.0.0"
#r "nuget: System.Numerics.Tensors, 10.0.12"
#r "../src/Toolkit.Core/bin/Release/net10.0/Toolkit.Core.dll"
(**
# Logistic regression three ways

The notes write one gradient step of logistic regression three times: z = wᵀx + b, a = σ(z),
L = −(y log a + (1 − y) log(1 − a)), whose derivative is dz = a − y, then dw = x·dz and db = dz,
averaged over the m samples. First with two nested loops (over samples, then features: dw1, dw2,
…), then with one loop and a vector dw, then with no loop at all:

$$ Z = w^T X + b,\quad A = \sigma(Z),\quad dZ = A - Y,\quad dw = \tfrac{1}{m} X\, dZ^T,\quad db = \tfrac{1}{m}\textstyle\sum dZ $$

Toolkit has all three (`LogisticRegression.gradientLoops`, `gradientLoop`,
`gradientVectorized`) and a fourth that builds the cost as a matrix graph and runs its reverse
mode (`gradientGraph`). They are the same mathematics, so they give the same numbers:
*)
open MathNet.Numerics.LinearAlgebra
open Toolkit.Models

let x = Matrix<float>.Build.DenseOfArray(array2D [ [ 0.5; -1.0; 2.0; 0.1 ]; [ 1.5; 0.3; -0.7; -2.0 ] ])
let y = [| 1.0; 0.0; 1.0; 0.0 |]
let start = { W = [| 0.2; -0.4 |]; B = 0.1 }
let gradients =
    [ "loops", LogisticRegression.gradientLoops x y start
      "one loop", LogisticRegression.gradientLoop x y start
      "vectorized", LogisticRegression.gradientVectorized x y start
      "matrix graph", LogisticRegression.gradientGraph x y start ]
    |> List.map (fun (name, g) -> sprintf "%-12s cost %.15f  dw [%s]  db %.15f" name g.Cost (g.DW |> Array.map (sprintf "%.15f") |> String.concat "; ") g.DB)
(*** include-value: gradients ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/LogisticRegressionPage.cs,key=logreg-gradients]
*)
(**
The matrix graph is the notes' picture of the same computation, with shapes:
*)
let picture = Toolkit.Tensors.TRender.dot (Toolkit.Tensors.TGraph.ofExpr (LogisticRegression.graph x y))
(*** include-value: picture ***)
(**
## Gradient descent

`LogisticRegression.fit` repeats w := w − α·dw, b := b − α·db until no parameter moves more than a
tolerance, or a step limit, recording the cost at every step. The cost is computed from z as
max(z, 0) − z·y + log(1 + e^−|z|): the same number as the notes' formula, without ever taking
log(0) when σ saturates.
*)
let fit = LogisticRegression.fit LogisticRegression.gradientVectorized 0.5 1e-8 10_000 x y (LogisticRegression.zeros 2)
let summary = sprintf "%d steps, converged %b, cost %.4f → %.6f, accuracy %.2f" fit.Steps fit.Converged fit.CostPerStep.[0] (Array.last fit.CostPerStep) (LogisticRegression.accuracy fit.Params x y)
(*** include-value: summary ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/LogisticRegressionPage.cs,key=logreg-fit]
*)
(**
## On Fashion-MNIST

`toolkit logreg --classes 0,1` trains on two classes of Fashion-MNIST (from Debian's
`dataset-fashion-mnist`), pixels scaled to [0, 1], X of 784 × 12,000:
*)
let fashion =
    let d = Toolkit.Data.FashionMnist.load Toolkit.Data.FashionMnist.defaultDirectory
    [ for a, b in [ 0, 1; 2, 4 ] ->
        let x, y = Toolkit.Data.FashionMnist.binary a b d.Train
        let xt, yt = Toolkit.Data.FashionMnist.binary a b d.Test
        let f = LogisticRegression.fit LogisticRegression.gradientVectorized 0.02 1e-6 300 x y (LogisticRegression.zeros 784)
        sprintf "%s vs %s: %d steps, train accuracy %.4f, test accuracy %.4f"
            Toolkit.Data.FashionMnist.classNames.[a] Toolkit.Data.FashionMnist.classNames.[b] f.Steps
            (LogisticRegression.accuracy f.Params x y) (LogisticRegression.accuracy f.Params xt yt) ]
(*** include-value: fashion ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/LogisticRegressionPage.cs,key=logreg-fashion]
*)
(**
T-shirts and trousers are easy to tell apart with a linear model; pullovers and coats are not.

## How fast is each program?

The notes say vectorized code runs about 100× faster than loops. That is a statement about
Python: there, each loop iteration runs in the interpreter. The benchmark below runs the same
programs on 10,000 Fashion-MNIST images in Toolkit and in Python/NumPy, in one run
(`dotnet run --project tests/Toolkit.Benchmarks -c Release -- linalg`). In .NET the loops are
compiled, so the nested loops are only a few times slower than the vectorized step; the one-loop
version is the slowest of all here, because it makes new vectors for every sample. The
vectorized step is two matrix–vector products over 62 MB of data: it is bound by memory
bandwidth, not by arithmetic, in either language.

The figures are in [performance](performance.html#linear-algebra).
*)
