"""The randomized fault test: SDK scripts log their own ground truth while the server
is killed with SIGKILL and restarted at random; afterwards every value, console line,
image and config key each script logged must be on the server exactly once, and the
run finished. Every future change must keep this passing.

Short by default (make test); bench/sdk_faults.sh runs it long. Knobs (environment):
LOUPE_FAULT_SEED (default: random, printed), LOUPE_FAULT_SCRIPTS (2), LOUPE_FAULT_STEPS
(800), LOUPE_FAULT_ROUNDS (1).
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "api"))
from loupe_server import LoupeServer  # noqa: E402

import loupe  # noqa: E402

SDK = os.path.dirname(os.path.dirname(os.path.abspath(loupe.__file__)))  # the SDK under test, for subprocesses

SCRIPT = """
import sys, time, loupe
i, steps, host, spool = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
r = loupe.Run(project="chaos", run_id=f"chaos-{i}", config={"script": i}, host=host, spool_dir=spool,
              flush_interval=0.05, system_metrics_interval=0, heartbeat_interval=1.0)
png = b"\\x89PNG\\r\\n\\x1a\\n" + bytes([i]) * 32
for s in range(steps):
    r.log({"value": s * 0.5 + i, "other/x": -s}, step=s)
    if s % 10 == 0:
        print(f"script {i} step {s}")
    if s % 100 == 0:
        r.log_image("frames", png, step=s)
    time.sleep(0.004)
r.update_config({"done": True})
ok = r.finish(timeout=300)
sys.__stdout__.write(f"finished {ok}\\n")
"""


def expected_console(i, steps):
    return [f"script {i} step {s}" for s in range(0, steps, 10)]


class Chaos:
    """Kills the server with SIGKILL and restarts it on the same port, at random."""

    def __init__(self, server, rng):
        self.server, self.rng = server, rng
        self.kills = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _loop(self):
        while not self._stop.wait(self.rng.uniform(0.2, 0.9)):
            port = self.server.port
            self.server.kill9()
            self.kills += 1
            time.sleep(self.rng.uniform(0.0, 0.6))
            self.server.port = port
            self.server.start()

    def stop(self):
        self._stop.set()
        self._thread.join()


class FaultTest(unittest.TestCase):
    def test_every_acknowledged_value_survives_random_server_kills(self):
        seed = int(os.environ.get("LOUPE_FAULT_SEED") or random.randrange(2 ** 31))
        scripts = int(os.environ.get("LOUPE_FAULT_SCRIPTS", "2"))
        steps = int(os.environ.get("LOUPE_FAULT_STEPS", "800"))
        rounds = int(os.environ.get("LOUPE_FAULT_ROUNDS", "1"))
        print(f"fault test: seed {seed}, {scripts} scripts x {steps} steps, {rounds} round(s)", file=sys.stderr)
        rng = random.Random(seed)
        for rnd in range(rounds):
            with self.subTest(round=rnd, seed=seed):
                self.one_round(rng, scripts, steps)

    def one_round(self, rng, scripts, steps):
        spool = tempfile.mkdtemp(prefix="loupe-fault-spool-")
        server = LoupeServer().start()
        self.addCleanup(server.cleanup)
        self.addCleanup(shutil.rmtree, spool, True)
        env = dict(os.environ, PYTHONPATH=SDK + os.pathsep + os.environ.get("PYTHONPATH", ""))
        chaos = Chaos(server, rng).start()
        procs = [subprocess.Popen([sys.executable, "-c", SCRIPT, str(i), str(steps), server.url, spool], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for i in range(scripts)]
        outputs = [p.communicate(timeout=600) for p in procs]
        chaos.stop()
        print(f"fault test: {chaos.kills} server kill(s)", file=sys.stderr)
        for p, (out, err) in zip(procs, outputs):
            self.assertEqual(p.returncode, 0, err[-3000:])
        self.assertGreater(chaos.kills, 0)
        # What a script could not send before its finish timed out is sync's to send.
        report = loupe._sync.sync_report(spool_dir=spool, host=server.url, timeout=120)
        self.assertEqual((report.left, report.busy), (0, 0))
        port = server.port
        server.kill9()  # one more start: the orphan sweep runs
        server.port = port
        server.start()

        projects = server.request("GET", "/api/v1/projects")[1]["data"]["projects"]
        self.assertEqual([p["name"] for p in projects], ["chaos"])
        exps = server.request("GET", f"/api/v1/projects/{projects[0]['id']}/experiments")[1]["data"]["experiments"]
        self.assertEqual(sorted(e["run_id"] for e in exps), sorted(f"chaos-{i}" for i in range(scripts)))
        for e in exps:
            i = int(e["run_id"].split("-")[1])
            self.assertEqual(e["status"], "finished", e)
            self.assertEqual(e["config"], {"script": i, "done": True})
            got = server.request("GET", f"/api/v1/experiments/{e['id']}/series?key=value&max_points=100000")[1]
            self.assertEqual([(p[0], p[1]) for p in got["data"]["points"]], [(s, s * 0.5 + i) for s in range(steps)])
            got = server.request("GET", f"/api/v1/experiments/{e['id']}/series?key=other/x&max_points=100000")[1]
            self.assertEqual(got["data"]["count"], steps)
            lines = server.request("GET", f"/api/v1/experiments/{e['id']}/console?limit=100000")[1]["data"]["lines"]
            self.assertEqual([l["text"] for l in lines if l["text"].startswith("script ")],
                             expected_console(i, steps))
            media = server.request("GET", f"/api/v1/experiment/{e['id']}/tag/frames")[1]["data"]["list"]
            self.assertEqual(sorted(m["index"] for m in media), list(range(0, steps, 100)))
            files = os.listdir(os.path.join(server.data_dir, "media", str(e["id"])))
            self.assertEqual(len(files), len(media))


if __name__ == "__main__":
    unittest.main()
