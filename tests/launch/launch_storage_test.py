"""Storage mounts against a real S3 server (s3rver, from npm) with Debian's rclone and FUSE.
A local job's S3 folders are copied in before its command, mounted read-only, and written
back after it, also when it is stopped; the credentials come from Loupe's secret store and
the command never sees them; bad credentials fail the job before the command runs, with
rclone's reason in the console; the training package does the same outside Loupe."""
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "api"))
sys.path.insert(0, os.path.dirname(__file__))
from loupe_server import LoupeServer  # noqa: E402
from job_api import JobApi  # noqa: E402
from s3_server import KEYS, S3Server  # noqa: E402
from slurm_cluster import SlurmClusterCase  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SDK = os.path.join(ROOT, "sdk", "python")

SCRIPT = textwrap.dedent("""\
    import json, os, signal, sys, time
    import loupe

    leaked = sorted(k for k in os.environ if k.startswith(("LOUPE_MOUNT_", "RCLONE_CONFIG_")))
    print("credential variables seen:", leaked, flush=True)
    run = loupe.init()
    rows = open("data/train.csv").read().splitlines()
    print(f"train rows {len(rows) - 1}", flush=True)
    if os.path.isdir("ro"):
        print("mounted:", sorted(os.listdir("ro")), open("ro/train.csv").read().count(chr(10)), flush=True)
        try:
            open("ro/new.txt", "w").write("x")
            print("ro is writable", flush=True)
        except OSError as e:
            print("ro is read-only:", e.strerror, flush=True)
    run.log({"rows": len(rows) - 1}, step=1)
    os.makedirs("out/sub", exist_ok=True)
    with open("out/model.txt", "w") as f:
        f.write("weights for %d rows\\n" % (len(rows) - 1))
    with open("out/sub/metrics.json", "w") as f:
        json.dump({"rows": len(rows) - 1}, f)
    if os.environ.get("WAIT"):
        signal.signal(signal.SIGTERM, lambda *_: (print("got TERM", flush=True), run.finish(), sys.exit(0)))
        print("waiting", flush=True)
        while True:
            time.sleep(0.1)
    run.finish()
    print("done", flush=True)
    """)


class StorageCase(JobApi):
    """What the local and the Slurm cases share: the secrets, the spec and the readers."""
    executor = "local"

    def setUp(self):
        self.server = LoupeServer().start()
        self.addCleanup(lambda: self.server.cleanup())
        self.code = tempfile.mkdtemp(prefix="loupe-code-")
        self.addCleanup(lambda: shutil.rmtree(self.code, ignore_errors=True))
        with open(os.path.join(self.code, "train.py"), "w", encoding="utf-8") as f:
            f.write(SCRIPT)
        for name, value in (("s3", KEYS), ("s3-wrong", "WRONG:S3RVER"), ("not-keys", "just-one-part")):
            status, body, _ = self.server.request("PUT", f"/api/v1/secrets/{name}", {"value": value})
            self.assertEqual(status, 200, body)
        self.prefix = f"run-{time.time_ns()}"
        self.endpoint = self.s3.endpoint

    def rclone(self, *args):
        return self.s3.rclone(*args)

    def mounts(self, secret="s3", mount=True):
        m = [{"source": "s3://datasets/iris", "path": "data", "endpoint": self.endpoint, "secret": secret},
             {"source": f"s3://results/{self.prefix}", "path": "out", "write_back": True, "endpoint": self.endpoint,
              "secret": secret}]
        if mount:
            m.append({"source": "s3://datasets/iris/", "path": "ro", "mode": "mount", "endpoint": self.endpoint,
                      "secret": secret})
        return m

    def spec(self, **extra):
        return {"name": "s3-job", "project": "storage", "command": "/usr/bin/python3 train.py", "workdir": self.code,
                "mounts": self.mounts(), "stop_grace_seconds": 20, "executor": self.executor,
                "env": {"PYTHONPATH": SDK}, **extra}

    def console(self, eid):
        status, body, _ = self.server.get(f"/api/v1/experiments/{eid}/console?limit=10000")
        self.assertEqual(status, 200, body)
        return [line["text"] for line in body["data"]["lines"]]

    def check(self, spec):
        status, body, _ = self.server.post("/api/v1/launch/jobs?check=1", spec)
        self.assertEqual(status, 200, body)
        return {p["field"]: p["message"] for p in body["data"]["problems"]}

    def results(self):
        return {line.split(None, 1)[1]: int(line.split(None, 1)[0])
                for line in self.rclone("ls", f"s3:results/{self.prefix}").splitlines()}

    def mounted(self, job):
        with open("/proc/self/mounts") as f:
            return [line for line in f if os.path.join(self.server.data_dir, "launch", str(job["id"])) in line]


class LaunchStorageTest(StorageCase, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s3 = S3Server()

    @classmethod
    def tearDownClass(cls):
        cls.s3.stop()

    def test_folders_are_copied_in_mounted_read_only_and_written_back(self):
        job = self.launch(self.spec())
        j = self.wait(job["id"], lambda j: j["state"] in ("finished", "failed"), 90, "the end")
        lines = self.console(job["experiment_id"])
        text = "\n".join(lines)
        self.assertEqual(j["state"], "finished", text + self.diagnostics())
        self.assertIn("credential variables seen: []", lines)
        self.assertIn("train rows 150", lines)
        self.assertIn("mounted: ['README', 'train.csv'] 151", lines)
        self.assertIn("ro is read-only: Read-only file system", lines)
        self.assertIn("[loupe] copying s3://datasets/iris into data/", lines)
        self.assertRegex(text, r"\[loupe\] copied s3://datasets/iris into data/ in \d+ s: 2 files there")
        self.assertIn("[loupe] mounting s3://datasets/iris on ro/ (read-only)", lines)
        self.assertIn(f"[loupe] writing out/ back to s3://results/{self.prefix}", lines)
        self.assertRegex(text, rf"\[loupe\] wrote out/ back to s3://results/{self.prefix} in \d+ s: 2 files")
        self.assertNotIn("S3RVER", text)
        # What the script wrote is in S3, byte for byte; its metric is the rows it read.
        self.assertEqual(self.results(), {"model.txt": len("weights for 150 rows\n"), "sub/metrics.json": 13})
        self.assertEqual(self.rclone("cat", f"s3:results/{self.prefix}/sub/metrics.json"), '{"rows": 150}')
        status, body, _ = self.server.get(f"/api/v1/experiments/{job['experiment_id']}/series?key=rows")
        self.assertEqual(status, 200, body)
        self.assertEqual([p[1] if isinstance(p, list) else p["value"] for p in body["data"]["points"]][-1], 150)
        self.assertEqual(self.mounted(job), [])  # unmounted at the end
        status, page = self.server.html(f"/launch/{job['id']}")
        self.assertEqual(status, 200)
        self.assertIn(f"<li><code>s3://results/{self.prefix}</code> → <code>out/</code> · copied in, written back at "
                      "the end</li>", page)
        self.assertIn("<li><code>s3://datasets/iris</code> → <code>ro/</code> · mounted read-only</li>", page)
        # The spec keeps the mounts as given; the secret by name only.
        self.assertEqual(j["spec"]["mounts"][2], {"source": "s3://datasets/iris", "path": "ro", "mode": "mount",
                                                  "write_back": False, "endpoint": self.endpoint, "secret": "s3"})

    def test_bad_credentials_fail_the_job_before_its_command(self):
        job = self.launch(self.spec(mounts=self.mounts("s3-wrong", mount=False)))
        j = self.wait(job["id"], lambda j: j["state"] in ("finished", "failed"), 90, "the end")
        lines = self.console(job["experiment_id"])
        self.assertEqual(j["state"], "failed", lines)
        self.assertEqual(j["exit"], "exit code 1")
        failed = [line for line in lines if line.startswith("[loupe] copying s3://datasets/iris into data/ failed: ")]
        self.assertEqual(len(failed), 1, lines)
        self.assertIn("InvalidAccessKeyId", failed[0])
        self.assertTrue(failed[0].endswith("; the command was not started"), failed[0])
        self.assertTrue(any("InvalidAccessKeyId" in line for line in lines), lines)
        self.assertFalse(any(line.startswith("credential variables") for line in lines), lines)
        self.assertIn("InvalidAccessKeyId", j["message"], j)  # the job says why, not only its console

    def test_the_spec_check_names_the_secret_problems(self):
        self.assertEqual(self.check(self.spec()), {})
        problems = self.check(self.spec(mounts=self.mounts("missing", mount=False)))
        self.assertEqual(problems["mounts[0].secret"],
                         "no secret named 'missing' (store it on the Access page, or PUT /api/v1/secrets/missing "
                         "with {\"value\": \"ACCESS_KEY_ID:SECRET_ACCESS_KEY\"})")
        problems = self.check(self.spec(mounts=self.mounts("not-keys", mount=False)))
        self.assertEqual(problems["mounts[1].secret"], "the secret 'not-keys' must hold ACCESS_KEY_ID:SECRET_ACCESS_KEY "
                                                       "(the two joined by one ':')")
        problems = self.check(self.spec(mounts=[{"source": "s3://x", "path": "../up", "secret": "missing"}]))
        self.assertEqual(sorted(problems), ["mounts[0].path", "mounts[0].secret", "mounts[0].source"])
        # Each problem names its own mount, after a mount with problems of its own.
        problems = self.check(self.spec(mounts=[{"source": "s3://x", "path": "a"},
                                                {"source": "s3://datasets/x", "path": "b", "mode": "mount",
                                                 "secret": "not-keys"}]))
        self.assertEqual(sorted(problems), ["mounts[0].source", "mounts[1].secret"])

    def test_what_would_lose_data_is_refused_and_an_odd_exit_status_ends_the_job(self):
        # A mount path that is a link in the working directory: the copy would land outside it.
        outside = tempfile.mkdtemp(prefix="loupe-outside-")
        self.addCleanup(lambda: shutil.rmtree(outside, ignore_errors=True))
        os.symlink(outside, os.path.join(self.code, "data"))
        problems = self.check(self.spec())
        self.assertEqual(problems["mounts[0].path"], "'data' is a link in the working directory: a mount's folder "
                                                     "must be a real folder (or not exist)")
        os.remove(os.path.join(self.code, "data"))
        # The same S3 folder written back twice: one copy would overwrite the other's results.
        twice = self.mounts(mount=False) + [{"source": f"s3://results/{self.prefix}/", "path": "again",
                                             "endpoint": self.endpoint, "secret": "s3"}]
        self.assertIn("one is written back", self.check(self.spec(mounts=twice))["mounts[2].source"])
        # Exit statuses that read like stopping signals (148 = 128 + SIGTSTP) end the job as
        # exit statuses; a secret named only with dots is refused.
        job = self.launch(self.spec(command="echo bye; exit 148", mounts=self.mounts(mount=False)))
        j = self.wait(job["id"], lambda j: j["state"] in ("finished", "failed"), 60, "the end")
        self.assertEqual((j["state"], j["exit"]), ("failed", "exit code 148"))
        status, body, _ = self.server.request("POST", "/access/secrets", raw=b"name=..&value=AAA%3ABBBB",
                                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 422)
        self.assertIn("not only dots", body.decode())

    def test_a_stopped_job_still_writes_its_results_back(self):
        job = self.launch(self.spec(env={"WAIT": "1", "PYTHONPATH": SDK}))
        self.wait(job["id"], lambda j: "waiting" in self.console(j["experiment_id"]), 90, "the script waiting")
        self.server.post(f"/api/v1/launch/jobs/{job['id']}/stop")
        j = self.wait(job["id"], lambda j: j["state"] not in ("running", "stopping"), 60, "the stop")
        lines = self.console(job["experiment_id"])
        self.assertEqual(j["state"], "stopped", lines)
        self.assertIn("got TERM", lines)
        self.assertIn(f"[loupe] writing out/ back to s3://results/{self.prefix}", lines)
        self.assertEqual(self.results(), {"model.txt": len("weights for 150 rows\n"), "sub/metrics.json": 13})
        self.assertEqual(self.mounted(job), [])

    def test_the_package_copies_and_writes_back_outside_loupe(self):
        job = self.launch(self.spec(mounts=self.mounts(mount=False)))
        self.wait(job["id"], lambda j: j["state"] == "finished", 90, "success")
        self.rclone("purge", f"s3:results/{self.prefix}")
        status, body, _ = self.server.request("GET", f"/api/v1/launch/jobs/{job['id']}/package")
        self.assertEqual(status, 200)
        elsewhere = tempfile.mkdtemp(prefix="loupe-package-")
        self.addCleanup(lambda: shutil.rmtree(elsewhere, ignore_errors=True))
        with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as t:
            t.extractall(elsewhere)
        top = os.path.join(elsewhere, f"job-{job['id']}")
        with open(os.path.join(top, "run.sh")) as f:
            run_sh = f.read()
        self.assertIn("export LOUPE_MOUNT_0_ACCESS_KEY_ID and LOUPE_MOUNT_0_SECRET_ACCESS_KEY", run_sh)
        with open(os.path.join(top, "storage.sh")) as f:
            self.assertNotIn("S3RVER", run_sh + f.read())
        self.assertFalse(os.path.exists(os.path.join(top, "workdir", "data")))  # S3's files are not packaged
        env = {k: v for k, v in os.environ.items() if not k.startswith("LOUPE_")}
        env.update(LOUPE_MODE="offline", LOUPE_DIR=os.path.join(elsewhere, "logs"))
        # Without the keys it stops and says which (it would read anonymously).
        r = subprocess.run(["sh", os.path.join(top, "run.sh")], env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("[loupe] mounts[0] (s3://datasets/iris) needs LOUPE_MOUNT_0_ACCESS_KEY_ID and "
                      "LOUPE_MOUNT_0_SECRET_ACCESS_KEY (the Loupe secret s3 held them)", r.stderr)
        for n in (0, 1):
            env[f"LOUPE_MOUNT_{n}_ACCESS_KEY_ID"] = env[f"LOUPE_MOUNT_{n}_SECRET_ACCESS_KEY"] = "S3RVER"
        r = subprocess.run(["sh", os.path.join(top, "run.sh")], env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("train rows 150", r.stdout)
        self.assertEqual(self.results(), {"model.txt": len("weights for 150 rows\n"), "sub/metrics.json": 13})


class SlurmStorageTest(SlurmClusterCase, StorageCase, unittest.TestCase):
    """The same storage.sh on a Slurm node (this machine, in a real single-node cluster)."""
    executor = "slurm"

    @classmethod
    def setUpClass(cls):
        cls.s3 = S3Server()
        cls.start_cluster()

    @classmethod
    def tearDownClass(cls):
        cls.stop_cluster()
        cls.s3.stop()

    def diagnostics(self):
        return self.cluster.log()

    def test_a_slurm_job_copies_mounts_and_writes_back(self):
        job = self.launch(self.spec())
        j = self.wait(job["id"], lambda j: j["state"] in ("finished", "failed", "lost"), 120, "the end")
        lines = self.console(job["experiment_id"])
        self.assertEqual(j["state"], "finished", lines)
        self.assertIn("credential variables seen: []", lines)
        self.assertIn("train rows 150", lines)
        self.assertIn("mounted: ['README', 'train.csv'] 151", lines)
        self.assertIn(f"[loupe] writing out/ back to s3://results/{self.prefix}", lines)
        self.assertEqual(self.results(), {"model.txt": len("weights for 150 rows\n"), "sub/metrics.json": 13})
        self.assertEqual(self.mounted(job), [])


if __name__ == "__main__":
    unittest.main()
