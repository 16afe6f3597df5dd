/// Checks on the repository itself.
module Toolkit.Tests.RepoTests

open System
open System.Diagnostics
open System.IO
open Expecto

let private repoRoot () =
    let rec up (d: DirectoryInfo) =
        if isNull d then None
        elif File.Exists(Path.Combine(d.FullName, "Toolkit.sln")) then Some d.FullName
        else up d.Parent
    up (DirectoryInfo(AppContext.BaseDirectory))

[<Tests>]
let tests =
    testList "repository" [
        test "no tracked file holds a package feed address (paket.lock keeps %NUGET_SOURCE%)" {
            match repoRoot () with
            | None -> failtest "repository root not found"
            | Some root ->
                let psi = ProcessStartInfo("git", "ls-files", WorkingDirectory = root, RedirectStandardOutput = true)
                use p = Process.Start psi
                let files = p.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries)
                p.WaitForExit()
                Expect.isGreaterThan files.Length 10 "git lists the tracked files"
                let pattern = Text.RegularExpressions.Regex(@"https?://[^ ]*(nuget|npmjs|debian\.org|pypi)")
                let leaks =
                    files
                    |> Array.filter (fun f -> not (f.EndsWith ".md") && File.Exists(Path.Combine(root, f)))
                    |> Array.filter (fun f -> pattern.IsMatch(File.ReadAllText(Path.Combine(root, f))))
                Expect.isEmpty leaks "files with a feed address"
                let lock = File.ReadAllText(Path.Combine(root, "paket.lock"))
                Expect.stringContains lock "remote: %NUGET_SOURCE%" "paket.lock"
        }
    ]
