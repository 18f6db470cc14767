"""Which credential to send to a Loupe server.

In order: a key given to `loupe.init(api_key=...)` for that server, the LOUPE_API_KEY
environment variable, and for a server on this machine the local token its runtime file
points to (written by `loupe serve`, as Jupyter's are), so a script on the same machine
needs nothing set. A lookup is cached briefly and made again after a 401.
"""
import json
import os
import threading
import time
import urllib.parse

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_CACHE_SECONDS = 30.0

_lock = threading.Lock()
_given = {}   # base URL -> key passed to init()
_cached = {}  # base URL -> (key or None, when looked up)


def _norm(base_url):
    return base_url.rstrip("/")


def set_key(base_url, key):
    with _lock:
        _given[_norm(base_url)] = key
        _cached.pop(_norm(base_url), None)


def forget(base_url):
    """Called after a 401: the next request looks the credential up again."""
    with _lock:
        _cached.pop(_norm(base_url), None)


def runtime_dir():
    d = os.environ.get("LOUPE_RUNTIME_DIR")
    if d:
        return d
    x = os.environ.get("XDG_RUNTIME_DIR")
    if x:
        return os.path.join(x, "loupe")
    return os.path.join(os.path.expanduser("~"), ".local", "share", "loupe", "runtime")


def _local_token(base_url):
    u = urllib.parse.urlsplit(base_url)
    host = (u.hostname or "").lower()
    if not (host in _LOOPBACK or host.startswith("127.")) or not u.port:
        return None
    try:
        with open(os.path.join(runtime_dir(), f"server-{u.port}.json"), encoding="utf-8") as f:
            info = json.load(f)
        with open(info["token_file"], encoding="utf-8") as f:
            token = f.read(4096).strip()
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return token or None


def key_for(base_url):
    base = _norm(base_url)
    with _lock:
        if base in _given:
            return _given[base]
        hit = _cached.get(base)
        if hit and time.monotonic() - hit[1] < _CACHE_SECONDS:
            return hit[0]
    key = os.environ.get("LOUPE_API_KEY") or _local_token(base)
    with _lock:
        _cached[base] = (key, time.monotonic())
    return key


def headers_for(base_url):
    key = key_for(base_url)
    return {"Authorization": f"Bearer {key}"} if key else {}
