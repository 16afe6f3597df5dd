using Toolkit;
var a = Scalar.Variable("a", 5); var b = Scalar.Variable("b", 3); var c = Scalar.Variable("c", 2);
var J = 3 * (a + b * c);
var g = J.Backward();
Console.WriteLine($"J = {g.Value}, dJ/db = {g[b]}, {J.Derivative(b)}");   // J = 33, dJ/db = 6, 3 * c
