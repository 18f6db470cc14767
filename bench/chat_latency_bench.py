"""What Loupe adds to a streamed answer. The stand-in provider (tests/llm/standin_provider.py)
answers; the same request is timed directly and through Loupe's chat API.

- Time to first token: POST, then the first text chunk; median of N sequential calls,
  direct and through Loupe, alternated. Target: Loupe's median minus the direct median <= 5 ms.
- 64 concurrent streams of 40 tokens each (#slow:5 between tokens): the wall time of all
  64, direct and through Loupe, and whether every stream finished. (A rough figure: it
  charges per-answer costs to tokens. bench/chat_relay_bench.py times every token.)

Usage: python3 bench/chat_latency_bench.py BUILD_DIR/loupe [N=50]"""
import concurrent.futures
import http.client
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "api"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "llm"))
from loupe_server import LoupeServer  # noqa: E402
from llm_models_api_test import Standin  # noqa: E402

WORDS = " ".join(f"w{i}" for i in range(38))


def direct(port, prompt):
    """Seconds to the first content chunk and to the end, straight from the stand-in."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    start = time.perf_counter()
    conn.request("POST", "/v1/chat/completions", json.dumps({
        "model": "gpt-standin", "stream": True, "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": prompt}]}),
        {"Content-Type": "application/json", "Authorization": "Bearer sk-test"})
    resp = conn.getresponse()
    first = None
    for line in resp:
        if first is None and line.startswith(b"data: ") and b'"content": "' in line and b'"content": ""' not in line:
            first = time.perf_counter() - start
    total = time.perf_counter() - start
    conn.close()
    return first, total


def through(server, conv, prompt):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    start = time.perf_counter()
    conn.request("POST", f"/api/v1/llm/conversations/{conv}/messages", json.dumps({"content": prompt}),
                 {"Content-Type": "application/json", "Authorization": f"Bearer {server.token}"})
    resp = conn.getresponse()
    first, ok = None, False
    for line in resp:
        if first is None and line.startswith(b"event: delta"):
            first = time.perf_counter() - start
        if line.startswith(b"event: done"):
            ok = True
    total = time.perf_counter() - start
    conn.close()
    return first, total, ok


def main():
    os.environ["LOUPE_BIN"] = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    standin = Standin()
    server = LoupeServer(extra_args=["--no-fsync"]).start()
    try:
        status, body, _ = server.request("POST", "/api/v1/llm/models", {
            "name": "bench", "api": "openai", "base_url": standin.url + "/v1", "model": "gpt-standin", "api_key": "sk-test"})
        model = body["data"]["id"]
        convs = [server.request("POST", "/api/v1/llm/conversations", {"model_id": model})[1]["data"]["id"]
                 for _ in range(64)]
        d_ttft, l_ttft = [], []
        for i in range(n):
            d_ttft.append(direct(standin.port, f"hello {i}")[0] * 1000)
            # A fresh conversation's history is one message: the prompt is the same size.
            conv = server.request("POST", "/api/v1/llm/conversations", {"model_id": model})[1]["data"]["id"]
            l_ttft.append(through(server, conv, f"hello {i}")[0] * 1000)
        prompt = WORDS + " #slow:5"
        tokens = len(WORDS.split()) + 2  # "gpt-standin heard:" + the words
        with concurrent.futures.ThreadPoolExecutor(64) as pool:
            start = time.perf_counter()
            list(pool.map(lambda i: direct(standin.port, f"{i} {prompt}"), range(64)))
            d_wall = time.perf_counter() - start
            start = time.perf_counter()
            results = list(pool.map(lambda i: through(server, convs[i], f"{i} {prompt}"), range(64)))
            l_wall = time.perf_counter() - start
        out = {"n": n,
               "ttft_direct_ms": round(statistics.median(d_ttft), 2),
               "ttft_loupe_ms": round(statistics.median(l_ttft), 2),
               "ttft_added_ms": round(statistics.median(l_ttft) - statistics.median(d_ttft), 2),
               "streams": 64, "tokens_per_stream": tokens + 1,
               "wall_direct_s": round(d_wall, 3), "wall_loupe_s": round(l_wall, 3),
               "all_done": all(ok for _, _, ok in results),
               "slowest_loupe_stream_s": round(max(t for _, t, _ in results), 3),
               "per_token_overhead_ms": round((l_wall - d_wall) * 1000 / (tokens + 1), 3)}
        print(json.dumps(out))
    finally:
        server.cleanup()
        standin.stop()


if __name__ == "__main__":
    main()
