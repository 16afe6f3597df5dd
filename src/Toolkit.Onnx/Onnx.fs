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
/// gone (inference), opset 20. The image layers are Conv, MaxPool, AveragePool,
/// BatchNormalization (the running averages) and Flatten on batch × channels × height × width,
/// after a Reshape of the input's features (which are channel after channel, as PyTorch's are). The layout is rows-as-samples, as ONNX readers and PyTorch expect;
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
        /// An int64 vector (a shape); returns its name.
        member _.Int64s(stem: string, values: int64 list) =
            let name = fresh stem
            let t = TensorProto(Name = name, DataType = int TensorProto.Types.DataType.Int64)
            t.Dims.Add(int64 values.Length)
            t.Int64Data.AddRange values
            initializers.Add t
            name

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
        // the value so far is samples × features (false) or samples × channels × height × width (true)
        let mutable image = false
        let toImage (shape: SampleShape) =
            if not image then
                x <- b.Node("Reshape", [ x; b.Int64s("shape", [ -1L; int64 shape.Channels; int64 shape.Height; int64 shape.Width ]) ])
                image <- true
        let toFeatures () =
            if image then
                x <- b.Node("Flatten", [ x ], [ intAttribute "axis" 1L ])
                image <- false
        let ints (name: string) (values: int list) =
            let a = AttributeProto(Name = name, Type = AttributeProto.Types.AttributeType.Ints)
            a.Ints.AddRange(values |> List.map int64)
            a
        let window (k: int) (stride: int) (pad: int) = [ ints "kernel_shape" [ k; k ]; ints "strides" [ stride; stride ]; ints "pads" [ pad; pad; pad; pad ] ]
        let slice (o: int) (count: int) = Array.init count (fun i -> float32 n.Parameters.[o + i])
        n.Layers |> Array.iteri (fun l layer ->
            let o = offsets.[l]
            match layer with
            | :? Dense ->
                toFeatures ()
                let nIn, nOut = layer.Inputs, layer.Outputs
                // column-major W (n_out × n_in) to row-major [n_out, n_in]: Gemm(x, W, b, transB = 1) = x·Wᵀ + b
                let w = Array.init (nOut * nIn) (fun k -> let i, j = k / nIn, k % nIn in float32 n.Parameters.[o + j * nOut + i])
                let bias = Array.init nOut (fun i -> float32 n.Parameters.[o + nOut * nIn + i])
                let wName = b.Tensor(sprintf "W%d" (l + 1), [ int64 nOut; int64 nIn ], w)
                let bName = b.Tensor(sprintf "b%d" (l + 1), [ int64 nOut ], bias)
                x <- b.Node("Gemm", [ x; wName; bName ], [ intAttribute "transB" 1L ])
            | :? Conv2D as c ->
                toImage c.InputShape
                let cIn = c.InputShape.Channels
                // the toolkit keeps W as outputs × channels × k × k, ONNX's order
                let count = c.Channels * cIn * c.Kernel * c.Kernel
                let wName = b.Tensor(sprintf "W%d" (l + 1), [ int64 c.Channels; int64 cIn; int64 c.Kernel; int64 c.Kernel ], slice o count)
                let bName = b.Tensor(sprintf "b%d" (l + 1), [ int64 c.Channels ], slice (o + count) c.Channels)
                x <- b.Node("Conv", [ x; wName; bName ], window c.Kernel c.Stride c.Padding)
            | :? MaxPool2D as p ->
                toImage p.InputShape
                x <- b.Node("MaxPool", [ x ], window p.Size p.Stride p.Padding)
            | :? AvgPool2D as p ->
                toImage p.InputShape
                // padding counts as zeros in the mean, as the toolkit's average does
                x <- b.Node("AveragePool", [ x ], window p.Size p.Stride p.Padding @ [ intAttribute "count_include_pad" 1L ])
            | :? BatchNorm as bn ->
                // on samples × features or on images alike: one γ, β, mean and variance per channel
                let c = layer.InputShape.Channels
                if not layer.InputShape.IsFlat then toImage layer.InputShape
                let part k = b.Tensor(sprintf "bn%d" (l + 1), [ int64 c ], slice (o + k * c) c)
                // ONNX's momentum weighs the running average (PyTorch's and the toolkit's, the batch)
                x <- b.Node("BatchNormalization", [ x; part 0; part 1; part 2; part 3 ], [ floatAttribute "epsilon" bn.Epsilon; floatAttribute "momentum" (1.0 - bn.Momentum) ])
            | :? Flatten -> toFeatures ()
            | :? ActivationLayer as a ->
                match a.Activation with
                | Activation.Identity -> ()
                | Activation.Softmax ->
                    // over each sample's values, all of them
                    toFeatures ()
                    x <- b.Node("Softmax", [ x ], [ intAttribute "axis" 1L ])
                | Activation.Elementwise op -> x <- unary b op x
            // at inference dropout passes its input through
            | :? Dropout -> ()
            | _ -> raise (NotSupportedException(sprintf "layer %d (%s) has no ONNX form" (l + 1) layer.Spec)))
        toFeatures ()
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

    // ---- in: a chain of dense layers and activations, as PyTorch and others write it --------

    let private attribute (n: NodeProto) (name: string) = n.Attribute |> Seq.tryFind (fun a -> a.Name = name)
    let private intOf (n: NodeProto) (name: string) (otherwise: int64) = match attribute n name with Some a -> a.I | None -> otherwise
    // an attribute is a float32: read as the decimal it was written from (0.2f as 0.2, not 0.2000000030)
    let private floatOf (n: NodeProto) (name: string) (otherwise: float) =
        match attribute n name with
        | Some a -> Double.Parse(a.F.ToString("R", Globalization.CultureInfo.InvariantCulture), Globalization.CultureInfo.InvariantCulture)
        | None -> otherwise

    /// Gelu with Φ exact (the default), not its tanh approximation.
    let private exactGelu (n: NodeProto) =
        match attribute n "approximate" with
        | Some a -> a.S.ToStringUtf8() = "none"
        | None -> true

    /// A softmax over each sample's values (axis 1, or −1 on samples × features).
    let private overFeatures (n: NodeProto) =
        let axis = intOf n "axis" -1L
        axis = 1L || axis = -1L

    /// A tensor's numbers: float or double, in its typed fields or its raw little-endian bytes.
    let private numbersOf (t: TensorProto) : float[] =
        match t.DataType with
        | 1 when t.FloatData.Count > 0 -> t.FloatData |> Seq.map float |> Array.ofSeq
        | 1 -> let raw = t.RawData.ToByteArray() in Array.init (raw.Length / 4) (fun i -> float (BitConverter.ToSingle(raw, 4 * i)))
        | 11 when t.DoubleData.Count > 0 -> Array.ofSeq t.DoubleData
        | 11 -> let raw = t.RawData.ToByteArray() in Array.init (raw.Length / 8) (fun i -> BitConverter.ToDouble(raw, 8 * i))
        | d -> raise (NotSupportedException(sprintf "the tensor '%s' holds data type %d; float and double are read" t.Name d))

    /// A tensor of whole numbers (a shape): int64 in its typed field or its raw bytes.
    let private numbersOf64 (t: TensorProto) : int64[] =
        match t.DataType with
        | 7 when t.Int64Data.Count > 0 -> Array.ofSeq t.Int64Data
        | 7 -> let raw = t.RawData.ToByteArray() in Array.init (raw.Length / 8) (fun i -> BitConverter.ToInt64(raw, 8 * i))
        | d -> raise (NotSupportedException(sprintf "the tensor '%s' holds data type %d; a shape is int64" t.Name d))

    /// <summary>A network from an ONNX model that is a chain of layers — dense (<c>Gemm</c>, or
    /// <c>MatMul</c> then <c>Add</c>), <c>Conv</c>, <c>MaxPool</c>, <c>AveragePool</c>,
    /// <c>BatchNormalization</c>, <c>Flatten</c> and activations — as <c>torch.onnx.export</c>
    /// writes a <c>Sequential</c> of them (the image layers need the input's declared channels,
    /// height and width); and its class names if its metadata has them. The loss is cross-entropy
    /// after a softmax, else quadratic.</summary>
    /// <exception cref="T:System.NotSupportedException">An operator or a shape has no toolkit layer (the message names the node).</exception>
    let ofModel (m: ModelProto) : Network * string[] =
        let g = m.Graph
        if isNull g then raise (NotSupportedException "the model has no graph")
        // constant tensors: the initializers, and the values of Constant nodes (PyTorch writes a
        // pooling's padding as one)
        let initializers =
            Seq.append (g.Initializer |> Seq.map (fun t -> t.Name, t))
                       (g.Node |> Seq.filter (fun n -> n.OpType = "Constant" && n.Output.Count = 1)
                               |> Seq.choose (fun n -> attribute n "value" |> Option.map (fun a -> n.Output.[0], a.T)))
            |> dict
        let inputs = g.Input |> Seq.filter (fun i -> not (initializers.ContainsKey i.Name)) |> Array.ofSeq
        if inputs.Length <> 1 then raise (NotSupportedException(sprintf "the graph has %d inputs; a network has one" inputs.Length))
        let weights (node: NodeProto) (name: string) =
            match initializers.TryGetValue name with
            | true, t -> t
            | _ -> raise (NotSupportedException(sprintf "node '%s' (%s): '%s' is not a constant tensor; only chains of layers are read" node.Name node.OpType name))
        let layers = ResizeArray<Layer>()
        let parameters = ResizeArray<float>()
        let mutable current = inputs.[0].Name
        // the shape of a sample so far, from the input's declared dimensions (batch × features, or
        // batch × channels × height × width as PyTorch exports a convolutional network)
        let mutable shape : SampleShape option =
            let dims = if isNull inputs.[0].Type || isNull inputs.[0].Type.TensorType || isNull inputs.[0].Type.TensorType.Shape then [||]
                       else [| for d in inputs.[0].Type.TensorType.Shape.Dim -> if d.ValueCase = TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue then int d.DimValue else -1 |]
            match dims with
            | [| _; n |] when n > 0 -> Some(SampleShape.Flat n)
            | [| _; c; h; w |] when c > 0 && h > 0 && w > 0 -> Some(SampleShape.Image(c, h, w))
            | _ -> None
        let add (layer: Layer) (values: float seq) =
            layers.Add layer
            parameters.AddRange values
            shape <- Some layer.OutputShape
        let dense (node: NodeProto) (nIn: int) (nOut: int) (at: int -> int -> float) (bias: int -> float) =
            match shape with
            | Some s when s.Size <> nIn -> raise (NotSupportedException(sprintf "node '%s' (%s) takes %d values but is given %d" node.Name node.OpType nIn s.Size))
            | _ -> ()
            // the toolkit's W is n_out × n_in, column-major
            add (Dense(nIn, nOut)) (seq { for j in 0 .. nIn - 1 do for i in 0 .. nOut - 1 -> at i j
                                          for i in 0 .. nOut - 1 -> bias i })
        let known (node: NodeProto) =
            match shape with
            | Some s -> s
            | None -> raise (NotSupportedException(sprintf "node '%s' (%s): the shape of its input is not known (the graph's input declares no sizes)" node.Name node.OpType))
        let image (node: NodeProto) =
            let s = known node
            if s.IsFlat then raise (NotSupportedException(sprintf "node '%s' (%s) works on images, but is given %d features" node.Name node.OpType s.Size))
            s
        let ints (node: NodeProto) (name: string) = match attribute node name with Some a -> List.ofSeq a.Ints |> List.map int | None -> []
        // a square window with one stride and the same padding on every side: what the toolkit's layers take
        let window (node: NodeProto) (kernel: int) =
            let uniform (values: int list) (otherwise: int) =
                match values with
                | [] -> Some otherwise
                | v :: rest when List.forall ((=) v) rest -> Some v
                | _ -> None
            let kernelShape = ints node "kernel_shape"
            let plain =
                (kernelShape.IsEmpty || kernelShape = [ kernel; kernel ]) && ints node "dilations" |> List.forall ((=) 1)
                && intOf node "ceil_mode" 0L = 0L && (match attribute node "auto_pad" with Some a -> a.S.ToStringUtf8() = "NOTSET" | None -> true)
            match uniform (ints node "strides") 1, uniform (ints node "pads") 0 with
            | Some stride, Some pad when plain -> stride, pad
            | _ -> raise (NotSupportedException(sprintf "node '%s' (%s): only square windows with one stride and the same padding on every side are read" node.Name node.OpType))
        let build (node: NodeProto) (make: unit -> Layer) =
            try make ()
            with :? ArgumentException as e -> raise (NotSupportedException(sprintf "node '%s' (%s): %s" node.Name node.OpType e.Message))
        let activation (a: Activation) =
            match shape with
            | None -> raise (NotSupportedException "an activation before any layer: the input's shape is not known")
            | Some s -> add (ActivationLayer(a, s)) []
        // padding written as a Pad node before an AveragePool: zeros counted in the mean, as the toolkit's layer counts them
        let mutable padBefore = 0
        for node in g.Node |> Seq.filter (fun n -> n.OpType <> "Constant") do
            if padBefore > 0 && node.OpType <> "AveragePool" then
                raise (NotSupportedException(sprintf "node '%s' (%s) after a Pad: only an AveragePool is read there" node.Name node.OpType))
            let others = node.Input |> Seq.filter (fun i -> i <> current && not (initializers.ContainsKey i) && i <> "")
            if not (node.Input.Contains current) || not (Seq.isEmpty others) then
                raise (NotSupportedException(sprintf "node '%s' (%s) does not continue the chain from '%s'; only chains of layers are read" node.Name node.OpType current))
            match node.OpType with
            | "Gemm" ->
                if intOf node "transA" 0L <> 0L || floatOf node "alpha" 1.0 <> 1.0 || floatOf node "beta" 1.0 <> 1.0 then
                    raise (NotSupportedException(sprintf "node '%s' (Gemm): transA, alpha or beta other than 0, 1, 1" node.Name))
                let w = weights node node.Input.[1]
                let transposed = intOf node "transB" 0L = 1L
                let rows, cols = int w.Dims.[0], int w.Dims.[1]
                let v = numbersOf w
                let nIn, nOut = (if transposed then cols, rows else rows, cols)
                let b = if node.Input.Count > 2 && node.Input.[2] <> "" then numbersOf (weights node node.Input.[2]) else Array.zeroCreate nOut
                if b.Length <> nOut then raise (NotSupportedException(sprintf "node '%s' (Gemm): a bias of %d for %d outputs (broadcasting is not read)" node.Name b.Length nOut))
                dense node nIn nOut (fun i j -> if transposed then v.[i * cols + j] else v.[j * cols + i]) (fun i -> b.[i])
            | "MatMul" ->
                let w = weights node node.Input.[1]
                let v = numbersOf w
                let nIn, nOut = int w.Dims.[0], int w.Dims.[1]
                dense node nIn nOut (fun i j -> v.[j * nOut + i]) (fun _ -> 0.0)
            | "Add" when layers.Count > 0 && (layers.[layers.Count - 1] :? Dense) ->
                // the bias after a MatMul
                let b = numbersOf (weights node (node.Input |> Seq.find (fun i -> i <> current)))
                let width = layers.[layers.Count - 1].Outputs
                if b.Length <> width then raise (NotSupportedException(sprintf "node '%s' (Add): %d values added to %d" node.Name b.Length width))
                for i in 0 .. width - 1 do parameters.[parameters.Count - width + i] <- parameters.[parameters.Count - width + i] + b.[i]
            | "Conv" ->
                let s = image node
                let w = weights node node.Input.[1]
                if w.Dims.Count <> 4 || int w.Dims.[1] <> s.Channels || w.Dims.[2] <> w.Dims.[3] || intOf node "group" 1L <> 1L then
                    raise (NotSupportedException(sprintf "node '%s' (Conv): kernels of %A on %O; square kernels over all %d channels are read" node.Name (List.ofSeq w.Dims) s s.Channels))
                let outputs, k = int w.Dims.[0], int w.Dims.[2]
                let stride, pad = window node k
                let b = if node.Input.Count > 2 && node.Input.[2] <> "" then numbersOf (weights node node.Input.[2]) else Array.zeroCreate outputs
                // ONNX keeps W as outputs × channels × k × k, the toolkit's order
                add (build node (fun () -> Conv2D(s, outputs, k, stride, pad))) (Array.append (numbersOf w) b)
            | "MaxPool" | "AveragePool" as op ->
                let s = image node
                let k = match ints node "kernel_shape" with [ a; b ] when a = b -> a | _ -> raise (NotSupportedException(sprintf "node '%s' (%s): only square windows are read" node.Name op))
                let stride, pad = window node k
                if op = "AveragePool" && pad > 0 && intOf node "count_include_pad" 0L <> 1L then
                    raise (NotSupportedException(sprintf "node '%s' (AveragePool): padding left out of the mean (count_include_pad = 0) has no toolkit layer" node.Name))
                if padBefore > 0 && pad > 0 then raise (NotSupportedException(sprintf "node '%s' (%s): padded twice" node.Name op))
                let pad = pad + padBefore
                padBefore <- 0
                add (build node (fun () -> if op = "MaxPool" then MaxPool2D(s, k, stride, pad) :> Layer else AvgPool2D(s, k, stride, pad))) []
            | "Pad" ->
                // [0, 0, p, p, 0, 0, p, p]: the same zeros on every side of each image
                let s = image node
                let pads = numbersOf64 (weights node node.Input.[1])
                let constant = node.Input.Count < 3 || node.Input.[2] = "" || numbersOf (weights node node.Input.[2]) |> Array.forall ((=) 0.0)
                let mode = match attribute node "mode" with Some a -> a.S.ToStringUtf8() | None -> "constant"
                match pads with
                | [| 0L; 0L; p; q; 0L; 0L; r; t |] when p = q && q = r && r = t && mode = "constant" && constant -> padBefore <- int p
                | _ -> raise (NotSupportedException(sprintf "node '%s' (Pad): only the same zeros on every side of %O images are read" node.Name s))
            | "BatchNormalization" ->
                let s = known node
                let part i = numbersOf (weights node node.Input.[i])
                let values = [| for i in 1 .. 4 do yield! part i |]
                if values.Length <> 4 * s.Channels then raise (NotSupportedException(sprintf "node '%s' (BatchNormalization): %d values for %d channels" node.Name values.Length s.Channels))
                add (build node (fun () -> BatchNorm(s, Math.Round(1.0 - floatOf node "momentum" 0.9, 12), floatOf node "epsilon" 1e-5))) values
            | "Reshape" when (match shape with Some s -> s.IsFlat | None -> false) ->
                // features to an image, as the toolkit's own export begins a convolutional network
                let dims = numbersOf64 (weights node node.Input.[1])
                match shape, dims with
                | Some s, [| -1L; c; h; w |] when c * h * w = int64 s.Size -> shape <- Some(SampleShape.Image(int c, int h, int w))
                | _ -> raise (NotSupportedException(sprintf "node '%s' (Reshape): only features to channels × height × width is read" node.Name))
            | "Flatten" when intOf node "axis" 1L = 1L ->
                match shape with
                | Some s when not s.IsFlat -> add (Flatten(s)) []
                | _ -> ()
            | "Relu" -> activation Activation.Relu
            | "Sigmoid" -> activation Activation.Sigmoid
            | "Tanh" -> activation Activation.Tanh
            | "LeakyRelu" -> activation (Activation.Elementwise(UnaryOp.LeakyRelu(floatOf node "alpha" 0.01)))
            | "Softplus" -> activation (Activation.Elementwise UnaryOp.Softplus)
            | "Elu" when floatOf node "alpha" 1.0 = 1.0 -> activation (Activation.Elementwise UnaryOp.Elu)
            | "Gelu" when exactGelu node -> activation (Activation.Elementwise UnaryOp.Gelu)
            | "Exp" -> activation (Activation.Elementwise UnaryOp.Exp)
            | "Log" -> activation (Activation.Elementwise UnaryOp.Log)
            | "Abs" -> activation (Activation.Elementwise UnaryOp.Abs)
            | "Sqrt" -> activation (Activation.Elementwise UnaryOp.Sqrt)
            | "Sign" -> activation (Activation.Elementwise UnaryOp.Sign)
            | "Neg" -> activation (Activation.Elementwise UnaryOp.Neg)
            | "Softmax" when overFeatures node -> activation Activation.Softmax
            // nothing to do at inference, or on samples that are already rows of features
            | "Identity" | "Dropout" -> ()
            | op -> raise (NotSupportedException(sprintf "node '%s': the operator %s (with these attributes) has no toolkit layer" node.Name op))
            current <- node.Output.[0]
        if layers.Count = 0 then raise (NotSupportedException "the graph has no layers")
        let loss =
            match layers.[layers.Count - 1] with
            | :? ActivationLayer as a when a.Activation = Activation.Softmax -> Toolkit.Tensors.Loss.CrossEntropy
            | _ -> Toolkit.Tensors.Loss.Quadratic
        let classes =
            match m.MetadataProps |> Seq.tryFind (fun p -> p.Key = "classes") with
            | Some p -> p.Value.Split('\n')
            | None -> [||]
        let net = { Layers = layers.ToArray(); Parameters = parameters.ToArray(); Loss = loss }
        NetworkShape.check net.Layers net.Parameters
        net, (if classes.Length = net.Outputs then classes else [||])

    /// <summary>Reads an ONNX file as a network (see <see cref="ofModel"/>); a file that is not an
    /// ONNX model is an InvalidDataException naming it.</summary>
    /// <exception cref="T:System.NotSupportedException">An operator or a shape has no toolkit layer.</exception>
    let load (path: string) : Network * string[] =
        if not (File.Exists path) then raise (FileNotFoundException(sprintf "%s: no such file" path, path))
        let model =
            try ModelProto.Parser.ParseFrom(File.ReadAllBytes path)
            with :? InvalidProtocolBufferException as e -> raise (Toolkit.Data.DataFormat.error path (sprintf "not an ONNX model: %s" e.Message))
        try ofModel model
        with :? NotSupportedException as e -> raise (NotSupportedException(sprintf "%s: %s" path e.Message))

    // ---- a scalar expression and its gradient ----------------------------------------------

    /// <summary>A scalar expression as an ONNX model: one float32 input of shape [] per variable
    /// (named as the variable), and two outputs: "value", the expression's value, and "gradient",
    /// its derivatives with respect to the variables in <c>Graph.Variables</c> order (shape
    /// [variables]), computed by the symbolic derivatives — the forward nodes and the derivatives
    /// share every node they have in common.</summary>
    let ofExpr (e: Expr) : ModelProto =
        let b = Builder()
        let variables = (Graph.ofExpr e).Variables
        let gradient = Symbolic.gradient e
        let written = Collections.Generic.Dictionary<Expr, string>(HashIdentity.Reference)
        // post-order without recursion: each node after its arguments, each once
        let emit (root: Expr) : string =
            let stack = Collections.Generic.Stack<struct (Expr * bool)>()
            stack.Push(struct (root, false))
            while stack.Count > 0 do
                let struct (x, ready) = stack.Pop()
                if not (written.ContainsKey x) then
                    let children = Expr.children x
                    if not ready && not children.IsEmpty then
                        stack.Push(struct (x, true))
                        for c in List.rev children do if not (written.ContainsKey c) then stack.Push(struct (c, false))
                    else
                        written.[x] <-
                            match x with
                            | Const v -> b.Scalar v
                            | Var name -> name
                            | Named (_, body) -> written.[body]
                            | Unary (op, a) -> unary b op written.[a]
                            | Binary (op, l, r) ->
                                let name =
                                    match op with
                                    | BinaryOp.Add -> "Add" | BinaryOp.Sub -> "Sub" | BinaryOp.Mul -> "Mul" | BinaryOp.Div -> "Div"
                                    | BinaryOp.Pow -> "Pow" | BinaryOp.Max -> "Max" | BinaryOp.Min -> "Min"
                                b.Node(name, [ written.[l]; written.[r] ])
            written.[root]
        let value = emit e
        // each derivative as a vector of one, for Concat (the shape [1] written only if used)
        let parts =
            if gradient.Length = 0 then []
            else
                let shape = b.Int64s("shape", [ 1L ])
                [ for _, d in gradient -> b.Node("Reshape", [ emit d; shape ]) ]
        let graph = GraphProto(Name = "toolkit-expression", DocString = Print.program e)
        graph.Node.AddRange b.Nodes
        let outputNode (op: string) (inputs: string list) (name: string) (attributes: AttributeProto list) =
            let n = NodeProto(OpType = op, Name = name)
            n.Input.AddRange inputs
            n.Output.Add name
            n.Attribute.AddRange attributes
            graph.Node.Add n
        outputNode "Identity" [ value ] "value" []
        if parts.IsEmpty then
            // no variables: an empty gradient, as a constant
            let empty = TensorProto(DataType = int TensorProto.Types.DataType.Float)
            empty.Dims.Add 0L
            outputNode "Constant" [] "gradient" [ AttributeProto(Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = empty) ]
        else outputNode "Concat" parts "gradient" [ intAttribute "axis" 0L ]
        graph.Initializer.AddRange b.Initializers
        for v in variables do graph.Input.Add(valueInfo v [])
        graph.Output.Add(valueInfo "value" [])
        graph.Output.Add(valueInfo "gradient" [ Choice2Of2(int64 variables.Length) ])
        let model = ModelProto(IrVersion = IrVersion, ProducerName = "Toolkit", ProducerVersion = "0.1.0", Graph = graph)
        model.OpsetImport.Add(OperatorSetIdProto(Domain = "", Version = Opset))
        model

    /// <summary>Writes a scalar expression and its gradient as an ONNX file, atomically (see <see cref="ofExpr"/>).</summary>
    let saveExpr (path: string) (e: Expr) = Toolkit.AtomicFile.writeAllBytes path ((ofExpr e).ToByteArray())
