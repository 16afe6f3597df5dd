namespace Toolkit.Plot

open System
open System.IO
open Plotly.NET
open Plotly.NET.LayoutObjects
open Toolkit.Training

/// <summary>
/// Interactive charts with Plotly.NET (the F# data-science convention): training curves, loss
/// landscapes as lines, contours and surfaces, optimisers' trajectories, confusion matrices and
/// grids of images. Each is a <c>GenericChart</c> to style further; <c>Charts.save</c> writes a
/// self-contained HTML file (plotly.js inside it, so it opens with no network). For static
/// pictures with no browser, <c>Toolkit.Charts</c> writes SVG directly.
/// </summary>
[<RequireQualifiedAccess>]
module Charts =

    /// <summary>Writes the chart as one self-contained HTML file (plotly.js embedded, about
    /// 3.6 MB), atomically: the page opens offline.</summary>
    let save (path: string) (chart: GenericChart) : unit =
        let html =
            chart
            |> Chart.withDisplayOptionsStyle (PlotlyJSReference = PlotlyJSReference.Full)
            |> GenericChart.toEmbeddedHTML
        Toolkit.AtomicFile.writeAllText path html

    let private titled (title: string) (x: string) (y: string) (c: GenericChart) =
        c |> Chart.withTitle title |> Chart.withXAxisStyle (TitleText = x) |> Chart.withYAxisStyle (TitleText = y)

    /// <summary>Named lines over a shared x axis, e.g. a loss per step for several optimisers.</summary>
    let lines (title: string) (xLabel: string) (yLabel: string) (series: (string * (float * float)[]) list) : GenericChart =
        series
        |> List.map (fun (name, pts) -> Chart.Line(x = Array.map fst pts, y = Array.map snd pts, Name = name, ShowMarkers = false))
        |> Chart.combine
        |> titled title xLabel yLabel

    /// <summary>Loss and accuracy per epoch, train and test, side by side.</summary>
    let history (title: string) (trainLoss: float[]) (testLoss: float[]) (trainAccuracy: float[]) (testAccuracy: float[]) : GenericChart =
        let epochs (v: float[]) = Array.init v.Length (fun i -> float (i + 1))
        let line name (v: float[]) = Chart.Line(x = epochs v, y = v, Name = name, ShowMarkers = true)
        let loss = [ line "train loss" trainLoss; line "test loss" testLoss ] |> Chart.combine |> Chart.withXAxisStyle (TitleText = "epoch") |> Chart.withYAxisStyle (TitleText = "mean loss")
        // real-valued targets have no accuracy (empty or NaN): the loss alone
        if Array.forall Double.IsNaN trainAccuracy && Array.forall Double.IsNaN testAccuracy then loss
        else
        [ loss
          [ line "train accuracy" trainAccuracy; line "test accuracy" testAccuracy ] |> Chart.combine |> Chart.withXAxisStyle (TitleText = "epoch") |> Chart.withYAxisStyle (TitleText = "accuracy") ]
        |> Chart.Grid(1, 2)
        |> Chart.withTitle title

    /// <summary>A landscape along one direction: L(W + a·W1) against a.</summary>
    let landscapeLine (title: string) (line: LandscapeLine) : GenericChart =
        Chart.Line(x = line.Alphas, y = line.Loss, Name = "loss", ShowMarkers = false) |> titled title "a" "mean loss"

    // Plotly's z rows run along y: z[j][i] is the value at (x[i], y[j])
    let private rows (xs: float[]) (ys: float[]) (values: float[,]) =
        Array.init ys.Length (fun j -> Array.init xs.Length (fun i -> values.[i, j]))

    /// <summary>values.[i, j] at (xs.[i], ys.[j]) as filled contours, with trajectories (each a
    /// named list of (x, y) points) drawn on top from a marked start.</summary>
    let contour (title: string) (xLabel: string) (yLabel: string) (xs: float[]) (ys: float[]) (values: float[,]) (trajectories: (string * (float * float)[]) list) : GenericChart =
        let surface = Chart.Contour(zData = rows xs ys values, X = xs, Y = ys, ShowScale = true, Name = "loss")
        let paths =
            trajectories |> List.map (fun (name, pts) ->
                Chart.Line(x = Array.map fst pts, y = Array.map snd pts, Name = name, ShowMarkers = true))
        Chart.combine (surface :: paths) |> titled title xLabel yLabel

    /// <summary>A landscape over a plane as filled contours (a, b).</summary>
    let landscapePlane (title: string) (plane: LandscapePlane) : GenericChart =
        contour title "a" "b" plane.Alphas plane.Betas plane.Loss []

    /// <summary>A landscape over a plane as a 3-D surface, to turn with the mouse.</summary>
    let landscapeSurface (title: string) (plane: LandscapePlane) : GenericChart =
        Chart.Surface(zData = rows plane.Alphas plane.Betas plane.Loss, X = plane.Alphas, Y = plane.Betas)
        |> Chart.withTitle title

    /// <summary>A confusion matrix (rows: true class, columns: predicted) as an annotated heatmap.</summary>
    let confusion (title: string) (names: string[]) (counts: int[,]) : GenericChart =
        let n = names.Length
        if Array2D.length1 counts <> n || Array2D.length2 counts <> n then
            invalidArg "counts" (sprintf "%d class names but a %d×%d matrix" n (Array2D.length1 counts) (Array2D.length2 counts))
        // plotly draws row 0 at the bottom: reverse, so the first class is at the top as in a table
        let z = Array.init n (fun r -> Array.init n (fun c -> counts.[n - 1 - r, c]))
        Chart.AnnotatedHeatmap(zData = z, annotationText = Array.map (Array.map string) z, X = names, Y = Array.rev names, ShowScale = true)
        |> titled title "predicted" "true class"

    /// <summary>Grayscale images (each rows × cols bytes, row-major, 0 black, 255 white) in a
    /// grid with a caption each, e.g. the misclassified test images with "predicted / true".</summary>
    let images (title: string) (rows: int) (cols: int) (perRow: int) (items: (byte[] * string) list) : GenericChart =
        if items.IsEmpty then invalidArg "items" "no images to draw"
        items
        |> List.map (fun (pixels, caption) ->
            if pixels.Length <> rows * cols then invalidArg "items" (sprintf "an image has %d pixels, not %d×%d" pixels.Length rows cols)
            // plotly draws row 0 at the bottom: the image's first row goes last
            let z = Array.init rows (fun r -> Array.init cols (fun c -> int pixels.[(rows - 1 - r) * cols + c]))
            Chart.Heatmap(zData = z, ColorScale = StyleParam.Colorscale.Custom [ 0.0, Color.fromHex "#000000"; 1.0, Color.fromHex "#ffffff" ], ShowScale = false, Name = caption)
            |> Chart.withXAxisStyle (TitleText = caption, ShowGrid = false)
            |> Chart.withYAxisStyle (ShowGrid = false))
        |> Chart.Grid((items.Length + perRow - 1) / perRow, perRow)
        |> Chart.withTitle title
