/// `toolkit export`: a saved network in another format.
module Toolkit.Cli.Export

open Argu
open Toolkit.Data

/// The options of `toolkit export`.
type ExportArgs =
    | [<MainCommand; Mandatory; Unique>] Model of path: string
    | [<Mandatory; Unique>] Onnx of file: string
    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Model _ -> "a model file saved by toolkit train --save"
            | Onnx _ -> "write it as an ONNX model (opset 20; input 'input', output 'output', batch × features, the batch dynamic)"

/// Runs `toolkit export MODEL --onnx FILE`.
let run (args: ParseResults<ExportArgs>) : int =
    let net, classes = ModelFile.read (args.GetResult Model)
    let path = args.GetResult Onnx
    try Toolkit.Onnx.Onnx.save path classes net
    with :? System.NotSupportedException as e -> raise (Grad.UserError(sprintf "%s: %s" (args.GetResult Model) e.Message))
    printfn "wrote %s (%s, %d inputs, %d outputs)" path (Toolkit.Nn.Network.describe net) net.Inputs net.Outputs
    0

/// The options of `toolkit import`.
type ImportArgs =
    | [<MainCommand; Mandatory; Unique>] File of onnx: string
    | [<Mandatory; Unique>] Out of model: string
    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | File _ -> "an ONNX model that is a chain of dense layers (Gemm, or MatMul and Add) and activations, as torch.onnx.export writes a Sequential of Linear layers"
            | Out _ -> "the model file to write (it evaluates, predicts and trains further like any saved network)"

/// Runs `toolkit import FILE.onnx --out MODEL`.
let import (args: ParseResults<ImportArgs>) : int =
    let path = args.GetResult File
    let net, classes =
        try Toolkit.Onnx.Onnx.load path
        with :? System.NotSupportedException as e -> raise (Grad.UserError e.Message)
    let out = args.GetResult Out
    ModelFile.saveWithClasses out net classes
    printfn "wrote %s (%s, %d inputs, %d outputs)" out (Toolkit.Nn.Network.describe net) net.Inputs net.Outputs
    0
