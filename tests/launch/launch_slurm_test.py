"""Training jobs on a real Slurm cluster (slurm_cluster.py: slurmctld + slurmd + munged in a
scratch folder, two fake GPUs): the scheduler checks the spec before anything is submitted;
a GPU job runs, streams its output and is accounted from Slurm's completion log; "checkpoint
now" reaches the script through the batch shell and a stop ends it; a requeue is a new
segment that keeps the first run's log; Slurm's warning before the time limit asks the
script for a checkpoint; a Loupe killed with kill -9 follows its job again."""
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "api"))
sys.path.insert(0, os.path.dirname(__file__))
from loupe_server import LoupeServer  # noqa: E402
from job_api import JobApi  # noqa: E402
from slurm_cluster import SlurmClusterCase  # noqa: E402

SDK = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "sdk", "python"))

# A script that logs through the SDK, saves a checkpoint whenever Loupe asks, and says so;
# SIGTERM ends it cleanly. Standard library only.
SDK_SCRIPT = textwrap.dedent("""\
    import json, os, signal, sys, time
    import loupe

    def on_term(*_):
        print("got TERM", flush=True)
        sys.exit(0)
    signal.signal(signal.SIGTERM, on_term)
    run = loupe.init()
    steps = int(os.environ.get("STEPS", "100000"))
    for step in range(1, steps + 1):
        run.log({"loss": 1.0 / step}, step=step)
        if run.checkpoint_requested:
            with open(os.environ["LOUPE_CONTROL_FILE"]) as f:
                reason = json.load(f)["reason"]
            os.makedirs("ckpt", exist_ok=True)
            with open("ckpt/state.txt", "w") as f:
                f.write(str(step))
            run.save_checkpoint("ckpt", step=step, metrics={"loss": 1.0 / step})
            print(f"checkpoint at {step} ({reason})", flush=True)
            if os.environ.get("EXIT_AFTER_CHECKPOINT"):
                break
        time.sleep(0.05)
    run.finish()
    """)


def slurm_seconds(text):
    return time.mktime(time.strptime(text, "%Y-%m-%dT%H:%M:%S"))


class LaunchSlurmTest(SlurmClusterCase, JobApi, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.start_cluster()

    @classmethod
    def tearDownClass(cls):
        cls.stop_cluster()

    def setUp(self):
        self.server = LoupeServer().start()
        self.addCleanup(lambda: self.server.cleanup())
        self.code = tempfile.mkdtemp(prefix="loupe-code-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", self.code]))
        self.addCleanup(lambda: subprocess.run(["scancel", "--user=root"], env=self.cluster.env(), capture_output=True))

    def write(self, name, text):
        with open(os.path.join(self.code, name), "w", encoding="utf-8") as f:
            f.write(text)

    def diagnostics(self):
        return self.cluster.log()

    def accounted(self, job_id, sid):
        """(job, Slurm's runs, the segments' times) once the times are the completion log's.
        Under load the log may have the last run only after Loupe saw the end: Loupe accounts
        again each poll for a minute, so this waits for it (at most a minute)."""
        deadline = time.time() + 60
        while True:
            runs = self.cluster.runs(sid)
            done = self.job(job_id)
            times = [(s["start_time"], s["end_time"]) for s in done["segment_list"]]
            if times == [(slurm_seconds(r[1]), slurm_seconds(r[2])) for r in runs] or time.time() > deadline:
                return done, runs, times
            time.sleep(0.5)

    def console(self, eid):
        status, body, _ = self.server.get(f"/api/v1/experiments/{eid}/console?limit=10000")
        self.assertEqual(status, 200, body)
        return [(line["stream"], line["text"]) for line in body["data"]["lines"]]

    def sdk_spec(self, **extra):
        self.write("train.py", SDK_SCRIPT)
        spec = {"name": "sdk-job", "project": "slurm", "command": "/usr/bin/python3 train.py", "workdir": self.code,
                "executor": "slurm", "env": {"PYTHONPATH": SDK}, "checkpoint": {"keep_latest": 5, "grace_seconds": 10},
                "stop_grace_seconds": 10}
        spec.update(extra)
        return spec

    def test_the_scheduler_checks_the_spec_before_anything_is_submitted(self):
        self.write("run.sh", "echo hi\n")
        base = {"command": "bash run.sh", "workdir": self.code, "executor": "slurm"}
        before = self.cluster.run("squeue", "-h", "-t", "all", "-o", "%i")
        for extra, field, words in [
                ({"resources": {"cpus": 64}}, "resources", "Requested node configuration is not available"),
                ({"slurm": {"partition": "nope"}}, "slurm.partition", "invalid partition specified"),
                ({"resources": {"gpus": 3, "gpu_type": "fake"}}, "resources", "Requested node configuration is not available"),
                ({"resources": {"gpus": 1, "gpu_type": "h100"}}, "resources", "Requested node configuration is not available"),
                ({"resources": {"memory_gb": 50}}, "resources", "Requested node configuration is not available"),
        ]:
            status, body, _ = self.server.post("/api/v1/launch/jobs", {**base, **extra})
            self.assertEqual(status, 422, (extra, body))
            problems = [p for p in body["problems"] if p["field"] == field]
            self.assertEqual(len(problems), 1, (extra, body))
            self.assertIn("Slurm cannot run it: ", problems[0]["message"])
            self.assertIn(words, problems[0]["message"], extra)
        # Names go to sbatch as values, never as options of their own.
        status, body, _ = self.server.post("/api/v1/launch/jobs?check=1", {**base, "slurm": {"qos": "--wrap=id"}})
        self.assertEqual(body["data"]["problems"], [{"field": "slurm.qos", "message": "must be a Slurm name (letters, digits, _ . -)"}])
        status, body, _ = self.server.post("/api/v1/launch/jobs?check=1", {**base, "resources": {"cpus": 1}})
        self.assertEqual(body["data"]["problems"], [])
        # Nothing was submitted, nor made.
        self.assertEqual(self.cluster.run("squeue", "-h", "-t", "all", "-o", "%i"), before)
        self.assertEqual(self.server.get("/api/v1/launch/jobs")[1]["data"]["jobs"], [])

    def test_slurm_that_cannot_be_reached_is_a_precise_problem(self):
        self.write("run.sh", "echo hi\n")
        env = dict(os.environ, SLURM_CONF="/nonexistent/slurm.conf")
        old = dict(os.environ)
        os.environ.clear()
        os.environ.update(env)
        try:
            server = LoupeServer().start()
        finally:
            os.environ.clear()
            os.environ.update(old)
        self.addCleanup(server.cleanup)
        status, body, _ = server.post("/api/v1/launch/jobs?check=1",
                                      {"command": "bash run.sh", "workdir": self.code, "executor": "slurm"})
        self.assertEqual(len(body["data"]["problems"]), 1, body)
        self.assertEqual(body["data"]["problems"][0]["field"], "executor")
        self.assertIn("Slurm cannot be used from this server: Slurm's controller does not answer", body["data"]["problems"][0]["message"])

    def test_a_gpu_job_runs_streams_and_is_accounted_from_the_completion_log(self):
        self.write("run.sh", textwrap.dedent("""\
            echo "job $LOUPE_JOB_ID slurm $SLURM_JOB_ID gpus $CUDA_VISIBLE_DEVICES in $(basename $(pwd))"
            for i in $(seq 0 29); do echo "line $i"; sleep 0.05; done
            echo "to stderr" >&2
            """))
        status, body, _ = self.server.request("PUT", "/api/v1/launch/prices", {"prices": {"cpu": 0.36, "fake": 3.6}})
        self.assertEqual(status, 200, body)
        job = self.launch({"name": "gpu job", "project": "slurm", "command": "bash run.sh", "workdir": self.code,
                           "executor": "slurm", "resources": {"cpus": 1, "gpus": 1, "gpu_type": "fake"}})
        self.assertIn(job["state"], ("pending", "running"))
        sid = job["slurm_job_id"]
        self.assertTrue(sid.isdigit(), job)
        self.assertEqual(self.cluster.job(sid)["JobName"], "gpu_job")
        done = self.wait(job["id"], lambda j: j["state"] in ("finished", "failed", "stopped", "lost"), what="its end")
        self.assertEqual(done["state"], "finished", done)
        self.assertEqual(done["exit"], "exit code 0")
        lines = self.console(job["experiment_id"])
        self.assertEqual(lines[0][1], f"job {job['id']} slurm {sid} gpus 0 in workdir")
        self.assertEqual([t for s, t in lines if s == "stdout"][1:], [f"line {i}" for i in range(30)])
        self.assertEqual([t for s, t in lines if s == "stderr"], ["to stderr"])
        # One segment, with Slurm's own start and end (whole seconds), costed at cpu + the GPU.
        runs = self.cluster.runs(sid)
        self.assertEqual([r[0] for r in runs], ["COMPLETED"])
        (seg,) = done["segment_list"]
        self.assertEqual(seg["start_time"], slurm_seconds(runs[0][1]))
        self.assertEqual(seg["end_time"], slurm_seconds(runs[0][2]))
        seconds = slurm_seconds(runs[0][2]) - slurm_seconds(runs[0][1])
        self.assertEqual(seg["seconds"], seconds)
        self.assertEqual(seg["rate_per_hour"], 3.96)
        self.assertAlmostEqual(done["cost"], 3.96 * seconds / 3600, places=12)
        self.assertEqual(done["elapsed_seconds"], seconds)
        self.assertEqual([e["kind"] for e in done["events"]], ["launched", "submitted", "started", "exited"])
        status, body, _ = self.server.get(f"/api/v1/experiments/{job['experiment_id']}")
        self.assertEqual(body["data"]["status"], "finished")
        # The job's page names the Slurm job.
        status, page = self.server.html(f"/launch/{job['id']}")
        self.assertIn(f'<span id="job-slurm">{sid}</span>', page)

    def test_a_submission_whose_answer_was_lost_is_cancelled_not_left_running(self):
        # As a Loupe killed between sbatch and storing its answer leaves it: in the queue,
        # marked with the submission's comment (this Loupe's id, the job, the segment).
        with open(os.path.join(self.server.data_dir, "launch", "installation-id")) as f:
            mark = f"loupe-{f.read().strip()}-job-1-1"
        left = subprocess.run(["sbatch", "--parsable", f"--comment={mark}", "--output=/dev/null",
                               "--wrap", "sleep 300"], env=self.cluster.env(), capture_output=True, text=True,
                              check=True, timeout=30).stdout.strip().split(";")[0]
        self.write("run.sh", "echo hello\n")
        job = self.launch({"name": "marked", "command": "bash run.sh", "workdir": self.code, "executor": "slurm"})
        done = self.wait(job["id"], lambda j: j["state"] in ("finished", "failed", "stopped", "lost"), what="its end")
        self.assertEqual(done["state"], "finished", done)
        self.assertIn(f"Slurm job {left} (left by a submission whose answer was lost) cancelled",
                      [e["message"] for e in done["events"]])
        self.assertIn(self.cluster.job(left).get("JobState"), ("CANCELLED", None))
        self.assertIn(self.cluster.job(done["slurm_job_id"]).get("Comment"), (mark, None))

    def test_a_job_waiting_in_the_queue_costs_nothing_and_stops_at_once(self):
        self.write("run.sh", "sleep 30\n")
        self.assertEqual(self.server.request("PUT", "/api/v1/launch/prices", {"prices": {"cpu": 36}})[0], 200)
        spec = {"command": "bash run.sh", "workdir": self.code, "executor": "slurm", "resources": {"cpus": 2}}
        first = self.launch(spec)
        self.wait(first["id"], lambda j: j["state"] == "running", what="the first running")
        second = self.launch(spec)  # both CPUs are taken: it waits in Slurm's queue
        waiting = self.wait(second["id"], lambda j: j["message"] == "waiting in Slurm's queue (Resources)",
                            what="Slurm's reason")
        self.assertEqual(waiting["state"], "pending")
        time.sleep(1.5)
        waiting = self.job(second["id"])
        self.assertEqual((waiting["segments"], waiting["elapsed_seconds"], waiting["cost"]), (0, 0.0, 0.0))
        status, page = self.server.html(f"/launch/{second['id']}")
        self.assertIn("$0.0000</span> <span class=\"muted\">(nothing has run yet)", page)
        status, body, _ = self.server.post(f"/api/v1/launch/jobs/{second['id']}/stop", {})
        self.assertEqual(status, 200, body)
        done = self.wait(second["id"], lambda j: j["state"] == "stopped", what="the stop")
        self.assertEqual((done["segments"], done["cost"], done["stop_reason"]), (0, 0.0, "user"))
        self.assertIn("cancelled in Slurm's queue", [e["message"].split(": ", 1)[-1] for e in done["events"]])
        self.assertEqual(self.cluster.job(second["slurm_job_id"])["JobState"], "CANCELLED")
        status, body, _ = self.server.post(f"/api/v1/launch/jobs/{first['id']}/stop", {})
        self.assertEqual(status, 200, body)
        done = self.wait(first["id"], lambda j: j["state"] == "stopped", what="the first's stop")
        self.assertEqual(done["exit"], "killed by SIGTERM")  # sleep does not catch it
        (seg,) = done["segment_list"]
        self.assertAlmostEqual(done["cost"], 72 * seg["seconds"] / 3600, places=9)  # two cores at $36/h each

    def test_the_cli_waits_through_the_queue_and_a_finished_job_is_done(self):
        self.write("run.sh", 'echo "$LOUPE_API_KEY" > key.txt; for i in $(seq 1 5); do echo "step $i"; sleep 0.1; done\n')
        with open(os.path.join(self.code, "job.yaml"), "w") as f:
            f.write("command: bash run.sh\nexecutor: slurm\ntotal_steps: 60\nslurm: {partition: debug}\n")
        with open(os.path.join(self.code, "bad.yaml"), "w") as f:
            f.write("command: bash run.sh\nexecutor: slurm\nslurm: {partition: gpuz}\n")
        bin_path = os.path.abspath(os.environ.get("LOUPE_BIN", "build/loupe"))
        env = dict(os.environ, LOUPE_API_KEY=self.server.token, LOUPE_URL=self.server.url)
        out = subprocess.run([bin_path, "launch", os.path.join(self.code, "bad.yaml"), "--check", "--json"], env=env,
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 1, out.stderr)
        checked = json.loads(out.stdout)
        self.assertEqual(checked["ok"], False)
        self.assertEqual(checked["problems"], [{"field": "slurm.partition",
                                                "message": "Slurm cannot run it: invalid partition specified: gpuz"}])
        # A job first waits in Slurm's queue ("pending"): --wait waits through it.
        out = subprocess.run([bin_path, "launch", os.path.join(self.code, "job.yaml"), "--wait"], env=env,
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("Job 1 finished (exit code 0)", out.stdout)
        done = self.job(1)
        self.assertEqual((done["state"], done["message"]), ("finished", ""))
        self.assertEqual(done["progress"]["fraction"], 1.0)  # ran to its end, whatever step it last logged
        self.assertEqual(done["progress"]["projected_seconds"], done["elapsed_seconds"])
        status, page = self.server.html("/launch/1")
        self.assertIn("done (60 steps declared)", page)
        self.assertNotIn("Projected total", page)
        # The job logged with a token of its own, revoked when it ended.
        with open(os.path.join(self.server.data_dir, "launch", "1", "workdir", "key.txt")) as f:
            key = f.read().strip()
        self.assertTrue(key)
        self.assertNotEqual(key, self.server.token)
        self.assertEqual(self.server.request("GET", "/api/v1/launch/jobs", headers={"Authorization": f"Bearer {key}"})[0], 401)
        self.assertFalse(os.path.exists(os.path.join(self.server.data_dir, "launch", "1", "job-token.json")))

    def test_checkpoint_now_signals_the_batch_script_and_stop_ends_the_job(self):
        job = self.launch(self.sdk_spec())
        sid = job["slurm_job_id"]
        self.wait(job["id"], lambda j: j["state"] == "running" and (j["progress"]["step"] or 0) >= 5, what="step 5")
        status, body, _ = self.server.post(f"/api/v1/launch/jobs/{job['id']}/checkpoint", {})
        self.assertEqual(status, 200, body)
        j = self.wait(job["id"], lambda j: len(j["checkpoints"]) == 1, what="a checkpoint")
        self.assertIn("checkpoint asked (asked by a user; SIGUSR1 to the batch script)",
                      [e["message"] for e in j["events"]])
        status, body, _ = self.server.post(f"/api/v1/launch/jobs/{job['id']}/stop", {})
        self.assertEqual(status, 200, body)
        done = self.wait(job["id"], lambda j: j["state"] not in ("running", "stopping", "pending"), what="the stop")
        self.assertEqual((done["state"], done["stop_reason"]), ("stopped", "user"), done)
        texts = [t for _, t in self.console(job["experiment_id"])]
        ckpt = [t for t in texts if t.startswith("checkpoint at")]
        self.assertEqual(len(ckpt), 1, texts)
        self.assertIn("(Slurm signal (time limit near, or checkpoint now))", ckpt[0])
        self.assertIn("got TERM", texts)
        self.assertEqual(done["exit"], "exit code 0")  # the script's own clean exit after SIGTERM
        self.assertEqual(self.cluster.job(sid).get("JobState"), "COMPLETED")
        status, body, _ = self.server.get(f"/api/v1/experiments/{job['experiment_id']}")
        self.assertEqual(body["data"]["status"], "stopped")

    def test_a_requeue_is_a_new_segment_and_keeps_the_first_runs_log(self):
        self.write("run.sh", textwrap.dedent("""\
            for i in $(seq 0 59); do echo "run ${SLURM_RESTART_COUNT:-0} line $i"; sleep 0.1; done
            """))
        job = self.launch({"command": "bash run.sh", "workdir": self.code, "executor": "slurm"})
        sid = job["slurm_job_id"]
        eid = job["experiment_id"]
        deadline = time.time() + 30
        while not any(t == "run 0 line 5" for _, t in self.console(eid)):
            self.assertLess(time.time(), deadline, self.console(eid))
            time.sleep(0.1)
        self.cluster.run("scontrol", "requeue", sid)
        j = self.wait(job["id"], lambda j: j["segments"] == 1 and j["segment_list"][0]["end"] is not None,
                      what="the first segment's end")
        self.assertTrue(j["segment_list"][0]["end"].startswith("requeued by Slurm"), j)
        # Slurm starts a requeued job again after cred_expire (5 s on the test cluster).
        done = self.wait(job["id"], lambda j: j["state"] in ("finished", "failed", "lost"), what="its end")
        self.assertEqual(done["state"], "finished", (done["events"], self.console(eid)[-5:], self.cluster.log()))
        texts = [t for _, t in self.console(eid)]
        first = [t for t in texts if t.startswith("run 0 ")]
        second = [t for t in texts if t.startswith("run 1 ")]
        self.assertEqual(second, [f"run 1 line {i}" for i in range(60)])
        self.assertEqual(len(first), len(set(first)))  # nothing twice
        self.assertEqual(first, [f"run 0 line {i}" for i in range(len(first))])  # nor lost
        self.assertGreaterEqual(len(first), 6)
        # Two segments with the completion log's times: the requeued run and the one that finished.
        done, runs, times = self.accounted(job["id"], sid)
        self.assertEqual(len(runs), 2, runs)
        self.assertEqual(runs[1][0], "COMPLETED")
        self.assertEqual(times, [(slurm_seconds(r[1]), slurm_seconds(r[2])) for r in runs])
        self.assertEqual(done["elapsed_seconds"], sum(slurm_seconds(r[2]) - slurm_seconds(r[1]) for r in runs))
        self.assertIn("requeued", [e["kind"] for e in done["events"]])
        self.assertTrue(any(e["kind"] == "started again" and e["message"].startswith("after a requeue: Slurm job " + sid)
                            for e in done["events"]), done["events"])

    def test_slurms_warning_before_the_time_limit_asks_for_a_checkpoint(self):
        # A one-minute limit with the warning 55 s before it (Slurm may send it a little early).
        job = self.launch(self.sdk_spec(slurm={"time_minutes": 1, "signal_seconds": 55},
                                        env={"PYTHONPATH": SDK, "EXIT_AFTER_CHECKPOINT": "1"}))
        self.assertEqual(self.cluster.job(job["slurm_job_id"])["TimeLimit"], "00:01:00")
        self.assertIn(f"Slurm job {job['slurm_job_id']}, time limit 1 min", [e["message"] for e in self.job(job["id"])["events"]])
        done = self.wait(job["id"], lambda j: j["state"] in ("finished", "failed", "stopped", "lost"), timeout=90,
                         what="its end")
        self.assertEqual(done["state"], "finished", done)
        self.assertEqual(len(done["checkpoints"]), 1, done)
        texts = [t for _, t in self.console(job["experiment_id"])]
        self.assertTrue(any(t.startswith("checkpoint at") and "Slurm signal" in t for t in texts), texts)
        self.assertEqual(done["checkpoint_requests"], 0)  # asked by Slurm, not by Loupe

    def test_a_loupe_killed_mid_job_follows_its_slurm_job_again_through_a_requeue(self):
        self.write("run.sh", 'for i in $(seq 0 39); do echo "run ${SLURM_RESTART_COUNT:-0} line $i"; sleep 0.05; done\n')
        job = self.launch({"command": "bash run.sh", "workdir": self.code, "executor": "slurm"})
        sid, eid = job["slurm_job_id"], job["experiment_id"]
        deadline = time.time() + 30
        while not any(t == "run 0 line 3" for _, t in self.console(eid)):
            self.assertLess(time.time(), deadline)
            time.sleep(0.05)
        self.server.kill9()
        # Requeued while Loupe is down: its time back in the queue is not the job's.
        self.cluster.run("scontrol", "requeue", sid)
        deadline = time.time() + 30
        while self.cluster.job(sid).get("JobState") != "PENDING":
            self.assertLess(time.time(), deadline, self.cluster.job(sid))
            time.sleep(0.1)
        first = self.server
        self.server = LoupeServer(data_dir=first.data_dir, port=first.port).start()
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", first.data_dir]))
        done = self.wait(job["id"], lambda j: j["state"] in ("finished", "failed", "lost"), what="its end")
        self.assertEqual(done["state"], "finished", done)
        texts = [t for _, t in self.console(eid)]
        self.assertEqual([t for t in texts if t.startswith("run 1 ")], [f"run 1 line {i}" for i in range(40)])
        first_run = [t for t in texts if t.startswith("run 0 ")]
        self.assertEqual(first_run, [f"run 0 line {i}" for i in range(len(first_run))])  # each once, in order
        self.assertIn("found", [e["kind"] for e in done["events"]])
        done, runs, times = self.accounted(job["id"], sid)
        self.assertEqual(len(runs), 2, runs)
        self.assertEqual(times, [(slurm_seconds(r[1]), slurm_seconds(r[2])) for r in runs])

    def test_a_job_waiting_in_the_queue_when_loupe_restarts_is_charged_when_it_runs(self):
        self.write("run.sh", "sleep 2\n")
        self.assertEqual(self.server.request("PUT", "/api/v1/launch/prices", {"prices": {"cpu": 36}})[0], 200)
        hold = self.cluster.run("sbatch", "--parsable", "--cpus-per-task=2", "--output=/dev/null", "--wrap", "sleep 60").strip()
        job = self.launch({"command": "bash run.sh", "workdir": self.code, "executor": "slurm", "resources": {"cpus": 2}})
        self.wait(job["id"], lambda j: j["message"] == "waiting in Slurm's queue (Resources)", what="the queue")
        self.server.kill9()
        first = self.server
        self.server = LoupeServer(data_dir=first.data_dir, port=first.port).start()
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", first.data_dir]))
        self.cluster.run("scancel", hold)
        done = self.wait(job["id"], lambda j: j["state"] in ("finished", "failed", "lost"), what="its end")
        self.assertEqual(done["state"], "finished", done)
        (seg,) = done["segment_list"]
        self.assertEqual(seg["rate_per_hour"], 72.0)
        self.assertGreaterEqual(seg["seconds"], 2)
        self.assertAlmostEqual(done["cost"], 72 * seg["seconds"] / 3600, places=9)

if __name__ == "__main__":
    unittest.main()
