#!/usr/bin/env bash
# The soak benchmark (issue 9): a fresh Loupe server on a temporary data folder and a free
# port, 100 SDK-shaped writers and 100 dashboard-shaped pollers for 10 minutes
# (bench/soak/soak_load.cc), then every acknowledged point read back. Prints latency
# percentiles per request kind, errors, the server's RSS, descriptors and CPU, and the
# warnings the server logged; exits non-zero on any error or lost point.
#
#   bench/soak.sh [BUILD_DIR | LOUPE_BINARY]     (default build-bench, what `make bench` builds)
#
# Knobs (environment): SOAK_WRITERS=100 SOAK_POLLERS=100 SOAK_SECONDS=600 SOAK_KEYS=4
# SOAK_STEPS=10 (steps per flush) SOAK_FLUSH_MS=1000 SOAK_POLL_MS=1000; SOAK_ARGS adds
# soak_load options (see `soak_load --help`); SOAK_JSON=FILE keeps the results as JSON;
# SOAK_SERVE_ARGS adds `loupe serve` options; SOAK_KEEP=1 keeps the data folder and log.
# soak_load is taken from $SOAK_LOAD, else beside the loupe binary, else built with g++
# (a few seconds).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
arg=${1:-build-bench}
if [ -d "$arg" ]; then loupe="$(cd "$arg" && pwd)/loupe"; else loupe="$(cd "$(dirname "$arg")" && pwd)/$(basename "$arg")"; fi
[ -x "$loupe" ] || { echo "soak.sh: no loupe binary at $loupe (build it with make bench, or pass its path)" >&2; exit 2; }

work=$(mktemp -d /tmp/loupe-soak-XXXXXX)
data="$work/data"
log="$work/server.log"
pid=
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid" 2>/dev/null || true; fi
  if [ "${SOAK_KEEP:-0}" = 1 ]; then echo "kept $work (data/ and server.log)"; else rm -rf "$work"; fi
}
trap cleanup EXIT

load=${SOAK_LOAD:-$(dirname "$loupe")/soak_load}
if [ ! -x "$load" ]; then
  load="$work/soak_load"
  echo "== building soak_load (g++ -std=c++20 -O2)"
  g++ -std=c++20 -O2 -pthread -o "$load" "$root/bench/soak/soak_load.cc"
fi

mkdir -m 700 "$data"  # the server would warn about a folder others can read
# shellcheck disable=SC2086  # SOAK_SERVE_ARGS is a list of options
"$loupe" serve --port 0 --data-dir "$data" ${SOAK_SERVE_ARGS:-} > "$work/stdout" 2> "$log" &
pid=$!
port=
for _ in $(seq 100); do
  port=$(sed -n 's|^Loupe is serving http://[^:]*:\([0-9]*\).*|\1|p' "$work/stdout" 2>/dev/null | head -1)
  [ -n "$port" ] && [ -s "$data/local.token" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then echo "soak.sh: the server did not start:" >&2; cat "$work/stdout" "$log" >&2; exit 1; fi
echo "== soak: $("$loupe" version 2>/dev/null || true) pid $pid port $port, data in $data"

status=0
# shellcheck disable=SC2086  # SOAK_ARGS is a list of options
"$load" --port "$port" --data-dir "$data" --server-pid "$pid" \
  --writers "${SOAK_WRITERS:-100}" --pollers "${SOAK_POLLERS:-100}" --seconds "${SOAK_SECONDS:-600}" \
  --keys "${SOAK_KEYS:-4}" --steps-per-flush "${SOAK_STEPS:-10}" --flush-ms "${SOAK_FLUSH_MS:-1000}" \
  --poll-ms "${SOAK_POLL_MS:-1000}" ${SOAK_JSON:+--json "$SOAK_JSON"} ${SOAK_ARGS:-} || status=$?

echo "database: $(du -sh "$data" | cut -f1)"
# A clean stop is part of the soak: SIGTERM, then the exit status.
kill -TERM "$pid"
stop_status=0
wait "$pid" || stop_status=$?
pid=
echo "server stopped with status $stop_status"
[ "$stop_status" = 0 ] || status=1
warnings=$(grep -cE '^[^ ]+ (warning|error|critical) ' "$log" || true)
echo "server log: $warnings warnings or errors"
if [ "$warnings" != 0 ]; then
  grep -E '^[^ ]+ (warning|error|critical) ' "$log" | head -20
fi
exit "$status"
