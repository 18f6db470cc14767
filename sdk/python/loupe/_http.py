"""JSON over HTTP with the standard library. Errors come back as values, not raises:
any transport failure (refused, reset, timed out, a truncated response) is status 0,
which the sender retries."""
import http.client
import json
import urllib.error
import urllib.request

from . import _auth


class Response:
    def __init__(self, status, payload):
        self.status = status      # HTTP status, or 0 when the server could not be reached
        self.payload = payload    # parsed JSON envelope, or None

    @property
    def ok(self):
        return self.status == 200 or self.status == 201

    @property
    def data(self):
        return (self.payload or {}).get("data") or {}

    @property
    def message(self):
        return (self.payload or {}).get("message", "server unreachable" if self.status == 0 else "")

    @property
    def retryable(self):
        """Worth sending again later: unreachable, overloaded or failing server, or one
        that did not accept the credential (kept until a right one is given)."""
        return self.status in (0, 401, 403, 429) or self.status >= 500

    @property
    def unauthorized(self):
        return self.status in (401, 403)


def request(base_url, method, path, body=None, raw=None, timeout=30.0):
    if raw is not None:
        data, headers = raw, {"Content-Type": "application/octet-stream"}
    elif body is not None:
        data, headers = json.dumps(body, allow_nan=False).encode(), {"Content-Type": "application/json"}
    else:
        data, headers = None, {}
    headers.update(_auth.headers_for(base_url))
    req = urllib.request.Request(base_url.rstrip("/") + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return Response(resp.status, _parse(resp.read()))
    except urllib.error.HTTPError as e:
        if e.code == 401:
            _auth.forget(base_url)
        try:
            return Response(e.code, _parse(e.read()))
        except (OSError, http.client.HTTPException):
            return Response(e.code, None)
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException):
        return Response(0, None)


def fetch(base_url, path, timeout=60.0):
    """GET of raw bytes: (status, body); status 0 when unreachable, body None on errors
    (the error's JSON envelope is parsed into a Response instead)."""
    req = urllib.request.Request(base_url.rstrip("/") + path, method="GET", headers=_auth.headers_for(base_url))
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return Response(resp.status, None), resp.read()
    except urllib.error.HTTPError as e:
        if e.code == 401:
            _auth.forget(base_url)
        try:
            return Response(e.code, _parse(e.read())), None
        except (OSError, http.client.HTTPException):
            return Response(e.code, None), None
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException):
        return Response(0, None), None


def _parse(raw):
    try:
        return json.loads(raw)
    except ValueError:
        return None
