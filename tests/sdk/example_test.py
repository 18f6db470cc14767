"""Runs examples/train_classifier.py (real PyTorch training) against a live server
and checks what it logged."""
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "api"))
from loupe_server import LoupeServer  # noqa: E402

ROOT = os.environ.get("LOUPE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))


class ExampleTest(unittest.TestCase):
    def test_train_classifier_logs_a_converging_run(self):
        server = LoupeServer().start()
        try:
            with tempfile.TemporaryDirectory() as spool:
                env = dict(os.environ, LOUPE_SPOOL_DIR=spool)
                out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "train_classifier.py"),
                                      "--host", server.url, "--epochs", "8"],
                                     capture_output=True, text=True, env=env, timeout=600)
                self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            _, p, _ = server.request("GET", "/api/v1/projects")
            pid = next(x["id"] for x in p["data"]["projects"] if x["name"] == "examples")
            exps = server.request("GET", f"/api/v1/projects/{pid}/experiments")[1]["data"]["experiments"]
            self.assertEqual(len(exps), 1)
            exp = exps[0]
            self.assertEqual(exp["status"], "finished")
            self.assertEqual(exp["config"]["epochs"], 8)

            def series(key):
                status, p, _ = server.request("GET", f"/api/v1/experiments/{exp['id']}/series?key={key}&max_points=100000")
                self.assertEqual(status, 200, p)
                return p["data"]

            batches_per_epoch = 23  # ceil(1437 / 64)
            loss = series("train/loss")
            self.assertEqual(loss["count"], 8 * batches_per_epoch)
            first = sum(v for _, v, _ in loss["points"][:10]) / 10
            last = sum(v for _, v, _ in loss["points"][-10:]) / 10
            self.assertLess(last, first / 3, "training loss should fall")
            acc = series("val/acc")
            self.assertEqual(acc["count"], 8)
            self.assertGreater(acc["points"][-1][1], 0.9)
            lr = series("train/lr")
            self.assertGreater(lr["points"][0][1], lr["points"][-1][1])  # cosine schedule decays
            lines = server.request("GET", f"/api/v1/experiments/{exp['id']}/console")[1]["data"]["lines"]
            self.assertTrue(any(l["text"].startswith("epoch 8/8") for l in lines))
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main()
