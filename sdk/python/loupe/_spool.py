"""The on-disk queue every record passes through before it is sent.

Each Run (one client) has a spool folder of its own, <root>/<run_id>/<client>/, held
under an exclusive lock for the life of its process: two processes logging to one
run_id, or `python3 -m loupe sync` while a script still logs, never share or delete
each other's records. A record is a JSON file named by a counter; a media record keeps
its bytes in a sibling file. Records are deleted only after the server acknowledged
them, so a server that is down, or a process that dies, loses nothing: sync replays
what a dead process left (its lock is gone with it), in order.
"""
import json
import os
import re
import socket
import sys
import threading

try:
    import fcntl
except ImportError:  # no advisory locks (Windows): one process per spool folder is then the user's care
    fcntl = None

_NAME = re.compile(r"^r-(\d{12})\.json$")
_OURS = re.compile(r"^(r-\d{12}\.(json|bin)|run\.json|owner)(\.tmp)?$")  # the only files a spool removes
_LOCK = "lock"
_OWNER = "owner"
_warned_no_lock = False


def default_root():
    base = os.environ.get("LOUPE_SPOOL_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "loupe", "spool")
    return base


class SpoolBusy(Exception):
    """Another live process holds this spool folder."""


class Spool:
    def __init__(self, directory, create=True):
        """Opens the folder (creating it unless create=False) and takes its lock; SpoolBusy
        when a live process has it, FileNotFoundError when it is gone."""
        self.dir = directory
        if create:
            os.makedirs(self.dir, exist_ok=True)
        self._lock_file = _take_lock(self.dir)
        # Who holds the folder, for file systems without flock (see _take_lock).
        _write_atomic(os.path.join(self.dir, _OWNER), json.dumps({"host": socket.gethostname(),
                                                                  "pid": os.getpid()}).encode())
        self._owned = True
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

    def read_record(self, name):
        """The record without its blob."""
        with open(os.path.join(self.dir, name), "rb") as f:
            return json.loads(f.read())

    def read(self, name):
        record = self.read_record(name)
        blob = None
        if record.get("blob"):
            with open(os.path.join(self.dir, record["blob"]), "rb") as f:
                blob = f.read()
        return record, blob

    def remove(self, name, record):
        # The record before its blob: a crash in between leaves a stray blob (removed with
        # the folder), never a record whose blob is gone.
        _unlink(os.path.join(self.dir, name))
        if record.get("blob"):
            _unlink(os.path.join(self.dir, record["blob"]))

    def discard(self, name):
        """Removes a record that cannot be read, and the blob its name implies."""
        _unlink(os.path.join(self.dir, name))
        _unlink(os.path.join(self.dir, name[:-len(".json")] + ".bin"))

    def clear(self):
        """Drops every record (the run they belong to was deleted on the server)."""
        for name in self.pending():
            try:
                record, _ = self.read(name)
            except (OSError, ValueError):
                record = {}
            self.remove(name, record)

    def write_meta(self, meta):
        _write_atomic(os.path.join(self.dir, "run.json"), json.dumps(meta).encode())

    def read_meta(self):
        try:
            with open(os.path.join(self.dir, "run.json"), "rb") as f:
                return json.loads(f.read())
        except (FileNotFoundError, ValueError):
            return None

    def remove_if_empty(self):
        """Removes the folder when nothing is left to send, then lets go of the lock."""
        if self.pending():
            return
        for name in os.listdir(self.dir) if os.path.isdir(self.dir) else []:
            if _OURS.match(name):
                _unlink(os.path.join(self.dir, name))
        _unlink(os.path.join(self.dir, _LOCK))
        for d in (self.dir, os.path.dirname(self.dir)):  # the client's folder, then the run's if empty
            try:
                os.rmdir(d)
            except OSError:
                break
        self.release()

    def release(self):
        if self._owned:
            self._owned = False
            _unlink(os.path.join(self.dir, _OWNER))
        if self._lock_file is not None:
            self._lock_file.close()  # closing the descriptor drops the flock
            self._lock_file = None


def _owner_alive(directory):
    """Whether the process recorded as the folder's owner is alive on this machine."""
    try:
        with open(os.path.join(directory, _OWNER), "rb") as f:
            owner = json.loads(f.read())
        if owner.get("host") != socket.gethostname():
            return True  # another machine's: it cannot be checked, so it is not ours to take
        os.kill(int(owner["pid"]), 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _take_lock(directory):
    global _warned_no_lock
    if fcntl is None:
        if _owner_alive(directory):
            raise SpoolBusy(directory)
        return None
    path = os.path.join(directory, _LOCK)
    f = open(path, "a+")
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        raise SpoolBusy(os.path.dirname(path)) from None
    except OSError as e:  # a file system without flock (some NFS): the owner's pid decides
        f.close()
        if not _warned_no_lock:
            _warned_no_lock = True
            print(f"loupe: cannot lock {path} ({e}); spool folders are told apart by process id instead",
                  file=sys.stderr)
        if _owner_alive(directory):
            raise SpoolBusy(directory) from None
        return None
    return f


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
