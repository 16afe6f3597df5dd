namespace Toolkit

/// The two pieces every SVG picture of the toolkit starts from (graph pictures and charts alike):
/// SVG is text, written directly, with no drawing library.
[<RequireQualifiedAccess>]
module internal Svg =

    /// <summary>The opening of a self-contained SVG picture of w × h on a white background.</summary>
    let header (w: float) (h: float) (fontFamily: string) (fontSize: int) =
        sprintf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"%s\" font-size=\"%d\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n" w h w h fontFamily fontSize

    /// Text made safe inside an XML (SVG) element or attribute.
    let escape (s: string) =
        s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&quot;")
