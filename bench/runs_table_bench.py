"""The runs table at sweep scale: RUNS runs (default 10,000) with 5 config keys and 5
metrics. Times, with 5 config and 5 metric columns: the table page (each of its 50 rows
with every metric's last value, min and max) plain, grouped by a config key, and sorted
by each run's minimum of a metric; the CSV export (every run's last, min and max; median
of 3); and the Sweep panel's data (last values, then minima). Wall time on loopback
(SwanLab-Process-Time is not on pages), median of 7. Target: <= 200 ms for the grouped
page at 10,000 runs.

Usage: python3 bench/runs_table_bench.py BUILD_DIR/loupe [RUNS=10000]"""
import concurrent.futures
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "api"))
from loupe_server import LoupeServer  # noqa: E402


def make_run(server, i):
    config = {"lr": [1e-4, 3e-4, 1e-3, 3e-3, 1e-2][i % 5], "batch_size": [32, 64, 128][i % 3],
              "optimizer": ["adam", "sgd", "adamw"][i % 3], "dropout": (i % 7) / 10, "seed": i}
    status, body, _ = server.request("POST", "/api/v1/experiments", {"project": "big-sweep", "name": f"run-{i}",
                                                                      "config": config})
    assert status == 201, body
    eid = body["data"]["id"]
    values = {k: (i % 97) / 97 + j for j, k in enumerate(["val/loss", "val/acc", "train/loss", "f1", "epoch"])}
    status, body, _ = server.request("POST", f"/api/v1/experiments/{eid}/metrics", {"steps": [{"step": 0, "values": values}]})
    assert status == 200, body
    server.request("POST", f"/api/v1/experiments/{eid}/finish", {"status": "finished"})
    return body


def timed(server, path, n=7):
    times = []
    for _ in range(n):
        start = time.perf_counter()
        status, body, _ = server.request("GET", path)
        times.append((time.perf_counter() - start) * 1000)
        assert status == 200, (path, str(body)[:300])
    return round(statistics.median(times), 1)


def main():
    os.environ["LOUPE_BIN"] = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    server = LoupeServer(extra_args=["--no-fsync", "--max-experiments", "0"]).start()
    try:
        start = time.time()
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda i: make_run(server, i), range(runs)))
        made = time.time() - start
        pid = server.request("GET", "/api/v1/projects")[1]["data"]["projects"][-1]["id"]
        cols = "cols=val/loss,val/acc,train/loss,f1,epoch&ccols=lr,batch_size,optimizer,dropout,seed"
        out = {"runs": runs, "made_s": round(made, 1),
               "table_ms": timed(server, f"/projects/{pid}?{cols}"),
               "grouped_table_ms": timed(server, f"/projects/{pid}?{cols}&group=optimizer"),
               "filtered_grouped_ms": timed(server, f"/projects/{pid}?{cols}&group=optimizer&q=lr%3E0.0005"),
               "min_sorted_table_ms": timed(server, f"/projects/{pid}?{cols}&sort=min:val/loss&dir=asc"),
               "csv_ms": timed(server, f"/projects/{pid}/experiments.csv?{cols}", n=3),
               "sweep_api_ms": timed(server, f"/api/v1/projects/{pid}/sweep?metric=val/loss&ccols=lr,batch_size,optimizer,dropout,seed"),
               "sweep_min_api_ms": timed(server, f"/api/v1/projects/{pid}/sweep?metric=val/loss&value=min&ccols=lr,batch_size,optimizer,dropout,seed")}
        print(json.dumps(out))
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
