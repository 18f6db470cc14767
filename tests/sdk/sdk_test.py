"""The Python SDK against a live Loupe server: logging, console, system metadata,
server down -> spool -> replay, offline and disabled modes, and a stop requested
from the dashboard."""
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import numpy
from unittest import mock

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "api"))
from loupe_server import LoupeServer, free_port  # noqa: E402

import loupe  # noqa: E402
from loupe._console import _Tee  # noqa: E402


def series(server, exp_id, key):
    status, p, _ = server.request("GET", f"/api/v1/experiments/{exp_id}/series?key={key}&max_points=100000")
    assert status == 200, p
    return p["data"]


def experiment(server, exp_id):
    return server.request("GET", f"/api/v1/experiments/{exp_id}")[1]["data"]


def experiments_of(server, project):
    """The experiments of the project with that name, or None when it does not exist."""
    projects = server.request("GET", "/api/v1/projects")[1]["data"]["projects"]
    pid = next((x["id"] for x in projects if x["name"] == project), None)
    if pid is None:
        return None
    return server.request("GET", f"/api/v1/projects/{pid}/experiments")[1]["data"]["experiments"]


def console_texts(server, exp_id):
    return [l["text"] for l in server.request("GET", f"/api/v1/experiments/{exp_id}/console")[1]["data"]["lines"]]


def wait_connected(run, timeout=10.0):
    """init() does not wait for the server; this does, for tests that need run.id early."""
    deadline = time.time() + timeout
    while run.id is None and time.time() < deadline:
        time.sleep(0.02)
    assert run.id is not None, "the run never reached the server"
    return run.id


def silent_listener():
    """A socket that accepts TCP connections (the kernel does) but never answers."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    return s


def spooled_records(spool, run_id):
    """The records waiting in every client folder of the run (<spool>/<run_id>/<client>/)."""
    out = []
    for folder, _, names in os.walk(os.path.join(spool, run_id)):
        out += [os.path.join(folder, n) for n in names if n.endswith(".json") and n != "run.json"]
    return out


class SdkTest(unittest.TestCase):
    def setUp(self):
        self.spool = tempfile.mkdtemp(prefix="loupe-spool-")
        self.server = LoupeServer().start()

    def tearDown(self):
        if loupe.run is not None and not loupe.run.finished:
            loupe.run.finish(timeout=1)  # a test that failed half-way must not leave its run to the next
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
        run.log_image("samples/pred", png, step=5, caption="digit 7")
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
        self.assertEqual((tag["list"][0]["index"], tag["list"][0]["more"]), (5, [{"caption": "digit 7"}]))
        self.assertEqual(os.listdir(self.spool), [])  # everything sent, spool cleaned

    def test_each_step_carries_the_time_of_its_own_log_call(self):
        # One flush window (10 s) holds all five steps: a time-axis chart must still see
        # them 0.2 s apart, not stacked at the flush's time.
        run = loupe.init(project="sdk", name="stamps", host=self.server.url, spool_dir=self.spool,
                         flush_interval=10, capture_console=False, system_metrics_interval=0)
        # Each stamp is compared with the time of its own call, measured around it (a
        # loaded machine oversleeps 0.2 s by a tenth, which says nothing about the SDK).
        called = []
        for step in range(5):
            start = time.time()
            run.log({"loss": 1.0 / (step + 1)})
            called.append((start, time.time()))
            time.sleep(0.2)
        start = time.time()
        run.log({"acc": 0.5}, step=10)
        acc_called = (start, time.time())
        self.assertTrue(run.finish())
        ts = [p[2] for p in series(self.server, run.id, "loss")["points"]]
        self.assertEqual(len(ts), 5)
        for t, (lo, hi) in zip(ts, called):
            self.assertGreaterEqual(t, lo - 0.001)
            self.assertLessEqual(t, hi + 0.001)
        for a, b in zip(ts, ts[1:]):
            self.assertGreaterEqual(b - a, 0.19)  # 0.2 s apart at least, not stacked at the flush
        acc_ts = series(self.server, run.id, "acc")["points"][0][2]
        self.assertGreaterEqual(acc_ts, acc_called[0] - 0.001)
        self.assertLessEqual(acc_ts, acc_called[1] + 0.001)

    def test_throughput_is_counts_over_the_seconds_between_calls(self):
        run = loupe.init(project="sdk", name="speed", **self.run_kwargs(capture_console=False, system_metrics_interval=0))
        clock = [100.0]
        run._clock = lambda: clock[0]
        self.assertEqual(run.log_throughput(), {})  # starts the clock after "loading"
        clock[0] = 102.5
        self.assertEqual(run.log_throughput(step=1, tokens=10000, samples=20),
                         {"throughput/tokens_per_s": 4000.0, "throughput/samples_per_s": 8.0})
        clock[0] = 103.0
        self.assertEqual(run.log_throughput(step=2, tokens=1000), {"throughput/tokens_per_s": 2000.0})
        self.assertEqual(run.log_throughput(step=3, tokens=5), {})  # no time passed: no rate, not infinity
        for bad in ({"tokens": -1}, {"tokens": float("nan")}, {"tokens": True}, {"9x": 1}, {"tokens": "5"}):
            with self.assertRaises(ValueError, msg=bad):
                run.log_throughput(step=4, **bad)
        self.assertTrue(run.finish())
        points = series(self.server, run.id, "throughput/tokens_per_s")["points"]
        self.assertEqual([(p[0], p[1]) for p in points], [(1, 4000.0), (2, 2000.0)])
        self.assertEqual([(p[0], p[1]) for p in series(self.server, run.id, "throughput/samples_per_s")["points"]],
                         [(1, 8.0)])

    def test_a_checkpoint_request_of_this_segment_is_answered_once(self):
        control = os.path.join(self.spool, "control.json")
        os.environ.update(LOUPE_CONTROL_FILE=control, LOUPE_JOB_SEGMENT="2")
        self.addCleanup(lambda: [os.environ.pop(k, None) for k in ("LOUPE_CONTROL_FILE", "LOUPE_JOB_SEGMENT")])
        cases = [({"checkpoint_request": 3, "segment": 2}, True),            # asked while the script started
                 ({"checkpoint_request": 3, "segment": 1}, False),           # an earlier segment's
                 ({"checkpoint_request": 3}, False),                          # unmarked (Slurm's batch script)
                 ({"checkpoint_request": 3, "segment": 2, "answered": 3}, False)]  # saved by an earlier script
        for i, (content, asked) in enumerate(cases):
            with open(control, "w") as f:
                json.dump(content, f)
            run = loupe.init(project="sdk", name=f"ctl{i}", **self.run_kwargs(capture_console=False,
                                                                               system_metrics_interval=0))
            self.assertEqual(run.checkpoint_requested, asked, content)
            run.finish()

    def test_text_samples_and_histograms(self):
        class Tensor:  # what torch tensors and numpy arrays look like to the SDK
            def __init__(self, rows):
                self.rows = rows

            def tolist(self):
                return self.rows

        run = loupe.init(project="sdk", name="media-kinds",
                         **self.run_kwargs(capture_console=False, system_metrics_interval=0))
        loupe.log_text("gen/sample", "Once upon a time ✓", step=3, caption="prompt: once")
        run.log_histogram("w/layer", Tensor([[0.0, 1.0], [1.0, float("nan")], [3.0, 4.0]]), step=3, bins=4)
        run.log_histogram("w/layer", counts=[1, 2], edges=[-1, 0, 1], step=4)
        with self.assertRaises(ValueError):
            run.log_image("gen/sample", b"\x89PNG\r\n\x1a\n" + b"\x00" * 8)  # the key holds text
        for bad in (dict(values=[]), dict(values=[float("nan")]), dict(values=[1, 2], bins=0),
                    dict(values=["a"]), dict(counts=[1], edges=[0]), dict(counts=[1], edges=[1, 0]),
                    dict(counts=[-1], edges=[0, 1]), dict(values=[1], counts=[1], edges=[0, 1])):
            with self.assertRaises((ValueError, TypeError), msg=str(bad)):
                run.log_histogram("w/bad", **bad)
        with self.assertRaises(ValueError):
            run.log_text("gen/big", "x" * 65537)
        with self.assertRaises(TypeError):
            run.log_text("gen/bytes", b"raw")
        self.assertTrue(run.finish())
        # After finish nothing would be sent: logging says so instead of losing it.
        for late in (lambda: run.log({"loss": 1}), lambda: run.log_text("gen/sample", "late"),
                     lambda: run.log_histogram("w/layer", [1, 2]), lambda: run.update_config({"x": 1})):
            with self.assertRaisesRegex(RuntimeError, "has finished"):
                late()
        q = lambda key: self.server.request("GET", f"/api/v1/experiments/{run.id}/media?key={key}")[1]["data"]["items"]
        text = q("gen/sample")
        self.assertEqual([(i["step"], i["text"], i["caption"]) for i in text], [(3, "Once upon a time ✓", "prompt: once")])
        hist = q("w/layer")
        self.assertEqual(hist[0]["histogram"], {"edges": [0.0, 1.0, 2.0, 3.0, 4.0], "counts": [1.0, 2.0, 0.0, 2.0]})
        self.assertEqual((hist[1]["step"], hist[1]["histogram"]["counts"]), (4, [1.0, 2.0]))

    def test_rejects_bad_keys_and_values_at_log_time(self):
        run = loupe.Run(project="sdk", **self.run_kwargs(capture_console=False, system_metrics_interval=0))
        with self.assertRaises(ValueError):
            run.log({"bad//key": 1})
        with self.assertRaises(TypeError):
            run.log({"ok": "text"})
        with self.assertRaises(ValueError):
            run.log({"ok": 1}, step=-3)
        for bad in (True, numpy.bool_(True), 2.0, "3", numpy.float64(4)):
            with self.assertRaisesRegex(ValueError, "step must be an integer", msg=repr(bad)):
                run.log({"ok": 1}, step=bad)
        run.finish()

    def test_numpy_integer_steps_are_steps(self):
        run = loupe.Run(project="sdk", **self.run_kwargs(capture_console=False, system_metrics_interval=0))
        for step in numpy.arange(3, 6, dtype=numpy.int64):
            run.log({"loss": float(step) / 10}, step=step)
        run.log_text("note", "at a numpy step", step=numpy.int32(7))
        self.assertTrue(run.finish())
        self.assertEqual([(p[0], p[1]) for p in series(self.server, run.id, "loss")["points"]], [(3, 0.3), (4, 0.4), (5, 0.5)])
        items = self.server.request("GET", f"/api/v1/experiments/{run.id}/media?key=note")[1]["data"]["items"]
        self.assertEqual([i["step"] for i in items], [7])

    def test_exception_in_context_marks_run_crashed(self):
        with self.assertRaises(ZeroDivisionError):
            with loupe.Run(project="sdk", **self.run_kwargs(capture_console=False)) as run:
                run.log({"m": 1})
                1 / 0
        exp = experiment(self.server, run.id)
        self.assertEqual(exp["status"], "crashed")
        self.assertTrue(exp["error"].startswith("Traceback (most recent call last):"), exp["error"])
        self.assertTrue(exp["error"].endswith("ZeroDivisionError: division by zero"), exp["error"])

    def test_uncaught_exception_in_a_script_is_kept_as_the_runs_error(self):
        script = ("import loupe\n"
                  f"run = loupe.init(project='sdk', name='boom', host={self.server.url!r}, spool_dir={self.spool!r})\n"
                  "run.log({'m': 1})\n"
                  "def train():\n"
                  "    raise RuntimeError('CUDA out of memory')\n"
                  "train()\n")
        path = os.path.join(self.spool, "train.py")
        with open(path, "w") as f:
            f.write(script)
        env = dict(os.environ, PYTHONPATH=os.path.join(os.path.dirname(__file__), "..", "..", "sdk", "python"))
        out = subprocess.run([sys.executable, path], capture_output=True, text=True, timeout=60, env=env)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("RuntimeError: CUDA out of memory", out.stderr)  # Python still prints it
        exp = experiments_of(self.server, "sdk")[0]
        self.assertEqual(exp["status"], "crashed")
        self.assertIn("in train\n    raise RuntimeError('CUDA out of memory')", exp["error"])
        self.assertTrue(exp["error"].endswith("RuntimeError: CUDA out of memory"))
        log = self.server.request("GET", f"/api/v1/experiment/{exp['id']}/recent_log")[1]["data"]
        self.assertEqual(log["error"][-2], "RuntimeError: CUDA out of memory")

    def test_a_taken_name_gets_a_free_one_and_the_script_is_told(self):
        first = loupe.Run(project="sdk", name="sweep", **self.run_kwargs(capture_console=False))
        wait_connected(first)
        first.finish()
        err = io.StringIO()
        with mock.patch("sys.stderr", err):
            second = loupe.Run(project="sdk", name="sweep", **self.run_kwargs(capture_console=False))
            wait_connected(second)
            second.finish()
        self.assertEqual((second.name, experiment(self.server, second.id)["name"]), ("sweep-2", "sweep-2"))
        self.assertIn("already has a run named 'sweep'; this one is 'sweep-2'", err.getvalue())

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
        self.assertTrue(spooled_records(self.spool, "flaky-1"))
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
            status, _, _ = self.server.request("GET", f"/api/v1/experiment/{wait_connected(run)}/stop")
            self.assertEqual(status, 200)
            deadline = time.time() + 20
            while time.time() < deadline:
                run.log({"m": 1})
                time.sleep(0.05)
            self.fail("the run was not interrupted after the dashboard stopped it")
        self.assertTrue(run.stopped)
        self.assertEqual(experiment(self.server, run.id)["status"], "stopped")

    def test_stop_reaches_a_script_that_ignores_sigint_at_its_next_log_call(self):
        # A script started in the background (`python train.py &`) ignores SIGINT, so
        # interrupting the main thread does nothing: log() raises instead, and says why.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        err = io.StringIO()
        try:
            with mock.patch("sys.stderr", err):
                with loupe.Run(project="sdk", **self.run_kwargs(capture_console=False, system_metrics_interval=0,
                                                                 heartbeat_interval=0.1)) as run:
                    self.server.request("POST", f"/api/v1/experiments/{wait_connected(run)}/stop")
                    deadline = time.time() + 20
                    while time.time() < deadline:
                        run.log({"m": 1})
                        time.sleep(0.05)
                    self.fail("log() did not raise after the dashboard stopped the run")
        finally:
            signal.signal(signal.SIGINT, previous)
        self.assertTrue(run.stopped)
        self.assertEqual(experiment(self.server, run.id)["status"], "stopped")
        self.assertIn("was stopped from the dashboard; it ends at its next log() call", err.getvalue())

    def test_tags_and_the_runs_address_are_given_at_init(self):
        err = io.StringIO()
        with mock.patch("sys.stderr", err):
            run = loupe.init(project="sdk", name="tagged", tags=["baseline", "resnet", "baseline"],
                             **self.run_kwargs(capture_console=False, system_metrics_interval=0))
            wait_connected(run)
            run.finish()
        self.assertEqual(experiment(self.server, run.id)["tags"], ["baseline", "resnet"])
        self.assertIn(f"loupe: View run 'tagged' at {self.server.url}/experiments/{run.id}", err.getvalue())
        for bad in ("baseline", ["a,b"], ['say "hi"'], [""], ["x" * 65], [1], [f"t{i}" for i in range(33)]):
            with self.assertRaises((TypeError, ValueError)):
                loupe.Run(project="sdk", tags=bad, **self.run_kwargs(capture_console=False))

    def test_init_returns_at_once_when_the_server_does_not_answer(self):
        silent = silent_listener()
        self.addCleanup(silent.close)
        for host in ("http://127.0.0.1:1", f"http://127.0.0.1:{silent.getsockname()[1]}"):
            start = time.monotonic()
            run = loupe.init(project="sdk", host=host, spool_dir=self.spool, flush_interval=0.1,
                             capture_console=False, system_metrics_interval=0)
            self.assertLess(time.monotonic() - start, 1.0, host)
            self.assertIsNone(run.id)
            loupe.log({"m": 1.0}, step=0)
            self.assertFalse(run.finish(timeout=0.5))
            self.assertIsNone(run.id)
            self.assertTrue(spooled_records(self.spool, run.run_id), host)  # kept for `loupe sync`

    def test_a_host_without_a_scheme_is_plain_http(self):
        run = loupe.init(project="noscheme", host=f"127.0.0.1:{self.server.port}", spool_dir=self.spool,
                         capture_console=False, system_metrics_interval=0)
        loupe.log({"m": 2.0}, step=0)
        self.assertTrue(loupe.finish())
        self.assertEqual(run.host, self.server.url)
        self.assertIsNotNone(run.id)

    def test_a_second_init_does_not_wait_on_an_unreachable_server_for_the_first_run(self):
        first = loupe.init(project="sdk", host="http://127.0.0.1:1", spool_dir=self.spool, flush_interval=0.1,
                           capture_console=False, system_metrics_interval=0)
        loupe.log({"m": 1.0}, step=0)
        start = time.monotonic()
        loupe.init(project="sdk", host="http://127.0.0.1:1", spool_dir=self.spool, flush_interval=0.1,
                   capture_console=False, system_metrics_interval=0)
        self.assertLess(time.monotonic() - start, 5.0)  # the first run gets 2 s, not 30
        self.assertTrue(spooled_records(self.spool, first.run_id))  # kept for `loupe sync`
        self.assertFalse(loupe.run.finish(timeout=0.5))

    def test_run_started_before_the_server_exists_arrives_complete_once_it_is_up(self):
        silent = silent_listener()  # the port is held by something that never answers
        self.addCleanup(silent.close)
        port = silent.getsockname()[1]
        start = time.monotonic()
        run = loupe.init(project="late", name="early-bird", config={"lr": 0.1}, host=f"http://127.0.0.1:{port}",
                         spool_dir=self.spool, flush_interval=0.1, system_metrics_interval=0)
        self.assertLess(time.monotonic() - start, 1.0)
        self.assertIsNone(run.id)
        for s in range(100):
            loupe.log({"loss": 1.0 / (s + 1)}, step=s)
        print("logged while the server was down")
        run.update_config({"epochs": 2})
        run.log_image("samples/x", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, step=3)
        time.sleep(0.3)
        self.assertTrue(spooled_records(self.spool, run.run_id))
        silent.close()
        later = LoupeServer(port=port).start()
        try:
            for s in range(100, 200):
                loupe.log({"loss": 1.0 / (s + 1)}, step=s)
            self.assertTrue(loupe.finish())
            exps = experiments_of(later, "late")
            self.assertEqual([(e["id"], e["name"], e["status"]) for e in exps], [(run.id, "early-bird", "finished")])
            loss = series(later, run.id, "loss")
            self.assertEqual([p[0] for p in loss["points"]], list(range(200)))
            exp = experiment(later, run.id)
            self.assertEqual(exp["config"], {"lr": 0.1, "epochs": 2})
            self.assertIn("python", exp["system"])
            self.assertIn("logged while the server was down", console_texts(later, run.id))
            tag = later.request("GET", f"/api/v1/experiment/{run.id}/tag/samples/x")[1]["data"]
            self.assertEqual(tag["list"][0]["index"], 3)
            self.assertEqual(os.listdir(self.spool), [])
        finally:
            later.cleanup()

    def test_offline_mode_never_contacts_the_server_and_sync_uploads_everything(self):
        run = loupe.init(project="offline-mode", name="on-a-plane", config={"lr": 0.5}, mode="offline",
                         **self.run_kwargs(system_metrics_interval=0.1))
        self.assertEqual(run.mode, "offline")
        for s in range(300):
            loupe.log({"train/loss": 1.0 / (s + 1)}, step=s)
        print("offline line")
        run.update_config({"epochs": 4})
        run.log_image("samples/pred", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, step=7)
        time.sleep(0.4)  # a few system samples
        self.assertFalse(loupe.finish())  # nothing was sent: it is all in the spool
        self.assertIsNone(run.id)
        self.assertIsNone(experiments_of(self.server, "offline-mode"))

        env = dict(os.environ, LOUPE_MODE="offline")  # sync sends whatever the mode says
        out = subprocess.run([sys.executable, "-m", "loupe", "sync", "--spool-dir", self.spool],
                             capture_output=True, text=True, env=env, timeout=120)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("1 run(s) sent", out.stdout)
        exps = experiments_of(self.server, "offline-mode")
        self.assertEqual([(e["name"], e["status"]) for e in exps], [("on-a-plane", "finished")])
        eid = exps[0]["id"]
        loss = series(self.server, eid, "train/loss")
        self.assertEqual([p[0] for p in loss["points"]], list(range(300)))
        self.assertGreaterEqual(series(self.server, eid, "system/memory.percent")["count"], 1)
        exp = experiment(self.server, eid)
        self.assertEqual(exp["config"], {"lr": 0.5, "epochs": 4})
        self.assertIn("cores", exp["system"]["cpu"])
        self.assertIn("offline line", console_texts(self.server, eid))
        tag = self.server.request("GET", f"/api/v1/experiment/{eid}/tag/samples/pred")[1]["data"]
        self.assertEqual(tag["list"][0]["index"], 7)
        self.assertEqual(os.listdir(self.spool), [])

    def test_disabled_mode_makes_every_call_a_cheap_no_op(self):
        stdout, excepthook = sys.stdout, sys.excepthook
        threads = set(threading.enumerate())
        with loupe.init(project="disabled", mode="disabled", **self.run_kwargs()) as run:
            self.assertIs(sys.stdout, stdout)  # no console capture
            self.assertIs(sys.excepthook, excepthook)
            self.assertEqual(set(threading.enumerate()) - threads, set())  # no sender thread
            start = time.monotonic()
            for s in range(10000):
                loupe.log({"loss": 1.0 / (s + 1)}, step=s)
            self.assertLess(time.monotonic() - start, 1.0)
            loupe.log_image("samples/x", "no/such/file.png")
            run.update_config({"epochs": 1})
            self.assertTrue(loupe.finish())
        self.assertIsNone(run.id)
        self.assertTrue(run.finished)
        self.assertEqual(os.listdir(self.spool), [])  # no files
        self.assertIsNone(experiments_of(self.server, "disabled"))  # no network

    def test_mode_comes_from_the_argument_then_loupe_mode_and_is_validated(self):
        quiet = dict(capture_console=False, system_metrics_interval=0)
        with mock.patch.dict(os.environ, {"LOUPE_MODE": "disabled"}):
            self.assertEqual(loupe.Run(**self.run_kwargs(**quiet)).mode, "disabled")
            run = loupe.init(project="sdk", mode="online", **self.run_kwargs(**quiet))
            self.assertEqual(run.mode, "online")  # the argument wins
            self.assertTrue(run.finish())
        with mock.patch.dict(os.environ, {"LOUPE_MODE": "offline"}):
            run = loupe.Run(**self.run_kwargs(**quiet))
            self.assertEqual(run.mode, "offline")
            self.assertFalse(run.finish(timeout=5))
        with mock.patch.dict(os.environ, {"LOUPE_MODE": "airplane"}):
            with self.assertRaisesRegex(ValueError, "LOUPE_MODE='airplane'"):
                loupe.init(**self.run_kwargs(**quiet))
        with self.assertRaisesRegex(ValueError, "'online', 'offline' or 'disabled', got 'Offline'"):
            loupe.init(mode="Offline", **self.run_kwargs(**quiet))

    def test_carriage_return_progress_costs_linear_time_and_keeps_the_last_update(self):
        real_stdout = sys.stdout
        sys.stdout = io.StringIO()  # the terminal the progress bar would draw on
        try:
            run = loupe.init(project="sdk", name="progress", **self.run_kwargs(system_metrics_interval=0))
            tee = sys.stdout
            start = time.monotonic()
            for i in range(1, 20001):
                sys.stdout.write(f"\rtraining {i}/20000 loss={1 / i:.6f}")
            elapsed = time.monotonic() - start
            self.assertLess(elapsed, 1.5)
            self.assertLess(tee._lines._partial_len, 100)  # only the text after the last "\r" is kept
            sys.stdout.write("\n")
            print("done")
            self.assertTrue(loupe.finish())
        finally:
            sys.stdout = real_stdout
        texts = console_texts(self.server, run.id)
        self.assertEqual([t for t in texts if "/20000" in t], ["training 20000/20000 loss=0.000050"])
        self.assertIn("done", texts)


class FdConsoleTest(unittest.TestCase):
    """Capture at the file-descriptor level, in a real script process."""

    def setUp(self):
        self.spool = tempfile.mkdtemp(prefix="loupe-spool-")
        self.server = LoupeServer().start()
        self.env = {**os.environ, "PYTHONPATH": os.path.join(os.path.dirname(__file__), "..", "..", "sdk", "python"),
                    "LOUPE_SPOOL_DIR": self.spool}
        self.script = os.path.join(os.path.dirname(__file__), "console_script.py")

    def tearDown(self):
        self.server.cleanup()
        shutil.rmtree(self.spool, ignore_errors=True)

    def lines(self, run_id):
        return self.server.request("GET", f"/api/v1/experiments/{run_id}/console/lines?limit=1000")[1]["data"]["lines"]

    def test_everything_the_script_writes_reaches_the_run_and_the_terminal(self):
        p = subprocess.run([sys.executable, self.script, self.server.url], env=self.env, capture_output=True,
                           timeout=60)
        out, err = p.stdout.decode(), p.stderr.decode()
        self.assertEqual(p.returncode, 0, err)
        run_id = int(out.rsplit("RUN_ID=", 1)[1])
        # The terminal sees what it saw before.
        for text in ("written to fd 1 directly", "from a child process", "\x1b[1;32mgreen and bold\x1b[0m plain",
                     "isatty=False"):
            self.assertIn(text, out)
        for text in ("INFO:early:from a handler made before init", "UserWarning: learning rate looks high",
                     " 50%|#####     |\r 60%", "loupe: View run 'noisy'"):
            self.assertIn(text, err)
        lines = self.lines(run_id)
        texts = [l["text"] for l in lines]
        for text in ("INFO:early:from a handler made before init", "written to fd 1 directly",
                     "from a child process", "\x1b[1;32mgreen and bold\x1b[0m plain", "100%|##########|",
                     "unicode: héllo ✓ 中文"):
            self.assertIn(text, texts)
        self.assertEqual([t for t in texts if "%|" in t], ["100%|##########|"])  # redraws resolved
        self.assertFalse(any("View run" in t for t in texts), texts)  # the SDK's own messages stay out
        warning = next(l for l in lines if "UserWarning: learning rate looks high" in l["text"])
        self.assertEqual((warning["stream"], warning["level"]), ("stderr", "warning"))
        handler = next(l for l in lines if l["text"] == "INFO:early:from a handler made before init")
        self.assertEqual(handler["stream"], "stderr")
        ts = [l["ts"] for l in lines]
        self.assertEqual(ts, sorted(ts))
        status, body, headers = self.server.request("GET", f"/api/v1/experiments/{run_id}/console/export")
        text = body if isinstance(body, str) else body.decode()
        self.assertEqual(status, 200)
        self.assertIn("green and bold plain\n", text)
        self.assertNotIn("\x1b", text)
        self.assertIn('filename="noisy-console.log"', dict(headers).get("Content-Disposition", ""))
        stamped = self.server.request("GET", f"/api/v1/experiments/{run_id}/console/export?timestamps=1")[1]
        stamped = stamped if isinstance(stamped, str) else stamped.decode()
        self.assertRegex(stamped, r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00 stdout written to fd 1 directly\n")
        self.assertEqual(self.server.request("GET", f"/api/v1/experiments/{run_id}/console/export?timestamps=2")[0], 422)

    def test_a_child_that_outlives_the_script_keeps_writing_to_the_terminal(self):
        marker = os.path.join(self.spool, "child-status")
        code = ("import subprocess, sys, loupe\n"
                "run = loupe.init(project='console', name='parent', host=sys.argv[1], system_metrics_interval=0)\n"
                "print('parent line', flush=True)\n"
                f"subprocess.Popen(['sh', '-c', 'sleep 1; echo late child line; echo status=$? > {marker}'])\n"
                "run.finish()\n")
        p = subprocess.run([sys.executable, "-c", code, self.server.url], env=self.env, capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        # The child was not killed by SIGPIPE when the script exited: its line still
        # reached the terminal (the run had ended; the line is not the run's).
        self.assertIn("late child line", p.stdout.decode())
        with open(marker) as f:
            self.assertEqual(f.read().strip(), "status=0")

    def test_a_slow_terminal_loses_no_line_of_the_run(self):
        code = ("import sys, loupe\n"
                "run = loupe.init(project='console', name='slow', host=sys.argv[1], system_metrics_interval=0)\n"
                "for i in range(5000): print(f'line {i} ' + 'x' * 200)\n"
                "ok = run.finish()\n"
                "print('RUN', run.id, ok, file=sys.stderr)\n")
        writer = subprocess.Popen([sys.executable, "-c", code, self.server.url], env=self.env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        received = 0
        while True:  # a terminal that drains 16 KiB every 20 ms
            chunk = writer.stdout.read(16384)
            if not chunk:
                break
            received += len(chunk)
            time.sleep(0.02)
        err = writer.stderr.read().decode()
        self.assertEqual(writer.wait(timeout=60), 0, err)
        run_id = int(err.rsplit("RUN ", 1)[1].split()[0])
        self.assertIn(" True", err)
        total = self.server.request("GET", f"/api/v1/experiments/{run_id}/console/lines?limit=1")[1]["data"]["total"]
        self.assertEqual(total, 5000)

    def test_a_terminal_stays_a_terminal(self):
        import pty
        master, slave = pty.openpty()
        p = subprocess.Popen([sys.executable, self.script, self.server.url], env=self.env, stdout=slave,
                             stderr=slave, stdin=subprocess.DEVNULL)
        os.close(slave)
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        self.assertEqual(p.wait(timeout=60), 0, out)
        os.close(master)
        text = out.decode()
        self.assertIn("isatty=True", text)  # colours and progress bars keep working
        run_id = int(text.rsplit("RUN_ID=", 1)[1].split()[0])
        texts = [l["text"] for l in self.lines(run_id)]
        self.assertIn("written to fd 1 directly", texts)
        self.assertIn("100%|##########|", texts)


class ConsoleTeeTest(unittest.TestCase):
    def tee(self):
        lines = []
        return _Tee(io.StringIO(), "stdout", lambda stream, line: lines.append(line)), lines

    def test_a_line_without_newline_is_cut_at_the_line_limit(self):
        tee, lines = self.tee()
        for _ in range(200):
            tee.write("x" * 1000)
        self.assertEqual([len(l) for l in lines], [65536] * 3)  # cut as it grows, never held whole
        self.assertEqual(tee._lines._partial_len, 200000 - 3 * 65536)
        tee.write("\n")
        self.assertEqual([len(l) for l in lines], [65536] * 3 + [200000 - 3 * 65536])

    def test_carriage_return_resets_the_line_but_ends_a_crlf_line(self):
        tee, lines = self.tee()
        for text in ["a\r\n", "abc\r", "\n", "old\r", "new\n", "10%\r50%\r100%\n", "tail\r"]:
            tee.write(text)
        tee.drain()
        self.assertEqual(lines, ["a", "abc", "new", "100%", "tail"])
        self.assertEqual(tee._original.getvalue(), "a\r\nabc\r\nold\rnew\n10%\r50%\r100%\ntail\r")


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


class SystemUnitsTest(unittest.TestCase):
    """System metrics say GB and MB, so they are decimal: 23.54 GiB used is 25.28 GB."""

    def test_memory_figures_are_in_the_units_their_keys_name(self):
        from loupe import _system
        meminfo = {"MemTotal": 64 * 2 ** 30, "MemAvailable": 64 * 2 ** 30 - int(23.54 * 2 ** 30)}
        files = {"/proc/self/status": "Name:\tpython3\nVmRSS:\t  512000 kB\n", "/proc/stat": ""}
        smi = "0, 50, 40960, 81920, 61, 250.5\n"  # nvidia-smi: MiB
        with mock.patch.object(_system, "_meminfo", return_value=meminfo), \
                mock.patch.object(_system, "_read", side_effect=lambda p: files.get(p, "")), \
                mock.patch.object(_system, "_run", return_value=smi), \
                mock.patch.object(_system.shutil, "which", return_value="/usr/bin/nvidia-smi"):
            values = _system.Sampler().sample()
        self.assertEqual(values["system/memory.used_gb"], 25.276)  # 23.54 * 2^30 / 1e9
        self.assertEqual(values["system/process.memory_mb"], 524.3)  # 512000 KiB
        self.assertEqual(values["system/gpu.0.memory.used_mb"], 42949.7)  # 40960 MiB
        self.assertEqual(values["system/gpu.0.memory.percent"], 50.0)
        self.assertEqual(values["system/gpu.0.memory.total_mb"], 85899.3)  # 81920 MiB

    def test_a_job_samples_only_its_own_gpus_by_their_machine_index(self):
        from loupe import _system
        calls = []

        def smi(cmd):
            calls.append(cmd)
            return "1, 97, 70000, 81920, 70, 600\n3, 10, 1000, 81920, 40, 90\n"
        files = {"/proc/stat": ""}
        with mock.patch.object(_system, "_read", side_effect=lambda p: files.get(p, "")), \
                mock.patch.object(_system, "_run", side_effect=smi), \
                mock.patch.object(_system.shutil, "which", return_value="/usr/bin/nvidia-smi"):
            with mock.patch.dict(os.environ, {"CUDA_VISIBLE_DEVICES": "1,3"}):
                values = _system.Sampler().sample()
            self.assertEqual(calls[-1][-1], "--id=1,3")
            self.assertEqual(values["system/gpu.1.utilization"], 97)
            self.assertEqual(values["system/gpu.3.power_w"], 90)
            self.assertNotIn("system/gpu.0.utilization", values)
            calls.clear()
            with mock.patch.dict(os.environ, {"CUDA_VISIBLE_DEVICES": ""}):  # a job given no GPU
                values = _system.Sampler().sample()
            self.assertEqual(calls, [])
            self.assertFalse(any(k.startswith("system/gpu.") for k in values))


if __name__ == "__main__":
    unittest.main()
