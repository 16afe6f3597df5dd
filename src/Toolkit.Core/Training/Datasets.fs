namespace Toolkit.Training

open System
open System.Globalization
open System.IO
open MathNet.Numerics.LinearAlgebra
open Toolkit.Data
open Toolkit.Nn

/// What the network is asked to predict.
[<RequireQualifiedAccess>]
type Task =
    /// One of these classes (a sample's class is its position here).
    | Classes of names: string[]
    /// One real number, the value of this column (regression, with the quadratic loss).
    | Regression of target: string

/// Which column of a table holds what is to be predicted.
[<RequireQualifiedAccess>]
type Target =
    /// A class label, by column name or number (from 1): numbers 0, 1, … or names.
    | Label of column: string
    /// A real-valued target, by column name or number (from 1).
    | Value of column: string

/// The layout of one sample's values when the samples are images: channel after channel, each
/// row-major (the shape convolutions take, and the pictures draw).
type ImageShape =
    { /// Rows of pixels.
      Rows: int
      /// Columns of pixels.
      Cols: int
      /// Values per pixel.
      Channels: int }
    /// The shape a network's first layer takes: channels × rows × columns.
    member s.Sample = Toolkit.Nn.SampleShape.Image(s.Channels, s.Rows, s.Cols)

/// Data as the commands and the C# facade take it: a training and a test set, what is predicted,
/// and the image layout if the samples are images.
type DataSet =
    { /// The samples trained on.
      Train: LabelledData
      /// The samples measured on.
      Test: LabelledData
      /// Classes (with their names) or regression.
      Task: Task
      /// The images' shape, when the samples are images.
      Image: ImageShape option }

/// Data sets of any shape: IDX images of any size, channel count and class count; CSV tables
/// with a label or a real-valued target column; class names from the data, a file or numbered.
[<RequireQualifiedAccess>]
module Datasets =

    let private fail path fmt = Printf.kprintf (fun s -> raise (DataFormat.error path s)) fmt

    /// The outputs a network needs for a task: one per class, or one value.
    let outputs (task: Task) = match task with Task.Classes n -> n.Length | Task.Regression _ -> 1

    /// The classes numbered 0 … count − 1, their names their numbers.
    let numbered (count: int) : string[] = Array.init count string

    /// <summary>Class names from a file, one per line (blank lines ignored): each must be
    /// different, and there must be at least two.</summary>
    let readClassNames (path: string) : string[] =
        if not (File.Exists path) then raise (FileNotFoundException(sprintf "%s: no such file" path, path))
        let names = File.ReadAllLines path |> Array.map (fun l -> l.Trim()) |> Array.filter (fun l -> l <> "")
        if names.Length < 2 then fail path "a class-name file needs at least two names, one per line; it has %d" names.Length
        match names |> Array.countBy id |> Array.tryFind (fun (_, n) -> n > 1) with
        | Some (name, _) -> fail path "the class '%s' is named twice" name
        | None -> names

    /// <summary>Refuses data whose float64 copy would not fit the memory the process may use (a
    /// clear error in place of running out of memory).</summary>
    let checkMemory (path: string) (samples: int) (features: int) =
        let need = int64 samples * int64 features * 8L
        let available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes
        if need > available / 2L then
            fail path "%d samples of %d values need %.1f GB as float64, more than half of the %.1f GB this process may use"
                samples features (float need / 1e9) (float available / 1e9)

    /// <summary>IDX images as samples: pixels scaled to [0, 1], one-hot over the named classes; a
    /// label outside them is an error naming the file and the image. The features are the image
    /// channel by channel (channels × rows × columns, as convolutions read them and PyTorch's
    /// ToTensor lays them out), where the file keeps each pixel's channels together.</summary>
    let ofImages (names: string[]) (path: string) (s: LabelledImages) : LabelledData =
        match s.Labels |> Array.tryFindIndex (fun l -> int l >= names.Length) with
        | Some i -> fail path "image %d has the label %d, outside the %d classes (0 to %d)" i s.Labels.[i] names.Length (names.Length - 1)
        | None -> ()
        // the pixels stay bytes (values pixel / 255 as training reads them): grey images are the
        // file's own array, colour ones reordered once
        let pixels =
            if s.Channels = 1 then s.Pixels
            else
                let area = s.Rows * s.Cols
                Array.init s.Pixels.Length (fun i ->
                    let image, k = i / s.Size, i % s.Size
                    s.Pixels.[image * s.Size + (k % area) * s.Channels + k / area])
        let labels = s.Labels |> Array.map int
        { X = Samples.OfPixels(s.Size, pixels); Y = Train.oneHot names.Length labels; Labels = labels }

    /// <summary>The classes of image sets: the given names, else the names in <c>classes.txt</c>
    /// beside the images, else Fashion-MNIST's when they come from its installed folder, else
    /// numbered: <paramref name="count"/> classes, or up to the largest label.</summary>
    let imageClasses (dir: string) (given: string[] option) (count: int option) (sets: LabelledImages list) : string[] =
        match given with
        | Some names -> names
        | None ->
            let file = Path.Combine(dir, "classes.txt")
            if File.Exists file then readClassNames file
            elif Path.GetFullPath(dir).TrimEnd('/') = FashionMnist.defaultDirectory then FashionMnist.classNames
            else
                match count with
                | Some k -> numbered k
                | None -> numbered (max 2 (1 + (sets |> List.map (fun s -> if s.Count = 0 then 0 else int (Array.max s.Labels)) |> List.max)))

    let private shapeOf (s: LabelledImages) = Some { Rows = s.Rows; Cols = s.Cols; Channels = s.Channels }

    let private labelFile dir stem = FashionMnist.find dir stem

    /// <summary>A folder of IDX files in MNIST's layout (train-images-idx3-ubyte, train-labels-…,
    /// t10k-…; gzip or raw) as a data set: images of any size and channel count, classes as
    /// <see cref="imageClasses"/> finds them.</summary>
    let images (dir: string) (classes: string[] option) : DataSet =
        let d = FashionMnist.load dir
        if d.Train.Size <> d.Test.Size then
            fail dir "the training images are %d×%d×%d and the test images %d×%d×%d" d.Train.Rows d.Train.Cols d.Train.Channels d.Test.Rows d.Test.Cols d.Test.Channels
        if d.Train.Count = 0 then fail (labelFile dir "train-images-idx3-ubyte") "the training set holds no images"
        let names = imageClasses dir classes None [ d.Train; d.Test ]
        { Train = ofImages names (labelFile dir "train-labels-idx1-ubyte") d.Train
          Test = ofImages names (labelFile dir "t10k-labels-idx1-ubyte") d.Test
          Task = Task.Classes names; Image = shapeOf d.Test }

    /// <summary>The test images of such a folder alone (what evaluation reads), classed into
    /// <paramref name="count"/> classes unless names are given or found.</summary>
    let imagesTest (dir: string) (classes: string[] option) (count: int) : LabelledData * Task * ImageShape option =
        let t = FashionMnist.loadTest dir
        let names = imageClasses dir classes (Some count) [ t ]
        ofImages names (labelFile dir "t10k-labels-idx1-ubyte") t, Task.Classes names, shapeOf t

    /// The most classes a label column may make.
    let maxClasses = 10_000

    let private isWhole (s: string) =
        match Int32.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture) with
        | true, v -> v >= 0
        | _ -> false

    /// <summary>The task a column sets, read from the tables that will use it (training and test
    /// together, so both number the classes alike): a label column of whole numbers 0 … k − 1 is k
    /// numbered classes; a column of names is its distinct names in ordinal order; given names
    /// are taken as they are.</summary>
    let csvTask (target: Target) (given: string[] option) (tables: CsvTable list) : Task =
        match target with
        | Target.Value column ->
            let t = List.head tables
            Task.Regression t.Columns.[Csv.column t column]
        | Target.Label column ->
            match given with
            | Some names -> Task.Classes names
            | None ->
                let t = List.head tables
                let cells = tables |> List.collect (fun t -> let c = Csv.column t column in [ for row in t.Cells -> row.[c] ])
                let names =
                    if cells |> List.forall isWhole then
                        let largest = cells |> List.map int |> List.max
                        // classes are numbered from 0: a label in the millions is likely not a label
                        if largest >= maxClasses then
                            fail t.Path "the label column '%s' holds %d, which would make %d classes (numbered from 0; at most %d): is it the label column?"
                                t.Columns.[Csv.column t column] largest (largest + 1) maxClasses
                        numbered (1 + largest)
                    else cells |> List.distinct |> List.sortWith (fun a b -> String.CompareOrdinal(a, b)) |> Array.ofList
                if names.Length > maxClasses then
                    fail t.Path "the label column '%s' holds %d different values, more than %d classes: is it the label column?" t.Columns.[Csv.column t column] names.Length maxClasses
                if names.Length < 2 then
                    fail t.Path "the label column '%s' holds one class only ('%s'): there is nothing to tell apart" t.Columns.[Csv.column t column] names.[0]
                Task.Classes names

    /// <summary>A table as samples: every column but the target is a feature (a finite number);
    /// the target is a class (by name, or by number when the classes are numbered) one-hot, or a
    /// real number. Errors name the file, line and column.</summary>
    let ofCsv (task: Task) (targetColumn: string) (t: CsvTable) : LabelledData =
        let c = Csv.column t targetColumn
        let features = [| for j in 0 .. t.Columns.Length - 1 do if j <> c then yield j |]
        if features.Length = 0 then fail t.Path "the table has no columns besides the target '%s'" t.Columns.[c]
        checkMemory t.Path t.Count features.Length
        let n = t.Count
        let x = Array.zeroCreate (features.Length * n)
        for r in 0 .. n - 1 do
            for k in 0 .. features.Length - 1 do
                x.[r * features.Length + k] <- Csv.number t r features.[k]
        let x = Samples.OfValues(features.Length, x)
        match task with
        | Task.Regression _ ->
            { X = x; Y = Matrix<float>.Build.Dense(1, n, Array.init n (fun r -> Csv.number t r c)); Labels = [||] }
        | Task.Classes names ->
            let index = names |> Array.mapi (fun i name -> name, i) |> dict
            let labels =
                Array.init n (fun r ->
                    let cell = t.Cells.[r].[c]
                    match index.TryGetValue cell with
                    | true, i -> i
                    | _ ->
                        match Int32.TryParse(cell, NumberStyles.Integer, CultureInfo.InvariantCulture) with
                        | true, i when i >= 0 && i < names.Length -> i
                        | _ ->
                            fail t.Path "line %d, column %d ('%s'): '%s' is not one of the %d classes (%s)" t.Lines.[r] (c + 1) t.Columns.[c] cell
                                names.Length (String.Join(", ", Array.truncate 12 names)))
            { X = x; Y = Train.oneHot names.Length labels; Labels = labels }

    /// <summary>Splits samples in two by a seeded shuffle: the first part holds
    /// <paramref name="fraction"/> of them (at least one), the second the rest.</summary>
    let split (fraction: float) (seed: int) (d: LabelledData) : LabelledData * LabelledData =
        let n = d.X.ColumnCount
        let order = Array.init n id
        Train.shuffle (Random(seed)) order
        let k = max 1 (min (n - 1) (int (Math.Round(fraction * float n))))
        let pick (idx: int[]) =
            { X = d.X.Columns idx; Y = Train.columns d.Y idx
              Labels = if d.Labels.Length = 0 then [||] else idx |> Array.map (fun i -> d.Labels.[i]) }
        pick (Array.sort order.[.. k - 1]), pick (Array.sort order.[k ..])

    /// <summary>Each feature's mean and standard deviation over the samples (a constant feature's
    /// deviation is taken as 1, so it maps to 0).</summary>
    let moments (d: LabelledData) : float[] * float[] =
        let x = d.X.ToMatrix()
        let n = float x.ColumnCount
        let mean = Array.init x.RowCount (fun i -> x.Row(i).Sum() / n)
        let sd =
            Array.init x.RowCount (fun i ->
                let s = sqrt (x.Row(i) |> Seq.sumBy (fun v -> (v - mean.[i]) * (v - mean.[i])) |> fun q -> q / n)
                if s > 0.0 then s else 1.0)
        mean, sd

    /// <summary>The samples with each feature standardised: (x − mean)/scale.</summary>
    let standardise (mean: float[]) (scale: float[]) (d: LabelledData) : LabelledData =
        let x = d.X.ToMatrix()
        { d with X = Samples.OfMatrix(Matrix<float>.Build.Dense(x.RowCount, x.ColumnCount, fun i j -> (x.[i, j] - mean.[i]) / scale.[i])) }

    /// <summary>A CSV table as a data set: the target column as <paramref name="target"/> says;
    /// the test set is <paramref name="testPath"/> (the same columns) if given, else
    /// <paramref name="testFraction"/> of the rows held out by a seeded shuffle.</summary>
    let csv (path: string) (testPath: string option) (testFraction: float) (seed: int) (target: Target)
                (header: bool option) (classes: string[] option) : DataSet =
        let t = Csv.readCells path header
        let tt = testPath |> Option.map (fun p -> Csv.readCells p header)
        match tt with
        | Some tt when tt.Columns <> t.Columns ->
            fail tt.Path "the columns (%s) are not those of %s (%s)" (String.Join(", ", Array.truncate 12 tt.Columns)) path (String.Join(", ", Array.truncate 12 t.Columns))
        | _ -> ()
        let task = csvTask target classes (t :: Option.toList tt)
        let column = match target with Target.Label c | Target.Value c -> c
        let data = ofCsv task column t
        let train, test =
            match tt with
            | Some tt -> data, ofCsv task column tt
            | None ->
                if t.Count < 2 then fail path "one row is too few to hold some out for testing; give a test file"
                let test, train = split testFraction seed data
                train, test
        { Train = train; Test = test; Task = task; Image = None }

    /// <summary>A CSV table as one set of samples (what evaluation reads), with the task given
    /// (a saved model's classes) or read from the table.</summary>
    let csvTest (path: string) (target: Target) (header: bool option) (classes: string[] option) : LabelledData * Task =
        let t = Csv.readCells path header
        let task = csvTask target classes [ t ]
        let column = match target with Target.Label c | Target.Value c -> c
        ofCsv task column t, task
