namespace Toolkit.Charts

open System
open System.Globalization
open System.Text

/// <summary>
/// Heatmaps as self-contained SVG text: a loss over a plane of two directions (with optimisers'
/// trajectories drawn on it), a confusion matrix with its counts. Written directly like
/// <c>LineChart</c>: no package, no browser, no network.
/// </summary>
[<RequireQualifiedAccess>]
module Heatmap =

    let private fmt (v: float) = v.ToString("G4", CultureInfo.InvariantCulture)
    let private esc = Toolkit.Svg.escape
    // bright colours that stand out on the dark-to-yellow scale
    let private pathColours = [| "#ffffff"; "#ff3030"; "#30c8ff"; "#ff9900"; "#ff60ff"; "#60ff60" |]
    let mutable private clipCount = 0

    /// A perceptually ordered colour scale from dark blue through green to yellow (viridis's
    /// end points and middle), for t in [0, 1].
    let colour (t: float) : string =
        let stops = [| (68, 1, 84); (59, 82, 139); (33, 145, 140); (94, 201, 98); (253, 231, 37) |]
        let t = if Double.IsNaN t then 0.0 else max 0.0 (min 1.0 t)
        let x = t * float (stops.Length - 1)
        let k = min (stops.Length - 2) (int x)
        let f = x - float k
        let (r0, g0, b0), (r1, g1, b1) = stops.[k], stops.[k + 1]
        let mix a b = int (Math.Round(float a + f * float (b - a)))
        sprintf "#%02x%02x%02x" (mix r0 r1) (mix g0 g1) (mix b0 b1)

    /// <summary>values.[i, j] at (xs.[i], ys.[j]) as an SVG heatmap with a colour bar; with
    /// <paramref name="logScale"/> the colours follow log10 of the values (the way to see a loss
    /// that spans decades); the paths (optimisers' trajectories, in the grid's coordinates) are
    /// drawn on top, each from a dot at its start. Non-finite cells are drawn grey.</summary>
    let svg (title: string) (xLabel: string) (yLabel: string) (logScale: bool) (xs: float[]) (ys: float[]) (values: float[,]) (paths: Series list) : string =
        if Array2D.length1 values <> xs.Length || Array2D.length2 values <> ys.Length then
            invalidArg "values" (sprintf "the grid is %d×%d but the values are %d×%d" xs.Length ys.Length (Array2D.length1 values) (Array2D.length2 values))
        if xs.Length < 2 || ys.Length < 2 then invalidArg "xs" "a heatmap needs at least 2×2 points"
        let increasing (g: float[]) = g |> Array.pairwise |> Array.forall (fun (a, b) -> b > a)
        if not (increasing xs && increasing ys) then invalidArg "xs" "the grid's x and y values must increase"
        let t (v: float) = if logScale then (if v > 0.0 then log10 v else nan) else v
        let finite = [ for v in Seq.cast<float> values do let tv = t v in if Double.IsFinite tv then yield tv ]
        if finite.IsEmpty then invalidArg "values" "the heatmap has no finite values to draw"
        let lo, hi = List.min finite, List.max finite
        let span = if hi > lo then hi - lo else 1.0
        let w, h, left, right, top, bottom = 560.0, 480.0, 70.0, 110.0, 40.0, 50.0
        let x0, x1, y0, y1 = xs.[0], xs.[xs.Length - 1], ys.[0], ys.[ys.Length - 1]
        let px x = left + (x - x0) / (x1 - x0) * (w - left - right)
        let py y = h - bottom - (y - y0) / (y1 - y0) * (h - top - bottom)
        let sb = StringBuilder()
        let ap (s: string) = sb.Append(s) |> ignore
        ap (Toolkit.Svg.header w h "sans-serif" 12)
        ap (sprintf "<text x=\"%.0f\" y=\"22\" font-size=\"15\" text-anchor=\"middle\">%s</text>\n" ((left + w - right) / 2.0) (esc title))
        // each cell spans half-way to its neighbours
        let edges (g: float[]) i = (if i = 0 then g.[0] else (g.[i - 1] + g.[i]) / 2.0), (if i = g.Length - 1 then g.[i] else (g.[i] + g.[i + 1]) / 2.0)
        ap "<g class=\"cells\" shape-rendering=\"crispEdges\">\n"
        for i in 0 .. xs.Length - 1 do
            let xa, xb = edges xs i
            for j in 0 .. ys.Length - 1 do
                let ya, yb = edges ys j
                let tv = t values.[i, j]
                let fill = if Double.IsFinite tv then colour ((tv - lo) / span) else "#999999"
                ap (sprintf "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>\n" (px xa) (py yb) (px xb - px xa + 0.3) (py ya - py yb + 0.3) fill)
        ap "</g>\n"
        // axes
        for tk in LineChart.ticks x0 x1 6 do
            ap (sprintf "<text class=\"xtick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n" (px tk) (h - bottom + 16.0) (fmt tk))
        for tk in LineChart.ticks y0 y1 6 do
            ap (sprintf "<text class=\"ytick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n" (left - 6.0) (py tk + 4.0) (fmt tk))
        ap (sprintf "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#333\"/>\n" left top (w - left - right) (h - top - bottom))
        ap (sprintf "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n" ((left + w - right) / 2.0) (h - 12.0) (esc xLabel))
        ap (sprintf "<text transform=\"translate(16,%.1f) rotate(-90)\" text-anchor=\"middle\">%s</text>\n" ((top + h - bottom) / 2.0) (esc yLabel))
        // the colour bar
        let bx, bw = w - right + 24.0, 16.0
        let steps = 40
        for k in 0 .. steps - 1 do
            let f0 = float k / float steps
            let yTop = top + (1.0 - f0 - 1.0 / float steps) * (h - top - bottom)
            ap (sprintf "<rect x=\"%.1f\" y=\"%.2f\" width=\"%.1f\" height=\"%.2f\" fill=\"%s\"/>\n" bx yTop bw ((h - top - bottom) / float steps + 0.3) (colour (f0 + 0.5 / float steps)))
        for tk in LineChart.ticks lo hi 5 do
            let y = top + (1.0 - (tk - lo) / span) * (h - top - bottom)
            ap (sprintf "<text class=\"ctick\" x=\"%.1f\" y=\"%.1f\">%s</text>\n" (bx + bw + 4.0) (y + 4.0) (fmt (if logScale then 10.0 ** tk else tk)))
        // the paths, clipped to the plot (an optimiser may leave the picture), and their legend on
        // a pale box; the clip's id is unique within a page that holds several charts
        let clip = sprintf "heatmap-clip-%d" (Threading.Interlocked.Increment &clipCount)
        ap (sprintf "<clipPath id=\"%s\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/></clipPath>\n" clip left top (w - left - right) (h - top - bottom))
        ap (sprintf "<g clip-path=\"url(#%s)\">\n" clip)
        paths |> List.iteri (fun k p ->
            let c = pathColours.[k % pathColours.Length]
            let pts = p.Points |> Array.filter (fun (x, y) -> Double.IsFinite x && Double.IsFinite y) |> Array.map (fun (x, y) -> sprintf "%.1f,%.1f" (px x) (py y))
            ap (sprintf "<polyline class=\"path\" data-name=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" points=\"%s\"/>\n" (esc p.Name) c (String.Join(" ", pts)))
            if pts.Length > 0 then
                let sx, sy = p.Points.[0]
                ap (sprintf "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\" stroke=\"black\" stroke-width=\"0.5\"/>\n" (px sx) (py sy) c))
        ap "</g>\n"
        if not paths.IsEmpty then
            let longest = paths |> List.map (fun p -> p.Name.Length) |> List.max
            let boxH = 8.0 + 16.0 * float paths.Length
            let boxTop = top + 6.0
            ap (sprintf "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#202020\" fill-opacity=\"0.8\"/>\n" (left + 6.0) boxTop (36.0 + 6.5 * float longest) boxH)
            paths |> List.iteri (fun k p ->
                let c = pathColours.[k % pathColours.Length]
                let ly = boxTop + 12.0 + 16.0 * float k
                ap (sprintf "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"4\"/>\n" (left + 12.0) ly (left + 30.0) ly c)
                ap (sprintf "<text class=\"legend\" x=\"%.1f\" y=\"%.1f\" fill=\"white\">%s</text>\n" (left + 34.0) (ly + 4.0) (esc p.Name)))
        ap "</svg>\n"
        sb.ToString()

    /// <summary>A confusion matrix (rows: true class, columns: predicted) as an SVG grid with the
    /// counts written in the cells and the class names on both axes.</summary>
    let confusion (title: string) (names: string[]) (counts: int[,]) : string =
        let n = names.Length
        if Array2D.length1 counts <> n || Array2D.length2 counts <> n then
            invalidArg "counts" (sprintf "%d class names but a %d×%d matrix" n (Array2D.length1 counts) (Array2D.length2 counts))
        let cell, left, top = 44.0, 110.0, 110.0
        let w, h = left + cell * float n + 20.0, top + cell * float n + 40.0
        let mx = max 1 (Seq.cast<int> counts |> Seq.max)
        let sb = StringBuilder()
        let ap (s: string) = sb.Append(s) |> ignore
        ap (Toolkit.Svg.header w h "sans-serif" 11)
        ap (sprintf "<text x=\"%.0f\" y=\"20\" font-size=\"15\" text-anchor=\"middle\">%s</text>\n" (w / 2.0) (esc title))
        ap (sprintf "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">predicted</text>\n" (left + cell * float n / 2.0) (top - 72.0))
        ap (sprintf "<text transform=\"translate(14,%.0f) rotate(-90)\" text-anchor=\"middle\">true class</text>\n" (top + cell * float n / 2.0))
        for k in 0 .. n - 1 do
            ap (sprintf "<text class=\"row\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%s</text>\n" (left - 6.0) (top + cell * (float k + 0.5) + 4.0) (esc names.[k]))
            ap (sprintf "<text class=\"col\" transform=\"translate(%.0f,%.0f) rotate(-45)\">%s</text>\n" (left + cell * (float k + 0.5)) (top - 6.0) (esc names.[k]))
        for i in 0 .. n - 1 do
            for j in 0 .. n - 1 do
                let f = sqrt (float counts.[i, j] / float mx)   // square root: the small errors stay visible beside the diagonal
                ap (sprintf "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"%s\" stroke=\"white\"/>\n" (left + cell * float j) (top + cell * float i) cell cell (colour f))
                ap (sprintf "<text class=\"count\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\" fill=\"%s\">%d</text>\n"
                        (left + cell * (float j + 0.5)) (top + cell * (float i + 0.5) + 4.0) (if f > 0.6 then "black" else "white") counts.[i, j])
        ap "</svg>\n"
        sb.ToString()

/// <summary>
/// Grids of small grayscale images as SVG, each an embedded PNG scaled up without smoothing and
/// captioned: the misclassified test images with what the network said and what they are.
/// </summary>
[<RequireQualifiedAccess>]
module ImageGrid =

    let private esc = Toolkit.Svg.escape

    /// <summary>Images of rows × cols pixels of <paramref name="channels"/> bytes each (row-major,
    /// channels together, 0 dark, 255 bright: 1 channel grey, 3 RGB, any other count drawn as the
    /// grey of its first channel), perRow to a row, each drawn <paramref name="scale"/> times its
    /// size with its caption (a line per "\n") below.</summary>
    let svg (title: string) (rows: int) (cols: int) (channels: int) (perRow: int) (scale: int) (items: (byte[] * string) list) : string =
        if items.IsEmpty then invalidArg "items" "no images to draw"
        if perRow < 1 || scale < 1 then invalidArg "perRow" (sprintf "perRow and scale must be positive, not %d and %d" perRow scale)
        let lines = items |> List.map (fun (_, c) -> c.Split('\n').Length) |> List.max
        let cellW, cellH = float (cols * scale + 16), float (rows * scale + 8 + 14 * lines)
        let across = min perRow items.Length
        let down = (items.Length + perRow - 1) / perRow
        let w, h = cellW * float across + 16.0, cellH * float down + 40.0
        let sb = Text.StringBuilder()
        let ap (s: string) = sb.Append(s) |> ignore
        ap (Toolkit.Svg.header w h "sans-serif" 11)
        ap (sprintf "<text x=\"%.0f\" y=\"22\" font-size=\"15\" text-anchor=\"middle\">%s</text>\n" (w / 2.0) (esc title))
        items |> List.iteri (fun k (pixels, caption) ->
            let png =
                if channels = 1 || channels = 3 then Png.encode cols rows channels pixels
                else Png.encode cols rows 1 (Array.init (rows * cols) (fun p -> pixels.[p * channels]))
            let x, y = 8.0 + cellW * float (k % perRow), 34.0 + cellH * float (k / perRow)
            ap (sprintf "<image class=\"sample\" x=\"%.0f\" y=\"%.0f\" width=\"%d\" height=\"%d\" style=\"image-rendering:pixelated\" href=\"data:image/png;base64,%s\"/>\n"
                    (x + 8.0) y (cols * scale) (rows * scale) (Convert.ToBase64String png))
            caption.Split('\n') |> Array.iteri (fun i line ->
                ap (sprintf "<text class=\"caption\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>\n" (x + 8.0 + float (cols * scale) / 2.0) (y + float (rows * scale) + 13.0 + 14.0 * float i) (esc line))))
        ap "</svg>\n"
        sb.ToString()
