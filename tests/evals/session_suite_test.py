"""Loupe's own trained models under test: a no-code run (a real classifier trained on the
SpamAssassin corpus from npm) answers as an OpenAI-compatible chat endpoint, and a
regression suite of labelled texts that follows its model session tests every run of the
session that finishes, each through that endpoint, with each answer compared with the
expected label."""
import json
import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "api"))
from loupe_server import LoupeServer  # noqa: E402

SPAM = "Subject: WIN A FREE PRIZE!!! Click here now to claim your cash, limited offer"
HAM = "Subject: Re: patch review\n\nThanks, I merged your fix for the build script."


class SessionSuiteTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="loupe-session-suite-")
        cls.server = LoupeServer(data_dir=os.path.join(cls.dir, "data"), extra_args=["--workers", "2"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def api(self, method, path, body=None, status=200):
        code, out, _ = self.server.request(method, path, body)
        self.assertEqual(code, status, out)
        return out["data"] if isinstance(out, dict) and "data" in out else out

    def train(self, session, model=None, run_id=None):
        if run_id is None:
            run_id = self.api("POST", "/api/v1/run/", {"model_session_id": session, "model_name": model}, 201)["id"]
        run = {"id": run_id}
        job = self.api("POST", "/api/v1/job/", {"job_type": "ModelJob", "kwargs": {"run_id": run["id"]}}, 201)
        deadline = time.time() + 300
        while time.time() < deadline:
            j = self.api("GET", f"/api/v1/job/status/{job['job_id']}")
            if j["status"] in ("FINISHED", "ERROR"):
                self.assertEqual(j["status"], "FINISHED", j)
                return run["id"]
            time.sleep(0.1)
        self.fail("training did not finish")

    def suite_runs(self, suite, count, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            runs = self.api("GET", f"/api/v1/suites/{suite}/runs")["runs"]
            if len(runs) >= count and all(r["status"] == "done" for r in runs):
                return runs
            time.sleep(0.1)
        self.fail(f"suite {suite} has {len(runs)} runs, not {count} finished")

    def test_a_suite_of_labelled_texts_tests_every_new_run_of_a_session(self):
        dataset = self.api("POST", "/api/v1/dataset/samples/spam_assassin", None, 201)["id"]
        session = self.api("POST", "/api/v1/model-session/", {
            "dataset_id": dataset, "task_name": "TextClassificationTask", "input_columns": ["text"],
            "output_columns": ["label"], "test_metrics": ["Accuracy"],
            "splits": json.dumps({"train": 0.7, "validation": 0.15, "test": 0.15}), "seed": 42}, 201)["id"]
        cases = [{"prompt": SPAM, "expected": "spam"}, {"prompt": HAM, "expected": "ham"},
                 {"prompt": "Subject: lunch?\n\nAre we still on for noon tomorrow?", "expected": "ham"},
                 # A label no model gives: this case fails on every run.
                 {"prompt": "Subject: hello", "expected": "phishing"}]
        suite = self.api("POST", "/api/v1/suites", {"name": "spam labels", "session_id": session, "threshold": 0.7,
                                                    "test_set": {"cases": cases, "match_expected": "exact"}}, 201)
        self.assertEqual(suite["session_id"], session)
        self.api("POST", "/api/v1/suites", {"name": "x", "session_id": 99999, "test_set": {"cases": cases}}, 404)

        first = self.train(session, "LogisticRegression")
        # The trained run answers as a chat endpoint, whole or streamed, as OpenAI clients expect.
        path = f"/api/v1/run/{first}/v1/chat/completions"
        whole = self.api("POST", path, {"model": f"run-{first}", "messages": [{"role": "user", "content": SPAM}]})
        self.assertEqual(whole["object"], "chat.completion")
        self.assertEqual(whole["choices"][0]["message"], {"role": "assistant", "content": "spam", "refusal": None})
        self.assertEqual(whole["choices"][0]["finish_reason"], "stop")
        # Every field openai-python's ChatCompletion and Choice require, with their types.
        self.assertEqual((type(whole["id"]), type(whole["created"]), whole["model"]), (str, int, f"run-{first}"))
        self.assertEqual((whole["choices"][0]["index"], whole["choices"][0]["logprobs"]), (0, None))
        code, raw, headers = self.server.request("POST", path, {"messages": [{"role": "user", "content": HAM}],
                                                                "stream": True})
        self.assertEqual(code, 200)
        text = raw.decode() if isinstance(raw, bytes) else raw
        events = [line[6:] for line in text.split("\n") if line.startswith("data: ")]
        self.assertEqual(events[-1], "[DONE]")
        self.assertEqual(json.loads(events[0])["choices"][0]["delta"]["content"], "ham")
        self.assertEqual(json.loads(events[1])["choices"][0]["finish_reason"], "stop")
        # ChatCompletionChunk's required fields: id, choices[{delta, index, finish_reason}], created, model, object.
        for e in events[:-1]:
            chunk = json.loads(e)
            self.assertEqual(chunk["object"], "chat.completion.chunk")
            self.assertEqual((type(chunk["id"]), type(chunk["created"]), chunk["model"]), (str, int, f"run-{first}"))
            self.assertEqual((chunk["choices"][0]["index"], chunk["choices"][0]["logprobs"]), (0, None))
            self.assertIn("finish_reason", chunk["choices"][0])
        models = self.api("GET", f"/api/v1/run/{first}/v1/models")
        self.assertEqual(models[0]["id"], f"run-{first}")  # the list is OpenAI's {object, data}
        for body, status, msg in [({"messages": []}, 422, "'messages' must be a non-empty list"),
                                  ({"messages": [{"role": "assistant", "content": "x"}]}, 422, "the user's"),
                                  ({"messages": [{"role": "user", "content": 5}]}, 422, "must be text")]:
            code, out, _ = self.server.request("POST", path, body)
            self.assertEqual(code, status, out)
            self.assertIn(msg, out["error"]["message"])
            self.assertEqual(out["error"]["type"], "invalid_request_error")
        code, out, _ = self.server.request("POST", "/api/v1/run/99999/v1/chat/completions",
                                           {"messages": [{"role": "user", "content": "x"}]})
        self.assertEqual((code, out["error"]["type"]), (404, "not_found_error"))

        # The suite tested the new run by itself, through a model endpoint made for it.
        runs = self.suite_runs(suite["id"], 1)
        self.assertEqual(runs[0]["reason"], "new_run")
        model = self.api("GET", f"/api/v1/llm/models/{runs[0]['model_id']}")
        self.assertEqual(model["base_url"], f"{self.server.url}/api/v1/run/{first}/v1")
        result = self.api("GET", f"/api/v1/suites/{suite['id']}/runs/{runs[0]['id']}")
        self.assertEqual((result["cases"], result["passed"], result["errors"]), (4, 3, 0))
        self.assertIs(result["met_threshold"], True)  # 75% >= 70%
        failing = result["failing_new_cases"]
        self.assertEqual([c["case"] for c in failing], [4])
        self.assertIn('expected "phishing"', failing[0]["why"])

        # Later runs of the session are tested too, whatever order they finish in, each
        # against the suite's run before it.
        second = self.api("POST", "/api/v1/run/", {"model_session_id": session, "model_name": "LinearSVM"}, 201)["id"]
        third = self.train(session, "LogisticRegression")
        self.train(session, run_id=second)
        runs = self.suite_runs(suite["id"], 3)
        self.assertEqual([r["reason"] for r in runs], ["new_run"] * 3)
        tested = [self.api("GET", f"/api/v1/llm/models/{r['model_id']}")["base_url"] for r in runs]
        self.assertEqual(tested, [f"{self.server.url}/api/v1/run/{x}/v1" for x in (second, third, first)])
        result = self.api("GET", f"/api/v1/suites/{suite['id']}/runs/{runs[0]['id']}")
        self.assertEqual(result["baseline"]["run_id"], runs[1]["id"])
        self.assertEqual(result["passed"], 3)
        self.assertEqual(result["still_failing_count"], 1)
        # A restart on another port tests no run twice, and points the runs' endpoints at
        # the new address before anything is called.
        old_url = self.server.url
        self.server.stop()
        self.server.port = 0
        self.server.start()
        self.assertNotEqual(self.server.url, old_url)
        time.sleep(6)
        self.assertEqual(len(self.api("GET", f"/api/v1/suites/{suite['id']}/runs")["runs"]), 3)
        model = self.api("GET", f"/api/v1/llm/models/{runs[0]['model_id']}")
        self.assertEqual(model["base_url"], f"{self.server.url}/api/v1/run/{second}/v1")
        again = self.api("POST", f"/api/v1/suites/{suite['id']}/runs", {"model_id": model["id"]}, 201)
        deadline = time.time() + 30
        while time.time() < deadline:
            result = self.api("GET", f"/api/v1/suites/{suite['id']}/runs/{again['run']['id']}")
            if result["done"]:
                break
            time.sleep(0.1)
        self.assertEqual((result["passed"], result["errors"]), (3, 0))


if __name__ == "__main__":
    unittest.main()
