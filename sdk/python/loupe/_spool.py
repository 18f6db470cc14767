"""The on-disk queue every record passes through before it is sent.

A record is a JSON file named by a counter; a media record keeps its bytes in a
sibling file. Records are deleted only after the server acknowledged them, so a
server that is down, or a process that dies, loses nothing: the next sender for the
same run (or `python3 -m loupe sync`) replays what is left, in order.
"""
import json
import os
import re
import threading

_NAME = re.compile(r"^r-(\d{12})\.json$")


def default_root():
    base = os.environ.get("LOUPE_SPOOL_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "loupe", "spool")
    return base


class Spool:
    def __init__(self, directory):
        self.dir = directory
        os.makedirs(self.dir, exist_ok=True)
        self._lock = threading.Lock()
        existing = self.pending()
        self._next = (int(_NAME.match(existing[-1]).group(1)) + 1) if existing else 0

    def put(self, record, blob=None):
        with self._lock:
            n = self._next
            self._next += 1
        name = f"r-{n:012d}.json"
        if blob is not None:
            record = dict(record, blob=f"r-{n:012d}.bin")
            _write_atomic(os.path.join(self.dir, record["blob"]), blob)
        _write_atomic(os.path.join(self.dir, name), json.dumps(record, allow_nan=False).encode())
        return name

    def pending(self):
        try:
            names = [n for n in os.listdir(self.dir) if _NAME.match(n)]
        except FileNotFoundError:
            return []
        return sorted(names)

    def read(self, name):
        with open(os.path.join(self.dir, name), "rb") as f:
            record = json.loads(f.read())
        blob = None
        if record.get("blob"):
            with open(os.path.join(self.dir, record["blob"]), "rb") as f:
                blob = f.read()
        return record, blob

    def remove(self, name, record):
        if record.get("blob"):
            _unlink(os.path.join(self.dir, record["blob"]))
        _unlink(os.path.join(self.dir, name))

    def write_meta(self, meta):
        _write_atomic(os.path.join(self.dir, "run.json"), json.dumps(meta).encode())

    def read_meta(self):
        try:
            with open(os.path.join(self.dir, "run.json"), "rb") as f:
                return json.loads(f.read())
        except (FileNotFoundError, ValueError):
            return None

    def remove_if_empty(self):
        if not self.pending():
            _unlink(os.path.join(self.dir, "run.json"))
            try:
                os.rmdir(self.dir)
            except OSError:
                pass


def _write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
