namespace Toolkit.Nn

open System
open MathNet.Numerics.LinearAlgebra
open Toolkit.Tensors

/// What a forward pass gives: every layer's output for the batch (the input first).
type ForwardCache =
    { /// The input, then each layer's output (features × samples).
      Outputs: Matrix<float>[] }

/// The gradients of the cost on a batch.
type Gradients =
    { /// The mean cost.
      Cost: float
      /// ∂C/∂(every parameter), in the order of <c>Network.Parameters</c>.
      Parameters: float[]
      /// ∂C/∂(each layer's output) (features × samples). When the loss reads the last layer's
      /// input (cross-entropy after softmax), the loss writes δᴸ = (a − y)/m there, one entry
      /// earlier, and the last entry is not computed (zeros).
      Outputs: Matrix<float>[] }

/// Networks: building them from layers, and the forward and backward passes in float64.
[<RequireQualifiedAccess>]
[<CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Network =

    /// <summary>A network of the given layers, its parameters drawn by <paramref name="init"/>
    /// from a seed (the same seed gives bit-identical parameters); the layers must fit together.</summary>
    /// <exception cref="T:Toolkit.Tensors.ShapeException">A layer does not take what the one before gives.</exception>
    let ofLayers (layers: Layer seq) (loss: Loss) (init: Init) (seed: int) : Network =
        let layers = Array.ofSeq layers
        let p = Array.zeroCreate (layers |> Array.sumBy (fun l -> l.ParameterCount))
        NetworkShape.check layers p
        let rng = Random(seed)
        let mutable o = 0
        for l in layers do
            l.Initialise(init, rng, p, o)
            o <- o + l.ParameterCount
        { Layers = layers; Parameters = p; Loss = loss }

    /// <summary>The notes' networks: dense layers of <paramref name="sizes"/> (e.g. [784; 30; 10]),
    /// each followed by the hidden activation (the output activation after the last; no layer for
    /// the identity), with the cost and the initialisation, from a seed. Biases are drawn like
    /// the weights for Init.Normal (as the notes do) and Init.Uniform, else zero.</summary>
    let create (sizes: int list) (hidden: Activation) (output: Activation) (loss: Loss) (init: Init) (seed: int) : Network =
        if sizes.Length < 2 then invalidArg "sizes" (sprintf "a network needs at least an input and an output size, got %A" sizes)
        if sizes |> List.exists (fun n -> n < 1) then invalidArg "sizes" (sprintf "every layer needs at least one unit, got %A" sizes)
        let pairs = List.pairwise sizes
        let layers =
            pairs |> List.mapi (fun l (nIn, nOut) ->
                let g = if l = pairs.Length - 1 then output else hidden
                [ yield Dense(nIn, nOut) :> Layer
                  if g <> Activation.Identity then yield ActivationLayer(g, nOut) :> Layer ])
            |> List.concat
        ofLayers layers loss init seed

    /// <summary>The network that gives on raw inputs x what <paramref name="n"/> gives on
    /// standardised inputs (x − mean)/scale: the scaling folded into the first dense layer
    /// (W′ = W·diag(1/scale), b′ = b − W′·mean), so a model trained on standardised features is
    /// saved as one that takes the features as they are.</summary>
    /// <exception cref="T:System.ArgumentException">The first layer is not dense, or the vectors do not match the inputs.</exception>
    let withInputScaling (mean: float[]) (scale: float[]) (n: Network) : Network =
        let first = n.Layers.[0]
        if first.Kind <> "dense" then invalidArg "n" (sprintf "standardised inputs fold into a first dense layer, not '%s'" first.Spec)
        let nIn, nOut = first.Inputs, first.Outputs
        if mean.Length <> nIn || scale.Length <> nIn then invalidArg "mean" (sprintf "%d inputs but %d means and %d scales" nIn mean.Length scale.Length)
        let p = Array.copy n.Parameters
        for j in 0 .. nIn - 1 do
            for i in 0 .. nOut - 1 do
                let w = p.[j * nOut + i] / scale.[j]
                p.[j * nOut + i] <- w
                p.[nOut * nIn + i] <- p.[nOut * nIn + i] - w * mean.[j]
        { n with Parameters = p }

    /// <summary>The network with a <c>Dropout</c> layer at <paramref name="rate"/> after every
    /// hidden stage (the layers between two layers with parameters: after each hidden activation),
    /// the parameters unchanged.</summary>
    let withDropout (rate: float) (n: Network) : Network =
        let layers = ResizeArray<Layer>()
        n.Layers |> Array.iteri (fun l layer ->
            layers.Add layer
            if l + 1 < n.Layers.Length && n.Layers.[l + 1].ParameterCount > 0 then
                layers.Add(Dropout(rate, layer.OutputShape)))
        { n with Layers = layers.ToArray() }

    /// The same layers with other parameters.
    let withParameters (n: Network) (p: float[]) : Network =
        NetworkShape.check n.Layers p
        { n with Parameters = p }

    /// The sizes a sample takes through the network: the inputs, then the outputs of every layer
    /// with parameters (784-30-10 for the notes' network).
    let sizes (n: Network) = [ yield n.Inputs; for l in n.Layers do if l.ParameterCount > 0 then yield l.Outputs ]

    /// <summary>The shapes a sample takes through the network as text, '-' between them: the
    /// input, then the output of every layer with products (784-30-10 for the notes' network,
    /// 1×28×28-32×28×28-64×14×14-128-10 for a convolutional one).</summary>
    let shapes (n: Network) =
        String.Join("-", [ yield n.InputShape; for l in n.Layers do if l.Flops > 0.0 then yield l.OutputShape ] |> List.map string)

    /// The layers as text, '-' between them (<c>dense(30)-sigmoid-dense(10)-sigmoid</c>).
    let describe (n: Network) = Layers.spec n.Layers

    let private checkInputs (n: Network) (x: Matrix<float>) =
        if x.RowCount <> n.Inputs then
            raise (ShapeException(sprintf "the network takes %d inputs per sample but X has %d rows" n.Inputs x.RowCount))

    let private targets (n: Network) (x: Matrix<float>) (y: Matrix<float>) =
        if y.RowCount <> n.Outputs || y.ColumnCount <> x.ColumnCount then
            raise (ShapeException(sprintf "the network gives %d outputs for %d samples but Y is %d×%d" n.Outputs x.ColumnCount y.RowCount y.ColumnCount))

    let private matrices (rows: int[]) (m: int) (buffers: float[][]) =
        Array.map2 (fun r (b: float[]) -> Matrix<float>.Build.Dense(r, m, Array.sub b 0 (r * m))) rows buffers

    /// <summary>The forward pass over a batch X (inputs × samples), in evaluation mode: every
    /// layer's output, by the layers' own passes in float64.</summary>
    let forward (n: Network) (x: Matrix<float>) : ForwardCache =
        checkInputs n x
        let m = x.ColumnCount
        let f = FastNet<float>(n, max 1 m)
        f.Predict(Samples.OfMatrix x, m, Array.zeroCreate (n.Outputs * m))
        { Outputs = Array.append [| x |] (matrices (n.Layers |> Array.map (fun l -> l.Outputs)) m f.Outputs) }

    /// <summary>The network's outputs for samples in any storage (outputs × samples), in
    /// evaluation mode, batch by batch: image bytes are converted a batch at a time, never whole.</summary>
    let predictSamples (n: Network) (x: Samples) : Matrix<float> =
        if x.Features <> n.Inputs then
            raise (ShapeException(sprintf "the network takes %d inputs per sample but the samples have %d features" n.Inputs x.Features))
        let m = x.Count
        let result = Array.zeroCreate (n.Outputs * m)
        FastNet<float>(n, max 1 (min m (FastPath.evaluationBatch n.Layers 1))).Predict(x, m, result)
        Matrix<float>.Build.Dense(n.Outputs, m, result)

    /// The network's outputs for a batch X.
    let predict (n: Network) (x: Matrix<float>) : Matrix<float> =
        checkInputs n x
        predictSamples n (Samples.OfMatrix x)

    /// The mean cost on a batch, in evaluation mode.
    let cost (n: Network) (x: Matrix<float>) (y: Matrix<float>) =
        checkInputs n x
        targets n x y
        let m = x.ColumnCount
        FastNet<float>(n, m).BatchCost(Samples.OfMatrix x, Kernels.storage y, Array.init m id, 0, m)

    /// <summary>The backward pass on a batch, in float64, with the random layers seeded by
    /// <paramref name="seed"/>: each layer's backward in turn from the loss's δ, the dense layers'
    /// the notes' equations (2)–(4), the activations' the ⊙σ′(z).</summary>
    let backwardSeeded (seed: int) (n: Network) (x: Matrix<float>) (y: Matrix<float>) : Gradients =
        checkInputs n x
        targets n x y
        let m = x.ColumnCount
        let f = FastNet<float>(n, m, seed)
        let c = f.Gradient(Samples.OfMatrix x, Kernels.storage y, Array.init m id, 0, m)
        { Cost = c; Parameters = Array.copy f.Gradients; Outputs = matrices (n.Layers |> Array.map (fun l -> l.Outputs)) m f.OutputGradients }

    /// <summary>The backward pass on a batch in float64 (the random layers seeded with 0).</summary>
    let backward (n: Network) (x: Matrix<float>) (y: Matrix<float>) : Gradients = backwardSeeded 0 n x y

    /// <summary>The network (in evaluation mode) and its cost on a batch as a matrix graph, each
    /// layer's parameters as variables (W1, b1, …): the same numbers as forward/backward by the
    /// graph's own rules. Also the variables' names in the order of <c>Network.Parameters</c>.</summary>
    let toTExpr (n: Network) (x: Matrix<float>) (y: Matrix<float>) : TExpr * Collections.Generic.IReadOnlyDictionary<string, Matrix<float>> * string list =
        checkInputs n x
        targets n x y
        let env = Collections.Generic.Dictionary<string, Matrix<float>>()
        let names = ResizeArray<string>()
        let offsets = n.Offsets
        let mutable a = TExpr.constant x
        let mutable before = a
        let mutable stage = 0
        n.Layers |> Array.iteri (fun l layer ->
            if layer.ParameterCount > 0 then stage <- stage + 1
            let out, vars = layer.ToTExpr(n.Parameters, offsets.[l], max 1 stage, a)
            for name, value in vars do
                env.[name] <- value
                names.Add name
            before <- a
            a <- out)
        let last = n.Layers.[n.Layers.Length - 1]
        let input = if n.Layers.Length >= 2 then last.LossInput n.Loss else LossInput.Outputs
        let prediction = if input = LossInput.Logits then before else a
        TExpr.loss n.Loss input Layout.ColumnsAreSamples prediction (TExpr.constant y), env :> _, List.ofSeq names

    /// The class of each of the samples (any storage): its largest output.
    let classifySamples (n: Network) (x: Samples) : int[] =
        let a = predictSamples n x
        Array.init a.ColumnCount (fun j -> a.Column(j).MaximumIndex())

    /// The index of the largest output of every sample.
    let classify (n: Network) (x: Matrix<float>) : int[] =
        checkInputs n x
        classifySamples n (Samples.OfMatrix x)

    /// The fraction of samples whose largest output is the labelled class.
    let accuracy (n: Network) (x: Matrix<float>) (labels: int[]) : float =
        let c = classify n x
        float (Array.fold2 (fun acc p l -> if p = l then acc + 1 else acc) 0 c labels) / float labels.Length

    /// <summary>The confusion matrix of predictions already made (e.g. by <c>classify</c>):
    /// counts.[t, p] samples of true class t predicted as p, for <paramref name="classes"/> classes.</summary>
    let confusionOf (predicted: int[]) (labels: int[]) (classes: int) : int[,] =
        if labels.Length <> predicted.Length then invalidArg "labels" (sprintf "%d labels for %d predictions" labels.Length predicted.Length)
        let counts = Array2D.zeroCreate classes classes
        Array.iter2 (fun p t ->
            if t < 0 || t >= classes then invalidArg "labels" (sprintf "label %d is outside the %d classes" t classes)
            if p < classes then counts.[t, p] <- counts.[t, p] + 1) predicted labels
        counts

    /// <summary>The confusion matrix of the network on X: counts.[t, p] samples of true class t
    /// classified as p, for <paramref name="classes"/> classes.</summary>
    let confusion (n: Network) (x: Matrix<float>) (labels: int[]) (classes: int) : int[,] =
        if labels.Length <> x.ColumnCount then invalidArg "labels" (sprintf "%d labels for %d samples" labels.Length x.ColumnCount)
        confusionOf (classify n x) labels classes
