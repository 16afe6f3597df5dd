/// Checking one page of a built site in the browser: the errors it meets while loading, each of
/// its links (to a file of the site that exists, to an anchor that exists), and no template
/// placeholder left in it.
module Toolkit.Tests.Site

open System
open System.Collections.Generic
open System.IO

/// What the page itself says, evaluated in it: every link as the browser resolved it, and every
/// `{{...}}` left in its HTML.
let private facts =
    "return { links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
              placeholders: document.documentElement.outerHTML.match(/\\{\\{[^{}]*\\}\\}/g) || [] };"

let private texts = Dictionary<string, string>()

let private hasAnchor (file: string) (anchor: string) =
    let text =
        match texts.TryGetValue file with
        | true, t -> t
        | _ ->
            let t = File.ReadAllText file
            texts.[file] <- t
            t
    text.Contains(sprintf "id=\"%s\"" anchor) || text.Contains(sprintf "name=\"%s\"" anchor)

/// The problems of `page` (a path below `site`), opened at `urlOf page`; `fetch` gives the status
/// of an HTTP link (None: check it against the files only).
let checkPage (browser: Chromium.Browser) (site: string) (urlOf: string -> string) (fetch: string -> int option) (page: string) : string list =
    let url = Uri(urlOf page)
    let visit = browser.Visit(url.AbsoluteUri, facts)
    let site = Path.GetFullPath site
    [ for e in visit.Errors -> sprintf "%s: %s" page e
      if not (isNull visit.Value) then
          for p in visit.Value.["placeholders"].AsArray() -> sprintf "%s: a template placeholder %s" page (string p)
          for l in visit.Value.["links"].AsArray() do
              let href = string l
              let link = Uri href
              // the file a link of the site points to, or why it does not
              let file =
                  if link.Scheme = "file" then
                      let path = Path.GetFullPath(Uri.UnescapeDataString link.AbsolutePath)
                      if not (path.StartsWith(site + "/")) then Error "leaves the site"
                      elif Directory.Exists path then Error "links a folder (from disk a folder opens no page)"
                      elif not (File.Exists path) then Error "is broken (no such file)"
                      else Ok path
                  elif (link.Scheme = "http" || link.Scheme = "https") && link.Authority = url.Authority then
                      let rootPath = url.AbsolutePath.Substring(0, url.AbsolutePath.Length - page.Length)
                      let path = Uri.UnescapeDataString link.AbsolutePath
                      if not (path.StartsWith rootPath) then Error "leaves the site"
                      else
                          let status = fetch (link.GetLeftPart UriPartial.Path)
                          let file = Path.Combine(site, path.Substring rootPath.Length)
                          match status with
                          | Some code when code <> 200 -> Error(sprintf "is broken (HTTP %d)" code)
                          | _ when not (File.Exists file) -> Error "is broken (no such file)"
                          | _ -> Ok file
                  else Error "leaves the site"
              match file with
              | Error why -> yield sprintf "%s: the link %s %s" page href why
              | Ok file when link.Fragment.Length > 1 ->
                  let anchor = Uri.UnescapeDataString(link.Fragment.Substring 1)
                  if not (hasAnchor file anchor) then yield sprintf "%s: the link %s has no anchor '%s' to go to" page href anchor
              | Ok _ -> () ]
