namespace Toolkit.Data

open System
open System.Globalization
open System.IO
open System.Text

/// A table read from CSV: one row per sample, cells as written (numbers are read on demand, so a
/// column of class names is a column like any other).
type CsvTable =
    { /// The file it came from (named in every error).
      Path: string
      /// The column names (from the header, or 1, 2, … without one).
      Columns: string[]
      /// The cells, one array per row, trimmed, quotes removed.
      Cells: string[][]
      /// The file's line number of each row (for errors).
      Lines: int[] }
    /// The number of rows.
    member t.Count = t.Cells.Length

/// Reading CSV files: commas, optional double quotes (a quoted cell may hold commas; "" is a quote),
/// a header line or not. A bad cell is reported with its file, line and column.
[<RequireQualifiedAccess>]
module Csv =

    let private fail path fmt = Printf.kprintf (fun s -> raise (DataFormat.error path s)) fmt

    /// One line's cells, or None when a quote is left open.
    let private split (line: string) : string[] option =
        let cells = ResizeArray<string>()
        let cell = StringBuilder()
        let mutable quoted = false
        let mutable i = 0
        while i < line.Length do
            let c = line.[i]
            if quoted then
                if c = '"' then
                    if i + 1 < line.Length && line.[i + 1] = '"' then cell.Append('"') |> ignore; i <- i + 1
                    else quoted <- false
                else cell.Append c |> ignore
            elif c = '"' && cell.ToString().Trim() = "" then cell.Clear() |> ignore; quoted <- true
            elif c = ',' then cells.Add(cell.ToString().Trim()); cell.Clear() |> ignore
            else cell.Append c |> ignore
            i <- i + 1
        cells.Add(cell.ToString().Trim())
        if quoted then None else Some(cells.ToArray())

    let private isNumber (s: string) =
        let ok, _ = Double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture)
        ok

    /// <summary>Reads a CSV file's cells. <paramref name="header"/>: Some true, the first line
    /// names the columns; Some false, it is data (the columns are named 1, 2, …); None, decided
    /// from the data: the first line is a header when one of its cells is not a number while the
    /// cell below it is (or when no cell of it is a number). Every row must have as many cells as
    /// the first line; blank lines are skipped.</summary>
    let readCells (path: string) (header: bool option) : CsvTable =
        if not (File.Exists path) then raise (FileNotFoundException(sprintf "%s: no such file" path, path))
        let rows = ResizeArray<string[]>()
        let lines = ResizeArray<int>()
        let mutable lineNo = 0
        for line in File.ReadLines path do
            lineNo <- lineNo + 1
            if line.Trim() <> "" then
                match split line with
                | Some cells ->
                    if rows.Count > 0 && cells.Length <> rows.[0].Length then
                        fail path "line %d has %d cells where line %d has %d" lineNo cells.Length lines.[0] rows.[0].Length
                    rows.Add cells
                    lines.Add lineNo
                | None -> fail path "line %d: a quote is opened and not closed" lineNo
        if rows.Count = 0 then fail path "the file is empty"
        let hasHeader =
            match header with
            | Some h -> h
            | None ->
                let first = rows.[0]
                Array.forall (isNumber >> not) first
                || (rows.Count > 1 && Array.exists2 (fun a b -> not (isNumber a) && isNumber b) first rows.[1])
        let columns, start = if hasHeader then rows.[0], 1 else Array.init rows.[0].Length (fun i -> string (i + 1)), 0
        if hasHeader then
            match columns |> Array.countBy id |> Array.tryFind (fun (_, n) -> n > 1) with
            | Some (name, _) -> fail path "the header names the column '%s' twice" name
            | None -> ()
        if rows.Count = start then fail path "the file has a header and no rows of data"
        { Path = path; Columns = columns; Cells = rows.GetRange(start, rows.Count - start).ToArray()
          Lines = lines.GetRange(start, lines.Count - start).ToArray() }

    /// <summary>The position of a column given by its name, or by its number counting from 1
    /// (as <c>cut</c> counts) when no column has that name.</summary>
    let column (t: CsvTable) (nameOrNumber: string) : int =
        match Array.tryFindIndex ((=) nameOrNumber) t.Columns with
        | Some i -> i
        | None ->
            match Int32.TryParse nameOrNumber with
            | true, k when k >= 1 && k <= t.Columns.Length -> k - 1
            | _ ->
                fail t.Path "no column is named '%s' (the columns: %s; or give a number from 1 to %d)%s"
                    nameOrNumber (String.Join(", ", t.Columns |> Array.truncate 20)) t.Columns.Length
                    (Toolkit.Suggest.didYouMean t.Columns nameOrNumber)

    /// <summary>The cell at a row and column as a finite number: a cell that is not a number, or is
    /// NaN, ±∞ or beyond the range of a double (1e400), is an error naming its line and column.</summary>
    let number (t: CsvTable) (row: int) (col: int) : float =
        let c = t.Cells.[row].[col]
        match Double.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture) with
        | true, v when Double.IsFinite v -> v
        | true, _ -> fail t.Path "line %d, column %d ('%s'): '%s' is not a finite number" t.Lines.[row] (col + 1) t.Columns.[col] c
        | _ -> fail t.Path "line %d, column %d ('%s'): '%s' is not a number" t.Lines.[row] (col + 1) t.Columns.[col] c

    /// <summary>Reads a file of numbers (every cell a finite number), with or without a header
    /// line: the rows as arrays.</summary>
    let read (path: string) (header: bool) : string[] * float[][] =
        let t = readCells path (Some header)
        t.Columns, Array.init t.Count (fun r -> Array.init t.Columns.Length (number t r))
