#!/bin/sh
# Runs one libFuzzer harness as a CTest test: replays the seed corpus (and what earlier
# runs found), then fuzzes for $FUZZ_SECONDS seconds (default 5). New inputs go to
# <build>/fuzz-corpus/<target>, a crashing input to <build>/fuzz-artifacts/<target>-*;
# $FUZZ_ARGS adds libFuzzer flags (e.g. -max_len=65536).
#   run.sh <harness> <target> <seed corpus> <build dir> <dictionary>
set -eu
harness=$1 target=$2 seeds=$3 build=$4 dict=$5
work="$build/fuzz-corpus/$target"
artifacts="$build/fuzz-artifacts"
mkdir -p "$work" "$artifacts"
# -timeout: an input taking 10 s is a hang; -rss_limit_mb: 2 GB is a leak or a blow-up.
# shellcheck disable=SC2086
exec "$harness" -max_total_time="${FUZZ_SECONDS:-5}" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -dict="$dict" -artifact_prefix="$artifacts/$target-" ${FUZZ_ARGS:-} "$work" "$seeds"
