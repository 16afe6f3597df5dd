/// Pictures the command line writes: static SVG (drawn directly), or interactive HTML (Plotly.NET,
/// plotly.js embedded so the page opens offline), chosen by the file's extension.
module Toolkit.Cli.Pictures

open System.IO
open Toolkit
open Toolkit.Charts

let private fail fmt = Printf.kprintf (fun s -> raise (Grad.UserError s)) fmt

/// Fails unless the path names a picture this command line writes (checked before any work).
let checkPath (path: string) =
    match Path.GetExtension(path).ToLowerInvariant() with
    | ".svg" | ".html" | ".htm" -> ()
    | e -> fail "%s: the picture is written as .svg (static) or .html (interactive), not '%s'" path e

/// Writes a picture atomically: the SVG to a .svg file, the Plotly chart to a .html file.
let write (path: string) (svg: unit -> string) (html: unit -> Plotly.NET.GenericChart) =
    checkPath path
    if Path.GetExtension(path).ToLowerInvariant() = ".svg" then AtomicFile.writeAllText path (svg ())
    else Toolkit.Plot.Charts.save path (html ())

/// One training run's curves: loss and accuracy per epoch, train and test.
type Curves =
    { Title: string
      TrainLoss: float[]
      TestLoss: float[]
      TrainAccuracy: float[]
      TestAccuracy: float[] }

/// The curves as two stacked SVG charts.
let curvesSvg (c: Curves) =
    let s name (v: float[]) = { Name = name; Points = v |> Array.mapi (fun i y -> float (i + 1), y) }
    let loss = LineChart.svg (c.Title + ": loss") "epoch" "mean loss" false [ s "train" c.TrainLoss; s "test" c.TestLoss ]
    // real-valued targets have no accuracy (NaN): the loss alone
    if Array.forall System.Double.IsNaN c.TrainAccuracy && Array.forall System.Double.IsNaN c.TestAccuracy then LineChart.stack [ loss ]
    else LineChart.stack [ loss; LineChart.svg (c.Title + ": accuracy") "epoch" "accuracy" false [ s "train" c.TrainAccuracy; s "test" c.TestAccuracy ] ]

/// The curves as an interactive chart.
let curvesChart (c: Curves) =
    Toolkit.Plot.Charts.history c.Title c.TrainLoss c.TestLoss c.TrainAccuracy c.TestAccuracy

/// Writes the curves to a .svg or .html file.
let writeCurves (path: string) (c: Curves) = write path (fun () -> curvesSvg c) (fun () -> curvesChart c)
