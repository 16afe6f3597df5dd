/// The parser: precedence, associativity, statements, and errors with line and column.
module Toolkit.Tests.ParseTests

open Expecto
open Toolkit.Graph

let private value text (pairs: (string * float) list) = (Eval.forward (Graph.ofExpr (Parse.program text)) (readOnlyDict pairs)).Value
let private error text =
    match Parse.tryProgram text with
    | Ok e -> failtestf "expected a parse error for %s, got %s" text (Print.text e)
    | Error msg -> msg

[<Tests>]
let tests =
    testList "parse" [
        test "precedence and associativity" {
            Expect.equal (value "-x^2" [ "x", 3.0 ]) -9.0 "-x^2 is −(x²)"
            Expect.equal (value "-2^2" []) -4.0 "-2^2 is −4"
            Expect.equal (value "2^3^2" []) 512.0 "^ is right-associative"
            Expect.equal (value "8 - 3 - 2" []) 3.0 "- is left-associative"
            Expect.equal (value "8 / 4 / 2" []) 1.0 "/ is left-associative"
            Expect.equal (value "2 + 3*4" []) 14.0 "* binds tighter"
            Expect.equal (value "2^-1" []) 0.5 "unary minus in an exponent"
            Expect.equal (value "(-2)^2" []) 4.0 "parenthesised base"
            Expect.equal (value "max(1, 2) + min(3, -4)" []) -2.0 "two-argument functions"
            Expect.equal (value "1.5e2 + .5" []) 150.5 "number formats"
            Expect.equal (value "exp(0) + log(1) + sqrt(4) + sigmoid(0) + tanh(0) + relu(-1) + abs(-2)" []) 5.5 "functions"
        }
        test "integer exponents are integer powers (defined for negative bases); real ones are real powers" {
            Expect.equal (value "x^3" [ "x", -2.0 ]) -8.0 "integer power of a negative"
            match Parse.program "x^2" with
            | Unary (UnaryOp.PowInt 2, _) -> ()
            | e -> failtestf "x^2 parsed as %A" e
            match Parse.program "x^2.5" with
            | Binary (BinaryOp.Pow, _, Const 2.5) -> ()
            | e -> failtestf "x^2.5 parsed as %A" e
        }
        test "statements name nodes, which are shared where used" {
            let e = Parse.program "u = b*c; v = a + u; J = 3*v + u"
            let g = Graph.ofExpr e
            let names = [ for i in 0 .. g.Count - 1 -> g.Name i ] |> List.choose id
            Expect.equal names [ "a"; "b"; "c"; "u"; "v"; "J" ] "each once"
            Expect.equal (Print.program e) "u = b * c; v = a + u; J = 3 * v + u" "printed back"
        }
        test "errors name the line, the column and what was expected" {
            Expect.equal (error "a +\n  * b") "line 2, column 3: expected a number, a name, a function call or '(' but found '*'" "operand missing"
            Expect.equal (error "3*(a+b") "line 1, column 7: expected ')' to close the '(' at line 1, column 3 but found the end of the input" "unclosed"
            Expect.equal (error "foo(x)") "line 1, column 1: unknown function 'foo' (known: abs, elu, exp, gelu, leakyrelu, log, phi, relu, sigmoid, sign, softplus, sqrt, step, tanh, max, min)" "unknown function"
            Expect.equal (error "max(x)") "line 1, column 1: max takes 2 arguments, not 1" "arity"
            Expect.equal (error "x $ y") "line 1, column 3: unexpected character '$'" "bad character"
            Expect.equal (error "") "line 1, column 1: expected an expression but the input is empty" "empty"
            Expect.equal (error "a b") "line 1, column 3: expected an operator, ';' or the end of the input but found the name 'b'" "two names"
            Expect.equal (error "u = 1; u = 2") "line 1, column 8: 'u' is already defined at line 1, column 1" "redefinition"
            Expect.equal (error "v = u + 1; u = 2") "line 1, column 12: 'u' is used as an input at line 1, column 5 before this definition" "use before definition"
        }
        test "deep nesting is an error, not a stack overflow" {
            let text = String.replicate 10_000 "(" + "x" + String.replicate 10_000 ")"
            Expect.stringContains (error text) "nested more than" "depth limit"
        }
        test "long flat sums parse without recursion" {
            let text = String.concat "+" (List.replicate 100_000 "x")
            Expect.equal (value text [ "x", 1.0 ]) 100_000.0 "sum"
        }
    ]
