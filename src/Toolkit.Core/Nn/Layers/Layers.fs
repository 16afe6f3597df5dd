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

    /// <summary>Each kind of layer with arguments: its name and how it is made from the spec, the
    /// input size and the arguments. (Activations are read by their own names.)</summary>
    let kinds : (string * (string -> int -> string list -> Layer)) list =
        [ "dense", (fun spec inputs args ->
                      match args with
                      | [ n ] -> Dense(inputs, count spec n) :> Layer
                      | _ -> raise (LayerSpecException(spec, "dense takes its number of outputs: dense(30)")))
          "dropout", (fun spec inputs args ->
                      match args with
                      | [ r ] ->
                          let rate = number spec r
                          if not (rate >= 0.0 && rate < 1.0) then raise (LayerSpecException(spec, sprintf "a dropout rate is at least 0 and below 1, not %s" (r.Trim())))
                          Dropout(rate, inputs) :> Layer
                      | _ -> raise (LayerSpecException(spec, "dropout takes its rate: dropout(0.2)"))) ]

    /// <summary>One layer from its spec, given the number of inputs it receives.</summary>
    /// <exception cref="T:Toolkit.Nn.LayerSpecException">The spec names no layer, or its arguments do not fit.</exception>
    let parse (inputs: int) (spec: string) : Layer =
        let spec = if isNull spec then "" else spec.Trim()
        let name, args =
            match spec.IndexOf '(' with
            | -1 -> spec.ToLowerInvariant(), []
            | i when spec.EndsWith ")" ->
                spec.Substring(0, i).Trim().ToLowerInvariant(), spec.Substring(i + 1, spec.Length - i - 2).Split(',') |> List.ofArray
            | _ -> raise (LayerSpecException(spec, "a '(' without its ')'"))
        match kinds |> List.tryFind (fun (k, _) -> k = name) with
        | Some (_, make) -> make spec inputs args
        | None ->
            match args, Activation.tryParse name with
            | [], Some a -> ActivationLayer(a, inputs) :> Layer
            | _ ->
                let hint = Toolkit.Suggest.didYouMean (List.map fst kinds @ Activation.names ()) name
                raise (LayerSpecException(spec, sprintf "no such layer%s (layers: %s(…), or an activation: %s)" hint (String.Join("(…), ", kinds |> List.map fst)) (String.Join(", ", Activation.names ()))))

    /// <summary>A stack of layers written with '-' between them, after an input of the given size.</summary>
    /// <exception cref="T:Toolkit.Nn.LayerSpecException">A layer's spec cannot be read.</exception>
    let parseStack (inputs: int) (text: string) : Layer[] =
        let parts = (if isNull text then "" else text).Split('-', StringSplitOptions.TrimEntries ||| StringSplitOptions.RemoveEmptyEntries)
        if parts.Length = 0 then raise (LayerSpecException(text, "no layers"))
        let layers = ResizeArray<Layer>()
        let mutable size = inputs
        for p in parts do
            let l = parse size p
            layers.Add l
            size <- l.Outputs
        layers.ToArray()

    /// The specs of a stack, '-' between them (what <c>parseStack</c> reads back).
    let spec (layers: Layer seq) = String.Join("-", layers |> Seq.map (fun l -> l.Spec))
