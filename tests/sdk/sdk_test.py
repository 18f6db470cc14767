"""The Python SDK against a live Loupe server: logging, console, system metadata,
server down -> spool -> replay, and a stop requested from the dashboard."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "api"))
from loupe_server import LoupeServer, free_port  # noqa: E402

import loupe  # noqa: E402


def series(server, exp_id, key):
    status, p, _ = server.request("GET", f"/api/v1/experiments/{exp_id}/series?key={key}&max_points=100000")
    assert status == 200, p
    return p["data"]


def experiment(server, exp_id):
    return server.request("GET", f"/api/v1/experiments/{exp_id}")[1]["data"]


class SdkTest(unittest.TestCase):
    def setUp(self):
        self.spool = tempfile.mkdtemp(prefix="loupe-spool-")
        self.server = LoupeServer().start()

    def tearDown(self):
        self.server.cleanup()
        shutil.rmtree(self.spool, ignore_errors=True)

    def run_kwargs(self, **extra):
        return dict(host=self.server.url, spool_dir=self.spool, flush_interval=0.1, **extra)

    def test_logs_metrics_console_config_system_and_image(self):
        class Scalar:  # what numpy and torch scalars look like to the SDK
            def __init__(self, v):
                self.v = v

            def item(self):
                return self.v

        run = loupe.init(project="sdk", name="basic", config={"lr": 0.01, "layers": [64, 32]},
                         **self.run_kwargs(system_metrics_interval=0.2))
        for step in range(300):
            loupe.log({"train/loss": 1.0 / (step + 1), "train/acc": Scalar(step / 300)}, step=step)
        loupe.log({"train/loss": float("nan")}, step=300)
        print("hello from the training script")
        print("a warning", file=sys.stderr)
        run.update_config({"epochs": 3})
        png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
        run.log_image("samples/pred", png, step=5)
        time.sleep(0.5)  # let the system sampler take a couple of samples
        self.assertTrue(loupe.finish())

        loss = series(self.server, run.id, "train/loss")
        self.assertEqual(loss["count"], 301)
        self.assertEqual(loss["points"][0][1], 1.0)
        self.assertEqual(loss["points"][-1][1], "NaN")
        self.assertEqual(series(self.server, run.id, "train/acc")["count"], 300)
        self.assertGreaterEqual(series(self.server, run.id, "system/memory.percent")["count"], 1)
        exp = experiment(self.server, run.id)
        self.assertEqual(exp["status"], "finished")
        self.assertEqual(exp["config"], {"lr": 0.01, "layers": [64, 32], "epochs": 3})
        self.assertEqual(exp["system"]["python"].split(".")[0], "3")
        self.assertIn("cores", exp["system"]["cpu"])
        reqs = self.server.request("GET", f"/api/v1/experiment/{run.id}/requirements")[1]["data"]["requirements"]
        self.assertTrue(any(r.lower().startswith("numpy==") for r in reqs), reqs[:5])
        lines = self.server.request("GET", f"/api/v1/experiments/{run.id}/console")[1]["data"]["lines"]
        self.assertIn({"stream": "stdout", "text": "hello from the training script"},
                      [{"stream": l["stream"], "text": l["text"]} for l in lines])
        self.assertIn("a warning", [l["text"] for l in lines if l["stream"] == "stderr"])
        tag = self.server.request("GET", f"/api/v1/experiment/{run.id}/tag/samples/pred")[1]["data"]
        self.assertEqual(tag["list"][0]["index"], 5)
        self.assertEqual(os.listdir(self.spool), [])  # everything sent, spool cleaned

    def test_rejects_bad_keys_and_values_at_log_time(self):
        run = loupe.Run(project="sdk", **self.run_kwargs(capture_console=False, system_metrics_interval=0))
        with self.assertRaises(ValueError):
            run.log({"bad//key": 1})
        with self.assertRaises(TypeError):
            run.log({"ok": "text"})
        with self.assertRaises(ValueError):
            run.log({"ok": 1}, step=-3)
        run.finish()

    def test_exception_in_context_marks_run_crashed(self):
        with self.assertRaises(ZeroDivisionError):
            with loupe.Run(project="sdk", **self.run_kwargs(capture_console=False)) as run:
                run.log({"m": 1})
                1 / 0
        self.assertEqual(experiment(self.server, run.id)["status"], "crashed")

    def test_server_down_mid_run_loses_nothing(self):
        run = loupe.Run(project="sdk", run_id="flaky-1",
                        **self.run_kwargs(capture_console=False, system_metrics_interval=0))
        for s in range(100):
            run.log({"m": s}, step=s)
        time.sleep(0.5)
        self.server.stop()
        for s in range(100, 200):
            run.log({"m": s}, step=s)
        time.sleep(0.5)  # the sender fails and spools
        self.assertTrue(any(n.endswith(".json") and n != "run.json"
                            for n in os.listdir(os.path.join(self.spool, "flaky-1"))))
        self.server.start()
        self.assertTrue(run.finish(timeout=30))
        data = series(self.server, run.id, "m")
        self.assertEqual(data["count"], 200)
        self.assertEqual([p[0] for p in data["points"]], list(range(200)))
        self.assertEqual(experiment(self.server, run.id)["status"], "finished")

    def test_server_unreachable_from_start_then_sync_replays(self):
        port = free_port()
        run = loupe.Run(project="offline", name="spooled", host=f"http://127.0.0.1:{port}", spool_dir=self.spool,
                        flush_interval=0.1, capture_console=False, system_metrics_interval=0)
        for s in range(50):
            run.log({"loss": 1.0 / (s + 1)}, step=s)
        self.assertFalse(run.finish(timeout=1))
        self.assertIsNone(run.id)
        later = LoupeServer(port=port).start()
        try:
            self.assertEqual(loupe.sync(spool_dir=self.spool), 1)
            _, p, _ = later.request("GET", "/api/v1/projects")
            pid = next(x["id"] for x in p["data"]["projects"] if x["name"] == "offline")
            exps = later.request("GET", f"/api/v1/projects/{pid}/experiments")[1]["data"]["experiments"]
            self.assertEqual([(e["name"], e["status"]) for e in exps], [("spooled", "finished")])
            self.assertEqual(series(later, exps[0]["id"], "loss")["count"], 50)
            self.assertEqual(os.listdir(self.spool), [])
        finally:
            later.cleanup()

    def test_stop_from_dashboard_interrupts_training_loop(self):
        with loupe.Run(project="sdk", **self.run_kwargs(capture_console=False, system_metrics_interval=0,
                                                         heartbeat_interval=0.1)) as run:
            status, _, _ = self.server.request("GET", f"/api/v1/experiment/{run.id}/stop")
            self.assertEqual(status, 200)
            deadline = time.time() + 20
            while time.time() < deadline:
                run.log({"m": 1})
                time.sleep(0.05)
            self.fail("the run was not interrupted after the dashboard stopped it")
        self.assertTrue(run.stopped)
        self.assertEqual(experiment(self.server, run.id)["status"], "stopped")


if __name__ == "__main__":
    unittest.main()


class PackagingTest(unittest.TestCase):
    def test_in_tree_backend_builds_an_installable_wheel(self):
        import importlib
        import zipfile
        sdk = os.path.join(os.path.dirname(__file__), "..", "..", "sdk", "python")
        sys.path.insert(0, sdk)
        try:
            backend = importlib.import_module("build_backend")
        finally:
            sys.path.remove(sdk)
        self.assertEqual(backend.get_requires_for_build_wheel(), [])
        with tempfile.TemporaryDirectory() as out, tempfile.TemporaryDirectory() as target:
            name = backend.build_wheel(out)
            with zipfile.ZipFile(os.path.join(out, name)) as whl:
                names = whl.namelist()
                self.assertIn("loupe/__init__.py", names)
                self.assertIn("loupe/run.py", names)
                self.assertIn("loupe-0.1.0.dist-info/RECORD", names)
                whl.extractall(target)
            probe = subprocess.run([sys.executable, "-c", "import loupe; print(loupe.__file__)"],
                                   capture_output=True, text=True, env={"PYTHONPATH": target})
            self.assertEqual(probe.returncode, 0, probe.stderr)
            self.assertTrue(probe.stdout.startswith(target))
