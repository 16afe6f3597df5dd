/// Loss landscapes and the pictures drawn from them.
module Toolkit.Tests.LandscapeTests

open System
open System.Xml.Linq
open Expecto
open FsCheck
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open Toolkit.Graph
open Toolkit.Tensors
open Toolkit.Nn
open Toolkit.Training
open Toolkit.Charts
open Toolkit.Tests.NetworkTests

let private data (c: NetCase) =
    { X = Samples.OfMatrix c.X; Y = c.Y; Labels = Array.init c.Y.ColumnCount (fun j -> c.Y.Column(j).MaximumIndex()) }

let private svgElements (svg: string) (name: string) =
    let doc = XDocument.Parse svg
    doc.Descendants(XName.Get(name, "http://www.w3.org/2000/svg")) |> List.ofSeq

[<Tests>]
let tests =
    testList "landscapes" [
        testPropertyWithConfig { Generators.config with arbitrary = []; maxTest = 150 } "the slope of L(W + a·W1) at a = 0 is ∇L·W1 (central differences against backprop)" <|
            Prop.forAll (Arb.fromGen (genNet false)) (fun c ->
                if not (nearKink 1e-3 c) then
                    let g = (Network.backward c.Net c.X c.Y).Parameters
                    let d = Landscape.direction c.Net DirectionScale.Gaussian 7
                    let expected = Array.fold2 (fun s gi di -> s + gi * di) 0.0 g d
                    let h = 1e-5
                    let l = Landscape.line c.Net (data c) d [| -h; 0.0; h |]
                    let slope = (l.Loss.[2] - l.Loss.[0]) / (2.0 * h)
                    let scale = max 1.0 (Array.fold2 (fun s gi di -> s + abs (gi * di)) 0.0 g d)
                    if abs (slope - expected) > 1e-5 * scale then
                        failtestf "%s: slope %.12g by differences, ∇L·d = %.12g" c.Label slope expected)
        testPropertyWithConfig { Generators.config with arbitrary = []; maxTest = 100 } "at a = 0 the line is the network's own loss and accuracy; the plane's axes are the two lines" <|
            Prop.forAll (Arb.fromGen (genNet false)) (fun c ->
              // networks whose values leave an op's domain (log of a negative z) have no landscape to compare
              if not (nearKink 0.0 c) then
                let d = data c
                let loss, acc = Train.evaluate c.Net d
                let d1 = Landscape.direction c.Net DirectionScale.PerUnit 1
                let d2 = Landscape.direction c.Net DirectionScale.PerUnit 2
                let grid = [| -0.5; 0.0; 0.5 |]
                let l1 = Landscape.line c.Net d d1 grid
                let l2 = Landscape.line c.Net d d2 grid
                let p = Landscape.plane c.Net d d1 d2 grid grid
                Expect.floatClose Accuracy.veryHigh l1.Loss.[1] loss "L(W) on the line"
                Expect.equal l1.Accuracy.[1] acc "accuracy at a = 0"
                // a point out of an op's domain is NaN on both
                let same what (a: float) (b: float) = if not (Double.IsNaN a && Double.IsNaN b) then Expect.floatClose Accuracy.veryHigh a b what
                for i in 0 .. 2 do
                    same "plane at (a, 0) = line along W1" p.Loss.[i, 1] l1.Loss.[i]
                    same "plane at (0, b) = line along W2" p.Loss.[1, i] l2.Loss.[i])
        test "the hinge loss's landscape is the network's cost at each point" {
            let net = Network.create [ 3; 4; 3 ] Activation.Tanh Activation.Identity (Loss.Hinge 1.0) Init.Xavier 3
            let rng = Random(4)
            let x = Matrix<float>.Build.Dense(3, 6, fun _ _ -> rng.NextDouble() - 0.5)
            let labels = [| 0; 1; 2; 0; 1; 2 |]
            let d = { X = Samples.OfMatrix x; Y = Train.oneHot 3 labels; Labels = labels }
            let dir = Landscape.direction net DirectionScale.Gaussian 1
            let l = Landscape.line net d dir [| -1.0; 0.0; 0.3 |]
            for k, a in Array.indexed l.Alphas do
                let moved = Network.withParameters net (Array.map2 (fun w v -> w + a * v) net.Parameters dir)
                Expect.floatClose Accuracy.veryHigh l.Loss.[k] (Network.cost moved x d.Y) (sprintf "hinge loss at a = %g" a)
        }
        test "a per-unit direction has each unit's weight norm and still biases; the same seed gives the same direction" {
            let net = Network.create [ 6; 5; 3 ] Activation.Relu Activation.Softmax Loss.CrossEntropy Init.He 2
            let d = Landscape.direction net DirectionScale.PerUnit 9
            Expect.equal d (Landscape.direction net DirectionScale.PerUnit 9) "seeded"
            Expect.notEqual d (Landscape.direction net DirectionScale.PerUnit 10) "another seed, another direction"
            let dense = net.Layers.[0] :?> Dense
            for l, o in [ 0, net.Offsets.[0]; 2, net.Offsets.[2] ] do
                let layer = net.Layers.[l] :?> Dense
                let w, dw = layer.Weights(net.Parameters, o), layer.Weights(d, o)
                for i in 0 .. w.RowCount - 1 do
                    Expect.floatClose Accuracy.veryHigh (dw.Row(i).L2Norm()) (w.Row(i).L2Norm()) (sprintf "layer %d unit %d" l i)
                Expect.isTrue (layer.Bias(d, o).Enumerate() |> Seq.forall ((=) 0.0)) "every bias direction is 0"
            ignore dense
        }
        testProperty "project finds (a, b) of a point in the plane" <| fun (seed: int) (a: NormalFloat) (b: NormalFloat) ->
            let rng = Random(seed)
            let n = 2 + abs seed % 20
            let v () = Array.init n (fun _ -> rng.NextDouble() - 0.5)
            let o, d1, d2 = v (), v (), v ()
            let a, b = (float a) % 100.0, (float b) % 100.0
            let p = Array.init n (fun k -> o.[k] + a * d1.[k] + b * d2.[k])
            let pa, pb = Landscape.project o d1 d2 p
            Expect.isLessThan (abs (pa - a)) (1e-6 * (1.0 + abs a)) "a"
            Expect.isLessThan (abs (pb - b)) (1e-6 * (1.0 + abs b)) "b"
        test "bad input is named: grids, directions of the wrong length, parallel directions, mismatched data" {
            let net = Network.create [ 4; 3; 2 ] Activation.Sigmoid Activation.Sigmoid Loss.Quadratic Init.Normal 1
            let d = { X = Samples.OfMatrix(Matrix<float>.Build.Dense(5, 2)); Y = Matrix<float>.Build.Dense(2, 2); Labels = [| 0; 1 |] }
            let good = { d with X = Samples.OfMatrix(Matrix<float>.Build.Dense(4, 2)) }
            Expect.throwsC (fun () -> Landscape.grid 1.0 1 |> ignore) (fun e -> Expect.stringContains e.Message "at least 2" "grid size")
            Expect.throwsC (fun () -> Landscape.line net d (Landscape.direction net DirectionScale.Gaussian 1) [| 0.0 |] |> ignore)
                (fun e -> Expect.stringContains e.Message "takes 4 inputs but the data has 5" "features")
            Expect.throwsC (fun () -> Landscape.line net good [| 1.0; 2.0 |] [| 0.0 |] |> ignore)
                (fun e -> Expect.stringContains e.Message "23 parameters but the direction has 2" "direction length")
            let d1 = [| 1.0; 2.0 |]
            Expect.throwsC (fun () -> Landscape.project [| 0.0; 0.0 |] d1 (Array.map ((*) 3.0) d1) [| 1.0; 1.0 |] |> ignore)
                (fun e -> Expect.stringContains e.Message "parallel" "parallel directions")
            Expect.equal (Landscape.grid 2.0 5) [| -2.0; -1.0; 0.0; 1.0; 2.0 |] "grid"
        }
        test "a heatmap's SVG has one cell per grid point, its colour bar and every trajectory by name" {
            let xs, ys = Landscape.grid 1.0 7, Landscape.grid 2.0 5
            let values = Landscape.surface (fun a b -> a * a + b * b + 0.1) xs ys
            let paths = [ { Name = "gradient descent"; Points = [| 1.0, 2.0; 0.5, 1.0; 0.0, 0.0 |] }; { Name = "Adam & co"; Points = [| -1.0, 1.0 |] } ]
            let svg = Heatmap.svg "L over a plane" "a" "b" true xs ys values paths
            let cells = XDocument.Parse(svg).Descendants(XName.Get("g", "http://www.w3.org/2000/svg")) |> Seq.find (fun g -> g.Attribute(XName.Get "class").Value = "cells")
            Expect.equal (cells.Elements() |> Seq.length) (7 * 5) "cells"
            let lines = svgElements svg "polyline" |> List.map (fun p -> p.Attribute(XName.Get "data-name").Value)
            Expect.equal lines [ "gradient descent"; "Adam & co" ] "trajectories, names escaped and read back"
            let colours = svgElements svg "rect" |> List.choose (fun r -> Option.ofObj (r.Attribute(XName.Get "fill")) |> Option.map (fun a -> a.Value)) |> Set.ofList
            Expect.isGreaterThan colours.Count 20 "a colour scale, not one colour"
            Expect.throwsC (fun () -> Heatmap.svg "t" "a" "b" false xs ys (Array2D.zeroCreate 3 3) [] |> ignore) (fun e -> Expect.stringContains e.Message "7×5" "shape named")
            Expect.throwsC (fun () -> Heatmap.svg "t" "a" "b" false [| 0.0; 0.0 |] [| 0.0; 1.0 |] (Array2D.zeroCreate 2 2) [] |> ignore) (fun e -> Expect.stringContains e.Message "must increase" "a flat grid named")
        }
        test "a confusion matrix's SVG writes every count and every class name" {
            let names = [| "T-shirt"; "Trouser"; "Pullover" |]
            let counts = array2D [ [ 50; 2; 8 ]; [ 1; 60; 0 ]; [ 9; 0; 41 ] ]
            let svg = Heatmap.confusion "test" names counts
            let texts = svgElements svg "text"
            let byClass cls = texts |> List.filter (fun t -> match t.Attribute(XName.Get "class") with null -> false | a -> a.Value = cls) |> List.map (fun t -> t.Value)
            Expect.equal (byClass "count" |> List.map int) [ 50; 2; 8; 1; 60; 0; 9; 0; 41 ] "counts row by row"
            Expect.equal (byClass "row") (List.ofArray names) "true classes"
            Expect.equal (byClass "col") (List.ofArray names) "predicted classes"
        }
        test "stacked charts keep each chart, one under the other" {
            let a = LineChart.svg "loss" "epoch" "loss" false [ { Name = "train"; Points = [| 1.0, 0.5; 2.0, 0.3 |] } ]
            let b = LineChart.svg "accuracy" "epoch" "accuracy" false [ { Name = "test"; Points = [| 1.0, 0.7; 2.0, 0.8 |] } ]
            let doc = XDocument.Parse(LineChart.stack [ a; b ])
            let inner = doc.Root.Elements(XName.Get("svg", "http://www.w3.org/2000/svg")) |> List.ofSeq
            Expect.equal inner.Length 2 "two charts"
            Expect.equal (inner |> List.map (fun e -> e.Attribute(XName.Get "y").Value)) [ "0"; "380" ] "the second below the first"
        }
        test "PNG: the signature, a header with the size, chunk CRCs, and the pixels back from the zlib stream" {
            let w, h = 5, 3
            let pixels = Array.init (w * h) (fun i -> byte (i * 17))
            let png = Png.encode w h 1 pixels
            Expect.equal png.[0..7] [| 137uy; 80uy; 78uy; 71uy; 13uy; 10uy; 26uy; 10uy |] "signature"
            let be (o: int) = (int png.[o] <<< 24) ||| (int png.[o + 1] <<< 16) ||| (int png.[o + 2] <<< 8) ||| int png.[o + 3]
            Expect.equal (Text.Encoding.ASCII.GetString(png, 12, 4)) "IHDR" "first chunk"
            Expect.equal (be 16, be 20) (w, h) "width and height"
            // the end chunk's CRC is the same in every PNG
            Expect.equal png.[png.Length - 4 ..] [| 0xAEuy; 0x42uy; 0x60uy; 0x82uy |] "IEND's CRC"
            Expect.equal (Png.crc32 (Text.Encoding.ASCII.GetBytes "123456789")) 0xCBF43926u "CRC-32 check value"
            let idatLength = be 33
            Expect.equal (Text.Encoding.ASCII.GetString(png, 37, 4)) "IDAT" "data chunk"
            use z = new IO.Compression.ZLibStream(new IO.MemoryStream(png, 41, idatLength), IO.Compression.CompressionMode.Decompress)
            use back = new IO.MemoryStream()
            z.CopyTo back
            let rows = back.ToArray()
            Expect.equal rows.Length ((w + 1) * h) "a filter byte and w pixels per row"
            for r in 0 .. h - 1 do
                Expect.equal rows.[r * (w + 1)] 0uy "filter none"
                Expect.equal rows.[r * (w + 1) + 1 .. r * (w + 1) + w] pixels.[r * w .. r * w + w - 1] (sprintf "row %d" r)
            Expect.throwsC (fun () -> Png.encode 2 2 1 [| 1uy |] |> ignore) (fun e -> Expect.stringContains e.Message "has 4 bytes, not 1" "size named")
        }
        test "an image grid: one embedded PNG per image, each captioned" {
            let img k = Array.init 16 (fun i -> byte (i * k))
            let svg = ImageGrid.svg "samples" 4 4 1 2 3 [ img 1, "Shirt\n(is Coat)"; img 2, "Bag"; img 3, "T-shirt & top" ]
            let images = svgElements svg "image"
            Expect.equal images.Length 3 "three images"
            let captions = svgElements svg "text" |> List.filter (fun t -> t.Attribute(XName.Get "class") <> null && t.Attribute(XName.Get "class").Value = "caption") |> List.map (fun t -> t.Value)
            Expect.equal captions [ "Shirt"; "(is Coat)"; "Bag"; "T-shirt & top" ] "captions, a line per newline"
        }
    ]
