"""Training jobs through the real binary: a PyTorch script launched with no Loupe-specific
arguments logs through the SDK into its job's run and is stopped by its time budget; a
money cap, bad specs, roles, a Loupe killed with kill -9 while a job runs, the CLI, and the
pages' numbers."""
import gzip
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "api"))
from loupe_server import LoupeServer  # noqa: E402

BIN = os.path.abspath(os.environ.get("LOUPE_BIN", "build/loupe"))
SDK = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "sdk", "python"))

TORCH_SCRIPT = textwrap.dedent("""\
    import time
    import torch
    import loupe

    run = loupe.init()  # the job's run: project, run id and config from the job
    torch.manual_seed(0)
    x = torch.linspace(-1, 1, 64).unsqueeze(1)
    y = 3 * x + 0.5
    model = torch.nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=run.config["lr"])
    print("training with lr", run.config["lr"], flush=True)
    for step in range(1, 100000):
        loss = torch.nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        run.log({"train/loss": loss.item()}, step=step)
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.6f}", flush=True)
        time.sleep(0.01)
    """)


CHECKPOINT_SCRIPT = textwrap.dedent("""\
    import os
    import time
    import torch
    import loupe

    run = loupe.init()
    torch.manual_seed(0)
    x = torch.linspace(-1, 1, 64).unsqueeze(1)
    y = 3 * x + 0.5
    model = torch.nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=run.config["lr"])
    start = 1
    ckpt = run.resume_checkpoint()
    if ckpt:
        state = torch.load(os.path.join(ckpt.path, "state.pt"))
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        start = ckpt.step + 1
        print("resumed at", start, "weight", round(model.weight.item(), 6), flush=True)
    for step in range(start, 100000):
        loss = torch.nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        run.log({"train/loss": loss.item()}, step=step)
        if run.checkpoint_requested:
            os.makedirs("ckpt", exist_ok=True)
            torch.save({"model": model.state_dict(), "opt": opt.state_dict()}, "ckpt/state.pt")
            run.save_checkpoint("ckpt", step=step, metrics={"train/loss": loss.item()})
            print("checkpoint at", step, "weight", round(model.weight.item(), 6), flush=True)
        time.sleep(0.01)
    """)


def wait_state(server, job_id, states=("finished", "failed", "stopped", "lost"), timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, body, _ = server.get(f"/api/v1/launch/jobs/{job_id}")
        if status == 200 and body["data"]["state"] in states:
            return body["data"]
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not reach {states}: {body}")


def console(server, experiment_id):
    status, body, _ = server.get(f"/api/v1/experiments/{experiment_id}/console?limit=10000")
    assert status == 200, body
    return [(line["stream"], line["text"]) for line in body["data"]["lines"]]


class LaunchApiTest(unittest.TestCase):
    def setUp(self):
        self.server = LoupeServer().start()
        self.addCleanup(self.server.cleanup)
        self.code = tempfile.mkdtemp(prefix="loupe-code-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", self.code]))

    def write(self, name, text):
        with open(os.path.join(self.code, name), "w", encoding="utf-8") as f:
            f.write(text)

    def launch(self, spec):
        status, body, _ = self.server.post("/api/v1/launch/jobs", spec)
        self.assertEqual(status, 201, body)
        return body["data"]

    def test_a_torch_script_logs_through_the_sdk_until_its_time_budget_stops_it(self):
        self.write("train.py", TORCH_SCRIPT)
        spec_text = (f"name: linear\nproject: launched\ncommand: /usr/bin/python3 train.py\nworkdir: {self.code}\n"
                     "config:\n  lr: 0.1\nbudget:\n  max_minutes: 0.15\nstop_grace_seconds: 5\n"
                     f"env:\n  PYTHONPATH: {SDK}\n")
        job = self.launch({"spec_text": spec_text})
        self.assertEqual(job["name"], "linear")
        self.assertEqual(job["state"], "running")
        done = wait_state(self.server, job["id"])
        self.assertEqual(done["state"], "stopped", (done, console(self.server, job["experiment_id"])[-5:]))
        self.assertEqual(done["stop_reason"], "budget_time")
        self.assertGreaterEqual(done["elapsed_seconds"], 9.0)
        self.assertLess(done["elapsed_seconds"], 9.0 + 5)  # SIGTERM within a few ticks of the cap
        kinds = [e["kind"] for e in done["events"]]
        self.assertEqual(kinds[:2], ["launched", "started"])
        self.assertIn("alert", kinds)
        self.assertEqual([e["message"] for e in done["events"] if e["kind"] == "alert"][-1][:17], "budget 100% used ")
        # The run: created for the job, with the spec's config, the SDK's metrics and the console.
        exp = self.server.get(f"/api/v1/experiments/{job['experiment_id']}")[1]["data"]
        self.assertEqual(exp["run_id"], f"job-{job['id']}")
        self.assertEqual(exp["config"]["lr"], 0.1)
        self.assertEqual(exp["status"], "stopped")
        self.assertIn("launched", exp["tags"])
        status, body, _ = self.server.get(f"/api/v1/experiments/{job['experiment_id']}/series?key=train/loss")
        self.assertEqual(status, 200, body)
        points = body["data"]["points"]
        self.assertGreater(len(points), 50)
        self.assertEqual(points[0][0], 1)
        self.assertLess(points[-1][1], points[0][1] / 100)  # y = 3x + 0.5 is learned
        lines = console(self.server, job["experiment_id"])
        self.assertEqual(lines[0], ("stdout", "training with lr 0.1"))
        steps = [t for s, t in lines if t.startswith("step ")]
        self.assertEqual(len(steps), len(set(steps)))  # each line once: the SDK does not capture it again
        self.assertGreater(len(steps), 5)
        # The SDK's own last word on SIGTERM reached the console too.
        self.assertIn(("stderr", f"loupe: SIGTERM: finishing run job-{job['id']} as stopped"), lines)

    def test_every_epochs_asks_when_the_logged_epoch_passes_a_multiple(self):
        self.write("train.py", textwrap.dedent("""\
            import os
            import loupe
            run = loupe.init()
            for step in range(1, 11):
                run.log({"epoch": step / 2, "loss": 1.0 / step}, step=step)  # two steps an epoch
                if run.checkpoint_requested:
                    os.makedirs("ckpt", exist_ok=True)
                    open("ckpt/at.txt", "w").write(str(step))
                    run.save_checkpoint("ckpt", step=step)
                    print("saved at epoch", step / 2, flush=True)
            run.finish()
            """))
        job = self.launch({"name": "epochs", "command": "/usr/bin/python3 train.py", "workdir": self.code,
                           "env": {"PYTHONPATH": SDK}, "checkpoint": {"every_epochs": 2, "keep_latest": 10}})
        done = wait_state(self.server, job["id"])
        self.assertEqual(done["state"], "finished", console(self.server, job["experiment_id"]))
        self.assertEqual(done["spec"]["checkpoint"]["every_epochs"], 2)
        saved = [t for _, t in console(self.server, job["experiment_id"]) if t.startswith("saved at")]
        self.assertEqual(saved, ["saved at epoch 2.0", "saved at epoch 4.0"])
        self.assertEqual(sorted(c["step"] for c in done["checkpoints"]), [4, 8])
        # Each save is in the job's timeline, oldest first.
        name = f"checkpoint-job-{job['id']}"
        self.assertEqual([e["message"] for e in done["events"] if e["message"].startswith("saved ")],
                         [f"saved {name}:v0 at step 4", f"saved {name}:v1 at step 8"])

    def test_checkpoint_then_stop_waits_for_the_checkpoint(self):
        self.write("train.py", CHECKPOINT_SCRIPT)
        job = self.launch({"name": "ckpt-stop", "command": "/usr/bin/python3 train.py", "workdir": self.code,
                           "config": {"lr": 0.05}, "env": {"PYTHONPATH": SDK}, "stop_grace_seconds": 5,
                           "checkpoint": {"keep_latest": 5, "grace_seconds": 30}})
        # Asked at once, before the script's loupe.init() (it imports torch first): the SDK
        # answers a request made in its own segment.
        wait_state(self.server, job["id"], states=("running",))
        status, page = self.server.html(f"/launch/{job['id']}/live")
        self.assertIn('data-job-action="stop-checkpoint"', page)
        for bad, code in (({"checkpoint_first": "yes"}, 422), ({"now": True}, 422), ([1], 400)):
            status, body, _ = self.server.post(f"/api/v1/launch/jobs/{job['id']}/stop", bad)
            self.assertEqual(status, code, body)
        self.assertEqual(self.server.get(f"/api/v1/launch/jobs/{job['id']}")[1]["data"]["state"], "running")
        status, body, _ = self.server.post(f"/api/v1/launch/jobs/{job['id']}/stop", {"checkpoint_first": True})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["data"]["state"], "running")
        self.assertEqual(body["data"]["message"], "stopping after a checkpoint (waiting up to 30.0 s)")
        status, page = self.server.html(f"/launch/{job['id']}/live")
        self.assertNotIn("Checkpoint, then stop", page)  # asked already
        done = wait_state(self.server, job["id"])
        self.assertEqual((done["state"], done["stop_reason"]), ("stopped", "user"))
        messages = [e["message"] for e in done["events"]]
        self.assertIn("checkpoint asked (before a user's stop)", messages)
        (saved,) = [m for m in messages if m.startswith("saved before the stop: ")]
        self.assertEqual(saved, "saved before the stop: " + done["checkpoints"][0]["ref"])
        (stopping,) = [i for i, m in enumerate(messages) if m.startswith("stopped by a user, after a checkpoint: SIGTERM")]
        self.assertLess(messages.index(saved), stopping)
        # The pending stop is gone with it: a resumed job, or a restarted Loupe, must not stop again.
        self.assertFalse(os.path.exists(os.path.join(self.server.data_dir, "launch", str(job["id"]),
                                                     "stop-after-checkpoint.json")))

    def test_checkpoints_before_a_budget_stop_and_a_resume_that_continues_from_one(self):
        self.write("train.py", CHECKPOINT_SCRIPT)
        job = self.launch({"name": "ckpt", "command": "/usr/bin/python3 train.py", "workdir": self.code,
                           "config": {"lr": 0.05}, "env": {"PYTHONPATH": SDK},
                           "budget": {"max_minutes": 0.12}, "stop_grace_seconds": 5,
                           "checkpoint": {"every_steps": 100, "keep_latest": 2, "grace_seconds": 20,
                                          "keep_best": {"metric": "train/loss", "mode": "min"}}})
        done = wait_state(self.server, job["id"])
        self.assertEqual((done["state"], done["stop_reason"]), ("stopped", "budget_time"))
        messages = [e["message"] for e in done["events"]]
        self.assertIn("checkpoint asked (budget)", messages)
        saved_before = [m for m in messages if m.startswith("saved before the budget stop: ")]
        self.assertEqual(len(saved_before), 1, (messages, console(self.server, job["experiment_id"])[-12:]))
        # Retention: the latest two (the best by train/loss is the latest: the loss only falls).
        checkpoints = done["checkpoints"]
        self.assertEqual(len(checkpoints), 2, checkpoints)
        self.assertTrue(any(m.startswith("removed checkpoint-job-1:v") for m in messages), messages)
        latest = checkpoints[0]
        self.assertEqual(saved_before[0], "saved before the budget stop: " + latest["ref"])
        lines = [t for _, t in console(self.server, job["experiment_id"])]
        saved_lines = [t for t in lines if t.startswith("checkpoint at ")]
        self.assertEqual(saved_lines[-1].split()[2], str(latest["step"]))
        weight = saved_lines[-1].split()[4]
        self.assertEqual(latest["metrics"].keys(), {"train/loss"})
        status, body, headers = self.server.request("GET", latest["download"])
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/zip")
        # The page's resume form offers the spent cap again on top of what was used (to the
        # hundredth of a minute, up), and says what was used.
        used = done["elapsed_seconds"] / 60
        status, page = self.server.html(f"/launch/{job['id']}")
        offered = math.ceil((used + 0.12) * 100 - 1e-9) / 100
        self.assertIn(f'(used {used:.2f}) <input type="number" min="0.02" step="any" id="resume-minutes" '
                      f'value="{offered:.10g}"', page)
        # Spent: a resume needs a larger budget.
        status, body, _ = self.server.post(f"/api/v1/launch/jobs/{job['id']}/resume", {})
        self.assertEqual(status, 422)
        self.assertIn("budget is spent", body["message"])
        status, body, _ = self.server.post(f"/api/v1/launch/jobs/{job['id']}/resume", {"budget": {"max_minutes": 0.5}})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["data"]["state"], "running")
        self.assertEqual(body["data"]["resume_from"], latest["ref"])
        self.assertEqual(self.server.post(f"/api/v1/launch/jobs/{job['id']}/resume", {})[0], 409)
        deadline = time.time() + 30
        while time.time() < deadline and not any(t.startswith("resumed at") for _, t in console(self.server, job["experiment_id"])):
            time.sleep(0.1)
        resumed = [t for _, t in console(self.server, job["experiment_id"]) if t.startswith("resumed at")]
        self.assertEqual(resumed, [f"resumed at {latest['step'] + 1} weight {weight}"])  # the same model, the next step
        exp = self.server.get(f"/api/v1/experiments/{job['experiment_id']}")[1]["data"]
        self.assertEqual(exp["status"], "running")
        status, body, _ = self.server.post(f"/api/v1/launch/jobs/{job['id']}/checkpoint")
        self.assertEqual(status, 200, body)
        self.assertIn("checkpoint asked (asked by a user)", [e["message"] for e in body["data"]["events"]])
        self.server.post(f"/api/v1/launch/jobs/{job['id']}/stop")
        done = wait_state(self.server, job["id"])
        self.assertEqual(done["segments"], 2)
        self.assertIn("resumed", [e["kind"] for e in done["events"]])
        self.assertEqual(self.server.post(f"/api/v1/launch/jobs/{job['id']}/checkpoint")[0], 409)
        # The run's loss continued from the checkpoint's step, in the same run.
        status, body, _ = self.server.get(f"/api/v1/experiments/{job['experiment_id']}/series?key=train/loss&max_points=100000")
        steps = [p[0] for p in body["data"]["points"]]
        self.assertEqual(steps[0], 1)
        self.assertGreater(steps[-1], latest["step"] + 1)
        self.assertEqual(steps, sorted(set(steps)))
        for bad in [{"checkpoint": 999999}, {"checkpoint": "latest"}, {"when": 1}, {"budget": 5}]:
            status, _, _ = self.server.post(f"/api/v1/launch/jobs/{job['id']}/resume", bad)
            self.assertIn(status, (404, 422), bad)

    def test_the_training_package_runs_elsewhere_with_the_same_metrics(self):
        self.write("seeded.py", textwrap.dedent("""\
            import torch
            import loupe
            run = loupe.init()
            torch.manual_seed(run.config["seed"])
            x = torch.randn(128, 3)
            y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.1 * torch.randn(128, 1)
            model = torch.nn.Linear(3, 1)
            opt = torch.optim.SGD(model.parameters(), lr=run.config["lr"])
            for step in range(1, 21):
                loss = torch.nn.functional.mse_loss(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                run.log({"loss": loss.item()}, step=step)
                print(f"step {step} loss {loss.item():.9f}", flush=True)
            print("greeting", __import__("os").environ["GREETING"])
            """))
        git = ["git", "-C", self.code, "-c", "user.email=t@example.com", "-c", "user.name=t"]
        subprocess.run(git[:3] + ["init", "-q"], check=True)
        subprocess.run(git + ["add", "seeded.py"], check=True)
        subprocess.run(git + ["commit", "-qm", "seeded"], check=True)
        commit = subprocess.run(git[:3] + ["rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
        with open(os.path.join(self.code, "seeded.py"), "a") as f:
            f.write("# tuned\n")  # an uncommitted change: the diff goes into the package
        job = self.launch({"command": "/usr/bin/python3 seeded.py", "workdir": self.code, "name": "seeded",
                           "config": {"seed": 7, "lr": 0.1}, "env": {"PYTHONPATH": SDK, "GREETING": "it's here"}})
        done = wait_state(self.server, job["id"])
        self.assertEqual(done["state"], "finished", console(self.server, job["experiment_id"]))
        in_loupe = [t for s, t in console(self.server, job["experiment_id"]) if s == "stdout"]
        status, body, headers = self.server.request("GET", f"/api/v1/launch/jobs/{job['id']}/package")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/gzip")
        self.assertIn(f'filename="loupe-job-{job["id"]}.tar.gz"', headers["Content-Disposition"])
        elsewhere = tempfile.mkdtemp(prefix="loupe-package-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", elsewhere]))
        with open(os.path.join(elsewhere, "p.tar.gz"), "wb") as f:
            f.write(body)
        subprocess.run(["tar", "-xzf", "p.tar.gz"], cwd=elsewhere, check=True)
        top = os.path.join(elsewhere, f"job-{job['id']}")
        self.assertEqual(sorted(os.listdir(top)), ["README.md", "config.json", "environment.json", "run.sh",
                                                   "sdk", "spec.json", "workdir"])
        # The SDK of this Loupe, for a Python without it (run.sh uses it when `import loupe` fails).
        sdk_files = sorted(f for f in os.listdir(os.path.join(SDK, "loupe")) if f.endswith(".py"))
        self.assertEqual(sorted(os.listdir(os.path.join(top, "sdk", "loupe"))), sdk_files)
        for name in sdk_files:
            with open(os.path.join(SDK, "loupe", name), "rb") as a, open(os.path.join(top, "sdk", "loupe", name), "rb") as b:
                self.assertEqual(a.read(), b.read(), name)
        self.assertEqual(os.listdir(os.path.join(top, "workdir")), ["seeded.py"])  # no .git, no outputs
        with open(os.path.join(top, "environment.json")) as f:
            env = json.load(f)
        self.assertEqual(env["git"]["commit"], commit)
        self.assertIn("+# tuned", env["git"]["diff"])
        self.assertEqual(env["python"]["executable"], "/usr/bin/python3")
        self.assertTrue(any(p.startswith("torch==") for p in env["python"]["packages"]), env["python"]["packages"][:5])
        with open(os.path.join(top, "config.json")) as f:
            self.assertEqual(json.load(f), {"seed": 7, "lr": 0.1})
        # Outside Loupe, with nothing of the job's environment, on a machine where the spec's
        # PYTHONPATH is no folder: the package's own SDK, and the same numbers.
        with open(os.path.join(top, "run.sh")) as f:
            run_sh = f.read()
        self.assertIn(f"export PYTHONPATH='{SDK}'", run_sh)
        with open(os.path.join(top, "run.sh"), "w") as f:
            f.write(run_sh.replace(f"export PYTHONPATH='{SDK}'", "export PYTHONPATH='/nonexistent/sdk'"))
        out = subprocess.run(["sh", os.path.join(top, "run.sh")], capture_output=True, text=True, timeout=120,
                             env={"PATH": "/usr/bin:/bin", "LOUPE_MODE": "disabled", "HOME": elsewhere})
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.splitlines(), in_loupe)
        self.assertEqual(in_loupe[-1], "greeting it's here")
        self.assertEqual(self.server.get("/api/v1/launch/jobs/99/package")[0], 404)

    def test_progress_projects_the_total_time_and_cost(self):
        self.server.request("PUT", "/api/v1/launch/prices", {"prices": {"cpu": 36}})  # a cent a second
        self.write("half.py", "import time, loupe\nrun = loupe.init()\n"
                              "for s in range(1, 51):\n    run.log({'loss': 1 / s}, step=s)\n"
                              "run.finish()\ntime.sleep(60)\n")
        job = self.launch({"command": "/usr/bin/python3 half.py", "workdir": self.code, "total_steps": 200,
                           "env": {"PYTHONPATH": SDK}})
        deadline = time.time() + 30
        while time.time() < deadline:
            progress = self.server.get(f"/api/v1/launch/jobs/{job['id']}")[1]["data"]["progress"]
            if progress["step"] == 50:
                break
            time.sleep(0.1)
        self.assertEqual(progress["step"], 50, progress)
        self.server.post(f"/api/v1/launch/jobs/{job['id']}/stop")
        done = wait_state(self.server, job["id"])
        p = done["progress"]
        self.assertEqual((p["step"], p["total_steps"], p["fraction"]), (50, 200, 0.25))
        self.assertAlmostEqual(p["projected_seconds"], done["elapsed_seconds"] * 4, places=6)
        self.assertAlmostEqual(p["projected_cost"], done["cost"] * 4, places=9)
        self.assertAlmostEqual(done["cost"], done["elapsed_seconds"] * 0.01, places=9)
        status, page = self.server.html(f"/launch/{job['id']}")
        self.assertIn("50 of 200 steps (25%)", page)
        seconds = p["projected_seconds"]  # under a minute: tenths, truncated, as the page writes it
        tenths = int(seconds * 10)
        cost = p["projected_cost"]
        self.assertIn(f"{tenths // 10}.{tenths % 10}s, ${cost:.4f}" if cost < 1 else f"${cost:.2f}", page)
        status, body, _ = self.server.post("/api/v1/launch/jobs?check=1", {"command": "x", "workdir": self.code,
                                                                            "total_steps": 0})
        self.assertEqual(body["data"]["problems"][0]["field"], "total_steps")

    def test_budget_alerts_reach_the_webhook(self):
        import http.server
        import threading
        received = []

        class Receiver(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                received.append((self.headers["Content-Type"], json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        self.addCleanup(receiver.shutdown)
        hook = f"http://127.0.0.1:{receiver.server_address[1]}/alerts"
        job = self.launch({"command": "exec sleep 60", "workdir": self.code, "name": "watched",
                           "budget": {"max_minutes": 0.05, "alert_webhook": hook}, "stop_grace_seconds": 0})
        wait_state(self.server, job["id"])
        deadline = time.time() + 10
        while len(received) < 3 and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual([r[1]["percent"] for r in received], [50, 80, 100])
        ctype, last = received[-1]
        self.assertEqual(ctype, "application/json")
        self.assertEqual((last["job_id"], last["name"], last["experiment_id"], last["max_minutes"], last["max_cost"], last["cost"]),
                         (job["id"], "watched", job["experiment_id"], 0.05, None, 0))
        self.assertGreaterEqual(last["elapsed_seconds"], 3.0)
        self.assertEqual(last["url"], f"{self.server.url}/launch/{job['id']}")
        used = int(last["elapsed_seconds"] * 10)  # tenths, truncated
        self.assertEqual(last["message"], f"budget 100% used ({used // 10}.{used % 10} s of 3.0 s)")
        status, body, _ = self.server.post("/api/v1/launch/jobs?check=1", {"command": "x", "workdir": self.code,
                                                                            "budget": {"alert_webhook": "file:///etc/passwd"}})
        self.assertEqual(body["data"]["problems"], [{"field": "budget.alert_webhook", "message": "must be an http:// or https:// URL"}])

    def test_a_run_page_warns_when_gpu_memory_is_nearly_full(self):
        # The SDK's system metrics as a GPU machine sends them (no GPU here to make them).
        status, body, _ = self.server.post("/api/v1/experiments", {"project": "gpu", "run_id": "big-batch"})
        eid = body["data"]["id"]
        self.server.post(f"/api/v1/experiments/{eid}/metrics", {"steps": [
            {"step": 0, "values": {"system/gpu.0.memory.percent": 95.0, "system/gpu.1.memory.percent": 40.0}},
            {"step": 1, "values": {"system/gpu.0.memory.percent": 93.46, "system/gpu.1.memory.percent": 91.0}},
            {"step": 2, "values": {"system/gpu.1.memory.percent": 89.9}}]})
        status, page = self.server.html(f"/experiments/{eid}")
        self.assertEqual(status, 200)
        self.assertIn("GPU memory nearly full: GPU 0 at 93.5%; the next allocation may fail", page)
        self.assertNotIn("GPU 1 at", page)  # its latest sample is under 90%
        self.server.post(f"/api/v1/experiments/{eid}/finish", {"status": "finished"})
        self.assertNotIn("GPU memory nearly full", self.server.html(f"/experiments/{eid}")[1])  # only while it runs

    def test_stopping_the_run_stops_the_job_and_never_restarts_it(self):
        self.write("loop.py", "import time, loupe\nrun = loupe.init()\nfor s in range(100000):\n"
                              "    run.log({'x': s}, step=s)\n    time.sleep(0.05)\n")
        job = self.launch({"command": "/usr/bin/python3 loop.py", "workdir": self.code, "env": {"PYTHONPATH": SDK},
                           "restart": {"max_restarts": 2}})
        deadline = time.time() + 20
        while time.time() < deadline and self.server.get(f"/api/v1/launch/jobs/{job['id']}")[1]["data"]["progress"]["step"] is None:
            time.sleep(0.1)
        status, body, _ = self.server.post(f"/api/v1/experiments/{job['experiment_id']}/stop")
        self.assertEqual(status, 200, body)
        done = wait_state(self.server, job["id"])
        self.assertEqual((done["state"], done["stop_reason"], done["restarts"], done["segments"]),
                         ("stopped", "user", 0, 1), done["events"])
        self.assertEqual(self.server.get(f"/api/v1/experiments/{job['experiment_id']}")[1]["data"]["status"], "stopped")
        # A launch that never started cannot be resumed.
        status, body, _ = self.server.post("/api/v1/launch/jobs", {"command": "true", "workdir": self.code,
                                                                    "project": "x" * 300})
        self.assertEqual(status, 422)
        self.assertEqual(body["problems"][0]["field"], "project")

    def test_a_money_cap_stops_at_its_cost_and_the_pages_show_the_same_numbers(self):
        status, body, _ = self.server.request("PUT", "/api/v1/launch/prices", {"prices": {"cpu": 3600}})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["data"]["prices"], {"cpu": 3600})
        job = self.launch({"command": "echo working; exec sleep 60", "workdir": self.code, "name": "pricey",
                           "budget": {"max_cost": 2}, "resources": {"cpus": 1}})
        done = wait_state(self.server, job["id"])
        self.assertEqual(done["state"], "stopped")
        self.assertEqual(done["stop_reason"], "budget_cost")
        self.assertEqual(done["rate_per_hour"], 3600)
        self.assertAlmostEqual(done["cost"], done["elapsed_seconds"] * 3600 / 3600, places=9)
        self.assertGreaterEqual(done["cost"], 2)
        self.assertLess(done["cost"], 3)
        seg = done["segment_list"][0]
        self.assertAlmostEqual(seg["cost"], seg["seconds"] * 1.0, places=9)
        cost_text = "$%.2f" % done["cost"]  # from one dollar up, two decimals
        status, page = self.server.html("/launch")
        self.assertEqual(status, 200)
        self.assertIn("pricey", page)
        self.assertIn(f"{cost_text} of $2.00", page)
        self.assertIn("money budget", page)
        status, page = self.server.html(f"/launch/{job['id']}")
        self.assertEqual(status, 200)
        self.assertIn(f"{cost_text} of $2.00", page)
        self.assertIn("$3600.00/h", page)
        self.assertIn("killed by SIGTERM", page)
        status, page = self.server.html(f"/experiments/{job['experiment_id']}")
        self.assertIn(f"Job {job['id']}: stopped", page)
        # Spend: this one job, its one segment, on the day(s) it ran.
        spend = self.server.get("/api/v1/launch/spend")[1]["data"]
        self.assertAlmostEqual(spend["total"]["cost"], done["cost"], places=9)
        self.assertEqual(spend["total"]["jobs"], 1)
        self.assertEqual([(r["project"], r["jobs"]) for r in spend["by_project"]], [("default", 1)])
        self.assertEqual([(r["executor"], r["jobs"]) for r in spend["by_executor"]], [("local", 1)])
        self.assertEqual([(r["gpu_type"], r["jobs"]) for r in spend["by_gpu_type"]], [("none (CPU)", 1)])
        self.assertAlmostEqual(sum(d["cost"] for d in spend["by_day"]), done["cost"], places=9)
        status, page = self.server.html("/launch")
        self.assertIn(f"Spend: {cost_text} over 1 job (", page)
        # Prices are checked: a bad one changes nothing.
        for bad in [{"prices": {"cpu": -1}}, {"prices": {"cpu": "1"}}, {"prices": []}, {"cpu": 1}]:
            status, body, _ = self.server.request("PUT", "/api/v1/launch/prices", bad)
            self.assertEqual(status, 422, bad)
        self.assertEqual(self.server.get("/api/v1/launch/prices")[1]["data"]["prices"], {"cpu": 3600})

    def test_bad_specs_are_refused_with_every_problem_before_anything_runs(self):
        spec = {"command": "python3 nope.py", "workdir": self.code, "resources": {"cpus": 100000, "gpus": 1},
                "budget": {"max_cost": 5}, "colour": "red"}
        status, body, _ = self.server.post("/api/v1/launch/jobs", spec)
        self.assertEqual(status, 422, body)
        fields = [p["field"] for p in body["problems"]]
        self.assertEqual(sorted(fields), sorted(["colour", "resources.cpus", "command", "resources.gpus",
                                                 "budget.max_cost"]), body)
        self.assertIn("the script 'nope.py' is not in the working directory", body["message"])
        self.assertEqual(self.server.get("/api/v1/launch/jobs")[1]["data"]["jobs"], [])  # nothing was made
        status, body, _ = self.server.post("/api/v1/launch/jobs?check=1", {"spec_text": "command: [\n"})
        self.assertEqual(status, 422)
        self.assertIn("not valid YAML", body["message"])
        self.write("ok.py", "print('ok')\n")
        status, body, _ = self.server.post("/api/v1/launch/jobs?check=1",
                                           {"spec_text": f"command: python3 ok.py\nworkdir: {self.code}\n"})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["data"]["ok"], True)
        self.assertEqual(body["data"]["problems"], [])
        status, body, _ = self.server.post("/api/v1/launch/jobs?check=1", {"command": "x", "workdir": "rel"})
        self.assertEqual(body["data"]["problems"], [{"field": "workdir", "message": "must be an absolute path (the CLI makes a relative one absolute)"}])
        self.assertEqual(self.server.post("/api/v1/launch/jobs?check=2", {})[0], 422)
        self.assertEqual(self.server.post("/api/v1/launch/jobs?dry=1", {})[0], 422)
        self.assertEqual(self.server.post("/api/v1/launch/jobs", {"spec_text": 5})[0], 422)
        self.assertEqual(self.server.post("/api/v1/launch/jobs/99/stop")[0], 404)
        self.assertEqual(self.server.get("/api/v1/launch/jobs/abc")[0], 422)

    def test_a_secret_reaches_the_job_by_name_and_never_its_console_spec_or_package(self):
        self.write("show.py", "import os\nprint('token is', os.environ['HF_TOKEN'])\nprint('plain is', os.environ['PLAIN'])\n")
        spec = {"command": "/usr/bin/python3 show.py", "workdir": self.code,
                "env": {"HF_TOKEN": {"secret": "hf-token"}, "PLAIN": "visible"}}
        status, body, _ = self.server.post("/api/v1/launch/jobs?check=1", spec)
        self.assertEqual(body["data"]["problems"], [{"field": "env.HF_TOKEN", "message":
                         "no secret named 'hf-token' (PUT /api/v1/secrets/hf-token with {\"value\": \"...\"}; "
                         "the Access page lists secrets)"}])
        for bad in [{"secret": "a b"}, {"secret": "x", "more": 1}, {"value": "x"}, {"secret": 5}]:
            status, body, _ = self.server.post("/api/v1/launch/jobs?check=1", {**spec, "env": {"HF_TOKEN": bad}})
            self.assertEqual([p["field"] for p in body["data"]["problems"]], ["env.HF_TOKEN"], bad)
        value = "hf_s3cr3t_value_0123456789"
        self.assertEqual(self.server.request("PUT", "/api/v1/secrets/hf-token", {"value": value})[0], 200)
        job = self.launch(spec)
        done = wait_state(self.server, job["id"])
        self.assertEqual(done["state"], "finished", done)
        lines = [t for _, t in console(self.server, job["experiment_id"])]
        self.assertEqual(lines, ["token is [secret hf-token]", "plain is visible"])
        self.assertEqual(done["spec"]["env"], {"HF_TOKEN": {"secret": "hf-token"}, "PLAIN": "visible"})
        status, body, _ = self.server.request("GET", f"/api/v1/launch/jobs/{job['id']}/package")
        self.assertEqual(status, 200)
        self.assertNotIn(value.encode(), gzip.decompress(body))
        self.assertIn(b"HF_TOKEN held the Loupe secret 'hf-token'", gzip.decompress(body))

    def test_launching_takes_an_admin_and_stopping_an_editor(self):
        for name, role in [("ed", "editor"), ("vi", "viewer")]:
            status, body, _ = self.server.post("/api/v1/users", {"name": name, "role": role,
                                                                  "password": "correct horse battery"})
            self.assertEqual(status, 201, body)
        tokens = {}
        for name in ("ed", "vi"):
            status, body, _ = self.server.post("/api/v1/tokens", {"user": name, "label": "t"})
            tokens[name] = body["data"]["token"]
        job = self.launch({"command": "exec sleep 60", "workdir": self.code})
        spec = {"command": "true", "workdir": self.code}
        status, _, _ = self.server.request("POST", "/api/v1/launch/jobs", spec,
                                           headers={"Authorization": "Bearer " + tokens["ed"]})
        self.assertEqual(status, 403)
        status, _, _ = self.server.request("POST", f"/api/v1/launch/jobs/{job['id']}/stop",
                                           headers={"Authorization": "Bearer " + tokens["vi"]})
        self.assertEqual(status, 403)
        status, body, _ = self.server.request("POST", f"/api/v1/launch/jobs/{job['id']}/stop",
                                              headers={"Authorization": "Bearer " + tokens["ed"]})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["data"]["state"], "stopping")
        done = wait_state(self.server, job["id"])
        self.assertEqual((done["state"], done["stop_reason"], done["exit"]), ("stopped", "user", "killed by SIGTERM"))
        self.assertEqual(self.server.post(f"/api/v1/launch/jobs/{job['id']}/stop")[0], 409)

    def test_a_job_outlives_a_killed_loupe_and_is_found_again(self):
        self.write("slow.py", "import time\nfor i in range(30):\n    print('line', i, flush=True)\n    time.sleep(0.1)\n")
        job = self.launch({"command": "python3 slow.py", "workdir": self.code})
        time.sleep(1.0)
        self.server.kill9()
        time.sleep(0.5)
        self.server.start()  # the same data folder
        done = wait_state(self.server, job["id"])
        self.assertEqual((done["state"], done["exit"]), ("finished", "exit code 0"))
        self.assertIn("found", [e["kind"] for e in done["events"]])
        self.assertEqual(console(self.server, job["experiment_id"]),
                         [("stdout", f"line {i}") for i in range(30)])  # every line, once

    def test_the_cli_launches_a_spec_file_and_waits(self):
        os.makedirs(os.path.join(self.code, "src"))
        with open(os.path.join(self.code, "src", "hello.sh"), "w") as f:
            f.write("echo \"hello $GREETING\"\n")
        with open(os.path.join(self.code, "job.yaml"), "w") as f:
            f.write("name: hello\ncommand: sh hello.sh\nworkdir: src\nenv:\n  GREETING: world\n")
        env = dict(os.environ, LOUPE_API_KEY=self.server.token, LOUPE_URL=self.server.url)
        out = subprocess.run([BIN, "launch", os.path.join(self.code, "job.yaml"), "--wait"], env=env,
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"Launched job 1: http://127\.0\.0\.1:\d+/launch/1")
        self.assertIn("Job 1 finished (exit code 0)", out.stdout)
        job = self.server.get("/api/v1/launch/jobs/1")[1]["data"]
        # While it waited it said each event of the job's timeline, once, in order, in UTC.
        said = re.findall(r"^  (\d\d:\d\d:\d\d) UTC  (\w+): (.*)$", out.stdout, re.M)
        self.assertEqual([(k, m) for _, k, m in said], [(e["kind"], e["message"]) for e in job["events"]])
        self.assertEqual(said[0][0], time.strftime("%H:%M:%S", time.gmtime(int(job["events"][0]["time"]))))
        self.assertEqual(job["spec"]["workdir"], os.path.join(self.code, "src"))
        self.assertEqual(console(self.server, job["experiment_id"]), [("stdout", "hello world")])
        with open(os.path.join(self.code, "bad.yaml"), "w") as f:
            f.write("command: sh missing.sh\nbudget: {max_minutes: 0}\n")
        out = subprocess.run([BIN, "launch", os.path.join(self.code, "bad.yaml"), "--check"], env=env,
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 1)
        self.assertIn("command: the script 'missing.sh' is not in the working directory", out.stderr)
        self.assertIn("budget.max_minutes: must be a number of minutes", out.stderr)
        # Launched without --check, a refused spec is a problem with the spec too (1), not a
        # server that cannot be reached (2).
        out = subprocess.run([BIN, "launch", os.path.join(self.code, "bad.yaml")], env=env,
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertIn("budget.max_minutes: must be a number of minutes", out.stderr)
        out = subprocess.run([BIN, "launch", os.path.join(self.code, "failing.yaml")], env=env,
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 2)
        self.assertIn("cannot read", out.stderr)


if __name__ == "__main__":
    unittest.main()
