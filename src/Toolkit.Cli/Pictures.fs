/// Pictures the command line writes: SVG files, or SVG inside a self-contained HTML page.
module Toolkit.Cli.Pictures

open System.IO
open Toolkit
open Toolkit.Charts

let private fail fmt = Printf.kprintf (fun s -> raise (Grad.UserError s)) fmt

/// Writes an SVG picture to a .svg file, or inside a self-contained page to a .html file, atomically.
let write (path: string) (title: string) (svg: string) =
    match Path.GetExtension(path).ToLowerInvariant() with
    | ".svg" -> AtomicFile.writeAllText path svg
    | ".html" | ".htm" ->
        let esc (s: string) = s.Replace("&", "&amp;").Replace("<", "&lt;")
        AtomicFile.writeAllText path (sprintf "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title></head>\n<body>\n%s</body></html>\n" (esc title) svg)
    | e -> fail "%s: the picture is written as .svg or .html, not '%s'" path e

/// Loss and accuracy per epoch (train and test) as two stacked SVG charts.
let curves (title: string) (trainLoss: float[]) (testLoss: float[]) (trainAcc: float[]) (testAcc: float[]) =
    let s name (v: float[]) = { Name = name; Points = v |> Array.mapi (fun i y -> float (i + 1), y) }
    LineChart.stack
        [ LineChart.svg (title + ": loss") "epoch" "mean loss" false [ s "train" trainLoss; s "test" testLoss ]
          LineChart.svg (title + ": accuracy") "epoch" "accuracy" false [ s "train" trainAcc; s "test" testAcc ] ]

