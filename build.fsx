// The build: a small target table, no packages. Run through ./build.sh <target>.
//   setup    the apt packages the main job needs, .NET tools, NuGet packages (Paket); one line
//            per step, the whole output in .build/logs/
//   setup-test  the apt packages the tests and benchmarks add (Python, NumPy, PyTorch, Chromium)
//   build    the solution in Release
//   docs     the fsdocs site (pages evaluated; a failing page fails the build), finished by
//            scripts/site.fsx into a site that opens from disk as well as served
//   test     build, docs, every test (F# Expecto + FsCheck, C# xunit); last line "N passed, N failed"
//   run      the main job: the notes' graph through `toolkit grad`, then `toolkit train`
//   bench    the benchmarks (scalar graph vs micrograd-style Python; logistic regression,
//            OpenBLAS vs managed, GEMM vs C), written into docs/performance.md
//   clean    remove build output

open System
open System.Diagnostics
open System.IO
open System.Text.RegularExpressions

#load "scripts/site.fsx"

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

/// Where the set-up's and the build's full output goes: the console gets one line per step.
let logs = Path.Combine(root, ".build", "logs")

/// Runs a step with its whole output (stdout and stderr) in .build/logs/STEP.log and one line on
/// the console; on failure, the log's last lines too.
let logged (step: string) (file: string) (args: string) =
    Directory.CreateDirectory logs |> ignore
    let log = Path.Combine(logs, step + ".log")
    let psi = ProcessStartInfo(file, args, WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false)
    use p = new Process(StartInfo = psi)
    let lines = Collections.Concurrent.ConcurrentQueue<string>()
    let take (e: DataReceivedEventArgs) = if not (isNull e.Data) then lines.Enqueue e.Data
    p.OutputDataReceived.Add take
    p.ErrorDataReceived.Add take
    let sw = Stopwatch.StartNew()
    p.Start() |> ignore
    p.BeginOutputReadLine()
    p.BeginErrorReadLine()
    p.WaitForExit()
    File.AppendAllLines(log, Seq.append [ sprintf "$ %s %s" file args ] lines)
    if p.ExitCode <> 0 then
        for l in Seq.toArray lines |> Array.rev |> Array.truncate 30 |> Array.rev do eprintfn "  %s" l
        failwithf "%s: '%s %s' failed with exit code %d (the whole output: %s)" step file args p.ExitCode log
    printfn "  %s: done in %.0f s (%d lines in %s)" step sw.Elapsed.TotalSeconds lines.Count (Path.GetRelativePath(root, log))

// ---- targets ------------------------------------------------------------------------------

/// Debian packages the main job needs: OpenBLAS for the matrix products, Fashion-MNIST for the
/// real-data runs (installed without their "recommended" extras).
let runPackages = [ "libopenblas0-pthread"; "dataset-fashion-mnist" ]

/// What the tests and the benchmarks add: python3 with NumPy for the benchmarks' reference engines,
/// python3-torch as the independent oracle (gradients, ONNX export), chromium for the tests that
/// open the charts and the site in a real (headless) browser, MPICH for the data-parallel test
/// (mpiexec -n 2 toolkit train --distributed).
let testPackages = [ "python3"; "python3-numpy"; "python3-torch"; "chromium"; "mpich" ]

/// Installs the Debian packages missing of a set (root only; otherwise says what to run).
let aptInstall (step: string) (packages: string list) (options: string) =
    let missing =
        packages |> List.filter (fun p -> fst (run root "sh" (sprintf "-c \"dpkg -s %s >/dev/null 2>&1\"" p)) <> 0)
    if not missing.IsEmpty then
        if Environment.UserName <> "root" then
            failwithf "missing Debian packages %A: run `sudo apt-get install -y %s`" missing (String.Join(" ", missing))
        logged (step + "-apt-update") "apt-get" "update -qq"
        logged (step + "-apt-install") "apt-get" (sprintf "-o DPkg::Lock::Timeout=300 install -y -qq %s %s" options (String.Join(" ", missing)))
    else printfn "  %s: the Debian packages are installed (%s)" step (String.Join(", ", packages))

let setup () =
    aptInstall "setup" runPackages "--no-install-recommends"
    logged "tool-restore" "dotnet" "tool restore"
    logged "paket-restore" "dotnet" "paket restore"

/// The tests' and the benchmarks' own packages.
let setupTest () = aptInstall "setup-test" testPackages ""

let build () = logged "build" "dotnet" "build Toolkit.sln -c Release --nologo -v q"

let docs () =
    let cache = Path.Combine(root, ".fsdocs")
    if Directory.Exists cache then Directory.Delete(cache, true)
    logged "docs" "dotnet" (sprintf "fsdocs build --eval --strict --clean --parameters root %s --properties Configuration=Release" Site.root)
    // links relative, tooltips readable, search without fetch: a site that opens from disk too
    Site.finish (Path.Combine(root, "output"))

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
      "setup-test", ([], setupTest)
      "build", ([ "setup" ], build)
      "docs", ([ "build" ], docs)
      "test", ([ "build"; "setup-test"; "docs" ], test)
      "run", ([ "build" ], runMain)
      "bench", ([ "build"; "setup-test" ], bench)
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
