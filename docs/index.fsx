(**
---
title: Getting started
category: Overview
categoryindex: 1
index: 1
---
*)
(*** condition: prepare ***)
#r "nuget: MathNet.Numerics, 5.0.0"
#r "nuget: System.Numerics.Tensors, 10.0.12"
#r "../src/Toolkit.Core/bin/Release/net10.0/Toolkit.Core.dll"
(**
# Toolkit

Toolkit is a .NET toolkit for differentiable computation and backpropagation, with an F# core
and a C# facade. It computes what the notes teach, exactly and visibly: a computation graph with
a forward value and a backward `dvar` at every node, symbolic derivatives, numerical gradients
and gradient checks, the matrix rules of dense layers on OpenBLAS, and networks trained on
Fashion-MNIST.

## Install and run

On a Debian machine with the .NET 10 SDK, from a clone of the repository:

    ./build.sh run     # set-up, build, the notes' graph through `toolkit grad`, then `toolkit train`
    ./build.sh test    # set-up, build, docs, and every test

## A first graph

The notes split J(a, b, c) = 3(a + bc) into u = bc, v = a + u, J = 3v. Write it the same way:
*)
open Toolkit.Graph

let J = Parse.program "u = b*c; v = a + u; J = 3*v"
let point = readOnlyDict [ "a", 5.0; "b", 3.0; "c", 2.0 ]
let passes = Eval.backward (Eval.forward (Graph.ofExpr J) point)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/ScalarTests.cs,key=backward]
*)

(** The value and the dvar of every variable: *)
(*** include-value: passes.Value ***)
(*** include-value: passes.Gradient ***)
(**
and the symbolic partials, each a new expression:
*)
let partials = Symbolic.gradient J |> Array.map (fun (x, d) -> sprintf "dJ/d%s = %s" x (Print.text d))
(*** include-value: partials ***)
(**
    [lang=csharp,file=../tests/Toolkit.Tests/Docs/IndexPage.cs,key=first-partials]

Each piece of code on these pages has a C# tab beside its F# one: the C# is quoted from the
test project (`tests/Toolkit.Tests/Docs/`), which runs with every build and checks the numbers
the F# prints. The choice of language holds across the pages.

## Where to go next

- [The computation graph](computation-graph.html): forward values, dvars, the picture, symbolic
  partials, gradient checks; [the chain rule with several paths](chain-rule.html);
  [numerical gradients and gradient checking](gradient-checking.html).
- [Logistic regression three ways](logistic-regression.html): loops, one loop, vectorized, and the
  matrix graph, on Fashion-MNIST.
- [Dense layers and the four equations](networks.html), [activations](activations.html),
  [softmax and cross-entropy](softmax-cross-entropy.html), [the hinge loss](hinge-loss.html),
  [from random search to Adam](optimisers.html), [loss landscapes](loss-landscapes.html),
  [the digit network](digit-network.html).
- [Getting Toolkit](getting.html): the packages, the tool, from source.
- [Using Toolkit from C#](csharp.html).
- [Networks to and from ONNX](onnx.html): a trained network in ONNX Runtime, PyTorch and every
  other ONNX reader; a PyTorch network in, to train further.
- [Your own data, runs that stop](data.html): CSV tables, images of any size, real-valued
  targets, checkpoints that resume bit for bit.
- [Keeping and comparing runs](runs.html): every training run in a SQLite run store, listed,
  compared and plotted by `toolkit runs`, from C# through `Trainer.Runs`.
- [Beyond one machine](distributed.html): data-parallel training under `mpiexec`, measured, and a
  cost model of what it would give on 8 to 64 nodes.
- [Performance](performance.html): every benchmark beside its reference, with how to reproduce it.
- [Reliability under bad input](reliability.html): every reader under generated and mutated
  cases, and what they found.
- [Adding an op, a layer, an optimiser](extending.html): where each concept is defined once, and
  the files a new one touches.
*)
