(**
---
title: Activations and their derivatives
category: Networks
categoryindex: 3
index: 2
---
*)
(*** condition: prepare ***)
#r "nuget: MathNet.Numerics, 5.0.0"
#r "nuget: System.Numerics.Tensors, 10.0.12"
#r "../src/Toolkit.Core/bin/Release/net10.0/Toolkit.Core.dll"
(**
# Activations and their derivatives

A layer's activation a = g(z) enters backpropagation only through g′(z), in
δˡ = ((Wˡ⁺¹)ᵀδˡ⁺¹) ⊙ g′(zˡ). Every elementwise activation is an op of the one table of derivatives
(`src/Toolkit.Core/Graph/Rules.fs`), the same op the parser reads in `toolkit grad "softplus(x)"`:
its value, and its derivative from z or from a where that is cheaper (σ′ = a(1 − a),
tanh′ = 1 − a²). `Activation.apply` computes g and `Activation.derivative` g′ over matrices by
the same passes the layers run; training vectorises σ, tanh and the ReLUs and takes every other
op, softplus, ELU and GELU among them, straight from the table.
*)
open MathNet.Numerics.LinearAlgebra
open Toolkit.Nn
open Toolkit.Charts

let zs = Array.init 161 (fun i -> -4.0 + 0.05 * float i)
let z = Matrix<float>.Build.Dense(1, zs.Length, zs)
let curves (g: Activation) =
    let a = Activation.apply g z
    let d = (Activation.derivative g z a).Value
    Array.zip zs (a.Row 0 |> Array.ofSeq), Array.zip zs (d.Row 0 |> Array.ofSeq)
let all = [ Activation.Sigmoid; Activation.Tanh; Activation.Relu; Activation.LeakyRelu 0.1
            Activation.Elementwise Toolkit.Graph.UnaryOp.Softplus; Activation.Elementwise Toolkit.Graph.UnaryOp.Elu
            Activation.Elementwise Toolkit.Graph.UnaryOp.Gelu ]
(*** hide ***)
LineChart.stack
    [ LineChart.svg "g(z)" "z" "g(z)" false [ for g in all -> { Name = Activation.name g; Points = fst (curves g) } ]
      LineChart.svg "g′(z)" "z" "g′(z)" false [ for g in all -> { Name = Activation.name g; Points = snd (curves g) } ] ]
(*** include-it-raw ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/ActivationsPage.cs,key=act-curves]
*)
(**
What the pictures say about training: σ′ is at most 1/4 (at z = 0), so every sigmoid layer shrinks
δ by at least four times — the vanishing gradient of deep sigmoid networks; tanh′ reaches 1;
ReLU passes δ unchanged where z > 0 and stops it where z < 0 (at z = 0 Toolkit takes the
sub-gradient 0); leaky ReLU keeps a little (here 0.1) on the negative side. Softplus ln(1 + eᶻ)
is a ReLU with the corner rounded off, and its derivative is σ; ELU bends smoothly to −1 below 0
(its derivative eᶻ there); GELU, z·Φ(z) with Φ the normal distribution function, dips slightly
below 0 and is the activation of most transformers (its derivative Φ(z) + z·φ(z)).

## Checked against differences

Each derivative against the central difference (g(z + h) − g(z − h))/2h at a few points away
from ReLU's kink:
*)
let points = [| -2.5; -0.7; 0.3; 1.9 |]
let h = 1e-5
let worst (g: Activation) =
    let at (v: float) = (Activation.apply g (Matrix<float>.Build.Dense(1, 1, v))).[0, 0]
    points |> Array.map (fun p ->
        let zp = Matrix<float>.Build.Dense(1, 1, p)
        let analytic = (Activation.derivative g zp (Activation.apply g zp)).Value.[0, 0]
        abs (analytic - (at (p + h) - at (p - h)) / (2.0 * h)))
    |> Array.max
let agreement = [ for g in all -> sprintf "%-10s largest difference %.1e" (Activation.name g) (worst g) ]
(*** include-value: agreement ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/ActivationsPage.cs,key=act-agreement]
*)
(**
Softmax is the exception: each output depends on every input, so its derivative is a Jacobian per
sample, diag(p) − ppᵀ — see [softmax and cross-entropy](softmax-cross-entropy.html).
*)
