"""What the executor tests share: launching a job through the API and waiting on it.
A test case mixes this in and has `self.server` (a LoupeServer) and `diagnostics()`."""
import json
import time


class JobApi:
    def launch(self, spec):
        status, body, _ = self.server.post("/api/v1/launch/jobs", spec)
        self.assertEqual(status, 201, body)
        return body["data"]

    def job(self, job_id):
        status, body, _ = self.server.get(f"/api/v1/launch/jobs/{job_id}")
        self.assertEqual(status, 200, body)
        return body["data"]

    def wait(self, job_id, until, timeout=60, what="the condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            j = self.job(job_id)
            if until(j):
                return j
            time.sleep(0.1)
        raise AssertionError(f"job {job_id}: {what} not reached in {timeout} s: {json.dumps(j)[:3000]}\n"
                             f"{self.diagnostics()}")

    def diagnostics(self):
        return self.server.log()[-3000:]
