/// `toolkit train`, `toolkit eval`, `toolkit predict`: networks on Fashion-MNIST.
module Toolkit.Cli.TrainCmd

open System
open System.Diagnostics
open System.IO
open System.Threading
open Argu
open MathNet.Numerics.LinearAlgebra
open Toolkit.Data
open Toolkit.Linalg
open Toolkit.Nn
open Toolkit.Training

/// The options of `toolkit train`.
type TrainArgs =
    | [<Unique>] Data of path: string
    | [<Unique>] Label of column: string
    | [<Unique>] Target of column: string
    | [<Unique>] Test of path: string
    | [<Unique>] Test_Fraction of fraction: float
    | [<Unique>] Classes of path: string
    | [<Unique>] Header of yes_no: string
    | [<Unique>] Standardize of yes_no: string
    | [<Unique>] Layers of sizes: string
    | [<Unique>] Activation of name: string
    | [<Unique>] Output of name: string
    | [<Unique>] Loss of name: string
    | [<Unique>] Optimizer of name: string
    | [<Unique>] Lr of float
    | [<Unique>] Momentum of float
    | [<Unique>] Weight_Decay of float
    | [<Unique>] Dropout of rate: float
    | [<Unique>] Batch of int
    | [<Unique>] Epochs of int
    | [<Unique>] Seed of int
    | [<Unique>] Init of name: string
    | [<Unique>] Threads of int
    | [<Unique>] Validation of fraction: float
    | [<Unique>] Save of model: string
    | [<Unique>] Precision of bits: int
    | [<Unique>] Plot of dir: string
    | [<Unique>] Checkpoint of dir: string
    | [<Unique>] Resume of dir: string
    | [<Unique>] Runs of db: string
    | [<Unique>] Sweep of name: string
    | Distributed
    | Json
    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Data _ -> sprintf "a folder of IDX files in MNIST's layout (default %s), or a CSV file" FashionMnist.defaultDirectory
            | Label _ -> "CSV: the column (name, or number from 1) holding each row's class: whole numbers 0, 1, … or names"
            | Target _ -> "CSV: the column holding a real value to predict (regression: quadratic loss, identity output)"
            | Test _ -> "CSV: a test file with the same columns (default: hold out --test-fraction of the rows)"
            | Test_Fraction _ -> "CSV: the fraction of rows held out for testing when there is no --test file (default 0.2, seeded by --seed)"
            | Classes _ -> "a file of class names, one per line (default: a CSV's own names, classes.txt beside IDX files, Fashion-MNIST's for its folder, else numbers)"
            | Header _ -> "CSV: yes or no, whether the first line names the columns (default: decided from the data)"
            | Standardize _ -> "yes or no: train on each feature scaled to mean 0 and deviation 1 (by the training set), the scaling folded into the first layer of the saved model so it takes raw features (default: yes for CSV, no for images)"
            | Layers _ -> "layer sizes (default: the data's features,30,classes, 784,30,10 for Fashion-MNIST), or the layers themselves after the input, e.g. dense(256)-relu-dropout(0.2)-dense(10)-softmax, or for images conv(32,3,pad=1)-relu-pool(2)-dense(10)-softmax (conv, maxpool or pool, avgpool, batchnorm, flatten, dense, dropout, activations)"
            | Activation _ -> sprintf "hidden activation: sigmoid (default), or any of %s" (String.Join(", ", Toolkit.Nn.Activation.names ()))
            | Output _ -> "output activation: sigmoid (default), softmax, identity, or any hidden one"
            | Loss _ -> "cost: quadratic (default), cross-entropy, bce, hinge"
            | Optimizer _ -> "sgd (default), momentum, nesterov, adam, adamw, rmsprop, random-search, random-local-search"
            | Lr _ -> "learning rate (default 3.0, the notes' η, for sigmoid layers with the quadratic cost; 0.1 otherwise)"
            | Momentum _ -> "momentum for momentum/nesterov (default 0.9)"
            | Weight_Decay _ -> "AdamW's decoupled weight decay λ (default 0.01)"
            | Dropout _ -> "dropout after every hidden activation, at this rate (default 0: none)"
            | Batch _ -> "mini-batch size (default 10)"
            | Epochs _ -> "passes over the training data (default 1)"
            | Seed _ -> "seed of the weights and the shuffling (default 1)"
            | Init _ -> "weights: normal (N(0,1): the default for sigmoid networks, as in the notes), xavier (the default for tanh and identity), he (the default for relu, leakyrelu, elu, gelu, softplus), uniform (±1/√n_in, PyTorch's default)"
            | Threads _ -> "threads for the products (default: 1 when a batch's products are under 10 MFLOP; above, one or every core, whichever runs this network's step faster, measured at the start and every 200 batches; the results are the same bits on any count)"
            | Validation _ -> "hold out this fraction for early stopping (default 0: none)"
            | Save _ -> "save the trained network to this file (written atomically)"
            | Precision _ -> "32 (default: float32 storage and SGEMM) or 64 (float64 throughout)"
            | Plot _ -> "write the run's pictures into this folder: curves.svg and curves.html (loss and accuracy per epoch), confusion.svg (test set), misclassified.svg, run.json"
            | Checkpoint _ -> "save the training state (parameters, optimiser moments, random generators, measurements) to this folder after every epoch, atomically"
            | Runs _ -> "record the run (settings, every epoch's metrics, the machine, the model's hash) in this SQLite run store (default: $TOOLKIT_RUNS, else runs.db in the working directory; `toolkit runs` reads it)"
            | Sweep _ -> "record the run as one of this sweep's (toolkit sweep gives it)"
            | Distributed -> "one process of a data-parallel run, started as mpiexec -n K toolkit train --distributed …: each process takes --batch samples of every global batch of K × batch, the gradients are summed (MPI allreduce), every process applies the same update; process 0 alone prints, saves and records"
            | Resume _ -> "go on from the checkpoint in this folder (the same options; --epochs may grow): the weights come out bit for bit as an uninterrupted run's; it keeps checkpointing there"
            | Json -> "print one JSON object as the last line (test_accuracy, test_accuracy_per_epoch, …)"

let private fail fmt = Printf.kprintf (fun s -> raise (Grad.UserError s)) fmt

/// Ctrl-C or SIGTERM: one line saying what was kept, exit code 130 or 143 (as a shell reports a
/// command the signal ended).
exception Interrupted of string

/// Where the data comes from and how to read it (what train, eval and predict share).
type DataOptions =
    { Path: string
      Label: string option
      Target: string option
      Test: string option
      TestFraction: float
      Classes: string option
      Header: bool option }

/// The options for a folder of IDX files, or a table whose columns are given after.
let dataAt (path: string) : DataOptions =
    { Path = path; Label = None; Target = None; Test = None; TestFraction = 0.2; Classes = None; Header = None }

/// Reads an option's yes or no.
let yesNo (flag: string) (text: string) : bool =
    match text.ToLowerInvariant() with
    | "yes" | "true" -> true
    | "no" | "false" -> false
    | _ -> fail "%s: '%s' is not yes or no" flag text

/// Reads --header's yes or no (None: decided from the data).
let header (text: string option) : bool option = text |> Option.map (yesNo "--header")

/// The target column a table's options name (None for a folder of IDX images).
let private tableTarget (o: DataOptions) : Target option =
    if Directory.Exists o.Path then
        if o.Label.IsSome || o.Target.IsSome then fail "--label/--target: %s is a folder of IDX images, whose classes are in its label files" o.Path
        if o.Test.IsSome then fail "--test: %s is a folder of IDX images, whose test set is its t10k files" o.Path
        None
    elif File.Exists o.Path then
        match o.Label, o.Target with
        | Some c, None -> Some(Toolkit.Training.Target.Label c)
        | None, Some c -> Some(Toolkit.Training.Target.Value c)
        | Some _, Some _ -> fail "--label and --target: give one, the column of classes or the column of values"
        | None, None -> fail "--data %s is a table: say which column to predict, --label COLUMN (classes) or --target COLUMN (a real value)" o.Path
    else raise (FileNotFoundException(sprintf "%s: no such file or folder" o.Path, o.Path))

/// The training and test data the options name.
let dataSet (o: DataOptions) (seed: int) : DataSet =
    let classes = o.Classes |> Option.map Datasets.readClassNames
    if not (o.TestFraction > 0.0 && o.TestFraction < 1.0) then fail "--test-fraction: %g is not a fraction between 0 and 1" o.TestFraction
    match tableTarget o with
    | None -> Datasets.images o.Path classes
    | Some target -> Datasets.csv o.Path o.Test o.TestFraction seed target o.Header classes

/// The test data the options name, for a saved model: its class names (or the options', or
/// its outputs numbered) number the classes as in training.
let testSet (o: DataOptions) (net: Network) (modelClasses: string[]) : LabelledData * Task * ImageShape option =
    let given =
        if modelClasses.Length > 0 then Some modelClasses
        else o.Classes |> Option.map Datasets.readClassNames
    let data, task, image =
        match tableTarget o with
        | None -> Datasets.imagesTest o.Path given net.Outputs
        | Some target ->
            let given = match target, given with Toolkit.Training.Target.Label _, None -> Some(Datasets.numbered net.Outputs) | _ -> given
            let d, task = Datasets.csvTest o.Path target o.Header given
            d, task, None
    if data.X.RowCount <> net.Inputs then
        fail "the model takes %d inputs, but the samples of %s have %d values" net.Inputs o.Path data.X.RowCount
    if Datasets.outputs task <> net.Outputs then
        fail "the model gives %d outputs, but %s asks for %d (%s)" net.Outputs o.Path (Datasets.outputs task)
            (match task with Task.Classes n -> sprintf "%d classes" n.Length | Task.Regression t -> sprintf "the value of '%s'" t)
    data, task, image

/// The process's peak working set so far, in MB (what the benchmarks report).
let private peakMemory () = float (Process.GetCurrentProcess().PeakWorkingSet64) / 1048576.0

/// A progress display: a live bar on a terminal, plain lines otherwise.
let progress (quiet: bool) : TrainingEvent -> unit =
    let live = not Console.IsOutputRedirected
    let sw = Stopwatch.StartNew()
    let mutable lastLine = TimeSpan.Zero
    let mutable epochStart = TimeSpan.Zero
    let mutable runningLoss = 0.0
    let mutable runningAccuracy = 0.0
    fun e ->
        if not quiet then
            match e with
            | BatchEnded (epoch, batch, batches, loss, accuracy) ->
                if batch = 1 then
                    epochStart <- sw.Elapsed
                    runningLoss <- loss
                    runningAccuracy <- accuracy
                // running means over about the last fifty batches
                runningLoss <- 0.98 * runningLoss + 0.02 * loss
                runningAccuracy <- 0.98 * runningAccuracy + 0.02 * accuracy
                let now = sw.Elapsed
                if live && (now - lastLine).TotalMilliseconds > 100.0 || batch = batches then
                    lastLine <- now
                    let elapsed = (now - epochStart).TotalSeconds
                    let eta = elapsed / float batch * float (batches - batch)
                    let width = 30
                    let filled = width * batch / batches
                    let bar = String('#', filled) + String('.', width - filled)
                    let accuracy = if Double.IsNaN runningAccuracy then "" else sprintf ", accuracy %.3f" runningAccuracy
                    if live then
                        Console.Write(sprintf "\repoch %d [%s] %d/%d batches, loss %.4f%s, %.1fs elapsed, ETA %.1fs   " epoch bar batch batches runningLoss accuracy elapsed eta)
                elif not live && (now - lastLine).TotalSeconds >= 5.0 then
                    lastLine <- now
                    printfn "epoch %d: %d/%d batches, loss %.4f%s" epoch batch batches runningLoss (if Double.IsNaN runningAccuracy then "" else sprintf ", accuracy %.3f" runningAccuracy)
            | EpochEnded m ->
                if live then Console.Write("\r" + String(' ', 110) + "\r")
                let validation = match m.ValidationLoss with Some v -> sprintf ", validation loss %.4f" v | None -> ""
                // real-valued targets have losses and no accuracy
                if Double.IsNaN m.TrainAccuracy then
                    printfn "epoch %d: train loss %.6g, test loss %.6g%s, %.2f s" m.Epoch m.TrainLoss m.TestLoss validation m.Seconds
                else
                    printfn "epoch %d: train loss %.4f, train accuracy %.4f, test loss %.4f, test accuracy %.4f%s, %.2f s"
                        m.Epoch m.TrainLoss m.TrainAccuracy m.TestLoss m.TestAccuracy validation m.Seconds

/// Every option name of `toolkit train` (--lr, --layers, …).
let optionNames () =
    ArgumentParser.Create<TrainArgs>().GetArgumentCases() |> List.collect (fun c -> c.CommandLineNames.Value)

/// Runs `toolkit train`; returns the exit code.
let run (args: ParseResults<TrainArgs>) : int =
    // Ctrl-C or SIGTERM stops training at the next batch and keeps what the completed epochs
    // made (and during set-up it ends the run with one line), instead of killing the process
    use cts = new CancellationTokenSource()
    use _ = Signals.onInterrupt cts ignore
    // without --layers: the data's features, 30 hidden units, its classes (784,30,10 on Fashion-MNIST)
    let layersText = args.TryGetResult Layers
    // sizes (784,30,10) build the notes' dense stacks; a stack of layer specs is taken as written
    let sizes =
        match layersText with
        | None -> None
        | Some text when text |> Seq.exists Char.IsLetter -> None
        | Some text ->
            match text.Split(',') |> Array.map (fun s -> Int32.TryParse(s.Trim())) with
            | parts when parts.Length >= 2 && parts |> Array.forall (fun (ok, v) -> ok && v > 0) -> Some(parts |> Array.map snd |> List.ofArray)
            | _ -> fail "--layers: '%s' is not a list of at least two positive sizes, e.g. 784,30,10, nor a stack of layers, e.g. dense(30)-sigmoid-dense(10)-sigmoid" text
    let regression = args.Contains Target
    let activation (flag: string) (text: string) =
        match Toolkit.Nn.Activation.tryParse text with
        | Some a -> a
        | None -> fail "%s: '%s' is not one of %s%s" flag text (String.Join(", ", Toolkit.Nn.Activation.names ())) (Toolkit.Suggest.didYouMean (Toolkit.Nn.Activation.names ()) text)
    // a stack of layers is read now (with a stand-in input size) so that a bad spec is named
    // before the data loads, and so that its first activation chooses the defaults below
    let stack =
        match sizes, layersText with
        | Some _, _ | _, None -> None
        | None, Some layersText ->
            if args.Contains Activation || args.Contains Output || args.Contains Dropout then
                fail "--layers: a stack of layers names its activations and dropout itself; --activation, --output and --dropout go with sizes such as 784,30,10"
            // image layers are read against a stand-in image, the rest against a stand-in vector;
            // a stack of image layers whose sizes do not fit the stand-in waits for the data's shape
            let image = Layers.startsWithImageLayer layersText
            try Some(Layers.parseStackShaped (if image then SampleShape.Image(1, 256, 256) else SampleShape.Flat 1) layersText)
            with :? LayerSpecException as e -> if image then None else fail "--layers: %s" e.Message
    let hidden =
        match stack, sizes, layersText with
        | Some layers, _, _ -> layers |> Array.tryPick (fun l -> Toolkit.Nn.Activation.tryParse l.Kind) |> Option.defaultValue Toolkit.Nn.Activation.Identity
        | None, None, Some text ->
            // an image stack read later: its first activation by name
            text.Split('-') |> Array.tryPick (fun t -> Toolkit.Nn.Activation.tryParse t) |> Option.defaultValue Toolkit.Nn.Activation.Identity
        | None, _, _ -> activation "--activation" (args.GetResult(Activation, "sigmoid"))
    // a real value is predicted by an identity output under the quadratic loss
    let output = activation "--output" (args.GetResult(Output, (if regression then "identity" else "sigmoid")))
    let loss =
        let text = args.GetResult(Loss, "quadratic")
        match Toolkit.Tensors.Loss.tryParse text with
        | Some l -> l
        | None -> fail "--loss: '%s' is not one of quadratic, cross-entropy, bce, hinge" text
    if regression && loss <> Toolkit.Tensors.Loss.Quadratic then
        fail "--loss %s: a real-valued --target trains with the quadratic loss" (Toolkit.Tensors.Loss.name loss)
    let dropout = args.GetResult(Dropout, 0.0)
    if not (dropout >= 0.0 && dropout < 1.0) then fail "--dropout: %g is not a rate from 0 up to (not including) 1" dropout
    // the notes' η = 3 is for their network: sigmoid layers, quadratic cost. Anywhere else it
    // drives a network to saturation in the first epoch; η = 0.1 trains every other combination
    // measured (784-30-10, one epoch, seed 1: ReLU, softplus, GELU, ELU, tanh with the quadratic
    // cost 0.820-0.825; ReLU, GELU, tanh with softmax and cross-entropy 0.806-0.818, where η = 0.5
    // reaches 0.14-0.66)
    let notes = hidden = Toolkit.Nn.Activation.Sigmoid && loss = Toolkit.Tensors.Loss.Quadratic
    let lr = args.GetResult(Lr, (if notes then 3.0 else 0.1))
    let momentum = args.GetResult(Momentum, 0.9)
    if not (lr > 0.0) then fail "--lr: %g is not a positive learning rate" lr
    let optimizer =
        match args.GetResult(Optimizer, "sgd").ToLowerInvariant() with
        | "sgd" -> Toolkit.Nn.Optimizer.Sgd lr
        | "momentum" -> Toolkit.Nn.Optimizer.Momentum(lr, momentum)
        | "nesterov" -> Toolkit.Nn.Optimizer.Nesterov(lr, momentum)
        | "adam" -> Toolkit.Nn.Optimizer.Adam(lr, 0.9, 0.999, 1e-8)
        | "adamw" -> Toolkit.Nn.Optimizer.AdamW(lr, 0.9, 0.999, 1e-8, args.GetResult(Weight_Decay, 0.01))
        | "rmsprop" -> Toolkit.Nn.Optimizer.RmsProp(lr, 0.99, 1e-8)
        | "random-search" -> Toolkit.Nn.Optimizer.RandomSearch 1.0
        | "random-local-search" -> Toolkit.Nn.Optimizer.RandomLocalSearch lr
        | o ->
            let names = [ "sgd"; "momentum"; "nesterov"; "adam"; "adamw"; "rmsprop"; "random-search"; "random-local-search" ]
            fail "--optimizer: '%s' is not one of %s%s" o (String.Join(", ", names)) (Toolkit.Suggest.didYouMean names o)
    // each activation's own initialisation (a stack's: its first activation's): the notes' N(0, 1)
    // for sigmoid, He (variance 2/n_in, which keeps a ReLU layer's output variance) for the ReLU
    // family, Xavier otherwise; on 784-256-128-10 after 5 epochs,
    // seeds 1–5, He averages 0.870 on the test set, Xavier 0.870, uniform 0.866
    let defaultInit =
        match hidden with
        | Toolkit.Nn.Activation.Elementwise Toolkit.Graph.UnaryOp.Sigmoid -> "normal"
        | Toolkit.Nn.Activation.Elementwise (Toolkit.Graph.UnaryOp.Relu | Toolkit.Graph.UnaryOp.LeakyRelu _ | Toolkit.Graph.UnaryOp.Elu | Toolkit.Graph.UnaryOp.Gelu | Toolkit.Graph.UnaryOp.Softplus) -> "he"
        | _ -> "xavier"
    let init =
        match args.GetResult(Init, defaultInit).ToLowerInvariant() with
        | "normal" -> Toolkit.Nn.Init.Normal
        | "xavier" | "glorot" -> Toolkit.Nn.Init.Xavier
        | "he" -> Toolkit.Nn.Init.He
        | "uniform" -> Toolkit.Nn.Init.Uniform
        | i -> fail "--init: '%s' is not one of normal, xavier, he, uniform" i
    let batch = args.GetResult(Batch, 10)
    let epochs = args.GetResult(Epochs, 1)
    if batch < 1 then fail "--batch: %d is not a positive batch size" batch
    if epochs < 1 then fail "--epochs: %d is not a positive number of epochs" epochs
    match args.TryGetResult Threads with
    | Some t when t < 1 -> fail "--threads: %d is not a positive thread count" t
    | _ -> ()
    let seed = args.GetResult(Seed, 1)
    let precision =
        match args.GetResult(Precision, 32) with
        | 32 -> Toolkit.Training.Precision.Single
        | 64 -> Toolkit.Training.Precision.Double
        | b -> fail "--precision: %d is not 32 or 64" b
    let json = args.Contains Json
    // a data-parallel run: MPI started, and every process but the first silent (it trains alike)
    let mpi = if args.Contains Distributed then Some(Mpi.start ()) else None
    let lead = match mpi with Some w -> w.Rank = 0 | None -> true
    if not lead then Console.SetOut IO.TextWriter.Null
    // a model that cannot be written is found out before training, not after
    match args.TryGetResult Save with
    | Some path ->
        let dir = IO.Path.GetDirectoryName(IO.Path.GetFullPath path)
        if not (IO.Directory.Exists dir) then fail "--save %s: the folder '%s' does not exist" path dir
    | None -> ()
    let options =
        { dataAt (args.GetResult(Data, FashionMnist.defaultDirectory)) with
            Label = args.TryGetResult Label; Target = args.TryGetResult Target; Test = args.TryGetResult Test
            TestFraction = args.GetResult(Test_Fraction, 0.2); Classes = args.TryGetResult Classes; Header = header (args.TryGetResult Header) }
    let data = dataSet options seed
    // features of any range train as well as pixels in [0, 1] do once standardised; the saved
    // model takes raw features (the scaling folded into its first layer)
    let standardize =
        match args.TryGetResult Standardize with
        | None -> data.Image.IsNone
        | Some t -> yesNo "--standardize" t
    let scaling = if standardize then Some(Datasets.moments data.Train) else None
    let train, test =
        match scaling with
        | Some (mean, sd) -> Datasets.standardise mean sd data.Train, Datasets.standardise mean sd data.Test
        | None -> data.Train, data.Test
    if cts.IsCancellationRequested then raise (Interrupted "interrupted while loading the data: nothing was trained")
    let features, outputs = train.X.RowCount, Datasets.outputs data.Task
    let what = match data.Task with Task.Classes n -> sprintf "the %d classes" n.Length | Task.Regression t -> sprintf "the one value of '%s'" t
    let net =
        match sizes, layersText with
        | None, Some layersText ->
            let shape = match data.Image with Some image -> image.Sample | None -> SampleShape.Flat features
            let layers =
                try Layers.parseStackShaped shape layersText
                with :? LayerSpecException as e -> fail "--layers: %s" e.Message
            if layers.[layers.Length - 1].Outputs <> outputs then fail "--layers: the last layer must give %s, not %d outputs" what layers.[layers.Length - 1].Outputs
            Network.ofLayers layers loss init seed
        | _ ->
            let sizes = sizes |> Option.defaultValue [ features; 30; outputs ]
            if features <> sizes.Head then fail "--layers: the first size must be the %d values of a sample, not %d" features sizes.Head
            if List.last sizes <> outputs then fail "--layers: the last size must be %s, not %d" what (List.last sizes)
            let net = Network.create sizes hidden output loss init seed
            if dropout = 0.0 then net else Network.withDropout dropout net
    if standardize && net.Layers.[0].Kind <> "dense" then
        fail "--standardize: the scaling is kept in the first layer, which must be dense, not %s (or say --standardize no)" net.Layers.[0].Spec
    let sizes = Network.sizes net
    // the threads: given; or one for products too small to share (under 10 MFLOP a batch); or,
    // above that, one thread or every core, whichever runs this network's step faster at the
    // start, and re-chosen as training goes (a neighbour may take the second core at any time).
    // A product's bits do not depend on the threads, so neither does the training.
    let adaptive =
        match args.TryGetResult Threads with
        | Some t -> Blas.setThreads t; None
        | None ->
            // processes of a data-parallel run on one machine share its cores
            let perProcess = match mpi with Some w -> max 1 (Environment.ProcessorCount / w.Size) | None -> Environment.ProcessorCount
            if Toolkit.Nn.FastPath.threadsFor net.Layers batch = 1 || perProcess = 1 then (Blas.setThreads 1; None)
            else
                let c = Toolkit.Nn.ThreadChoice.measure net batch (precision = Toolkit.Training.Precision.Single) [ 1; perProcess ]
                Some(c, Toolkit.Nn.AdaptiveThreads(c.Threads, [ 1; perProcess ], 200, 5))
    // every process starts from the first one's weights
    match mpi with Some w -> w.Broadcast net.Parameters | None -> ()
    let config =
        { Epochs = epochs; BatchSize = batch; Optimizer = optimizer; Schedule = Schedule.Constant; Seed = seed
          ValidationFraction = args.GetResult(Validation, 0.0); Patience = 3; Precision = precision }
    let describe (o: Toolkit.Nn.Optimizer) =
        match o with
        | Toolkit.Nn.Optimizer.Sgd lr | Toolkit.Nn.Optimizer.GradientDescent lr -> sprintf "SGD η = %g" lr
        | Toolkit.Nn.Optimizer.Momentum (lr, mu) -> sprintf "momentum %g, η = %g" mu lr
        | Toolkit.Nn.Optimizer.Nesterov (lr, mu) -> sprintf "Nesterov momentum %g, η = %g" mu lr
        | Toolkit.Nn.Optimizer.Adam (lr, _, _, _) -> sprintf "Adam η = %g" lr
        | Toolkit.Nn.Optimizer.AdamW (lr, _, _, _, wd) -> sprintf "AdamW η = %g, weight decay %g" lr wd
        | Toolkit.Nn.Optimizer.RmsProp (lr, rho, _) -> sprintf "RMSProp η = %g, ρ = %g" lr rho
        | Toolkit.Nn.Optimizer.RandomSearch s -> sprintf "random search (scale %g)" s
        | Toolkit.Nn.Optimizer.RandomLocalSearch s -> sprintf "random local search (step %g)" s
    if not json then
        printfn "%s (%s), %s cost, %s, batch %d, %d epoch%s, %s; %s"
            (Network.shapes net) (Network.describe net) (Toolkit.Tensors.Loss.name loss)
            (describe optimizer) batch epochs (if epochs = 1 then "" else "s") (match precision with Toolkit.Training.Precision.Single -> "float32" | _ -> "float64") (Blas.describe ())
        match adaptive with
        | Some (c, a) -> printfn "threads measured: %O; training on %d, measured again every %d batches" c c.Threads a.Period
        | None -> ()
    // what makes this run this run: a resumed run must match the checkpoint in all of it
    let fingerprint =
        [ "data", IO.Path.GetFullPath options.Path
          "label", defaultArg options.Label ""; "target", defaultArg options.Target ""
          "test", (match options.Test, data.Image with
                   | Some t, _ -> IO.Path.GetFullPath t
                   | None, Some _ -> "the folder's t10k files"
                   | None, None -> sprintf "%g held out" options.TestFraction)
          "classes", (match data.Task with Task.Classes n -> String.Join("|", n) | Task.Regression t -> t)
          "standardize", string standardize; "layers", Network.describe net; "loss", Toolkit.Tensors.Loss.name loss
          "optimizer", sprintf "%A" optimizer; "schedule", sprintf "%A" config.Schedule; "batch", string batch; "seed", string seed
          "init", sprintf "%A" init; "validation", sprintf "%g" config.ValidationFraction
          "precision", (match precision with Toolkit.Training.Precision.Single -> "32" | _ -> "64") ]
        @ (match mpi with Some w -> [ "processes", string w.Size ] | None -> [])
    let checkpointDir = match args.TryGetResult Resume with Some d -> Some d | None -> args.TryGetResult Checkpoint
    let resume =
        match args.TryGetResult Resume with
        | None -> None
        | Some dir ->
            let saved, state = Toolkit.Training.Checkpoint.load dir
            match Toolkit.Training.Checkpoint.differences saved fingerprint with
            | [] -> ()
            | diffs -> fail "--resume %s: the checkpoint is of another run (%s)" dir (String.Join("; ", diffs))
            if state.Epoch > epochs then fail "--resume %s: the checkpoint has %d epochs done, more than --epochs %d" dir state.Epoch epochs
            if not json then printfn "resuming from %s after epoch %d" dir state.Epoch
            Some state
    match args.TryGetResult Checkpoint, args.TryGetResult Resume with
    | Some c, Some r when IO.Path.GetFullPath c <> IO.Path.GetFullPath r ->
        fail "--checkpoint %s and --resume %s: a resumed run checkpoints where it resumed from" c r
    | _ -> ()
    let onEpoch =
        match checkpointDir with
        | Some dir when lead -> Toolkit.Training.Checkpoint.save dir fingerprint
        | _ -> ignore
    // the run store: the run recorded as it goes (a crash leaves it "running" with its epochs);
    // a store that cannot be written (a read-only folder, a full disk) costs the record, not the run
    let storeFile = args.GetResult(Runs, Toolkit.Runs.RunStore.DefaultFile)
    let mutable recorder =
        if not lead then None else
        try
            let store = Toolkit.Runs.RunStore.Open storeFile
            let settings = fingerprint @ [ "epochs", string epochs ]
            Some(store, store.Start("toolkit " + String.Join(" ", Environment.GetCommandLineArgs() |> Array.skip 1), settings, Toolkit.Runs.RunStore.ThisMachine(Blas.describe ()), args.TryGetResult Sweep))
        with
        | :? IO.InvalidDataException as e -> fail "--runs: %s" e.Message
        | :? IO.IOException | :? UnauthorizedAccessException as e ->
            eprintfn "warning: the run is not recorded: %s" e.Message
            None
    let toStore (write: Toolkit.Runs.RunStore -> int64 -> unit) =
        match recorder with
        | Some (store, id) ->
            try write store id
            with :? IO.IOException as e ->
                eprintfn "warning: the run is no longer recorded: %s" e.Message
                recorder <- None
        | None -> ()
    // one display for the whole run: it keeps the time of its last line between events
    let show = progress json
    let record (e: TrainingEvent) =
        show e
        // an epoch's first batch follows the last one's evaluation: its time is not the batch's
        match e, adaptive with
        | BatchEnded (_, 1, _, _, _), Some (_, a) -> a.Restart()
        | BatchEnded _, Some (_, a) -> a.BatchEnded()
        | _ -> ()
        match e with
        | EpochEnded m ->
            toStore (fun store id ->
                store.AddEpoch(id, { Epoch = m.Epoch; TrainLoss = m.TrainLoss; TrainAccuracy = m.TrainAccuracy; TestLoss = m.TestLoss; TestAccuracy = m.TestAccuracy; Seconds = m.Seconds }))
        | _ -> ()
    let result =
        try
            match mpi with
            | Some w -> Train.fitDistributed w.Sum config net train test record cts.Token resume onEpoch
            | None -> Train.fitFrom config net train test record cts.Token resume onEpoch
        with
        | :? NonFiniteLossException as e ->
            toStore (fun store id -> store.Finish(id, "failed: " + e.Message, None))
            raise (Grad.UserError e.Message)
        | e ->
            toStore (fun store id -> store.Finish(id, "failed: " + e.Message, None))
            reraise ()
    if result.Cancelled && result.Epochs.Length = 0 then
        toStore (fun store id -> store.Finish(id, "cancelled", None))
        raise (Interrupted "interrupted in epoch 1: no epoch completed, nothing was saved")
    // the model as it will be used: on raw features
    let model = match scaling with Some (mean, sd) -> Network.withInputScaling mean sd result.Network | None -> result.Network
    match args.TryGetResult Save with
    | Some path when lead ->
        ModelFile.saveWithClasses path model (match data.Task with Task.Classes n -> n | Task.Regression _ -> [||])
        if not json then printfn "saved %s" path
    | _ -> ()
    toStore (fun store id -> store.Finish(id, (if result.Cancelled then "cancelled" elif result.StoppedEarly then "stopped early" else "completed"), args.TryGetResult Save))
    match recorder with
    | Some (_, id) when not json -> printfn "recorded as run %d in %s (toolkit runs show %d)" id storeFile id
    | _ -> ()
    let last = Array.last result.Epochs
    let trainSamples = float train.X.ColumnCount * (1.0 - config.ValidationFraction)
    let seconds = result.Epochs |> Array.sumBy (fun e -> e.Seconds)
    let runJson =
            Json.objectText (fun w ->
                Json.number w "test_accuracy" last.TestAccuracy
                Json.number w "train_accuracy" last.TrainAccuracy
                w.WriteNumber("test_loss", last.TestLoss)
                let series (name: string) (f: EpochMetrics -> float) =
                    w.WriteStartArray(name)
                    for e in result.Epochs do Json.numberValue w (f e)
                    w.WriteEndArray()
                series "test_accuracy_per_epoch" (fun e -> e.TestAccuracy)
                series "train_accuracy_per_epoch" (fun e -> e.TrainAccuracy)
                series "train_loss_per_epoch" (fun e -> e.TrainLoss)
                series "test_loss_per_epoch" (fun e -> e.TestLoss)
                series "seconds_per_epoch" (fun e -> e.Seconds)
                w.WriteNumber("samples_per_second", trainSamples * float result.Epochs.Length / seconds)
                w.WriteNumber("epochs", result.Epochs.Length)
                match mpi with
                | Some world ->
                    w.WriteNumber("processes", world.Size)
                    w.WriteNumber("allreduce_seconds", world.SumSeconds ())
                | None -> ()
                match recorder with Some (_, id) -> w.WriteNumber("run", id) | None -> ()
                w.WriteBoolean("stopped_early", result.StoppedEarly)
                w.WriteBoolean("interrupted", result.Cancelled)
                w.WriteString("layers", String.Join(",", sizes))
                match data.Task with
                | Task.Classes names ->
                    w.WriteStartArray("classes")
                    for c in names do w.WriteStringValue c
                    w.WriteEndArray()
                | Task.Regression target -> w.WriteString("target", target)
                w.WriteString("provider", (Blas.status ()).Provider)
                match adaptive with
                | Some (c, a) ->
                    w.WriteNumber("threads", a.Chosen)
                    w.WriteStartObject("step_seconds_by_threads")
                    for t, sec in c.StepSeconds do w.WriteNumber(string t, sec)
                    w.WriteEndObject()
                    w.WriteNumber("thread_switches", a.Switches)
                | None -> w.WriteNumber("threads", Blas.threads ())
                w.WriteNumber("peak_memory_mb", peakMemory ()))
    match args.TryGetResult Plot with
    | Some dir when lead ->
        IO.Directory.CreateDirectory dir |> ignore
        // the run record first: a picture that cannot be drawn does not lose it
        Toolkit.AtomicFile.writeAllText (IO.Path.Combine(dir, "run.json")) (runJson + "\n")
        let e = result.Epochs
        let curves : Pictures.Curves =
            { Title = Network.shapes net
              TrainLoss = e |> Array.map (fun m -> m.TrainLoss); TestLoss = e |> Array.map (fun m -> m.TestLoss)
              TrainAccuracy = e |> Array.map (fun m -> m.TrainAccuracy); TestAccuracy = e |> Array.map (fun m -> m.TestAccuracy) }
        Pictures.writeCurves (IO.Path.Combine(dir, "curves.svg")) curves
        Pictures.writeCurves (IO.Path.Combine(dir, "curves.html")) curves
        let written = ResizeArray [ "curves.svg"; "curves.html" ]
        match data.Task with
        | Task.Regression _ -> ()
        | Task.Classes names ->
            let predicted = Network.classifySamples result.Network test.X
            let counts = Network.confusionOf predicted test.Labels names.Length
            let title = sprintf "test set: %d samples, accuracy %.4f" test.Labels.Length last.TestAccuracy
            Pictures.write (IO.Path.Combine(dir, "confusion.svg"))
                (fun () -> Toolkit.Charts.Heatmap.confusion title names counts)
                (fun () -> Toolkit.Plot.Charts.confusion title names counts)
            written.Add "confusion.svg"
            // the first 24 test images the network gets wrong, as the images they were (0–255)
            match data.Image with
            | Some image ->
                let wrong =
                    [ for j in 0 .. test.Labels.Length - 1 do
                        if predicted.[j] <> test.Labels.[j] then
                            // back from channel after channel to each pixel's channels together
                            let area = image.Rows * image.Cols
                            let pixels = Array.init test.X.RowCount (fun i -> byte (Math.Round(data.Test.X.[(i % image.Channels) * area + i / image.Channels, j] * 255.0)))
                            yield pixels, sprintf "%s\n(is %s)" names.[predicted.[j]] names.[test.Labels.[j]] ]
                    |> List.truncate 24
                if not wrong.IsEmpty then
                    Toolkit.AtomicFile.writeAllText (IO.Path.Combine(dir, "misclassified.svg"))
                        (Toolkit.Charts.ImageGrid.svg "misclassified test images: predicted (and true) class" image.Rows image.Cols image.Channels 8 3 wrong)
                    written.Add "misclassified.svg"
            | None -> ()
        if not json then printfn "wrote %s and run.json to %s" (String.Join(", ", written)) dir
    | _ -> ()
    match mpi with
    | Some w ->
        if not json then
            printfn "data-parallel: %d processes, global batch %d (%d each); %.2f s of %.2f s training in the allreduce (process 0)"
                w.Size (w.Size * batch) batch (w.SumSeconds ()) seconds
        w.Finish()
    | None -> ()
    if json then stdout.WriteLine runJson
    else
        let score = match data.Task with Task.Classes _ -> sprintf "test accuracy %.4f" last.TestAccuracy | Task.Regression _ -> sprintf "test loss %.6g" last.TestLoss
        printfn "%s after %d epoch%s; %.0f samples/s" score result.Epochs.Length (if result.Epochs.Length = 1 then "" else "s") (trainSamples * float result.Epochs.Length / seconds)
    if result.Cancelled then
        let kept =
            [ match args.TryGetResult Save with Some path -> yield sprintf "the model in %s" path | None -> ()
              match args.TryGetResult Plot with Some dir -> yield sprintf "the run record and pictures in %s" dir | None -> ()
              match checkpointDir with Some dir -> yield sprintf "the checkpoint in %s (go on with --resume %s)" dir dir | None -> () ]
        let what = if kept.IsEmpty then "nothing saved (--save, --plot keep it)" else "kept " + String.Join(" and ", kept)
        raise (Interrupted(sprintf "interrupted in epoch %d of %d: %s, as of epoch %d" (result.Epochs.Length + 1) epochs what result.Epochs.Length))
    0

/// The options of `toolkit eval` and `toolkit predict`.
type ModelArgs =
    | [<MainCommand; Mandatory; Unique>] Model of path: string
    | [<Unique>] Data of path: string
    | [<Unique>] Label of column: string
    | [<Unique>] Target of column: string
    | [<Unique>] Classes of path: string
    | [<Unique>] Header of yes_no: string
    | [<Unique>] Count of int
    | Json
    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Model _ -> "a model file saved by toolkit train --save"
            | Data _ -> sprintf "a folder of IDX files (its t10k files are read; default %s), or a CSV file (all of it)" FashionMnist.defaultDirectory
            | Label _ -> "CSV: the column holding each row's class"
            | Target _ -> "CSV: the column holding the real value the model predicts"
            | Classes _ -> "a file of class names, one per line, for a model saved without them"
            | Header _ -> "CSV: yes or no, whether the first line names the columns (default: decided from the data)"
            | Count _ -> "predict: how many samples (default 10)"
            | Json -> "print one JSON object"

/// The model and the test data the options of eval and predict name.
let private modelAndData (args: ParseResults<ModelArgs>) =
    let net, classes = ModelFile.read (args.GetResult Model)
    let options =
        { dataAt (args.GetResult(ModelArgs.Data, FashionMnist.defaultDirectory)) with
            Label = args.TryGetResult ModelArgs.Label; Target = args.TryGetResult ModelArgs.Target
            Classes = args.TryGetResult ModelArgs.Classes; Header = header (args.TryGetResult ModelArgs.Header) }
    let test, task, _ = testSet options net classes
    net, test, task

/// Runs `toolkit eval MODEL`: loss and accuracy (or, for a real-valued target, the RMS error) on
/// the test set.
let eval (args: ParseResults<ModelArgs>) : int =
    let net, test, task = modelAndData args
    let n = test.X.Count
    // batch by batch from the samples' own storage (images stay bytes)
    let loss, acc = Train.evaluate net test
    match task with
    | Task.Classes _ ->
        if args.Contains ModelArgs.Json then
            stdout.WriteLine(Json.objectText (fun w -> w.WriteNumber("test_accuracy", acc); w.WriteNumber("test_loss", loss); w.WriteNumber("samples", n); w.WriteNumber("peak_memory_mb", peakMemory ())))
        else printfn "test accuracy %.4f, test loss %.4f on %d samples" acc loss n
    | Task.Regression target ->
        let predicted = Network.predictSamples net test.X
        let rms = sqrt ((predicted - test.Y).Enumerate() |> Seq.averageBy (fun d -> d * d))
        if args.Contains ModelArgs.Json then
            stdout.WriteLine(Json.objectText (fun w -> w.WriteNumber("test_loss", loss); w.WriteNumber("rms_error", rms); w.WriteNumber("samples", n); w.WriteNumber("peak_memory_mb", peakMemory ())))
        else printfn "test loss %.6g, RMS error of '%s' %.6g on %d samples" loss target rms n
    0

/// Runs `toolkit predict MODEL`: the predictions for the first test samples.
let predict (args: ParseResults<ModelArgs>) : int =
    let net, test, task = modelAndData args
    let n = min test.X.Count (args.GetResult(Count, 10))
    if n < 1 then fail "--count: %d is not a positive number of samples" (args.GetResult(Count, 10))
    let idx = [| 0 .. n - 1 |]
    let x = test.X.Columns(idx).ToMatrix()
    let json = args.Contains ModelArgs.Json
    // one JSON object per sample, its fields by kind of task
    let writeJson (fields: System.Text.Json.Utf8JsonWriter -> int -> unit) =
        stdout.WriteLine(
            Json.objectText (fun w ->
                w.WriteStartArray("predictions")
                for i in idx do
                    w.WriteStartObject()
                    w.WriteNumber("index", i)
                    fields w i
                    w.WriteEndObject()
                w.WriteEndArray()
                w.WriteNumber("peak_memory_mb", peakMemory ())))
    match task with
    | Task.Classes names ->
        let classes = Network.classify net x
        if json then
            writeJson (fun w i ->
                w.WriteNumber("predicted", classes.[i])
                w.WriteNumber("label", test.Labels.[i])
                w.WriteString("class", names.[classes.[i]]))
        else
            for i in idx do
                printfn "sample %d: %s (label: %s)%s" i names.[classes.[i]] names.[test.Labels.[i]] (if classes.[i] = test.Labels.[i] then "" else "  ✗")
    | Task.Regression target ->
        let values = Network.predict net x
        if json then
            writeJson (fun w i ->
                w.WriteNumber("predicted", values.[0, i])
                w.WriteNumber("target", test.Y.[0, i]))
        else
            for i in idx do
                printfn "sample %d: %s %.6g (true %.6g)" i target values.[0, i] test.Y.[0, i]
    0
