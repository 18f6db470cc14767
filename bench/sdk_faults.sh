#!/usr/bin/env bash
# The long run of the randomized fault test (tests/sdk/fault_test.py): SDK scripts log
# their own ground truth while the server is killed with SIGKILL and restarted at
# random; every value, console line, image and config key must arrive exactly once.
# Usage: bench/sdk_faults.sh [BUILD_DIR]   (knobs: LOUPE_FAULT_SEED, _SCRIPTS, _STEPS, _ROUNDS)
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
export LOUPE_BIN="$build/loupe" PYTHONPATH="$root/sdk/python"
export LOUPE_FAULT_SCRIPTS=${LOUPE_FAULT_SCRIPTS:-4} LOUPE_FAULT_STEPS=${LOUPE_FAULT_STEPS:-5000}
export LOUPE_FAULT_ROUNDS=${LOUPE_FAULT_ROUNDS:-10}
cd "$root/tests/sdk" && /usr/bin/python3 -m unittest -v fault_test
