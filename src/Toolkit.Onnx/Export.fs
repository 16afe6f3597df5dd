namespace Toolkit.Onnx

open System
open System.IO
open Google.Protobuf
open Toolkit.Onnx.Schema
open Toolkit.Graph
open Toolkit.Nn

/// <summary>
/// Networks as ONNX models: one input "input" (float32, batch × features, the batch dimension
/// named and dynamic), one output "output" (batch × outputs), each dense layer a Gemm with its
/// weights as initializers, each activation its ONNX operator (or a few, for step and Φ), dropout
/// gone (inference), opset 20. The layout is rows-as-samples, as ONNX readers and PyTorch expect;
/// the toolkit's columns-as-samples weights are written transposed accordingly.
/// </summary>
[<RequireQualifiedAccess>]
module Onnx =

    /// The ONNX operator set written (20: Gelu is an operator there).
    [<Literal>]
    let Opset = 20L

    /// The ONNX file format version that goes with opset 20.
    [<Literal>]
    let IrVersion = 9L

    /// Nodes and initializers, each value named once.
    type private Builder() =
        let nodes = ResizeArray<NodeProto>()
        let initializers = ResizeArray<TensorProto>()
        let mutable count = 0
        let fresh (stem: string) =
            count <- count + 1
            sprintf "%s_%d" stem count
        member _.Nodes = nodes
        member _.Initializers = initializers
        /// A node; returns the name of its output.
        member _.Node(op: string, inputs: string list, ?attributes: AttributeProto list) =
            let out = fresh (op.ToLowerInvariant())
            let n = NodeProto(OpType = op, Name = out)
            n.Input.AddRange inputs
            n.Output.Add out
            n.Attribute.AddRange(defaultArg attributes [])
            nodes.Add n
            out
        /// A float32 tensor of weights; returns its name.
        member _.Tensor(stem: string, dims: int64 list, values: float32[]) =
            let name = fresh stem
            let t = TensorProto(Name = name, DataType = int TensorProto.Types.DataType.Float)
            t.Dims.AddRange dims
            t.FloatData.AddRange values
            initializers.Add t
            name
        /// A float32 scalar constant; returns its name.
        member b.Scalar(v: float) = b.Tensor("c", [], [| float32 v |])

    let private floatAttribute (name: string) (v: float) =
        AttributeProto(Name = name, Type = AttributeProto.Types.AttributeType.Float, F = float32 v)

    let private intAttribute (name: string) (v: int64) =
        AttributeProto(Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v)

    /// One op of the vocabulary on a value: its ONNX operators. Every op has a form (the match is
    /// exhaustive: a new op must be given one here to compile).
    let private unary (b: Builder) (op: UnaryOp) (x: string) : string =
        match op with
        | UnaryOp.Neg -> b.Node("Neg", [ x ])
        | UnaryOp.PowInt n -> b.Node("Pow", [ x; b.Scalar(float n) ])
        | UnaryOp.Exp -> b.Node("Exp", [ x ])
        | UnaryOp.Log -> b.Node("Log", [ x ])
        | UnaryOp.Sqrt -> b.Node("Sqrt", [ x ])
        | UnaryOp.Sigmoid -> b.Node("Sigmoid", [ x ])
        | UnaryOp.Tanh -> b.Node("Tanh", [ x ])
        | UnaryOp.Relu -> b.Node("Relu", [ x ])
        | UnaryOp.Abs -> b.Node("Abs", [ x ])
        | UnaryOp.Sign -> b.Node("Sign", [ x ])
        // step x = 1 for x > 0, else 0: a comparison cast to float
        | UnaryOp.Step -> b.Node("Cast", [ b.Node("Greater", [ x; b.Scalar 0.0 ]) ], [ intAttribute "to" (int64 TensorProto.Types.DataType.Float) ])
        | UnaryOp.LeakyRelu slope -> b.Node("LeakyRelu", [ x ], [ floatAttribute "alpha" slope ])
        | UnaryOp.Softplus -> b.Node("Softplus", [ x ])
        | UnaryOp.Elu -> b.Node("Elu", [ x ], [ floatAttribute "alpha" 1.0 ])
        // x·Φ(x), Φ exact (the operator's default, approximate = "none")
        | UnaryOp.Gelu -> b.Node("Gelu", [ x ])
        // Φ(x) = ½(1 + erf(x/√2))
        | UnaryOp.Phi ->
            let erf = b.Node("Erf", [ b.Node("Div", [ x; b.Scalar(sqrt 2.0) ]) ])
            b.Node("Mul", [ b.Node("Add", [ erf; b.Scalar 1.0 ]); b.Scalar 0.5 ])

    let private valueInfo (name: string) (dims: Choice<string, int64> list) =
        let shape = TensorShapeProto()
        for d in dims do
            shape.Dim.Add(match d with
                          | Choice1Of2 p -> TensorShapeProto.Types.Dimension(DimParam = p)
                          | Choice2Of2 v -> TensorShapeProto.Types.Dimension(DimValue = v))
        ValueInfoProto(Name = name, Type = TypeProto(TensorType = TypeProto.Types.Tensor(ElemType = int TensorProto.Types.DataType.Float, Shape = shape)))

    /// <summary>The network as an ONNX model, with the names of its classes (one per output, or
    /// none) kept in the model's metadata under "classes", one per line.</summary>
    /// <exception cref="T:System.NotSupportedException">A layer has no ONNX form (the message names it).</exception>
    let ofNetwork (classes: string[]) (n: Network) : ModelProto =
        let b = Builder()
        let offsets = n.Offsets
        let mutable x = "input"
        n.Layers |> Array.iteri (fun l layer ->
            match layer with
            | :? Dense ->
                let nIn, nOut = layer.Inputs, layer.Outputs
                let o = offsets.[l]
                // column-major W (n_out × n_in) to row-major [n_out, n_in]: Gemm(x, W, b, transB = 1) = x·Wᵀ + b
                let w = Array.init (nOut * nIn) (fun k -> let i, j = k / nIn, k % nIn in float32 n.Parameters.[o + j * nOut + i])
                let bias = Array.init nOut (fun i -> float32 n.Parameters.[o + nOut * nIn + i])
                let wName = b.Tensor(sprintf "W%d" (l + 1), [ int64 nOut; int64 nIn ], w)
                let bName = b.Tensor(sprintf "b%d" (l + 1), [ int64 nOut ], bias)
                x <- b.Node("Gemm", [ x; wName; bName ], [ intAttribute "transB" 1L ])
            | :? ActivationLayer as a ->
                match a.Activation with
                | Activation.Identity -> ()
                | Activation.Softmax -> x <- b.Node("Softmax", [ x ], [ intAttribute "axis" 1L ])
                | Activation.Elementwise op -> x <- unary b op x
            // at inference dropout passes its input through
            | :? Dropout -> ()
            | _ -> raise (NotSupportedException(sprintf "layer %d (%s) has no ONNX form" (l + 1) layer.Spec)))
        // the last value under the output's name
        let output = NodeProto(OpType = "Identity", Name = "output")
        output.Input.Add x
        output.Output.Add "output"
        b.Nodes.Add output
        let graph = GraphProto(Name = "toolkit-network", DocString = Network.describe n)
        graph.Node.AddRange b.Nodes
        graph.Initializer.AddRange b.Initializers
        graph.Input.Add(valueInfo "input" [ Choice1Of2 "batch"; Choice2Of2(int64 n.Inputs) ])
        graph.Output.Add(valueInfo "output" [ Choice1Of2 "batch"; Choice2Of2(int64 n.Outputs) ])
        let model = ModelProto(IrVersion = IrVersion, ProducerName = "Toolkit", ProducerVersion = "0.1.0", Graph = graph)
        model.OpsetImport.Add(OperatorSetIdProto(Domain = "", Version = Opset))
        if classes.Length > 0 then
            model.MetadataProps.Add(StringStringEntryProto(Key = "classes", Value = String.Join("\n", classes)))
        model

    /// <summary>Writes the network as an ONNX file, atomically.</summary>
    /// <exception cref="T:System.NotSupportedException">A layer has no ONNX form.</exception>
    let save (path: string) (classes: string[]) (n: Network) =
        let model = ofNetwork classes n
        Toolkit.AtomicFile.writeAllBytes path (model.ToByteArray())
