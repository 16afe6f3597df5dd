/// The notes' worked numbers, exactly.
module Toolkit.Tests.WorkedExamples

open Expecto
open Toolkit.Graph

let at (pairs: (string * float) list) = readOnlyDict pairs

let private run text env =
    let e = Parse.program text
    let g = Graph.ofExpr e
    e, g, Eval.backward (Eval.forward g env)

let private valueOf (g: Graph) (b: Backward) name =
    let i = seq { 0 .. g.Count - 1 } |> Seq.find (fun i -> g.Name i = Some name)
    b.Forward.Values.[i], b.Dvars.[i]

[<Tests>]
let tests =
    testList "worked examples from the notes" [
        test "J = 3(a + bc) at a=5, b=3, c=2: u=6, v=11, J=33; dv=3, du=3, da=3, db=6, dc=9" {
            let _, g, b = run "u = b*c; v = a + u; J = 3*v" (at [ "a", 5.0; "b", 3.0; "c", 2.0 ])
            Expect.equal b.Value 33.0 "J"
            Expect.equal (valueOf g b "u") (6.0, 3.0) "u and du"
            Expect.equal (valueOf g b "v") (11.0, 3.0) "v and dv"
            Expect.equal (valueOf g b "J") (33.0, 1.0) "J and dJ"
            Expect.equal (b.Dvar "a") 3.0 "da"
            Expect.equal (b.Dvar "b") 6.0 "db"
            Expect.equal (b.Dvar "c") 9.0 "dc"
        }
        test "the notes' nudge: J(a + 0.001) − J(a) ≈ 0.003, so dJ/da = 3" {
            let g = Graph.ofExpr (Parse.program "3*(a + b*c)")
            let d = Numeric.forwardDifference g (at [ "a", 5.0; "b", 3.0; "c", 2.0 ]) "a" 0.001
            Expect.floatClose Accuracy.medium d 3.0 "forward difference"
        }
        test "f = (x + y)·z at (−2, 5, −4): q = 3, f = −12, dx = dy = −4, dz = 3, dq = −4" {
            let _, g, b = run "q = x + y; f = q*z" (at [ "x", -2.0; "y", 5.0; "z", -4.0 ])
            Expect.equal b.Value -12.0 "f"
            Expect.equal (valueOf g b "q") (3.0, -4.0) "q and dq"
            Expect.equal (b.Dvar "x") -4.0 "dx"
            Expect.equal (b.Dvar "y") -4.0 "dy"
            Expect.equal (b.Dvar "z") 3.0 "dz"
        }
        test "sigmoid neuron w = [2, −3, −3], x = [−1, −2]: f ≈ 0.7311, dx ≈ [0.393, −0.590], dw ≈ [−0.197, −0.393, 0.197]" {
            let _, _, b = run "f = sigmoid(w0*x0 + w1*x1 + w2)" (at [ "w0", 2.0; "w1", -3.0; "w2", -3.0; "x0", -1.0; "x1", -2.0 ])
            let near3 expected actual what = Expect.isLessThan (abs (actual - expected)) 5e-4 what
            near3 0.7311 b.Value "f"
            near3 0.393 (b.Dvar "x0") "dx0"
            near3 -0.590 (b.Dvar "x1") "dx1"
            near3 -0.197 (b.Dvar "w0") "dw0"
            near3 -0.393 (b.Dvar "w1") "dw1"
            near3 0.197 (b.Dvar "w2") "dw2"
            // and exactly: local gradient (1 − f)·f times the inputs
            let f = 1.0 / (1.0 + exp -1.0)
            Expect.floatClose Accuracy.veryHigh (b.Dvar "w0") (-1.0 * f * (1.0 - f)) "dw0 = x0·f(1−f)"
            Expect.floatClose Accuracy.veryHigh (b.Dvar "x1") (-3.0 * f * (1.0 - f)) "dx1 = w1·f(1−f)"
        }
        test "logistic loss: dL/dz prints as a - y, and dL/dz = a − y numerically" {
            let e = Parse.program "a = sigmoid(z); L = -(y*log(a) + (1-y)*log(1-a))"
            Expect.equal (Print.text (Symbolic.derivative e "z")) "a - y" "symbolic"
            Expect.equal (Print.inlineText (Symbolic.derivative e "z")) "sigmoid(z) - y" "written out"
            let b = Eval.backward (Eval.forward (Graph.ofExpr e) (at [ "z", 0.3; "y", 1.0 ]))
            Expect.floatClose Accuracy.veryHigh (b.Dvar "z") (Rules.sigmoid 0.3 - 1.0) "dz = a − y"
        }
        test "logistic loss without names: dL/dz prints as sigmoid(z) - y" {
            let e = Parse.program "-(y*log(sigmoid(z)) + (1-y)*log(1-sigmoid(z)))"
            Expect.equal (Print.text (Symbolic.derivative e "z")) "sigmoid(z) - y" "symbolic"
        }
        test "dJ/db = 3c, dJ/dc = 3b, dJ/da = 3" {
            let e = Parse.program "3*(a + b*c)"
            Expect.equal (Print.text (Symbolic.derivative e "b")) "3 * c" "db"
            Expect.equal (Print.latex (Symbolic.derivative e "b")) "3 c" "db in LaTeX"
            Expect.equal (Print.text (Symbolic.derivative e "c")) "3 * b" "dc"
            Expect.equal (Print.text (Symbolic.derivative e "a")) "3" "da"
        }
        test "the notes' derivatives by nudging: f(a) = 3a has slope 3, f(a) = a² has slope 2a" {
            let g1 = Graph.ofExpr (Parse.program "3*a")
            let g2 = Graph.ofExpr (Parse.program "a^2")
            Expect.floatClose Accuracy.high (Numeric.forwardDifference g1 (at [ "a", 2.0 ]) "a" 0.001) 3.0 "3a"
            // the forward difference is off by h: (a+h)² − a² over h = 2a + h
            Expect.floatClose Accuracy.high (Numeric.forwardDifference g2 (at [ "a", 2.0 ]) "a" 0.001) 4.001 "a², forward"
            Expect.floatClose Accuracy.high (Numeric.centralDifference g2 (at [ "a", 2.0 ]) "a" 0.001) 4.0 "a², central"
            Expect.equal (Print.text (Symbolic.derivative (Parse.program "a^2") "a")) "2 * a" "symbolic"
        }
    ]
