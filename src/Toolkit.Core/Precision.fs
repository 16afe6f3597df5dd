namespace Toolkit

open System
open System.Numerics

/// Conversions between a storage precision (float32 or float64) and the float64 the rules compute in.
module internal Precision =
    /// float → 'T
    let inline store<'T when 'T :> IFloatingPointIeee754<'T>> (v: float) : 'T = 'T.CreateTruncating v
    /// 'T → float
    let inline load<'T when 'T :> IFloatingPointIeee754<'T>> (v: 'T) : float = Double.CreateTruncating v
