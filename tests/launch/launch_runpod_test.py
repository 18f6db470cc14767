"""Training jobs on RunPod, against the RunPod STAND-IN (runpod_standin.py: RunPod's REST v2
pod, catalogue and log API as its OpenAPI document gives them; a pod's container is its
command run on this machine). The spec is checked against RunPod's catalogue before any pod
exists; a job runs in a pod that downloads the job from Loupe with a token of its own, logs
through the SDK, streams its output into the console and is billed at the pod's own rate;
the pod is deleted and the token revoked at the end; a stop reaches the script as SIGTERM;
a failure restarts in a new pod; "checkpoint now" reaches a pod over HTTP; a container that
dies without a word is lost; a Loupe killed with kill -9 follows its pod again without
storing a line twice."""
import json
import os
import re
import sys
import tempfile
import textwrap
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "api"))
sys.path.insert(0, os.path.dirname(__file__))
from loupe_server import LoupeServer  # noqa: E402
from job_api import JobApi  # noqa: E402
from runpod_standin import RunPodStandIn, free_port  # noqa: E402
from s3_server import KEYS, S3Server  # noqa: E402

EXIT_LINE = re.compile(r"\[loupe-job [0-9a-f]{16}\] exit \d+")

# Standard library and the SDK only (the package brings the SDK into the pod).
SCRIPT = textwrap.dedent("""\
    import os, signal, sys, time
    import loupe

    def on_term(*_):
        print("got TERM", flush=True)
        sys.exit(0)
    signal.signal(signal.SIGTERM, on_term)
    run = loupe.init()
    steps = int(os.environ.get("STEPS", "20"))
    if os.environ.get("FORGE"):  # lines like the bootstrap's exit line: not the end
        print("[loupe-job] exit 0", flush=True)
        print("[loupe-job 0123456789abcdef] exit 0", flush=True)
        time.sleep(2.5)
    if os.environ.get("FAIL_FIRST") and os.environ["LOUPE_JOB_SEGMENT"] == "1":
        print("first pod fails", flush=True)
        sys.exit(3)
    for step in range(1, steps + 1):
        run.log({"loss": 1.0 / step}, step=step)
        print(f"line {step}", flush=True)
        if run.checkpoint_requested:
            os.makedirs("ckpt", exist_ok=True)
            with open("ckpt/state.txt", "w") as f:
                f.write(str(step))
            run.save_checkpoint("ckpt", step=step, metrics={"loss": 1.0 / step})
            print(f"checkpoint at {step}", flush=True)
            if os.environ.get("EXIT_AFTER_CHECKPOINT"):
                break
        time.sleep(float(os.environ.get("PAUSE", "0.05")))
    run.finish()
    print("done", flush=True)
    if os.environ.get("FORGE"):
        sys.stdout.write("50%|#####     | 5/10")  # no line end before the exit line
        sys.stdout.flush()
    """)


class LaunchRunPodTest(JobApi, unittest.TestCase):
    def setUp(self):
        self.runpod = RunPodStandIn()
        self.addCleanup(self.runpod.stop)
        self.port = free_port()
        self.server = self.start_server()
        self.addCleanup(lambda: self.server.cleanup())
        self.code = tempfile.mkdtemp(prefix="loupe-code-")
        with open(os.path.join(self.code, "train.py"), "w", encoding="utf-8") as f:
            f.write(SCRIPT)
        status, body, _ = self.server.request("PUT", "/api/v1/secrets/runpod", {"value": self.runpod.key})
        self.assertEqual(status, 200, body)

    def start_server(self, data_dir=None, public=True):
        os.environ["LOUPE_RUNPOD_URL"] = self.runpod.url
        args = ["--public-url", f"http://127.0.0.1:{self.port}/"] if public else []
        return LoupeServer(data_dir=data_dir, port=self.port if public else None, extra_args=args).start()

    def spec(self, **extra):
        s = {"name": "pod-job", "project": "runpod", "command": "python3 train.py", "workdir": self.code,
             "executor": "runpod", "runpod": {"image": "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04"},
             "resources": {"gpus": 2, "gpu_type": "NVIDIA GeForce RTX 4090"}, "stop_grace_seconds": 5}
        for k, v in extra.items():
            if isinstance(v, dict) and isinstance(s.get(k), dict):
                s[k] = {**s[k], **v}
            else:
                s[k] = v
        return s

    def diagnostics(self):
        pods = {k: {**v, "env": "..."} for k, v in self.standin_pods().items()}
        return f"pods: {json.dumps(pods)[:3000]}\n{self.server.log()[-3000:]}"

    def installation_id(self):
        # Made at the first start: the pods of this Loupe are named with it.
        with open(os.path.join(self.server.data_dir, "launch", "installation-id")) as f:
            return f.read().strip()

    def deleted(self, pod, timeout=15):
        """Waits for the pod to be deleted (Loupe deletes pods from its supervisor, a tick later)."""
        deadline = time.time() + timeout
        while self.standin_pods()[pod]["status"] != "TERMINATED":
            self.assertLess(time.time(), deadline, f"pod {pod} not deleted: {self.standin_pods()[pod]}")
            time.sleep(0.1)

    def standin_pods(self):
        with urllib.request.urlopen(self.runpod.url + "/_standin/pods") as r:
            return json.load(r)

    def created_bodies(self):
        with urllib.request.urlopen(self.runpod.url + "/_standin/requests") as r:
            return [q["body"] for q in json.load(r) if q["method"] == "POST" and q["path"] == "/v2/pods"]

    def console(self, eid):
        status, body, _ = self.server.get(f"/api/v1/experiments/{eid}/console?limit=10000")
        self.assertEqual(status, 200, body)
        return [line["text"] for line in body["data"]["lines"]]

    def series(self, eid, key):
        status, body, _ = self.server.get(f"/api/v1/experiments/{eid}/series?key={key}")
        self.assertEqual(status, 200, body)
        return body["data"]

    def check(self, spec):
        status, body, _ = self.server.post("/api/v1/launch/jobs?check=1", spec)
        self.assertEqual(status, 200, body)
        return {p["field"]: p["message"] for p in body["data"]["problems"]}

    def test_the_spec_is_checked_against_runpods_catalogue_before_any_pod(self):
        self.assertEqual(self.check(self.spec()), {})
        problems = self.check(self.spec(resources={"gpu_type": "RTX 4090"}))
        self.assertIn("did you mean 'NVIDIA GeForce RTX 4090'", problems["resources.gpu_type"])
        problems = self.check(self.spec(resources={"gpus": 9}))
        self.assertIn("at most 8 NVIDIA GeForce RTX 4090 on one pod", problems["resources.gpus"])
        problems = self.check(self.spec(resources={"gpu_type": "NVIDIA A100 80GB PCIe", "gpus": 1},
                                        runpod={"cloud": "COMMUNITY"}))
        self.assertIn("COMMUNITY cloud", problems["runpod.cloud"])
        problems = self.check(self.spec(runpod={"secret": "nope"}))
        self.assertIn("no RunPod API key", problems["runpod.secret"])
        self.server.request("PUT", "/api/v1/secrets/wrong", {"value": "not-the-key"})
        problems = self.check(self.spec(runpod={"secret": "wrong"}))
        self.assertIn("RunPod answered 401", problems["runpod.secret"])
        problems = self.check(self.spec(runpod={"bogus": 1}, env={"RUNPOD_X": "1"}))
        self.assertIn("unknown key", problems["runpod.bogus"])
        self.assertIn("RunPod sets RUNPOD_", problems["env.RUNPOD_X"])
        problems = self.check(self.spec(resources={"gpus": 0, "gpu_type": None}))
        self.assertIn("at least 1 GPU", problems["resources.gpus"])
        self.assertEqual(self.created_bodies(), [])  # nothing was created by a check
        status, body, _ = self.server.get("/api/v1/launch/runpod/gpus")
        self.assertEqual(status, 200, body)
        rtx = next(g for g in body["data"]["gpus"] if g["id"] == "NVIDIA GeForce RTX 4090")
        self.assertEqual(rtx["secure"], {"offered": True, "price_per_gpu_hour": 0.5, "max_gpus": 8})
        self.assertEqual(rtx["memory_gb"], 24)
        # Without --public-url the pod could not reach Loupe: refused, said how to fix.
        other = self.start_server(public=False)
        self.addCleanup(other.cleanup)
        other.request("PUT", "/api/v1/secrets/runpod", {"value": self.runpod.key})
        status, body, _ = other.post("/api/v1/launch/jobs?check=1", self.spec())
        problems = {p["field"]: p["message"] for p in body["data"]["problems"]}
        self.assertIn("--public-url", problems["executor"])

    def test_a_loopback_public_url_is_refused_for_a_runpod_elsewhere(self):
        elsewhere = LoupeServer(extra_args=["--public-url", "http://localhost:8080/", "--runpod-url",
                                            "https://runpod.invalid"]).start()
        self.addCleanup(elsewhere.cleanup)
        elsewhere.request("PUT", "/api/v1/secrets/runpod", {"value": self.runpod.key})
        status, body, _ = elsewhere.post("/api/v1/launch/jobs?check=1", self.spec())
        self.assertEqual(status, 200, body)
        problems = [p["message"] for p in body["data"]["problems"] if p["field"] == "executor"]
        self.assertIn("--public-url http://localhost:8080 is this machine's loopback address, "
                                               "which a pod on RunPod cannot reach: give an address pods can reach "
                                               "(e.g. https://loupe.example.com, or a tunnel's)", problems)
        # Here the stand-in runs its pods on this machine: loopback is right (setUp's server).
        self.assertNotIn("executor", self.check(self.spec()))

    def test_the_gpu_picker_prices_each_type_from_runpod_and_the_configured_prices(self):
        self.server.request("PUT", "/api/v1/launch/prices", {"prices": {"H100": 2.5, "A10": 0.9}})
        status, body, _ = self.server.get("/api/v1/launch/gpus?sort=price_per_tflop&need_gb=30")
        self.assertEqual(status, 200, body)
        data = body["data"]
        self.assertTrue(data["runpod"]["read"])
        rows = {g["name"]: g for g in data["gpus"]}
        rtx = rows["RTX 4090"]  # RunPod's "NVIDIA GeForce RTX 4090", matched to the datasheet row
        self.assertEqual(rtx["memory_gb"], 24)
        self.assertEqual(rtx["bf16_tflops"], 165.2)
        self.assertEqual([(o["cloud"], o["price_per_gpu_hour"], o["max_gpus"]) for o in rtx["offers"]],
                         [("SECURE", 0.5, 8), ("COMMUNITY", 0.25, 4)])
        self.assertEqual(rtx["cheapest_per_gpu_hour"], 0.25)
        self.assertAlmostEqual(rtx["per_pflop_hour"], 0.25 / 0.1652, places=9)
        self.assertIs(rtx["fits"], False)  # 24 GB < 30 GiB
        a100 = rows["A100 80GB"]
        self.assertEqual([o["cloud"] for o in a100["offers"]], ["SECURE"])  # not on community, nor the A10's price
        self.assertIs(a100["fits"], True)
        self.assertEqual(rows["H100 SXM"]["offers"], [{"provider": "your prices", "price_per_gpu_hour": 2.5}])
        self.assertIsNone(rows["T4"]["per_pflop_hour"])  # no BF16
        # Cheapest per PFLOP-hour first; the rows without a price after, by memory.
        order = [g["name"] for g in data["gpus"]]
        self.assertEqual(order[:5], ["RTX 4090", "H100 SXM", "H100 NVL", "H100 PCIe", "A100 80GB"])
        self.assertEqual(order[5], "A10")  # $0.90 / 125 TFLOPS = $7.20 per PFLOP-hour
        self.assertAlmostEqual(rows["A10"]["per_pflop_hour"], 7.2, places=9)
        self.assertEqual(order[6], "MI300X")  # 192 GB, unpriced
        status, body, _ = self.server.get("/api/v1/launch/gpus?min_memory_gb=80&sort=price")
        self.assertEqual({g["name"] for g in body["data"]["gpus"]},
                         {"H200", "H100 NVL", "H100 PCIe", "H100 SXM", "A100 80GB", "MI300X"})
        self.assertEqual(body["data"]["gpus"][0]["name"], "A100 80GB")  # $2.00 < $2.50
        for bad in ["sort=cheap", "min_memory_gb=-1", "need_gb=abc", "bogus=1"]:
            self.assertEqual(self.server.get(f"/api/v1/launch/gpus?{bad}")[0], 422, bad)
        status, page = self.server.html("/launch/gpus?sort=price_per_tflop&need_gb=30")
        self.assertEqual(status, 200)
        self.assertIn("RunPod community: $0.2500/h, up to 4 per pod", page)
        self.assertIn(f"<td class=\"num\">${0.25 / 0.1652:.2f}</td>", page)
        self.assertIn("your price: $2.50/h", page)

    def test_a_job_runs_in_a_pod_streams_its_log_and_is_billed_at_the_pods_rate(self):
        self.server.request("PUT", "/api/v1/secrets/hf", {"value": "hf_value_for_the_pod"})
        job = self.launch(self.spec(env={"STEPS": "30", "HF_TOKEN": {"secret": "hf"}}))
        done = self.wait(job["id"], lambda j: j["state"] == "finished", what="finished")
        eid = done["experiment_id"]
        status, page = self.server.html(f"/launch/{job['id']}")
        self.assertIn("2 × NVIDIA GeForce RTX 4090, SECURE cloud", page)
        self.assertIn(f'RunPod pod</span> <span id="job-pod">{done["runpod_pod_id"]}</span>', page)
        lines = self.console(eid)
        for step in range(1, 31):
            self.assertEqual(lines.count(f"line {step}"), 1, lines)
        self.assertTrue(any(EXIT_LINE.fullmatch(l) and l.endswith(" exit 0") for l in lines), lines[-3:])
        self.assertEqual(done["exit"], "exit code 0")
        # The SDK in the pod logged to Loupe through the public URL.
        loss = self.series(eid, "loss")
        self.assertEqual([p[0] for p in loss["points"]], list(range(1, 31)))
        # Billed at what the pod reports: 2 x $0.50 (the stand-in's catalogue price).
        self.assertEqual(done["rate_per_hour"], 1.0)
        self.assertAlmostEqual(done["cost"], done["elapsed_seconds"] / 3600 * 1.0, places=6)
        # The pod's GPU use, from RunPod's runtime block.
        util = self.series(eid, "system/pod.gpu.1.utilization")
        self.assertGreater(len(util["points"]), 0)
        self.assertEqual({p[1] for p in util["points"]}, {87.0})
        self.assertEqual({p[1] for p in self.series(eid, "system/pod.gpu.0.memory.percent")["points"]}, {42.0})
        self.assertEqual({p[1] for p in self.series(eid, "system/pod.cost_per_hour")["points"]}, {1.0})  # 2 x $0.50
        # What RunPod was sent: its documented keys only, the job's env and none of Loupe's.
        (body,) = self.created_bodies()
        self.assertEqual(set(body), {"name", "image", "cloud", "gpu", "disk", "env", "args"})
        self.assertEqual(body["gpu"], {"id": "NVIDIA GeForce RTX 4090", "count": 2})
        self.assertEqual(body["cloud"], "SECURE")
        env = body["env"]
        self.assertEqual(env["STEPS"], "30")
        self.assertEqual(env["HF_TOKEN"], "hf_value_for_the_pod")  # the pod gets the secret's value
        self.assertEqual(env["LOUPE_URL"], f"http://127.0.0.1:{self.port}")
        self.assertNotIn("PATH", env)
        self.assertNotIn("HOME", env)
        self.assertNotEqual(env["LOUPE_API_KEY"], self.server.token)  # a token of the job's own ...
        status, _, _ = self.server.request("GET", "/api/v1/launch/jobs", headers={
            "Authorization": f"Bearer {env['LOUPE_API_KEY']}"})
        self.assertEqual(status, 401)  # ... revoked at the end
        self.assertNotIn(env["LOUPE_API_KEY"], "\n".join(lines))
        # The pod is deleted: RunPod bills a pod until then.
        self.deleted(done["runpod_pod_id"])

    def test_a_pod_copies_its_s3_folders_in_and_writes_results_back(self):
        s3 = S3Server()
        self.addCleanup(s3.stop)
        self.server.request("PUT", "/api/v1/secrets/s3", {"value": KEYS})
        with open(os.path.join(self.code, "s3.py"), "w", encoding="utf-8") as f:
            f.write("import os\n"
                    "rows = len(open('data/train.csv').read().splitlines()) - 1\n"
                    "print('rows', rows, 'keys seen', [k for k in os.environ if k.startswith('LOUPE_MOUNT')], flush=True)\n"
                    "os.makedirs('out', exist_ok=True)\n"
                    "open('out/rows.txt', 'w').write(str(rows))\n")
        job = self.launch(self.spec(command="python3 s3.py", mounts=[
            {"source": "s3://datasets/iris", "path": "data", "endpoint": s3.endpoint, "secret": "s3"},
            {"source": "s3://results/pod", "path": "out", "write_back": True, "endpoint": s3.endpoint, "secret": "s3"}]))
        done = self.wait(job["id"], lambda j: j["state"] in ("finished", "failed", "lost"), what="the end")
        lines = self.console(done["experiment_id"])
        self.assertEqual(done["state"], "finished", lines)
        self.assertIn("rows 150 keys seen []", lines)
        self.assertIn("[loupe] writing out/ back to s3://results/pod", lines)
        self.assertEqual(s3.rclone("cat", "s3:results/pod/rows.txt"), "150")
        self.assertNotIn("S3RVER", "\n".join(lines))
        (body,) = self.created_bodies()
        self.assertEqual(body["env"]["LOUPE_MOUNT_1_SECRET_ACCESS_KEY"], "S3RVER")  # the pod gets the keys

    def test_the_end_is_the_bootstraps_own_exit_line_even_after_a_line_without_an_end(self):
        job = self.launch(self.spec(env={"FORGE": "1", "STEPS": "3"}))
        done = self.wait(job["id"], lambda j: j["state"] in ("finished", "failed", "lost"), what="its end")
        self.assertEqual((done["state"], done["exit"]), ("finished", "exit code 0"))
        lines = self.console(done["experiment_id"])
        self.assertIn("done", lines)  # it ran on past the forged lines
        self.assertIn("[loupe-job] exit 0", lines)
        self.assertIn("50%|#####     | 5/10", lines)
        self.assertTrue(EXIT_LINE.fullmatch(lines[-1]), lines[-3:])

    def test_a_stop_reaches_the_script_as_sigterm_and_the_pod_is_deleted(self):
        job = self.launch(self.spec(env={"STEPS": "100000"}))
        running = self.wait(job["id"], lambda j: j["state"] == "running", what="running")
        self.wait(job["id"], lambda j: "line 3" in self.console(j["experiment_id"]), what="output")
        # The pod's token leaves this machine: it signs in as an editor of its own, who cannot
        # read secrets, launch (run code here) or make a token that outlives the job.
        pod_key = {"Authorization": f"Bearer {self.standin_pods()[running['runpod_pod_id']]['env']['LOUPE_API_KEY']}"}
        status, me, _ = self.server.request("GET", "/api/v1/auth/me", headers=pod_key)
        self.assertEqual((status, me["data"]["user"], me["data"]["role"]), (200, "launch-jobs", "editor"), me)
        self.assertEqual(self.server.request("GET", "/api/v1/secrets", headers=pod_key)[0], 403)
        self.assertEqual(self.server.request("POST", "/api/v1/tokens", {"label": "mine"}, headers=pod_key)[0], 403)
        self.assertEqual(self.server.request("POST", "/api/v1/launch/jobs", self.spec(), headers=pod_key)[0], 403)
        status, body, _ = self.server.post(f"/api/v1/launch/jobs/{job['id']}/stop", {})
        self.assertEqual(status, 200, body)
        done = self.wait(job["id"], lambda j: j["state"] == "stopped", what="stopped")
        lines = self.console(done["experiment_id"])
        self.assertIn("got TERM", lines)
        self.assertTrue(any(EXIT_LINE.fullmatch(l) and l.endswith(" exit 0") for l in lines), lines[-3:])
        self.deleted(running["runpod_pod_id"])

    def test_a_failure_restarts_in_a_new_pod(self):
        job = self.launch(self.spec(env={"FAIL_FIRST": "1", "STEPS": "3"}, restart={"max_restarts": 1}))
        done = self.wait(job["id"], lambda j: j["state"] in ("finished", "failed", "lost"), what="ended")
        self.assertEqual(done["state"], "finished", done)
        self.assertEqual(done["restarts"], 1)
        self.assertEqual(len(self.created_bodies()), 2)
        self.assertEqual(done["segments"], 2)
        for pod in self.standin_pods():
            self.deleted(pod)
        lines = self.console(done["experiment_id"])
        self.assertIn("first pod fails", lines)
        self.assertTrue(any(EXIT_LINE.fullmatch(l) and l.endswith(" exit 3") for l in lines), lines)
        self.assertIn("done", lines)

    def test_a_failed_pod_says_why_and_a_pod_that_never_starts_bills_until_its_budget_stops_it(self):
        job = self.launch(self.spec(env={"FAIL_FIRST": "1"}))
        done = self.wait(job["id"], lambda j: j["state"] in ("finished", "failed", "lost"), what="its end")
        self.assertEqual((done["state"], done["exit"], done["message"]), ("failed", "exit code 3", "first pod fails"))
        # A pod RunPod never gets running (no capacity, an image it cannot pull) bills from its
        # creation: its money cap stops it, and the pod is deleted.
        self.runpod.boot_seconds = 1e6
        job = self.launch(self.spec(budget={"max_cost": 0.001}))  # $1.00/hour: 3.6 s
        done = self.wait(job["id"], lambda j: j["state"] == "stopped", timeout=30, what="the budget stop")
        self.assertEqual(done["stop_reason"], "budget_cost")
        self.assertNotIn("running", [e["kind"] for e in done["events"]])
        self.assertEqual(done["rate_per_hour"], 1.0)
        self.assertGreaterEqual(done["cost"], 0.001)
        self.assertLess(done["cost"], 0.001 + 3 / 3600)  # stopped within a few seconds of the cap
        self.assertAlmostEqual(done["cost"], done["elapsed_seconds"] / 3600, places=9)
        self.deleted(done["runpod_pod_id"])

    def test_stopping_a_job_whose_create_answer_was_lost_deletes_the_pod_runpod_made(self):
        self.runpod.fail("create_lost", 504, detail="gateway timeout")
        job = self.launch(self.spec())
        self.wait(job["id"], lambda j: "trying again" in j["message"], what="a retry")
        (made,) = self.standin_pods()  # RunPod made it; Loupe never heard of it
        status, body, _ = self.server.post(f"/api/v1/launch/jobs/{job['id']}/stop", {})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["data"]["state"], "stopped")
        self.deleted(made)

    def test_a_slow_runpod_holds_up_neither_the_api_nor_a_stop(self):
        self.runpod.slow("create", 6)
        job = self.launch(self.spec(env={"STEPS": "3"}))
        self.assertEqual(job["state"], "queued")  # RunPod is asked by the supervisor, not by the launch
        time.sleep(0.5)
        started = time.time()
        status, body, _ = self.server.get(f"/api/v1/launch/jobs/{job['id']}")
        self.assertEqual(status, 200, body)
        self.assertLess(time.time() - started, 1.0)  # while the create waits on RunPod
        self.assertIn("asking RunPod for pod", body["data"]["message"])
        status, body, _ = self.server.post(f"/api/v1/launch/jobs/{job['id']}/stop")
        self.assertEqual(status, 200, body)
        self.assertLess(time.time() - started, 2.0)
        self.assertEqual(body["data"]["state"], "stopped")
        # The pod RunPod made after all is not the job's: deleted, not left billing.
        deadline = time.time() + 30
        while not self.standin_pods():
            self.assertLess(time.time(), deadline)
            time.sleep(0.2)
        (pod,) = self.standin_pods()
        self.deleted(pod)
        self.assertIsNone(self.job(job["id"])["runpod_pod_id"])

    def test_a_pod_made_for_a_loupe_killed_meanwhile_is_deleted(self):
        # Loupe is killed while RunPod makes the pod; the next Loupe makes the job's pod
        # itself, and the first one, which no job has, is found among the account's pods.
        self.runpod.slow("create", 3)
        job = self.launch(self.spec(env={"STEPS": "100000"}))
        time.sleep(1.0)
        self.server.kill9()
        os.environ["LOUPE_RUNPOD_URL"] = self.runpod.url
        self.server = LoupeServer(data_dir=self.server.data_dir, port=self.port,
                                  extra_args=["--public-url", f"http://127.0.0.1:{self.port}/",
                                              "--runpod-poll-ms", "200"]).start()
        self.server.own_dir = True
        running = self.wait(job["id"], lambda j: j["state"] == "running", timeout=60, what="running")
        deadline = time.time() + 30
        while len(self.standin_pods()) < 2:  # the first Loupe's create ends after the second's
            self.assertLess(time.time(), deadline, self.standin_pods())
            time.sleep(0.2)
        (stray,) = [p for p in self.standin_pods() if p != running["runpod_pod_id"]]
        self.deleted(stray, timeout=30)
        self.assertEqual(self.job(job["id"])["state"], "running")  # the job's own pod is untouched
        self.assertEqual(self.standin_pods()[running["runpod_pod_id"]]["status"], "RUNNING")
        self.server.post(f"/api/v1/launch/jobs/{job['id']}/stop")
        self.wait(job["id"], lambda j: j["state"] == "stopped", what="stopped")

    def test_a_pod_whose_delete_fails_is_deleted_later(self):
        job = self.launch(self.spec(env={"STEPS": "3"}))
        self.runpod.fail("action", 429, times=2, detail="rate limit exceeded for the minute window")
        done = self.wait(job["id"], lambda j: j["state"] == "finished" and any(
            "could not be deleted yet" in e["message"] for e in j["events"]), what="finished, the failed delete said")
        deadline = time.time() + 40
        while self.standin_pods()[done["runpod_pod_id"]]["status"] != "TERMINATED":
            self.assertLess(time.time(), deadline, "the pod was never deleted")
            time.sleep(0.5)

    def test_checkpoint_now_reaches_a_pod_over_http(self):
        job = self.launch(self.spec(env={"STEPS": "100000", "EXIT_AFTER_CHECKPOINT": "1"},
                                    checkpoint={"keep_latest": 3}))
        self.wait(job["id"], lambda j: "line 3" in self.console(j["experiment_id"]), what="output")
        status, body, _ = self.server.post(f"/api/v1/launch/jobs/{job['id']}/checkpoint", {})
        self.assertEqual(status, 200, body)
        done = self.wait(job["id"], lambda j: j["state"] == "finished", timeout=60, what="finished")
        self.assertTrue(any(l.startswith("checkpoint at ") for l in self.console(done["experiment_id"])))
        status, body, _ = self.server.get(f"/api/v1/launch/jobs/{job['id']}")
        self.assertEqual(len(body["data"]["checkpoints"]), 1, body["data"].get("checkpoints"))

    def test_a_container_that_dies_without_a_word_is_lost(self):
        job = self.launch(self.spec(env={"STEPS": "100000"}))
        running = self.wait(job["id"], lambda j: j["state"] == "running", what="running")
        self.wait(job["id"], lambda j: "line 2" in self.console(j["experiment_id"]), what="output")
        self.runpod.crash(running["runpod_pod_id"])
        done = self.wait(job["id"], lambda j: j["state"] == "lost", timeout=40, what="lost")
        self.assertIn("without the command's exit status", done["message"])

    def test_a_pod_that_cannot_be_created_fails_the_job_with_runpods_words(self):
        self.runpod.fail("create", 400, detail="There are no instances currently available")
        job = self.launch(self.spec())
        done = self.wait(job["id"], lambda j: j["state"] == "failed", what="failed")
        self.assertIn("There are no instances currently available", done["message"])

    def test_runpod_failing_for_a_while_delays_the_pod_and_a_left_pod_is_deleted(self):
        # A pod a Loupe made and never recorded (it died in between) has the job's pod name.
        req = urllib.request.Request(self.runpod.url + "/v2/pods", method="POST", data=json.dumps({
            "name": f"loupe-{self.installation_id()}-job-1-1", "image": "x", "gpu": {"id": "NVIDIA GeForce RTX 4090"}, "args": "sleep 600"}).encode(),
            headers={"Authorization": f"Bearer {self.runpod.key}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req) as r:
            left = json.load(r)["id"]
        self.runpod.fail("create", 503, detail="upstream unavailable")
        job = self.launch(self.spec(env={"STEPS": "3"}))
        self.assertEqual(job["id"], 1)
        waiting = self.wait(job["id"], lambda j: "trying again" in j["message"], what="a retry")
        self.assertEqual(waiting["state"], "queued")
        self.assertIn("RunPod answered 503: upstream unavailable", waiting["message"])
        done = self.wait(job["id"], lambda j: j["state"] == "finished", timeout=60, what="finished")
        self.deleted(left)
        self.assertTrue(any(f"deleted RunPod pod {left}" in e["message"] for e in done["events"]), done["events"])
        self.assertEqual(len(self.created_bodies()), 3)  # the left pod, the refused create, the job's pod

    def test_a_restarted_loupe_follows_its_pod_and_stores_each_line_once(self):
        job = self.launch(self.spec(env={"STEPS": "80", "PAUSE": "0.1"}))
        self.wait(job["id"], lambda j: "line 10" in self.console(j["experiment_id"]), what="output")
        self.server.kill9()
        time.sleep(1.0)
        self.server = self.start_server(data_dir=self.server.data_dir)
        self.server.own_dir = True
        done = self.wait(job["id"], lambda j: j["state"] == "finished", timeout=90, what="finished")
        lines = self.console(done["experiment_id"])
        for step in range(1, 81):
            self.assertEqual(lines.count(f"line {step}"), 1, f"line {step}: {lines}")


if __name__ == "__main__":
    unittest.main()
