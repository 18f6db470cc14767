"""The comparison lab's grid at its target size (issue 13: 100 prompts x 4 models render
in <= 1 s): the server's HTML for /llm/compare/ID and its refresh fragment, timed over
HTTP, the median of REPEAT requests. The answers come from bench/lean_stream_server.py
(40 tokens each, as a short real answer). The browser then renders each answer's markdown
once; that share is not measured here.

Usage: python3 bench/comparison_grid_bench.py BUILD/loupe [PROMPTS=100] [MODELS=4] [REPEAT=9]"""
import os
import statistics
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "api"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "llm"))
from loupe_server import LoupeServer  # noqa: E402
from llm_models_api_test import Standin  # noqa: E402

PROMPTS = int(sys.argv[2]) if len(sys.argv) > 2 else 100
MODELS = int(sys.argv[3]) if len(sys.argv) > 3 else 4
REPEAT = int(sys.argv[4]) if len(sys.argv) > 4 else 9


def api(server, method, path, body=None, status=200):
    code, payload, _ = server.request(method, path, body)
    assert code == status, (method, path, code, payload)
    return payload["data"]


def timed_get(server, path):
    req = urllib.request.Request(server.url + path, headers={"Authorization": f"Bearer {server.token}"})
    start = time.perf_counter()
    with urllib.request.urlopen(req) as resp:
        body = resp.read()
    return time.perf_counter() - start, len(body)


def main():
    os.environ["LOUPE_BIN"] = os.path.abspath(sys.argv[1])
    lean = Standin(script=[os.path.join(HERE, "lean_stream_server.py"), "40", "0"])
    server = LoupeServer().start()
    try:
        ids = [api(server, "POST", "/api/v1/llm/models", {
            "name": f"model-{i}", "api": "openai", "base_url": lean.url + "/v1", "model": "lean",
            "api_key": "sk-test"}, 201)["id"] for i in range(MODELS)]
        c = api(server, "POST", "/api/v1/comparisons", {
            "model_ids": ids, "blind": False, "prompts": [f"Prompt number {i}: explain it" for i in range(PROMPTS)]}, 201)
        while api(server, "GET", f"/api/v1/comparisons/{c['id']}?limit=1")["pending"]:
            time.sleep(0.2)
        for path in (f"/llm/compare/{c['id']}", f"/llm/compare/{c['id']}/grid"):
            times, size = [], 0
            for _ in range(REPEAT):
                t, size = timed_get(server, path)
                times.append(t)
            print(f"{path} ({PROMPTS} prompts x {MODELS} models, {size / 1024:.0f} KiB): "
                  f"median {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms")
    finally:
        server.cleanup()
        lean.stop()


if __name__ == "__main__":
    main()
