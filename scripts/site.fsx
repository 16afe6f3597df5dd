// Finishing the fsdocs output into a site that works served and opened from disk; build.fsx runs
// it after `fsdocs build`. fsdocs writes every link from one root ("/Toolkit/"), which a browser
// resolves to the file system's root when the pages are opened from disk; its tooltips show the
// XML docs as escaped XML; its C# highlighter leaves a comment on a snippet's last line as
// operators; its search fetches index.json, which a page opened from disk may not fetch.
module Site

open System
open System.IO
open System.Net
open System.Text
open System.Text.Json
open System.Text.RegularExpressions
open System.Xml.Linq

/// The root fsdocs writes links from (passed to it as the `root` parameter).
let root = "/Toolkit/"

/// A link from a page `depth` folders below the site's root, written relative: "../" per folder,
/// and a folder's own page named (from disk, a folder link opens no index.html).
let relative (depth: int) (rest: string) =
    let prefix = String.replicate depth "../"
    let rest = if rest = "" || rest.EndsWith "/" then rest + "index.html" else rest
    prefix + rest

let private attribute = Regex(sprintf "(href|src|data-root|content)=\"%s([^\"]*)\"" (Regex.Escape root), RegexOptions.Compiled)

/// Every attribute value that starts at the root, relative to the page.
let relativeLinks (depth: int) (html: string) =
    attribute.Replace(html, fun m ->
        let name, rest = m.Groups.[1].Value, m.Groups.[2].Value
        if name = "data-root" then sprintf "data-root=\"%s\"" (String.replicate depth "../")
        else sprintf "%s=\"%s\"" name (relative depth rest))

// ---- tooltips ---------------------------------------------------------------------------------

let private escape (s: string) = WebUtility.HtmlEncode s

/// The short name of a cref ("T:Toolkit.Graph.ParseException" → "ParseException").
let private crefName (cref: string) =
    let s = if cref.Length > 2 && cref.[1] = ':' then cref.Substring 2 else cref
    let s = match s.IndexOf '(' with -1 -> s | i -> s.Substring(0, i)
    let s = Regex.Replace(s, "`\d+", "")
    match s.LastIndexOf '.' with -1 -> s | i -> s.Substring(i + 1)

let rec private inline' (node: XNode) : string =
    match node with
    | :? XText as t -> escape t.Value
    | :? XElement as e ->
        let inner () = e.Nodes() |> Seq.map inline' |> String.concat ""
        let attr (n: string) = match e.Attribute(XName.Get n) with null -> "" | a -> a.Value
        match e.Name.LocalName with
        | "c" -> sprintf "<code>%s</code>" (inner ())
        | "code" -> sprintf "<pre>%s</pre>" (inner ())
        | "see" | "seealso" ->
            if attr "langword" <> "" then sprintf "<code>%s</code>" (escape (attr "langword"))
            elif e.IsEmpty || inner () = "" then sprintf "<code>%s</code>" (escape (crefName (attr "cref")))
            else inner ()
        | "paramref" | "typeparamref" -> sprintf "<code>%s</code>" (escape (attr "name"))
        | "para" -> sprintf "</p><p>%s" (inner ())
        | "item" -> sprintf "<br/>• %s" (inner ())
        | _ -> inner ()
    | _ -> ""

let private block (e: XElement) : string =
    let inner = e.Nodes() |> Seq.map inline' |> String.concat "" |> fun s -> s.Trim()
    let attr (n: string) = match e.Attribute(XName.Get n) with null -> "" | a -> a.Value
    match e.Name.LocalName with
    | "summary" | "remarks" -> sprintf "<p>%s</p>" inner
    | "param" | "typeparam" -> sprintf "<p><code>%s</code>: %s</p>" (escape (attr "name")) inner
    | "returns" -> sprintf "<p>Returns %s</p>" inner
    | "exception" -> sprintf "<p>Throws <code>%s</code>: %s</p>" (escape (crefName (attr "cref"))) inner
    | "example" -> sprintf "<p>Example: %s</p>" inner
    | _ -> sprintf "<p>%s</p>" inner

/// An XML doc comment (as text) rendered as HTML paragraphs; text that is not XML is kept as text.
let renderDoc (xml: string) : string =
    try
        let doc = XElement.Parse("<doc>" + xml + "</doc>", LoadOptions.None)
        let parts =
            doc.Nodes()
            |> Seq.choose (fun n ->
                match n with
                | :? XElement as e -> Some(block e)
                | :? XText as t when t.Value.Trim() <> "" -> Some(sprintf "<p>%s</p>" (escape (t.Value.Trim())))
                | _ -> None)
            |> Seq.toList
        String.concat "" parts
    with :? Xml.XmlException ->
        sprintf "<p>%s</p>" (escape (Regex.Replace(xml, "<[^>]*>", "")))

let private tip = Regex("""(<div popover class="fsdocs-tip" id="[^"]*">)(.*?)</div>""", RegexOptions.Singleline ||| RegexOptions.Compiled)
let private emphasis = Regex("""(?:<br />)?<em>(.*?)</em>""", RegexOptions.Singleline ||| RegexOptions.Compiled)

/// Each tooltip: the signatures as they are, the XML docs (which fsdocs puts, escaped, in <em>)
/// rendered; a tooltip of several items has one <em> per item.
let readableTips (html: string) =
    tip.Replace(html, fun m ->
        let body =
            emphasis.Replace(m.Groups.[2].Value, fun e ->
                let xml = WebUtility.HtmlDecode(e.Groups.[1].Value.Replace("<br />", "\n"))
                sprintf "<div class=\"toolkit-tip-doc\">%s</div>" (renderDoc xml))
        m.Groups.[1].Value + body + "</div>")

// ---- C# snippets ------------------------------------------------------------------------------

let private csharpBlock = Regex("""<code lang="csharp">(.*?)</code>""", RegexOptions.Singleline ||| RegexOptions.Compiled)
let private slashes = Regex("""<span class="o">/</span><span class="o">/</span>([^\n]*)""", RegexOptions.Compiled)

/// A `//` comment the highlighter took for two operators becomes a comment again.
let csharpComments (html: string) =
    csharpBlock.Replace(html, fun m ->
        let fixedCode = slashes.Replace(m.Groups.[1].Value, fun c -> sprintf "<span class=\"c\">//%s</span>" (Regex.Replace(c.Groups.[1].Value, "<[^>]*>", "")))
        sprintf "<code lang=\"csharp\">%s</code>" fixedCode)

// ---- links out ------------------------------------------------------------------------------

let private outward = Regex("""<a [^>]*href="https?://[^"]*"[^>]*>(.*?)</a>""", RegexOptions.Singleline ||| RegexOptions.Compiled)

/// A link out of the site (the API reference links .NET's own types to Microsoft's pages) keeps
/// its text and loses its target: the site is read offline, from a clone or a package, and
/// explains in its own pages what it refers to.
let noLinksOut (html: string) =
    outward.Replace(html, fun m -> sprintf "<span class=\"toolkit-external\">%s</span>" m.Groups.[1].Value)

// ---- search -----------------------------------------------------------------------------------

/// index.json as a script (a page opened from disk may load a script but not fetch a file):
/// uris relative to the root, text lower-cased once, the page's title for display.
let searchIndex (indexJson: string) =
    use doc = JsonDocument.Parse indexJson
    let entries =
        [ for e in doc.RootElement.EnumerateArray() ->
            let text (name: string) = match e.TryGetProperty name with | true, v when v.ValueKind = JsonValueKind.String -> v.GetString() | _ -> ""
            let uri = text "uri"
            let uri = if uri.StartsWith root then relative 0 (uri.Substring root.Length) else uri
            dict [ "uri", uri
                   "display", text "title"
                   "title", (text "title").ToLowerInvariant()
                   "headings", (text "headings").ToLowerInvariant()
                   "content", (text "content").ToLowerInvariant() ] ]
    "window.TOOLKIT_SEARCH_INDEX = " + JsonSerializer.Serialize entries + ";\n"

// ---- the whole site ---------------------------------------------------------------------------

/// Finishes every page under `output` in place and writes content/search-index.js.
let finish (output: string) =
    for file in Directory.EnumerateFiles(output, "*.html", SearchOption.AllDirectories) do
        let depth = Path.GetRelativePath(output, file).Split('/').Length - 1
        let html = File.ReadAllText file
        let finished = html |> relativeLinks depth |> noLinksOut |> readableTips |> csharpComments
        if finished <> html then File.WriteAllText(file, finished)
    let index = Path.Combine(output, "index.json")
    File.WriteAllText(Path.Combine(output, "content", "search-index.js"), searchIndex (File.ReadAllText index))
