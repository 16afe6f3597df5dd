/// Headless Chromium driven over the DevTools protocol (a WebSocket from the browser, JSON
/// messages): one browser for many pages, and every error a page meets (an uncaught exception, a
/// console error, a script, stylesheet or image that did not load) reported as it happens, which
/// the browser's own log on stderr does not do for failed loads.
module Toolkit.Tests.Chromium

open System
open System.Collections.Concurrent
open System.Diagnostics
open System.IO
open System.Net.WebSockets
open System.Text
open System.Text.Json.Nodes
open System.Threading
open System.Threading.Tasks

/// Debian's Chromium, if installed.
let executable = [ "/usr/bin/chromium"; "/usr/bin/chromium-browser" ] |> List.tryFind File.Exists

/// What a page gave when loaded: its errors in the order they came, and the value of an
/// expression evaluated in it once loaded.
type Visit = { Errors: string list; Value: JsonNode }

/// One headless browser with one tab.
type Browser(exe: string) =
    let profile = Path.Combine(Path.GetTempPath(), sprintf "toolkit-chromium-%O" (Guid.NewGuid()))
    let proc =
        let psi = ProcessStartInfo(exe, sprintf "--headless=new --no-sandbox --disable-gpu --no-first-run --remote-debugging-port=0 --user-data-dir=%s --window-size=1200,800 about:blank" profile,
                                   RedirectStandardOutput = true, RedirectStandardError = true)
        Process.Start psi
    // the browser says on stderr where it listens
    let endpoint =
        let found = TaskCompletionSource<string>()
        proc.ErrorDataReceived.Add(fun e ->
            if not (isNull e.Data) && e.Data.StartsWith "DevTools listening on " then
                found.TrySetResult(e.Data.Substring("DevTools listening on ".Length).Trim()) |> ignore)
        proc.BeginErrorReadLine()
        proc.BeginOutputReadLine()
        if not (found.Task.Wait 30000) then
            proc.Kill true
            failwith "Chromium did not open its DevTools endpoint within 30 s"
        found.Task.Result
    let socket = new ClientWebSocket()
    do socket.ConnectAsync(Uri endpoint, CancellationToken.None).Wait()
    let mutable nextId = 0
    let replies = ConcurrentDictionary<int, TaskCompletionSource<JsonNode>>()
    let events = new BlockingCollection<string * JsonNode>()
    let reader =
        Task.Run(fun () ->
            let buffer = Array.zeroCreate<byte> 65536
            let message = new MemoryStream()
            try
                while socket.State = WebSocketState.Open do
                    let r = socket.ReceiveAsync(ArraySegment buffer, CancellationToken.None).Result
                    message.Write(buffer, 0, r.Count)
                    if r.EndOfMessage then
                        let json = JsonNode.Parse(Encoding.UTF8.GetString(message.ToArray()))
                        message.SetLength 0L
                        match json.["id"] with
                        | null -> events.Add((string json.["method"], json.["params"]))
                        | id ->
                            match replies.TryRemove(id.GetValue<int>()) with
                            | true, t ->
                                match json.["error"] with
                                | null -> t.SetResult json.["result"]
                                | e -> t.SetException(Exception(sprintf "DevTools: %s" (e.ToJsonString())))
                            | _ -> ()
            with _ -> ())
    let send (sessionId: string) (methodName: string) (parameters: JsonObject) =
        let id = Interlocked.Increment &nextId
        let t = TaskCompletionSource<JsonNode>()
        replies.[id] <- t
        let message = JsonObject()
        message.["id"] <- id
        message.["method"] <- methodName
        message.["params"] <- parameters
        if not (isNull sessionId) then message.["sessionId"] <- sessionId
        let bytes = Encoding.UTF8.GetBytes(message.ToJsonString())
        lock socket (fun () -> socket.SendAsync(ArraySegment bytes, WebSocketMessageType.Text, true, CancellationToken.None).Wait())
        if not (t.Task.Wait 30000) then failwithf "DevTools: no answer to %s within 30 s" methodName
        t.Task.Result
    let session =
        let target = send null "Target.createTarget" (JsonObject([ Collections.Generic.KeyValuePair("url", JsonValue.Create "about:blank" :> JsonNode) ]))
        let attach = JsonObject()
        attach.["targetId"] <- string target.["targetId"]
        attach.["flatten"] <- true
        let s = string (send null "Target.attachToTarget" attach).["sessionId"]
        for domain in [ "Page"; "Runtime"; "Log"; "Network" ] do send s (domain + ".enable") (JsonObject()) |> ignore
        s
    let describe (name: string) (p: JsonNode) : string option =
        match name with
        | "Runtime.exceptionThrown" ->
            let d = p.["exceptionDetails"]
            let text = match d.["exception"] with null -> string d.["text"] | e -> string e.["description"]
            Some(sprintf "uncaught: %s (%s:%s)" text (string d.["url"]) (string d.["lineNumber"]))
        | "Runtime.consoleAPICalled" when string p.["type"] = "error" ->
            let args = p.["args"].AsArray() |> Seq.map (fun a -> match a.["value"] with null -> string a.["description"] | v -> string v)
            Some(sprintf "console.error: %s" (String.Join(" ", args)))
        | "Log.entryAdded" when string p.["entry"].["level"] = "error" ->
            Some(sprintf "%s (%s)" (string p.["entry"].["text"]) (string p.["entry"].["url"]))
        | "Network.loadingFailed" when string p.["errorText"] <> "net::ERR_ABORTED" ->
            Some(sprintf "a load failed: %s" (string p.["errorText"]))
        | _ -> None

    /// Opens a URL, waits for its load event and a moment for late scripts, evaluates an
    /// expression (its value must be JSON-serialisable) and gives back the errors seen.
    member _.Visit(url: string, expression: string) : Visit =
        let mutable drained = Unchecked.defaultof<string * JsonNode>
        while events.TryTake(&drained) do ()
        let navigate = JsonObject()
        navigate.["url"] <- url
        let reply = send session "Page.navigate" navigate
        let errors = ResizeArray<string>()
        match reply.["errorText"] with
        | null -> ()
        | e -> errors.Add(sprintf "navigation failed: %s" (string e))
        let deadline = Stopwatch.StartNew()
        let mutable loaded = errors.Count > 0
        let take (timeout: int) =
            match events.TryTake(&drained, timeout) with
            | true ->
                let name, p = drained
                if name = "Page.loadEventFired" then loaded <- true
                match describe name p with Some e -> errors.Add e | None -> ()
                true
            | false -> false
        while not loaded && deadline.Elapsed.TotalSeconds < 20.0 do take 200 |> ignore
        if not loaded then errors.Add "the page did not finish loading within 20 s"
        // late errors: events keep coming a little after the load event
        while take 150 do ()
        let evaluate = JsonObject()
        evaluate.["expression"] <- sprintf "JSON.stringify((() => { %s })())" expression
        evaluate.["returnByValue"] <- true
        let result = send session "Runtime.evaluate" evaluate
        let value =
            match result.["exceptionDetails"] with
            | null -> JsonNode.Parse(string result.["result"].["value"])
            | d -> errors.Add(sprintf "the check's expression failed: %s" (d.ToJsonString())); null
        while take 50 do ()
        { Errors = List.ofSeq errors; Value = value }

    interface IDisposable with
        member _.Dispose() =
            try socket.Abort() with _ -> ()
            try proc.Kill true with _ -> ()
            proc.WaitForExit 10000 |> ignore
            reader.Wait 5000 |> ignore
            try Directory.Delete(profile, true) with _ -> ()
