/// Data of any shape: CSV tables with a label or a target column, IDX images of any size,
/// channel count and class count, class names, held-out splits, standardised features.
module Toolkit.Tests.DataTests

open System
open System.IO
open Expecto
open MathNet.Numerics.LinearAlgebra
open Toolkit.Data
open Toolkit.Nn
open Toolkit.Training

let private tempFile (name: string) = Path.Combine(Path.GetTempPath(), sprintf "toolkit-%O-%s" (Guid.NewGuid()) name)

/// The problem a reader reports for a file with this text.
let private problemOf (text: string) (read: string -> unit) =
    let path = tempFile "t.csv"
    try
        File.WriteAllText(path, text)
        try read path; "no error" with :? InvalidDataException as e -> DataFormat.problem e
    finally File.Delete path

let private withCsv (text: string) (f: CsvTable -> 'a) =
    let path = tempFile "t.csv"
    try
        File.WriteAllText(path, text)
        f (Csv.readCells path None)
    finally File.Delete path

let private be (v: int) = [| byte (v >>> 24); byte (v >>> 16); byte (v >>> 8); byte v |]

[<Tests>]
let tests =
    testList "data of any shape" [
        test "CSV: a header is recognised from the data, quoted cells keep their commas" {
            withCsv "\"width, cm\",height,kind\n1.5,2,cat\n3,4,\"dog, big\"\n" (fun t ->
                Expect.equal t.Columns [| "width, cm"; "height"; "kind" |] "header"
                Expect.equal t.Cells.[1] [| "3"; "4"; "dog, big" |] "quoted cell"
                Expect.equal t.Lines [| 2; 3 |] "line numbers")
            // all numbers: no header, the columns numbered
            withCsv "1,2,0\n3,4,1\n" (fun t ->
                Expect.equal t.Columns [| "1"; "2"; "3" |] "numbered"
                Expect.equal t.Count 2 "both rows are data")
            // a text label column under a text header: still a header, because the numbers below are numbers
            withCsv "x,label\n0.5,cat\n" (fun t -> Expect.equal t.Columns [| "x"; "label" |] "header over text labels")
        }
        test "CSV: bad tables are named by file, line and column" {
            let read path = Csv.read path true |> ignore
            Expect.equal (problemOf "x,y\n1,2\n3,abc\n" read) "line 3, column 2 ('y'): 'abc' is not a number" "not a number"
            for cell in [ "NaN"; "Infinity"; "-Infinity"; "1e400" ] do
                Expect.equal (problemOf (sprintf "x,y\n1,%s\n" cell) read) (sprintf "line 2, column 2 ('y'): '%s' is not a finite number" cell) cell
            Expect.equal (problemOf "x,y\n1,2,3\n" read) "line 2 has 3 cells where line 1 has 2" "ragged"
            Expect.equal (problemOf "x,y\n\"1,2\n" read) "line 2: a quote is opened and not closed" "open quote"
            Expect.equal (problemOf "x,x\n1,2\n" read) "the header names the column 'x' twice" "duplicate column"
            Expect.equal (problemOf "\n\n" read) "the file is empty" "empty"
            Expect.equal (problemOf "x,y\n" read) "the file has a header and no rows of data" "header only"
        }
        test "CSV: a column by name, by number from 1, or a 'did you mean'" {
            withCsv "sepal,petal,species\n1,2,a\n" (fun t ->
                Expect.equal (Csv.column t "species") 2 "name"
                Expect.equal (Csv.column t "1") 0 "number"
                let msg = try Csv.column t "specis" |> ignore; "" with :? InvalidDataException as e -> DataFormat.problem e
                Expect.stringContains msg "no column is named 'specis'" "named"
                Expect.stringContains msg "(did you mean species?)" "suggested")
        }
        test "CSV: class names from the label column, shared by training and test tables; numbered labels stay numbers" {
            let train = tempFile "train.csv"
            let test = tempFile "test.csv"
            try
                File.WriteAllText(train, "a,b,kind\n1,2,zebra\n2,1,ant\n0,0,moth\n")
                File.WriteAllText(test, "a,b,kind\n1,1,ant\n")
                let d = Datasets.csv train (Some test) 0.2 1 (Target.Label "kind") None None
                Expect.equal d.Task (Task.Classes [| "ant"; "moth"; "zebra" |]) "names in ordinal order"
                Expect.equal d.Train.Labels [| 2; 0; 1 |] "training labels"
                Expect.equal d.Test.Labels [| 0 |] "test labels by the same names"
                Expect.equal (d.Train.X.ToMatrix().ToColumnArrays()) [| [| 1.0; 2.0 |]; [| 2.0; 1.0 |]; [| 0.0; 0.0 |] |] "features, one column per sample"
                Expect.equal (d.Train.Y.Column(0).ToArray()) [| 0.0; 0.0; 1.0 |] "one-hot"
                File.WriteAllText(test, "a,b,kind\n1,1,bee\n")
                let msg = try Datasets.csv train (Some test) 0.2 1 (Target.Label "kind") None (Some [| "ant"; "moth"; "zebra" |]) |> ignore; "" with :? InvalidDataException as e -> DataFormat.problem e
                Expect.stringContains msg "line 2, column 3 ('kind'): 'bee' is not one of the 3 classes (ant, moth, zebra)" "unknown class"
                File.WriteAllText(train, "a,kind\n1,0\n2,4\n")
                let d = Datasets.csv train None 0.5 1 (Target.Label "kind") None None
                Expect.equal d.Task (Task.Classes [| "0"; "1"; "2"; "3"; "4" |]) "whole numbers: classes 0 … max"
                File.WriteAllText(test, "a,c\n1,0\n")
                let msg = try Datasets.csv train (Some test) 0.2 1 (Target.Label "kind") None None |> ignore; "" with :? InvalidDataException as e -> DataFormat.problem e
                Expect.stringContains msg "the columns (a, c) are not those of" "test columns differ"
            finally
                File.Delete train
                File.Delete test
        }
        test "CSV: a real-valued target; a seeded split that partitions the rows" {
            let path = tempFile "r.csv"
            try
                File.WriteAllLines(path, [| yield "x,y"; for i in 0 .. 99 -> sprintf "%d,%g" i (0.5 * float i) |])
                let d = Datasets.csv path None 0.25 7 (Target.Value "y") None None
                Expect.equal d.Task (Task.Regression "y") "regression"
                Expect.equal (d.Train.X.ColumnCount, d.Test.X.ColumnCount) (75, 25) "a quarter held out"
                Expect.isEmpty d.Train.Labels "no labels"
                let xs (s: LabelledData) = s.X.ToMatrix().Row(0).ToArray() |> Array.map int
                Expect.equal (Array.append (xs d.Train) (xs d.Test) |> Array.sort) [| 0 .. 99 |] "every row once"
                for s in [ d.Train; d.Test ] do
                    for j in 0 .. s.X.ColumnCount - 1 do Expect.equal s.Y.[0, j] (0.5 * s.X.[0, j]) "target beside its row"
                let again = Datasets.csv path None 0.25 7 (Target.Value "y") None None
                Expect.equal (xs again.Test) (xs d.Test) "the same seed, the same split"
                let other = Datasets.csv path None 0.25 8 (Target.Value "y") None None
                Expect.notEqual (xs other.Test) (xs d.Test) "another seed, another split"
            finally File.Delete path
        }
        test "standardised features folded into the first layer: the same outputs on raw features" {
            let rng = Random(3)
            let x = Matrix<float>.Build.Dense(4, 50, fun i _ -> float (i * 40) + 10.0 * rng.NextDouble())
            let d = { X = Samples.OfMatrix x; Y = Matrix<float>.Build.Dense(1, 50); Labels = [||] }
            let mean, sd = Datasets.moments d
            let z = Datasets.standardise mean sd d
            for i in 0 .. 3 do
                let row = z.X.ToMatrix().Row(i)
                Expect.floatClose Accuracy.high (row.Sum() / 50.0) 0.0 "mean 0"
                Expect.floatClose Accuracy.high (sqrt ((row * row) / 50.0)) 1.0 "deviation 1"
            let net = Network.create [ 4; 6; 3 ] Activation.Tanh Activation.Identity Toolkit.Tensors.Loss.Quadratic Init.Xavier 1
            let folded = Network.withInputScaling mean sd net
            let a, b = Network.predict net (z.X.ToMatrix()), Network.predict folded x
            Expect.isLessThan ((a - b).Enumerate() |> Seq.map abs |> Seq.max) 1e-12 "same outputs"
            let withDropoutFirst = Network.ofLayers [ Dropout(0.5, 4) :> Layer; Dense(4, 3) ] Toolkit.Tensors.Loss.Quadratic Init.Xavier 1
            Expect.throwsT<ArgumentException> (fun () -> Network.withInputScaling mean sd withDropoutFirst |> ignore) "needs a dense first layer"
        }
        test "IDX: rank-4 images (channels), class names from classes.txt, a label beyond them named" {
            let dir = tempFile "idx"
            Directory.CreateDirectory dir |> ignore
            try
                let write prefix (labels: byte[]) =
                    let n = labels.Length
                    File.WriteAllBytes(Path.Combine(dir, prefix + "-images-idx3-ubyte"), Array.concat [ be 0x804; be n; be 5; be 4; be 3; Array.init (n * 60) byte ])
                    File.WriteAllBytes(Path.Combine(dir, prefix + "-labels-idx1-ubyte"), Array.concat [ be 0x801; be n; labels ])
                write "train" [| 0uy; 1uy; 2uy; 1uy |]
                write "t10k" [| 2uy; 0uy |]
                let d = Datasets.images dir None
                Expect.equal d.Image (Some { Rows = 5; Cols = 4; Channels = 3 }) "shape"
                Expect.equal d.Train.X.RowCount 60 "features: rows × columns × channels"
                Expect.equal d.Task (Task.Classes [| "0"; "1"; "2" |]) "numbered up to the largest label"
                File.WriteAllLines(Path.Combine(dir, "classes.txt"), [| "red"; "green"; "blue"; "grey" |])
                let d = Datasets.images dir None
                Expect.equal d.Task (Task.Classes [| "red"; "green"; "blue"; "grey" |]) "classes.txt"
                Expect.equal d.Train.Y.RowCount 4 "one-hot over the named classes"
                File.WriteAllLines(Path.Combine(dir, "classes.txt"), [| "red"; "green" |])
                let msg = try Datasets.images dir None |> ignore; "" with :? InvalidDataException as e -> e.Message
                Expect.stringContains msg "train-labels-idx1-ubyte: image 2 has the label 2, outside the 2 classes (0 to 1)" "label beyond the names"
            finally Directory.Delete(dir, true)
        }
        test "IDX: a small gzip file claiming gigabytes fails before allocating them" {
            let path = tempFile "big.idx.gz"
            try
                // 60,000 × 28 × 28 × 40 bytes claimed (1.9 GB), 10 KB of data behind it
                let gzip (bytes: byte[]) =
                    use out = new MemoryStream()
                    using (new Compression.GZipStream(out, Compression.CompressionLevel.Fastest, true)) (fun gz -> gz.Write(bytes, 0, bytes.Length))
                    out.ToArray()
                File.WriteAllBytes(path, gzip (Array.concat [ be 0x804; be 60000; be 28; be 28; be 40; Array.zeroCreate 10000 ]))
                let before = GC.GetAllocatedBytesForCurrentThread()
                let msg = try Idx.read path |> ignore; "" with :? InvalidDataException as e -> DataFormat.problem e
                let allocated = GC.GetAllocatedBytesForCurrentThread() - before
                Expect.stringContains msg "truncated" "a clear error"
                // the array grows by doubling from 1 MB as data arrives: a few MB, not 1.9 GB
                Expect.isLessThan allocated (16L <<< 20) (sprintf "allocated %d bytes" allocated)
                let raw = tempFile "big.idx"
                File.WriteAllBytes(raw, Array.concat [ be 0x803; be 60000; be 28; be 28; Array.zeroCreate 100 ])
                let before = GC.GetAllocatedBytesForCurrentThread()
                let msg = try Idx.read raw |> ignore; "" with :? InvalidDataException as e -> DataFormat.problem e
                File.Delete raw
                Expect.stringContains msg "truncated: the dimensions 60000×28×28 need 47040000 bytes" "raw: checked against the file's length"
                Expect.isLessThan (GC.GetAllocatedBytesForCurrentThread() - before) (1L <<< 20) "raw: nothing large allocated"
            finally File.Delete path
        }
        test "image bytes: every pixel's value in float32 is its float64 value p / 255 rounded once" {
            let all = Samples.OfPixels(256, Array.init 256 byte)
            let single, double = Array.zeroCreate<float32> 256, Array.zeroCreate<float> 256
            all.CopyTo(0, 1, Span<float32>(single))
            all.CopyTo(0, 1, Span<float>(double))
            for p in 0 .. 255 do
                Expect.equal double.[p] (float p / 255.0) (sprintf "float64 of %d" p)
                Expect.equal single.[p] (float32 (float p / 255.0)) (sprintf "float32 of %d" p)
                Expect.equal all.[p, 0] (float p / 255.0) "one value"
        }
        test "image bytes train exactly as their values in float64 would, in both precisions" {
            let rng = Random(3)
            let pixels = Array.init (12 * 40) (fun _ -> byte (rng.Next 256))
            let labels = Array.init 40 (fun j -> j % 3)
            let asBytes = { X = Samples.OfPixels(12, pixels); Y = Train.oneHot 3 labels; Labels = labels }
            let asValues = { asBytes with X = Samples.OfValues(12, pixels |> Array.map (fun p -> float p / 255.0)) }
            Expect.isTrue asBytes.X.IsPixels "kept as bytes"
            Expect.equal (asBytes.X.ToMatrix()) (asValues.X.ToMatrix()) "the same values"
            Expect.isTrue (asBytes.X.Columns([| 5; 2 |]).IsPixels) "a subset stays bytes"
            Expect.equal (asBytes.X.Columns([| 5; 2 |]).ToMatrix()) (asValues.X.ToMatrix().SubMatrix(0, 12, 5, 1).Append(asValues.X.ToMatrix().SubMatrix(0, 12, 2, 1))) "a subset's values"
            for precision in [ Precision.Single; Precision.Double ] do
                let config = { Epochs = 2; BatchSize = 8; Optimizer = Optimizer.Adam(0.01, 0.9, 0.999, 1e-8); Schedule = Schedule.Constant; Seed = 5
                               ValidationFraction = 0.25; Patience = 3; Precision = precision }
                let fit d = (Train.fit config (Network.create [ 12; 6; 3 ] Activation.Relu Activation.Softmax Toolkit.Tensors.Loss.CrossEntropy Init.He 1) d d ignore Threading.CancellationToken.None)
                let a, b = fit asBytes, fit asValues
                Expect.equal a.Network.Parameters b.Network.Parameters (sprintf "%A: the same weights" precision)
                Expect.equal a.Epochs.[1].TestLoss b.Epochs.[1].TestLoss (sprintf "%A: the same evaluation" precision)
        }
        test "samples: a length that is not whole samples, no features or a range outside is refused by name" {
            let err (f: unit -> obj) = try f () |> ignore; "no error" with :? ArgumentException as e -> e.Message
            Expect.stringContains (err (fun () -> box (Samples.OfPixels(0, [| 1uy |])))) "at least one feature" "no features"
            Expect.stringContains (err (fun () -> box (Samples.OfValues(3, Array.zeroCreate 7)))) "need 6 values, not 7" "not whole samples"
            let s = Samples.OfPixels(2, Array.zeroCreate 6)
            Expect.stringContains (err (fun () -> s.CopyTo(2, 2, Span<float32>(Array.zeroCreate 4)); null)) "samples 2 to 3 of 3" "past the end"
            Expect.stringContains (err (fun () -> box (s.Columns [| 3 |]))) "sample 3 of 3" "an index outside"
        }
    ]
