"""No-code results a careful data scientist can trust, over HTTP against a live server:
the wizard's guess leaves ids out, every run carries a baseline and says when it does
not beat it, a one-click leaderboard trains every fitting model, yes/no labels stay
yes/no, fastText logs its real loss, and a search shows its progress and keeps the
fastest of equal trials."""
import json
import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "api"))
from loupe_server import LoupeServer, multipart  # noqa: E402

WINE_FEATURES = ["alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols", "flavanoids",
                 "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue", "od280_od315_of_diluted_wines",
                 "proline"]


def customers_csv():
    """400 customers: an id, mixed types, missing ages, a yes/no target (115 yes)."""
    cities, plans = ["Lisbon", "Porto", "Braga", "Faro"], ["basic", "plus", "pro"]
    lines = ["customer_id,age,city,plan,monthly_spend,churn"]
    for i in range(400):
        age = "" if i % 37 == 0 else str(20 + i % 50)
        # churn follows the plan and spend, so a tabular model can learn it
        spend = 10 + (i * 7) % 90
        churn = "yes" if (plans[i % 3] == "basic" and spend > 40) or i % 7 == 0 else "no"
        lines.append(f"C{i + 1:04d},{age},{cities[i % 4]},{plans[i % 3]},{spend}.5,{churn}")
    return "\n".join(lines) + "\n"


class TrustApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="loupe-trust-")
        cls.server = LoupeServer(data_dir=os.path.join(cls.dir, "data"), extra_args=["--workers", "2"]).start()
        status, body, _ = cls.server.post("/api/v1/dataset/samples/wine")
        assert status == 201, body
        cls.wine = body["data"]["id"]
        form, ctype = multipart({"name": "customers"}, {"file": ("customers.csv", customers_csv().encode())})
        status, body, _ = cls.server.request("POST", "/api/v1/dataset/", raw=form, headers={"Content-Type": ctype})
        assert status == 201, body
        cls.customers = body["data"]["id"]

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def call(self, method, path, body=None, expect=200):
        if method == "GET":
            status, out, _ = self.server.get(path)
        else:
            status, out, _ = self.server.request(method, path, body)
        self.assertEqual(status, expect, out)
        return out["data"] if isinstance(out, dict) and "data" in out else out

    def wait_run(self, run_id, timeout=180):
        deadline = time.time() + timeout
        while time.time() < deadline:
            r = self.call("GET", f"/api/v1/run/{run_id}")
            if r["status"] in ("FINISHED", "ERROR", "CANCELLED"):
                return r
            time.sleep(0.1)
        self.fail(f"run {run_id} did not finish")

    def train(self, session_id, model, parameters=None, **extra):
        body = {"model_session_id": session_id, "model_name": model, "parameters": parameters or {}}
        body.update(extra)
        run = self.call("POST", "/api/v1/run/", body, 201)
        self.call("POST", "/api/v1/job/", {"job_type": "ModelJob", "kwargs": {"run_id": run["id"]}}, 201)
        return self.wait_run(run["id"])

    def session(self, dataset, task, inputs, output, **extra):
        body = {"dataset_id": dataset, "task_name": task, "input_columns": inputs, "output_columns": [output],
                "validation_metrics": ["Accuracy", "F1"], "test_metrics": ["Accuracy", "ROCAUC"], "seed": 1}
        body.update(extra)
        return self.call("POST", "/api/v1/model-session/", body, 201)

    def test_the_guess_leaves_the_id_out_and_shows_the_class_balance(self):
        g = self.call("GET", f"/api/v1/dataset/{self.customers}/session-guess")
        self.assertEqual(g["task"], "TabularClassification")
        self.assertEqual(g["output"], "churn")
        self.assertEqual(g["inputs"], ["age", "city", "plan", "monthly_spend"])
        self.assertEqual(g["left_out"], [{"column": "customer_id", "reason": "an id (400 of 400 values distinct)"}])
        churn = [l.split(",")[-1] for l in customers_csv().splitlines()[1:]]
        expected = sorted(((c, churn.count(c)) for c in set(churn)), key=lambda x: -x[1])
        self.assertEqual([(b["class"], b["count"]) for b in g["class_balance"]], expected)
        self.assertAlmostEqual(g["class_balance"][0]["share"], expected[0][1] / 400, places=12)
        g = self.call("GET", f"/api/v1/dataset/{self.customers}/session-guess?output=city")
        self.assertEqual((g["output"], g["task"]), ("city", "TabularClassification"))
        self.assertEqual([b["class"] for b in g["class_balance"]], ["Braga", "Faro", "Lisbon", "Porto"])  # ties by name
        self.assertEqual([b["count"] for b in g["class_balance"]], [100, 100, 100, 100])
        status, out, _ = self.server.get(f"/api/v1/dataset/{self.customers}/session-guess?output=nope")
        self.assertEqual((status, out["message"]), (422, f'output: no column "nope" in dataset {self.customers}'))
        status, out, _ = self.server.get("/api/v1/dataset/999999/session-guess")
        self.assertEqual(status, 404, out)
        status, out, _ = self.server.get("/api/v1/dataset/abc/session-guess")
        self.assertEqual(status, 422, out)

    def test_an_id_only_model_is_flagged_as_no_better_than_the_baseline(self):
        # The case: fastText fed only customer_id predicts the majority class.
        s = self.session(self.customers, "TextClassification", ["customer_id"], "churn")
        self.assertEqual(s["classes"], ["no", "yes"])  # as written, not true/false
        r = self.train(s["id"], "FastTextClassifier")
        self.assertEqual(r["status"], "FINISHED", r.get("error"))
        b = r["result"]["baseline"]
        self.assertTrue(b["strategy"].startswith('always the majority class "no" ('), b["strategy"])
        self.assertEqual(r["metrics"]["test"]["Accuracy"], b["metrics"]["test"]["Accuracy"])
        self.assertEqual(b["metrics"]["test"]["ROCAUC"], 0.5)
        self.assertEqual(b["verdict"], {"split": "test", "metric": "Accuracy", "beats": False})
        status, page, _ = self.server.request("GET", f"/runs/{r['id']}")
        self.assertEqual(status, 200)
        html = page.decode() if isinstance(page, bytes) else page
        self.assertIn('id="baseline-warning"', html)
        self.assertIn("No better than the baseline.", html)
        # Other validation/test numbers that beat the baseline are named (a tie on one
        # metric of a small split can be one answer); with none, nothing was learned.
        others = [f"{split} {m}" for split in ("validation", "test") for m, beat in sorted(b["beats"].get(split, {}).items())
                  if beat and (split, m) != ("test", "Accuracy")]
        if others:
            self.assertIn("These do beat it: " + ", ".join(others) + f"; with {r['result']['rows']['test']} test rows", html)
        else:
            self.assertIn("The model has learned nothing useful from its inputs", html)

    def test_a_good_model_beats_the_baseline_and_yes_no_labels_stay_yes_no(self):
        s = self.session(self.customers, "TabularClassification", ["age", "city", "plan", "monthly_spend"], "churn")
        r = self.train(s["id"], "XGBoostClassifier", {"n_estimators": 50, "max_depth": 3})
        self.assertEqual(r["status"], "FINISHED", r.get("error"))
        b = r["result"]["baseline"]
        self.assertTrue(b["verdict"]["beats"], (r["metrics"], b["metrics"]))
        self.assertGreater(r["metrics"]["test"]["Accuracy"], b["metrics"]["test"]["Accuracy"])
        out = self.call("POST", f"/api/v1/run/{r['id']}/predict",
                        {"rows": [{"age": 30, "city": "Porto", "plan": "basic", "monthly_spend": 80.5}]})
        p = out["predictions"][0]
        self.assertIn(p["label"], ("yes", "no"))
        self.assertEqual(set(p["probabilities"]), {"yes", "no"})
        status, page, _ = self.server.request("GET", f"/runs/{r['id']}")
        html = page.decode() if isinstance(page, bytes) else page
        self.assertNotIn('id="baseline-warning"', html)
        self.assertIn("Baseline: always the majority class", html)
        self.check_prediction_warnings_and_csv(r["id"])

    def check_prediction_warnings_and_csv(self, run_id):
        # An unseen city and blank inputs are predicted, and said so, row by row.
        out = self.call("POST", f"/api/v1/run/{run_id}/predict", {"rows": [
            {"age": 30, "city": "Tokyo", "plan": "basic", "monthly_spend": 80.5},
            {"city": "Porto"},
            {"age": 51, "city": "Lisbon", "plan": "pro", "monthly_spend": 12.5}]})
        p = out["predictions"]
        self.assertEqual(p[0]["warnings"], ['city "Tokyo" was not seen in training: it counts as none of the 4 known categories'])
        self.assertEqual(p[1]["warnings"], ["age is blank: predicted as a missing value",
                                            "plan is blank: predicted as a missing value",
                                            "monthly_spend is blank: predicted as a missing value"])
        self.assertNotIn("warnings", p[2])
        self.assertEqual(out["warnings"], {"blank": {"age": 1, "plan": 1, "monthly_spend": 1},
                                           "unseen_categories": {"city": {"rows": 1, "values": ["Tokyo"]}},
                                           "unconverted": {}})
        # A value not of its column's type is predicted as missing too, and said so.
        odd = self.call("POST", f"/api/v1/run/{run_id}/predict", {"rows": [
            {"age": "thirty", "city": "Porto", "plan": "basic", "monthly_spend": 80.5}]})
        self.assertEqual(odd["predictions"][0]["warnings"], ['age "thirty" is not a numeric value: predicted as a missing value'])
        self.assertEqual(odd["warnings"]["unconverted"], {"age": {"rows": 1, "values": ["thirty"]}})
        blank = self.call("POST", f"/api/v1/run/{run_id}/predict", {"rows": [
            {"city": "Porto", "plan": "basic", "monthly_spend": 80.5}]})
        self.assertEqual(odd["predictions"][0]["label"], blank["predictions"][0]["label"])
        self.assertEqual(odd["predictions"][0]["probabilities"], blank["predictions"][0]["probabilities"])
        # A file's predictions as CSV: its columns as sent, the prediction, each class's probability.
        csv = ("customer_id,age,city,plan,monthly_spend\nX1,30,Tokyo,basic,-80.5\nX2,,Porto,\"pro, annual\",12\n"
               "X3,\" 41\",Porto,basic,\"5\r\"\nX4,+3,Porto,basic,-inf\n")
        form, ctype = multipart({}, {"file": ("new.csv", csv.encode())})
        status, raw, headers = self.server.request("POST", f"/api/v1/run/{run_id}/predict?format=csv", raw=form,
                                                   headers={"Content-Type": ctype})
        self.assertEqual(status, 200, raw)
        self.assertEqual({k.lower(): v for k, v in headers.items()}["content-type"], "text/csv; charset=utf-8")
        text = raw.decode() if isinstance(raw, bytes) else raw
        lines = text.split("\r\n")
        self.assertEqual(lines[0], "customer_id,age,city,plan,monthly_spend,predicted_churn,probability no,probability yes,warnings")
        form2, ctype2 = multipart({}, {"file": ("new.csv", csv.encode())})
        status, as_json, _ = self.server.request("POST", f"/api/v1/run/{run_id}/predict", raw=form2,
                                                 headers={"Content-Type": ctype2})
        preds = as_json["data"]["predictions"]
        import csv as csvmod
        import io
        rows = list(csvmod.reader(io.StringIO(text, newline="")))
        self.assertEqual(len(rows), 5)
        # Only plain decimal numbers go out as written; " 41", "5\r", "+3" and "-inf" are
        # quoted and guarded, so no row breaks and no spreadsheet reads a formula.
        self.assertEqual(rows[3][1], " 41")
        self.assertEqual(rows[3][4], "5\r")
        self.assertEqual(rows[4][1], "'+3")
        self.assertEqual(rows[4][4], "'-inf")
        self.assertEqual(rows[4][8], "monthly_spend -inf is not a finite number: predicted as a missing value")
        status, out, _ = self.server.request("POST", f"/api/v1/run/{run_id}/predict?format=csv", {"rows": [{"age": 1}]})
        self.assertEqual((status, out["message"]),
                         (422, 'format=csv takes a multipart "file"; rows sent as JSON are answered as JSON'))
        self.assertEqual(rows[1][:5], ["X1", "30", "Tokyo", "basic", "-80.5"])  # a negative number stays a number
        self.assertEqual(rows[2][:5], ["X2", "", "Porto", "pro, annual", "12"])
        for row, pred in zip(rows[1:], preds):
            self.assertEqual(row[5], pred["label"])
            self.assertEqual(float(row[6]), pred["probabilities"]["no"])
            self.assertEqual(float(row[7]), pred["probabilities"]["yes"])
        self.assertEqual(rows[1][8], 'city "Tokyo" was not seen in training: it counts as none of the 4 known categories')
        self.assertIn("age is blank", rows[2][8])
        self.assertIn('plan "pro, annual" was not seen', rows[2][8])
        status, out, _ = self.server.request("POST", f"/api/v1/run/{run_id}/predict?format=xml", raw=form,
                                             headers={"Content-Type": ctype})
        self.assertEqual((status, out["message"]), (422, "format must be json or csv"))

    def test_one_click_leaderboard_trains_every_fitting_model_once(self):
        s = self.session(self.wine, "TabularClassification", WINE_FEATURES, "cultivar")
        out = self.call("POST", f"/api/v1/model-session/{s['id']}/leaderboard", None, 201)
        models = [r["model"] for r in out["runs"]]
        self.assertEqual(models, ["XGBoostClassifier", "LogisticRegression", "LinearSVM"])
        self.assertTrue(all("job_id" in r for r in out["runs"]), out)
        for r in out["runs"]:
            self.assertEqual(self.wait_run(r["run_id"])["status"], "FINISHED")
        # Clicked twice at once: still one run per model.
        import threading
        results = []
        def click():
            st, out, _ = self.server.request("POST", f"/api/v1/model-session/{s['id']}/leaderboard")
            results.append((st, out))
        clicks = [threading.Thread(target=click) for _ in range(3)]
        for t in clicks:
            t.start()
        for t in clicks:
            t.join()
        self.assertTrue(all(st == 201 for st, _ in results), results)
        again = self.call("POST", f"/api/v1/model-session/{s['id']}/leaderboard", None, 201)
        self.assertTrue(all(r.get("skipped") for r in again["runs"]), again)
        self.assertEqual(len(self.call("GET", f"/api/v1/run/?model_session_id={s['id']}")), 3)
        board = self.call("GET", f"/api/v1/model-session/{s['id']}/leaderboard")
        self.assertEqual(board["metric"], "Accuracy")
        rows = board["rows"]
        self.assertEqual(len(rows), 3)
        values = [row["validation"] for row in rows]
        self.assertEqual(values, sorted(values, reverse=True))
        # Each row's numbers are the run's own final metrics.
        for row in rows:
            run = self.call("GET", f"/api/v1/run/{row['run_id']}")
            self.assertEqual(row["validation"], run["metrics"]["validation"]["Accuracy"])
            self.assertEqual(row["test"], run["metrics"]["test"]["Accuracy"])
            self.assertEqual(row["train_seconds"], run["result"]["train_seconds"])
        self.assertEqual(rows[0]["rank"], 1)
        # wine's largest class is 71 of 178: the baseline is far below every model
        self.assertLess(board["baseline"]["validation"], 0.5)
        self.assertTrue(all(row["beats_baseline"] for row in rows))
        status, page, _ = self.server.request("GET", f"/sessions/{s['id']}")
        html = page.decode() if isinstance(page, bytes) else page
        self.assertIn('id="leaderboard"', html)
        self.assertIn("Baseline:", html)
        status, out, _ = self.server.request("POST", "/api/v1/model-session/424242/leaderboard")
        self.assertEqual(status, 404, out)

    def test_fasttext_logs_its_real_loss(self):
        existing = [d for d in self.call("GET", "/api/v1/dataset/") if d["name"] == "spam_assassin"]
        spam = existing[0]["id"] if existing else self.call("POST", "/api/v1/dataset/samples/spam_assassin", None, 201)["id"]
        s = self.session(spam, "TextClassification", ["text"], "label")
        r = self.train(s["id"], "FastTextClassifier", {"epoch": 5})
        self.assertEqual(r["status"], "FINISHED", r.get("error"))
        status, raw, _ = self.server.request(
            "GET", f"/api/v1/experiments/{r['experiment_id']}/series/export?key=train/loss&format=json")
        self.assertEqual(status, 200)
        points = (raw if isinstance(raw, dict) else json.loads(raw))["points"]
        self.assertGreater(len(points), 10)
        losses = [p["value"] for p in points]
        self.assertTrue(all(v > 0 for v in losses), losses[:5])  # never fastText's -1 placeholder
        self.assertLess(losses[-1], losses[0])
        self.assertEqual(points[-1]["step"], 100)

    def test_a_search_keeps_the_fastest_of_equal_trials_and_reports_progress(self):
        s = self.session(self.wine, "TabularClassification", WINE_FEATURES, "cultivar")
        r = self.train(s["id"], "XGBoostClassifier", {"max_depth": {"optimize": True}, "n_estimators": 20},
                       optimizer_name="GridSearchOptimizer",
                       optimizer_parameters={"n_trials": 6, "points_per_parameter": 6}, goal_metric="Accuracy")
        self.assertEqual(r["status"], "FINISHED", r.get("error"))
        search = r["result"]["search"]
        self.assertEqual(search["best_rule"], "the best goal value; among equal values, the clearly faster trial "
                                              "(by 20% and 50 ms), else the earlier one")
        self.assertEqual(search["search_space"][0]["lower"], 1)
        self.assertEqual(search["search_space"][0]["upper"], 11)  # the practitioners' range, not 1-30
        trials = r["trials"]
        best = None  # the rule, applied in trial order
        for t in trials:
            if best is None or t["value"] > best["value"] or (
                    t["value"] == best["value"] and t["seconds"] < best["seconds"] * 0.8
                    and best["seconds"] - t["seconds"] > 0.05):
                best = t
        fastest = best
        self.assertEqual(search["best_trial"], fastest["trial"])
        p = r["search_progress"]
        self.assertEqual((p["trials_done"], p["trials_planned"]), (6, 6))
        self.assertEqual(p["best_trial"], fastest["trial"])
        self.assertIsNone(p["remaining_s"])  # finished
        status, page, _ = self.server.request("GET", f"/runs/{r['id']}")
        html = page.decode() if isinstance(page, bytes) else page
        self.assertIn("Best trial: the best goal value; among equal values, the clearly faster trial", html)
        self.assertIn("(best of 1 – 11)", html)
        self.assertNotIn("lower_bound", html)


if __name__ == "__main__":
    unittest.main()
