namespace Toolkit.Training

open System
open System.Diagnostics
open System.Threading
open MathNet.Numerics.LinearAlgebra
open Toolkit.Nn

/// The number type the fast path stores parameters and data in.
[<RequireQualifiedAccess>]
type Precision =
    /// float64 everywhere.
    | Double
    /// float32 storage and SGEMM products, elementwise work in float64.
    | Single

/// How to train.
type TrainConfig =
    { /// Passes over the training data.
      Epochs: int
      /// Samples per mini-batch.
      BatchSize: int
      /// The optimiser.
      Optimizer: Optimizer
      /// The learning-rate schedule (its steps count mini-batches).
      Schedule: Schedule
      /// Seeds the shuffling and the random strategies: the same seed gives the same training.
      Seed: int
      /// The fraction of the training data held out for early stopping (0: none).
      ValidationFraction: float
      /// Stop after this many epochs without a better validation loss (with a validation split).
      Patience: int
      /// The fast path's number type (the reference path is always float64).
      Precision: Precision }

/// One epoch's measurements.
type EpochMetrics =
    { /// 1-based.
      Epoch: int
      /// The mean loss over the epoch's mini-batches (measured before each update).
      TrainLoss: float
      /// Accuracy on the training data after the epoch.
      TrainAccuracy: float
      /// Loss on the test data after the epoch.
      TestLoss: float
      /// Accuracy on the test data after the epoch.
      TestAccuracy: float
      /// Loss on the validation split, if there is one.
      ValidationLoss: float option
      /// Training time of the epoch alone (no evaluation), in seconds.
      Seconds: float }

/// What training reports while it runs.
type TrainingEvent =
    /// A mini-batch was used: epoch (1-based), batch (1-based), batches per epoch, the batch's
    /// loss and the fraction of its samples classified right (both before the update).
    | BatchEnded of epoch: int * batch: int * batches: int * loss: float * accuracy: float
    /// An epoch ended.
    | EpochEnded of EpochMetrics

/// The result of training.
type TrainResult =
    { /// The trained network (the best on validation, with early stopping).
      Network: Network
      /// Every epoch's measurements.
      Epochs: EpochMetrics[]
      /// True when early stopping ended training before the last epoch.
      StoppedEarly: bool }

/// A loss that became NaN or infinite: when, and the first layer whose values went non-finite.
exception NonFiniteLossException of epoch: int * batch: int * layer: string
    with
        /// Names the epoch, the batch and the layer.
        override e.Message =
            sprintf "the loss became non-finite at epoch %d, batch %d; the first non-finite values are in %s (learning rate too large?)" e.epoch e.batch e.layer

/// A labelled data set for training: X is features × samples, Y the targets (one-hot for classes).
type LabelledData =
    { /// features × samples
      X: Matrix<float>
      /// outputs × samples
      Y: Matrix<float>
      /// The class of each sample.
      Labels: int[] }

/// The training loop: epochs, seeded shuffling, mini-batches, metrics, early stopping,
/// progress events, cancellation, and NaN provenance.
[<RequireQualifiedAccess>]
module Train =

    /// Classes as one-hot columns.
    let oneHot (classes: int) (labels: int[]) : Matrix<float> =
        Matrix<float>.Build.Dense(classes, labels.Length, fun i j -> if labels.[j] = i then 1.0 else 0.0)

    /// Columns of X picked by index.
    let columns (x: Matrix<float>) (idx: int[]) : Matrix<float> =
        let rows = x.RowCount
        let src = Toolkit.Tensors.Kernels.storage x
        let data = Array.zeroCreate (rows * idx.Length)
        idx |> Array.iteri (fun k j -> Array.blit src (j * rows) data (k * rows) rows)
        Matrix<float>.Build.Dense(rows, idx.Length, data)

    /// <summary>Images (an IDX pair) as training data: X is pixels × images with the pixels scaled
    /// to [0, 1], Y the labels one-hot over <paramref name="classes"/> classes.</summary>
    let ofImages (classes: int) (s: Toolkit.Data.LabelledImages) : LabelledData =
        let x = Matrix<float>.Build.Dense(s.Rows * s.Cols, s.Count, Array.map (fun (b: byte) -> float b / 255.0) s.Pixels)
        let labels = s.Labels |> Array.map int
        { X = x; Y = oneHot classes labels; Labels = labels }

    /// Shuffles an array in place (Fisher–Yates) from a seeded generator: the same generator state
    /// gives the same order.
    let shuffle (rng: Random) (a: int[]) =
        for i in a.Length - 1 .. -1 .. 1 do
            let j = rng.Next(i + 1)
            let t = a.[i] in a.[i] <- a.[j]; a.[j] <- t

    /// The subset of a data set at the given sample indices.
    let subset (d: LabelledData) (idx: int[]) = { X = columns d.X idx; Y = columns d.Y idx; Labels = idx |> Array.map (fun i -> d.Labels.[i]) }

    /// The first layer (by the network's order) whose forward values hold a NaN or ±∞.
    let firstNonFiniteLayer (n: Network) (x: Matrix<float>) : string =
        let c = Network.forward n x
        let bad (m: Matrix<float>) = m.Enumerate() |> Seq.exists (fun v -> not (Double.IsFinite v))
        let weights = n.Layers |> Array.tryFindIndex (fun l -> bad l.W || bad l.B)
        let values = c.Z |> Array.tryFindIndex bad
        match weights, values with
        | Some l, _ -> sprintf "the weights of layer %d" (l + 1)
        | None, Some l -> sprintf "layer %d (z = W·a + b)" (l + 1)
        | None, None -> "the loss itself (every layer's values are finite)"

    /// <summary>The mean loss and the accuracy (largest output = label) of a network over a data
    /// set, by the reference forward pass, in slices of 2,000 samples.</summary>
    let evaluate (n: Network) (d: LabelledData) : float * float =
        let last = n.Layers.Length - 1
        // in slices, so evaluation of 60,000 samples does not build one huge matrix per layer
        let slice = 2000
        let mutable loss = 0.0
        let mutable right = 0
        for start in 0 .. slice .. d.X.ColumnCount - 1 do
            let idx = [| start .. min (d.X.ColumnCount - 1) (start + slice - 1) |]
            let x = columns d.X idx
            let y = columns d.Y idx
            let c = Network.forward n x
            loss <- loss + float idx.Length * Loss.value n.Loss n.Layers.[last].Activation c.Z.[last] c.A.[last + 1] y
            let a = c.A.[last + 1]
            for k in 0 .. idx.Length - 1 do
                if a.Column(k).MaximumIndex() = d.Labels.[idx.[k]] then right <- right + 1
        loss / float d.X.ColumnCount, float right / float d.X.ColumnCount

    /// The fast path's pieces for one precision: a step (steps so far, batch start → batch cost),
    /// the current network, the evaluation of the training and test sets, and the right answers
    /// in the last batch. Evaluation runs on its own buffers, in batches of up to 1000.
    let private fastPath<'T when 'T :> System.Numerics.IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> System.ValueType>
            (config: TrainConfig) (net: Network) (trainSet: LabelledData) (test: LabelledData) (idx: int[]) =
        let m = trainSet.X.ColumnCount
        let rate steps = Optimizer.learningRate config.Optimizer * Optimizer.factor config.Schedule steps
        let f = FastNet<'T>(net, config.BatchSize)
        let e = FastNet<'T>(net, max config.BatchSize 1000)
        // the data sets' own float64 storage (no copy): FastNet converts each batch as it gathers it
        let storage = Toolkit.Tensors.Kernels.storage
        let xs, ys, txs, tys = storage trainSet.X, storage trainSet.Y, storage test.X, storage test.Y
        (fun steps start -> f.Step(config.Optimizer, rate steps, xs, ys, idx, start, min config.BatchSize (m - start))),
        f.ToNetwork,
        (fun () ->
            Array.blit f.Parameters 0 e.Parameters 0 f.Parameters.Length
            e.Evaluate(xs, ys, trainSet.Labels), e.Evaluate(txs, tys, test.Labels)),
        (fun () -> float f.LastCorrect)

    /// <summary>Trains <paramref name="net"/> on <paramref name="train"/>, measuring on
    /// <paramref name="test"/> after every epoch; <paramref name="onEvent"/> hears every batch and
    /// epoch; <paramref name="cancel"/> stops training between batches (OperationCanceledException).</summary>
    /// <exception cref="T:Toolkit.Training.NonFiniteLossException">The loss became NaN or ±∞.</exception>
    let fit (config: TrainConfig) (net: Network) (train: LabelledData) (test: LabelledData)
            (onEvent: TrainingEvent -> unit) (cancel: CancellationToken) : TrainResult =
        if config.Epochs < 1 then invalidArg "config" (sprintf "Epochs must be at least 1, not %d" config.Epochs)
        if config.BatchSize < 1 then invalidArg "config" (sprintf "BatchSize must be at least 1, not %d" config.BatchSize)
        if train.X.RowCount <> net.Layers.[0].W.ColumnCount then
            invalidArg "train" (sprintf "the network takes %d inputs but the data has %d features" net.Layers.[0].W.ColumnCount train.X.RowCount)
        let rng = Random(config.Seed)
        let order = Array.init train.X.ColumnCount id
        // a validation split, taken once from a seeded shuffle
        let trainSet, validation =
            if config.ValidationFraction > 0.0 then
                let shuffled = Array.copy order
                shuffle rng shuffled
                let nVal = int (float shuffled.Length * config.ValidationFraction)
                subset train shuffled.[nVal..], Some(subset train shuffled.[.. nVal - 1])
            else train, None
        let m = trainSet.X.ColumnCount
        let idx = Array.init m id
        let batches = (m + config.BatchSize - 1) / config.BatchSize
        let state = Optimizer.init (Parameters.count net) (config.Seed + 1)
        // the fast path (preallocated buffers, in-place updates) for the gradient optimisers
        // and the losses it fuses, in the chosen precision; the reference path for the rest
        // (step, current network, evaluation on the training and the test set, right answers in the last batch)
        let fast =
            if not (FastPath.supports net config.Optimizer) then None
            else
                match config.Precision with
                | Precision.Double -> Some(fastPath<float> config net trainSet test idx)
                | Precision.Single -> Some(fastPath<float32> config net trainSet test idx)
        let mutable steps = 0
        let mutable net = net
        let mutable best = (infinity, net)
        let mutable sinceBest = 0
        let mutable stopped = false
        let epochs = ResizeArray<EpochMetrics>()
        let mutable epoch = 0
        while epoch < config.Epochs && not stopped do
            epoch <- epoch + 1
            shuffle rng idx
            let sw = Stopwatch.StartNew()
            let mutable lossSum = 0.0
            for b in 0 .. batches - 1 do
                cancel.ThrowIfCancellationRequested()
                let start = b * config.BatchSize
                let size = min config.BatchSize (m - start)
                match fast with
                | Some (step, current, _, correct) ->
                    let batchLoss = step steps start
                    if not (Double.IsFinite batchLoss) then
                        raise (NonFiniteLossException(epoch, b + 1, firstNonFiniteLayer (current ()) (columns trainSet.X idx.[start .. start + size - 1])))
                    lossSum <- lossSum + batchLoss
                    onEvent (BatchEnded(epoch, b + 1, batches, batchLoss, correct () / float size))
                | None ->
                    let pick = idx.[start .. start + size - 1]
                    let x = columns trainSet.X pick
                    let y = columns trainSet.Y pick
                    // one forward pass gives the batch's loss and, through the four equations, its gradient
                    let cache = Network.forward net x
                    let last = net.Layers.Length - 1
                    let batchLoss = Loss.value net.Loss net.Layers.[last].Activation cache.Z.[last] cache.A.[last + 1] y
                    if not (Double.IsFinite batchLoss) then
                        raise (NonFiniteLossException(epoch, b + 1, firstNonFiniteLayer net x))
                    lossSum <- lossSum + batchLoss
                    let p = Parameters.flatten net
                    let current = net
                    let objective =
                        { Loss = fun q -> if obj.ReferenceEquals(q, p) then batchLoss else Network.cost (Parameters.unflatten current q) x y
                          Gradient = fun q ->
                            if obj.ReferenceEquals(q, p) then Parameters.flattenGradients (Network.backward current cache y)
                            else
                                let n = Parameters.unflatten current q
                                Parameters.flattenGradients (Network.backward n (Network.forward n x) y) }
                    let right =
                        let out = cache.A.[last + 1]
                        Seq.sum (seq { for k in 0 .. size - 1 -> if out.Column(k).MaximumIndex() = trainSet.Labels.[pick.[k]] then 1.0 else 0.0 })
                    net <- Parameters.unflatten net (Optimizer.step config.Optimizer config.Schedule state objective p)
                    onEvent (BatchEnded(epoch, b + 1, batches, batchLoss, right / float size))
                steps <- steps + 1
            match fast with
            | Some (_, current, _, _) -> net <- current ()
            | None -> ()
            let seconds = sw.Elapsed.TotalSeconds
            let (trainLoss, trainAcc), (testLoss, testAcc) =
                match fast with
                | Some (_, _, evaluateBoth, _) -> evaluateBoth ()
                | None -> evaluate net trainSet, evaluate net test
            if not (Double.IsFinite trainLoss) then
                raise (NonFiniteLossException(epoch, batches, firstNonFiniteLayer net (columns trainSet.X [| 0 |])))
            let valLoss = validation |> Option.map (fun v -> fst (evaluate net v))
            let metrics =
                { Epoch = epoch; TrainLoss = lossSum / float batches; TrainAccuracy = trainAcc; TestLoss = testLoss
                  TestAccuracy = testAcc; ValidationLoss = valLoss; Seconds = seconds }
            epochs.Add metrics
            onEvent (EpochEnded metrics)
            match valLoss with
            | Some v ->
                if v < fst best then
                    best <- (v, net)
                    sinceBest <- 0
                else
                    sinceBest <- sinceBest + 1
                    if sinceBest >= config.Patience then stopped <- true
            | None -> ()
        { Network = (if validation.IsSome then snd best else net); Epochs = epochs.ToArray(); StoppedEarly = stopped && epoch < config.Epochs }
