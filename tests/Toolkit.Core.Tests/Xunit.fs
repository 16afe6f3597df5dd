/// The Expecto tests as xunit tests, so that `dotnet test` (and an IDE's test explorer) finds and
/// runs every one of them: one theory case per Expecto test, by its full name, run by Expecto's
/// own runner. (The usual adapter for Expecto, YoloDev.Expecto.TestSdk, is not served here;
/// xunit is, and .NET users know it.) `./build.sh test` runs them through Expecto directly.
module Toolkit.Tests.Xunit

open System.Reflection
open Expecto
open Expecto.Impl

/// Every Expecto test of this assembly, flattened, by full name.
let private flat =
    lazy
        match testFromAssembly (Assembly.GetExecutingAssembly()) with
        | Some t -> Test.toTestCodeList t |> List.map (fun f -> String.concat "." f.name, f) |> dict
        | None -> dict []

/// The Expecto tests, seen by xunit.
type ExpectoTests() =

    /// The full name of every Expecto test: one theory case each.
    static member Names : obj[] seq = flat.Value.Keys |> Seq.sort |> Seq.map (fun n -> [| box n |])

    /// Runs one Expecto test (sequenced tests keep their order within their list: xunit runs the
    /// cases of one theory one after another).
    [<Xunit.Theory>]
    [<Xunit.MemberData("Names")>]
    member _.Run(name: string) =
        let f = flat.Value.[name]
        // None: no result yet; Some "": passed; Some message: failed
        let mutable outcome : string option = None
        let record (s: TestRunSummary) =
            outcome <-
                match s.failed @ s.errored with
                | [] -> Some ""
                | (_, summary) :: _ -> Some(sprintf "%A" summary.result)
        let test = TestLabel(name, TestCase(f.test, f.state), f.state)
        runTestsWithCLIArgs [ CLIArguments.Append_Summary_Handler(SummaryHandler record); CLIArguments.Colours 0 ] [||] test |> ignore
        match outcome with
        | Some "" -> ()
        | Some message -> Xunit.Assert.Fail(sprintf "%s: %s" name message)
        | None -> Xunit.Assert.Fail(sprintf "%s: Expecto reported no result" name)
