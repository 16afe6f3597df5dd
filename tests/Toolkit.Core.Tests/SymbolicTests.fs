/// Symbolic derivatives and simplification on hand-picked expressions.
module Toolkit.Tests.SymbolicTests

open Expecto
open Toolkit.Graph

let private d text var = Print.text (Symbolic.derivative (Parse.program text) var)
let private simp text = Print.text (Simplify.simplify (Parse.program text))

[<Tests>]
let tests =
    testList "symbolic" [
        test "table of derivatives, printed" {
            Expect.equal (d "x^3" "x") "3 * x^2" "power"
            Expect.equal (d "exp(x)" "x") "exp(x)" "exp"
            Expect.equal (d "log(x)" "x") "1 / x" "log"
            Expect.equal (d "sigmoid(x)" "x") "sigmoid(x) * (1 - sigmoid(x))" "σ′ = σ(1 − σ)"
            Expect.equal (d "s = sigmoid(x); s" "x") "s * (1 - s)" "named σ"
            Expect.equal (d "a = sigmoid(w1*x1 + b); L = -(y*log(a) + (1-y)*log(1-a))" "w1") "x1 * (a - y)" "dw1 = x1·dz, as the notes write it"
            Expect.equal (d "tanh(x)" "x") "1 - tanh(x)^2" "tanh"
            Expect.equal (d "relu(x)" "x") "step(x)" "relu"
            Expect.equal (d "abs(x)" "x") "sign(x)" "abs"
            Expect.equal (d "x*y" "z") "0" "not used"
            Expect.equal (d "x/y" "y") "-x / y^2" "quotient"
        }
        test "LaTeX" {
            Expect.equal (Print.latex (Parse.program "sigmoid(z) - y/x^2 + sqrt(w1)")) "\\sigma\\left(z\\right) - \\frac{y}{x^{2}} + \\sqrt{w_{1}}" "latex"
        }
        test "simplification: constants fold, identities vanish, like terms collect" {
            Expect.equal (simp "0 + x*1") "x" "identities"
            Expect.equal (simp "2*3 + x - x") "6" "fold and cancel"
            Expect.equal (simp "x*x/x") "x" "cancel a factor"
            Expect.equal (simp "(x + 1)*(x - 1) - x^2") "-1" "expand"
            Expect.equal (simp "a/(1-a) * (1-a)") "a" "cancel a sum factor"
        }
        test "named intermediates are atoms: never expanded by simplification" {
            Expect.equal (simp "u = b*c; 2*u - u") "u" "u stays u"
        }
        test "a huge polynomial falls back to the identities, no blow-up" {
            let s = simp "(x + y + z + w + 1)^12"
            Expect.stringContains s "^12" "kept as a power"
        }
    ]
