namespace Toolkit.Charts

open System
open System.Globalization
open System.Text

/// One named line of a chart.
type Series =
    { /// The legend text.
      Name: string
      /// The points, in x order.
      Points: (float * float)[] }

/// <summary>
/// Line charts as self-contained SVG text: loss per step, accuracy per epoch. Written directly
/// (SVG is text), so a chart needs no package, no browser and no network to draw or to view.
/// </summary>
[<RequireQualifiedAccess>]
module LineChart =

    let private palette = [| "#1f77b4"; "#d62728"; "#2ca02c"; "#ff7f0e"; "#9467bd"; "#8c564b"; "#e377c2"; "#17becf" |]
    let private fmt (v: float) = v.ToString("G4", CultureInfo.InvariantCulture)
    let private esc = Toolkit.Svg.escape

    /// Round numbers for the axis ticks between lo and hi.
    let ticks (lo: float) (hi: float) (count: int) : float[] =
        if hi <= lo then [| lo |]
        else
            let raw = (hi - lo) / float count
            let mag = 10.0 ** floor (log10 raw)
            let step = [ 1.0; 2.0; 5.0; 10.0 ] |> List.map (fun m -> m * mag) |> List.find (fun s -> s >= raw)
            [| for k in ceil (lo / step) .. floor (hi / step) -> k * step |]

    /// <summary>The series as an SVG line chart; with <paramref name="logY"/> the y axis is
    /// logarithmic (non-positive values are left out).</summary>
    let svg (title: string) (xLabel: string) (yLabel: string) (logY: bool) (series: Series list) : string =
        let w, h, left, right, top, bottom = 640.0, 380.0, 70.0, 170.0, 40.0, 50.0
        let ty (v: float) = if logY then log10 v else v
        let pts = series |> List.collect (fun s -> s.Points |> Array.filter (fun (_, y) -> Double.IsFinite y && (not logY || y > 0.0)) |> List.ofArray)
        if pts.IsEmpty then invalidArg "series" "the chart has no finite points to draw"
        let xs, ys = pts |> List.map fst, pts |> List.map (snd >> ty)
        let x0, x1 = List.min xs, List.max xs
        let y0, y1 = List.min ys, List.max ys
        let x1 = if x1 = x0 then x0 + 1.0 else x1
        let y0, y1 = if y1 = y0 then y0 - 0.5, y1 + 0.5 else y0, y1
        let px x = left + (x - x0) / (x1 - x0) * (w - left - right)
        let py y = h - bottom - (ty y - y0) / (y1 - y0) * (h - top - bottom)
        let sb = StringBuilder()
        let ap (s: string) = sb.Append(s) |> ignore
        ap (Toolkit.Svg.header w h "sans-serif" 12)
        ap (sprintf "<text x=\"%.0f\" y=\"22\" font-size=\"15\" text-anchor=\"middle\">%s</text>\n" ((left + w - right) / 2.0) (esc title))
        // axes, ticks and grid
        ap (sprintf "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n" left (h - bottom) (w - right) (h - bottom))
        ap (sprintf "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n" left top left (h - bottom))
        for t in ticks x0 x1 6 do
            ap (sprintf "<text class=\"xtick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n" (px t) (h - bottom + 16.0) (fmt t))
        // on a log axis: 1, 2 and 5 times the powers of ten inside the range
        let yTicks =
            if logY then
                [| for k in floor y0 .. ceil y1 do
                     for m in [ 1.0; 2.0; 5.0 ] do
                         let t = k + log10 m
                         if t >= y0 && t <= y1 then yield t |]
            else ticks y0 y1 5
        for t in yTicks do
            let y = h - bottom - (t - y0) / (y1 - y0) * (h - top - bottom)
            ap (sprintf "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n" left y (w - right) y)
            ap (sprintf "<text class=\"ytick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n" (left - 6.0) (y + 4.0) (fmt (if logY then 10.0 ** t else t)))
        ap (sprintf "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n" ((left + w - right) / 2.0) (h - 12.0) (esc xLabel))
        ap (sprintf "<text transform=\"translate(16,%.1f) rotate(-90)\" text-anchor=\"middle\">%s%s</text>\n" ((top + h - bottom) / 2.0) (esc yLabel) (if logY then " (log scale)" else ""))
        // the lines and the legend
        series |> List.iteri (fun k s ->
            let colour = palette.[k % palette.Length]
            let points =
                s.Points
                |> Array.filter (fun (_, y) -> Double.IsFinite y && (not logY || y > 0.0))
                |> Array.map (fun (x, y) -> sprintf "%.1f,%.1f" (px x) (py y))
            ap (sprintf "<polyline class=\"series\" data-name=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\" points=\"%s\"/>\n" (esc s.Name) colour (String.Join(" ", points)))
            let ly = top + 10.0 + float k * 18.0
            ap (sprintf "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"/>\n" (w - right + 12.0) ly (w - right + 32.0) ly colour)
            ap (sprintf "<text class=\"legend\" x=\"%.1f\" y=\"%.1f\">%s</text>\n" (w - right + 38.0) (ly + 4.0) (esc s.Name)))
        ap "</svg>\n"
        sb.ToString()

    /// <summary>Several SVG charts (as made by this module or <c>Heatmap</c>) stacked top to
    /// bottom in one self-contained SVG.</summary>
    let stack (charts: string list) : string =
        let size (svg: string) =
            let attr (name: string) =
                let i = svg.IndexOf(name + "=\"")
                if i < 0 then invalidArg "charts" (sprintf "a chart without a %s attribute" name)
                let j = svg.IndexOf('"', i + name.Length + 2)
                Double.Parse(svg.Substring(i + name.Length + 2, j - i - name.Length - 2), CultureInfo.InvariantCulture)
            attr "width", attr "height"
        let sizes = charts |> List.map size
        let w = sizes |> List.map fst |> List.fold max 0.0
        let h = sizes |> List.sumBy snd
        let sb = StringBuilder()
        sb.Append(sprintf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n" w h w h) |> ignore
        let mutable y = 0.0
        for c, (_, ch) in List.zip charts sizes do
            // an inner <svg> keeps each chart's own coordinates; it is placed by its y
            sb.Append(c.Replace("<svg xmlns=\"http://www.w3.org/2000/svg\" ", sprintf "<svg y=\"%.0f\" " y)) |> ignore
            y <- y + ch
        sb.Append("</svg>\n").ToString()
