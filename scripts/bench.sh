#!/usr/bin/env bash
# The benchmarks: the scalar graph against a micrograd-style Python engine, and the linear
# algebra (logistic regression three ways, OpenBLAS against managed, GEMM against C), each side
# by side with its reference in the same run. Prints the tables and writes them into
# docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build tests/Toolkit.Benchmarks -c Release --nologo -v q
dotnet run --project tests/Toolkit.Benchmarks -c Release --no-build -- graph --write docs/performance.md
dotnet run --project tests/Toolkit.Benchmarks -c Release --no-build -- linalg --write docs/performance.md
dotnet build src/Toolkit.Cli -c Release --nologo -v q
dotnet run --project tests/Toolkit.Benchmarks -c Release --no-build -- train --write docs/performance.md
