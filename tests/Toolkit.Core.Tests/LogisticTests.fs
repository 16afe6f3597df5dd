/// Logistic regression three ways, and the data readers.
module Toolkit.Tests.LogisticTests

open System
open System.IO
open Expecto
open FsCheck
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open Toolkit.Graph
open Toolkit.Models
open Toolkit.Data

type LogCase = { X: Matrix<float>; Y: float[]; Start: LogisticParams }

let genLogCase =
    gen {
        let! n = Gen.choose (1, 6)
        let! m = Gen.choose (1, 12)
        let v = Gen.choose (-3000, 3000) |> Gen.map (fun i -> float i / 1000.0)
        let! xs = Gen.arrayOfLength (n * m) v
        let! ys = Gen.arrayOfLength m (Gen.elements [ 0.0; 1.0 ])
        let! w = Gen.arrayOfLength n v
        let! b = v
        return { X = Matrix<float>.Build.Dense(n, m, xs); Y = ys; Start = { W = w; B = b } }
    }

let private same what (a: float[]) (b: float[]) =
    Array.iteri2 (fun i x y -> if Numeric.relativeError x y > 1e-10 then failtestf "%s[%d]: %.17g vs %.17g" what i x y) a b

let private tempFile (name: string) = Path.Combine(Path.GetTempPath(), sprintf "toolkit-%O-%s" (Guid.NewGuid()) name)

[<Tests>]
let tests =
    testList "logistic regression and data" [
        testPropertyWithConfig { Generators.config with arbitrary = [] } "loops, one loop, vectorized and the matrix graph give the same gradient" <|
            Prop.forAll (Arb.fromGen genLogCase) (fun c ->
                let ga = LogisticRegression.gradientLoops c.X c.Y c.Start
                let gb = LogisticRegression.gradientLoop c.X c.Y c.Start
                let gc = LogisticRegression.gradientVectorized c.X c.Y c.Start
                let gg = LogisticRegression.gradientGraph c.X c.Y c.Start
                for name, g in [ "one loop", gb; "vectorized", gc; "matrix graph", gg ] do
                    same (name + " dw") ga.DW g.DW
                    same (name + " db, cost") [| ga.DB; ga.Cost |] [| g.DB; g.Cost |])
        testPropertyWithConfig { Generators.config with arbitrary = []; maxTest = 50 } "from the same start, all three reach the same parameters after 25 steps" <|
            Prop.forAll (Arb.fromGen genLogCase) (fun c ->
                let run g = LogisticRegression.fit g 0.1 0.0 25 c.X c.Y c.Start
                let a = run LogisticRegression.gradientLoops
                for name, g in [ "one loop", LogisticRegression.gradientLoop; "vectorized", LogisticRegression.gradientVectorized; "matrix graph", LogisticRegression.gradientGraph ] do
                    let r = run g
                    same (name + " w") a.Params.W r.Params.W
                    same (name + " b") [| a.Params.B |] [| r.Params.B |]
                    same (name + " costs") a.CostPerStep r.CostPerStep)
        test "the gradient is the notes' dz = a − y: checked against central differences" {
            let x = Matrix<float>.Build.DenseOfArray(array2D [ [ 0.5; -1.0; 2.0 ]; [ 1.5; 0.3; -0.7 ] ])
            let y = [| 1.0; 0.0; 1.0 |]
            let p = { W = [| 0.2; -0.4 |]; B = 0.1 }
            let g = LogisticRegression.gradientVectorized x y p
            let cost (p: LogisticParams) = (LogisticRegression.gradientVectorized x y p).Cost
            let h = 1e-6
            for j in 0 .. 1 do
                let bump d = { p with W = Array.mapi (fun k w -> if k = j then w + d else w) p.W }
                Expect.floatClose Accuracy.high g.DW.[j] ((cost (bump h) - cost (bump -h)) / (2.0 * h)) (sprintf "dw%d" (j + 1))
            Expect.floatClose Accuracy.high g.DB ((cost { p with B = p.B + h } - cost { p with B = p.B - h }) / (2.0 * h)) "db"
        }
        test "a saturated sigmoid costs a finite amount: no log(0)" {
            let x = Matrix<float>.Build.DenseOfArray(array2D [ [ 1.0; -1.0 ] ])
            let g = LogisticRegression.gradientVectorized x [| 0.0; 1.0 |] { W = [| 1000.0 |]; B = 0.0 }
            Expect.floatClose Accuracy.veryHigh g.Cost 1000.0 "cost = 1000 (both confidently wrong)"
            Expect.isTrue (Array.forall Double.IsFinite g.DW) "finite dw"
        }
        test "gradient descent stops when the parameters stop moving, and records the cost per step" {
            let x = Matrix<float>.Build.DenseOfArray(array2D [ [ -2.0; -1.0; 1.0; 2.0; 0.5; -0.5 ] ])
            let y = [| 0.0; 0.0; 1.0; 1.0; 0.0; 1.0 |]
            let fit = LogisticRegression.fit LogisticRegression.gradientVectorized 0.5 1e-8 100_000 x y (LogisticRegression.zeros 1)
            Expect.isTrue fit.Converged "converged"
            Expect.isLessThan fit.Steps 100_000 "before the limit"
            Expect.equal fit.CostPerStep.Length (fit.Steps + 1) "one cost per step, and the final one"
            Expect.isTrue (fit.CostPerStep |> Array.pairwise |> Array.forall (fun (a, b) -> b <= a + 1e-15)) "the cost never rises"
        }
        test "IDX: written and read back, raw and gzip" {
            for name in [ "a.idx"; "a.idx.gz" ] do
                let path = tempFile name
                try
                    Idx.writeBytes path [| 2; 3 |] [| 1uy; 2uy; 3uy; 4uy; 5uy; 6uy |]
                    let a = Idx.read path
                    Expect.equal a.Dimensions [| 2; 3 |] "dimensions"
                    Expect.equal a.Bytes [| 1uy; 2uy; 3uy; 4uy; 5uy; 6uy |] "bytes"
                finally File.Delete path
        }
        test "IDX: a corrupt file is named with its offset and what is wrong" {
            let path = tempFile "bad.idx"
            let message (bytes: byte[]) =
                File.WriteAllBytes(path, bytes)
                try Idx.read path |> ignore; "" with :? System.IO.InvalidDataException as e -> (if string e.Data.["path"] = path then DataFormat.problem e else "wrong path " + string e.Data.["path"])
            try
                Expect.stringContains (message [| 1uy; 2uy; 8uy; 1uy; 0uy; 0uy; 0uy; 1uy; 7uy |]) "bad magic number 0x01020801 at offset 0" "magic"
                Expect.stringContains (message [| 0uy; 0uy; 8uy; 1uy; 0uy; 0uy; 0uy; 5uy; 7uy |]) "truncated: the dimensions 5 need 5 bytes of data after the 8-byte header, but the file ends at offset 9" "truncated"
                Expect.stringContains (message [| 0uy; 0uy; 8uy; 1uy; 0uy; 0uy; 0uy; 1uy; 7uy; 9uy |]) "1 bytes after the end of the data at offset 9" "extra"
                Expect.stringContains (message [| 0uy; 0uy; 0x42uy; 1uy |]) "unknown IDX data type 0x42 at offset 2" "type"
                // a raw (not gzip) file's problem is told as it is, not wrapped as corrupt gzip data
                Expect.stringStarts (message [| 0uy; 0uy; 8uy; 1uy; 0uy; 0uy; 0uy; 5uy; 7uy |]) "truncated" "said once"
            finally File.Delete path
        }
        test "IDX: images and labels that disagree in count are refused" {
            let images, labels = tempFile "img.idx", tempFile "lbl.idx"
            try
                Idx.writeBytes images [| 3; 2; 2 |] (Array.zeroCreate 12)
                Idx.writeBytes labels [| 2 |] [| 0uy; 1uy |]
                let msg = try FashionMnist.readPair images labels |> ignore; "" with :? System.IO.InvalidDataException as e -> DataFormat.problem e
                Expect.stringContains msg "2 labels but" "count"
                Expect.stringContains msg "holds 3 images" "count"
            finally
                File.Delete images
                File.Delete labels
        }
        test "CSV: numbers read, a bad cell named by line and column" {
            let path = tempFile "t.csv"
            try
                File.WriteAllText(path, "x,y,label\n1,2.5,0\n-3,4e-1,1\n")
                let columns, rows = Csv.read path true
                Expect.equal columns [| "x"; "y"; "label" |] "header"
                Expect.equal rows [| [| 1.0; 2.5; 0.0 |]; [| -3.0; 0.4; 1.0 |] |] "rows"
                File.WriteAllText(path, "x,y\n1,2\n3,abc\n")
                let msg = try Csv.read path true |> ignore; "" with :? System.IO.InvalidDataException as e -> DataFormat.problem e
                Expect.equal msg "line 3, column 2 ('y'): 'abc' is not a number" "bad cell"
                File.WriteAllText(path, "x,y\n1,2,3\n")
                let msg = try Csv.read path true |> ignore; "" with :? System.IO.InvalidDataException as e -> DataFormat.problem e
                Expect.equal msg "line 2 has 3 cells where line 1 has 2" "ragged"
            finally File.Delete path
        }
        test "Fashion-MNIST (installed by the set-up): T-shirt/top vs Trouser above 95% on the test set" {
            if not (Directory.Exists FashionMnist.defaultDirectory) then
                failtest "Fashion-MNIST is not installed: run ./build.sh setup (apt-get install dataset-fashion-mnist)"
            let d = FashionMnist.load FashionMnist.defaultDirectory
            Expect.equal (d.Train.Count, d.Test.Count, d.Train.Rows, d.Train.Cols) (60000, 10000, 28, 28) "sizes"
            let x, y = FashionMnist.binary 0 1 d.Train
            let xt, yt = FashionMnist.binary 0 1 d.Test
            let fit = LogisticRegression.fit LogisticRegression.gradientVectorized 0.02 1e-6 100 x y (LogisticRegression.zeros 784)
            Expect.isGreaterThan (LogisticRegression.accuracy fit.Params xt yt) 0.95 "test accuracy"
        }
    ]
