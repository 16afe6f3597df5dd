/// The run store: what it keeps, its migrations, bad files, several writers at once, and
/// `toolkit runs` reading it.
module Toolkit.Tests.RunStoreTests

open System
open System.IO
open Expecto
open Microsoft.Data.Sqlite
open Toolkit.Runs

let private temp (name: string) = Path.Combine(Path.GetTempPath(), sprintf "toolkit-runs-%O-%s" (Guid.NewGuid()) name)

/// The exception of a type that an action throws (the test fails if it throws none).
let private thrown<'e when 'e :> exn> (action: unit -> unit) : 'e =
    try
        action ()
        failtestf "no %s was thrown" typeof<'e>.Name
    with :? 'e as e -> e

/// Runs SQL on a file as another program would.
let private sql (path: string) (text: string) =
    use c = new SqliteConnection(sprintf "Data Source=%s" path)
    c.Open()
    use cmd = c.CreateCommand()
    cmd.CommandText <- text
    cmd.ExecuteNonQuery() |> ignore

/// Deletes a store and its write-ahead log.
let private remove (path: string) =
    for f in [ path; path + "-wal"; path + "-shm" ] do if File.Exists f then File.Delete f

/// Runs a body in a new temporary folder, deleted afterwards.
let inTempFolder (name: string) (body: string -> unit) =
    let dir = temp name
    Directory.CreateDirectory dir |> ignore
    try body dir finally Directory.Delete(dir, true)

/// A small table in a folder: two features, two classes, 200 rows.
let twoClasses (dir: string) (seed: int) =
    let csv = Path.Combine(dir, "t.csv")
    let rng = Random seed
    File.WriteAllLines(csv, [| yield "a,b,kind"
                               for _ in 1 .. 200 do
                                   let c = rng.Next 2
                                   yield sprintf "%.3f,%.3f,%d" (float c + 0.3 * rng.NextDouble()) (rng.NextDouble()) c |])
    csv

/// `toolkit train` on a table's kind column, as a process of its own, recording into a store.
let private trainProcess (csv: string) (db: string) (more: string) =
    let psi = Diagnostics.ProcessStartInfo("dotnet", sprintf "%s train --data %s --label kind --runs %s %s" (Path.Combine(AppContext.BaseDirectory, "toolkit.dll")) csv db more,
                                           RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false)
    Diagnostics.Process.Start psi

let private epoch k acc = { Epoch = k; TrainLoss = 1.0 / float k; TrainAccuracy = acc - 0.01; TestLoss = 1.1 / float k; TestAccuracy = acc; Seconds = 0.5 }

/// A store file as the first version of the schema left it (written here, as an older Toolkit
/// wrote it), with one run of two epochs.
let private writeVersion1 (path: string) =
    use c = new SqliteConnection(sprintf "Data Source=%s" path)
    c.Open()
    use cmd = c.CreateCommand()
    cmd.CommandText <-
        """CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, started TEXT NOT NULL, finished TEXT, status TEXT NOT NULL,
               command TEXT NOT NULL, settings TEXT NOT NULL, machine TEXT NOT NULL, model TEXT, model_sha256 TEXT);
           CREATE TABLE epochs (run INTEGER NOT NULL REFERENCES runs(id), epoch INTEGER NOT NULL, train_loss REAL, train_accuracy REAL,
               test_loss REAL, test_accuracy REAL, seconds REAL NOT NULL, PRIMARY KEY (run, epoch));
           INSERT INTO runs (started, finished, status, command, settings, machine) VALUES
               ('2026-01-02T03:04:05.0000000Z', '2026-01-02T03:05:00.0000000Z', 'completed', 'toolkit train', '[["layers","784,30,10"]]', '[["host","old"]]');
           INSERT INTO epochs VALUES (1, 1, 0.3, 0.7, 0.31, 0.69, 2.0), (1, 2, 0.2, 0.8, 0.21, 0.79, 2.0);
           PRAGMA user_version = 1;"""
    cmd.ExecuteNonQuery() |> ignore

[<Tests>]
let tests =
    // sequenced: two tests run the command line in-process, which redirects the one Console
    testSequenced <| testList "run store" [
        test "a run as recorded: settings in order, every epoch, the status, the model's SHA-256; NaN accuracies stay NaN" {
            let path, model = temp "runs.db", temp "model.json"
            try
                File.WriteAllText(model, "{}")
                let store = RunStore.Open path
                let id = store.Start("toolkit train --epochs 2", [ "layers", "784,30,10"; "seed", "1" ], [ "host", "here" ], None)
                store.AddEpoch(id, epoch 1 0.8)
                store.AddEpoch(id, { epoch 2 0.85 with TrainAccuracy = nan; TestAccuracy = nan })
                Expect.equal (store.TryGet id).Value.Status "running" "running until finished"
                store.Finish(id, "completed", Some model)
                let r = (RunStore.Open path).TryGet(id).Value
                Expect.equal r.Settings [ "layers", "784,30,10"; "seed", "1" ] "settings, in order"
                Expect.equal r.Machine [ "host", "here" ] "machine"
                Expect.equal r.Status "completed" "status"
                Expect.equal (r.Epochs |> Array.map (fun e -> e.Epoch)) [| 1; 2 |] "epochs"
                Expect.equal r.Epochs.[0] (epoch 1 0.8) "an epoch's numbers exactly"
                Expect.isTrue (Double.IsNaN r.Epochs.[1].TestAccuracy) "NaN kept as NaN"
                Expect.equal r.ModelSha256 (Some "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a") "SHA-256 of '{}'"
                Expect.isSome r.Finished "finished"
                Expect.isNone (store.TryGet 99L) "no such run"
            finally
                remove path
                File.Delete model
        }
        test "the best run by a metric: highest accuracy, lowest loss; runs without the metric passed over" {
            let path = temp "runs.db"
            try
                let store = RunStore.Open path
                let ids =
                    [ for acc in [ 0.8; 0.9; 0.85 ] ->
                        let id = store.Start("t", [], [], None)
                        store.AddEpoch(id, epoch 1 acc)
                        id ]
                let empty = store.Start("t", [], [], None)
                let runs = store.List()
                Expect.equal (RunStore.Best("test-accuracy", runs)).Value.Id ids.[1] "highest accuracy"
                Expect.equal (RunStore.Best("test-loss", runs |> Array.filter (fun r -> r.Id <> ids.[0]))).Value.Id ids.[1] "lowest loss among equals: the first"
                Expect.isNone (RunStore.Best("test-accuracy", [ store.TryGet(empty).Value ])) "a run without epochs has no best"
                Expect.throwsT<ArgumentException> (fun () -> RunStore.Best("accuracy", runs) |> ignore) "an unknown metric"
            finally
                remove path
        }
        test "an older store migrates when opened, keeping its runs; a newer one is refused by name" {
            let path = temp "runs.db"
            try
                writeVersion1 path
                let store = RunStore.Open path
                let r = store.TryGet(1L).Value
                Expect.equal r.Settings [ "layers", "784,30,10" ] "the old run's settings"
                Expect.equal r.Epochs.Length 2 "its epochs"
                Expect.isNone r.Sweep "the column version 2 added, empty"
                let id = store.Start("t", [], [], Some "lr-sweep")
                Expect.equal (store.OfSweep "lr-sweep" |> Array.map (fun r -> r.Id)) [| id |] "a version-2 feature works"
                let version =
                    use c = new SqliteConnection(sprintf "Data Source=%s" path)
                    c.Open()
                    use cmd = c.CreateCommand()
                    cmd.CommandText <- "PRAGMA user_version;"
                    Convert.ToInt32(cmd.ExecuteScalar())
                Expect.equal version RunStore.SchemaVersion "the file is at the current version"
                sql path "PRAGMA user_version = 99;"
                let e = thrown<InvalidDataException> (fun () -> RunStore.Open path |> ignore)
                Expect.stringContains e.Message "newer Toolkit" "says why"
            finally
                remove path
        }
        test "files that are not run stores are refused with the file named: text, a damaged store, another program's database" {
            let path = temp "not.db"
            try
                File.WriteAllText(path, "epoch,loss\n1,0.5\n")
                let e = thrown<InvalidDataException> (fun () -> RunStore.Open path |> ignore)
                Expect.stringContains e.Message path "names the file"
                remove path
                sql path "CREATE TABLE people (name TEXT);"
                let e = thrown<InvalidDataException> (fun () -> RunStore.Open path |> ignore)
                Expect.stringContains e.Message "not a run store" "says why"
            finally
                remove path
        }
        test "mutated store files: every one opens and reads, or fails with InvalidDataException or IOException (no other exception)" {
            let good = temp "good.db"
            let store = RunStore.Open good
            for k in 1 .. 5 do
                let id = store.Start(sprintf "run %d" k, [ "seed", string k ], [], None)
                for e in 1 .. 3 do store.AddEpoch(id, epoch e 0.8)
                store.Finish(id, "completed", None)
            let bytes = File.ReadAllBytes good
            let rng = Random 7
            let mutable ok, refused = 0, 0
            for case in 1 .. 300 do
                let b = Array.copy bytes
                match case % 3 with
                | 0 -> for _ in 1 .. 1 + rng.Next 20 do b.[rng.Next b.Length] <- byte (rng.Next 256)
                | 1 -> Array.fill b (rng.Next b.Length) (min 64 (b.Length - 1) |> rng.Next) 0uy
                | _ -> ()
                let b = if case % 3 = 2 then Array.truncate (rng.Next b.Length) b else b
                let path = temp "mutated.db"
                File.WriteAllBytes(path, b)
                try
                    try
                        (RunStore.Open path).List() |> ignore
                        ok <- ok + 1
                    with
                    | :? InvalidDataException | :? IOException -> refused <- refused + 1
                finally
                    remove path
            remove good
            Expect.equal (ok + refused) 300 "every case ended in a result or a clear error"
            Expect.isGreaterThan refused 0 "some damage is found"
        }
        test "several writers at once, in threads: every run and every epoch recorded" {
            let path = temp "runs.db"
            try
                RunStore.Open path |> ignore
                let ids =
                    [| for w in 1 .. 8 -> async {
                           let store = RunStore.Open path
                           let id = store.Start(sprintf "writer %d" w, [ "writer", string w ], [], None)
                           for e in 1 .. 25 do store.AddEpoch(id, epoch e 0.5)
                           store.Finish(id, "completed", None)
                           return id } |]
                    |> Async.Parallel |> Async.RunSynchronously
                let runs = (RunStore.Open path).List()
                Expect.equal (runs |> Array.map (fun r -> r.Id) |> Array.sort) (Array.sort ids) "every run"
                for r in runs do
                    Expect.equal r.Epochs.Length 25 "every epoch"
                    Expect.equal r.Status "completed" "finished"
            finally
                remove path
        }
        test "several toolkit train processes at once into one store: every run complete; toolkit runs lists, shows, compares, plots" {
            inTempFolder "parallel" (fun dir ->
                let db = Path.Combine(dir, "runs.db")
                let csv = twoClasses dir 3
                let start (seed: int) = trainProcess csv db (sprintf "--epochs 4 --seed %d" seed)
                let processes = [ for seed in 1 .. 4 -> start seed ]
                for p in processes do
                    let err = p.StandardError.ReadToEndAsync()
                    p.StandardOutput.ReadToEnd() |> ignore
                    p.WaitForExit()
                    Expect.equal p.ExitCode 0 (sprintf "a train process: %s" err.Result)
                let runs = (RunStore.Open db).List()
                Expect.equal runs.Length 4 "four runs"
                Expect.equal (runs |> Array.map (fun r -> r.Status) |> Array.distinct) [| "completed" |] "all completed"
                Expect.equal (runs |> Array.map (fun r -> r.Epochs.Length) |> Array.distinct) [| 4 |] "all epochs"
                Expect.equal (runs |> Array.map (fun r -> r.Settings |> List.find (fst >> (=) "seed") |> snd) |> Array.sort) [| "1"; "2"; "3"; "4" |] "the seeds"
                let code, out, _ = CliTests.toolkit [ "runs"; "list"; "--runs"; db ]
                Expect.equal code 0 "list"
                Expect.equal (out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length) 5 "a header and four runs"
                let seed2 = runs |> Array.find (fun r -> r.Settings |> List.contains ("seed", "2"))
                let code, out, _ = CliTests.toolkit [ "runs"; "show"; string seed2.Id; "--runs"; db ]
                Expect.equal code 0 "show"
                Expect.stringContains out "--seed 2" "the command"
                Expect.stringContains out "epoch  train loss" "the epochs' table"
                let code, out, _ = CliTests.toolkit [ "runs"; "compare"; "1"; "2"; "3"; "--by"; "test-loss"; "--runs"; db ]
                Expect.equal code 0 "compare"
                Expect.stringContains out "seed" "the setting that differs"
                Expect.stringContains out "best by test-loss (lower is better)" "the best named"
                let best = (RunStore.Best("test-loss", runs |> Array.truncate 3)).Value
                Expect.stringContains out (sprintf "run %d (best)" best.Id) "the best marked"
                let chart = Path.Combine(dir, "c.html")
                let code, _, _ = CliTests.toolkit [ "runs"; "plot"; "1"; "4"; "--out"; chart; "--runs"; db ]
                Expect.equal code 0 "plot"
                Expect.stringContains (File.ReadAllText chart) "run 4" "the curves' names"
                let code, _, err = CliTests.toolkit [ "runs"; "show"; "9"; "--runs"; db ]
                Expect.equal (code, err.Trim()) (1, sprintf "error: %s has no run 9 (toolkit runs list shows them)" (Path.GetFullPath db)) "an unknown run"
                let code, _, err = CliTests.toolkit [ "runs"; "compare"; "1"; "2"; "--by"; "test-acuracy"; "--runs"; db ]
                Expect.equal code 1 "a misspelled metric"
                Expect.stringContains err "did you mean test-accuracy?" "suggested")
        }
        test "sweep settings: each option's values, layers keeping their commas, every combination once" {
            let settings = Toolkit.Cli.Sweep.parseSettings [ "lr=0.01,0.1"; "layers=2,8,2"; "--layers=2,16,2"; "seed=1,2,1" ]
            Expect.equal settings [ "lr", [ "0.01"; "0.1" ]; "layers", [ "2,8,2"; "2,16,2" ]; "seed", [ "1"; "2" ] ] "parsed"
            let g = Toolkit.Cli.Sweep.grid settings
            Expect.equal g.Length 8 "2 × 2 × 2"
            Expect.equal (List.distinct g).Length 8 "each once"
            Expect.equal g.Head [ "lr", "0.01"; "layers", "2,8,2"; "seed", "1" ] "the first"
        }
        test "toolkit sweep: a grid as parallel train processes, each recorded in the sweep with its own seed and model; a random sample; bad settings named" {
            inTempFolder "sweep" (fun dir ->
                let db = Path.Combine(dir, "runs.db")
                let csv = twoClasses dir 5
                let common = [ "--"; "--data"; csv; "--label"; "kind"; "--epochs"; "2" ]
                let code, out, err = CliTests.toolkit ([ "sweep"; "--set"; "lr=0.1,1"; "--set"; "batch=10,20"; "--parallel"; "2"; "--name"; "grid"; "--runs"; db; "--out"; Path.Combine(dir, "models") ] @ common)
                Expect.equal code 0 (sprintf "the sweep: %s" err)
                let runs = (RunStore.Open db).OfSweep "grid"
                Expect.equal runs.Length 4 "four runs in the sweep"
                Expect.equal (runs |> Array.map (fun r -> r.Status) |> Array.distinct) [| "completed" |] "all completed"
                let setting (r: RunRecord) k = r.Settings |> List.find (fst >> (=) k) |> snd
                Expect.equal (runs |> Array.map (fun r -> setting r "optimizer", setting r "batch") |> Array.sort)
                    [| "Sgd 0.1", "10"; "Sgd 0.1", "20"; "Sgd 1.0", "10"; "Sgd 1.0", "20" |] "every combination"
                Expect.equal (runs |> Array.map (fun r -> setting r "seed") |> Array.sort) [| "1"; "2"; "3"; "4" |] "each its own seed"
                for r in runs do Expect.isTrue (File.Exists r.Model.Value && r.ModelSha256.IsSome) "each its own model file, hashed"
                Expect.stringContains out "(best)" "the sweep's runs compared at the end"
                let code, _, _ = CliTests.toolkit ([ "sweep"; "--set"; "lr=0.01,0.1,1"; "--set"; "seed=1,2"; "--random"; "2"; "--name"; "sample"; "--runs"; db; "--out"; Path.Combine(dir, "m2") ] @ common)
                Expect.equal code 0 "a random sample"
                Expect.equal ((RunStore.Open db).OfSweep "sample").Length 2 "two of the six combinations"
                let code, _, err = CliTests.toolkit ([ "sweep"; "--set"; "lerning-rate=1"; "--runs"; db ] @ common)
                Expect.equal code 1 "an unknown option"
                Expect.stringContains err "not an option of toolkit train" "named"
                let code, _, err = CliTests.toolkit ([ "sweep"; "--set"; "save=a.json,b.json"; "--runs"; db ] @ common)
                Expect.equal code 1 "a per-run option"
                Expect.stringContains err "each run its own" "refused with the reason")
        }
        test "toolkit sweep on SIGTERM passes it on: each running training keeps its last epoch as cancelled, the sweep says so, exit 143" {
            inTempFolder "sweep-term" (fun dir ->
                let db = Path.Combine(dir, "runs.db")
                let csv = twoClasses dir 9
                let psi = Diagnostics.ProcessStartInfo("dotnet", sprintf "%s sweep --set lr=0.1,1 --parallel 2 --name held --runs %s --out %s -- --data %s --label kind --epochs 100000"
                                                                    (Path.Combine(AppContext.BaseDirectory, "toolkit.dll")) db (Path.Combine(dir, "models")) csv,
                                                       RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false)
                use p = Diagnostics.Process.Start psi
                // both trainings under way, each with epochs in the store, then SIGTERM to the sweep alone
                let sw = Diagnostics.Stopwatch.StartNew()
                let under () = try (RunStore.Open db).OfSweep "held" |> Array.filter (fun r -> r.Epochs.Length >= 2) |> Array.length with _ -> 0
                while under () < 2 && sw.Elapsed.TotalSeconds < 60.0 do Threading.Thread.Sleep 200
                Expect.equal (under ()) 2 "both runs recording epochs"
                Diagnostics.Process.Start("kill", sprintf "-TERM %d" p.Id).WaitForExit()
                let out, err = p.StandardOutput.ReadToEndAsync(), p.StandardError.ReadToEndAsync()
                if not (p.WaitForExit 60000) then
                    p.Kill true
                    failtest "the sweep did not end within a minute of SIGTERM"
                let err = err.Result
                Expect.equal p.ExitCode 143 (sprintf "exit code (%s)" err)
                Expect.stringContains err "sweep held interrupted: 2 of 2 runs recorded" "the sweep says what it kept"
                Expect.stringContains out.Result "interrupted (SIGTERM): its last completed epoch recorded" "each run's line"
                for r in (RunStore.Open db).OfSweep "held" do
                    Expect.equal r.Status "cancelled" (sprintf "run %d's status" r.Id)
                    Expect.isTrue (File.Exists r.Model.Value) (sprintf "run %d kept its model" r.Id))
        }
        test "a train process killed at any moment (kill -9, ten times) leaves the store whole: every completed run there, the killed one as far as it got" {
            inTempFolder "killed" (fun dir ->
                let db = Path.Combine(dir, "runs.db")
                let csv = twoClasses dir 7
                let train (epochs: int) = trainProcess csv db (sprintf "--epochs %d" epochs)
                // two complete runs first
                for _ in 1 .. 2 do
                    use p = train 3
                    p.StandardOutput.ReadToEnd() |> ignore
                    p.WaitForExit()
                    Expect.equal p.ExitCode 0 "a complete run"
                let rng = Random 11
                for attempt in 1 .. 10 do
                    use p = train 10000
                    // wait until its first epochs are being written, then kill it somewhere in the middle
                    let sw = Diagnostics.Stopwatch.StartNew()
                    while not (p.StandardOutput.ReadLine() |> fun l -> isNull l || l.StartsWith "epoch 2") && sw.Elapsed.TotalSeconds < 60.0 do ()
                    Threading.Thread.Sleep(rng.Next 200)
                    p.Kill true
                    p.WaitForExit()
                    let store = RunStore.Open db
                    let runs = store.List()
                    Expect.equal runs.Length (2 + attempt) (sprintf "attempt %d: every run there" attempt)
                    for r in runs |> Array.truncate 2 do
                        Expect.equal (r.Status, r.Epochs.Length) ("completed", 3) "the completed runs whole"
                    let killed = runs.[runs.Length - 1]
                    Expect.equal killed.Status "running" "the killed run, as far as it got"
                    Expect.isGreaterThanOrEqual killed.Epochs.Length 1 "its epochs so far"
                    Expect.equal (killed.Epochs |> Array.map (fun e -> e.Epoch)) [| 1 .. killed.Epochs.Length |] "no epoch half-written"
                use c = new SqliteConnection(sprintf "Data Source=%s" db)
                c.Open()
                use cmd = c.CreateCommand()
                cmd.CommandText <- "PRAGMA integrity_check;"
                Expect.equal (string (cmd.ExecuteScalar())) "ok" "SQLite's own check")
        }
    ]
