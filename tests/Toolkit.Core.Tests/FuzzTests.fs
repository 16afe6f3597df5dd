/// Bad input: the cases found by hand first, then thousands of generated and mutated ones per
/// reader (TOOLKIT_FUZZ_CASES sets how many; `./build.sh fuzz` runs 10,000 each and writes the
/// figures into docs/reliability.md).
module Toolkit.Tests.FuzzTests

open System
open System.IO
open Expecto
open Toolkit.Graph
open Toolkit.Data
open Toolkit.Tests.Fuzz

let private problem (f: unit -> unit) =
    try f (); "accepted" with e -> sprintf "%s: %s" (e.GetType().Name) e.Message

let private valueAt (e: Expr) (env: (string * float) list) = (Eval.forward (Graph.ofExpr e) (readOnlyDict env)).Value

/// The figures of the last runs, for the fuzz target to write into the docs.
let private reports = Collections.Concurrent.ConcurrentDictionary<string, Report>()

let private check (r: Report) =
    reports.[r.Kind] <- r
    Expect.isEmpty r.Crashes (sprintf "%s: %d of %d cases crashed, e.g. %A" r.Kind r.Crashes.Length r.Cases (List.truncate 3 r.Crashes))
    // the generators must reach both sides, or they test little
    Expect.isGreaterThan r.Accepted (r.Cases / 50) (sprintf "%s: accepted cases" r.Kind)
    Expect.isGreaterThan r.Refused (r.Cases / 50) (sprintf "%s: refused cases" r.Kind)

[<Tests>]
let tests =
    testSequenced <| testList "bad input" [
        test "known cases: a let that uses itself or is never used, powers past int, huge and tiny coefficients" {
            Expect.stringContains (problem (fun () -> Parse.program "u = u + 1; u" |> ignore)) "'u' is used in its own definition" "self-reference"
            Expect.stringContains (problem (fun () -> Parse.program "a = 2*x; b = y; a" |> ignore)) "'b' is defined but never used" "unused statement"
            // the normal form gave up on nothing and overflowed: 1e308/(x·x) had the derivative 0
            let d = Symbolic.derivative (Parse.program "1e308/(x*x)") "x"
            Expect.floatClose Accuracy.high (valueAt d [ "x", 3.0 ]) (-2.0 * (1e308 / 27.0)) "d/dx 1e308/x² at 3 = −2e308/27"
            let tiny = Symbolic.derivative (Parse.program "1e-300 * (1e-300 * x*x)") "x"
            Expect.floatClose Accuracy.high (valueAt tiny [ "x", 1e300 ]) (2e-300) "no coefficient underflowed to 0"
            // −Int32.MinValue is Int32.MinValue: the power rule once recursed until the stack ran out
            let p = Unary(UnaryOp.PowInt Int32.MinValue, Var "x")
            Expect.equal (valueAt (Simplify.simplify p) [ "x", 2.0 ]) 0.0 "simplified, still 2^-2147483648 = 0"
            Expect.equal (valueAt (Symbolic.derivative p "x") [ "x", 2.0 ]) 0.0 "and differentiated"
            for text in [ "x^1e308"; "x^-2.0"; "x^(-2)"; "x^2147483648"; "(-x)^-3"; "leakyrelu(x, -0.5)" ] do
                let e = Parse.program text
                let back = Parse.program (Print.program e)
                for v in [ -2.0; 0.5; 3.0 ] do
                    let a, b = valueAt e [ "x", v ], valueAt back [ "x", v ]
                    Expect.isTrue (a = b || (Double.IsNaN a && Double.IsNaN b)) (sprintf "%s at %g: printed '%s' reads back to %g, not %g" text v (Print.program e) b a)
        }
        test "known cases: symbolic results of shared graphs stay linear in the graph" {
            // each printed in at most a few dozen characters per distinct node, where the plain
            // text of these derivatives runs to megabytes or more
            let chain = String.Join("; ", [| yield "a1 = x*x"; for k in 2 .. 205 -> sprintf "a%d = a%d*a%d" k (k - 1) (k - 1) |])
            let nested = Seq.fold (fun e _ -> sprintf "(%s)*(%s)" e e) "x" (seq { 1 .. 16 })
            for name, text in [ "205 squarings", chain; "x*x*…*x, 10⁴ factors", String.Join("*", Array.create 10000 "x")
                                "((x*x)*(x*x)) 16 levels", nested; "x+x+…+x, 3·10⁴ terms", String.Join("+", Array.create 30000 "x") ] do
                let e = Parse.program text
                let g = Graph.ofExpr e
                let f = Eval.forward g (readOnlyDict [ "x", 1.0 ])
                // the derivative names the graph's named nodes (a204): read back, they take their values
                let named = [ yield "x", 1.0; for i in 0 .. g.Count - 1 do match g.Name i with Some n -> yield n, f.Values.[i] | None -> () ]
                for _, d in Symbolic.gradient e do
                    let t = Print.compact 2000 d
                    Expect.isLessThan t.Length (100 * g.Count + 2000) (sprintf "%s: %d characters for %d nodes" name t.Length g.Count)
                    Expect.equal (valueAt (Parse.program t) named) (valueAt d [ "x", 1.0 ]) (sprintf "%s: the shared form reads back" name)
            // many inputs: derivatives simplified together, each node once
            let many = String.Join("*", Array.init 10000 (sprintf "x%d"))
            let grads = Symbolic.gradient (Parse.program many)
            Expect.equal grads.Length 10000 "a derivative per input"
        }
        test "known cases: model files with odd JSON types and values are refused with the field named" {
            let path = Path.Combine(Path.GetTempPath(), sprintf "toolkit-%O.json" (Guid.NewGuid()))
            try
                let good = modelSeeds.[0]
                let v1 = modelSeeds.[3]
                for text, says in [ good.Replace("\"version\":2", "\"version\":\"2\""), "the version must be a whole number"
                                    good.Replace("\"version\":2", "\"version\":1.5"), "the version must be a whole number"
                                    good.Replace("\"inputs\":3", "\"inputs\":-1"), "\"inputs\" must be a positive whole number"
                                    good.Replace("\"parameters\":[", "\"parameters\":[1e400,"), "not a finite number"
                                    good.Replace("\"parameters\":[", "\"parameters\":[true,"), "which is not a number"
                                    good.Replace("\"loss\":\"quadratic\"", "\"loss\":\"hinge:NaN\""), "unknown loss"
                                    v1.Replace("\"activation\":\"sigmoid\"", "\"activation\":null"), "\"activation\" is not a string"
                                    v1.Replace("\"weights\":[0.5,-0.25]", "\"weights\":null"), "\"weights\" is not an array"
                                    good.Replace("\"spec\":\"dense(4)\"", "\"spec\":\"dense(99999999)\""), "layer 1" ] do
                    File.WriteAllText(path, text)
                    Expect.stringContains (problem (fun () -> ModelFile.read path |> ignore)) says says
            finally File.Delete path
        }
        test "a save leaves no temporary file, and removes those of writers that were killed" {
            let dir = Path.Combine(Path.GetTempPath(), sprintf "toolkit-atomic-%O" (Guid.NewGuid()))
            Directory.CreateDirectory dir |> ignore
            try
                let path = Path.Combine(dir, "model.json")
                // a writer killed mid-save: its process has ended, its temporary file is left
                use p = Diagnostics.Process.Start("true")
                p.WaitForExit()
                let stale = Path.Combine(dir, sprintf ".model.json.%d.%s.tmp" p.Id (Guid.NewGuid().ToString "N"))
                File.WriteAllText(stale, "{ half a model")
                // a live writer's (this process's) is left alone
                let live = Path.Combine(dir, sprintf ".model.json.%d.%s.tmp" Environment.ProcessId (Guid.NewGuid().ToString "N"))
                File.WriteAllText(live, "{ being written")
                Toolkit.AtomicFile.writeAllText path "{}"
                Expect.equal (File.ReadAllText path) "{}" "written"
                Expect.isFalse (File.Exists stale) "the dead writer's temporary file is removed"
                Expect.isTrue (File.Exists live) "a live writer's is not"
            finally Directory.Delete(dir, true)
        }
        test "generated and mutated expressions through the whole grad pipeline" {
            check (expressions (caseCount 3000) 1)
        }
        test "mutated IDX files" {
            check (idx (caseCount 3000) 2)
        }
        test "generated and mutated CSV tables" {
            check (csv (caseCount 3000) 3)
        }
        test "mutated model files" {
            check (models (caseCount 3000) 4)
        }
        test "the figures, when asked for (TOOLKIT_FUZZ_REPORT)" {
            match Environment.GetEnvironmentVariable "TOOLKIT_FUZZ_REPORT" with
            | null | "" -> ()
            | path ->
                let rows = [ for k in reports.Keys |> Seq.sort -> reports.[k] ]
                let block =
                    sprintf "<!-- fuzz -->\n%s\n\nMeasured %s on %s (%d cores), .NET %s.\n<!-- /fuzz -->"
                        (table rows) (DateTime.UtcNow.ToString "yyyy-MM-dd") Environment.MachineName Environment.ProcessorCount (Environment.Version.ToString())
                let text = File.ReadAllText path
                let i, j = text.IndexOf "<!-- fuzz -->", text.IndexOf "<!-- /fuzz -->"
                Expect.isTrue (i >= 0 && j > i) "the page has the markers"
                Toolkit.AtomicFile.writeAllText path (text.Substring(0, i) + block + text.Substring(j + "<!-- /fuzz -->".Length))
        }
    ]
