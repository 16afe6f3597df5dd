/// The command line, called as a user calls it.
module Toolkit.Tests.CliTests

open System
open System.IO
open System.Text.Json
open Expecto

/// The tests' own run store (every `toolkit train` records into one), out of the working
/// directory; the processes the tests start inherit it.
let runStore =
    lazy
        let path = Path.Combine(Path.GetTempPath(), sprintf "toolkit-tests-%d-runs.db" Environment.ProcessId)
        Environment.SetEnvironmentVariable("TOOLKIT_RUNS", path)
        path

/// Runs `toolkit args…` in-process; returns (exit code, stdout, stderr).
let toolkit (args: string list) =
    runStore.Force() |> ignore
    let out, err = new StringWriter(), new StringWriter()
    let oldOut, oldErr = Console.Out, Console.Error
    Console.SetOut out
    Console.SetError err
    try
        let code = Toolkit.Cli.Program.run (List.toArray args)
        code, out.ToString(), err.ToString()
    finally
        Console.SetOut oldOut
        Console.SetError oldErr

[<Tests>]
let tests =
    testSequenced <| testList "command line" [
        test "grad prints the value, every node and the symbolic partials" {
            let code, out, _ = toolkit [ "grad"; "3*(a+b*c)"; "--at"; "a=5,b=3,c=2" ]
            Expect.equal code 0 "exit code"
            Expect.stringContains out "value: 33" "value"
            Expect.stringContains out "∂f/∂b = 3 * c = 6" "symbolic db"
            Expect.stringContains out "∂f/∂c = 3 * b = 9" "symbolic dc"
            Expect.stringContains out "∂f/∂a = 3 = 3" "symbolic da"
        }
        test "grad --json prints one JSON object and nothing else" {
            let code, out, _ = toolkit [ "grad"; "u = b*c; v = a + u; J = 3*v"; "--at"; "a=5,b=3,c=2"; "--json"; "--check" ]
            Expect.equal code 0 "exit code"
            use doc = JsonDocument.Parse(out)
            let root = doc.RootElement
            Expect.equal (root.GetProperty("value").GetDouble()) 33.0 "value"
            let grad = root.GetProperty("gradient")
            Expect.equal [ for v in [ "a"; "b"; "c" ] -> grad.GetProperty(v).GetDouble() ] [ 3.0; 6.0; 9.0 ] "gradient"
            Expect.equal (root.GetProperty("symbolic").GetProperty("b").GetString()) "3 * c" "symbolic"
            let nodes = [ for n in root.GetProperty("nodes").EnumerateArray() -> n ]
            let byName name = nodes |> List.find (fun n -> n.GetProperty("name").ValueKind = JsonValueKind.String && n.GetProperty("name").GetString() = name)
            Expect.equal ((byName "u").GetProperty("value").GetDouble(), (byName "u").GetProperty("dvar").GetDouble()) (6.0, 3.0) "u"
            Expect.equal ((byName "v").GetProperty("value").GetDouble(), (byName "v").GetProperty("dvar").GetDouble()) (11.0, 3.0) "v"
            Expect.isTrue (root.GetProperty("check").GetProperty("passed").GetBoolean()) "check"
            Expect.equal (out.Trim().Split('\n').Length) 1 "one line"
        }
        test "grad --dot, --mermaid, --explain, --svg" {
            let _, dot, _ = toolkit [ "grad"; "3*(a+b*c)"; "--at"; "a=5,b=3,c=2"; "--dot" ]
            Expect.stringContains dot "digraph" "dot"
            let _, mermaid, _ = toolkit [ "grad"; "3*(a+b*c)"; "--at"; "a=5,b=3,c=2"; "--mermaid" ]
            Expect.stringContains mermaid "flowchart LR" "mermaid"
            let _, explain, _ = toolkit [ "grad"; "u = b*c; v = a + u; J = 3*v"; "--at"; "a=5,b=3,c=2"; "--explain" ]
            Expect.stringContains explain "db = du·∂u/∂b = du·c = 3·2 = 6" "explain"
            let path = Path.Combine(Path.GetTempPath(), sprintf "toolkit-test-%O.svg" (Guid.NewGuid()))
            try
                let code, _, _ = toolkit [ "grad"; "3*(a+b*c)"; "--at"; "a=5,b=3,c=2"; "--svg"; path ]
                Expect.equal code 0 "exit code"
                Expect.stringContains (File.ReadAllText path) "<svg" "svg written"
            finally
                File.Delete path
        }
        test "bad input: a clear message on stderr, exit code 1, no stack trace" {
            let cases =
                [ [ "grad"; "3*(a+b"; "--at"; "a=1,b=2" ], "line 1, column 7"
                  [ "grad"; "a*b"; "--at"; "a=1" ], "no value for 'b'"
                  [ "grad"; "log(x)"; "--at"; "x=-1" ], "log of -1"
                  [ "grad"; "foo(x)"; "--at"; "x=1" ], "unknown function 'foo'"
                  [ "grad"; "x"; "--at"; "x=abc" ], "'abc' is not a number"
                  [ "grad"; "x"; "--at"; "x=1"; "--svg"; "/no/such/folder/g.svg" ], "does not exist" ]
            for args, message in cases do
                let code, out, err = toolkit args
                Expect.equal code 1 (sprintf "exit code for %A" args)
                Expect.stringContains err message (sprintf "message for %A" args)
                Expect.isFalse (err.Contains "   at ") "no stack trace"
                Expect.equal out "" "nothing on stdout"
        }
        test "a non-finite value still gets its picture, the bad node marked, and exit code 1" {
            let code, out, err = toolkit [ "grad"; "u = x - 2; w = log(u); J = 3*w"; "--at"; "x=1"; "--dot" ]
            Expect.equal code 1 "exit code"
            Expect.stringContains out "color=red" "the DOT marks the node"
            Expect.stringContains out "first non-finite value" "and names the origin"
            Expect.stringContains err "w = NaN: log of -1" "the error names w"
        }
        test "info --json names the provider, library, core type and threads" {
            let code, out, _ = toolkit [ "info"; "--json" ]
            Expect.equal code 0 "exit code"
            use doc = JsonDocument.Parse(out)
            let root = doc.RootElement
            Expect.equal (root.GetProperty("provider").GetString()) "OpenBLAS" "provider"
            Expect.stringContains (root.GetProperty("library").GetString()) "openblas" "library"
            Expect.isNotNull (root.GetProperty("corename").GetString()) "core name"
            Expect.isGreaterThanOrEqual (root.GetProperty("threads").GetInt32()) 1 "threads"
            // the thread choice toolkit train would make, measured: one of the candidates, and the times behind it
            let nets = root.GetProperty("training_threads").EnumerateArray() |> List.ofSeq
            Expect.equal nets.Length 2 "the notes' network and the wide one"
            for n in nets do
                let t = n.GetProperty("threads").GetInt32()
                Expect.contains [ 1; Environment.ProcessorCount ] t "one thread or every core"
                let times = n.GetProperty("step_seconds_by_threads").EnumerateObject() |> List.ofSeq
                if Environment.ProcessorCount > 1 then
                    Expect.equal (times |> List.map (fun p -> p.Name)) [ "1"; string Environment.ProcessorCount ] "both candidates timed"
                    Expect.all times (fun p -> p.Value.GetDouble() > 0.0) "positive step times"
        }
        test "logreg --json trains on two Fashion-MNIST classes and reports accuracy and the cost per step" {
            let code, out, err = toolkit [ "logreg"; "--classes"; "0,1"; "--steps"; "30"; "--json" ]
            Expect.equal code 0 (sprintf "exit code (%s)" err)
            use doc = JsonDocument.Parse(out.Trim().Split('\n') |> Array.last)
            let root = doc.RootElement
            Expect.isGreaterThan (root.GetProperty("test_accuracy").GetDouble()) 0.9 "test accuracy"
            Expect.isGreaterThan (root.GetProperty("train_accuracy").GetDouble()) 0.9 "train accuracy"
            Expect.equal (root.GetProperty("steps").GetInt32()) 30 "steps"
            let costs = [ for c in root.GetProperty("cost_per_step").EnumerateArray() -> c.GetDouble() ]
            Expect.equal costs.Length 31 "a cost per step and the final one"
            Expect.isLessThan (List.last costs) (List.head costs) "the cost falls"
            let code, _, err = toolkit [ "logreg"; "--data"; "/no/such/folder" ]
            Expect.equal code 1 "missing data"
            Expect.stringContains err "dataset-fashion-mnist" "says how to get it"
        }
        test "without OpenBLAS everything still works on managed code, with one line saying so" {
            // a separate process: the library is probed once per process
            let psi = Diagnostics.ProcessStartInfo("dotnet", sprintf "%s logreg --steps 5 --json" (Path.Combine(AppContext.BaseDirectory, "toolkit.dll")),
                                                   RedirectStandardOutput = true, RedirectStandardError = true)
            psi.Environment.["TOOLKIT_BLAS"] <- "managed"
            use p = Diagnostics.Process.Start psi
            let out = p.StandardOutput.ReadToEnd()
            let err = p.StandardError.ReadToEnd()
            p.WaitForExit()
            Expect.equal p.ExitCode 0 (sprintf "exit code (%s)" err)
            use doc = JsonDocument.Parse(out.Trim().Split('\n') |> Array.last)
            Expect.equal (doc.RootElement.GetProperty("provider").GetString()) "managed" "provider"
            Expect.isGreaterThan (doc.RootElement.GetProperty("test_accuracy").GetDouble()) 0.9 "still trains"
            let lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            Expect.equal lines.Length 1 "one line on stderr"
            Expect.stringContains lines.[0] "managed code" "says so"
        }
        // The issue's yardsticks are 0.80 after 3 epochs and 0.865 after 5. Measured here with the
        // defaults (float32, seed 1): 0.814 after 3, and 0.868 after 5 (He weights for ReLU; seeds
        // 1–5 gave 0.8655–0.8789). η = 3 makes the first noisy: seeds 1–7 spread 0.78–0.83.
        // These floors sit below that seed-to-seed noise: they catch a broken training, while the
        // yardsticks themselves are measured by `toolkit train --json` and written up in the docs.
        test "train: the notes' 784-30-10 (sigmoid, quadratic, SGD η = 3, batch 10) passes 0.76 on the test set in 3 epochs; eval and predict read the saved model" {
            let model = Path.Combine(Path.GetTempPath(), sprintf "toolkit-%O.json" (Guid.NewGuid()))
            let pictures = Path.Combine(Path.GetTempPath(), sprintf "toolkit-plots-%O" (Guid.NewGuid()))
            try
                let code, out, err = toolkit [ "train"; "--epochs"; "3"; "--save"; model; "--json"; "--plot"; pictures ]
                Expect.equal code 0 (sprintf "exit code (%s)" err)
                use doc = JsonDocument.Parse(out.Trim().Split('\n') |> Array.last)
                let root = doc.RootElement
                let acc = root.GetProperty("test_accuracy").GetDouble()
                Expect.isGreaterThanOrEqual acc 0.76 "test accuracy after 3 epochs"
                for key in [ "test_accuracy_per_epoch"; "train_loss_per_epoch"; "seconds_per_epoch" ] do
                    Expect.equal (root.GetProperty(key).GetArrayLength()) 3 key
                Expect.isGreaterThan (root.GetProperty("samples_per_second").GetDouble()) 0.0 "samples per second"
                // products under 10 MFLOP a batch: one thread, not worth measuring
                Expect.equal (root.GetProperty("threads").GetInt32()) 1 "one thread"
                Expect.isFalse (root.TryGetProperty("step_seconds_by_threads") |> fst) "no measurement"
                let code, out, _ = toolkit [ "eval"; model; "--json" ]
                Expect.equal code 0 "eval"
                use e = JsonDocument.Parse(out)
                Expect.equal (e.RootElement.GetProperty("test_accuracy").GetDouble()) acc "the saved model scores the same"
                let code, out, _ = toolkit [ "predict"; model; "--count"; "5" ]
                Expect.equal code 0 "predict"
                Expect.equal (out.Trim().Split('\n').Length) 5 "five predictions"
                // train --plot: the curves (two charts, train and test lines), the confusion matrix, the run
                let svgNs = Xml.Linq.XName.Get("polyline", "http://www.w3.org/2000/svg")
                let curves = Xml.Linq.XDocument.Load(Path.Combine(pictures, "curves.svg"))
                Expect.equal (curves.Descendants(svgNs) |> Seq.length) 4 "train and test loss, train and test accuracy"
                let confusion = Xml.Linq.XDocument.Load(Path.Combine(pictures, "confusion.svg"))
                let counts =
                    confusion.Descendants(Xml.Linq.XName.Get("text", "http://www.w3.org/2000/svg"))
                    |> Seq.filter (fun t -> t.Attribute(Xml.Linq.XName.Get "class") |> isNull |> not && t.Attribute(Xml.Linq.XName.Get "class").Value = "count")
                    |> Seq.map (fun t -> int t.Value) |> List.ofSeq
                Expect.equal counts.Length 100 "10 × 10 counts"
                Expect.equal (List.sum counts) 10000 "every test image counted once"
                let misclassified = Xml.Linq.XDocument.Load(Path.Combine(pictures, "misclassified.svg"))
                let images = misclassified.Descendants(Xml.Linq.XName.Get("image", "http://www.w3.org/2000/svg")) |> List.ofSeq
                Expect.equal images.Length 24 "the first 24 misclassified test images"
                Expect.isTrue (images |> List.forall (fun i -> i.Attribute(Xml.Linq.XName.Get "href").Value.StartsWith "data:image/png;base64,iVBOR")) "each an embedded PNG"
                Expect.stringContains (File.ReadAllText(Path.Combine(pictures, "curves.html"))) "var data = [{\"type\":\"scatter\"" "the interactive curves"
                // plot history reads the saved run back
                let history = Path.Combine(pictures, "again.svg")
                let code, _, err = toolkit [ "plot"; "history"; Path.Combine(pictures, "run.json"); "--out"; history ]
                Expect.equal code 0 (sprintf "plot history (%s)" err)
                Expect.equal (Xml.Linq.XDocument.Load(history).Descendants(svgNs) |> Seq.length) 4 "the same four curves"
                // plot landscape: a line of 5 points through the saved model, whose middle is the model's own loss
                let code, out, err = toolkit [ "plot"; "landscape"; model; "--points"; "5"; "--samples"; "300"; "--json"; "--out"; Path.Combine(pictures, "line.svg") ]
                Expect.equal code 0 (sprintf "plot landscape (%s)" err)
                use line = JsonDocument.Parse(out.Trim().Split('\n') |> Array.last)
                let losses = [| for v in line.RootElement.GetProperty("loss").EnumerateArray() -> v.GetDouble() |]
                Expect.equal losses.Length 5 "five points"
                Expect.isLessThan losses.[2] (min losses.[0] losses.[4]) "the trained model is lower than a full step away"
                let code, out, err = toolkit [ "plot"; "landscape"; model; "--plane"; "--points"; "4"; "--samples"; "100"; "--json"; "--out"; Path.Combine(pictures, "plane.html") ]
                Expect.equal code 0 (sprintf "plot landscape --plane (%s)" err)
                use plane = JsonDocument.Parse(out.Trim().Split('\n') |> Array.last)
                Expect.equal (plane.RootElement.GetProperty("loss").GetArrayLength()) 4 "4 rows"
                Expect.stringContains (File.ReadAllText(Path.Combine(pictures, "plane.html"))) "var data = [{\"type\":\"contour\"" "the page holds the interactive contour chart"
                let code, _, err = toolkit [ "plot"; "landscape"; model; "--out"; Path.Combine(pictures, "x.png") ]
                Expect.equal code 1 "a format it does not write"
                Expect.stringContains err ".svg (static) or .html (interactive)" "says which formats"
            finally
                File.Delete model
                if Directory.Exists pictures then Directory.Delete(pictures, true)
        }
        test "plot history: a file that is not a training run is named with what it lacks" {
            let path = Path.Combine(Path.GetTempPath(), sprintf "toolkit-run-%O.json" (Guid.NewGuid()))
            try
                File.WriteAllText(path, "some log line\n{\"test_accuracy\": 0.8}\n")
                let code, _, err = toolkit [ "plot"; "history"; path; "--out"; path + ".svg" ]
                Expect.equal code 1 "exit code"
                Expect.stringContains err "train_loss_per_epoch" "the missing series"
                File.WriteAllText(path, "{ not json")
                let code, _, err = toolkit [ "plot"; "history"; path ]
                Expect.equal code 1 "exit code"
                Expect.stringContains err "not valid JSON" "parse error"
            finally
                File.Delete path
        }
        // The floor sits below every measured run by a stated margin, not at the yardstick: seeds 1–5
        // gave 0.8599–0.8750 with OpenBLAS's own kernels and seed 1 gave 0.8572 with
        // OPENBLAS_CORETYPE=Haswell (float32 products round differently there). 0.84 is 0.017
        // under the lowest; the yardstick (mean ≥ 0.865) is the accuracy benchmark's to measure.
        test "train: 784-256-128-10 ReLU/softmax cross-entropy, momentum 0.9, η = 0.05, batch 128 passes 0.84 in 5 epochs" {
            let code, out, err =
                toolkit [ "train"; "--layers"; "784,256,128,10"; "--activation"; "relu"; "--output"; "softmax"; "--loss"; "cross-entropy"
                          "--optimizer"; "momentum"; "--lr"; "0.05"; "--momentum"; "0.9"; "--batch"; "128"; "--epochs"; "5"; "--json" ]
            Expect.equal code 0 (sprintf "exit code (%s)" err)
            use doc = JsonDocument.Parse(out.Trim().Split('\n') |> Array.last)
            Expect.isGreaterThanOrEqual (doc.RootElement.GetProperty("test_accuracy").GetDouble()) 0.84 "test accuracy after 5 epochs"
            // 51 MFLOP a batch: the threads measured at the start, one of the candidates, each timed
            Expect.contains [ 1; Environment.ProcessorCount ] (doc.RootElement.GetProperty("threads").GetInt32()) "threads chosen"
            if Environment.ProcessorCount > 1 then
                let times = doc.RootElement.GetProperty("step_seconds_by_threads").EnumerateObject() |> List.ofSeq
                Expect.equal (times |> List.map (fun p -> p.Name)) [ "1"; string Environment.ProcessorCount ] "both candidates timed"
        }
        test "grad: softplus, elu and gelu by name, their gradient exact" {
            let code, out, err = toolkit [ "grad"; "softplus(x) + elu(y) + gelu(z)"; "--at"; "x=1,y=-1,z=0.5"; "--json"; "--check" ]
            Expect.equal code 0 (sprintf "exit code (%s)" err)
            use doc = JsonDocument.Parse(out)
            let grad = doc.RootElement.GetProperty("gradient")
            let phi z = 0.5 * (1.0 + MathNet.Numerics.SpecialFunctions.Erf(z / sqrt 2.0))
            // softplus′(1) = σ(1); elu′(−1) = e⁻¹; gelu′(0.5) = Φ(0.5) + 0.5·φ(0.5)
            Expect.floatClose Accuracy.veryHigh (grad.GetProperty("x").GetDouble()) (1.0 / (1.0 + exp -1.0)) "x"
            Expect.floatClose Accuracy.veryHigh (grad.GetProperty("y").GetDouble()) (exp -1.0) "y"
            Expect.floatClose Accuracy.veryHigh (grad.GetProperty("z").GetDouble()) (phi 0.5 + 0.5 * exp (-0.125) / sqrt (2.0 * Math.PI)) "z"
            Expect.isTrue (doc.RootElement.GetProperty("check").GetProperty("passed").GetBoolean()) "against central differences"
        }
        // One epoch each on Fashion-MNIST, seed 1, measured with OpenBLAS's own kernels and with
        // OPENBLAS_CORETYPE=Haswell: 0.82, 0.77, 0.85, 0.65 and 0.84 in this order (dropout on the
        // 30-unit layer is lowest; seeds 2 and 3 gave it 0.77-0.79), and 0.81 for a stack left to
        // its defaults. The floor 0.5 says training works (chance is 0.1), 0.15 below the lowest.
        test "train: --activation softplus, --optimizer rmsprop and adamw, --dropout 0.2, and a stack of layers train and save" {
            let model = Path.Combine(Path.GetTempPath(), sprintf "toolkit-%O.json" (Guid.NewGuid()))
            try
                for args in [ [ "--activation"; "softplus" ]
                              [ "--optimizer"; "rmsprop"; "--lr"; "0.001" ]
                              [ "--layers"; "784,256,128,10"; "--activation"; "relu"; "--output"; "softmax"; "--loss"; "cross-entropy"; "--optimizer"; "adamw"; "--lr"; "0.001"; "--batch"; "128" ]
                              [ "--dropout"; "0.2" ]
                              [ "--layers"; "dense(64)-gelu-dropout(0.1)-dense(10)-softmax"; "--loss"; "cross-entropy"; "--optimizer"; "adam"; "--lr"; "0.002"; "--batch"; "64" ]
                              // a stack's defaults (initialisation, η) follow its first activation
                              [ "--layers"; "dense(64)-relu-dense(10)-softmax"; "--loss"; "cross-entropy" ] ] do
                    let code, out, err = toolkit ([ "train"; "--epochs"; "1"; "--json"; "--save"; model ] @ args)
                    Expect.equal code 0 (sprintf "%A: exit code (%s)" args err)
                    use doc = JsonDocument.Parse(out.Trim().Split('\n') |> Array.last)
                    let acc = doc.RootElement.GetProperty("test_accuracy").GetDouble()
                    Expect.isGreaterThan acc 0.5 (sprintf "%A: test accuracy %g" args acc)
                    let code, out, _ = toolkit [ "eval"; model; "--json" ]
                    Expect.equal code 0 "eval reads the saved model"
                    use e = JsonDocument.Parse(out)
                    Expect.floatClose Accuracy.medium (e.RootElement.GetProperty("test_accuracy").GetDouble()) acc (sprintf "%A: eval gives the run's accuracy" args)
            finally
                File.Delete model
        }
        test "train: Ctrl-C and SIGTERM keep the model, the run record and the run store's entry of the last completed epoch, one line, exit 130 and 143" {
          for signal, code in [ "INT", 130; "TERM", 143 ] do
            let dir = Path.Combine(Path.GetTempPath(), sprintf "toolkit-interrupt-%O" (Guid.NewGuid()))
            Directory.CreateDirectory dir |> ignore
            try
                let model, record = Path.Combine(dir, "model.json"), Path.Combine(dir, "run")
                let ck, db = Path.Combine(dir, "ck"), Path.Combine(dir, "runs.db")
                let psi = Diagnostics.ProcessStartInfo("dotnet", sprintf "%s train --epochs 20 --save %s --plot %s --checkpoint %s --runs %s" (Path.Combine(AppContext.BaseDirectory, "toolkit.dll")) model record ck db,
                                                       RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false)
                use p = Diagnostics.Process.Start psi
                // the signal (SIGINT as Ctrl-C sends it, or SIGTERM as kill, timeout and docker stop do) once epoch 2 has ended
                let mutable line = p.StandardOutput.ReadLine()
                while not (isNull line) && not (line.StartsWith "epoch 2: train loss") do line <- p.StandardOutput.ReadLine()
                Expect.isNotNull line "epoch 2 ended"
                Diagnostics.Process.Start("kill", sprintf "-%s %d" signal p.Id).WaitForExit()
                p.StandardOutput.ReadToEnd() |> ignore
                let err = p.StandardError.ReadToEnd()
                p.WaitForExit()
                Expect.equal p.ExitCode code (sprintf "SIG%s: exit code (%s)" signal err)
                let lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                Expect.equal lines.Length 1 "one line on stderr"
                Expect.stringContains lines.[0] (sprintf "kept the model in %s and the run record and pictures in %s and the checkpoint in %s (go on with --resume %s)" model record ck ck) "says what was kept"
                use run = JsonDocument.Parse(File.ReadAllText(Path.Combine(record, "run.json")))
                let epochs = run.RootElement.GetProperty("epochs").GetInt32()
                Expect.isTrue (epochs >= 2 && epochs < 20) (sprintf "%d completed epochs recorded" epochs)
                Expect.isTrue (run.RootElement.GetProperty("interrupted").GetBoolean()) "the record says interrupted"
                Expect.stringContains lines.[0] (sprintf "as of epoch %d" epochs) "the epoch kept"
                Expect.equal (snd (Toolkit.Training.Checkpoint.load ck)).Epoch epochs "the checkpoint holds the same epoch"
                // the run store's entry is finished, not left "running"
                match (Toolkit.Runs.RunStore.Open db).List() with
                | [| r |] ->
                    Expect.equal r.Status "cancelled" (sprintf "SIG%s: the stored run's status" signal)
                    Expect.equal r.Epochs.Length epochs "the stored run's epochs"
                | runs -> failtestf "one run stored, not %d" runs.Length
                // the saved model is the one the record measured
                let code, out, _ = toolkit [ "eval"; model; "--json" ]
                Expect.equal code 0 "the model loads"
                use e = JsonDocument.Parse(out)
                Expect.equal (e.RootElement.GetProperty("test_accuracy").GetDouble()) (run.RootElement.GetProperty("test_accuracy").GetDouble()) "the last completed epoch's accuracy"
                Expect.isEmpty (Directory.GetFiles(dir, "*.tmp")) "no temporary file left"
            finally
                Directory.Delete(dir, true)
        }
        test "train: SIGTERM before the first epoch ends saves nothing, says so in one line, exit 143, and the run store's entry is finished as cancelled" {
            let dir = Path.Combine(Path.GetTempPath(), sprintf "toolkit-interrupt-%O" (Guid.NewGuid()))
            Directory.CreateDirectory dir |> ignore
            try
                let model, db = Path.Combine(dir, "model.json"), Path.Combine(dir, "runs.db")
                // a wide layer and batches of one: the first epoch (about 60,000 products reading 6 MB
                // of weights each, a minute here) outlasts the first progress line, after 5 s
                let psi = Diagnostics.ProcessStartInfo("dotnet", sprintf "%s train --layers 784,2048,10 --epochs 2 --batch 1 --save %s --runs %s" (Path.Combine(AppContext.BaseDirectory, "toolkit.dll")) model db,
                                                       RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false)
                use p = Diagnostics.Process.Start psi
                let mutable line = p.StandardOutput.ReadLine()
                while not (isNull line) && not (line.StartsWith "epoch 1: ") do line <- p.StandardOutput.ReadLine()
                Expect.isNotNull line "epoch 1 under way"
                Expect.stringContains line "batches" "a progress line, not an epoch's end"
                Diagnostics.Process.Start("kill", sprintf "-TERM %d" p.Id).WaitForExit()
                p.StandardOutput.ReadToEnd() |> ignore
                let err = p.StandardError.ReadToEnd()
                p.WaitForExit()
                Expect.equal p.ExitCode 143 (sprintf "exit code (%s)" err)
                Expect.equal (err.Trim()) "interrupted in epoch 1: no epoch completed, nothing was saved" "one line"
                Expect.isFalse (File.Exists model) "no model"
                match (Toolkit.Runs.RunStore.Open db).List() with
                | [| r |] -> Expect.equal r.Status "cancelled" "the stored run's status"
                | runs -> failtestf "one run stored, not %d" runs.Length
            finally
                Directory.Delete(dir, true)
        }
        test "grad --check at a kink or a domain edge says so, never both 'agree' and 'FAILED'; exit 3" {
            for text, at, says in [ "relu(x)", "x=0", "relu(x) sits on a kink at its argument 0"
                                    "sqrt(x)", "x=0", "sqrt(x) sits on the edge of its domain at its argument 0" ] do
                let code, out, _ = toolkit [ "grad"; text; "--at"; at; "--check" ]
                Expect.equal code 3 (sprintf "%s: exit code" text)
                Expect.stringContains out says (sprintf "%s: names the node and why" text)
                Expect.stringContains out "check inconclusive" (sprintf "%s: the verdict" text)
                Expect.isFalse (out.Contains "FAILED") (sprintf "%s: not a failure of a rule" text)
            let code, out, _ = toolkit [ "grad"; "3*(a+b*c)"; "--at"; "a=5,b=3,c=2"; "--check" ]
            Expect.equal code 0 "a passing check"
            Expect.stringContains out "check passed" "the verdict"
        }
        test "eval and predict read the test set alone: a folder with only the t10k files is enough" {
            let dir = Path.Combine(Path.GetTempPath(), sprintf "toolkit-t10k-%O" (Guid.NewGuid()))
            Directory.CreateDirectory dir |> ignore
            try
                for f in Directory.GetFiles(Toolkit.Data.FashionMnist.defaultDirectory, "t10k-*") do
                    File.Copy(f, Path.Combine(dir, Path.GetFileName f))
                let model = Path.Combine(dir, "model.json")
                Toolkit.Data.ModelFile.save model (Toolkit.Nn.Network.create [ 784; 10 ] Toolkit.Nn.Activation.Sigmoid Toolkit.Nn.Activation.Sigmoid Toolkit.Tensors.Loss.Quadratic Toolkit.Nn.Init.Normal 1)
                for command in [ "eval"; "predict" ] do
                    let code, _, err = toolkit [ command; model; "--data"; dir; "--json" ]
                    Expect.equal code 0 (sprintf "%s: exit code (%s)" command err)
            finally
                Directory.Delete(dir, true)
        }
        test "train --plot on 14×14 images: every picture at the images' own size, the run record written" {
            let dir = Path.Combine(Path.GetTempPath(), sprintf "toolkit-14x14-%O" (Guid.NewGuid()))
            Directory.CreateDirectory dir |> ignore
            try
                // three classes of 14×14 images (top half, left half, checkerboard), a tenth of the test labels noise
                let rng = Random(1)
                let write (prefix: string) (n: int) (noise: float) =
                    let be (v: int) = [| byte (v >>> 24); byte (v >>> 16); byte (v >>> 8); byte v |]
                    let labels = Array.init n (fun _ -> rng.Next 3)
                    let pixels =
                        [| for c in labels do
                             for p in 0 .. 195 do
                                 let r, q = p / 14, p % 14
                                 let on = (c = 0 && r < 7) || (c = 1 && q < 7) || (c = 2 && (r + q) % 2 = 0)
                                 yield byte ((if on then 200 else 30) + rng.Next(-30, 31)) |]
                    let shown = labels |> Array.map (fun c -> if rng.NextDouble() < noise then rng.Next 3 else c)
                    File.WriteAllBytes(Path.Combine(dir, prefix + "-images-idx3-ubyte"), Array.concat [ be 0x803; be n; be 14; be 14; pixels ])
                    File.WriteAllBytes(Path.Combine(dir, prefix + "-labels-idx1-ubyte"), Array.concat [ be 0x801; be n; shown |> Array.map byte ])
                write "train" 2000 0.0
                write "t10k" 300 0.1
                let plots = Path.Combine(dir, "run")
                let code, _, err = toolkit [ "train"; "--data"; dir; "--layers"; "196,30,3"; "--epochs"; "1"; "--plot"; plots ]
                Expect.equal code 0 (sprintf "exit code (%s)" err)
                for f in [ "run.json"; "curves.svg"; "confusion.svg"; "misclassified.svg" ] do
                    Expect.isTrue (File.Exists(Path.Combine(plots, f))) (sprintf "%s written" f)
                let svg = System.Xml.Linq.XDocument.Parse(File.ReadAllText(Path.Combine(plots, "misclassified.svg")))
                Expect.isNonEmpty (svg.Descendants() |> List.ofSeq) "misclassified.svg parses"
            finally
                Directory.Delete(dir, true)
        }
        test "a convolutional network from the command line on colour IDX images: train, save, plot, eval, predict, landscape, ONNX" {
            let dir = Path.Combine(Path.GetTempPath(), sprintf "toolkit-cnn-%O" (Guid.NewGuid()))
            Directory.CreateDirectory dir |> ignore
            try
                // 10×10 images of 2 channels (a rank-4 IDX file, each pixel's channels together): a bright
                // stripe, vertical or horizontal, in channel 0 or 1 — four classes a convolution tells apart
                let rng = Random(3)
                let write (prefix: string) (n: int) =
                    let be (v: int) = [| byte (v >>> 24); byte (v >>> 16); byte (v >>> 8); byte v |]
                    let labels = Array.init n (fun _ -> rng.Next 4)
                    let pixels =
                        [| for c in labels do
                             let at = rng.Next(1, 9)
                             for p in 0 .. 99 do
                                 for ch in 0 .. 1 do
                                     let r, q = p / 10, p % 10
                                     let on = ch = c / 2 && (if c % 2 = 0 then q = at else r = at)
                                     yield byte ((if on then 220 else 20) + rng.Next(-20, 21)) |]
                    File.WriteAllBytes(Path.Combine(dir, prefix + "-images-idx3-ubyte"), Array.concat [ be 0x804; be n; be 10; be 10; be 2; pixels ])
                    File.WriteAllBytes(Path.Combine(dir, prefix + "-labels-idx1-ubyte"), Array.concat [ be 0x801; be n; labels |> Array.map byte ])
                write "train" 1200
                write "t10k" 200
                let model, plots, onnx = Path.Combine(dir, "cnn.json"), Path.Combine(dir, "run"), Path.Combine(dir, "cnn.onnx")
                let layers = "conv(6,3,pad=1)-batchnorm-relu-pool(2)-conv(8,3)-relu-avgpool(3)-flatten-dense(4)-softmax"
                let code, out, err = toolkit [ "train"; "--data"; dir; "--layers"; layers; "--loss"; "cross-entropy"; "--optimizer"; "adam"; "--lr"; "0.01"
                                               "--batch"; "16"; "--epochs"; "4"; "--save"; model; "--plot"; plots; "--json" ]
                Expect.equal code 0 (sprintf "exit code (%s)" err)
                let result = System.Text.Json.JsonDocument.Parse(out.Trim().Split('\n') |> Array.last).RootElement
                // the task is easy: a convolution reaches 1 within a few epochs; 0.9 leaves room for every seed and kernel
                Expect.isGreaterThan (result.GetProperty("test_accuracy").GetDouble()) 0.9 "test accuracy"
                // (misclassified.svg only when some test image is misclassified)
                for f in [ "run.json"; "curves.svg"; "confusion.svg" ] do
                    Expect.isTrue (File.Exists(Path.Combine(plots, f))) (sprintf "%s written" f)
                let back = Toolkit.Data.ModelFile.load model
                Expect.equal (string back.InputShape) "2×10×10" "the model keeps the image's shape"
                Expect.equal (Toolkit.Nn.Network.describe back) (layers.Replace("pool(2)", "maxpool(2)").Replace("avgmaxpool", "avgpool")) "the layers"
                for command in [ [ "eval"; model; "--data"; dir ]; [ "predict"; model; "--data"; dir; "--count"; "3" ]
                                 [ "plot"; "landscape"; model; "--data"; dir; "--samples"; "100"; "--points"; "5"; "--out"; Path.Combine(dir, "l.svg") ]
                                 [ "export"; model; "--onnx"; onnx ] ] do
                    let code, _, err = toolkit command
                    Expect.equal code 0 (sprintf "%s: exit code (%s)" command.Head err)
                Expect.isTrue (File.Exists onnx) "the ONNX file"
                // an image layer on data that is not images: one line, exit 1
                let csv = Path.Combine(dir, "t.csv")
                File.WriteAllLines(csv, [| "a,b,label"; "1,2,0"; "2,1,1"; "1,1,0"; "2,2,1"; "3,1,0" |])
                let code, _, err = toolkit [ "train"; "--data"; csv; "--label"; "label"; "--layers"; "conv(4,3)-dense(2)-softmax"; "--epochs"; "1" ]
                Expect.equal code 1 "exit code"
                Expect.stringContains err "conv works on images, but its input is a vector of 2 features" "the message"
            finally
                Directory.Delete(dir, true)
        }
        test "train, eval and predict on a CSV table: named classes, a held-out split, raw features of any range" {
            let dir = Path.Combine(Path.GetTempPath(), sprintf "toolkit-csv-%O" (Guid.NewGuid()))
            Directory.CreateDirectory dir |> ignore
            try
                // three blobs 6 apart with deviation 1 in features scaled to hundreds and to 1e-3
                // (a network separates them with accuracy near 1; the floor of 0.9 leaves room for
                // every seed and kernel), the class named in the last column
                let rng = Random(2)
                let gauss () = sqrt (-2.0 * log (1.0 - rng.NextDouble())) * cos (2.0 * Math.PI * rng.NextDouble())
                let names = [| "oak"; "birch"; "pine" |]
                let csv = Path.Combine(dir, "trees.csv")
                File.WriteAllLines(csv, [| yield "\"height, m\",girth,kind"
                                           for _ in 1 .. 300 do
                                               let c = rng.Next 3
                                               yield sprintf "%g,%g,%s" (100.0 * (6.0 * float c + gauss ())) (0.001 * (6.0 * float (2 - c) + gauss ())) names.[c] |])
                let model = Path.Combine(dir, "m.json")
                let plots = Path.Combine(dir, "run")
                let code, out, err = toolkit [ "train"; "--data"; csv; "--label"; "kind"; "--epochs"; "10"; "--lr"; "0.5"; "--save"; model; "--plot"; plots; "--json" ]
                Expect.equal code 0 (sprintf "exit code (%s)" err)
                use doc = JsonDocument.Parse(out.Trim().Split('\n') |> Array.last)
                let root = doc.RootElement
                Expect.equal [ for c in root.GetProperty("classes").EnumerateArray() -> c.GetString() ] [ "birch"; "oak"; "pine" ] "class names, ordinal order"
                Expect.equal (root.GetProperty("layers").GetString()) "2,30,3" "default layers: features, 30, classes"
                Expect.isGreaterThan (root.GetProperty("test_accuracy").GetDouble()) 0.9 "accuracy on the held-out fifth"
                Expect.stringContains (File.ReadAllText(Path.Combine(plots, "confusion.svg"))) "birch" "confusion matrix with the names"
                Expect.isFalse (File.Exists(Path.Combine(plots, "misclassified.svg"))) "no image grid for a table"
                let code, out, err = toolkit [ "eval"; model; "--data"; csv; "--label"; "kind"; "--json" ]
                Expect.equal code 0 (sprintf "eval (%s)" err)
                use e = JsonDocument.Parse out
                Expect.isGreaterThan (e.RootElement.GetProperty("test_accuracy").GetDouble()) 0.9 "the saved model takes raw features"
                Expect.equal (e.RootElement.GetProperty("samples").GetInt32()) 300 "the whole table"
                let code, out, _ = toolkit [ "predict"; model; "--data"; csv; "--label"; "kind"; "--count"; "3" ]
                Expect.equal code 0 "predict"
                Expect.equal (out.Trim().Split('\n').Length) 3 "three predictions"
                Expect.isTrue (names |> Array.exists (fun n -> out.Contains(sprintf ": %s (label: " n))) "by name"
                // asking wrongly: no column given, a misspelt column, both kinds of target
                for args, message in [ [ "train"; "--data"; csv ], "say which column to predict"
                                       [ "train"; "--data"; csv; "--label"; "knd" ], "(did you mean kind?)"
                                       [ "train"; "--data"; csv; "--label"; "kind"; "--target"; "girth" ], "give one"
                                       [ "train"; "--data"; csv; "--target"; "girth"; "--loss"; "hinge" ], "quadratic loss"
                                       [ "train"; "--data"; csv; "--label"; "kind"; "--layers"; "2,30,10" ], "the last size must be the 3 classes"
                                       [ "train"; "--data"; csv; "--label"; "kind"; "--layers"; "784,30,3" ], "the first size must be the 2 values" ] do
                    let code, _, err = toolkit args
                    Expect.equal code 1 (sprintf "%A" args)
                    Expect.stringContains err message (sprintf "%A" args)
            finally Directory.Delete(dir, true)
        }
        test "train --checkpoint, then --resume: the same model file as an uninterrupted run; another run's checkpoint is refused" {
            let dir = Path.Combine(Path.GetTempPath(), sprintf "toolkit-resume-%O" (Guid.NewGuid()))
            Directory.CreateDirectory dir |> ignore
            try
                let rng = Random(5)
                let csv = Path.Combine(dir, "xor.csv")
                File.WriteAllLines(csv, [| yield "a,b,c"
                                           for _ in 1 .. 400 do
                                               let a, b = rng.NextDouble() - 0.5, rng.NextDouble() - 0.5
                                               yield sprintf "%g,%g,%d" a b (if a * b > 0.0 then 1 else 0) |])
                let runAt (lr: string) (extra: string list) =
                    toolkit ([ "train"; "--data"; csv; "--label"; "c"; "--layers"; "dense(16)-relu-dropout(0.2)-dense(2)-softmax"; "--loss"; "cross-entropy"
                               "--optimizer"; "adam"; "--lr"; lr; "--validation"; "0.2" ] @ extra)
                let run = runAt "0.01"
                let full, resumed, ck = Path.Combine(dir, "full.json"), Path.Combine(dir, "resumed.json"), Path.Combine(dir, "ck")
                let code, _, err = run [ "--epochs"; "5"; "--save"; full ]
                Expect.equal code 0 err
                let code, _, err = run [ "--epochs"; "2"; "--checkpoint"; ck ]
                Expect.equal code 0 err
                Expect.isTrue (File.Exists(Path.Combine(ck, "checkpoint.json"))) "checkpoint written"
                let code, out, err = run [ "--epochs"; "5"; "--resume"; ck; "--save"; resumed; "--json" ]
                Expect.equal code 0 err
                Expect.equal (File.ReadAllText resumed) (File.ReadAllText full) "the same model file, bit for bit"
                use doc = JsonDocument.Parse(out.Trim().Split('\n') |> Array.last)
                Expect.equal (doc.RootElement.GetProperty("epochs").GetInt32()) 5 "the record counts every epoch"
                // the checkpoint now holds epoch 5; another learning rate is another run
                let code, _, err = runAt "0.02" [ "--epochs"; "6"; "--resume"; ck ]
                Expect.equal code 1 "refused"
                Expect.stringContains err "the checkpoint is of another run (optimizer: the checkpoint has Adam (0.01" "names the difference"
                let code, _, err = run [ "--epochs"; "3"; "--resume"; ck ]
                Expect.equal code 1 "fewer epochs than done"
                Expect.stringContains err "has 5 epochs done, more than --epochs 3" "says so"
                let code, _, err = run [ "--epochs"; "3"; "--resume"; Path.Combine(dir, "nothing") ]
                Expect.equal code 1 "no checkpoint"
                Expect.stringContains err "no checkpoint (checkpoint.json) in this folder" "says so"
            finally Directory.Delete(dir, true)
        }
        test "train, eval and predict a real-valued target from a CSV table" {
            let dir = Path.Combine(Path.GetTempPath(), sprintf "toolkit-reg-%O" (Guid.NewGuid()))
            Directory.CreateDirectory dir |> ignore
            try
                // price = 0.5·rooms − 0.02·age + noise of deviation 0.05: the target's own deviation
                // is about 0.8, so predicting the mean has RMS error ≈ 0.8; a trained network gets
                // near the noise (0.05–0.1 measured); the ceiling 0.3 leaves room for any seed
                let rng = Random(4)
                let csv = Path.Combine(dir, "house.csv")
                File.WriteAllLines(csv, [| yield "rooms,age,price"
                                           for _ in 1 .. 500 do
                                               let r, a = 1.0 + 5.0 * rng.NextDouble(), 50.0 * rng.NextDouble()
                                               yield sprintf "%g,%g,%g" r a (0.5 * r - 0.02 * a + 0.05 * (rng.NextDouble() - 0.5) * 3.46) |])
                let model = Path.Combine(dir, "m.json")
                let code, out, err = toolkit [ "train"; "--data"; csv; "--target"; "price"; "--activation"; "tanh"; "--epochs"; "10"; "--save"; model; "--json" ]
                Expect.equal code 0 (sprintf "exit code (%s)" err)
                use doc = JsonDocument.Parse(out.Trim().Split('\n') |> Array.last)
                Expect.equal (doc.RootElement.GetProperty("target").GetString()) "price" "target named"
                Expect.equal (doc.RootElement.GetProperty("test_accuracy").ValueKind) JsonValueKind.Null "no accuracy for a real value"
                let code, out, err = toolkit [ "eval"; model; "--data"; csv; "--target"; "price"; "--json" ]
                Expect.equal code 0 (sprintf "eval (%s)" err)
                use e = JsonDocument.Parse out
                Expect.isLessThan (e.RootElement.GetProperty("rms_error").GetDouble()) 0.3 "RMS error well under the target's deviation"
                let code, out, _ = toolkit [ "predict"; model; "--data"; csv; "--target"; "price"; "--count"; "2" ]
                Expect.equal code 0 "predict"
                Expect.stringContains out "sample 1: price " "values"
            finally Directory.Delete(dir, true)
        }
        test "train: bad options are named, exit code 1" {
            for args, message in [ [ "train"; "--layers"; "784" ], "--layers"
                                   [ "train"; "--optimizer"; "magic" ], "--optimizer: 'magic'"
                                   [ "train"; "--output"; "magic" ], "--output: 'magic'"
                                   [ "train"; "--layers"; "dense(30)-sigmoid-lstm(3)" ], "--layers: layer 'lstm(3)': no such layer"
                                   [ "train"; "--layers"; "dense(30)-sigmoid-conv(3,3)" ], "--layers: layer 'conv(3,3)': conv works on images, but its input is a vector of 30 features"
                                   [ "train"; "--dropout"; "1.5" ], "--dropout: 1.5"
                                   [ "train"; "--optimizer"; "adamw"; "--lr"; "-1" ], "--lr"
                                   [ "train"; "--data"; "/no/such/folder" ], "/no/such/folder: no such file or folder"
                                   [ "train"; "--save"; "/no/such/folder/model.json" ], "'/no/such/folder' does not exist" ] do
                let code, _, err = toolkit args
                Expect.equal code 1 (sprintf "%A" args)
                Expect.stringContains err message (sprintf "%A" args)
        }
        test "a misspelled command, option, function, activation or layer gets a 'did you mean'; --version" {
            let code, _, err = toolkit [ "trian" ]
            Expect.equal code 2 "exit code"
            Expect.stringContains err "unrecognized argument: 'trian' (did you mean train?)" "command"
            let _, _, err = toolkit [ "train"; "--lrr"; "3" ]
            Expect.stringContains err "(did you mean --lr?)" "option"
            // an unknown option before the model file is named, not the file it pushed out
            let code, _, err = toolkit [ "eval"; "--model"; "m.json" ]
            Expect.equal code 2 "exit code"
            Expect.stringContains err "unrecognized option '--model'" "the option is named"
            Expect.isFalse (err.Contains "did you mean --json") "no option is suggested for the file name"
            for args, hint in [ [ "grad"; "sigmod(x)"; "--at"; "x=1" ], "(did you mean sigmoid?)"
                                [ "train"; "--activation"; "rellu" ], "(did you mean relu?)"
                                [ "train"; "--optimizer"; "adm" ], "(did you mean adam?)"
                                [ "train"; "--layers"; "dense(30)-sigmod-dense(10)" ], "(did you mean sigmoid?)" ] do
                let code, _, err = toolkit args
                Expect.equal code 1 (sprintf "%A: exit code" args)
                Expect.stringContains err hint (sprintf "%A" args)
            let code, out, _ = toolkit [ "--version" ]
            Expect.equal code 0 "--version exits 0"
            Expect.stringStarts out "toolkit " "prints the version"
            let _, help, _ = toolkit [ "--help" ]
            Expect.stringContains help "130 interrupted" "--help lists the exit codes"
        }
        test "unknown command or option: usage, exit code 2" {
            let code, _, err = toolkit [ "bogus" ]
            Expect.equal code 2 "exit code"
            Expect.stringContains err "USAGE" "usage"
        }
    ]
