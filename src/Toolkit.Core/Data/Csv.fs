namespace Toolkit.Data

open System
open System.Globalization
open System.IO

/// A numeric table read from CSV: one row per sample.
type CsvTable =
    { /// The column names (from the header, or c1, c2, … without one).
      Columns: string[]
      /// The values, one array per row.
      Rows: float[][] }

/// Reading numeric CSV files; a bad cell is reported with its line and column.
[<RequireQualifiedAccess>]
module Csv =

    /// <summary>Reads comma-separated numbers (invariant culture). With <paramref name="header"/>
    /// the first line names the columns. Every row must have as many cells as the first; a cell
    /// that is not a number is an error naming the file, the line and the column.</summary>
    let read (path: string) (header: bool) : CsvTable =
        if not (File.Exists path) then raise (FileNotFoundException(sprintf "%s: no such file" path, path))
        let lines = File.ReadAllLines path
        let fail line col fmt = Printf.kprintf (fun s -> raise (DataFormat.error path (sprintf "line %d, column %d: %s" line col s))) fmt
        let content = lines |> Array.mapi (fun i l -> i + 1, l) |> Array.filter (fun (_, l) -> l.Trim() <> "")
        if content.Length = 0 then raise (DataFormat.error path "the file is empty")
        let split (l: string) = l.Split(',') |> Array.map (fun c -> c.Trim())
        let names, data =
            if header then split (snd content.[0]), content.[1..]
            else Array.init (split (snd content.[0])).Length (fun i -> sprintf "c%d" (i + 1)), content
        let width = names.Length
        let rows =
            data
            |> Array.map (fun (lineNo, l) ->
                let cells = split l
                if cells.Length <> width then fail lineNo 1 "%d cells where the %s has %d" cells.Length (if header then "header" else "first row") width
                cells
                |> Array.mapi (fun j c ->
                    match Double.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture) with
                    | true, v -> v
                    | _ -> fail lineNo (j + 1) "'%s' is not a number" c))
        { Columns = names; Rows = rows }
