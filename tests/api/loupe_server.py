"""A real `loupe serve` on a free port with a temporary data dir, for tests.

LoupeServer starts the binary named by $LOUPE_BIN with `--port 0` (unless a port is
given, e.g. to restart on the same one), reads the port from its ready line on stdout,
and offers small JSON helpers over urllib. The server's log (stderr) goes to a file,
`log_path`, shown when the server fails to start. Nothing here is mocked: requests go
over loopback HTTP to the real server.

Requests carry the server's local token (<data-dir>/local.token), as the SDK on the same
machine does; pass `auth=False` for a request without it. `sign_in_url` is the one-time
link the server printed.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request
import uuid

# Servers started here write their runtime files (how the SDK finds a local server's
# token) into a folder of this test process's own: tests do not depend on HOME, nor
# leave files in the user's real runtime folder. Child processes inherit it.
if not os.environ.get("LOUPE_RUNTIME_DIR"):
    os.environ["LOUPE_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="loupe-runtime-")


def multipart(fields, files):
    """A multipart/form-data body: fields {name: text}, files {name: (filename, bytes)}.
    Returns (body, content type)."""
    boundary = uuid.uuid4().hex
    out = b""
    for k, v in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
    for k, (filename, data) in files.items():
        out += (f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{filename}"\r\n'
                f'Content-Type: application/octet-stream\r\n\r\n').encode() + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LoupeServer:
    def __init__(self, data_dir=None, extra_args=(), port=None, cwd=None):
        self.own_dir = data_dir is None
        self.cwd = cwd
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="loupe-api-")
        self.port = port or 0
        self.extra_args = list(extra_args)
        self.proc = None
        self.log_path = None
        self.sign_in_url = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        binary = os.path.abspath(os.environ.get("LOUPE_BIN", "build/loupe"))
        fd, self.log_path = tempfile.mkstemp(prefix="loupe-server-", suffix=".log")
        with os.fdopen(fd, "w") as log:
            self.proc = subprocess.Popen(
                [binary, "serve", "--port", str(self.port), "--data-dir", self.data_dir, *self.extra_args],
                stdout=subprocess.PIPE, stderr=log, text=True, cwd=self.cwd)
        line = self.proc.stdout.readline()
        ready = re.search(r"serving http://[^:]+:(\d+)", line)
        if not ready:
            self.proc.wait(timeout=30)
            rest = self.proc.stdout.read()
            self.proc.stdout.close()
            raise RuntimeError(f"loupe did not start: {line}{rest}{self.log()}")
        self.port = int(ready.group(1))
        link = re.search(r"Sign in: (\S+)", self.proc.stdout.readline())
        self.sign_in_url = link.group(1) if link else None
        return self

    @property
    def token(self):
        """The local token (None when the server runs with --no-auth and never wrote one)."""
        try:
            with open(os.path.join(self.cwd or ".", self.data_dir, "local.token"), encoding="utf-8") as f:
                return f.read().strip()
        except OSError:
            return None

    def log(self):
        """What the server logged so far."""
        if not self.log_path or not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc.stdout.close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and not self.proc.stdout.closed:
            self.proc.stdout.close()

    def cleanup(self):
        self.stop()
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        if self.log_path and os.path.exists(self.log_path):
            os.unlink(self.log_path)

    def request(self, method, path, body=None, raw=None, headers=None, auth=True):
        """Returns (http_status, parsed JSON or raw bytes, response headers)."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        headers = dict(headers or {})
        if auth and "Authorization" not in headers and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        if data is not None and raw is None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                payload, status, hdrs = resp.read(), resp.status, resp.headers
        except urllib.error.HTTPError as e:
            payload, status, hdrs = e.read(), e.code, e.headers
        ctype = hdrs.get("Content-Type", "")
        return status, (json.loads(payload) if ctype.startswith("application/json") else payload), hdrs

    def get(self, path):
        return self.request("GET", path)

    def html(self, path):
        """GET a page: (status, text)."""
        status, body, _ = self.request("GET", path)
        return status, body.decode("utf-8") if isinstance(body, bytes) else json.dumps(body)

    def post(self, path, body=None, raw=None):
        return self.request("POST", path, body=body, raw=raw)


class SharedServerTest(unittest.TestCase):
    """Test cases sharing one server, started before the first and removed after the last."""

    @classmethod
    def setUpClass(cls):
        cls.server = LoupeServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
