/// FsCheck generators: random computation graphs with shared nodes, at points inside their
/// domain and away from kinks, shrinking to smaller graphs.
module Toolkit.Tests.Generators

open System
open System.Collections.Generic
open FsCheck
open FsCheck.FSharp
open Toolkit.Graph

/// Tolerances, named: relative errors scaled to magnitude (Numeric.relativeError).
module Tolerance =
    /// Two exact methods (reverse, forward, symbolic) agree to rounding.
    let exact = 1e-9
    /// An exact method against central differences (truncation h² and rounding ε/h).
    let finiteDifference = 1e-5

/// A graph and a point to evaluate it at.
[<StructuredFormatDisplay("{Show}")>]
type Case =
    { Expr: Expr
      Env: IReadOnlyDictionary<string, float> }
    member c.Show =
        let env = String.Join(", ", c.Env |> Seq.map (fun kv -> sprintf "%s=%s" kv.Key (Print.number kv.Value)))
        sprintf "%s  at  %s" (Print.program c.Expr) env
    override c.ToString() = c.Show

/// Kink margin: points this close to a ReLU/abs/max/min corner are not used.
let kinkMargin = 1e-2

/// True when every value is finite and moderate and no kinked node sits near its corner.
let wellConditioned (c: Case) =
    try
        let f = Eval.forward (Graph.ofExpr c.Expr) c.Env
        let g = f.Graph
        let v = f.Values
        let okValue = v |> Array.forall (fun x -> Double.IsFinite x && abs x < 1e4)
        okValue
        && seq { 0 .. g.Count - 1 }
           |> Seq.forall (fun i ->
               let a = g.Args i
               match g.Node i with
               | Unary ((UnaryOp.Relu | UnaryOp.Abs | UnaryOp.Step | UnaryOp.Sign), _) -> abs v.[a.[0]] > kinkMargin
               | Binary ((BinaryOp.Max | BinaryOp.Min), _, _) -> abs (v.[a.[0]] - v.[a.[1]]) > kinkMargin
               | _ -> true)
    with _ -> false

let private genValue = Gen.choose (-2000, 2000) |> Gen.map (fun i -> float i / 1000.0)
let private genPositive = Gen.choose (500, 2000) |> Gen.map (fun i -> float i / 1000.0)

/// One new node built from nodes already in the pool (so later nodes share earlier ones).
let private genNode (pool: Expr[]) (k: int) : Gen<Expr> =
    gen {
        let! a = Gen.elements pool
        let! b = Gen.elements pool
        let! c = genPositive
        let! kind = Gen.choose (0, 17)
        let! n = Gen.choose (-2, 4)
        let node =
            match kind with
            | 0 | 1 -> a + b
            | 2 -> a - b
            | 3 | 4 -> a * b
            | 5 -> a / (b * b + c)
            | 6 -> if n < 0 then Expr.powInt n (a * a + c) else Expr.powInt n a
            | 7 -> Expr.pow (Expr.sigmoid a + 0.5) b
            | 8 -> Expr.exp (Expr.tanh a)
            | 9 -> Expr.log (a * a + c)
            | 10 -> Expr.sqrt (a * a + c)
            | 11 -> Expr.sigmoid a
            | 12 -> Expr.tanh a
            | 13 -> Expr.relu a
            | 14 -> Expr.abs a
            | 15 -> Expr.max a b
            | 16 -> Expr.min a b
            | _ -> -a
        let! name = Gen.frequency [ 3, Gen.constant false; 1, Gen.constant true ]
        return if name then Expr.named (sprintf "n%d" k) node else node
    }

/// A random graph over 1–3 variables with 1–10 operations, and a point.
let genCase : Gen<Case> =
    gen {
        let! nVars = Gen.choose (1, 3)
        let vars = [| "x"; "y"; "z" |].[.. nVars - 1]
        let! values = Gen.arrayOfLength nVars genValue
        let! nOps = Gen.choose (1, 10)
        let! constant = genValue
        let rec grow (pool: Expr[]) k =
            if k > nOps then Gen.constant pool
            else genNode pool k |> Gen.bind (fun node -> grow (Array.append pool [| node |]) (k + 1))
        let! pool = grow (Array.append (vars |> Array.map Expr.var) [| Const constant |]) 1
        // the output also uses an earlier node, so paths fan out and in
        let! extra = Gen.elements pool
        let! join = Gen.choose (0, 2)
        let last = pool.[pool.Length - 1]
        let output = match join with 0 -> last | 1 -> last + extra | _ -> last * Expr.tanh extra
        return { Expr = output; Env = readOnlyDict (Array.zip vars values) }
    }
    |> Gen.filter wellConditioned

/// Smaller cases: every operation node of the graph taken as the output, same point.
let shrinkCase (c: Case) : seq<Case> =
    let g = Graph.ofExpr c.Expr
    seq {
        for i in 0 .. g.Output - 1 do
            match g.Node i with
            | Unary _ | Binary _ -> yield { c with Expr = g.Source i }
            | _ -> ()
    }
    |> Seq.filter wellConditioned

/// The arbitraries registered with FsCheck for these tests.
type Arbitraries =
    static member Case() : Arbitrary<Case> = Arb.fromGenShrink (genCase, shrinkCase)

/// The FsCheck configuration used by the property tests.
let config =
    { Expecto.FsCheckConfig.defaultConfig with
        arbitrary = [ typeof<Arbitraries> ]
        maxTest = 300 }
