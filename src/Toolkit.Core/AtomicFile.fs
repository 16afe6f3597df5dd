namespace Toolkit

open System
open System.IO
open System.Runtime.InteropServices

/// Writing files so that a crash never leaves a half-written file behind.
[<RequireQualifiedAccess>]
module AtomicFile =

    [<DllImport("libc", SetLastError = true)>]
    extern int private ``open``(string path, int flags)
    [<DllImport("libc", SetLastError = true)>]
    extern int private fsync(int fd)
    [<DllImport("libc", SetLastError = true)>]
    extern int private close(int fd)

    /// Flushes a folder's entries to disk (Linux): without it, a power loss just after a rename
    /// can lose the renamed file although its contents were flushed.
    let private syncFolder (dir: string) =
        if RuntimeInformation.IsOSPlatform OSPlatform.Linux then
            try
                let fd = ``open``(dir, 0x10000)     // O_RDONLY | O_DIRECTORY
                if fd >= 0 then
                    fsync fd |> ignore
                    close fd |> ignore
            with :? DllNotFoundException | :? EntryPointNotFoundException -> ()

    /// The temporary files of earlier writes of the same file whose process is gone (a kill -9
    /// in the middle of a write leaves one): named .NAME.PID.GUID.tmp.
    let private staleTemporaries (dir: string) (name: string) =
        Directory.GetFiles(dir, sprintf ".%s.*.tmp" name)
        |> Array.filter (fun f ->
            match Path.GetFileName(f).Substring(name.Length + 2).Split('.') with
            | [| pid; _; "tmp" |] ->
                match Int32.TryParse pid with
                | true, p when p <> Environment.ProcessId ->
                    try Diagnostics.Process.GetProcessById p |> ignore; false
                    with :? ArgumentException -> true      // no such process
                | _ -> false
            | _ -> false)

    /// <summary>Writes what <paramref name="write"/> puts into a stream to a temporary file beside
    /// <paramref name="path"/>, flushes it to disk, renames it over <paramref name="path"/> and
    /// flushes the folder: readers see the old file or the new one, never a part of it, and a
    /// power loss after the call keeps the new one. Temporary files left by writers that were
    /// killed are removed.</summary>
    let write (path: string) (write: Stream -> unit) =
        let full = Path.GetFullPath path
        let dir = Path.GetDirectoryName full
        if not (Directory.Exists dir) then
            raise (DirectoryNotFoundException(sprintf "cannot write '%s': the folder '%s' does not exist" path dir))
        let name = Path.GetFileName full
        let temp = Path.Combine(dir, sprintf ".%s.%d.%s.tmp" name Environment.ProcessId (Guid.NewGuid().ToString("N")))
        try
            using (new FileStream(temp, FileMode.CreateNew, FileAccess.Write)) (fun fs ->
                write fs
                fs.Flush(true))
            File.Move(temp, full, true)
            syncFolder dir
        finally
            if File.Exists temp then File.Delete temp
        for stale in staleTemporaries dir name do
            try File.Delete stale with :? IOException | :? UnauthorizedAccessException -> ()

    /// <summary>Writes a text, UTF-8 without a byte-order mark, atomically (see <see cref="write"/>).</summary>
    let writeAllText (path: string) (contents: string) =
        write path (fun fs ->
            use w = new StreamWriter(fs, System.Text.UTF8Encoding(false), 65536, true)
            w.Write contents
            w.Flush())

    /// <summary>Writes bytes atomically (see <see cref="write"/>).</summary>
    let writeAllBytes (path: string) (bytes: byte[]) = write path (fun fs -> fs.Write(bytes, 0, bytes.Length))
