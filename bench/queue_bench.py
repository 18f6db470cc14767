"""The persistent job queue, measured against a real server:
  python3 bench/queue_bench.py LOUPE_BIN
1. enqueue -> start latency with idle workers: 200 small jobs, one at a time, each
   waited for; the latency is the job's start time minus its create time, both taken
   by the server (microseconds).
2. 1,000 queued jobs survive a kill -9: a long search holds the only worker, 1,000
   jobs are queued behind it, the server is killed, restarted with 2 workers, and every
   job must finish exactly once.
"""
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "api"))
from loupe_server import LoupeServer  # noqa: E402

WINE = ["alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols", "flavanoids",
        "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue", "od280_od315_of_diluted_wines", "proline"]


def ts(s):
    return datetime.fromisoformat(s).timestamp()


def main():
    os.environ["LOUPE_BIN"] = sys.argv[1]
    d = tempfile.mkdtemp(prefix="loupe-queue-bench-")
    data = os.path.join(d, "data")
    try:
        srv = LoupeServer(data_dir=data, extra_args=["--workers", "2"]).start()
        wine = srv.post("/api/v1/dataset/samples/wine")[1]["data"]["id"]
        session = srv.post("/api/v1/model-session/", {"dataset_id": wine, "task_name": "TabularClassification",
                                                      "input_columns": WINE, "output_columns": ["cultivar"]})[1]["data"]["id"]
        # Explorer jobs are the smallest real jobs: a histogram of 178 values.
        latencies = []
        for _ in range(200):
            e = srv.post("/api/v1/explorer/", {"dataset_id": wine, "exploration_type": "HistogramExplorer",
                                               "columns": ["alcohol"]})[1]["data"]
            while True:
                j = srv.get(f"/api/v1/job/status/{e['job_id']}")[1]["data"]
                if j["status"] in ("FINISHED", "ERROR"):
                    break
                time.sleep(0.002)
            latencies.append((ts(j["started"]) - ts(j["created"])) * 1000)
        latencies.sort()
        print(f"enqueue->start with idle workers over {len(latencies)} jobs: median {statistics.median(latencies):.2f} ms, "
              f"p95 {latencies[int(0.95 * len(latencies))]:.2f} ms, max {latencies[-1]:.2f} ms")
        srv.stop()

        srv = LoupeServer(data_dir=data, extra_args=["--workers", "1"], port=srv.port).start()
        blocker = srv.post("/api/v1/run/", {"model_session_id": session, "model_name": "XGBoostClassifier",
                                            "parameters": {"n_estimators": 2000, "max_depth": {"optimize": True}},
                                            "optimizer_name": "RandomSearchOptimizer",
                                            "optimizer_parameters": {"n_trials": 1000}})[1]["data"]
        srv.post("/api/v1/job/", {"job_type": "ModelJob", "kwargs": {"run_id": blocker["id"]}})
        t0 = time.time()
        ids = []
        for _ in range(1000):
            e = srv.post("/api/v1/explorer/", {"dataset_id": wine, "exploration_type": "HistogramExplorer",
                                               "columns": ["alcohol"]})[1]["data"]
            ids.append(e["job_id"])
        enqueue_s = time.time() - t0
        queued = sum(1 for j in srv.get("/api/v1/job/?limit=10000")[1]["data"] if j["status"] == "NOT_STARTED")
        srv.kill9()
        t0 = time.time()
        srv = LoupeServer(data_dir=data, extra_args=["--workers", "2"], port=srv.port).start()
        restart_s = time.time() - t0
        while True:
            jobs = {j["id"]: j for j in srv.get("/api/v1/job/?limit=10000")[1]["data"]}
            if all(jobs[i]["status"] in ("FINISHED", "ERROR", "CANCELLED") for i in ids):
                break
            time.sleep(0.2)
        drained_s = time.time() - t0
        finished = sum(1 for i in ids if jobs[i]["status"] == "FINISHED")
        twice = sum(1 for i in ids if jobs[i]["attempts"] != 1)
        print(f"1,000 jobs enqueued in {enqueue_s:.2f} s; {queued} still queued at the kill -9; restart took "
              f"{restart_s:.2f} s; all final {drained_s:.2f} s after the restart: {finished} finished, "
              f"{twice} ran more than once")
        srv.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
