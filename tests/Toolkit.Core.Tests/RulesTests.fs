/// Every derivative rule, numeric and symbolic, against central differences of its operation.
module Toolkit.Tests.RulesTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open Toolkit.Graph
open Toolkit.Tests.Generators

let private central (f: float -> float) (x: float) =
    let h = 1e-6 * max 1.0 (abs x)
    (f (x + h) - f (x - h)) / (2.0 * h)

let binaryOps = [ BinaryOp.Add; BinaryOp.Sub; BinaryOp.Mul; BinaryOp.Div; BinaryOp.Pow; BinaryOp.Max; BinaryOp.Min ]

let private pairDomain (op: BinaryOp) : Gen<float * float> =
    let v = Gen.choose (-4000, 4000) |> Gen.map (fun i -> float i / 1000.0)
    let pos = Gen.choose (100, 4000) |> Gen.map (fun i -> float i / 1000.0)
    match op with
    | BinaryOp.Div -> Gen.zip v (Gen.zip pos (Gen.elements [ 1.0; -1.0 ]) |> Gen.map (fun (a, s) -> a * s))
    | BinaryOp.Pow -> Gen.zip pos v
    | BinaryOp.Max | BinaryOp.Min -> Gen.zip v v |> Gen.filter (fun (x, y) -> abs (x - y) > 0.01)
    | _ -> Gen.zip v v

let private close what (expected: float) (actual: float) =
    let err = Numeric.relativeError expected actual
    if err > Tolerance.finiteDifference then
        failtestf "%s: expected %g, got %g (relative error %g)" what expected actual err

let private symbolicValue (e: Expr) env = (Eval.forward (Graph.ofExpr e) env).Value

[<Tests>]
let tests =
    testList "derivative rules" [
        for op in unaryOps do
            testPropertyWithConfig config (sprintf "d %A: rule = symbolic rule = central difference" op) <|
                Prop.forAll (Arb.fromGen (unaryDomain op)) (fun x ->
                    let z = Rules.unary op x
                    let rule = Rules.dUnary op x z
                    close "rule vs central difference" (central (Rules.unary op) x) rule
                    let vx = Expr.var "x"
                    let sym = Rules.dUnaryExpr op vx (Unary(op, vx))
                    close "symbolic rule vs rule" rule (symbolicValue sym (readOnlyDict [ "x", x ])))
        for op in binaryOps do
            testPropertyWithConfig config (sprintf "d %A: rules = symbolic rules = central differences" op) <|
                Prop.forAll (Arb.fromGen (pairDomain op)) (fun (x, y) ->
                    let z = Rules.binary op x y
                    let struct (dx, dy) = Rules.dBinary op x y z
                    close "∂/∂x vs central difference" (central (fun t -> Rules.binary op t y) x) dx
                    close "∂/∂y vs central difference" (central (fun t -> Rules.binary op x t) y) dy
                    let vx, vy = Expr.var "x", Expr.var "y"
                    let sx, sy = Rules.dBinaryExpr op vx vy (Binary(op, vx, vy))
                    let env = readOnlyDict [ "x", x; "y", y ]
                    close "symbolic ∂/∂x vs rule" dx (symbolicValue sx env)
                    close "symbolic ∂/∂y vs rule" dy (symbolicValue sy env))
        test "sigmoid is stable for large |x| and σ′ = σ(1 − σ)" {
            Expect.equal (Rules.sigmoid 1000.0) 1.0 "σ(1000)"
            Expect.equal (Rules.sigmoid -1000.0) 0.0 "σ(−1000), no overflow"
            let s = Rules.sigmoid 0.3
            Expect.equal (Rules.dUnary UnaryOp.Sigmoid 0.3 s) (s * (1.0 - s)) "σ′"
        }
        test "every op has one name, and the parser, the printer and the command line read it back" {
            for op in unaryOps do
                match op with
                | UnaryOp.Neg | UnaryOp.PowInt _ -> ()     // written as operators
                | _ ->
                    let e = Unary(op, Expr.var "x")
                    let text = Print.text e
                    Expect.stringStarts text (Rules.name op) (sprintf "%A prints by its name" op)
                    Expect.isTrue (Expr.structurallyEqual (Parse.program text) e) (sprintf "%A: '%s' parses back" op text)
                    Expect.isTrue (Rules.callable.ContainsKey(Rules.name op)) (sprintf "%A is callable by name" op)
        }
        test "sub-gradients at the kinks: relu′(0) = 0, |x|′(0) = 0, max/min ties go to the first argument" {
            Expect.equal (Rules.dUnary UnaryOp.Relu 0.0 0.0) 0.0 "relu"
            Expect.equal (Rules.dUnary UnaryOp.Abs 0.0 0.0) 0.0 "abs"
            Expect.equal (Rules.dBinary BinaryOp.Max 1.0 1.0 1.0) (struct (1.0, 0.0)) "max"
            Expect.equal (Rules.dBinary BinaryOp.Min 1.0 1.0 1.0) (struct (1.0, 0.0)) "min"
        }
    ]
