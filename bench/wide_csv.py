"""Peak memory of a wide CSV (issue 9, item 6): uploads a ROWS x COLUMNS CSV of small
integers (2,000 x 10,000 by default: about 62 MB), then views its dataset page and
its preview and statistics APIs, each phase in a fresh `loupe serve` run under
`/usr/bin/time -v`, and prints each phase's maximum resident set size and the
server's CPU time (steadier than wall time on a busy machine).

Usage: python3 bench/wide_csv.py BUILD_DIR/loupe [ROWS=2000] [COLUMNS=10000] [ints|floats]"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "api"))
from loupe_server import multipart  # noqa: E402


def wide_csv(rows, columns, kind):
    # Small integers (2-3 bytes a cell), or 14-character decimals (as a float column
    # exported with full precision often looks).
    cells = [str(v) for v in range(128)] if kind == "ints" else [f"{v / 127:.12f}" for v in range(128)]
    lines = [",".join(f"c{c}" for c in range(columns))]
    for r in range(rows):
        lines.append(",".join(cells[(r * 31 + c * 17) % 128] for c in range(columns)))
    return ("\n".join(lines) + "\n").encode()


def phase(binary, data_dir, work):
    """Runs `loupe serve` under /usr/bin/time -v, calls work(url), stops it; returns
    (maximum RSS in MB, what work returned)."""
    report = data_dir + ".time.txt"
    proc = subprocess.Popen(["/usr/bin/time", "-v", "-o", report, binary, "serve", "--port", "0",
                             "--data-dir", data_dir, "--no-fsync", "--log-level", "warn"],
                            stdout=subprocess.PIPE, text=True)
    port = re.search(r":(\d+) ", proc.stdout.readline()).group(1)
    with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as f:
        server = int(f.read().split()[0])
    try:
        out = work(f"http://127.0.0.1:{port}")
    finally:
        os.kill(server, signal.SIGTERM)
        proc.wait(timeout=60)
    with open(report) as f:
        text = f.read()
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    cpu = sum(float(re.search(rf"{k} time \(seconds\): ([\d.]+)", text).group(1)) for k in ("User", "System"))
    if isinstance(out, dict):
        out["server_cpu_s"] = round(cpu, 2)  # steadier than wall time on a busy machine
    return rss_kb / 1024, out


def request(url, method="GET", data=None, headers=None):
    start = time.perf_counter()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=600) as resp:
            body, status = resp.read(), resp.status
    except urllib.error.HTTPError as e:
        body, status = e.read(), e.code
    return {"status": status, "seconds": round(time.perf_counter() - start, 2), "bytes": len(body)}


def main():
    binary = os.path.abspath(sys.argv[1])
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    columns = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    kind = sys.argv[4] if len(sys.argv) > 4 else "ints"
    tmp = tempfile.mkdtemp(prefix="loupe-wide-bench-")
    data_dir = os.path.join(tmp, "data")
    try:
        csv = wide_csv(rows, columns, kind)
        body, ctype = multipart({}, {"file": ("wide.csv", csv)})
        results = {"binary": binary, "rows": rows, "columns": columns, "cells": kind, "csv_mb": round(len(csv) / 1e6, 1)}
        results["idle_mb"] = phase(binary, data_dir, lambda url: None)[0]
        rss, out = phase(binary, data_dir, lambda url: request(url + "/api/v1/dataset/", "POST", body,
                                                               {"Content-Type": ctype}))
        results["upload"] = dict(out, peak_rss_mb=round(rss))
        for name, path in (("page", "/datasets/1"), ("preview", "/api/v1/dataset/1/preview"),
                           ("stats", "/api/v1/dataset/1/stats")):
            rss, out = phase(binary, data_dir, lambda url: request(url + path))
            results[name] = dict(out, peak_rss_mb=round(rss))
        print(json.dumps(results, indent=1))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
