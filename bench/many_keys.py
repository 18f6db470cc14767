"""Adding keys must not cost in proportion to the keys an experiment already has.
Times adding NEW keys (in requests of 5,000) to a fresh experiment and to one that
already holds BASE keys, and prints the ratio (1.0 is ideal).

Usage: python3 bench/many_keys.py BUILD_DIR/loupe [BASE=50000] [NEW=5000]"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "api"))
from loupe_server import LoupeServer  # noqa: E402


def add_keys(server, eid, prefix, n):
    start = time.perf_counter()
    for lo in range(0, n, 5000):
        values = {f"{prefix}/k{i}": float(i) for i in range(lo, min(n, lo + 5000))}
        status, body, _ = server.request("POST", f"/api/v1/experiments/{eid}/metrics",
                                         {"steps": [{"step": 0, "values": values}]})
        assert status == 200, body
    return time.perf_counter() - start


def main():
    os.environ["LOUPE_BIN"] = sys.argv[1]
    base = int(sys.argv[2]) if len(sys.argv) > 2 else 50000
    new = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
    server = LoupeServer(extra_args=["--no-fsync"]).start()
    try:
        fresh = server.request("POST", "/api/v1/experiments", {"project": "keys", "run_id": "fresh"})[1]["data"]["id"]
        full = server.request("POST", "/api/v1/experiments", {"project": "keys", "run_id": "full"})[1]["data"]["id"]
        add_keys(server, full, "base", base)
        t_fresh = add_keys(server, fresh, "new", new)
        t_full = add_keys(server, full, "new", new)
        print(json.dumps({"base_keys": base, "new_keys": new, "fresh_s": round(t_fresh, 3),
                          "beside_base_s": round(t_full, 3), "ratio": round(t_full / t_fresh, 2)}))
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
