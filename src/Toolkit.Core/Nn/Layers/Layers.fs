namespace Toolkit.Nn

open System
open System.Globalization

/// A layer spec that cannot be read: what was written and why.
type LayerSpecException(spec: string, problem: string) =
    inherit FormatException(sprintf "layer '%s': %s" spec problem)
    /// The spec as written.
    member _.Spec = spec
    /// What is wrong with it.
    member _.Problem = problem

/// <summary>Reading layers from their specs (<c>dense(30)</c>, <c>relu</c>, <c>dropout(0.2)</c>)
/// and whole stacks (<c>dense(256)-relu-dropout(0.2)-dense(10)-softmax</c>), for the command line
/// and the model files: every kind of layer is one line of <c>kinds</c>.</summary>
[<RequireQualifiedAccess>]
module Layers =

    let private number (spec: string) (text: string) =
        match Double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture) with
        | true, v when Double.IsFinite v -> v
        | _ -> raise (LayerSpecException(spec, sprintf "'%s' is not a number" (text.Trim())))

    let private count (spec: string) (text: string) =
        match Int32.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture) with
        | true, v when v >= 1 -> v
        | _ -> raise (LayerSpecException(spec, sprintf "'%s' is not a positive whole number" (text.Trim())))

    /// Positional arguments, then name=value ones (conv(32,3,pad=1)).
    let private split (args: string list) =
        let named, positional = args |> List.map (fun a -> a.Trim()) |> List.partition (fun a -> a.Contains '=')
        let named =
            named |> List.map (fun a ->
                let i = a.IndexOf '='
                a.Substring(0, i).Trim().ToLowerInvariant(), a.Substring(i + 1))
        positional, named

    /// A whole-number argument: the positional one at index i, or the named one, or the default.
    let private option (spec: string) (positional: string list) (named: (string * string) list) (i: int) (name: string) (otherwise: int) (least: int) =
        let text =
            match List.tryFind (fun (k, _) -> k = name) named with
            | Some (_, v) -> Some v
            | None -> List.tryItem i positional
        match text with
        | None -> otherwise
        | Some t ->
            match Int32.TryParse(t.Trim(), NumberStyles.None, CultureInfo.InvariantCulture) with
            | true, v when v >= least -> v
            | _ -> raise (LayerSpecException(spec, sprintf "%s must be a whole number of at least %d, not '%s'" name least (t.Trim())))

    let private unknownNames (spec: string) (named: (string * string) list) (allowed: string list) =
        for k, _ in named do
            if not (List.contains k allowed) then
                raise (LayerSpecException(spec, sprintf "no argument '%s'%s (it takes %s)" k (Toolkit.Suggest.didYouMean allowed k) (String.Join(", ", allowed))))

    let private image (spec: string) (kind: string) (shape: SampleShape) =
        if shape.IsFlat then
            raise (LayerSpecException(spec, sprintf "%s works on images, but its input is a vector of %d features (give the data's image shape, or put the layer before the dense layers)" kind shape.Size))

    let private pool (make: SampleShape * int * int * int -> Layer) (kind: string) (spec: string) (shape: SampleShape) (args: string list) =
        image spec kind shape
        let positional, named = split args
        unknownNames spec named [ "stride"; "pad" ]
        if positional.IsEmpty || positional.Length > 3 then raise (LayerSpecException(spec, sprintf "%s takes its window size, then stride= and pad=: %s(2)" kind kind))
        let size = option spec positional named 0 "size" 0 1
        make (shape, size, option spec positional named 1 "stride" size 1, option spec positional named 2 "pad" 0 0)

    /// <summary>Each kind of layer with arguments: its name and how it is made from the spec, the
    /// shape of a sample coming in and the arguments. (Activations are read by their own names.)</summary>
    let kinds : (string * (string -> SampleShape -> string list -> Layer)) list =
        [ "dense", (fun spec shape args ->
                      match args with
                      | [ n ] -> Dense(shape.Size, count spec n) :> Layer
                      | _ -> raise (LayerSpecException(spec, "dense takes its number of outputs: dense(30)")))
          "dropout", (fun spec shape args ->
                      match args with
                      | [ r ] ->
                          let rate = number spec r
                          if not (rate >= 0.0 && rate < 1.0) then raise (LayerSpecException(spec, sprintf "a dropout rate is at least 0 and below 1, not %s" (r.Trim())))
                          Dropout(rate, shape) :> Layer
                      | _ -> raise (LayerSpecException(spec, "dropout takes its rate: dropout(0.2)")))
          "conv", (fun spec shape args ->
                      image spec "conv" shape
                      let positional, named = split args
                      unknownNames spec named [ "stride"; "pad" ]
                      if positional.Length < 2 || positional.Length > 4 then
                          raise (LayerSpecException(spec, "conv takes its output channels and kernel size, then stride= and pad=: conv(32,3,pad=1)"))
                      Conv2D(shape, count spec positional.[0], count spec positional.[1],
                             option spec positional named 2 "stride" 1 1, option spec positional named 3 "pad" 0 0) :> Layer)
          "maxpool", pool (fun (s, k, st, p) -> MaxPool2D(s, k, st, p) :> Layer) "maxpool"
          // pool(2) is max pooling, the usual choice
          "pool", pool (fun (s, k, st, p) -> MaxPool2D(s, k, st, p) :> Layer) "pool"
          "avgpool", pool (fun (s, k, st, p) -> AvgPool2D(s, k, st, p) :> Layer) "avgpool"
          "flatten", (fun spec shape args ->
                      if not args.IsEmpty then raise (LayerSpecException(spec, "flatten takes no arguments"))
                      Flatten(shape) :> Layer)
          "batchnorm", (fun spec shape args ->
                      match args with
                      | [] -> BatchNorm(shape) :> Layer
                      | [ m; e ] -> BatchNorm(shape, number spec m, number spec e) :> Layer
                      | _ -> raise (LayerSpecException(spec, "batchnorm takes nothing, or its momentum and ε: batchnorm(0.1,1e-5)"))) ]

    /// <summary>One layer from its spec, given the shape of a sample it receives.</summary>
    /// <exception cref="T:Toolkit.Nn.LayerSpecException">The spec names no layer, or its arguments do not fit.</exception>
    let parseShaped (shape: SampleShape) (spec: string) : Layer =
        let spec = if isNull spec then "" else spec.Trim()
        let name, args =
            match spec.IndexOf '(' with
            | -1 -> spec.ToLowerInvariant(), []
            | i when spec.EndsWith ")" ->
                spec.Substring(0, i).Trim().ToLowerInvariant(), spec.Substring(i + 1, spec.Length - i - 2).Split(',') |> List.ofArray
            | _ -> raise (LayerSpecException(spec, "a '(' without its ')'"))
        match kinds |> List.tryFind (fun (k, _) -> k = name) with
        | Some (_, make) ->
            // the layers' own checks (a kernel larger than the image, …) as spec errors
            try make spec shape args
            with :? ArgumentException as e ->
                let message = match e.ParamName with null -> e.Message | p -> e.Message.Replace(sprintf " (Parameter '%s')" p, "")
                raise (LayerSpecException(spec, sprintf "%s (its input: %O)" message shape))
        | None ->
            match args, Activation.tryParse name with
            | [], Some a -> ActivationLayer(a, shape) :> Layer
            | _ ->
                let hint = Toolkit.Suggest.didYouMean (List.map fst kinds @ Activation.names ()) name
                raise (LayerSpecException(spec, sprintf "no such layer%s (layers: %s(…), or an activation: %s)" hint (String.Join("(…), ", kinds |> List.map fst)) (String.Join(", ", Activation.names ()))))

    /// <summary>One layer from its spec, given the number of features it receives (a vector).</summary>
    /// <exception cref="T:Toolkit.Nn.LayerSpecException">The spec names no layer, or its arguments do not fit.</exception>
    let parse (inputs: int) (spec: string) : Layer = parseShaped (SampleShape.Flat inputs) spec

    /// <summary>A stack of layers written with '-' between them, after an input of the given
    /// shape (an image for a stack that starts with convolutions).</summary>
    /// <exception cref="T:Toolkit.Nn.LayerSpecException">A layer's spec cannot be read.</exception>
    let parseStackShaped (shape: SampleShape) (text: string) : Layer[] =
        // '-' between layers, not inside a layer's parentheses (batchnorm(0.1,1e-5))
        let parts = ResizeArray<string>()
        let text = if isNull text then "" else text
        let mutable depth, start = 0, 0
        for i in 0 .. text.Length do
            if i = text.Length || (text.[i] = '-' && depth = 0) then
                let part = text.Substring(start, i - start).Trim()
                if part <> "" then parts.Add part
                start <- i + 1
            elif text.[i] = '(' then depth <- depth + 1
            elif text.[i] = ')' then depth <- max 0 (depth - 1)
        if parts.Count = 0 then raise (LayerSpecException(text, "no layers"))
        let layers = ResizeArray<Layer>()
        let mutable shape = shape
        for p in parts do
            let l =
                try parseShaped shape p
                with :? LayerSpecException as e when e.Problem.Contains "works on images" ->
                    // the layer that made the input's shape (activations, dropout and normalisation keep theirs)
                    match layers |> Seq.rev |> Seq.tryFind (fun l -> l.OutputShape <> l.InputShape) with
                    | Some m when List.contains m.Kind [ "conv"; "maxpool"; "avgpool" ] ->
                        // convolutions or pooling shrank the image to one value per channel: say
                        // so, rather than suggest moving the layer before the dense layers
                        raise (LayerSpecException(p, sprintf "the image is down to 1×1 after '%s' (%O in, %d channel%s of one value out): nothing is left for %s to slide over"
                                                        m.Spec m.InputShape shape.Channels (if shape.Channels = 1 then "" else "s") p))
                    | _ -> reraise ()
            layers.Add l
            shape <- l.OutputShape
        layers.ToArray()

    /// <summary>A stack of layers written with '-' between them, after a vector of the given size.</summary>
    /// <exception cref="T:Toolkit.Nn.LayerSpecException">A layer's spec cannot be read.</exception>
    let parseStack (inputs: int) (text: string) : Layer[] = parseStackShaped (SampleShape.Flat inputs) text

    /// <summary>Whether a stack's first layer works on images (a convolution or a pooling), so
    /// that its input must be one.</summary>
    let startsWithImageLayer (text: string) : bool =
        let first = (if isNull text then "" else text).Split('-').[0].Trim()
        let name = (match first.IndexOf '(' with -1 -> first | i -> first.Substring(0, i)).Trim().ToLowerInvariant()
        match kinds |> List.tryFind (fun (k, _) -> k = name) with
        | Some (_, make) ->
            // a kind a vector cannot take
            (try make first (SampleShape.Flat 1) [] |> ignore; false
             with :? LayerSpecException as e -> e.Problem.Contains "works on images"
                | _ -> false)
        | None -> false

    /// The specs of a stack, '-' between them (what <c>parseStack</c> reads back).
    let spec (layers: Layer seq) = String.Join("-", layers |> Seq.map (fun l -> l.Spec))
