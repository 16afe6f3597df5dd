namespace Toolkit.Nn

open System
open MathNet.Numerics.LinearAlgebra
open Toolkit.Tensors

/// How a layer's weights are drawn.
[<RequireQualifiedAccess>]
type Init =
    /// N(0, 1), the notes' choice for the 784-30-10 network.
    | Normal
    /// Xavier/Glorot: N(0, 1/n_in), for sigmoid and tanh layers.
    | Xavier
    /// He: N(0, 2/n_in), for ReLU layers.
    | He
    /// Weights and biases uniform in ±1/√n_in (PyTorch's default for a linear layer).
    | Uniform

/// A dense layer, columns are samples: z = W·a_prev + b, a = g(z).
type Dense =
    { /// n_out × n_in weights.
      W: Matrix<float>
      /// n_out × 1 biases.
      B: Matrix<float>
      /// The activation g.
      Activation: Activation }

/// A network: dense layers in order, and the cost it is trained on.
type Network =
    { /// The layers, input side first.
      Layers: Dense[]
      /// The cost.
      Loss: Loss }

/// What a forward pass keeps for the backward pass: every layer's z and a (a⁰ = x).
type ForwardCache =
    { /// zˡ for l = 1 … L.
      Z: Matrix<float>[]
      /// aˡ for l = 0 … L (a⁰ is the input).
      A: Matrix<float>[] }

/// The gradients of the cost: ∂C/∂Wˡ and ∂C/∂bˡ for every layer.
type Gradients =
    { /// ∂C/∂Wˡ, the shapes of the weights.
      DW: Matrix<float>[]
      /// ∂C/∂bˡ, n_out × 1.
      DB: Matrix<float>[]
      /// δˡ for every layer (n_out × samples).
      Delta: Matrix<float>[] }

/// Networks: creation, the forward pass, and the backward pass written as the notes' four equations.
[<RequireQualifiedAccess>]
module Network =

    /// Standard normal samples from a seeded generator (Box–Muller): the same seed gives
    /// bit-identical weights.
    let normal (rng: Random) : float =
        let u1 = 1.0 - rng.NextDouble()
        let u2 = rng.NextDouble()
        sqrt (-2.0 * log u1) * cos (2.0 * Math.PI * u2)

    /// <summary>A network with layer sizes <paramref name="sizes"/> (e.g. [784; 30; 10]), the
    /// hidden activation, the output activation, the cost and the initialisation, from a seed.
    /// Biases are drawn like the weights for Init.Normal (as the notes do) and Init.Uniform, else zero.</summary>
    let create (sizes: int list) (hidden: Activation) (output: Activation) (loss: Loss) (init: Init) (seed: int) : Network =
        if sizes.Length < 2 then invalidArg "sizes" (sprintf "a network needs at least an input and an output size, got %A" sizes)
        if sizes |> List.exists (fun n -> n < 1) then invalidArg "sizes" (sprintf "every layer needs at least one unit, got %A" sizes)
        let rng = Random(seed)
        let pairs = List.pairwise sizes
        let layers =
            pairs
            |> List.mapi (fun l (nIn, nOut) ->
                let bound = 1.0 / sqrt (float nIn)
                let draw () =
                    match init with
                    | Init.Normal -> normal rng
                    | Init.Xavier -> sqrt (1.0 / float nIn) * normal rng
                    | Init.He -> sqrt (2.0 / float nIn) * normal rng
                    | Init.Uniform -> bound * (2.0 * rng.NextDouble() - 1.0)
                let w = Matrix<float>.Build.Dense(nOut, nIn, fun _ _ -> 0.0)
                for j in 0 .. nIn - 1 do
                    for i in 0 .. nOut - 1 do
                        w.[i, j] <- draw ()
                let b =
                    Matrix<float>.Build.Dense(nOut, 1, fun _ _ ->
                        match init with
                        | Init.Normal -> normal rng
                        | Init.Uniform -> bound * (2.0 * rng.NextDouble() - 1.0)
                        | Init.Xavier | Init.He -> 0.0)
                { W = w; B = b; Activation = (if l = pairs.Length - 1 then output else hidden) })
        { Layers = Array.ofList layers; Loss = loss }

    /// The layer sizes, input first.
    let sizes (n: Network) = [ yield n.Layers.[0].W.ColumnCount; for l in n.Layers -> l.W.RowCount ]

    /// <summary>The forward pass over a batch X (inputs × samples): zˡ = Wˡ·aˡ⁻¹ + bˡ, aˡ = g(zˡ).</summary>
    let forward (n: Network) (x: Matrix<float>) : ForwardCache =
        if x.RowCount <> n.Layers.[0].W.ColumnCount then
            invalidArg "x" (sprintf "the network takes %d inputs per sample but X has %d rows" n.Layers.[0].W.ColumnCount x.RowCount)
        let zs = Array.zeroCreate n.Layers.Length
        let acts = Array.zeroCreate (n.Layers.Length + 1)
        acts.[0] <- x
        for l in 0 .. n.Layers.Length - 1 do
            let layer = n.Layers.[l]
            let z = Kernels.gemm false false layer.W acts.[l]
            let z = z + Kernels.broadcast layer.B z.RowCount z.ColumnCount
            zs.[l] <- z
            acts.[l + 1] <- Activation.apply layer.Activation z
        { Z = zs; A = acts }

    /// The network's outputs for a batch X.
    let predict (n: Network) (x: Matrix<float>) : Matrix<float> = (forward n x).A |> Array.last

    /// The cost on a batch.
    let cost (n: Network) (x: Matrix<float>) (y: Matrix<float>) =
        let c = forward n x
        let last = n.Layers.Length - 1
        Loss.value n.Loss n.Layers.[last].Activation c.Z.[last] c.A.[last + 1] y

    /// <summary>The backward pass, as the four equations of the notes:
    /// (1) δᴸ = ∇ₐC ⊙ σ′(zᴸ); (2) δˡ = ((Wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ); (3) ∂C/∂bˡ = δˡ (summed over the
    /// samples); (4) ∂C/∂Wˡ = δˡ (aˡ⁻¹)ᵀ. The cost is averaged over the batch, so the 1/m sits in δᴸ.</summary>
    let backward (n: Network) (cache: ForwardCache) (y: Matrix<float>) : Gradients =
        let L = n.Layers.Length
        let delta = Array.zeroCreate L
        // (1) the output layer
        delta.[L - 1] <- Loss.outputDelta n.Loss n.Layers.[L - 1].Activation cache.Z.[L - 1] cache.A.[L] y
        // (2) every layer before it, right to left: δˡ = ((Wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ)
        for l in L - 2 .. -1 .. 0 do
            let back = Kernels.gemm true false n.Layers.[l + 1].W delta.[l + 1]
            delta.[l] <- Activation.backward n.Layers.[l].Activation cache.Z.[l] cache.A.[l + 1] back
        // (3) ∂C/∂bˡ = δˡ, summed over the samples; (4) ∂C/∂Wˡ = δˡ·(aˡ⁻¹)ᵀ
        { DB = delta |> Array.map (fun d -> Kernels.sumAxis Axis.Cols d)
          DW = delta |> Array.mapi (fun l d -> Kernels.gemm false true d cache.A.[l])
          Delta = delta }

    /// The network and its cost on a batch as a matrix graph, with Wl and bl (l = 1 …) as
    /// variables: the same numbers as forward/backward, by the graph's own rules.
    let toTExpr (n: Network) (x: Matrix<float>) (y: Matrix<float>) : TExpr * Collections.Generic.IReadOnlyDictionary<string, Matrix<float>> =
        let mutable a = TExpr.constant x
        let mutable zLast = a
        let env = Collections.Generic.Dictionary<string, Matrix<float>>()
        n.Layers |> Array.iteri (fun l layer ->
            let w = TExpr.var (sprintf "W%d" (l + 1)) layer.W.RowCount layer.W.ColumnCount
            let b = TExpr.var (sprintf "b%d" (l + 1)) layer.B.RowCount 1
            env.[sprintf "W%d" (l + 1)] <- layer.W
            env.[sprintf "b%d" (l + 1)] <- layer.B
            let z = TExpr.named (sprintf "z%d" (l + 1)) (TExpr.denseColumns w a b)
            zLast <- z
            a <- TExpr.named (sprintf "a%d" (l + 1)) (Activation.toTExpr layer.Activation z))
        let last = n.Layers.[n.Layers.Length - 1]
        Loss.toTExpr n.Loss last.Activation zLast (TExpr.constant y), env :> _

    /// The index of the largest output of every sample.
    let classify (n: Network) (x: Matrix<float>) : int[] =
        let a = predict n x
        Array.init a.ColumnCount (fun j -> a.Column(j).MaximumIndex())

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
