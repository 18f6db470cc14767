"""Issue 19: no run loses, duplicates or misfiles what it logged. Each test reproduces
one way the SDK and server used to lose data (seeded `random`, reused ids, shared spool
folders, replays, resumes, whole-record refusals, truncated answers, SIGTERM, retried
uploads, races) and checks every value against the script's own ground truth."""
import io
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest
import unittest.mock
from contextlib import redirect_stderr

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "api"))
sys.path.insert(0, os.path.dirname(__file__))
from loupe_server import LoupeServer  # noqa: E402
from faulty_proxy import FaultyProxy  # noqa: E402

import loupe  # noqa: E402
from loupe._spool import Spool  # noqa: E402

SDK = os.path.dirname(os.path.dirname(os.path.abspath(loupe.__file__)))  # the SDK under test, for subprocesses
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def points(server, exp_id, key):
    status, p, _ = server.request("GET", f"/api/v1/experiments/{exp_id}/series?key={key}&max_points=100000")
    assert status == 200, p
    return [(s, v) for s, v, *_ in p["data"]["points"]]


def experiment(server, exp_id):
    return server.request("GET", f"/api/v1/experiments/{exp_id}")[1]["data"]


def console(server, exp_id):
    lines = server.request("GET", f"/api/v1/experiments/{exp_id}/console?limit=100000")[1]["data"]["lines"]
    return [l["text"] for l in lines]


def projects(server):
    return server.request("GET", "/api/v1/projects")[1]["data"]["projects"]


def experiments_of(server, name):
    pid = next((p["id"] for p in projects(server) if p["name"] == name), None)
    if pid is None:
        return []
    return server.request("GET", f"/api/v1/projects/{pid}/experiments")[1]["data"]["experiments"]


def run_script(code, *, env=None, wait=True):
    """Runs a Python script that imports the SDK; returns the process (finished if wait)."""
    full_env = dict(os.environ, PYTHONPATH=SDK + os.pathsep + os.environ.get("PYTHONPATH", ""), **(env or {}))
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=full_env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if wait:
        proc.communicate(timeout=120)
    return proc


class IntegrityTest(unittest.TestCase):
    def setUp(self):
        self.spool = tempfile.mkdtemp(prefix="loupe-spool-")
        self.server = LoupeServer().start()
        self.addCleanup(self.server.cleanup)
        self.addCleanup(shutil.rmtree, self.spool, True)

    def kw(self, **extra):
        base = dict(host=self.server.url, spool_dir=self.spool, flush_interval=0.05, capture_console=False,
                    system_metrics_interval=0)
        base.update(extra)
        return base

    def wait_id(self, run):
        deadline = time.time() + 10
        while run.id is None and time.time() < deadline:
            time.sleep(0.02)
        self.assertIsNotNone(run.id)
        return run.id

    # 1. Seeded scripts: the SDK's identities must not come from the user's `random`.
    def test_a_seeded_resumed_run_keeps_every_step_and_line(self):
        for part in range(2):
            random.seed(42)
            r = loupe.Run(project="seeded", run_id="resumed-1", **self.kw(capture_console=True))
            for s in range(100 * part, 100 * part + 100):
                r.log({"loss": s}, step=s)
                print(f"line {s}")
            self.assertTrue(r.finish(timeout=30))
        self.assertEqual(points(self.server, r.id, "loss"), [(s, s) for s in range(200)])
        self.assertEqual([t for t in console(self.server, r.id) if t.startswith("line ")],
                         [f"line {s}" for s in range(200)])

    def test_seeded_sweep_scripts_started_together_get_their_own_runs(self):
        ids = set()
        for _ in range(2):
            random.seed(7)
            ids.add(loupe.new_run_id())
        self.assertEqual(len(ids), 2)
        code = """
            import random, loupe
            random.seed(42)
            r = loupe.Run(project="sweep", **{kw})
            for s in range(200):
                r.log({{"x": s}}, step=s)
            assert r.finish(timeout=30)
        """.format(kw=repr(self.kw()))
        procs = [run_script(code, wait=False) for _ in range(2)]
        for p in procs:
            out, err = p.communicate(timeout=120)
            self.assertEqual(p.returncode, 0, err)
        exps = experiments_of(self.server, "sweep")
        self.assertEqual(len(exps), 2)
        for e in exps:
            self.assertEqual(points(self.server, e["id"], "x"), [(s, s) for s in range(200)])

    # 2. Ids are never reused; a deleted run's late writes are refused with 410.
    def test_a_deleted_runs_late_writes_never_land_in_the_next_run(self):
        old = loupe.Run(project="doomed", run_id="old", **self.kw())
        old_id = self.wait_id(old)
        old.log({"loss": 1.0}, step=0)
        time.sleep(0.3)
        status, body, _ = self.server.request("DELETE", f"/api/v1/experiment/{old_id}")
        self.assertEqual(status, 200, body)
        other = loupe.Run(project="other", run_id="new", **self.kw())
        new_id = self.wait_id(other)
        self.assertNotEqual(new_id, old_id)
        err = io.StringIO()
        with redirect_stderr(err):
            for s in range(1, 20):
                old.log({"loss": 2.0}, step=s)
            self.assertFalse(old.finish(timeout=10))
        self.assertTrue(old.deleted)
        self.assertTrue(other.finish(timeout=10))
        self.assertEqual(self.server.request("GET", f"/api/v1/experiments/{new_id}/keys")[1]["data"]["keys"], [])
        self.assertEqual(self.server.request("POST", f"/api/v1/experiments/{old_id}/heartbeat")[0], 410)
        self.assertEqual(os.listdir(self.spool), [])  # nothing kept for a run that no longer exists

    def test_a_deleted_dataset_id_is_never_given_to_the_next_upload(self):
        from loupe_server import multipart

        def upload(name):
            body, ctype = multipart({"name": name}, {"file": (f"{name}.csv", b"a,b\n1,2\n3,4\n")})
            status, p, _ = self.server.request("POST", "/api/v1/dataset/", raw=body, headers={"Content-Type": ctype})
            self.assertIn(status, (200, 201), p)
            return p["data"]["id"]

        first = upload("first")
        self.assertEqual(self.server.request("DELETE", f"/api/v1/dataset/{first}")[0], 200)
        self.assertNotEqual(upload("second"), first)  # a session that named `first` must not train on it

    # 3. Two processes on one run_id, and sync during a live script.
    def test_two_processes_on_one_run_id_keep_their_own_spools(self):
        code = """
            import loupe, sys, time
            r = loupe.Run(project="shared", run_id="same-run", **{kw})
            for s in range({n}):
                r.log({{"{key}": s}}, step=s)
                time.sleep({pause})
            assert r.finish(timeout=30)
        """
        fast = run_script(code.format(kw=repr(self.kw()), n=50, key="a", pause=0.0), wait=False)
        slow = run_script(code.format(kw=repr(self.kw()), n=150, key="b", pause=0.01), wait=False)
        for p in (fast, slow):
            _, err = p.communicate(timeout=120)
            self.assertEqual(p.returncode, 0, err)
        exp = experiments_of(self.server, "shared")
        self.assertEqual(len(exp), 1)
        self.assertEqual(points(self.server, exp[0]["id"], "a"), [(s, s) for s in range(50)])
        self.assertEqual(points(self.server, exp[0]["id"], "b"), [(s, s) for s in range(150)])

    def test_sync_while_a_script_logs_leaves_its_spool_alone(self):
        code = """
            import loupe, time
            r = loupe.Run(project="live", run_id="live-run", **{kw})
            for s in range(400):
                r.log({{"x": s}}, step=s)
                time.sleep(0.004)
            assert r.finish(timeout=30)
        """.format(kw=repr(self.kw()))
        proc = run_script(code, wait=False)
        while proc.poll() is None:
            loupe._sync.sync_report(spool_dir=self.spool, timeout=2)
            time.sleep(0.05)
        _, err = proc.communicate()
        self.assertEqual(proc.returncode, 0, err)
        exp = experiments_of(self.server, "live")[0]
        self.assertEqual(points(self.server, exp["id"], "x"), [(s, s) for s in range(400)])

    # 4. Replays send only what was not acknowledged.
    def test_sync_does_not_undo_an_acknowledged_config_update(self):
        r = loupe.Run(project="cfg", run_id="cfg-run", config={"lr": 1}, **self.kw())
        self.wait_id(r)
        r.update_config({"lr": 2})
        deadline = time.time() + 10
        while r.spool.pending() and time.time() < deadline:
            time.sleep(0.02)
        self.assertEqual(experiment(self.server, r.id)["config"], {"lr": 2})
        port = self.server.port
        self.server.stop()
        for s in range(30):
            r.log({"x": s}, step=s)
        with redirect_stderr(io.StringIO()):
            self.assertFalse(r.finish(timeout=1))
        self.server.port = port
        self.server.start()
        self.assertEqual(loupe.sync(spool_dir=self.spool), 1)
        exp = experiment(self.server, r.id)
        self.assertEqual(exp["config"], {"lr": 2})
        self.assertEqual(exp["status"], "finished")
        self.assertEqual(points(self.server, r.id, "x"), [(s, s) for s in range(30)])

    def test_localhost_is_told_to_use_the_address_the_server_printed(self):
        # The server's own token goes only to the exact address it serves; a script
        # pointed at localhost got a 401 and advice to set LOUPE_API_KEY.
        err = io.StringIO()
        kw = dict(self.kw(), host=f"http://localhost:{self.server.port}")
        with redirect_stderr(err), unittest.mock.patch.dict(os.environ, {"LOUPE_API_KEY": ""}):
            r = loupe.Run(project="via-localhost", **kw)
            r.log({"x": 1}, step=0)
            self.assertFalse(r.finish(timeout=2))
        self.assertIn(f"use http://127.0.0.1:{self.server.port} instead of localhost", err.getvalue())

    # Access control (issue 9): a credential the server does not accept loses nothing.
    def test_a_refused_credential_keeps_the_run_for_a_sync_that_has_the_right_one(self):
        err = io.StringIO()
        with redirect_stderr(err):
            r = loupe.Run(project="keyed", run_id="keyed-run", api_key="loupe_revoked-or-mistyped", **self.kw())
            for s in range(20):
                r.log({"x": s}, step=s)
            self.assertFalse(r.finish(timeout=2))
        self.assertIn("did not accept this client's credential", err.getvalue())
        self.assertEqual(r.refused, [])
        self.assertEqual(experiments_of(self.server, "keyed"), [])
        # A new process on this machine finds the server's local token by itself.
        env = {k: v for k, v in os.environ.items() if k != "LOUPE_API_KEY"}
        env["PYTHONPATH"] = SDK
        out = subprocess.run([sys.executable, "-m", "loupe", "sync", "--spool-dir", self.spool, "--timeout", "20"],
                             env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        (exp,) = experiments_of(self.server, "keyed")
        self.assertEqual(points(self.server, exp["id"], "x"), [(s, s) for s in range(20)])
        self.assertEqual(experiment(self.server, exp["id"])["status"], "finished")

    def test_sync_of_a_spool_with_nothing_to_send_leaves_a_finished_run_alone(self):
        r = loupe.Run(project="done", run_id="done-run", **self.kw())
        self.assertTrue(r.finish(timeout=10))
        # What a process killed between its last acknowledgement and cleaning up leaves.
        leftover = Spool(os.path.join(self.spool, "done-run", r.client))
        leftover.write_meta({"host": self.server.url, "create": dict(r._create_body)})
        leftover.release()
        self.assertEqual(loupe._sync.sync_report(spool_dir=self.spool).left, 0)
        self.assertEqual(experiment(self.server, r.id)["status"], "finished")
        self.assertEqual(os.listdir(self.spool), [])

    def test_sync_finishes_a_dead_scripts_run_crashed_and_exits_1_while_unreachable(self):
        code = """
            import loupe, os
            r = loupe.Run(project="dead", run_id="dead-run", **{kw})
            for s in range(20):
                r.log({{"x": s}}, step=s)
            r._drain_buffers()
            os._exit(9)  # killed before anything was sent or finished
        """.format(kw=repr(self.kw(host="http://127.0.0.1:1")))
        self.assertEqual(run_script(code).returncode, 9)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([SDK, os.environ.get("PYTHONPATH", "")]))
        args = [sys.executable, "-m", "loupe", "sync", "--spool-dir", self.spool]
        out = subprocess.run(args + ["--host", "http://127.0.0.1:1", "--timeout", "1"], capture_output=True,
                             text=True, env=env)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("could not be sent", out.stderr)
        out = subprocess.run(args + ["--host", self.server.url], capture_output=True, text=True, env=env)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        exp = experiments_of(self.server, "dead")[0]
        self.assertEqual(exp["status"], "crashed")
        self.assertEqual(points(self.server, exp["id"], "x"), [(s, s) for s in range(20)])
        self.assertEqual(os.listdir(self.spool), [])

    def test_resuming_on_the_same_machine_first_sends_what_a_dead_process_left(self):
        go = os.path.join(self.spool, "go")
        code = """
            import loupe, os, time
            r = loupe.Run(project="unsynced", run_id="u-run", **{kw})
            for s in range(50):
                r.log({{"x": s}})
            while r.id is None or r.spool.pending():
                time.sleep(0.02)
            print("acked", flush=True)
            while not os.path.exists({go!r}):  # the server is stopped meanwhile
                time.sleep(0.02)
            for s in range(50, 100):
                r.log({{"x": s}})
            r._drain_buffers()
            os._exit(9)  # dies with steps 50-99 in its spool
        """.format(kw=repr(self.kw()), go=go)
        proc = run_script(code, wait=False)
        self.assertEqual(proc.stdout.readline().strip(), "acked")
        port = self.server.port
        self.server.stop()
        open(go, "w").close()
        proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 9)
        os.unlink(go)
        self.server.port = port
        self.server.start()
        b = loupe.Run(project="unsynced", run_id="u-run", **self.kw())
        for i in range(20):
            b.log({"x": 1000 + i})
        self.assertTrue(b.finish(timeout=30))
        self.assertEqual(points(self.server, b.id, "x"),
                         [(s, s) for s in range(100)] + [(100 + i, 1000 + i) for i in range(20)])
        self.assertEqual(experiment(self.server, b.id)["status"], "finished")
        self.assertEqual(os.listdir(self.spool), [])

    def test_a_late_replay_from_another_machine_does_not_end_a_newer_resume(self):
        elsewhere = tempfile.mkdtemp(prefix="loupe-other-machine-")
        self.addCleanup(shutil.rmtree, elsewhere, True)
        a = loupe.Run(project="late", run_id="l-run", **self.kw(spool_dir=elsewhere, host="http://127.0.0.1:1"))
        a.log({"x": 0}, step=0)
        a._drain_buffers()
        a._close(0)  # a process that died with its records unsent, on another machine
        a.finished = True
        a.spool.release()
        time.sleep(0.01)
        b = loupe.Run(project="late", run_id="l-run", **self.kw())
        b.log({"x": 1}, step=1)
        self.assertTrue(b.finish(timeout=10))
        report = loupe._sync.sync_report(spool_dir=elsewhere, host=self.server.url, timeout=10)
        self.assertEqual(report.sent, 1)
        self.assertEqual(experiment(self.server, b.id)["status"], "finished")  # not the replay's "crashed"
        self.assertEqual(points(self.server, b.id, "x"), [(0, 0), (1, 1)])

    def test_a_late_replay_does_not_revive_a_run_its_newest_client_ended_crashed(self):
        elsewhere = tempfile.mkdtemp(prefix="loupe-other-machine-")
        self.addCleanup(shutil.rmtree, elsewhere, True)
        a = loupe.Run(project="late2", run_id="l2", mode="offline", **self.kw(spool_dir=elsewhere))
        a.log({"x": 0}, step=0)
        with redirect_stderr(io.StringIO()):
            a.finish()
        time.sleep(0.01)
        b = loupe.Run(project="late2", run_id="l2", **self.kw())
        b.log({"x": 1}, step=1)
        self.assertTrue(b.finish("crashed", timeout=10))
        self.assertEqual(loupe._sync.sync_report(spool_dir=elsewhere, host=self.server.url, timeout=10).sent, 1)
        exp = experiment(self.server, b.id)
        self.assertEqual(exp["status"], "crashed")
        self.assertEqual(points(self.server, b.id, "x"), [(0, 0), (1, 1)])

    def test_a_refused_or_broken_earlier_spool_does_not_keep_a_resume_from_starting(self):
        refused = loupe.Run(project="blocked", run_id="b-run", mode="offline",
                            config={"big": "x" * (1100 << 10)}, **self.kw())
        refused.log({"x": 0}, step=0)
        broken = loupe.Run(project="blocked", run_id="b-run", mode="offline", **self.kw())
        broken.log_image("img", PNG, step=0)
        broken.log({"y": 5}, step=0)
        with redirect_stderr(io.StringIO()):
            refused.finish()
            broken.finish()
        for name in os.listdir(broken.spool.dir):
            if name.endswith(".bin"):
                os.unlink(os.path.join(broken.spool.dir, name))  # a crash took the image's bytes
        err = io.StringIO()
        with redirect_stderr(err):
            r = loupe.Run(project="blocked", run_id="b-run", **self.kw())
            r.log({"z": 1}, step=0)
            self.assertTrue(r.finish(timeout=30))
        self.assertIn("was refused", err.getvalue())
        self.assertEqual(points(self.server, r.id, "y"), [(0, 5)])  # the broken spool's readable records
        self.assertEqual(points(self.server, r.id, "z"), [(0, 1)])
        self.assertTrue(os.path.isdir(refused.spool.dir))  # what was refused stays for the user to see

    def test_sync_reports_a_folder_whose_run_json_is_unreadable(self):
        r = loupe.Run(project="meta", mode="offline", **self.kw())
        r.log({"x": 1}, step=0)
        with redirect_stderr(io.StringIO()):
            r.finish()
        with open(os.path.join(r.spool.dir, "run.json"), "w") as f:
            f.write("{not json")
        with redirect_stderr(io.StringIO()):
            self.assertEqual(loupe._sync.sync_report(spool_dir=self.spool, host=self.server.url, timeout=2).left, 1)

    def test_live_processes_stay_apart_where_flock_is_missing(self):
        code = """
            import fcntl, loupe, time
            def no_flock(*a):
                raise OSError(37, "No locks available")
            fcntl.flock = no_flock
            r = loupe.Run(project="nfs", run_id="nfs-run", **{kw})
            print("started", flush=True)
            for s in range(200):
                r.log({{"a": s}}, step=s)
                time.sleep(0.005)
            assert r.finish(timeout=30)
        """.format(kw=repr(self.kw()))
        proc = run_script(code, wait=False)
        self.assertEqual(proc.stdout.readline().strip(), "started")
        import fcntl
        from unittest import mock
        with mock.patch.object(fcntl, "flock", side_effect=OSError(37, "No locks available")), \
                redirect_stderr(io.StringIO()):
            b = loupe.Run(project="nfs", run_id="nfs-run", **self.kw())
            for s in range(50):
                b.log({"b": s}, step=s)
            self.assertTrue(b.finish(timeout=30))
        _, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(points(self.server, b.id, "a"), [(s, s) for s in range(200)])
        self.assertEqual(points(self.server, b.id, "b"), [(s, s) for s in range(50)])

    def test_a_run_synced_late_starts_and_ends_when_the_client_did(self):
        from datetime import datetime, timezone
        t0 = 1700000000.25
        _, body, _ = self.server.request("POST", "/api/v1/experiments",
                                         {"project": "when", "run_id": "late", "client": "c1", "start_time": t0})
        eid = body["data"]["id"]
        status, body, _ = self.server.request("POST", f"/api/v1/experiments/{eid}/finish",
                                              {"status": "finished", "client": "c1", "time": t0 + 42.5})
        self.assertEqual(status, 200, body)
        exp = experiment(self.server, eid)
        iso = lambda t: datetime.fromtimestamp(t, timezone.utc).isoformat()  # noqa: E731
        self.assertEqual(exp["create_time"], iso(t0))
        self.assertEqual(exp["finish_time"], iso(t0 + 42.5))
        csv = self.server.request("GET", f"/projects/{exp['project_id']}/experiments.csv")[1].decode()
        self.assertIn(",42.5,", csv.splitlines()[1])  # the duration column: 42.5 s, not the time to sync
        # A clock ahead of the server's, or one before 2020, is not believed.
        now = time.time()
        _, body, _ = self.server.request("POST", "/api/v1/experiments",
                                         {"project": "when", "run_id": "future", "client": "c2",
                                          "start_time": now + 3600})
        started = datetime.fromisoformat(body["data"]["create_time"]).timestamp()
        self.assertLess(abs(started - now), 60)
        _, body, _ = self.server.request("POST", "/api/v1/experiments",
                                         {"project": "when", "run_id": "old-clock", "client": "c3",
                                          "start_time": 1000000000})
        self.assertLess(abs(datetime.fromisoformat(body["data"]["create_time"]).timestamp() - now), 60)

    def test_text_python_cannot_encode_is_kept_with_replacement_characters(self):
        r = loupe.Run(project="bytes", **self.kw())
        name = os.fsdecode(b"caf\xe9.png")  # a file name in another encoding: a lone surrogate
        r._on_console("stdout", "saved " + name)
        r._on_console("stdout", "epoch 1 ok")
        r.update_config({"file": name, "epochs": 10})
        self.assertTrue(r.finish(timeout=10))
        self.assertEqual(console(self.server, r.id), ["saved caf\ufffd.png", "epoch 1 ok"])
        self.assertEqual(experiment(self.server, r.id)["config"], {"file": "caf\ufffd.png", "epochs": 10})
        self.assertEqual(sys.modules["loupe.run"].clean_text("a\udcff\ud800b"), "a\ufffd\ufffdb")

    def test_sync_never_touches_folders_that_are_not_spools(self):
        root = tempfile.mkdtemp(prefix="loupe-not-a-spool-")
        self.addCleanup(shutil.rmtree, root, True)
        os.makedirs(os.path.join(root, "project", "src"))
        with open(os.path.join(root, "project", "src", "train.py"), "w") as f:
            f.write("precious")
        self.assertEqual(loupe._sync.sync_report(spool_dir=root, host=self.server.url), (0, 0, 0))
        self.assertEqual(os.listdir(os.path.join(root, "project", "src")), ["train.py"])

    def test_images_the_server_would_refuse_are_refused_at_log_time(self):
        r = loupe.Run(project="imgs", **self.kw())
        bmp = os.path.join(self.spool, "x.bmp")
        with open(bmp, "wb") as f:
            f.write(b"BM" + b"\0" * 64)
        with self.assertRaises(ValueError):
            r.log_image("a", bmp)
        with self.assertRaises(ValueError):
            r.log_image("a", PNG + b"\0" * (16 << 20))
        self.assertTrue(r.finish(timeout=10))

    def test_the_scripts_own_sigterm_handler_survives_finish(self):
        code = """
            import loupe, os, signal, sys
            r = loupe.Run(project="handlers", **{kw})
            signal.signal(signal.SIGTERM, lambda *a: sys.exit(42))
            r.finish(timeout=10)
            os.kill(os.getpid(), signal.SIGTERM)
        """.format(kw=repr(self.kw()))
        self.assertEqual(run_script(code).returncode, 42)

    def test_a_spool_on_a_file_system_without_flock_still_logs(self):
        import fcntl
        from unittest import mock
        with mock.patch.object(fcntl, "flock", side_effect=OSError(37, "No locks available")), \
                redirect_stderr(io.StringIO()) as err:
            r = loupe.Run(project="nfs", **self.kw())
            r.log({"x": 1}, step=0)
            self.assertTrue(r.finish(timeout=10))
        self.assertIn("cannot lock", err.getvalue())
        self.assertEqual(points(self.server, r.id, "x"), [(0, 1)])

    def test_a_run_id_cannot_lead_the_spool_out_of_its_folder(self):
        for bad in ("..", ".", "a/b", "../../etc", "x" * 129):
            with self.assertRaises(ValueError, msg=bad):
                loupe.Run(project="p", run_id=bad, **self.kw())
        self.assertEqual(os.listdir(self.spool), [])

    def test_empty_client_ids_are_refused_everywhere_and_a_rename_keeps_the_description(self):
        status, body, _ = self.server.request("POST", "/api/v1/experiments", {"project": "c", "client": ""})
        self.assertEqual(status, 422, body)
        _, body, _ = self.server.request("POST", "/api/v1/experiments",
                                         {"project": "c", "description": "keep me", "client": "abc"})
        eid = body["data"]["id"]
        for path, payload in (("console", {"client": "", "lines": []}),
                              ("metrics", {"client": "", "steps": []}),
                              ("finish", {"client": "", "status": "finished"})):
            status, body, _ = self.server.request("POST", f"/api/v1/experiments/{eid}/{path}", payload)
            self.assertEqual(status, 422, (path, body))
        status, body, _ = self.server.request("PATCH", f"/api/v1/experiment/{eid}", {"name": "renamed"})
        self.assertEqual(status, 200, body)
        self.assertEqual(experiment(self.server, eid)["description"], "keep me")

    # 5. Resuming without step= appends.
    def test_resuming_without_steps_continues_after_the_last_step(self):
        for part in range(2):
            r = loupe.Run(project="resume", run_id="auto-steps", **self.kw())
            for i in range(50):
                r.log({"loss": 100 * part + i})
            self.assertTrue(r.finish(timeout=10))
        got = points(self.server, r.id, "loss")
        self.assertEqual([s for s, _ in got], list(range(100)))
        self.assertEqual([v for _, v in got], list(range(50)) + list(range(100, 150)))

    # 6. One bad value never takes the rest of its record with it.
    def test_a_refused_key_keeps_the_rest_of_the_record(self):
        first = loupe.Run(project="partial", run_id="p-run", **self.kw())
        first.log_image("img", PNG, step=0)
        self.assertTrue(first.finish(timeout=10))
        second = loupe.Run(project="partial", run_id="p-run", **self.kw())
        line = "é" * 40000 + "end"  # 80 KB of two-byte characters
        err = io.StringIO()
        with redirect_stderr(err):
            for s in range(10):
                second.log({"loss": s, "img": 1.0}, step=s)
            second._on_console("stdout", line)
            self.assertFalse(second.finish(timeout=10))  # something was refused: not everything was kept
        self.assertEqual(points(self.server, second.id, "loss"), [(s, s) for s in range(10)])
        self.assertTrue(any(x["key"] == "img" for x in second.refused))
        self.assertIn("'img'", err.getvalue())
        self.assertEqual("".join(console(self.server, second.id)), line)
        with self.assertRaises(ValueError):
            second.log({"loss": 1}, step=2 ** 53 + 1)
        r = loupe.Run(project="partial", **self.kw())
        r.log_image("pic", PNG, step=0)
        with self.assertRaises(ValueError):
            r.log({"pic": 1.0})
        self.assertTrue(r.finish(timeout=10))

    def test_more_keys_than_one_request_takes_are_split_not_refused(self):
        r = loupe.Run(project="wide", **self.kw(max_buffered_points=10 ** 6))
        r.log({f"k/{i}": i for i in range(12000)}, step=0)
        self.assertTrue(r.finish(timeout=60))
        keys = self.server.request("GET", f"/api/v1/experiments/{r.id}/keys")[1]["data"]["keys"]
        self.assertEqual(len(keys), 12000)

    # 7. A truncated answer is retried, never a dead sender.
    def test_truncated_and_lost_answers_are_retried_and_applied_once(self):
        calls = {"n": 0}

        def policy(method, path):
            if "/metrics" in path or "/console" in path or "/media" in path:
                calls["n"] += 1
                return ("pass", "truncate", "pass", "drop")[calls["n"] % 4]
            return "pass"

        proxy = FaultyProxy(self.server.url, policy).start()
        self.addCleanup(proxy.stop)
        # The proxy is another port: the local token is not found by port, so it is given.
        r = loupe.Run(project="flaky-net", api_key=self.server.token, **self.kw(host=proxy.url, capture_console=True))
        with redirect_stderr(io.StringIO()):
            for s in range(300):
                r.log({"x": s}, step=s)
                if s % 30 == 0:
                    print(f"tick {s}")
                    r.log_image("frames", PNG, step=s)
                    time.sleep(0.06)
            self.assertTrue(r.finish(timeout=60))
        self.assertGreater(proxy.counts["truncate"], 0)
        self.assertGreater(proxy.counts["drop"], 0)
        self.assertEqual(points(self.server, r.id, "x"), [(s, s) for s in range(300)])
        self.assertEqual([t for t in console(self.server, r.id) if t.startswith("tick")],
                         [f"tick {s}" for s in range(0, 300, 30)])
        media = self.server.request("GET", f"/api/v1/experiment/{r.id}/tag/frames")[1]["data"]["list"]
        self.assertEqual(sorted(m["index"] for m in media), list(range(0, 300, 30)))  # each upload once
        files = os.listdir(os.path.join(self.server.data_dir, "media", str(r.id)))
        self.assertEqual(len(files), 10)

    # 8. SIGTERM flushes and finishes.
    def test_sigterm_flushes_the_buffer_and_finishes_the_run(self):
        code = """
            import loupe, sys, time
            r = loupe.Run(project="term", run_id="term-run", **{kw})
            for s in range(100):
                r.log({{"x": s}}, step=s)
            print("ready", flush=True)
            time.sleep(60)
        """.format(kw=repr(self.kw(flush_interval=30)))
        proc = run_script(code, wait=False)
        self.assertEqual(proc.stdout.readline().strip(), "ready")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 128 + signal.SIGTERM, err)
        exp = experiments_of(self.server, "term")[0]
        self.assertEqual(exp["status"], "stopped")
        self.assertEqual(points(self.server, exp["id"], "x"), [(s, s) for s in range(100)])

    # 9. Orphan media files (a crash between file and row) are swept at start.
    def test_orphan_media_files_are_removed_at_start(self):
        r = loupe.Run(project="media", **self.kw())
        r.log_image("img", PNG, step=1)
        self.assertTrue(r.finish(timeout=10))
        folder = os.path.join(self.server.data_dir, "media", str(r.id))
        kept = os.listdir(folder)
        self.assertEqual(len(kept), 1)
        with open(os.path.join(folder, "1-123-0.png"), "wb") as f:
            f.write(PNG)
        os.makedirs(os.path.join(self.server.data_dir, "media", "99999"))
        port = self.server.port
        self.server.kill9()
        self.server.port = port
        self.server.start()
        self.assertEqual(os.listdir(folder), kept)
        self.assertFalse(os.path.exists(os.path.join(self.server.data_dir, "media", "99999")))

    # 11. Races end with one winner and nothing acknowledged lost.
    def test_stop_after_finish_is_a_conflict_and_the_run_stays_finished(self):
        r = loupe.Run(project="race", **self.kw())
        self.assertTrue(r.finish(timeout=10))
        status, body, _ = self.server.request("GET", f"/api/v1/experiment/{r.id}/stop")
        self.assertEqual(status, 409, body)
        self.assertEqual(experiment(self.server, r.id)["status"], "finished")

    def test_stop_racing_finish_has_one_winner_and_the_answers_say_which(self):
        for i in range(60):
            _, body, _ = self.server.request("POST", "/api/v1/experiments", {"project": "races", "run_id": f"r{i}"})
            eid = body["data"]["id"]
            answers = {}

            def finish():
                answers["finish"] = self.server.request("POST", f"/api/v1/experiments/{eid}/finish",
                                                        {"status": "finished"})
            def stop():
                answers["stop"] = self.server.request("GET", f"/api/v1/experiment/{eid}/stop")
            threads = [threading.Thread(target=finish), threading.Thread(target=stop)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            final = experiment(self.server, eid)["status"]
            finish_said = answers["finish"][1]["data"]["status"]
            self.assertEqual(finish_said, final)  # what the client was told is what is stored
            if answers["stop"][0] == 200:
                self.assertEqual(final, "stopped")
            else:
                self.assertEqual((answers["stop"][0], final), (409, "finished"))

    def test_a_rename_racing_show_hide_keeps_both(self):
        _, body, _ = self.server.request("POST", "/api/v1/experiments", {"project": "races", "run_id": "patch"})
        eid = body["data"]["id"]
        for i in range(60):
            show = i % 2 == 0
            threads = [
                threading.Thread(target=self.server.request,
                                 args=("PATCH", f"/api/v1/experiment/{eid}", {"name": f"name-{i}"})),
                threading.Thread(target=self.server.request,
                                 args=("PATCH", f"/api/v1/experiment/{eid}/show", {"show": show})),
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            e = experiment(self.server, eid)
            self.assertEqual((e["name"], e["show"]), (f"name-{i}", show))

    # 12. A renamed project: resuming under the old name finds the run.
    def test_resume_after_the_project_was_renamed_keeps_one_run(self):
        r = loupe.Run(project="before", run_id="rename-run", **self.kw())
        r.log({"x": 0}, step=0)
        self.assertTrue(r.finish(timeout=10))
        pid = experiment(self.server, r.id)["project_id"]
        status, body, _ = self.server.request("PATCH", f"/api/v1/project/update?project_id={pid}", {"name": "after"})
        self.assertEqual(status, 200, body)
        again = loupe.Run(project="before", run_id="rename-run", **self.kw())
        again.log({"x": 1}, step=1)
        self.assertTrue(again.finish(timeout=10))
        self.assertEqual(again.id, r.id)
        self.assertEqual([p["name"] for p in projects(self.server)], ["after"])
        self.assertEqual(points(self.server, r.id, "x"), [(0, 0), (1, 1)])


if __name__ == "__main__":
    unittest.main()
