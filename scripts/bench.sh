#!/usr/bin/env bash
# The benchmarks: the scalar graph against a micrograd-style Python engine and PyTorch's autograd,
# the linear algebra (logistic regression three ways, OpenBLAS against managed, GEMM against C),
# training the notes' networks against NumPy and PyTorch, and the scaling by width, batch and
# threads; each side by side with its reference in the same run. Prints the tables and writes
# them (and the scaling charts, docs/img) into docs/performance.md. Run nothing else meanwhile:
# the machine's two cores are part of what is measured.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build tests/Toolkit.Benchmarks -c Release --nologo -v q
dotnet run --project tests/Toolkit.Benchmarks -c Release --no-build -- machine --write docs/performance.md
dotnet run --project tests/Toolkit.Benchmarks -c Release --no-build -- graph --write docs/performance.md
dotnet build tests/Toolkit.CSharpBench -c Release --nologo -v q
dotnet run --project tests/Toolkit.Benchmarks -c Release --no-build -- csharp --write docs/performance.md
dotnet run --project tests/Toolkit.Benchmarks -c Release --no-build -- linalg --write docs/performance.md
dotnet build src/Toolkit.Cli -c Release --nologo -v q
dotnet run --project tests/Toolkit.Benchmarks -c Release --no-build -- train --write docs/performance.md
dotnet run --project tests/Toolkit.Benchmarks -c Release --no-build -- activations --write docs/performance.md
dotnet run --project tests/Toolkit.Benchmarks -c Release --no-build -- scale --write docs/performance.md
dotnet run --project tests/Toolkit.Benchmarks -c Release --no-build -- accuracy --write docs/performance.md
dotnet run --project tests/Toolkit.Benchmarks -c Release --no-build -- cnn --write docs/performance.md
