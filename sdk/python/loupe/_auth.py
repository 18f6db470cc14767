"""Which credential to send to a Loupe server.

In order: a key given to `loupe.init(api_key=...)` for that server, the LOUPE_API_KEY
environment variable, and for a server on this machine the local token its runtime file
points to (written by `loupe serve`, as Jupyter's are), so a script on the same machine
needs nothing set. A lookup is cached briefly and made again after a 401.

The local token is an admin's, so it goes only where the runtime file says the server
is: the URL must name the same host and port as the file's `url`, the file and the
token file must be this user's own, and the process that wrote it must still run (a
file a crash left behind does not send the token to whatever took the port since).
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
    home = os.environ.get("HOME")
    return os.path.join(home, ".local", "share", "loupe", "runtime") if home else None


def _own_file(f):
    st = os.fstat(f.fileno())
    return st.st_uid == os.getuid() and not (st.st_mode & 0o022)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process took the number: not our server
        return False
    return True


def _local_token(base_url):
    u = urllib.parse.urlsplit(base_url)
    host = (u.hostname or "").lower()
    rdir = runtime_dir()
    if host not in _LOOPBACK or not u.port or not rdir:
        return None
    try:
        with open(os.path.join(rdir, f"server-{u.port}.json"), encoding="utf-8") as f:
            if not _own_file(f):
                return None
            info = json.load(f)
        served = urllib.parse.urlsplit(info["url"])
        if (served.hostname or "").lower() != host or served.port != u.port:
            return None  # e.g. localhost, which may resolve to another address than the one served
        if not isinstance(info.get("pid"), int) or not _alive(info["pid"]):
            return None
        with open(info["token_file"], encoding="utf-8") as f:
            if not _own_file(f):
                return None
            token = f.read(4096).strip()
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
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
