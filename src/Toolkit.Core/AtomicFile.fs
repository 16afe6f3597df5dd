namespace Toolkit

open System.IO

/// Writing files so that a crash never leaves a half-written file behind.
[<RequireQualifiedAccess>]
module AtomicFile =

    /// <summary>Writes <paramref name="contents"/> to a temporary file beside
    /// <paramref name="path"/>, flushes it to disk, then renames it over <paramref name="path"/>:
    /// readers see the old file or the new one, never a part of it.</summary>
    let writeAllText (path: string) (contents: string) =
        let full = Path.GetFullPath path
        let dir = Path.GetDirectoryName full
        if not (Directory.Exists dir) then
            raise (DirectoryNotFoundException(sprintf "cannot write '%s': the folder '%s' does not exist" path dir))
        let temp = Path.Combine(dir, sprintf ".%s.%s.tmp" (Path.GetFileName full) (System.Guid.NewGuid().ToString("N")))
        try
            using (new FileStream(temp, FileMode.CreateNew, FileAccess.Write)) (fun fs ->
                use w = new StreamWriter(fs, System.Text.UTF8Encoding(false))
                w.Write contents
                w.Flush()
                fs.Flush(true))
            File.Move(temp, full, true)
        finally
            if File.Exists temp then File.Delete temp
