"""Batch tests at scale (issue 13's targets): N prompts against a model that answers in
50 ms, at concurrency 64, against the ideal N x 50 ms / 64; a re-run of the same prompts
answered from the cache; and Loupe's own CPU per request, measured with a model that
answers at once (0 ms), from the server process's user + system time.

The model is bench/lean_stream_server.py (one token, then done), not the tests' threaded
stand-in, so the provider's own cost stays small on a 2-core machine.

Usage: python3 bench/batch_bench.py BUILD/loupe [N=10000] [CONCURRENCY=64]"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "api"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "llm"))
from loupe_server import LoupeServer  # noqa: E402
from llm_models_api_test import Standin  # noqa: E402

N = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
CONCURRENCY = int(sys.argv[3]) if len(sys.argv) > 3 else 64
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def api(server, method, path, body=None, status=200):
    code, payload, _ = server.request(method, path, body)
    assert code == status, (method, path, code, payload)
    return payload["data"]


def run_batch(server, model, cases, cache):
    run = api(server, "POST", "/api/v1/batches",
              {"model_ids": [model], "cases": cases, "concurrency": CONCURRENCY, "cache": cache}, 201)
    while True:
        r = api(server, "GET", f"/api/v1/batches/{run['id']}?summary=0")
        if r["status"] == "done":
            return r, r["finish_time"] - r["create_time"]
        time.sleep(0.2)


def main():
    os.environ["LOUPE_BIN"] = os.path.abspath(sys.argv[1])
    lean = os.path.join(HERE, "lean_stream_server.py")
    # KEEPALIVE=1: the provider keeps its connections open between calls.
    mode = ["keepalive"] if os.environ.get("KEEPALIVE") == "1" else []
    slow = Standin(script=[lean, "1", "50", *mode])
    fast = Standin(script=[lean, "1", "0", *mode])
    server = LoupeServer().start()
    try:
        ids = {}
        for name, p in (("slow", slow), ("fast", fast)):
            ids[name] = api(server, "POST", "/api/v1/llm/models", {
                "name": name, "api": "openai", "base_url": p.url + "/v1", "model": "lean", "api_key": "sk-test"}, 201)["id"]
        cases = [{"prompt": f"case {i}"} for i in range(N)]
        r, secs = run_batch(server, ids["slow"], cases, True)
        ideal = N * 0.05 / CONCURRENCY
        print(f"{N} prompts, 50 ms each, concurrency {CONCURRENCY}: {secs:.2f} s "
              f"(ideal {ideal:.2f} s, {secs / ideal:.3f}x; {r['ok']} answered)")
        r, secs = run_batch(server, ids["slow"], cases, True)
        print(f"the same {N} prompts again, from the cache: {secs:.2f} s ({r['cached']} cached)")
        before = cpu_seconds(server.proc.pid)
        r, secs = run_batch(server, ids["fast"], cases, False)
        used = cpu_seconds(server.proc.pid) - before
        print(f"{N} prompts, 0 ms each: {secs:.2f} s; Loupe's CPU {used:.2f} s = {used / N * 1000:.3f} ms per request "
              f"({r['ok']} answered)")
    finally:
        server.cleanup()
        slow.stop()
        fast.stop()


if __name__ == "__main__":
    main()
