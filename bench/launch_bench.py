"""Training jobs (issue 14's targets), against a fresh server:
  1. launch to first log line: POST /api/v1/launch/jobs to the first line readable from
     the run's console (median and worst of ROUNDS launches; target <= 1 s);
  2. log capture: a job writes LINES lines as fast as it can; lines per second from launch
     to the last one stored, and every line checked present once, in order (target >=
     50,000 lines/s, nothing dropped);
  3. supervision: JOBS jobs that each print a line every 5 s, watched for SECONDS; the
     share of a core Loupe's process spent (utime + stime from /proc; target <= 5% at 100
     jobs for 10 minutes);
  4. budget enforcement: a job with a 3 s time cap and no grace; how long after the cap
     it ended (target <= 5 s).

Usage: python3 bench/launch_bench.py BUILD_DIR/loupe [ROUNDS=10] [LINES=500000] [JOBS=100] [SECONDS=60]"""
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "api"))
from loupe_server import LoupeServer  # noqa: E402


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_job(server, job_id, timeout=600):
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = server.get(f"/api/v1/launch/jobs/{job_id}")[1]["data"]
        if job["state"] not in ("queued", "running", "stopping"):
            return job
        time.sleep(0.05)
    raise RuntimeError(f"job {job_id} did not end")


def launch(server, spec):
    status, body, _ = server.post("/api/v1/launch/jobs", spec)
    if status != 201:
        raise RuntimeError(body)
    return body["data"]


def total_lines(server, experiment_id):
    return server.get(f"/api/v1/experiments/{experiment_id}/console/lines?limit=1")[1]["data"]["total"]


def main():
    os.environ["LOUPE_BIN"] = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    lines = int(sys.argv[3]) if len(sys.argv) > 3 else 500000
    jobs = int(sys.argv[4]) if len(sys.argv) > 4 else 100
    seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 60
    code = tempfile.mkdtemp(prefix="loupe-bench-code-")
    server = LoupeServer().start()
    try:
        # 1. Launch to the first line.
        waits = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            job = launch(server, {"command": "echo first", "workdir": code})
            while total_lines(server, job["experiment_id"]) < 1:
                time.sleep(0.005)
            waits.append(time.perf_counter() - t0)
            wait_job(server, job["id"])
        print(f"launch to first line: median {statistics.median(waits) * 1000:.0f} ms, "
              f"worst {max(waits) * 1000:.0f} ms over {rounds} launches")

        # 2. Capture rate.
        write = f"import sys\nsys.stdout.write(''.join('line %d\\n' % i for i in range({lines})))\n"
        with open(os.path.join(code, "flood.py"), "w") as f:
            f.write(write)
        t0 = time.perf_counter()
        job = launch(server, {"command": "/usr/bin/python3 flood.py", "workdir": code})
        while total_lines(server, job["experiment_id"]) < lines:
            time.sleep(0.01)
        took = time.perf_counter() - t0
        done = wait_job(server, job["id"])
        got, expect = [], 0
        while True:
            page = server.get(f"/api/v1/experiments/{job['experiment_id']}/console/lines?from={len(got) + 1}&limit=5000")[1]["data"]["lines"]
            if not page:
                break
            got.extend(line["text"] for line in page)
        ok = got == [f"line {i}" for i in range(lines)]
        print(f"log capture: {lines} lines in {took:.2f} s = {lines / took:,.0f} lines/s; "
              f"stored {len(got)}, all present once in order: {ok}; job {done['state']}")
        os.remove(os.path.join(code, "flood.py"))

        # 3. Supervision cost.
        launched = [launch(server, {"command": "while :; do echo tick; sleep 5; done", "workdir": code,
                                    "stop_grace_seconds": 1}) for _ in range(jobs)]
        time.sleep(2)
        c0, t0 = cpu_seconds(server.proc.pid), time.perf_counter()
        time.sleep(seconds)
        c1, t1 = cpu_seconds(server.proc.pid), time.perf_counter()
        print(f"supervision: {jobs} jobs for {t1 - t0:.0f} s: Loupe used {(c1 - c0) / (t1 - t0) * 100:.2f}% of a core")
        for j in launched:
            server.post(f"/api/v1/launch/jobs/{j['id']}/stop")
        for j in launched:
            wait_job(server, j["id"])

        # 4. Budget enforcement.
        job = launch(server, {"command": "exec sleep 60", "workdir": code, "budget": {"max_minutes": 0.05},
                              "stop_grace_seconds": 0})
        done = wait_job(server, job["id"])
        late = done["end_time"] - (done["start_time"] + 3.0)
        print(f"budget: a 3 s cap ended the job {late * 1000:.0f} ms after it was crossed ({done['stop_reason']})")
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
