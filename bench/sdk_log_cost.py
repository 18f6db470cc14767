"""What one SDK log() call costs the training loop: 20 keys, a timestamp per call, console
capture on (at the file-descriptor level when stdout and stderr are fds 1 and 2), the
sender thread shipping batches to a live server meanwhile. Prints the median and p99 of
the per-call time over batches of 1,000 calls, in microseconds. Target: <= 60 us.

Usage: python3 bench/sdk_log_cost.py BUILD_DIR/loupe [CALLS=200000] [capture: on|off]"""
import json
import os
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "api"))
sys.path.insert(0, os.path.join(here, "..", "sdk", "python"))
from loupe_server import LoupeServer  # noqa: E402

import loupe  # noqa: E402
from loupe import _console  # noqa: E402


def main():
    os.environ["LOUPE_BIN"] = sys.argv[1]
    calls = int(sys.argv[2]) if len(sys.argv) > 2 else 200000
    capture = (sys.argv[3] if len(sys.argv) > 3 else "on") == "on"
    server = LoupeServer(extra_args=["--no-fsync"]).start()
    spool = tempfile.mkdtemp(prefix="loupe-bench-spool-")
    try:
        os.environ["LOUPE_QUIET"] = "1"
        run = loupe.init(project="bench", name="log-cost", host=server.url, spool_dir=spool,
                         capture_console=capture, system_metrics_interval=0)
        fd_level = _console._fd_capture_owner is not None
        keys = [f"train/k{i}" for i in range(20)]
        per_call = []
        step = 0
        while step < calls:
            start = time.perf_counter()
            for _ in range(1000):
                run.log({k: step * 0.001 for k in keys}, step=step)
                step += 1
            per_call.append((time.perf_counter() - start) / 1000 * 1e6)
        ok = run.finish(timeout=120)
        per_call.sort()
        print(json.dumps({"calls": calls, "keys": 20, "fd_level_capture": fd_level, "all_sent": ok,
                          "median_us": round(per_call[len(per_call) // 2], 1),
                          "p99_us": round(per_call[int(len(per_call) * 0.99)], 1)}), file=sys.__stderr__)
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
