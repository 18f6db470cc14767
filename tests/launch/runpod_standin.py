"""A STAND-IN for RunPod's REST API v2: the pod, GPU-catalogue and pod-log subset Loupe
uses, written after RunPod's own OpenAPI document (runpod/docs,
api-reference-v2/openapi.json at 081392fe1efc029efd36cb9d6f2c504694588d97; field by field in
shared/specs/runpod-v2-subset.md). RunPod itself cannot run here; this is for tests only.

What it does as RunPod does:
- Bearer key on every /v2 call (401 problem+json without it or with another key).
- POST /v2/pods checks the body against CreatePodRequest: unknown keys anywhere are refused
  with 422 and an `errors` list (unevaluatedProperties: false), wrong types and ranges too;
  gpu and cpu both or neither: 400; a GPU type it does not list, or more GPUs than maxCount:
  400 (RunPod's capacity answer). 201 with the Pod in PROVISIONING; then STARTING, RUNNING.
- The Pod object has every required field; `cost` is the GPU price x count while it runs and
  0.0 once EXITED or TERMINATED; `runtime` is null unless RUNNING (then uptime, gpus[{util,
  memoryUtil}], cpu, memory, ports).
- POST /v2/pods/{id}/action {start|stop|restart|terminate}: 409 when the status does not
  allow it; stop = SIGTERM to the container's first process, SIGKILL 10 s later (docker's
  stop), then EXITED; terminate = 204 and the pod is gone (404 after).
- GET /v2/pods/{id}/logs: server-sent events `id: <ts>/<seq>`, `data: {"ts","source","line"}`;
  `tail` (default 100, at most 5000) lines of backfill, `since` (RFC 3339) the lines from
  then instead, `Last-Event-ID` resumes after that event (before both); the stream ends when the container has ended and every line was sent.
- GET /v2/catalog/gpus: GpuType objects with price {secure, community} per GPU and maxCount.

What is simulated: the container is the pod's `args` run by bash on this machine (its env is
the pod's env plus RUNPOD_POD_ID, its HOME a folder of its own); the container's end kills
every process that carries its RUNPOD_POD_ID (as a container's end does). The image is not
pulled. Test hooks under /_standin (no key): the pods as stored (env included), the requests
received, and injected failures (`fail`), slow answers (`slow`) or container deaths (`crash`).
"""
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GPUS = [
    {"id": "NVIDIA GeForce RTX 4090", "name": "RTX 4090", "pool": "ADA_24", "manufacturer": "NVIDIA", "memory": 24,
     "secure": True, "community": True, "price": {"secure": 0.5, "community": 0.25, "serverless": 1.1},
     "maxCount": {"secure": 8, "community": 4}},
    {"id": "NVIDIA A100 80GB PCIe", "name": "A100 PCIe", "pool": "AMPERE_80", "manufacturer": "NVIDIA", "memory": 80,
     "secure": True, "community": False, "price": {"secure": 2.0, "community": 0.0},
     "maxCount": {"secure": 8, "community": 0}},
]

CREATE_KEYS = {"args", "disk", "env", "image", "ports", "registry", "name", "cloud", "cpu", "dataCenterIds",
               "globalNetworking", "gpu", "mounts", "startJupyter", "startSsh", "templateId"}
GPU_KEYS = {"id", "count", "allowedCudaVersions", "minCudaVersion", "minRamPerGpu", "minVcpuCountPerGpu"}
ALLOWED = {"RUNNING": {"stop", "restart", "terminate"}, "EXITED": {"start", "terminate"},
           "ERROR": {"start", "terminate"}, "PROVISIONING": {"stop", "terminate"}, "STARTING": {"stop", "terminate"}}


def now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def problem(status, title, detail, errors=None):
    body = {"title": title, "status": status, "detail": detail}
    if errors is not None:
        body["errors"] = errors
    return status, body


def validate_create(body):
    """The 422 errors RunPod's schema gives, then the 400 rules its handler enforces."""
    errors = []
    if not isinstance(body, dict):
        return problem(422, "Unprocessable Entity", "Request validation failed.", ["$: expected object"])
    for k in body:
        if k not in CREATE_KEYS:
            errors.append(f"$: additional properties '{k}' not allowed")
    if not isinstance(body.get("name"), str) or not body.get("name"):
        errors.append("$.name: required, a string of at least 1 character")
    if "templateId" not in body and not isinstance(body.get("image"), str):
        errors.append("$.image: required unless templateId is given")
    for k in ("args", "image", "registry", "templateId"):
        if k in body and body[k] is not None and not isinstance(body[k], str):
            errors.append(f"$.{k}: expected string")
    if "disk" in body and (not isinstance(body["disk"], int) or isinstance(body["disk"], bool) or body["disk"] < 1):
        errors.append("$.disk: expected integer >= 1")
    if "env" in body:
        if not isinstance(body["env"], dict) or not all(isinstance(v, str) for v in body["env"].values()):
            errors.append("$.env: expected an object of strings")
    if "cloud" in body and body["cloud"] not in ("SECURE", "COMMUNITY"):
        errors.append("$.cloud: value must be one of 'SECURE', 'COMMUNITY'")
    if "dataCenterIds" in body and (not isinstance(body["dataCenterIds"], list) or
                                    not all(isinstance(d, str) for d in body["dataCenterIds"])):
        errors.append("$.dataCenterIds: expected an array of strings")
    gpu = body.get("gpu")
    if gpu is not None:
        if not isinstance(gpu, dict):
            errors.append("$.gpu: expected object")
        else:
            for k in gpu:
                if k not in GPU_KEYS:
                    errors.append(f"$.gpu: additional properties '{k}' not allowed")
            if not isinstance(gpu.get("id"), str):
                errors.append("$.gpu.id: required string")
            c = gpu.get("count", 1)
            if not isinstance(c, int) or isinstance(c, bool) or c < 1:
                errors.append("$.gpu.count: expected integer >= 1")
    if errors:
        return problem(422, "Unprocessable Entity", "Request validation failed.", errors)
    if (gpu is None) == (body.get("cpu") is None):
        return problem(400, "Bad Request", "exactly one of gpu or cpu must be set")
    if gpu is not None:
        t = next((g for g in GPUS if g["id"] == gpu["id"]), None)
        cloud = body.get("cloud", "SECURE").lower()
        if t is None or not t[cloud]:
            return problem(400, "Bad Request", f"There are no instances currently available for {gpu['id']}")
        if gpu.get("count", 1) > t["maxCount"][cloud]:
            return problem(400, "Bad Request", f"gpu.count exceeds the maximum of {t['maxCount'][cloud]}")
    return None


class Pod:
    def __init__(self, standin, pod_id, body):
        self.standin = standin
        self.id = pod_id
        self.body = body
        self.status = "PROVISIONING"
        self.created = now_iso()
        self.started_at = None
        self.started_mono = None
        self.proc = None
        self.lines = []  # (id, ts, line)
        self.seq = 0
        self.cond = threading.Condition()
        self.home = tempfile.mkdtemp(prefix=f"runpod-standin-{pod_id}-")
        self.ended = False  # the container has ended (no more lines)
        self.stopping = False
        threading.Thread(target=self._boot, daemon=True).start()

    def price(self):
        gpu = self.body["gpu"]
        t = next(g for g in GPUS if g["id"] == gpu["id"])
        return t["price"][self.body.get("cloud", "SECURE").lower()] * gpu.get("count", 1)

    def _boot(self):
        time.sleep(self.standin.boot_seconds / 2)
        with self.cond:
            if self.status != "PROVISIONING":
                return
            self.status = "STARTING"
        time.sleep(self.standin.boot_seconds / 2)
        with self.cond:
            if self.status != "STARTING":
                return
            self._start_container()

    def _start_container(self):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.home, "RUNPOD_POD_ID": self.id,
               **self.body.get("env", {})}
        argv = shlex.split(self.body.get("args") or "") or ["sleep", "infinity"]
        self.proc = subprocess.Popen(argv, env=env, cwd=self.home, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.status = "RUNNING"
        self.ended = False
        self.started_at = now_iso()
        self.started_mono = time.monotonic()
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()

    def _read(self, proc):
        for raw in proc.stdout:
            self.add_line(raw.decode("utf-8", "replace").rstrip("\n"))
        proc.stdout.close()
        proc.wait()
        self.kill_container()  # the first process ended: so does everything in the container
        with self.cond:
            if self.status == "RUNNING":
                self.status = "EXITED"  # the stand-in does not restart a container
            self.ended = True
            self.cond.notify_all()

    def add_line(self, line):
        with self.cond:
            self.seq += 1
            ts = now_iso()
            self.lines.append((f"{ts}/{self.seq:012d}", ts, line))
            self.cond.notify_all()

    def kill_container(self):
        """Every process of this container (they carry its RUNPOD_POD_ID), as its end does."""
        mark = f"RUNPOD_POD_ID={self.id}".encode()
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    if mark in f.read().split(b"\0"):
                        os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass

    def stop(self):
        """docker stop: SIGTERM to the first process, SIGKILL after 10 s."""
        with self.cond:
            if self.status in ("PROVISIONING", "STARTING"):
                self.status = "EXITED"
                self.ended = True
                self.cond.notify_all()
                return
            self.stopping = True
            proc = self.proc
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=self.standin.stop_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
        deadline = time.time() + 5
        while not self.ended and time.time() < deadline:
            time.sleep(0.05)
        with self.cond:
            self.status = "EXITED"

    def terminate(self):
        with self.cond:
            self.status = "TERMINATED"
            proc = self.proc
        if proc and proc.poll() is None:
            proc.kill()
        self.kill_container()
        with self.cond:
            self.ended = True
            self.cond.notify_all()

    def as_json(self):
        running = self.status == "RUNNING"
        gpu = self.body["gpu"]
        count = gpu.get("count", 1)
        return {
            "id": self.id, "name": self.body["name"], "status": self.status,
            "actions": sorted(ALLOWED.get(self.status, set())),
            "image": self.body.get("image"), "args": self.body.get("args", ""), "disk": self.body.get("disk", 50),
            "mounts": self.body.get("mounts", {}), "ports": self.body.get("ports", []),
            "env": self.body.get("env", {}), "registry": self.body.get("registry"),
            "cloud": self.body.get("cloud", "SECURE"), "dataCenterId": "EU-RO-1" if running else None,
            "cudaVersion": "12.8" if running else None,
            "gpu": {"id": gpu["id"], "count": count, "vcpuCount": 16 * count, "memory": 64 * count},
            "ssh": {"proxy": None, "direct": None}, "template": None,
            "cost": round(self.price(), 4) if self.status in ("RUNNING", "PROVISIONING", "STARTING") else 0.0,
            "locked": False, "globalNetworking": {"enabled": False},
            "runtime": {"uptime": int(time.monotonic() - self.started_mono),
                        "gpus": [{"util": 87, "memoryUtil": 42} for _ in range(count)],
                        "cpu": {"util": 12}, "memory": {"util": 30}, "ports": []} if running else None,
            "createdAt": self.created, "startedAt": self.started_at,
        }


class RunPodStandIn:
    def __init__(self, key="rp-standin-key", boot_seconds=0.6, stop_timeout=10.0):
        self.key = key
        self.boot_seconds = boot_seconds
        self.stop_timeout = stop_timeout
        self.pods = {}
        self.gone = set()
        self.requests = []  # (method, path, body)
        self.failures = []  # {"op", "status", "times", "detail"}
        self.slowness = []  # {"op", "seconds", "times"}
        self.lock = threading.Lock()
        self.next_id = 0
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_):
                pass

            def send(self, status, body=None, ctype="application/json"):
                data = b"" if body is None else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    if body is not None:
                        self.send_header("Content-Type", "application/problem+json" if status >= 400 else ctype)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the caller is gone (a Loupe killed mid-request): what it asked is done all the same

            def body(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                try:
                    return json.loads(raw) if raw else None
                except ValueError:
                    return ValueError

            def do_GET(self):
                standin.handle(self, "GET")

            def do_POST(self):
                standin.handle(self, "POST")

            def do_DELETE(self):
                standin.handle(self, "DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        for pod in list(self.pods.values()):
            pod.terminate()
            shutil.rmtree(pod.home, ignore_errors=True)  # the container's disk goes with it
        self.server.shutdown()
        self.server.server_close()

    def fail(self, op, status, times=1, detail="injected failure"):
        """The next `times` calls of `op` (create, create_lost: the pod is made all the same,
        list, get, action, logs, catalog) answer `status`."""
        with self.lock:
            self.failures.append({"op": op, "status": status, "times": times, "detail": detail})

    def slow(self, op, seconds, times=1):
        """The next `times` calls of `op` answer only after `seconds` (a slow or congested API)."""
        with self.lock:
            self.slowness.append({"op": op, "seconds": seconds, "times": times})

    def _slow(self, op):
        with self.lock:
            for s in self.slowness:
                if s["op"] == op and s["times"] > 0:
                    s["times"] -= 1
                    delay = s["seconds"]
                    break
            else:
                return
        time.sleep(delay)

    def _failure(self, op):
        with self.lock:
            for f in self.failures:
                if f["op"] == op and f["times"] > 0:
                    f["times"] -= 1
                    return problem(f["status"], "Injected", f["detail"])
        return None

    def handle(self, h, method):
        path, _, query = h.path.partition("?")
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        body = h.body() if method == "POST" else None
        if path.startswith("/_standin/"):
            return self._hook(h, method, path, body)
        with self.lock:
            self.requests.append((method, path, body if body is not ValueError else "<not json>"))
        if h.headers.get("Authorization") != f"Bearer {self.key}":
            detail = "missing bearer token" if not h.headers.get("Authorization") else "invalid api key"
            return h.send(*problem(401, "Unauthorized", detail))
        if body is ValueError:
            return h.send(*problem(400, "Bad Request", "request body is not valid JSON"))
        parts = path.strip("/").split("/")
        if method == "GET" and path == "/v2/catalog/gpus":
            return h.send(*(self._failure("catalog") or (200, {"gpus": GPUS})))
        if method == "GET" and path == "/v2/pods":
            failed = self._failure("list")
            if failed:
                return h.send(*failed)
            return h.send(200, {"pods": [p.as_json() for p in list(self.pods.values()) if p.status != "TERMINATED"]})
        if method == "POST" and path == "/v2/pods":
            self._slow("create")
            failed = self._failure("create") or validate_create(body)
            if failed:
                return h.send(*failed)
            with self.lock:
                self.next_id += 1
                pod_id = f"sp{self.next_id:04d}x{os.getpid() % 1000:03d}"
                pod = self.pods[pod_id] = Pod(self, pod_id, body)
            lost = self._failure("create_lost")  # made, but the answer never reaches the caller
            return h.send(*lost) if lost else h.send(201, pod.as_json())
        if len(parts) >= 3 and parts[:2] == ["v2", "pods"]:
            pod = self.pods.get(parts[2])
            if pod is None or pod.status == "TERMINATED":
                return h.send(*problem(404, "Not Found", "pod not found"))
            if len(parts) == 3 and method == "GET":
                return h.send(*(self._failure("get") or (200, pod.as_json())))
            if len(parts) == 3 and method == "DELETE":
                pod.terminate()
                return h.send(204)
            if len(parts) == 4 and parts[3] == "action" and method == "POST":
                return self._action(h, pod, body)
            if len(parts) == 4 and parts[3] == "logs" and method == "GET":
                failed = self._failure("logs")
                if failed:
                    return h.send(*failed)
                return self._logs(h, pod, params)
        return h.send(*problem(404, "Not Found", "resource not found"))

    def _action(self, h, pod, body):
        failed = self._failure("action")
        if failed:
            return h.send(*failed)
        if not isinstance(body, dict) or set(body) != {"action"}:
            return h.send(*problem(422, "Unprocessable Entity", "Request validation failed.",
                                   ["$: exactly the property 'action' is allowed and required"]))
        action = body["action"]
        if action not in ("start", "stop", "restart", "terminate"):
            return h.send(*problem(422, "Unprocessable Entity", "Request validation failed.",
                                   ["$.action: value must be one of 'start', 'stop', 'restart', 'terminate'"]))
        if action not in ALLOWED.get(pod.status, set()):
            return h.send(*problem(409, "Conflict", f"cannot {action} a pod that is {pod.status}"))
        if action == "terminate":
            pod.terminate()
            return h.send(204)
        if action == "stop":
            pod.stop()
        elif action == "start":
            with pod.cond:
                pod._start_container()
        return h.send(200, pod.as_json())

    def _logs(self, h, pod, params):
        try:
            tail = int(params.get("tail", "100"))
        except ValueError:
            tail = -1
        if not 0 <= tail <= 5000:
            return h.send(*problem(422, "Unprocessable Entity", "Request validation failed.",
                                   ["$.tail: expected integer from 0 to 5000"]))
        last = h.headers.get("Last-Event-ID")
        since = params.get("since")
        if since is not None:
            since = urllib.parse.unquote(since)
            try:
                datetime.fromisoformat(since.replace("Z", "+00:00"))
            except ValueError:
                return h.send(*problem(422, "Unprocessable Entity", "Request validation failed.",
                                       ["$.since: expected an RFC 3339 date-time"]))
        with pod.cond:
            if last:  # takes precedence over since and tail
                at = next((i + 1 for i, (eid, _, _) in enumerate(pod.lines) if eid == last), 0)
            elif since is not None:  # tail is ignored
                when = datetime.fromisoformat(since.replace("Z", "+00:00"))
                at = next((i for i, (_, ts, _) in enumerate(pod.lines)
                           if datetime.fromisoformat(ts.replace("Z", "+00:00")) >= when), len(pod.lines))
            else:
                at = max(0, len(pod.lines) - tail)
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Cache-Control", "no-cache")
        h.send_header("X-Accel-Buffering", "no")
        h.send_header("Connection", "close")
        h.end_headers()
        h.close_connection = True
        try:
            while True:
                with pod.cond:
                    while at >= len(pod.lines) and not pod.ended and pod.status != "TERMINATED":
                        pod.cond.wait(1.0)
                    batch = pod.lines[at:]
                    at = len(pod.lines)
                    done = pod.ended and at >= len(pod.lines)
                out = b"".join(
                    f"id: {eid}\ndata: {json.dumps({'ts': ts, 'source': 'container', 'line': line})}\n\n".encode()
                    for eid, ts, line in batch)
                if out:
                    h.wfile.write(out)
                    h.wfile.flush()
                if done:
                    return
        except (BrokenPipeError, ConnectionResetError):
            return

    def _hook(self, h, method, path, body):
        if path == "/_standin/pods":
            return h.send(200, {pid: {**p.as_json(), "lines": [l for _, _, l in p.lines]} for pid, p in self.pods.items()})
        if path == "/_standin/requests":
            return h.send(200, [{"method": m, "path": p, "body": b} for m, p, b in self.requests])
        return h.send(404, {"detail": "no such hook"})

    def crash(self, pod_id):
        """The container dies without a word (the machine failed): every process killed."""
        pod = self.pods[pod_id]
        with pod.cond:
            proc = pod.proc
        pod.kill_container()
        if proc:
            proc.kill()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
