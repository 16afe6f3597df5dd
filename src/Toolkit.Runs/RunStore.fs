namespace Toolkit.Runs

open System
open System.IO
open System.Security.Cryptography
open System.Text.Json
open Microsoft.Data.Sqlite

/// One epoch of a run as the store keeps it (an accuracy is NaN where the run has none: a
/// regression).
type EpochRecord =
    { Epoch: int
      TrainLoss: float
      TrainAccuracy: float
      TestLoss: float
      TestAccuracy: float
      Seconds: float }

/// The metrics the store compares runs by, and which way is better.
[<RequireQualifiedAccess>]
module Metric =
    /// Every metric's name.
    let names = [ "test-accuracy"; "train-accuracy"; "test-loss"; "train-loss"; "seconds" ]

    /// A metric's value in an epoch.
    /// <exception cref="T:System.ArgumentException">The name is not one of <c>Metric.names</c>.</exception>
    let value (metric: string) (e: EpochRecord) =
        match metric with
        | "test-accuracy" -> e.TestAccuracy
        | "train-accuracy" -> e.TrainAccuracy
        | "test-loss" -> e.TestLoss
        | "train-loss" -> e.TrainLoss
        | "seconds" -> e.Seconds
        | m -> invalidArg "metric" (sprintf "'%s' is not one of %s" m (String.Join(", ", names)))

    /// Whether a larger value of the metric is better (accuracies) or a smaller one (losses, time).
    let higherIsBetter (metric: string) = metric.EndsWith "accuracy"

/// A run as the store keeps it: what it was asked to do, where, how it went, what it made.
type RunRecord =
    { Id: int64
      /// When the run started and finished (UTC); no finish while it runs or if it was killed.
      Started: DateTime
      Finished: DateTime option
      /// "running", "completed", "stopped early", "cancelled" or "failed: why".
      Status: string
      /// The command that made it ("toolkit train …", or "C# Trainer.Fit").
      Command: string
      /// The settings that make the run what it is (layers, optimiser, batch, seed, data …), in order.
      Settings: (string * string) list
      /// The machine it ran on (host, processors, OS, .NET, BLAS).
      Machine: (string * string) list
      /// The sweep it belongs to, if any.
      Sweep: string option
      /// The model file written, and the SHA-256 of its bytes when the run finished.
      Model: string option
      ModelSha256: string option
      Epochs: EpochRecord[] }

    /// The value of a metric at the run's last epoch (NaN if it has no epoch).
    member r.Final(metric: string) =
        match Array.tryLast r.Epochs with
        | None -> nan
        | Some e -> Metric.value metric e

/// <summary>
/// The runs of a machine (or a project) in one SQLite file: every <c>toolkit train</c>, every run of
/// a sweep, every C# <c>Trainer.Fit</c> given a store. Several processes may write to one file at
/// once (the database is in write-ahead-log mode; a writer waits up to 30 s for another's
/// transaction); the schema carries its version (<c>PRAGMA user_version</c>) and an older file is
/// migrated when opened.
/// </summary>
[<Sealed>]
type RunStore private (path: string) =

    /// The schema this build writes, and how each older one becomes the next: migration k takes
    /// a file from version k − 1 to k. Applied in one transaction per open, so two processes
    /// opening an old file at once migrate it once.
    static let migrations : string list =
        [ // 1: runs and their epochs
          """CREATE TABLE runs (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 started TEXT NOT NULL, finished TEXT, status TEXT NOT NULL, command TEXT NOT NULL,
                 settings TEXT NOT NULL, machine TEXT NOT NULL, model TEXT, model_sha256 TEXT);
             CREATE TABLE epochs (
                 run INTEGER NOT NULL REFERENCES runs(id), epoch INTEGER NOT NULL,
                 train_loss REAL, train_accuracy REAL, test_loss REAL, test_accuracy REAL, seconds REAL NOT NULL,
                 PRIMARY KEY (run, epoch));"""
          // 2: runs grouped into sweeps
          """ALTER TABLE runs ADD COLUMN sweep TEXT;
             CREATE INDEX runs_by_sweep ON runs(sweep);""" ]

    /// The file a run store is kept in when none is named: the TOOLKIT_RUNS environment
    /// variable's, else runs.db in the working directory.
    static member DefaultFile =
        match Environment.GetEnvironmentVariable "TOOLKIT_RUNS" with
        | null | "" -> "runs.db"
        | path -> path

    /// The schema version this build reads and writes.
    static member SchemaVersion = migrations.Length

    member private _.Connect() =
        let c = new SqliteConnection(SqliteConnectionStringBuilder(DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, DefaultTimeout = 30, Pooling = false).ToString())
        c.Open()
        use pragma = c.CreateCommand()
        pragma.CommandText <- "PRAGMA busy_timeout = 30000; PRAGMA foreign_keys = ON;"
        pragma.ExecuteNonQuery() |> ignore
        c

    /// The file the store is kept in.
    member _.Path = path

    /// <summary>Opens the store in a file, creating it if missing and migrating an older schema.</summary>
    /// <exception cref="T:System.IO.InvalidDataException">The file is not a run store (not SQLite,
    /// or not ours), or was written by a newer Toolkit.</exception>
    /// <exception cref="T:System.IO.IOException">The file cannot be opened or written.</exception>
    static member Open(path: string) : RunStore =
        let full = Path.GetFullPath path
        let store = RunStore(full)
        let fail why = raise (InvalidDataException(sprintf "%s: %s" path why))
        try
            use c = store.Connect()
            use wal = c.CreateCommand()
            wal.CommandText <- "PRAGMA journal_mode = WAL;"
            wal.ExecuteScalar() |> ignore
            use tx = c.BeginTransaction()
            let scalar (sql: string) =
                use cmd = c.CreateCommand()
                cmd.Transaction <- tx
                cmd.CommandText <- sql
                cmd.ExecuteScalar()
            let version = Convert.ToInt32(scalar "PRAGMA user_version;")
            if version > migrations.Length then
                fail (sprintf "written by a newer Toolkit (run store schema %d; this one reads up to %d)" version migrations.Length)
            if version = 0 && Convert.ToInt64(scalar "SELECT count(*) FROM sqlite_master;") > 0L then
                fail "a SQLite database, but not a run store (it has tables of its own)"
            for k in version + 1 .. migrations.Length do
                use cmd = c.CreateCommand()
                cmd.Transaction <- tx
                cmd.CommandText <- migrations.[k - 1] + sprintf "\nPRAGMA user_version = %d;" k
                cmd.ExecuteNonQuery() |> ignore
            tx.Commit()
        with :? SqliteException as e ->
            match e.SqliteErrorCode with
            // the file could not be opened or written (a folder without permission, a full disk):
            // a problem of the machine, not of the file's contents
            | 8 | 10 | 13 | 14 | 23 -> raise (IOException(sprintf "%s: the run store could not be opened for writing (%s)" path e.Message, e))
            | _ -> fail (sprintf "cannot be read as a run store (%s)" e.Message)
        store

    member private this.Execute(sql: string, parameters: (string * obj) list) =
        try
            use c = this.Connect()
            use cmd = c.CreateCommand()
            cmd.CommandText <- sql
            for name, value in parameters do
                cmd.Parameters.AddWithValue(name, (match value with null -> box DBNull.Value | v -> v)) |> ignore
            cmd.ExecuteScalar()
        with :? SqliteException as e ->
            raise (IOException(sprintf "%s: the run store could not be written (%s)" path e.Message, e))

    static member private Json(pairs: (string * string) list) =
        use ms = new MemoryStream()
        (use w = new Utf8JsonWriter(ms)
         w.WriteStartArray()
         for k, v in pairs do
             w.WriteStartArray()
             w.WriteStringValue k
             w.WriteStringValue v
             w.WriteEndArray()
         w.WriteEndArray())
        Text.Encoding.UTF8.GetString(ms.ToArray())

    static member private Pairs(json: string) =
        use doc = JsonDocument.Parse json
        [ for p in doc.RootElement.EnumerateArray() -> p.[0].GetString(), p.[1].GetString() ]

    /// The machine this process runs on, as the store records it.
    static member ThisMachine(blas: string) =
        [ "host", Environment.MachineName
          "processors", string Environment.ProcessorCount
          "os", Runtime.InteropServices.RuntimeInformation.OSDescription
          ".NET", Environment.Version.ToString()
          "blas", blas ]

    /// <summary>Records the start of a run; returns its id.</summary>
    /// <exception cref="T:System.IO.IOException">The store could not be written.</exception>
    member this.Start(command: string, settings: (string * string) list, machine: (string * string) list, sweep: string option) : int64 =
        this.Execute(
            "INSERT INTO runs (started, status, command, settings, machine, sweep) VALUES ($started, 'running', $command, $settings, $machine, $sweep) RETURNING id;",
            [ "$started", box (DateTime.UtcNow.ToString "O"); "$command", box command
              "$settings", box (RunStore.Json settings); "$machine", box (RunStore.Json machine)
              "$sweep", (match sweep with Some s -> box s | None -> null) ])
        |> Convert.ToInt64

    /// <summary>Records an epoch of a run (again for the same epoch: replaced, as a resumed run
    /// repeats none).</summary>
    /// <exception cref="T:System.IO.IOException">The store could not be written.</exception>
    member this.AddEpoch(run: int64, e: EpochRecord) =
        let number (v: float) = if Double.IsFinite v then box v else null
        this.Execute(
            "INSERT OR REPLACE INTO epochs (run, epoch, train_loss, train_accuracy, test_loss, test_accuracy, seconds) VALUES ($run, $epoch, $tl, $ta, $sl, $sa, $s);",
            [ "$run", box run; "$epoch", box e.Epoch; "$tl", number e.TrainLoss; "$ta", number e.TrainAccuracy
              "$sl", number e.TestLoss; "$sa", number e.TestAccuracy; "$s", box e.Seconds ])
        |> ignore

    /// <summary>Records how a run ended and the model file it wrote (hashed now).</summary>
    /// <exception cref="T:System.IO.IOException">The store could not be written.</exception>
    member this.Finish(run: int64, status: string, model: string option) =
        let hash =
            match model with
            | Some m when File.Exists m ->
                use f = File.OpenRead m
                Some(Convert.ToHexString(SHA256.HashData f).ToLowerInvariant())
            | _ -> None
        this.Execute(
            "UPDATE runs SET finished = $finished, status = $status, model = $model, model_sha256 = $hash WHERE id = $run;",
            [ "$finished", box (DateTime.UtcNow.ToString "O"); "$status", box status; "$run", box run
              "$model", (match model with Some m -> box (Path.GetFullPath m) | None -> null)
              "$hash", (match hash with Some h -> box h | None -> null) ])
        |> ignore

    member private this.Read(where: string, parameters: (string * obj) list) : RunRecord[] =
        try
            use c = this.Connect()
            let epochs = Collections.Generic.Dictionary<int64, ResizeArray<EpochRecord>>()
            (use cmd = c.CreateCommand()
             cmd.CommandText <- sprintf "SELECT e.run, e.epoch, e.train_loss, e.train_accuracy, e.test_loss, e.test_accuracy, e.seconds FROM epochs e JOIN runs ON runs.id = e.run %s ORDER BY e.run, e.epoch;" where
             for n, v in parameters do cmd.Parameters.AddWithValue(n, v) |> ignore
             use r = cmd.ExecuteReader()
             let number i = if r.IsDBNull i then nan else r.GetDouble i
             while r.Read() do
                 let run = r.GetInt64 0
                 if not (epochs.ContainsKey run) then epochs.[run] <- ResizeArray()
                 epochs.[run].Add { Epoch = r.GetInt32 1; TrainLoss = number 2; TrainAccuracy = number 3; TestLoss = number 4; TestAccuracy = number 5; Seconds = number 6 })
            use cmd = c.CreateCommand()
            cmd.CommandText <- sprintf "SELECT id, started, finished, status, command, settings, machine, sweep, model, model_sha256 FROM runs %s ORDER BY id;" where
            for n, v in parameters do cmd.Parameters.AddWithValue(n, v) |> ignore
            use r = cmd.ExecuteReader()
            let text i = if r.IsDBNull i then None else Some(r.GetString i)
            let time (s: string) = DateTime.Parse(s, Globalization.CultureInfo.InvariantCulture, Globalization.DateTimeStyles.RoundtripKind)
            [| while r.Read() do
                 let id = r.GetInt64 0
                 yield { Id = id; Started = time (r.GetString 1); Finished = text 2 |> Option.map time; Status = r.GetString 3
                         Command = r.GetString 4; Settings = RunStore.Pairs(r.GetString 5); Machine = RunStore.Pairs(r.GetString 6)
                         Sweep = text 7; Model = text 8; ModelSha256 = text 9
                         Epochs = match epochs.TryGetValue id with | true, e -> e.ToArray() | _ -> [||] } |]
        with
        | :? SqliteException as e -> raise (IOException(sprintf "%s: the run store could not be read (%s)" path e.Message, e))
        // a cell that is not what the schema says (a damaged file): a date, the settings' JSON, a type
        | :? FormatException | :? JsonException | :? InvalidCastException | :? InvalidOperationException | :? OverflowException as e ->
            raise (InvalidDataException(sprintf "%s: the run store is damaged (%s)" path e.Message, e))

    /// <summary>Every run, oldest first.</summary>
    /// <exception cref="T:System.IO.InvalidDataException">The file is damaged.</exception>
    /// <exception cref="T:System.IO.IOException">The file could not be read.</exception>
    member this.List() : RunRecord[] = this.Read("", [])

    /// The runs of a sweep, oldest first.
    member this.OfSweep(sweep: string) : RunRecord[] = this.Read("WHERE runs.sweep = $sweep", [ "$sweep", box sweep ])

    /// A run by its id.
    member this.TryGet(id: int64) : RunRecord option = this.Read("WHERE runs.id = $id", [ "$id", box id ]) |> Array.tryHead

    /// <summary>Of some runs, the best by a metric at their last epoch (accuracies: highest;
    /// losses and seconds: lowest); runs without that metric are passed over.</summary>
    /// <exception cref="T:System.ArgumentException">The metric is not one of <c>Metric.names</c>.</exception>
    static member Best(metric: string, runs: RunRecord seq) : RunRecord option =
        Metric.value metric { Epoch = 0; TrainLoss = 0.0; TrainAccuracy = 0.0; TestLoss = 0.0; TestAccuracy = 0.0; Seconds = 0.0 } |> ignore
        let scored = runs |> Seq.filter (fun r -> Double.IsFinite(r.Final metric)) |> Seq.toArray
        if scored.Length = 0 then None
        elif Metric.higherIsBetter metric then Some(scored |> Array.maxBy (fun r -> r.Final metric))
        else Some(scored |> Array.minBy (fun r -> r.Final metric))

    /// <summary>The settings in which some runs differ, in the order they first appear: what a
    /// comparison of them is about.</summary>
    static member DifferingSettings(runs: RunRecord seq) : string list =
        let runs = List.ofSeq runs
        let value (r: RunRecord) k = r.Settings |> List.tryFind (fst >> (=) k) |> Option.map snd |> Option.defaultValue ""
        runs
        |> List.collect (fun r -> r.Settings |> List.map fst)
        |> List.distinct
        |> List.filter (fun k -> runs |> List.map (fun r -> value r k) |> List.distinct |> List.length > 1)

