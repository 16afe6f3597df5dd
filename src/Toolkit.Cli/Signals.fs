/// Interruptions: Ctrl-C (SIGINT) and SIGTERM (`kill`, `timeout`, `docker stop`, systemd) both
/// stop the work in hand at its next safe point, which keeps what it made, instead of ending
/// the process where it stands.
module Toolkit.Cli.Signals

open System
open System.Runtime.InteropServices
open System.Threading

/// The exit code of the interruption that came last: 130 for Ctrl-C, 143 for SIGTERM (128 + the
/// signal's number, as a shell reports a command a signal ended).
let mutable private code = 130

/// The exit code for an interrupted command (130 after Ctrl-C, 143 after SIGTERM).
let exitCode () = code

/// <summary>Cancels <paramref name="cts"/> on Ctrl-C or SIGTERM instead of ending the process;
/// <paramref name="onTerm"/> hears SIGTERM (a sweep passes it on to its runs). Dispose to
/// restore the defaults.</summary>
let onInterrupt (cts: CancellationTokenSource) (onTerm: unit -> unit) : IDisposable =
    let interrupt = Console.CancelKeyPress.Subscribe(fun e -> e.Cancel <- true; code <- 130; cts.Cancel())
    let term =
        try
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, fun context ->
                context.Cancel <- true
                code <- 143
                cts.Cancel()
                onTerm ())
        with :? PlatformNotSupportedException -> null
    { new IDisposable with
        member _.Dispose() =
            interrupt.Dispose()
            if not (isNull term) then term.Dispose() }

[<DllImport("libc", EntryPoint = "kill", SetLastError = true)>]
extern int private sendSignal(int pid, int signal)

/// Sends SIGTERM to a process (a sweep's run), so that it stops as `toolkit train` does on it;
/// nothing on Windows, which has no such signal.
let terminate (pid: int) =
    if not (OperatingSystem.IsWindows()) then sendSignal(pid, 15) |> ignore
