"""Training jobs on Slurm (issue 14), against a fresh server and a real single-node
cluster (tests/launch/slurm_cluster.py; 64 CPUs configured so that every job runs at once):
  1. launch to first log line: POST /api/v1/launch/jobs to the first line in the run's
     console (median and worst of ROUNDS launches; includes sbatch, the scheduler's start and
     Loupe's poll);
  2. supervision: JOBS jobs that each print a line every 5 s, all running, watched for
     SECONDS; the share of a core Loupe's process spent (one squeue a second for all);
  3. stop: POST .../stop on a running job to the job recorded stopped (SIGTERM through
     Slurm; the command ends at once).

Usage: python3 bench/launch_slurm_bench.py BUILD_DIR/loupe [ROUNDS=10] [JOBS=50] [SECONDS=60]"""
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "api"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "launch"))
from loupe_server import LoupeServer  # noqa: E402
from slurm_cluster import SlurmCluster  # noqa: E402


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def job(server, job_id):
    return server.get(f"/api/v1/launch/jobs/{job_id}")[1]["data"]


def main():
    os.environ["LOUPE_BIN"] = os.path.abspath(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    jobs = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 60
    cluster = SlurmCluster(cpus=64, memory_mb=64000, gpus=0).start()
    os.environ["SLURM_CONF"] = cluster.conf
    server = LoupeServer().start()
    code = tempfile.mkdtemp(prefix="loupe-bench-code-")
    with open(os.path.join(code, "hello.sh"), "w") as f:
        f.write("echo hello\nsleep 1\n")
    with open(os.path.join(code, "tick.sh"), "w") as f:
        f.write("while true; do echo tick; sleep 5; done\n")
    try:
        firsts = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            status, body, _ = server.post("/api/v1/launch/jobs", {"command": "bash hello.sh", "workdir": code,
                                                                  "executor": "slurm"})
            assert status == 201, body
            eid = body["data"]["experiment_id"]
            while True:
                lines = server.get(f"/api/v1/experiments/{eid}/console?limit=10")[1]["data"]["lines"]
                if lines:
                    break
                time.sleep(0.01)
            firsts.append(time.perf_counter() - t0)
        print(f"launch to first log line: median {statistics.median(firsts) * 1000:.0f} ms, "
              f"worst {max(firsts) * 1000:.0f} ms over {rounds} launches")

        ids = []
        for _ in range(jobs):
            status, body, _ = server.post("/api/v1/launch/jobs", {"command": "bash tick.sh", "workdir": code,
                                                                  "executor": "slurm"})
            assert status == 201, body
            ids.append(body["data"]["id"])
        deadline = time.time() + 120
        while sum(job(server, i)["state"] == "running" for i in ids) < jobs:
            assert time.time() < deadline, "not every job started"
            time.sleep(0.5)
        c0, t0 = cpu_seconds(server.proc.pid), time.time()
        time.sleep(seconds)
        share = (cpu_seconds(server.proc.pid) - c0) / (time.time() - t0)
        print(f"{jobs} Slurm jobs supervised for {seconds:.0f} s: {share * 100:.2f}% of a core")

        stops = []
        for i in ids[:10]:
            t0 = time.perf_counter()
            status, body, _ = server.post(f"/api/v1/launch/jobs/{i}/stop", {})
            assert status == 200, body
            while job(server, i)["state"] != "stopped":
                time.sleep(0.01)
            stops.append(time.perf_counter() - t0)
        print(f"stop to stopped: median {statistics.median(stops) * 1000:.0f} ms, worst {max(stops) * 1000:.0f} ms")
    finally:
        server.cleanup()
        cluster.run("scancel", "--user=root", check=False)
        cluster.stop()


if __name__ == "__main__":
    main()
