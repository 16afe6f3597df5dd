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
        match root, chromium with
        | Some r, Some exe when Directory.Exists(Path.Combine(r, "output")) ->
            test "the built site, served over HTTP: every page loads with no script errors; the charts' SVG is there" {
                // the site links its files from /Toolkit/: serve a folder where that is the output
                let site = temp "site"
                Directory.CreateDirectory site |> ignore
                Directory.CreateSymbolicLink(Path.Combine(site, "Toolkit"), Path.Combine(r, "output")) |> ignore
                let server, port = serve site
                try
                    let pages = Directory.GetFiles(Path.Combine(r, "output"), "*.html") |> Array.map Path.GetFileName |> Array.sort
                    Expect.isGreaterThanOrEqual pages.Length 8 "the site's pages"
                    for page in pages do
                        let dom, log = browse exe "--dump-dom" (sprintf "http://127.0.0.1:%d/Toolkit/%s" port page)
                        Expect.equal (consoleErrors log) [] (sprintf "%s: no script errors" page)
                        Expect.stringContains dom "</html>" (sprintf "%s: a page" page)
                    let dom, _ = browse exe "--dump-dom" (sprintf "http://127.0.0.1:%d/Toolkit/loss-landscapes.html" port)
                    let svgs = dom.Split("<svg").Length - 1
                    Expect.isGreaterThanOrEqual svgs 4 "the landscape page's four charts"
                    Expect.stringContains dom "class=\"path\"" "the optimisers' trajectories"
                finally
                    server.Kill true
                    Directory.Delete(site, true)
            }
        | _ ->
            testCase "the built site in a browser" (fun () -> skiptest "needs Chromium and the built site (./build.sh test builds the docs first)")
    ]
