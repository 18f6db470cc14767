"""Polls an experiment the way an open dashboard does: /status plus every chart's /tag
once a second, for DURATION seconds, over one keep-alive connection, revalidating
with If-None-Match as a browser's HTTP cache does. Prints the server's CPU use (from
/proc/PID/stat) as a percentage of one core.

    python3 bench/poll_charts.py PORT PID EXPERIMENT_ID DURATION [live]

With `live`, a second connection logs a new step to every chart each second, so
every chart changes between polls (a running experiment).
"""
import http.client
import json
import os
import sys
import threading
import time


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    port, pid, exp, duration = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    conn = http.client.HTTPConnection("127.0.0.1", port)

    etags = {}
    auth = {"Authorization": f"Bearer {os.environ['LOUPE_TOKEN']}"} if os.environ.get("LOUPE_TOKEN") else {}

    def get(path):
        conn.request("GET", path, headers=dict(auth, **({"If-None-Match": etags[path]} if path in etags else {})))
        resp = conn.getresponse()
        body = resp.read()
        assert resp.status in (200, 304), body[:200]
        if resp.getheader("ETag"):
            etags[path] = resp.getheader("ETag")
        return body

    charts = json.loads(get(f"/api/v1/experiment/{exp}/chart"))["data"]["charts"]
    tags = [c["name"] for c in charts]
    live = len(sys.argv) > 5 and sys.argv[5] == "live"
    stop = threading.Event()

    def writer():
        w = http.client.HTTPConnection("127.0.0.1", port)
        step = 10 ** 9
        while not stop.is_set():
            body = json.dumps({"steps": [{"step": step, "values": {t: step % 7 for t in tags}}]})
            w.request("POST", f"/api/v1/experiments/{exp}/metrics", body=body,
                      headers=dict(auth, **{"Content-Type": "application/json"}))
            w.getresponse().read()
            step += 1
            stop.wait(1.0)

    if live:
        threading.Thread(target=writer, daemon=True).start()
    start_cpu, start = cpu_seconds(pid), time.time()
    polls = 0
    while time.time() - start < duration:
        tick = time.time()
        get(f"/api/v1/experiment/{exp}/status")
        for tag in tags:
            get(f"/api/v1/experiment/{exp}/tag/{tag}")
        polls += 1
        time.sleep(max(0.0, 1.0 - (time.time() - tick)))
    wall = time.time() - start
    used = cpu_seconds(pid) - start_cpu
    stop.set()
    kind = "live (every chart changes each second)" if live else "idle data (revalidated, 304)"
    print(f"poll, {kind}: {len(tags)} charts + /status once a second for {wall:.0f} s ({polls} rounds): "
          f"server CPU {100 * used / wall:.2f}% of one core")


if __name__ == "__main__":
    main()
