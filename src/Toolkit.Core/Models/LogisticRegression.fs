namespace Toolkit.Models

open System
open System.Collections.Generic
open MathNet.Numerics.LinearAlgebra
open Toolkit.Linalg
open Toolkit.Tensors

/// The parameters of logistic regression: z = wᵀx + b, a = σ(z).
type LogisticParams =
    { /// One weight per feature.
      W: float[]
      /// The bias.
      B: float }

/// One gradient of the cost J = (1/m)·Σ L(a⁽ⁱ⁾, y⁽ⁱ⁾) at some parameters.
type LogisticGradient =
    { /// J at the parameters.
      Cost: float
      /// dJ/dw (the notes' dw1, dw2, …).
      DW: float[]
      /// dJ/db.
      DB: float }

/// The result of gradient descent.
type LogisticFit =
    { /// The final parameters.
      Params: LogisticParams
      /// The cost before each step (the last entry is the cost of the final parameters).
      CostPerStep: float[]
      /// How many steps were taken.
      Steps: int
      /// True when the parameter change fell under the tolerance before the step limit.
      Converged: bool }

/// <summary>
/// Logistic regression by gradient descent, written the three ways the notes write it, on
/// data laid out as the notes do: X is n×m (one column per sample), Y holds m labels in {0, 1}.
/// The three give the same gradients; only their speed differs. The cost is computed from z
/// (max(z, 0) − z·y + log(1 + e^−|z|)), so a saturated sigmoid never takes log(0).
/// </summary>
[<RequireQualifiedAccess>]
module LogisticRegression =

    let private check (x: Matrix<float>) (y: float[]) (p: LogisticParams) =
        if y.Length <> x.ColumnCount then
            invalidArg "y" (sprintf "logistic regression: X has %d samples (columns) but Y has %d labels" x.ColumnCount y.Length)
        if p.W.Length <> x.RowCount then
            invalidArg "p" (sprintf "logistic regression: X has %d features (rows) but w has %d weights" x.RowCount p.W.Length)

    /// Zero weights and bias for n features.
    let zeros (n: int) = { W = Array.zeroCreate n; B = 0.0 }

    /// <summary>(a) Two nested loops: over samples, and inside over features, accumulating
    /// dw1, dw2, … one by one, exactly as the notes' first program.</summary>
    let gradientLoops (x: Matrix<float>) (y: float[]) (p: LogisticParams) : LogisticGradient =
        check x y p
        let n, m = x.RowCount, x.ColumnCount
        let xs = Kernels.storage x
        let mutable J = 0.0
        let dw = Array.zeroCreate n
        let mutable db = 0.0
        for i in 0 .. m - 1 do
            let mutable z = p.B
            for j in 0 .. n - 1 do
                z <- z + p.W.[j] * xs.[j + i * n]
            let a = Toolkit.Graph.Rules.sigmoid z
            J <- J + Loss.bceWithLogit z y.[i]
            let dz = a - y.[i]
            for j in 0 .. n - 1 do
                dw.[j] <- dw.[j] + xs.[j + i * n] * dz
            db <- db + dz
        { Cost = J / float m; DW = dw |> Array.map (fun d -> d / float m); DB = db / float m }

    /// <summary>(b) One loop over samples, the features handled as vectors: z = w·x⁽ⁱ⁾ + b,
    /// dw += x⁽ⁱ⁾·dz.</summary>
    let gradientLoop (x: Matrix<float>) (y: float[]) (p: LogisticParams) : LogisticGradient =
        check x y p
        let m = x.ColumnCount
        let w = Vector<float>.Build.DenseOfArray p.W
        let mutable dw = Vector<float>.Build.Dense(x.RowCount)
        let mutable J = 0.0
        let mutable db = 0.0
        for i in 0 .. m - 1 do
            let xi = x.Column i
            let z = w.DotProduct xi + p.B
            let a = Toolkit.Graph.Rules.sigmoid z
            J <- J + Loss.bceWithLogit z y.[i]
            let dz = a - y.[i]
            dw <- dw + xi * dz
            db <- db + dz
        { Cost = J / float m; DW = (dw / float m).ToArray(); DB = db / float m }

    /// <summary>(c) Fully vectorized: Z = wᵀX + b, A = σ(Z), dZ = A − Y, dw = (1/m)·X·dZᵀ,
    /// db = (1/m)·Σ dZ; the two products are single OpenBLAS calls.</summary>
    let gradientVectorized (x: Matrix<float>) (y: float[]) (p: LogisticParams) : LogisticGradient =
        check x y p
        let n, m = x.RowCount, x.ColumnCount
        let xs = Kernels.storage x
        let z = Array.create m p.B
        Blas.gemv true n m 1.0 xs n p.W 1.0 z                   // Z = wᵀX + b
        let mutable J = 0.0
        let dZ = Array.zeroCreate m
        for i in 0 .. m - 1 do
            J <- J + Loss.bceWithLogit z.[i] y.[i]
            dZ.[i] <- Toolkit.Graph.Rules.sigmoid z.[i] - y.[i]  // dZ = A − Y
        let dw = Array.zeroCreate n
        Blas.gemv false n m (1.0 / float m) xs n dZ 0.0 dw       // dw = (1/m)·X·dZᵀ
        { Cost = J / float m; DW = dw; DB = Array.sum dZ / float m }

    /// The cost as a matrix graph: J = BCE(wᵀX + b, Y) with w (n×1) and b (1×1) as variables.
    let graph (x: Matrix<float>) (y: float[]) : TExpr =
        let w = TExpr.var "w" x.RowCount 1
        let b = TExpr.var "b" 1 1
        let Z = TExpr.named "Z" (TExpr.add (TExpr.matmul (TExpr.transpose w) (TExpr.constant x)) b)
        let Y = TExpr.constant (Matrix<float>.Build.Dense(1, y.Length, y))
        TExpr.named "J" (TExpr.bceWithLogits Layout.ColumnsAreSamples Z Y)

    /// <summary>(c) again, through the matrix graph's reverse mode: the same numbers as the
    /// hand-written vectorized step.</summary>
    let gradientGraph (x: Matrix<float>) (y: float[]) (p: LogisticParams) : LogisticGradient =
        check x y p
        let g = TGraph.ofExpr (graph x y)
        let env = readOnlyDict [ "w", Matrix<float>.Build.Dense(p.W.Length, 1, p.W); "b", Matrix<float>.Build.Dense(1, 1, p.B) ]
        let b = TGraph.backward (TGraph.forward g env)
        { Cost = b.Value.[0, 0]; DW = (b.Dvar "w").Column(0).ToArray(); DB = (b.Dvar "b").[0, 0] }

    /// <summary>Gradient descent w := w − α·dw, b := b − α·db from <paramref name="start"/>, until
    /// the largest parameter change falls under <paramref name="tolerance"/> or after
    /// <paramref name="maxSteps"/> steps; the cost is recorded at every step.</summary>
    let fit (gradient: Matrix<float> -> float[] -> LogisticParams -> LogisticGradient)
            (alpha: float) (tolerance: float) (maxSteps: int)
            (x: Matrix<float>) (y: float[]) (start: LogisticParams) : LogisticFit =
        if alpha <= 0.0 || Double.IsNaN alpha then invalidArg "alpha" (sprintf "the learning rate must be positive, not %g" alpha)
        let costs = ResizeArray<float>()
        let mutable p = start
        let mutable steps = 0
        let mutable converged = false
        while steps < maxSteps && not converged do
            let g = gradient x y p
            if not (Double.IsFinite g.Cost) then
                failwithf "logistic regression: the cost became %g at step %d (learning rate %g too large?)" g.Cost steps alpha
            costs.Add g.Cost
            let w = Array.map2 (fun w d -> w - alpha * d) p.W g.DW
            let b = p.B - alpha * g.DB
            let change = max (abs (b - p.B)) (Array.fold2 (fun acc a c -> max acc (abs (a - c))) 0.0 w p.W)
            p <- { W = w; B = b }
            steps <- steps + 1
            converged <- change < tolerance
        costs.Add (gradient x y p).Cost
        { Params = p; CostPerStep = costs.ToArray(); Steps = steps; Converged = converged }

    /// The probability σ(wᵀx + b) of class 1 for every sample (column) of X.
    let predict (p: LogisticParams) (x: Matrix<float>) : float[] =
        let n, m = x.RowCount, x.ColumnCount
        if p.W.Length <> n then invalidArg "x" (sprintf "X has %d features (rows) but w has %d weights" n p.W.Length)
        let z = Array.create m p.B
        Blas.gemv true n m 1.0 (Kernels.storage x) n p.W 1.0 z
        z |> Array.map Toolkit.Graph.Rules.sigmoid

    /// The fraction of samples whose thresholded prediction (≥ 0.5) equals the label.
    let accuracy (p: LogisticParams) (x: Matrix<float>) (y: float[]) : float =
        let a = predict p x
        let right = Array.fold2 (fun acc a y -> if (a >= 0.5) = (y >= 0.5) then acc + 1 else acc) 0 a y
        float right / float y.Length
