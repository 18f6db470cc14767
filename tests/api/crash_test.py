"""kill -9 during a steady ingest stream loses nothing that was acknowledged."""
import os
import subprocess
import threading
import time
import unittest

from loupe_server import LoupeServer

KEYS = [f"train/k{i}" for i in range(50)]


class CrashTest(unittest.TestCase):
    def ingest(self, server, exp_id, acked, stop):
        step = 0
        while not stop.is_set():
            steps = [{"step": step + i, "values": {k: float(step + i) for k in KEYS}} for i in range(200)]
            try:
                status, payload, _ = server.request("POST", f"/api/v1/experiments/{exp_id}/metrics",
                                                    {"seq": step, "steps": steps})
            except Exception:
                return  # the server died mid-request: that batch was never acknowledged
            if status != 200:
                return
            acked.append(step + 199)
            step += 200

    def test_acknowledged_points_survive_kill_9(self):
        server = LoupeServer().start()
        try:
            _, p, _ = server.request("POST", "/api/v1/experiments", {"project": "crash", "run_id": "crash-1"})
            exp_id = p["data"]["id"]
            acked, stop = [], threading.Event()
            writers = [threading.Thread(target=self.ingest, args=(server, exp_id, acked, stop))]
            writers[0].start()
            time.sleep(2.5)
            self.assertGreater(len(acked), 3, "the stream should have been acknowledged several times")
            server.kill9()
            stop.set()
            writers[0].join()
            last_acked = max(acked)

            check = subprocess.run(["sqlite3", os.path.join(server.data_dir, "loupe.db"), "PRAGMA integrity_check"],
                                   capture_output=True, text=True)
            self.assertEqual(check.stdout.strip(), "ok", check.stderr)

            server.start()  # same port and data dir
            for key in (KEYS[0], KEYS[-1]):
                status, p, _ = server.request("GET", f"/api/v1/experiments/{exp_id}/series?key={key}&max_points=100000")
                self.assertEqual(status, 200, p)
                data = p["data"]
                self.assertGreaterEqual(data["count"], last_acked + 1)
                steps = [pt[0] for pt in data["points"]]
                self.assertEqual(steps[: last_acked + 1], list(range(last_acked + 1)))
                self.assertTrue(all(pt[1] == float(pt[0]) for pt in data["points"]))
            # The stream can resume and the same sequence number is recognised as applied.
            status, p, _ = server.request("POST", f"/api/v1/experiments/{exp_id}/metrics",
                                          {"seq": 0, "steps": [{"step": 0, "values": {KEYS[0]: -1.0}}]})
            self.assertTrue(p["data"]["duplicate"])
        finally:
            server.cleanup()

    def test_sigterm_flushes_and_exits_cleanly(self):
        server = LoupeServer().start()
        try:
            _, p, _ = server.request("POST", "/api/v1/experiments", {"project": "term"})
            exp_id = p["data"]["id"]
            server.request("POST", f"/api/v1/experiments/{exp_id}/metrics",
                           {"steps": [{"step": s, "values": {"m": s}} for s in range(1000)]})
            server.stop()
            self.assertEqual(server.proc.returncode, 0)
            server.start()
            _, p, _ = server.request("GET", f"/api/v1/experiments/{exp_id}/series?key=m")
            self.assertEqual(p["data"]["count"], 1000)
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main()
