#!/usr/bin/env bash
# The one entry point: `./build.sh <target>` (see build.fsx for the targets).
# Sets up everything a fresh Debian machine with the .NET SDK needs, then runs the target.
set -euo pipefail
cd "$(dirname "$0")"
# Paket reads its feed from this variable (paket.dependencies says `source %NUGET_SOURCE%`),
# taken from the machine's own NuGet configuration, so no feed address is ever committed.
if [ -z "${NUGET_SOURCE:-}" ]; then
  NUGET_SOURCE=$(dotnet nuget list source --format short | awk '$1=="E" {print $2; exit}')
  export NUGET_SOURCE
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet tool restore >/dev/null
exec dotnet fsi build.fsx "$@"
