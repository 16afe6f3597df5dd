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
