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
      StoppedEarly: bool
      /// True when the cancellation token stopped training: <c>Network</c> is then the network as
      /// of the last completed epoch (the one it started from if none completed), and
      /// <c>Epochs</c> those epochs' measurements.
      Cancelled: bool }

/// <summary>
/// Everything a training run needs to go on from the end of an epoch exactly as if it had not
/// stopped: the parameters and the optimiser's moments in the storage precision (widened to
/// float64 without loss), the generators as counts of their draws, the shuffled order, the
/// measurements so far and the early-stopping record. <c>Train.fitFrom</c> makes one after every
/// epoch and resumes from one.
/// </summary>
type TrainState =
    { /// Completed epochs.
      Epoch: int
      /// Optimiser steps taken (mini-batches).
      Steps: int
      /// The parameters, in the network's order.
      Parameters: float[]
      /// The optimiser's first moment or velocity (empty if it has none).
      First: float[]
      /// The optimiser's second moment (empty if it has none).
      Second: float[]
      /// The optimiser's step count.
      OptimizerSteps: int
      /// The random strategies' best loss so far (NaN if none).
      SearchBest: float
      /// Draws of the random strategies' generator.
      SearchDraws: int64
      /// Draws of the shuffling generator.
      ShuffleDraws: int64
      /// Draws of the dropout generator.
      DropoutDraws: int64
      /// The sample order after the last epoch's shuffle.
      Order: int[]
      /// Every completed epoch's measurements.
      Epochs: EpochMetrics[]
      /// The best validation loss so far (∞ without validation).
      BestLoss: float
      /// The parameters at the best validation loss (empty without validation).
      BestParameters: float[]
      /// Epochs since the best validation loss.
      SinceBest: int }

/// A loss that became NaN or infinite (an ArithmeticException): when, and the first layer whose
/// values went non-finite.
type NonFiniteLossException(epoch: int, batch: int, layer: string) =
    inherit ArithmeticException(sprintf "the loss became non-finite at epoch %d, batch %d; the first non-finite values are in %s (learning rate too large?)" epoch batch layer)
    /// The epoch (1-based).
    member _.Epoch = epoch
    /// The batch (1-based).
    member _.Batch = batch
    /// Where the first non-finite values are.
    member _.Layer = layer

/// A labelled data set for training: X is features × samples, Y the targets (one-hot for classes).
type LabelledData =
    { /// features × samples (float64 values, or image bytes: see <c>Samples</c>)
      X: Samples
      /// outputs × samples
      Y: Matrix<float>
      /// The class of each sample; empty when the targets are real values (regression), where
      /// accuracy is not defined (NaN).
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

    /// Shuffles an array in place (Fisher–Yates) from a seeded generator: the same generator state
    /// gives the same order.
    let shuffle (rng: Random) (a: int[]) =
        for i in a.Length - 1 .. -1 .. 1 do
            let j = rng.Next(i + 1)
            let t = a.[i] in a.[i] <- a.[j]; a.[j] <- t

    /// The subset of a data set at the given sample indices.
    let subset (d: LabelledData) (idx: int[]) =
        { X = d.X.Columns idx; Y = columns d.Y idx; Labels = if d.Labels.Length = 0 then [||] else idx |> Array.map (fun i -> d.Labels.[i]) }

    /// The first layer (by the network's order) whose parameters or outputs hold a NaN or ±∞.
    let firstNonFiniteLayer (n: Network) (x: Matrix<float>) : string =
        let offsets = n.Offsets
        let badParameters =
            Seq.init n.Layers.Length id
            |> Seq.tryFind (fun l -> not (Array.forall Double.IsFinite (Array.sub n.Parameters offsets.[l] n.Layers.[l].ParameterCount)))
        let c = Network.forward n x
        let badOutputs = c.Outputs |> Array.tail |> Array.tryFindIndex (fun m -> m.Enumerate() |> Seq.exists (fun v -> not (Double.IsFinite v)))
        match badParameters, badOutputs with
        | Some l, _ -> sprintf "the parameters of layer %d (%s)" (l + 1) n.Layers.[l].Spec
        | None, Some l -> sprintf "the output of layer %d (%s)" (l + 1) n.Layers.[l].Spec
        | None, None -> "the loss itself (every layer's values are finite)"

    /// <summary>The mean loss and the accuracy (largest output = label) of a network over a data
    /// set, in evaluation mode, in batches of up to 1,000 samples.</summary>
    let evaluate (n: Network) (d: LabelledData) : float * float =
        FastNet<float>(n, max 1 (min d.X.Count (FastPath.evaluationBatch n.Layers 1))).Evaluate(d.X, Toolkit.Tensors.Kernels.storage d.Y, d.Labels)

    /// <summary>How the processes of a data-parallel run combine their work: the sum over every
    /// process of an array (an allreduce, e.g. MPI's), in place.</summary>
    type IGradientSum =
        /// This process's number, 0 … Size − 1.
        abstract Rank : int
        /// The number of processes.
        abstract Size : int
        /// Replaces each element by its sum over every process (float64 training).
        abstract SumDouble : float[] -> unit
        /// Replaces each element by its sum over every process (float32 training).
        abstract SumSingle : float32[] -> unit

    /// What the loop asks of the training path, whatever its precision.
    type private IRunner =
        /// One step on the batch from start; steps so far drive the schedule. Returns the batch's
        /// cost, and whether to stop: this process's stop, or in a data-parallel run any process's.
        abstract Step : steps: int * start: int * stop: bool -> float * bool
        /// Parameters, optimiser state and generator draws, exactly (see TrainState).
        abstract Save : unit -> float[] * float[] * float[] * int * float * int64 * int64
        /// Puts back what Save gave, on a fresh runner.
        abstract Restore : parameters: float[] * first: float[] * second: float[] * steps: int * best: float * searchDraws: int64 * dropoutDraws: int64 -> unit
        /// The right answers in the last batch.
        abstract Correct : int
        /// The network as it stands.
        abstract Current : unit -> Network
        /// Loss and accuracy on the training and the test sets.
        abstract EvaluateBoth : unit -> (float * float) * (float * float)

    /// The training path in one precision: the network laid out for batches, the optimiser's state,
    /// and a second layout for evaluation in large batches.
    type private Runner<'T when 'T :> System.Numerics.IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> System.ValueType>
            (config: TrainConfig, net: Network, trainSet: LabelledData, test: LabelledData, idx: int[], sum: IGradientSum option) =
        let m = trainSet.X.ColumnCount
        let f = FastNet<'T>(net, config.BatchSize, config.Seed + 2)
        let e = FastNet<'T>(net, FastPath.evaluationBatch net.Layers config.BatchSize)
        let state = Optimizer.init<'T> net.Parameters.Length (config.Seed + 1)
        // the random strategies search in float64 over the batch's cost
        let search = Optimizer.init<float> net.Parameters.Length (config.Seed + 1)
        // the data sets' own storage (no copy): FastNet converts each batch as it gathers it
        let storage = Toolkit.Tensors.Kernels.storage
        let xs, ys, txs, tys = trainSet.X, storage trainSet.Y, test.X, storage test.Y
        // a data-parallel step's one message: every gradient times the shard's size, the size, the
        // cost times the size, and a stop flag, summed over the processes in one allreduce
        let n = f.Parameters.Length
        let shared : 'T[] = if sum.IsSome then Array.zeroCreate (n + 3) else [||]
        let total (a: 'T[]) =
            match sum, box a with
            | Some s, (:? (float[]) as d) -> s.SumDouble d
            | Some s, (:? (float32[]) as d) -> s.SumSingle d
            | _ -> ()
        interface IRunner with
          member _.Step(steps: int, start: int, stop: bool) =
            match sum with
            | Some s ->
              // this process's shard of the global batch from start: the s.Rank-th BatchSize samples
              let local = start + s.Rank * config.BatchSize
              let size = max 0 (min config.BatchSize (m - local))
              let rate = Optimizer.learningRate config.Optimizer * Optimizer.factor config.Schedule steps
              let g = f.Gradients
              let mutable anyStop = stop
              let combine (cost: float) =
                  let w = 'T.CreateTruncating size
                  for i in 0 .. n - 1 do shared.[i] <- g.[i] * w
                  shared.[n] <- w
                  shared.[n + 1] <- Toolkit.Precision.store<'T> (cost * float size)
                  shared.[n + 2] <- (if stop then 'T.One else 'T.Zero)
                  total shared
                  // the mean over the global batch, as one process with the whole batch computes it
                  let all = shared.[n]
                  for i in 0 .. n - 1 do g.[i] <- shared.[i] / all
                  anyStop <- not ('T.IsZero shared.[n + 2])
                  Toolkit.Precision.load shared.[n + 1] / Toolkit.Precision.load all
              let cost = f.Step(config.Optimizer, state, rate, xs, ys, idx, local, size, combine)
              cost, anyStop
            | None ->
              let size = min config.BatchSize (m - start)
              let cost =
                  if Optimizer.usesGradient config.Optimizer then
                      let rate = Optimizer.learningRate config.Optimizer * Optimizer.factor config.Schedule steps
                      f.Step(config.Optimizer, state, rate, xs, ys, idx, start, size)
                  else
                      let p = f.Parameters
                      let current = p |> Array.map Toolkit.Precision.load
                      let cost (q: float[]) =
                          for i in 0 .. q.Length - 1 do p.[i] <- Toolkit.Precision.store<'T> q.[i]
                          f.BatchCost(xs, ys, idx, start, size)
                      let c = cost current
                      let objective = { Loss = (fun q -> if obj.ReferenceEquals(q, current) then c else cost q); Gradient = fun _ -> invalidOp "no gradient" }
                      let next = Optimizer.step config.Optimizer config.Schedule search objective current
                      for i in 0 .. next.Length - 1 do p.[i] <- Toolkit.Precision.store<'T> next.[i]
                      c
              cost, stop
          member _.Save() =
              let widen (a: 'T[]) = if isNull a then [||] else a |> Array.map Toolkit.Precision.load
              // the random strategies keep their state in the float64 search state, the others in state
              let o = if Optimizer.usesGradient config.Optimizer then state.Steps, state.Best, state.Rng.Draws else search.Steps, search.Best, search.Rng.Draws
              let steps, best, draws = o
              widen f.Parameters, widen state.First, widen state.Second, steps, best, draws, f.Random.Draws
          member _.Restore(parameters, first, second, steps, best, searchDraws, dropoutDraws) =
              let n = f.Parameters.Length
              let narrow (a: float[]) =
                  if a.Length = 0 then null
                  elif a.Length <> n then invalidArg "state" (sprintf "%d values for %d parameters" a.Length n)
                  else a |> Array.map Toolkit.Precision.store<'T>
              if parameters.Length <> n then invalidArg "state" (sprintf "%d parameters for a network of %d" parameters.Length n)
              Array.blit (narrow parameters) 0 f.Parameters 0 n
              state.First <- narrow first
              state.Second <- narrow second
              if Optimizer.usesGradient config.Optimizer then
                  state.Steps <- steps
                  state.Best <- best
                  state.Rng.SkipTo searchDraws
              else
                  search.Steps <- steps
                  search.Best <- best
                  search.Rng.SkipTo searchDraws
              f.Random.SkipTo dropoutDraws
          member _.Correct = f.LastCorrect
          member _.Current() = f.ToNetwork()
          member _.EvaluateBoth() =
              Array.blit f.Parameters 0 e.Parameters 0 f.Parameters.Length
              e.Evaluate(xs, ys, trainSet.Labels), e.Evaluate(txs, tys, test.Labels)

    let private runner (config: TrainConfig) (net: Network) (trainSet: LabelledData) (test: LabelledData) (idx: int[]) (sum: IGradientSum option) : IRunner =
        match config.Precision with
        | Precision.Double -> Runner<float>(config, net, trainSet, test, idx, sum) :> IRunner
        | Precision.Single -> Runner<float32>(config, net, trainSet, test, idx, sum) :> IRunner

    /// The training loop, alone or as one process of a data-parallel run.
    let private fitWith (sum: IGradientSum option) (config: TrainConfig) (net: Network) (train: LabelledData) (test: LabelledData)
                        (onEvent: TrainingEvent -> unit) (cancel: CancellationToken)
                        (resume: TrainState option) (onEpoch: TrainState -> unit) : TrainResult =
        if config.Epochs < 1 then invalidArg "config" (sprintf "Epochs must be at least 1, not %d" config.Epochs)
        if config.BatchSize < 1 then invalidArg "config" (sprintf "BatchSize must be at least 1, not %d" config.BatchSize)
        if train.X.ColumnCount < 1 then invalidArg "train" "the training set has no samples"
        if train.X.RowCount <> net.Inputs then
            invalidArg "train" (sprintf "the network takes %d inputs but the data has %d features" net.Inputs train.X.RowCount)
        if train.Y.RowCount <> net.Outputs then
            invalidArg "train" (sprintf "the network gives %d outputs but the data has %d targets per sample" net.Outputs train.Y.RowCount)
        let regression = train.Labels.Length = 0
        let rng = Toolkit.CountedRandom(config.Seed)
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
        // a data-parallel run's global batch: BatchSize from each of the processes
        let processes = match sum with Some s -> s.Size | None -> 1
        let globalBatch = config.BatchSize * processes
        let batches = (m + globalBatch - 1) / globalBatch
        let run = runner config net trainSet test idx sum
        let mutable steps = 0
        let mutable net = net
        let mutable best = (infinity, net)
        let mutable sinceBest = 0
        let epochs = ResizeArray<EpochMetrics>()
        let mutable epoch = 0
        match resume with
        | Some r ->
            if r.Order.Length <> m then invalidArg "resume" (sprintf "the state orders %d samples; the training set has %d" r.Order.Length m)
            if r.Parameters.Length <> net.Parameters.Length then
                invalidArg "resume" (sprintf "the state holds %d parameters; the network has %d" r.Parameters.Length net.Parameters.Length)
            run.Restore(r.Parameters, r.First, r.Second, r.OptimizerSteps, r.SearchBest, r.SearchDraws, r.DropoutDraws)
            rng.SkipTo r.ShuffleDraws
            Array.blit r.Order 0 idx 0 m
            steps <- r.Steps
            epoch <- r.Epoch
            epochs.AddRange r.Epochs
            net <- run.Current ()
            best <- (r.BestLoss, (if r.BestParameters.Length > 0 then { net with Parameters = r.BestParameters } else net))
            sinceBest <- r.SinceBest
        | None -> ()
        let mutable stopped = validation.IsSome && sinceBest >= config.Patience
        let mutable cancelled = cancel.IsCancellationRequested
        while epoch < config.Epochs && not stopped && not cancelled do
            epoch <- epoch + 1
            shuffle rng idx
            let sw = Stopwatch.StartNew()
            let mutable lossSum = 0.0
            let mutable b = 0
            while b < batches && not cancelled do
                // alone, a stop ends the loop before the batch; in a data-parallel run every process
                // takes the step and stops together, when any one of them was asked to
                if sum.IsNone && cancel.IsCancellationRequested then cancelled <- true
                else
                    let start = b * globalBatch
                    let size = min globalBatch (m - start)
                    let batchLoss, stop = run.Step(steps, start, cancel.IsCancellationRequested)
                    if not (Double.IsFinite batchLoss) then
                        raise (NonFiniteLossException(epoch, b + 1, firstNonFiniteLayer (run.Current ()) (trainSet.X.Columns(idx.[start .. start + size - 1]).ToMatrix())))
                    lossSum <- lossSum + batchLoss
                    // the accuracy of the samples this process saw
                    let seen = match sum with Some s -> max 0 (min config.BatchSize (m - start - s.Rank * config.BatchSize)) | None -> size
                    onEvent (BatchEnded(epoch, b + 1, batches, batchLoss, (if regression || seen = 0 then nan else float run.Correct / float seen)))
                    steps <- steps + 1
                    b <- b + 1
                    if stop then cancelled <- true
            // a cancelled epoch is not kept: net stays the network of the last completed one
            if not cancelled then
                net <- run.Current ()
                let seconds = sw.Elapsed.TotalSeconds
                let (trainLoss, trainAcc), (testLoss, testAcc) = run.EvaluateBoth ()
                if not (Double.IsFinite trainLoss) then
                    raise (NonFiniteLossException(epoch, batches, firstNonFiniteLayer net (trainSet.X.Columns([| 0 |]).ToMatrix())))
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
                let parameters, first, second, optimizerSteps, searchBest, searchDraws, dropoutDraws = run.Save ()
                onEpoch
                    { Epoch = epoch; Steps = steps; Parameters = parameters; First = first; Second = second
                      OptimizerSteps = optimizerSteps; SearchBest = searchBest; SearchDraws = searchDraws
                      ShuffleDraws = rng.Draws; DropoutDraws = dropoutDraws; Order = Array.copy idx
                      Epochs = epochs.ToArray(); BestLoss = fst best
                      BestParameters = (if validation.IsSome then (snd best).Parameters else [||]); SinceBest = sinceBest }
        { Network = (if validation.IsSome then snd best else net); Epochs = epochs.ToArray(); StoppedEarly = stopped && epoch < config.Epochs
          Cancelled = cancelled }

    /// <summary>Trains <paramref name="net"/> on <paramref name="train"/>, measuring on
    /// <paramref name="test"/> after every epoch; <paramref name="onEvent"/> hears every batch and
    /// epoch; <paramref name="cancel"/> stops training between batches and keeps the work: the
    /// result holds the network of the last completed epoch and says it was cancelled. From
    /// <paramref name="resume"/> (a state <paramref name="onEpoch"/> was given by a run with the
    /// same configuration, network and data) it goes on from that epoch exactly as the run would
    /// have: the same weights, bit for bit; <paramref name="onEpoch"/> hears the state after
    /// every completed epoch (to save a checkpoint).</summary>
    /// <exception cref="T:Toolkit.Training.NonFiniteLossException">The loss became NaN or ±∞.</exception>
    let fitFrom config net train test onEvent cancel resume onEpoch : TrainResult =
        fitWith None config net train test onEvent cancel resume onEpoch

    /// <summary>One process of a data-parallel run: every process calls this with the same
    /// network, data, configuration and seed; each takes its <c>BatchSize</c> share of every
    /// global batch of <c>BatchSize × sum.Size</c> samples, the gradients are summed across the
    /// processes by <paramref name="sum"/> (an allreduce), and every process applies the same
    /// update, so that the weights are those of one process training with the global batch (to
    /// float rounding; dropout draws its masks per process, so with dropout they differ). A stop
    /// asked of any process stops them all after the same batch. Gradient-based optimisers only.</summary>
    /// <exception cref="T:System.ArgumentException">The optimiser searches without gradients.</exception>
    let fitDistributed (sum: IGradientSum) config net train test onEvent cancel resume onEpoch : TrainResult =
        if not (Optimizer.usesGradient config.Optimizer) then
            invalidArg "config" "a data-parallel run sums gradients: random search has none"
        fitWith (Some sum) config net train test onEvent cancel resume onEpoch

    /// <summary>Trains <paramref name="net"/> on <paramref name="train"/>, measuring on
    /// <paramref name="test"/> after every epoch; <paramref name="onEvent"/> hears every batch and
    /// epoch; <paramref name="cancel"/> stops training between batches and keeps the work: the
    /// result holds the network of the last completed epoch and says it was cancelled.</summary>
    /// <exception cref="T:Toolkit.Training.NonFiniteLossException">The loss became NaN or ±∞.</exception>
    let fit (config: TrainConfig) (net: Network) (train: LabelledData) (test: LabelledData)
            (onEvent: TrainingEvent -> unit) (cancel: CancellationToken) : TrainResult =
        fitFrom config net train test onEvent cancel None ignore
