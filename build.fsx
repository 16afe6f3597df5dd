// The build: a small target table, no packages. Run through ./build.sh <target>.
//   setup    apt packages the project needs, .NET tools, NuGet packages (Paket)
//   build    the solution in Release
//   docs     the fsdocs site (pages evaluated; a failing page fails the build)
//   test     build, docs, every test (F# Expecto + FsCheck, C# xunit); last line "N passed, N failed"
//   run      the main job: the notes' graph through `toolkit grad`, then `toolkit train`
//   bench    the benchmarks (scalar graph vs micrograd-style Python; logistic regression,
//            OpenBLAS vs managed, GEMM vs C), written into docs/performance.md
//   clean    remove build output

open System
open System.Diagnostics
open System.IO
open System.Text.RegularExpressions

let root = __SOURCE_DIRECTORY__

let run (dir: string) (file: string) (args: string) : int * string =
    let psi = ProcessStartInfo(file, args, WorkingDirectory = dir, RedirectStandardOutput = true, UseShellExecute = false)
    use p = new Process(StartInfo = psi)
    let out = Text.StringBuilder()
    p.OutputDataReceived.Add(fun e -> if not (isNull e.Data) then (Console.WriteLine e.Data; out.AppendLine e.Data |> ignore))
    p.Start() |> ignore
    p.BeginOutputReadLine()
    p.WaitForExit()
    p.ExitCode, out.ToString()

let exec file args =
    let code, _ = run root file args
    if code <> 0 then failwithf "'%s %s' failed with exit code %d" file args code

// ---- targets ------------------------------------------------------------------------------

/// Debian packages: OpenBLAS for the matrix products, Fashion-MNIST for the real-data runs,
/// python3 for the benchmarks' reference engines, python3-torch as the independent oracle the
/// tests compare gradients with, chromium for the tests that open the charts and the site in a
/// real (headless) browser.
let aptPackages = [ "libopenblas0-pthread"; "dataset-fashion-mnist"; "python3"; "python3-numpy"; "python3-torch"; "chromium" ]

let setup () =
    let missing =
        aptPackages |> List.filter (fun p -> fst (run root "sh" (sprintf "-c \"dpkg -s %s >/dev/null 2>&1\"" p)) <> 0)
    if not missing.IsEmpty then
        if Environment.UserName <> "root" then
            failwithf "missing Debian packages %A: run `sudo apt-get install -y %s`" missing (String.Join(" ", missing))
        exec "apt-get" "update -qq"
        exec "apt-get" (sprintf "-o DPkg::Lock::Timeout=300 install -y -qq %s" (String.Join(" ", missing)))
    exec "dotnet" "tool restore"
    exec "dotnet" "paket restore"

let build () = exec "dotnet" "build Toolkit.sln -c Release --nologo -v q"

let docs () =
    let cache = Path.Combine(root, ".fsdocs")
    if Directory.Exists cache then Directory.Delete(cache, true)
    exec "dotnet" "fsdocs build --eval --strict --clean --properties Configuration=Release"

let test () =
    let fcode, fout = run root "dotnet" "run --project tests/Toolkit.Core.Tests -c Release --no-build -- --colours 0"
    let ccode, cout = run root "dotnet" "test tests/Toolkit.Tests -c Release --no-build --nologo"
    let count (pattern: string) (text: string) =
        let m = Regex.Matches(text, pattern)
        if m.Count = 0 then None else Some(int m.[m.Count - 1].Groups.[1].Value)
    let fPassed = count @"(?m)^(\d+) passed, \d+ failed" fout
    let fFailed = count @"(?m)^\d+ passed, (\d+) failed" fout
    let cPassed = count @"Passed:\s+(\d+)" cout
    let cFailed = count @"Failed:\s+(\d+)" cout
    let passed = defaultArg fPassed 0 + defaultArg cPassed 0
    // a runner that printed no count has failed as a whole: count it as one failure
    let failed =
        defaultArg fFailed (if fcode <> 0 then 1 else 0) + defaultArg cFailed (if ccode <> 0 then 1 else 0)
    let failed = if (fcode <> 0 || ccode <> 0) && failed = 0 then 1 else failed
    printfn ""
    printfn "F# tests (Expecto + FsCheck): %s; C# tests (xunit, through the facade): %s"
        (match fPassed with Some p -> sprintf "%d passed" p | None -> "no count")
        (match cPassed with Some p -> sprintf "%d passed" p | None -> "no count")
    printfn "%d passed, %d failed" passed failed
    if failed > 0 then exit 1

let toolkit args = exec "dotnet" ("src/Toolkit.Cli/bin/Release/net10.0/toolkit.dll " + args)

let runMain () =
    // the notes' computation graph, then the notes' 784-30-10 network on Fashion-MNIST
    toolkit "grad \"u = b*c; v = a + u; J = 3*v\" --at a=5,b=3,c=2 --explain --check"
    toolkit "train --epochs 1"

let bench () = exec "bash" "scripts/bench.sh"

/// The packages into nupkgs/: Toolkit.Core, Toolkit (the C# facade), Toolkit.Plot, and the
/// command line as the .NET tool Toolkit.Cli.
let pack () = exec "dotnet" "pack Toolkit.sln -c Release --no-build --nologo -o nupkgs"

/// The readers under 10,000 generated and mutated cases each; the figures go into docs/reliability.md.
let fuzz () =
    Environment.SetEnvironmentVariable("TOOLKIT_FUZZ_CASES", "10000")
    Environment.SetEnvironmentVariable("TOOLKIT_FUZZ_REPORT", Path.Combine(root, "docs", "reliability.md"))
    exec "dotnet" "run --project tests/Toolkit.Core.Tests -c Release --no-build -- --colours 0 --filter \"bad input\""

let clean () =
    for d in Directory.GetDirectories(Path.Combine(root, "src")) |> Array.append (Directory.GetDirectories(Path.Combine(root, "tests"))) do
        for sub in [ "bin"; "obj" ] do
            let p = Path.Combine(d, sub)
            if Directory.Exists p then Directory.Delete(p, true)
    for d in [ "output"; ".fsdocs" ] do
        let p = Path.Combine(root, d)
        if Directory.Exists p then Directory.Delete(p, true)

/// name → (dependencies, action)
let targets : (string * (string list * (unit -> unit))) list =
    [ "clean", ([], clean)
      "setup", ([], setup)
      "build", ([ "setup" ], build)
      "docs", ([ "build" ], docs)
      "test", ([ "build"; "docs" ], test)
      "run", ([ "build" ], runMain)
      "bench", ([ "build" ], bench)
      "fuzz", ([ "build" ], fuzz)
      "pack", ([ "build" ], pack) ]

let rec order (name: string) : string list =
    match List.tryFind (fun (n, _) -> n = name) targets with
    | None -> failwithf "unknown target '%s' (targets: %s)" name (String.Join(", ", targets |> List.map fst))
    | Some (_, (deps, _)) -> (deps |> List.collect order) @ [ name ]

let wanted = match fsi.CommandLineArgs |> Array.tail |> Array.toList with [] -> [ "test" ] | ts -> ts
try
    for name in wanted |> List.collect order |> List.distinct do
        printfn "==> %s" name
        (targets |> List.find (fun (n, _) -> n = name) |> snd |> snd) ()
with e ->
    eprintfn "build failed: %s" e.Message
    exit 1
