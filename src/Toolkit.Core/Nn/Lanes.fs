namespace Toolkit.Nn

open System
open System.Numerics
open System.Numerics.Tensors
open Toolkit
open Toolkit.Graph

/// <summary>
/// σ and tanh in SIMD lanes, each element's bits its own: they must not depend on the element's
/// neighbours, its place in the array or the array's address, or the threads, a batch's split and a
/// resumed run would change the last bits of a trained network. TensorPrimitives' σ and tanh are
/// such a function of the element alone on most inputs, but not on all (measured on its 10.0
/// release): a vector holding a NaN, an infinity or a float64 beyond about ±352 (tanh) or ±709 (σ)
/// is computed by a slower path, which changes the last bits of the other lanes, and which lanes
/// share a vector follows the address; spans shorter than a vector take a scalar path of their own.
/// So the lanes get only the values inside a bound (|z| ≤ 350 in float64, 80 in float32), spans
/// of at least 16 elements, and every element outside the bound is computed from the table of
/// derivatives on its own. The property "σ and tanh give an element the same bits wherever it
/// sits" in the tests holds this to account on the next release.
/// </summary>
module internal Lanes =

    /// Spans shorter than this are padded to it (with zeros, inside every bound).
    let private shortest = 16

    let private bound<'T when 'T :> IFloatingPointIeee754<'T>> () =
        Precision.store<'T> (if typeof<'T> = typeof<float> then 350.0 else 80.0)

    let private vectorised<'T when 'T :> IFloatingPointIeee754<'T>> (op: UnaryOp) (src: ReadOnlySpan<'T>) (dst: Span<'T>) =
        match op with
        | UnaryOp.Sigmoid -> TensorPrimitives.Sigmoid(src, dst)
        | UnaryOp.Tanh -> TensorPrimitives.Tanh(src, dst)
        | _ -> invalidArg "op" (sprintf "Lanes computes σ and tanh, not %A" op)

    // a[aOff ..] ← op(z[zOff ..]) for n ≥ shortest elements
    let private inLanes<'T when 'T :> IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>
            (op: UnaryOp) (z: 'T[]) (zOff: int) (a: 'T[]) (aOff: int) (n: int) =
        // a ← z, with the values outside the bound (and NaN) replaced by 0
        let limit = bound<'T> ()
        let limits = Vector<'T>(limit)
        let w = Vector<'T>.Count
        let e = n - n % w
        let mutable outside = false
        let mutable i = 0
        while i < e do
            let v = Vector<'T>(z, zOff + i)
            let inside = Vector.LessThanOrEqual(Vector.Abs v, limits)
            // NaN compares false, so a lane outside the bound or NaN leaves a zero in the mask
            if Vector.EqualsAny(inside, Vector<'T>.Zero) then outside <- true
            Vector.ConditionalSelect(inside, v, Vector<'T>.Zero).CopyTo(a, aOff + i)
            i <- i + w
        for i in e .. n - 1 do
            let v = z.[zOff + i]
            if 'T.op_LessThanOrEqual('T.Abs v, limit) then a.[aOff + i] <- v
            else
                outside <- true
                a.[aOff + i] <- 'T.Zero
        vectorised op (ReadOnlySpan<'T>(a, aOff, n)) (Span<'T>(a, aOff, n))
        // the few outside the bound, each on its own
        if outside then
            for i in 0 .. n - 1 do
                let v = z.[zOff + i]
                if not ('T.op_LessThanOrEqual('T.Abs v, limit)) then a.[aOff + i] <- Precision.store<'T> (Rules.unary op (Precision.load v))

    /// <summary>a[aOff ..] ← op(z[zOff ..]) for n elements, op σ or tanh; z and a are different arrays.</summary>
    let forward<'T when 'T :> IFloatingPointIeee754<'T> and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>
            (op: UnaryOp) (z: 'T[]) (zOff: int) (a: 'T[]) (aOff: int) (n: int) =
        if obj.ReferenceEquals(z, a) then invalidArg "a" "Lanes.forward needs z and a in different arrays"
        if n >= shortest then inLanes op z zOff a aOff n
        elif n > 0 then
            let padded, result = Array.zeroCreate<'T> shortest, Array.zeroCreate<'T> shortest
            Array.blit z zOff padded 0 n
            inLanes op padded 0 result 0 shortest
            Array.blit result 0 a aOff n
