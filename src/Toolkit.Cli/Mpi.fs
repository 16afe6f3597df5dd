/// MPI for `toolkit train --distributed`: the MPI.NET package over Debian's MPICH, started by
/// `mpiexec -n K`.
module Toolkit.Cli.Mpi

open System
open System.Diagnostics
open System.Runtime.InteropServices
open Toolkit.Training

/// MPI.NET was built for MS-MPI and loads `msmpi.dll`; MPICH shares MS-MPI's binary interface
/// (integer handles), so that name is given Debian's MPICH. (OpenMPI's interface differs.)
let private mapLibrary =
    lazy
        NativeLibrary.SetDllImportResolver(typeof<MPI.Communicator>.Assembly, DllImportResolver(fun name _ _ ->
            if name.StartsWith("msmpi", StringComparison.OrdinalIgnoreCase) then
                match NativeLibrary.TryLoad "libmpich.so.12" with
                | true, handle -> handle
                | _ -> IntPtr.Zero
            else IntPtr.Zero))

/// This process's place in an MPI run.
type World =
    { Rank: int
      Size: int
      /// The allreduce the training loop sums gradients with; it keeps the time spent in it.
      Sum: Train.IGradientSum
      /// Seconds spent summing so far (waiting for the other processes included).
      SumSeconds: unit -> float
      /// Makes every process hold rank 0's values.
      Broadcast: float[] -> unit
      /// Waits until every process has come here.
      Barrier: unit -> unit
      /// Ends MPI.
      Finish: unit -> unit }

/// Starts MPI in this process.
/// <exception cref="T:Toolkit.Cli.Grad.UserError">MPICH is not installed.</exception>
let start () : World =
    mapLibrary.Force()
    if not (NativeLibrary.TryLoad("libmpich.so.12") |> fst) then
        raise (Grad.UserError "--distributed needs MPICH (Debian: apt-get install mpich) and is started as mpiexec -n K toolkit train --distributed …")
    let mutable args = Environment.GetCommandLineArgs()
    let env = new MPI.Environment(&args)
    let world = MPI.Communicator.world
    let clock = Stopwatch()
    let sum (values: 'T[]) =
        clock.Start()
        let mutable result = Array.zeroCreate<'T> values.Length
        world.Allreduce(values, MPI.Operation<'T>.Add, &result)
        Array.blit result 0 values 0 values.Length
        clock.Stop()
    { Rank = world.Rank
      Size = world.Size
      Sum =
        { new Train.IGradientSum with
            member _.Rank = world.Rank
            member _.Size = world.Size
            member _.SumDouble a = sum a
            member _.SumSingle a = sum a }
      SumSeconds = fun () -> clock.Elapsed.TotalSeconds
      Broadcast = fun values ->
        let mutable v = values
        world.Broadcast<float>(&v, 0)
        if not (obj.ReferenceEquals(v, values)) then Array.blit v 0 values 0 values.Length
      Barrier = fun () -> world.Barrier()
      Finish = fun () -> env.Dispose() }
