/// Runs every test; the last line of output is "N passed, N failed" for CI.
module Toolkit.Tests.Main

open System
open Expecto
open Expecto.Impl

[<EntryPoint>]
let main argv =
    let mutable passed = 0
    let mutable failed = 0
    let record (s: TestRunSummary) =
        passed <- s.passed.Length
        failed <- s.failed.Length + s.errored.Length
    let code = runTestsInAssemblyWithCLIArgs [ CLIArguments.Append_Summary_Handler(SummaryHandler record) ] argv
    // Expecto wraps Console.Out; write the closing line to the raw stream so it stands alone
    use stdout = Console.OpenStandardOutput()
    let line = Text.Encoding.UTF8.GetBytes(sprintf "\n%d passed, %d failed\n" passed failed)
    stdout.Write(line, 0, line.Length)
    code
