namespace Toolkit

open System

/// "Did you mean": the known name nearest to a misspelled one.
[<RequireQualifiedAccess>]
module Suggest =

    /// The edit distance between two words (insertions, deletions, substitutions, and swaps of
    /// two neighbouring letters), case-insensitive.
    let distance (a: string) (b: string) =
        let a, b = a.ToLowerInvariant(), b.ToLowerInvariant()
        let d = Array2D.zeroCreate (a.Length + 1) (b.Length + 1)
        for i in 0 .. a.Length do d.[i, 0] <- i
        for j in 0 .. b.Length do d.[0, j] <- j
        for i in 1 .. a.Length do
            for j in 1 .. b.Length do
                let cost = if a.[i - 1] = b.[j - 1] then 0 else 1
                let best = min (min (d.[i - 1, j] + 1) (d.[i, j - 1] + 1)) (d.[i - 1, j - 1] + cost)
                d.[i, j] <-
                    if i > 1 && j > 1 && a.[i - 1] = b.[j - 2] && a.[i - 2] = b.[j - 1] then min best (d.[i - 2, j - 2] + 1)
                    else best
        d.[a.Length, b.Length]

    /// <summary>The candidate nearest to <paramref name="word"/>, if it is close enough to be what
    /// was meant: at most a third of the word's letters (and at least one) differ.</summary>
    let closest (candidates: string seq) (word: string) : string option =
        if String.IsNullOrEmpty word then None
        else
            let limit = max 1 (word.Length / 3)
            candidates
            |> Seq.map (fun c -> c, distance word c)
            |> Seq.filter (fun (_, d) -> d <= limit)
            |> Seq.sortBy snd
            |> Seq.tryHead
            |> Option.map fst

    /// " (did you mean X?)" for the nearest candidate, or "".
    let didYouMean (candidates: string seq) (word: string) =
        match closest candidates word with
        | Some c -> sprintf " (did you mean %s?)" c
        | None -> ""
