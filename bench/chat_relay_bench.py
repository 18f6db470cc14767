"""Per-token relay overhead under 64 concurrent chat streams.

A lean streaming server (bench/lean_stream_server.py, one asyncio process; STANDIN=1 uses
the tests' threaded stand-in with `#stamp` instead) writes into each token the
CLOCK_MONOTONIC time it sent it; the client notes when the token arrives. The same
concurrent streams (64 unless STREAMS says otherwise; 40 tokens each, 5 ms apart) run
straight from the stand-in and through Loupe's chat API, alternating phases; a token's trip through Loupe minus its
trip straight from the stand-in (medians, and the 99th percentiles) is what relaying
adds per token. One asyncio client (no threads, no GIL contention), so the client's own
scheduling delay is the same on both paths. Also reports streams that stalled: a gap of
more than 250 ms between two tokens of one stream, or a stream that did not finish.

Also the server's CPU time per relayed token (all its work for the answers, divided by
their tokens), which says how many streams a core can carry whatever else the machine runs.
STREAMS=16 in the environment changes the number of concurrent streams, TOKENS=400 the
length of the lean server's answers (longer answers spread each answer's fixed costs).

By default every stream starts at once, so the lean server sends all 64 streams' tokens
in the same instant every 5 ms: a burst that Loupe relays one token after another, so
a token's added delay is mostly its place in the burst (about half the burst times the
CPU per token). STAGGER=1 starts the streams spread evenly over one token interval, as
independent users' answers arrive; the target is read there, the burst kept as the
worst case.

PIN=1 (Linux) runs the benchmark's own client and the lean server on CPU 0 and every
thread of Loupe on CPU 1: on a 2-core machine the load generators then do not take
Loupe's core, nor Loupe theirs, and what a token's trip gains through Loupe is Loupe's
own work rather than a fight for the cores. The summary line gives the median over
rounds of the per-round figures.

Target (issue 12): per-token overhead <= 0.2 ms, no stalls.

Usage: python3 bench/chat_relay_bench.py BUILD_DIR/loupe [ROUNDS=3]"""
import asyncio
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


def lean_server():
    """bench/lean_stream_server.py in its own process (its CPU apart from the client's)."""
    return Standin(script=[os.path.join(HERE, "lean_stream_server.py"), str(TOKENS), "5"])

STREAMS = int(os.environ.get("STREAMS", "64"))
TOKENS = int(os.environ.get("TOKENS", "40"))  # per answer, from the lean server
WORDS = " ".join(f"w{i}" for i in range(38))
PROMPT = WORDS + " #stamp #slow:5"
STALL_S = 0.25
STAGGER = os.environ.get("STAGGER") == "1"
PIN = os.environ.get("PIN") == "1"


def pin_server(pid):
    """Every thread of the server onto CPU 1 (threads started later inherit it)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        os.sched_setaffinity(int(tid), {1})


async def start_gap(i):
    """Stream i's start, spread over one 5 ms token interval when STAGGER is set."""
    if STAGGER:
        await asyncio.sleep(0.005 * i / STREAMS)


async def post_stream(port, path, body, headers):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    data = json.dumps(body).encode()
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
            f"Content-Length: {len(data)}", "Connection: close"] + [f"{k}: {v}" for k, v in headers.items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
    await writer.drain()
    return reader, writer


def trips_of(text, arrived, trips):
    for word in text.split():
        if word.isdigit():
            trips.append((arrived - int(word)) / 1e6)


async def direct(port, i):
    await start_gap(i)
    reader, writer = await post_stream(port, "/v1/chat/completions", {
        "model": "gpt-standin", "stream": True, "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": f"{i} {PROMPT}"}]}, {"Authorization": "Bearer sk-test"})
    trips, arrivals, done = [], [], False
    async for line in reader:
        now = time.monotonic_ns()
        if line.startswith(b"data: [DONE]"):
            done = True
        elif line.startswith(b"data: {"):
            chunk = json.loads(line[6:])
            for choice in chunk.get("choices") or []:
                text = (choice.get("delta") or {}).get("content") or ""
                if text.strip():
                    trips_of(text, now, trips)
                    arrivals.append(now)
    writer.close()
    return trips, arrivals, done


async def through(server, conv, i):
    await start_gap(i)
    reader, writer = await post_stream(server.port, f"/api/v1/llm/conversations/{conv}/messages",
                                       {"content": f"{i} {PROMPT}"}, {"Authorization": f"Bearer {server.token}"})
    trips, arrivals, done, event = [], [], False, None
    async for line in reader:
        now = time.monotonic_ns()
        if line.startswith(b"event: "):
            event = line[7:].strip()
        elif line.startswith(b"data: ") and event == b"delta":
            text = json.loads(line[6:]).get("text", "")
            if text.strip():
                trips_of(text, now, trips)
                arrivals.append(now)
        elif line.startswith(b"data: ") and event == b"done":
            done = True
    writer.close()
    return trips, arrivals, done


def summary(results):
    trips = [t for r in results for t in r[0]]
    gaps = [(b - a) / 1e9 for r in results for a, b in zip(r[1], r[1][1:])]
    return {"tokens": len(trips), "median_ms": statistics.median(trips),
            "p99_ms": statistics.quantiles(trips, n=100)[98], "max_gap_s": max(gaps),
            "stalled": sum(1 for r in results if not r[2] or any((b - a) / 1e9 > STALL_S for a, b in zip(r[1], r[1][1:])))}


def cpu_seconds(pid):
    """User plus system CPU time the process has used (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(standin, server, convs, rounds):
    out = []
    for _ in range(rounds):
        d = summary(await asyncio.gather(*(direct(standin.port, i) for i in range(STREAMS))))
        before = cpu_seconds(server.proc.pid)
        l = summary(await asyncio.gather(*(through(server, convs[i], i) for i in range(STREAMS))))
        # Everything the server did for these answers (HTTP, store writes, relaying),
        # spread over the tokens: a cost the machine's other load does not inflate much.
        l["server_cpu_us_per_token"] = (cpu_seconds(server.proc.pid) - before) / l["tokens"] * 1e6
        out.append({"direct": d, "loupe": l,
                    "added_median_ms": round(l["median_ms"] - d["median_ms"], 3),
                    "added_p99_ms": round(l["p99_ms"] - d["p99_ms"], 3)})
    return out


def main():
    os.environ["LOUPE_BIN"] = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    if PIN:
        os.sched_setaffinity(0, {0})  # the lean server and the server start from here
    standin = Standin() if os.environ.get("STANDIN") == "1" else lean_server()
    server = LoupeServer(extra_args=["--no-fsync"]).start()
    if PIN:
        pin_server(server.proc.pid)
    try:
        _, body, _ = server.request("POST", "/api/v1/llm/models", {
            "name": "bench", "api": "openai", "base_url": standin.url + "/v1", "model": "gpt-standin", "api_key": "sk-test"})
        model = body["data"]["id"]
        convs = [server.request("POST", "/api/v1/llm/conversations", {"model_id": model})[1]["data"]["id"]
                 for _ in range(STREAMS)]
        results = asyncio.run(run(standin, server, convs, rounds))
        for r in results:
            for side in ("direct", "loupe"):
                r[side] = {k: round(v, 3) if isinstance(v, float) else v for k, v in r[side].items()}
            print(json.dumps(r))
        print(json.dumps({"rounds": len(results), "pinned": PIN, "staggered": STAGGER, "streams": STREAMS,
                          "added_median_ms": round(statistics.median(r["added_median_ms"] for r in results), 3),
                          "added_p99_ms": round(statistics.median(r["added_p99_ms"] for r in results), 3),
                          "server_cpu_us_per_token": round(statistics.median(
                              r["loupe"]["server_cpu_us_per_token"] for r in results), 1),
                          "stalled": sum(r["loupe"]["stalled"] for r in results),
                          "max_gap_s": max(r["loupe"]["max_gap_s"] for r in results)}))
    finally:
        server.cleanup()
        standin.stop()


if __name__ == "__main__":
    main()
