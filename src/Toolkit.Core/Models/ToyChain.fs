namespace Toolkit.Models

open System
open Toolkit.Graph

/// <summary>
/// The notes' toy network: a chain of one-neuron layers, each computing output = w·input, trained
/// one sample at a time on the cost ½(output − label)² by gradient descent. The gradient comes
/// from the computation graph's backward pass, so every dw is the chain rule done right (the notes'
/// own code multiplies the weight gradient by an extra w and walks the layers front to back).
/// </summary>
[<RequireQualifiedAccess>]
module ToyChain =

    /// The graph of the cost for one sample: out = w_L·…·w_2·w_1·x, C = ½(out − y)².
    let cost (layers: int) : Expr =
        let mutable out = Expr.var "x"
        for l in 1 .. layers do
            out <- Expr.named (sprintf "out%d" l) (Expr.var (sprintf "w%d" l) * out)
        Expr.named "C" (0.5 * Expr.powInt 2 (out - Expr.var "y"))

    /// Weights drawn from [−0.5, 0.5), as the notes do, from a seed.
    let init (layers: int) (seed: int) : float[] =
        let rng = Random(seed)
        Array.init layers (fun _ -> rng.NextDouble() - 0.5)

    /// The last layer's output for an input.
    let output (w: float[]) (x: float) = Array.fold (fun acc wl -> wl * acc) x w

    /// The notes' prediction: 1 if the output is positive, else −1.
    let predict (w: float[]) (x: float) = if output w x > 0.0 then 1 else -1

    /// <summary>Trains sample by sample: for each epoch, for each (x, y), w := w − η·dC/dw.</summary>
    let train (w0: float[]) (data: (float * float) list) (learningRate: float) (epochs: int) : float[] =
        let g = Graph.ofExpr (cost w0.Length)
        let w = Array.copy w0
        for _ in 1 .. epochs do
            for (x, y) in data do
                let env = readOnlyDict [ yield "x", x; yield "y", y; for l in 1 .. w.Length -> sprintf "w%d" l, w.[l - 1] ]
                let b = Eval.backward (Eval.forward g env)
                for l in 1 .. w.Length do
                    w.[l - 1] <- w.[l - 1] - learningRate * b.Dvar(sprintf "w%d" l)
        w
