// The one place that references the built core; every other script #loads this file.
// Build first: ./build.sh build
#r "nuget: MathNet.Numerics, 5.0.0"
#r "nuget: System.Numerics.Tensors, 10.0.12"
#r "../src/Toolkit.Core/bin/Release/net10.0/Toolkit.Core.dll"
// interactive charts: Toolkit.Plot.Charts.… |> Plotly.NET.Chart.show, or Charts.save "x.html"
#r "nuget: Plotly.NET, 6.0.0"
#r "../src/Toolkit.Plot/bin/Release/net10.0/Toolkit.Plot.dll"

open Toolkit.Graph

// show expressions as text in F# interactive, not as nested union cases
fsi.AddPrinter<Expr>(fun e -> Print.text e)
