#!/usr/bin/env bash
# The scalar-graph benchmark: Toolkit against a micrograd-style Python engine, same graphs,
# same run. Prints the table and writes it into docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build tests/Toolkit.Benchmarks -c Release --nologo -v q
dotnet run --project tests/Toolkit.Benchmarks -c Release --no-build -- graph --write docs/performance.md
