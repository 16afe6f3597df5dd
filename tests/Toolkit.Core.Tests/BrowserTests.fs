/// The charts and the documentation site opened in a real browser: Debian's Chromium, headless.
module Toolkit.Tests.BrowserTests

open System
open System.Diagnostics
open System.IO
open System.Net
open System.Net.Sockets
open Expecto
open Toolkit.Training

let private chromium = [ "/usr/bin/chromium"; "/usr/bin/chromium-browser" ] |> List.tryFind File.Exists

/// Runs headless Chromium on a URL: the DOM after the page's scripts ran, and its log (where the
/// console's messages and uncaught errors appear as CONSOLE lines).
let private browse (exe: string) (extra: string) (url: string) =
    let psi =
        ProcessStartInfo(exe, sprintf "--headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size=1200,800 --virtual-time-budget=5000 --enable-logging=stderr --v=0 %s %s" extra url,
                         RedirectStandardOutput = true, RedirectStandardError = true)
    use p = Process.Start psi
    let err = p.StandardError.ReadToEndAsync()
    let out = p.StandardOutput.ReadToEnd()
    if not (p.WaitForExit 60000) then p.Kill true; failtestf "Chromium did not finish with %s" url
    out, err.Result

/// The console lines that report a failure: an uncaught error, a script or resource that did
/// not load, a blocked request.
let consoleErrors (log: string) =
    log.Split('\n')
    |> Array.filter (fun l ->
        l.Contains ":CONSOLE" && (l.Contains "Uncaught" || l.Contains "Failed to load" || l.Contains "blocked" || l.Contains "Error"))
    |> List.ofArray

let private temp (name: string) = Path.Combine(Path.GetTempPath(), sprintf "toolkit-browser-%O-%s" (Guid.NewGuid()) name)

/// The repository's root (the tests run from their bin folder).
let private root =
    let rec up (d: DirectoryInfo) = if isNull d then None elif File.Exists(Path.Combine(d.FullName, "Toolkit.sln")) then Some d.FullName else up d.Parent
    up (DirectoryInfo AppContext.BaseDirectory)

/// Serves a folder over HTTP on a free local port (python3's http.server), as the site is
/// meant to be served: its pages link their scripts from the site's root.
let private serve (dir: string) =
    let port =
        let l = new TcpListener(IPAddress.Loopback, 0)
        l.Start()
        let p = (l.LocalEndpoint :?> IPEndPoint).Port
        l.Stop()
        p
    let p = Process.Start(ProcessStartInfo("/usr/bin/python3", sprintf "-m http.server %d --bind 127.0.0.1 --directory %s" port dir, RedirectStandardOutput = true, RedirectStandardError = true))
    // wait until it answers
    let sw = Stopwatch.StartNew()
    let mutable ready = false
    while not ready && sw.Elapsed.TotalSeconds < 15.0 do
        try
            use c = new TcpClient("127.0.0.1", port)
            ready <- true
        with _ -> Threading.Thread.Sleep 100
    if not ready then p.Kill(); failtest "the local HTTP server did not start"
    p, port

/// Fails with every problem listed, one per line (Expecto cuts a long list short).
let private noProblems (problems: string seq) =
    let all = Seq.toArray problems
    if all.Length > 0 then failtestf "%d problems:\n%s" all.Length (String.Join("\n", Array.truncate 80 all))

let private needsChromium (name: string) (body: string -> unit) =
    match chromium with
    | Some exe -> test name { body exe }
    | None -> testCase name (fun () -> skiptest "Chromium is not installed (./build.sh setup installs Debian's chromium)")

[<Tests>]
let tests =
    testSequenced <| testList "browser" [
        needsChromium "a Plotly chart file opens offline: its traces are drawn, no script errors, a screenshot" (fun exe ->
            let grid = Landscape.grid 2.0 21
            let values = Landscape.surface (fun a b -> a * a + 3.0 * b * b) grid grid
            let chart =
                Toolkit.Plot.Charts.contour "a bowl" "a" "b" grid grid values
                    [ "gradient descent", [| 1.5, 1.5; 1.0, 0.6; 0.5, 0.2; 0.0, 0.0 |]; "adam", [| -1.5, 1.0; -0.5, 0.5; 0.0, 0.0 |] ]
            let html, png = temp "chart.html", temp "chart.png"
            try
                Toolkit.Plot.Charts.save html chart
                Expect.isFalse ((File.ReadAllText html).Contains "src=\"http") "no script from the network"
                let dom, log = browse exe "--dump-dom" ("file://" + html)
                Expect.equal (consoleErrors log) [] "no script errors"
                Expect.stringContains dom "class=\"main-svg\"" "plotly drew its SVG"
                Expect.stringContains dom "contourlayer" "the contour trace"
                Expect.stringContains dom "scatterlayer" "the trajectories"
                for name in [ "gradient descent"; "adam" ] do Expect.stringContains dom (sprintf ">%s<" name) (sprintf "legend entry %s" name)
                browse exe (sprintf "--screenshot=%s" png) ("file://" + html) |> ignore
                Expect.isGreaterThan (FileInfo(png).Length) 10_000L "a screenshot with something in it"
            finally
                for f in [ html; png ] do File.Delete f)
        needsChromium "the error check sees a script error (the check above can fail)" (fun exe ->
            let html = temp "broken.html"
            try
                File.WriteAllText(html, "<!DOCTYPE html><html><body><p>x</p><script>undefinedFunction();</script></body></html>")
                let _, log = browse exe "--dump-dom" ("file://" + html)
                Expect.isNonEmpty (consoleErrors log) "the uncaught ReferenceError is reported"
            finally
                File.Delete html)
        needsChromium "the site check sees a script error, a missing stylesheet, a broken link and a placeholder (the checks below can fail)" (fun exe ->
            let dir = temp "broken-site"
            Directory.CreateDirectory dir |> ignore
            try
                File.WriteAllText(Path.Combine(dir, "index.html"),
                    "<!DOCTYPE html><html><head><link rel=\"stylesheet\" href=\"missing.css\"></head><body><p>{{fsdocs-license-link}}</p>" +
                    "<a href=\"nowhere.html\">x</a><a href=\"https://example.org/\">y</a><script>undefinedFunction();</script></body></html>")
                use browser = new Chromium.Browser(exe)
                let problems = Site.checkPage browser dir (fun page -> "file://" + Path.Combine(dir, page)) (fun _ -> None) "index.html"
                let has (text: string) = problems |> List.exists (fun p -> p.Contains text)
                Expect.isTrue (has "undefinedFunction") (sprintf "the uncaught error: %A" problems)
                Expect.isTrue (has "missing.css") (sprintf "the stylesheet that did not load: %A" problems)
                Expect.isTrue (has "nowhere.html") (sprintf "the broken link: %A" problems)
                Expect.isTrue (has "example.org") (sprintf "the link out of the site: %A" problems)
                Expect.isTrue (has "{{fsdocs-license-link}}") (sprintf "the placeholder: %A" problems)
            finally
                Directory.Delete(dir, true))
        match root, chromium with
        | Some r, Some exe when File.Exists(Path.Combine(r, "output", "index.html")) ->
            let output = Path.Combine(r, "output")
            let pages =
                Directory.GetFiles(output, "*.html", SearchOption.AllDirectories)
                |> Array.map (fun f -> Path.GetRelativePath(output, f).Replace('\\', '/')) |> Array.sort
            testSequenced <| testList "the built site" [
                test "opened from disk: every page loads its scripts and styles with no error, every link resolves, no placeholder" {
                    use browser = new Chromium.Browser(exe)
                    let problems = pages |> Array.collect (fun page -> Site.checkPage browser output (fun p -> Uri(Path.Combine(output, p)).AbsoluteUri) (fun _ -> None) page |> Array.ofList)
                    Expect.isGreaterThanOrEqual pages.Length 20 "the site's pages"
                    noProblems problems
                }
                test "served over HTTP under a path (/Toolkit/): the same, each link fetched" {
                    // as a project site is served: the site's root is a folder below the host's
                    let site = temp "site"
                    Directory.CreateDirectory site |> ignore
                    Directory.CreateSymbolicLink(Path.Combine(site, "Toolkit"), output) |> ignore
                    let server, port = serve site
                    try
                        use http = new Http.HttpClient()
                        let fetched = Collections.Generic.Dictionary<string, int>()
                        let fetch (url: string) =
                            match fetched.TryGetValue url with
                            | true, code -> Some code
                            | _ ->
                                let code = try int (http.GetAsync(url).Result.StatusCode) with _ -> 0
                                fetched.[url] <- code
                                Some code
                        use browser = new Chromium.Browser(exe)
                        let problems = pages |> Array.collect (fun page -> Site.checkPage browser output (fun p -> sprintf "http://127.0.0.1:%d/Toolkit/%s" port p) fetch page |> Array.ofList)
                        noProblems problems
                        let facts = browser.Visit(sprintf "http://127.0.0.1:%d/Toolkit/loss-landscapes.html" port, "return { svgs: document.querySelectorAll('svg').length, paths: document.querySelectorAll('.path').length };")
                        Expect.isGreaterThanOrEqual (facts.Value.["svgs"].GetValue<int>()) 4 "the landscape page's charts"
                        Expect.isGreaterThan (facts.Value.["paths"].GetValue<int>()) 0 "the optimisers' trajectories"
                    finally
                        server.Kill true
                        Directory.Delete(site, true)
                }
                test "every tutorial page shows C# beside F# (tabs), every C# block of the site from the tested C# project" {
                    use browser = new Chromium.Browser(exe)
                    let tutorials = Directory.GetFiles(Path.Combine(r, "docs"), "*.fsx") |> Array.map (fun f -> Path.GetFileNameWithoutExtension f + ".html") |> Array.sort
                    Expect.isGreaterThanOrEqual tutorials.Length 14 "the tutorial pages"
                    let missing =
                        [ for page in tutorials do
                            // a C# block must sit in a tab beside F#, unless its section is about C# alone
                            let v =
                                browser.Visit(Uri(Path.Combine(output, page)).AbsoluteUri,
                                    "const alone = Array.from(document.querySelectorAll('#content code[lang=csharp]')).filter(c => {
                                         if (c.closest('.toolkit-tab-panel')) return false;
                                         let e = c.closest('#content > *');
                                         while (e && !/^H[1-6]$/.test(e.tagName)) e = e.previousElementSibling;
                                         return !(e && e.textContent.includes('C#'));
                                     });
                                     return { tabs: document.querySelectorAll('.toolkit-tabs').length, alone: alone.length };")
                            if v.Value.["tabs"].GetValue<int>() = 0 then yield sprintf "%s: no F#/C# tabs" page
                            let alone = v.Value.["alone"].GetValue<int>()
                            if alone > 0 then yield sprintf "%s: %d C# blocks not beside F#" page alone ]
                    noProblems missing
                    // a C# block in a page's source must be an include of the tested project's file
                    let inline' =
                        [ for f in Directory.GetFiles(Path.Combine(r, "docs")) do
                            if f.EndsWith ".fsx" || f.EndsWith ".md" then
                                let text = File.ReadAllText f
                                if text.Contains "```csharp" || Text.RegularExpressions.Regex.IsMatch(text, @"\[lang=csharp\](?!,file)") then yield Path.GetFileName f
                                for m in Text.RegularExpressions.Regex.Matches(text, @"\[lang=csharp,file=([^,\]]+)") do
                                    let file = m.Groups.[1].Value
                                    if not (file.StartsWith "../tests/Toolkit.Tests/") then yield sprintf "%s: %s is not the tested C# project" (Path.GetFileName f) file ]
                    noProblems inline'
                }
            ]
        | _ ->
            testCase "the built site in a browser" (fun () -> skiptest "needs Chromium and the built site (./build.sh test builds the docs first)")
    ]
