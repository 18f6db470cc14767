"""Hyperparameter search through the API, end to end (queue, training, trials stored,
plots drawn), and single runs of each model on the built-in samples:
  python3 bench/search_bench.py LOUPE_BIN
"""
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "api"))
from loupe_server import LoupeServer  # noqa: E402


def wait(srv, run_id):
    while True:
        r = srv.get(f"/api/v1/run/{run_id}")[1]["data"]
        if r["status"] in ("FINISHED", "ERROR"):
            return r
        time.sleep(0.05)


def session(srv, sample, task, output, inputs=None, seed=0):
    existing = [x for x in srv.get("/api/v1/dataset/")[1]["data"] if x["name"] == sample]
    ds = existing[0] if existing else srv.post(f"/api/v1/dataset/samples/{sample}")[1]["data"]
    cols = [c["name"] for c in ds["columns"] if c["name"] != output]
    body = {"dataset_id": ds["id"], "task_name": task, "input_columns": inputs or cols, "output_columns": [output],
            "validation_metrics": ["Accuracy", "F1"], "test_metrics": ["Accuracy", "F1"], "seed": seed}
    return srv.post("/api/v1/model-session/", body)[1]["data"]["id"]


def run(srv, sid, model, params=None, optimizer=None, opt_params=None, goal="Accuracy"):
    body = {"model_session_id": sid, "model_name": model, "parameters": params or {}, "goal_metric": goal}
    if optimizer:
        body.update(optimizer_name=optimizer, optimizer_parameters=opt_params or {})
    r = srv.post("/api/v1/run/", body)[1]["data"]
    t0 = time.time()
    srv.post("/api/v1/job/", {"job_type": "ModelJob", "kwargs": {"run_id": r["id"]}})
    out = wait(srv, r["id"])
    return out, time.time() - t0


def main():
    os.environ["LOUPE_BIN"] = sys.argv[1]
    d = tempfile.mkdtemp(prefix="loupe-search-bench-")
    try:
        srv = LoupeServer(data_dir=os.path.join(d, "data"), extra_args=["--workers", "1"]).start()
        wine = session(srv, "wine", "TabularClassification", "cultivar")
        space = {"max_depth": {"optimize": True, "lower_bound": 1, "upper_bound": 10},
                 "learning_rate": {"optimize": True, "lower_bound": 0.01, "upper_bound": 1},
                 "subsample": {"optimize": True, "lower_bound": 0.3, "upper_bound": 1},
                 "n_estimators": {"optimize": True, "lower_bound": 10, "upper_bound": 300}}
        print("== 50 trials of XGBoost on wine (4 tuned parameters), end to end through the queue")
        for opt in ("RandomSearchOptimizer", "GridSearchOptimizer", "DlibGlobalOptimizer"):
            extra = {"n_trials": 50, "points_per_parameter": 3} if opt == "GridSearchOptimizer" else {"n_trials": 50}
            r, secs = run(srv, wine, "XGBoostClassifier", space, opt, extra)
            plots = [k for k in ("history", "slice", "contour", "importance")
                     if srv.get(f"/api/v1/run/plot/{r['id']}/{k}")[0] == 200]
            print(f"{opt:22s} {r['status']}: {len(r['trials'])} trials in {secs:.1f} s, best validation Accuracy "
                  f"{r['result']['search']['best_value']:.4f}, test Accuracy {r['metrics']['test']['Accuracy']:.4f}, "
                  f"plots: {', '.join(plots)}")
        print("== single runs, default parameters (seeded 70/15/15 split, seed 0)")
        cases = [("breast_cancer", "TabularClassification", "diagnosis", None, ["XGBoostClassifier", "LogisticRegression", "LinearSVM"]),
                 ("wine", "TabularClassification", "cultivar", None, ["XGBoostClassifier", "LogisticRegression", "LinearSVM"]),
                 ("digits", "TabularClassification", "digit", None, ["XGBoostClassifier", "LogisticRegression"]),
                 ("fashion_mnist", "TabularClassification", "label", None, ["XGBoostClassifier", "LogisticRegression"]),
                 ("spam_assassin", "TextClassification", "label", ["text"], ["FastTextClassifier", "LogisticRegression", "LinearSVM"])]
        for sample, task, output, inputs, models in cases:
            sid = session(srv, sample, task, output, inputs)
            for m in models:
                r, secs = run(srv, sid, m)
                if r["status"] != "FINISHED":
                    print(f"{sample:14s} {m:20s} {r['status']}: {r['error']}")
                    continue
                t = r["metrics"]["test"]
                print(f"{sample:14s} {m:20s} test accuracy {t['Accuracy']:.4f}, macro-F1 {t['F1']:.4f}; "
                      f"training {r['result']['train_seconds']:.2f} s, job {secs:.2f} s")
        srv.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
