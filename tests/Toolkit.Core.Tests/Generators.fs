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

/// <summary>True for an op whose value, derivative or derivative's slope jumps at 0, or whose
/// derivative is infinite there, measured rather than listed: step and sign, relu, abs, the leaky
/// ReLU, ELU's curvature, √x and ln x at the edge of their domain, negative powers. Every op of
/// the vocabulary with a kink or a pole has it at 0.</summary>
let kinkedAtZero (op: UnaryOp) =
    let f x = Rules.unary op x
    let d x = Rules.dUnary op x (f x)
    let e = 1e-7
    abs (f -e - f e) > 1e-4 || abs (d -e - d e) > 1e-4 || abs ((d e - d 0.0) - (d 0.0 - d -e)) / e > 1e-2
    || not (Double.IsFinite(d 0.0))

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
               | Unary (op, _) when kinkedAtZero op -> abs v.[a.[0]] > kinkMargin
               | Binary ((BinaryOp.Max | BinaryOp.Min), _, _) -> abs (v.[a.[0]] - v.[a.[1]]) > kinkMargin
               | _ -> true)
    with _ -> false

let private genValue = Gen.choose (-2000, 2000) |> Gen.map (fun i -> float i / 1000.0)
let private genPositive = Gen.choose (500, 2000) |> Gen.map (fun i -> float i / 1000.0)

/// <summary>Every one-argument op of the vocabulary, found from the union's own cases (no
/// hand-kept list): cases without fields as they are, an integer power at several exponents, a
/// real parameter (the leaky ReLU's slope) at several values. A new op is tested the moment it
/// is added.</summary>
let unaryOps : UnaryOp list =
    [ for case in Microsoft.FSharp.Reflection.FSharpType.GetUnionCases(typeof<UnaryOp>) do
        let fields = case.GetFields()
        let make (args: obj[]) = Microsoft.FSharp.Reflection.FSharpValue.MakeUnion(case, args) :?> UnaryOp
        match fields |> Array.map (fun f -> f.PropertyType) with
        | [||] -> yield make [||]
        | [| t |] when t = typeof<int> -> for n in [ 0; 1; 2; 3; -1; -2 ] -> make [| box n |]
        | [| t |] when t = typeof<float> -> for p in [ 0.01; 0.2; 1.5 ] -> make [| box p |]
        | ts -> failwithf "no values to test the fields %A of %s with" ts case.Name ]

/// One new node built from nodes already in the pool (so later nodes share earlier ones).
let private genNode (pool: Expr[]) (k: int) : Gen<Expr> =
    gen {
        let! a = Gen.elements pool
        let! b = Gen.elements pool
        let! c = genPositive
        let! kind = Gen.choose (0, 19)
        let! anyOp = Gen.elements unaryOps
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
            // any op of the vocabulary (enumerated below): a new op reaches every graph property
            | 17 | 18 -> Unary(anyOp, a)
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

/// <summary>Points where a one-argument op is differentiable: in [−5, 5], at least 0.05 from 0
/// (where every op with a kink has it) and where the op is finite on both sides (its domain).</summary>
let unaryDomain (op: UnaryOp) : Gen<float> =
    let h = 1e-3
    Gen.choose (-5000, 5000)
    |> Gen.map (fun i -> float i / 1000.0)
    |> Gen.filter (fun x -> abs x >= 0.05 && Double.IsFinite(Rules.unary op (x - h)) && Double.IsFinite(Rules.unary op (x + h)))

/// <summary>Every optimiser, found from the union's own cases (no hand-kept list), each field
/// given a value by its name; a new case whose field has a name not known here fails loudly.</summary>
let optimizers : Toolkit.Nn.Optimizer list =
    let valueOf (name: string) : obj =
        match name with
        | "learningRate" -> box 0.01
        | "momentum" -> box 0.9
        | "beta1" -> box 0.9
        | "beta2" -> box 0.999
        | "epsilon" -> box 1e-8
        | "rho" -> box 0.99
        | "weightDecay" -> box 0.1
        | "scale" -> box 1.0
        | "step" -> box 0.1
        | n -> failwithf "no test value for an optimiser's field '%s': add one to Generators.optimizers" n
    [ for case in Microsoft.FSharp.Reflection.FSharpType.GetUnionCases(typeof<Toolkit.Nn.Optimizer>) ->
        Microsoft.FSharp.Reflection.FSharpValue.MakeUnion(case, case.GetFields() |> Array.map (fun f -> valueOf f.Name)) :?> Toolkit.Nn.Optimizer ]
