"""Training memory budget over HTTP (issue 9, item 6): fastText with dim 1000 and word
n-grams (about 8 GB) is refused when the run is created, with the estimate, the budget
and the parameters that drive it; so is a search whose upper bounds would not fit; the
defaults still train; and a run created under a larger budget is refused again before
it trains when the server has restarted with a smaller one."""
import os
import random
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "api"))
from loupe_server import LoupeServer, multipart  # noqa: E402


def text_csv(rows=60, seed=1):
    rng = random.Random(seed)
    spam = ["free", "money", "winner", "offer", "cash", "prize", "click"]
    ham = ["meeting", "lunch", "report", "project", "tomorrow", "notes", "agenda"]
    lines = ["text,label"]
    for i in range(rows):
        words, label = (spam, "spam") if i % 2 else (ham, "ham")
        lines.append(" ".join(rng.choice(words) for _ in range(8)) + f" w{i}," + label)
    return ("\n".join(lines) + "\n").encode()


class TrainingMemoryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="loupe-mem-")
        cls.data_dir = os.path.join(cls.dir, "data")
        cls.server = LoupeServer(data_dir=cls.data_dir, extra_args=["--training-memory-mb", "4096"]).start()
        body, ctype = multipart({}, {"file": ("texts.csv", text_csv())})
        status, out, _ = cls.server.request("POST", "/api/v1/dataset/", raw=body, headers={"Content-Type": ctype})
        assert status == 201, out
        status, out, _ = cls.server.post("/api/v1/model-session/", {
            "dataset_id": out["data"]["id"], "task_name": "TextClassification", "input_columns": ["text"],
            "output_columns": ["label"], "splits": {"train": 0.6, "validation": 0.2, "test": 0.2}})
        assert status == 201, out
        cls.session = out["data"]

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def create_run(self, parameters, **extra):
        return self.server.post("/api/v1/run/", {"model_session_id": self.session["id"],
                                                 "model_name": "FastTextClassifier", "parameters": parameters, **extra})

    def train(self, run_id, timeout=120):
        status, out, _ = self.server.post("/api/v1/job/", {"job_type": "ModelJob", "kwargs": {"run_id": run_id}})
        self.assertEqual(status, 201, out)
        deadline = time.time() + timeout
        while time.time() < deadline:
            _, job, _ = self.server.get(f"/api/v1/job/status/{out['data']['job_id']}")
            if job["data"]["status"] in ("FINISHED", "ERROR"):
                return job["data"], self.server.get(f"/api/v1/run/{run_id}")[1]["data"]
            time.sleep(0.1)
        self.fail(f"run {run_id} did not finish")

    def test_the_session_records_the_shape_estimates_use(self):
        shape = self.session["shape"]
        self.assertEqual(shape["held_rows"], 60)
        self.assertEqual(shape["train_rows"], self.session["split_rows"]["train"])
        self.assertEqual(shape["classes"], 2)
        self.assertEqual(shape["words"], 60 * 9)
        self.assertEqual(shape["vocabulary"], 14 + 60)  # the two word lists and w0..w59

    def test_fasttext_dim_1000_with_word_ngrams_is_refused_at_creation(self):
        status, out, _ = self.create_run({"dim": 1000, "word_ngrams": 2})
        self.assertEqual(status, 422, out)
        message = out["message"]
        # (75 words + 2,000,000 buckets) x 1000 x 4 bytes = 7.5 GiB, plus the dictionary.
        self.assertTrue(message.startswith("FastTextClassifier needs about 7.6 GiB of memory to train with these "
                                           "parameters, above the training memory budget of 4.0 GiB "
                                           "(loupe serve --training-memory-mb)."), message)
        self.assertIn("input matrix: (75 words + 2,000,000 hash buckets for word_ngrams 2) x dim 1000 x 4 bytes (7.5 GiB)",
                      message)
        self.assertIn("It grows with dim and word_ngrams; with the other parameters unchanged, dim at most", message)
        self.assertIn("or word_ngrams 1 fits.", message)
        # Nothing was created.
        _, runs, _ = self.server.get(f"/api/v1/run/?model_session_id={self.session['id']}")
        self.assertFalse([r for r in runs["data"] if r["parameters"].get("dim") == 1000])

    def test_a_search_whose_upper_bounds_do_not_fit_is_refused_at_creation(self):
        status, out, _ = self.create_run(
            {"word_ngrams": 2, "dim": {"optimize": True, "lower_bound": 10, "upper_bound": 1000}},
            optimizer_name="RandomSearchOptimizer", optimizer_parameters={"n_trials": 2})
        self.assertEqual(status, 422, out)
        self.assertIn("at the search's upper bounds", out["message"])
        self.assertIn("dim's upper_bound at most", out["message"])

    def test_the_defaults_still_train(self):
        status, out, _ = self.create_run({})
        self.assertEqual(status, 201, out)
        job, run = self.train(out["data"]["id"])
        self.assertEqual(job["status"], "FINISHED", job)
        self.assertEqual(run["status"], "FINISHED")

    def test_a_run_is_checked_again_before_it_trains(self):
        # Fits 4 GiB (about 0.9 GiB: 2,000,000 buckets x dim 100), not 512 MiB.
        status, out, _ = self.create_run({"dim": 100, "word_ngrams": 2})
        self.assertEqual(status, 201, out)
        run_id = out["data"]["id"]
        self.server.stop()
        small = LoupeServer(data_dir=self.data_dir, extra_args=["--training-memory-mb", "512"]).start()
        try:
            self.server, big = small, self.server
            job, run = self.train(run_id)
            self.assertEqual(job["status"], "ERROR", job)
            self.assertEqual(run["status"], "ERROR")
            self.assertIn("above the training memory budget of 512.0 MiB", run["error"])
            self.assertIn("input matrix", run["error"])
            self.assertIsNone(run.get("experiment_id"))  # refused before its experiment started
        finally:
            small.cleanup()
            self.server = big.start()


if __name__ == "__main__":
    unittest.main()
