namespace Toolkit.Data

open System.IO
open MathNet.Numerics.LinearAlgebra

/// Images and their labels: one IDX image file and one IDX label file that agree.
type LabelledImages =
    { /// The number of images.
      Count: int
      /// Rows of one image.
      Rows: int
      /// Columns of one image.
      Cols: int
      /// Values per pixel: 1 for grey images (rank-3 files), the fourth dimension of a rank-4
      /// file (count × rows × columns × channels) otherwise.
      Channels: int
      /// The pixels, image after image, row-major, each pixel's channels together, 0–255.
      Pixels: byte[]
      /// The label of each image.
      Labels: byte[] }
    /// The values of one image: rows × columns × channels.
    member s.Size = s.Rows * s.Cols * s.Channels

/// A training and a test set.
type DataSplit =
    { /// The training set.
      Train: LabelledImages
      /// The test set.
      Test: LabelledImages }

/// Fashion-MNIST (and anything in MNIST's file layout).
[<RequireQualifiedAccess>]
module FashionMnist =

    /// Where Debian's <c>dataset-fashion-mnist</c> puts it.
    let defaultDirectory = "/usr/share/datasets/fashion-mnist"

    /// The ten class names, by label.
    let classNames =
        [| "T-shirt/top"; "Trouser"; "Pullover"; "Dress"; "Coat"; "Sandal"; "Shirt"; "Sneaker"; "Bag"; "Ankle boot" |]

    /// <summary>The file <paramref name="stem"/>.gz or <paramref name="stem"/> in a folder (an
    /// error saying which were looked for when neither is there).</summary>
    let find (dir: string) (stem: string) =
        [ stem + ".gz"; stem ]
        |> List.map (fun f -> Path.Combine(dir, f))
        |> List.tryFind File.Exists
        |> Option.defaultWith (fun () ->
            raise (FileNotFoundException(sprintf "%s: neither %s.gz nor %s (install Debian's dataset-fashion-mnist, or pass the folder)" dir stem stem)))

    /// <summary>Reads one image file and its label file, checking they describe the same
    /// number of images.</summary>
    let readPair (imagesPath: string) (labelsPath: string) : LabelledImages =
        let images = Idx.read imagesPath
        let labels = Idx.read labelsPath
        let rank = images.Dimensions.Length
        if rank < 3 || rank > 4 then
            raise (DataFormat.error imagesPath (sprintf "expected images of rank 3 (count×rows×columns) or 4 (count×rows×columns×channels), found rank %d" rank))
        if images.Values.Length > 0 then
            raise (DataFormat.error imagesPath "expected unsigned-byte pixels (IDX type 08), found another type")
        if images.ItemSize = 0 then
            raise (DataFormat.error imagesPath (sprintf "the images are %s: empty" (System.String.Join("×", images.Dimensions |> Array.skip 1))))
        if labels.Dimensions.Length <> 1 || labels.Values.Length > 0 then
            raise (DataFormat.error labelsPath (sprintf "expected unsigned-byte labels of rank 1, found rank %d%s" labels.Dimensions.Length (if labels.Values.Length > 0 then " of another type" else "")))
        if images.Count <> labels.Count then
            raise (DataFormat.error labelsPath (sprintf "%d labels but %s holds %d images" labels.Count imagesPath images.Count))
        { Count = images.Count; Rows = images.Dimensions.[1]; Cols = images.Dimensions.[2]
          Channels = (if rank = 4 then images.Dimensions.[3] else 1); Pixels = images.Bytes; Labels = labels.Bytes }

    /// Reads the t10k-* images and labels (the test set alone) from a folder (gzip or raw).
    let loadTest (dir: string) : LabelledImages =
        readPair (find dir "t10k-images-idx3-ubyte") (find dir "t10k-labels-idx1-ubyte")

    /// Reads train-* and t10k-* images and labels from a folder (gzip or raw).
    let load (dir: string) : DataSplit =
        { Train = readPair (find dir "train-images-idx3-ubyte") (find dir "train-labels-idx1-ubyte")
          Test = loadTest dir }

    /// <summary>The images of two classes as the notes lay data out: X is pixels×samples,
    /// scaled to [0, 1]; Y is 1 for <paramref name="positive"/>, 0 for <paramref name="negative"/>.</summary>
    let binary (negative: int) (positive: int) (set: LabelledImages) : Matrix<float> * float[] =
        let picked = [| for i in 0 .. set.Count - 1 do if int set.Labels.[i] = negative || int set.Labels.[i] = positive then yield i |]
        let size = set.Size
        let data = Array.zeroCreate (size * picked.Length)
        picked |> Array.iteri (fun k i ->
            for p in 0 .. size - 1 do
                data.[p + k * size] <- float set.Pixels.[i * size + p] / 255.0)
        Matrix<float>.Build.Dense(size, picked.Length, data),
        picked |> Array.map (fun i -> if int set.Labels.[i] = positive then 1.0 else 0.0)
