#!/usr/bin/env bash
# The demo: validate the example profile (later: plan and apply the example
# ports tree with real isolation). Run as root via `make demo`.
set -euo pipefail
DSYNTH=${1:-bin/dsynth}
cd "$(dirname "$0")/.."
"$DSYNTH" validate examples/demo.hcl
