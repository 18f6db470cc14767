"""DashAI's two documented workflow examples (../shared/specs/dashai-workflow.seed.txt),
sent to a live server with the seed's request bodies as written, byte for byte, except
the ids this test created (dataset_id, run_id, notebook_id). The explorer example runs
to its Plotly result on the iris sample (named as DashAI names it). The training
example: the session is created from the seed's body; its run names
DistilBertTransformer, which this build lists with what it needs (issue 21, item 2), so
the test checks that refusal and then runs the rest of the flow with the one field the
seed leaves to the user's choice, the model, set to FastTextClassifier."""
import json
import os
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "api"))
from loupe_server import SharedServerTest  # noqa: E402

# As the seed writes them (its line breaks and spacing), ids marked to be filled in.
SESSION = """{
"dataset_id": %(dataset)d,
"task_name": "TextClassification",
"input_columns": ["text"],
"output_columns": ["label"],
"train_metrics": ["Accuracy", "F1"],
"validation_metrics": ["Accuracy"],
"test_metrics": ["Accuracy"],
"splits": { "train": 0.7, "validation": 0.15, "test": 0.15 }
}"""
RUN = """{
"model_session_id": %(session)d,
"model_name": "DistilBertTransformer",
"parameters": { "learning_rate": 1e-5, "num_epochs": 3 },
"optimizer_name": null,
"optimizer_parameters": {},
"goal_metric": "F1",
"name": "DistilBERT run"
}"""
JOB = """{
"job_type": "ModelJob",
"kwargs": { "run_id": %(run)d }
}"""
VALIDATE = """{
"exploration_type": "ScatterPlotExplorer",
"columns": ["sepal_length", "sepal_width"],
"parameters": { "color": "species" }
}"""
EXPLORER = """{
"notebook_id": %(notebook)d,
"exploration_type": "ScatterPlotExplorer",
"columns": ["sepal_length", "sepal_width"],
"parameters": { "color": "species" }
}"""


class DashaiSeedExamplesTest(SharedServerTest):
    def send(self, method, path, text, expect):
        status, body, _ = self.server.request(method, path, raw=text.encode(),
                                              headers={"Content-Type": "application/json"})
        self.assertEqual(status, expect, body)
        return body

    def sample(self, name):
        status, body, _ = self.server.request("POST", f"/api/v1/dataset/samples/{name}")
        self.assertEqual(status, 201, body)
        return body["data"]

    def test_creating_a_plot_for_a_dataset(self):
        iris = self.sample("iris")
        self.assertEqual([c["name"] for c in iris["columns"]],
                         ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"])
        # Step 1: the explorers, as the seed's client asks for them.
        q = urllib.parse.quote('["Explorer"]')
        status, comps, _ = self.server.get(f"/api/v1/component/?select_types={q}")
        self.assertEqual(status, 200, comps)
        self.assertIn("ScatterPlotExplorer", [c["name"] for c in comps["data"]])
        # Step 2: validate (no dataset named yet: what needs none is checked), then create.
        v = self.send("POST", "/api/v1/explorer/validate", VALIDATE, 200)["data"]
        self.assertEqual((v["valid"], v["columns_checked"], v["dataset_id"]), (True, False, None))
        self.assertEqual(v["parameters"]["color"], "species")
        self.assertIn("checked against the dataset when the explorer is created", v["note"])
        bad = VALIDATE.replace('"sepal_width"', '"sepal_width", "petal_length"')
        self.assertEqual(self.send("POST", "/api/v1/explorer/validate", bad, 422)["message"],
                         "ScatterPlotExplorer takes 2 column(s); got 3")
        e = self.send("POST", "/api/v1/explorer/", EXPLORER % {"notebook": iris["id"]}, 201)["data"]
        # Step 3: the job runs; step 4: the results, a Plotly figure of the 150 flowers.
        deadline = time.time() + 60
        while time.time() < deadline:
            status, state, _ = self.server.get(f"/api/v1/explorer/{e['id']}")
            if state["data"]["status"] in ("FINISHED", "ERROR"):
                break
            time.sleep(0.1)
        self.assertEqual(state["data"]["status"], "FINISHED", state)
        status, res, _ = self.server.get(f"/api/v1/explorer/{e['id']}/results")
        self.assertEqual(status, 200, res)
        self.assertEqual(res["data"]["type"], "plotly_json")
        traces = res["data"]["data"]["data"] if isinstance(res["data"]["data"], dict) else res["data"]["data"]
        self.assertEqual(sum(len(t["x"]) for t in traces), 150)
        # A column the dataset lacks is named when the explorer is created.
        wrong = EXPLORER.replace("sepal_length", "sepal_length_cm") % {"notebook": iris["id"]}
        self.assertEqual(self.send("POST", "/api/v1/explorer/", wrong, 422)["message"],
                         'column "sepal_length_cm" is not in the dataset')

    def test_training_a_model(self):
        spam = self.sample("spam_assassin")
        # Step 1: the session from the seed's body.
        session = self.send("POST", "/api/v1/model-session/", SESSION % {"dataset": spam["id"]}, 201)["data"]
        self.assertEqual((session["task_name"], session["input_columns"], session["output_columns"]),
                         ("TextClassification", ["text"], ["label"]))
        # Step 2: the seed's run. DistilBertTransformer is refused with what this build can train.
        refused = self.send("POST", "/api/v1/run/", RUN % {"session": session["id"]}, 422)["message"]
        self.assertIn("DistilBertTransformer", refused)
        self.assertIn("FastTextClassifier", refused)
        run = self.send("POST", "/api/v1/run/", RUN.replace("DistilBertTransformer", "FastTextClassifier")
                        .replace('{ "learning_rate": 1e-5, "num_epochs": 3 }', "{}") % {"session": session["id"]}, 201)["data"]
        self.assertEqual((run["name"], run["goal_metric"], run["status"]), ("DistilBERT run", "F1", "NOT_STARTED"))
        # Step 3: the job; step 5: poll it, then the run with its metrics.
        job = self.send("POST", "/api/v1/job/", JOB % {"run": run["id"]}, 201)["data"]
        deadline = time.time() + 300
        while time.time() < deadline:
            status, j, _ = self.server.get(f"/api/v1/job/status/{job['job_id']}")
            if j["data"]["status"] not in ("NOT_STARTED", "STARTED", "QUEUED", "PENDING"):
                break
            time.sleep(0.2)
        self.assertEqual(j["data"]["status"], "FINISHED", j)
        status, r, _ = self.server.get(f"/api/v1/run/{run['id']}")
        self.assertEqual((status, r["data"]["status"]), (200, "FINISHED"))
        self.assertEqual(sorted(r["data"]["metrics"]["train"]), ["Accuracy", "F1"])
        self.assertGreater(r["data"]["metrics"]["test"]["Accuracy"], 0.9)
        # No optimizer: no optimization plots, said plainly.
        status, plot, _ = self.server.get(f"/api/v1/run/plot/{run['id']}/history")
        self.assertEqual(status, 404, plot)
        self.assertIn("no hyperparameter search", plot["message"])


if __name__ == "__main__":
    unittest.main()
