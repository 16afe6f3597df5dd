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
        test "the packages: from a folder of them alone, a C# console and an F# script use the library and the installed tool runs" {
            match repoRoot () with
            | None -> failtest "repository root not found"
            | Some root ->
                // a version of its own, so that no package cached by an earlier run stands in
                let version = sprintf "0.1.0-test.%d" DateTime.UtcNow.Ticks
                let work = Path.Combine(Path.GetTempPath(), sprintf "toolkit-packages-%O" (Guid.NewGuid()))
                let packages = Path.Combine(work, "packages")
                let run (dir: string) (file: string) (args: string) =
                    let psi = ProcessStartInfo(file, args, WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true)
                    use p = Process.Start psi
                    let out = p.StandardOutput.ReadToEndAsync()
                    let err = p.StandardError.ReadToEnd()
                    p.WaitForExit()
                    p.ExitCode, out.Result + err
                let expectRun dir file args =
                    let code, output = run dir file args
                    Expect.equal code 0 (sprintf "%s %s:\n%s" file args output)
                    output
                try
                    Directory.CreateDirectory work |> ignore
                    expectRun root "dotnet" (sprintf "pack Toolkit.sln -c Release --no-build --nologo -o \"%s\" -p:Version=%s" packages version) |> ignore
                    let made = Directory.GetFiles(packages, "*.nupkg") |> Array.map Path.GetFileName |> Array.sort
                    Expect.equal made ([| "Toolkit"; "Toolkit.Cli"; "Toolkit.Core"; "Toolkit.Onnx"; "Toolkit.Onnx.Schema"; "Toolkit.Plot"; "Toolkit.Runs" |] |> Array.map (fun id -> sprintf "%s.%s.nupkg" id version) |> Array.sort)
                        "the packages, ids apart (tests and benchmarks are not packed)"
                    // the consumer sees the folder beside the machine's own feed (for the dependencies)
                    File.WriteAllText(Path.Combine(work, "nuget.config"),
                                      sprintf "<configuration><packageSources><add key=\"toolkit\" value=\"%s\" /></packageSources></configuration>" packages)
                    // (a) a C# console using the facade
                    let app = Path.Combine(work, "app")
                    Directory.CreateDirectory app |> ignore
                    File.WriteAllText(Path.Combine(app, "app.csproj"),
                                      sprintf "<Project Sdk=\"Microsoft.NET.Sdk\"><PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><ImplicitUsings>enable</ImplicitUsings></PropertyGroup><ItemGroup><PackageReference Include=\"Toolkit\" Version=\"%s\" /></ItemGroup></Project>" version)
                    // the program the "Getting Toolkit" page shows
                    File.Copy(Path.Combine(root, "tests", "Toolkit.Tests", "Docs", "Console", "Program.cs"), Path.Combine(app, "Program.cs"))
                    Expect.stringContains (expectRun app "dotnet" "run") "J = 33, dJ/db = 6, 3 * c" "the C# console"
                    // (b) an F# script taking Toolkit.Core from the folder
                    File.WriteAllText(Path.Combine(work, "use.fsx"),
                                      sprintf "#i \"nuget: %s\"\n#r \"nuget: Toolkit.Core, %s\"\nopen Toolkit.Graph\nlet b = Eval.backward (Eval.forward (Graph.ofExpr (Parse.program \"u = b*c; v = a + u; J = 3*v\")) (readOnlyDict [ \"a\", 5.0; \"b\", 3.0; \"c\", 2.0 ]))\nprintfn \"J = %%g, dJ/db = %%g\" b.Value (b.Dvar \"b\")\n" packages version)
                    Expect.stringContains (expectRun work "dotnet" "fsi --quiet use.fsx") "J = 33, dJ/db = 6" "the F# script"
                    // (c) the tool, installed from the folder
                    let tools = Path.Combine(work, "tools")
                    expectRun work "dotnet" (sprintf "tool install --tool-path \"%s\" --add-source \"%s\" Toolkit.Cli --version %s" tools packages version) |> ignore
                    Expect.stringContains (expectRun work (Path.Combine(tools, "toolkit")) "grad 3*(a+b*c) --at a=5,b=3,c=2") "value: 33" "the tool"
                finally
                    if Directory.Exists work then Directory.Delete(work, true)
                    // the test's own versions out of the package cache
                    let cache = Path.Combine(Environment.GetFolderPath Environment.SpecialFolder.UserProfile, ".nuget", "packages")
                    for id in [ "toolkit"; "toolkit.core"; "toolkit.plot"; "toolkit.cli" ] do
                        let d = Path.Combine(cache, id, version)
                        if Directory.Exists d then Directory.Delete(d, true)
        }
        test "a plain dotnet build finds the feed itself: without NUGET_SOURCE, Paket is given the machine's first enabled source" {
            match repoRoot () with
            | None -> failtest "repository root not found"
            | Some root ->
                let run (args: string) =
                    let psi = ProcessStartInfo("dotnet", args, WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true)
                    psi.Environment.Remove "NUGET_SOURCE" |> ignore
                    use p = Process.Start psi
                    let out = p.StandardOutput.ReadToEnd()
                    p.StandardError.ReadToEnd() |> ignore
                    p.WaitForExit()
                    out.Trim()
                let first =
                    run "nuget list source --format short"
                    |> fun t -> t.Split('\n') |> Array.map (fun l -> l.Trim()) |> Array.find (fun l -> l.StartsWith "E ")
                    |> fun l -> l.Substring(2).Trim()
                let command = run "msbuild src/Toolkit.Core/Toolkit.Core.fsproj -t:SetPaketCommand -getProperty:PaketCommand"
                Expect.equal command (sprintf "env NUGET_SOURCE=%s dotnet paket" first) "Paket's command carries the feed"
        }
    ]
