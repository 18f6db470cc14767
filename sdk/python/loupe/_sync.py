"""Sends what earlier runs left in the spool (their server was down when they ended,
they ran in "offline" mode, or their process died). A spool folder whose process is
still alive is locked and left alone; a folder with nothing to send is removed without
contacting the server, so a finished run is never resumed by a replay; a dead process's
run that never finished is finished "crashed" after its records. Only folders holding a
run.json are spool folders: anything else under the root is never touched."""
from __future__ import annotations

import json
import os
import sys
from typing import NamedTuple, Optional

from ._spool import Spool, SpoolBusy, default_root


class SyncReport(NamedTuple):
    sent: int     # runs whose every record reached the server
    left: int     # runs with records still spooled (the server was unreachable or failing)
    busy: int     # spool folders a live process still owns, left alone


SENT, LEFT, BUSY, NOTHING, REFUSED = "sent", "left", "busy", "nothing", "refused"


def run_folders(run_dir):
    """The spool folders of one run (<run_dir>/<client>/, and <run_dir> itself for older
    SDKs), oldest client first: a run's processes are replayed in the order they ran."""
    folders = [run_dir] if os.path.isfile(os.path.join(run_dir, "run.json")) else []
    try:
        names = os.listdir(run_dir)
    except OSError:
        names = []
    folders += [os.path.join(run_dir, n) for n in names if os.path.isfile(os.path.join(run_dir, n, "run.json"))]
    return sorted(folders, key=_started)


def _started(folder):
    try:
        with open(os.path.join(folder, "run.json"), "rb") as f:
            started = json.loads(f.read())["create"].get("start_time")
        if isinstance(started, (int, float)):
            return started
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        return os.path.getmtime(os.path.join(folder, "run.json"))
    except OSError:
        return 0.0


def replay_folder(folder, host=None, timeout=60.0):
    """Sends one dead process's spool folder: SENT, LEFT (unsent: the server is down or
    the folder unreadable), BUSY (a live process owns it), NOTHING (nothing to send) or
    REFUSED (the server refused to start its run)."""
    from .run import Run
    try:
        spool = Spool(folder, create=False)
    except SpoolBusy:
        return BUSY
    except FileNotFoundError:  # its owner finished and removed it meanwhile
        return NOTHING
    try:
        if not spool.pending():
            spool.remove_if_empty()
            return NOTHING
        meta = spool.read_meta()
        if not meta:
            print(f"loupe: {folder} has records but no readable run.json; left as it is", file=sys.stderr)
            return LEFT
        if not any(_kind(spool, name) == "finish" for name in spool.pending()):
            # The process that owned this spool is gone (its lock is free) and never
            # finished: its run ends crashed once the rest is sent, not revived.
            spool.put({"kind": "finish", "body": {"status": "crashed", "client": meta["create"].get("client"),
                                                  "time": _last_sign_of_life(spool)}})
        create = meta["create"]
        r = Run(project=create["project"], name=create["name"], run_id=create["run_id"],
                host=host or meta["host"], capture_console=False, system_metrics_interval=0,
                stop_behavior="flag", log_system_metadata=False, mode="online", _replay=spool)
        r.finished = True  # replay only: nothing new to log, no finish record of our own
        left = r._close(timeout)
        if r.deleted or not left:
            spool.remove_if_empty()
            return NOTHING if r.deleted else SENT
        return REFUSED if r._refused_start else LEFT
    finally:
        spool.release()


def _kind(spool, name):
    try:
        return spool.read_record(name).get("kind")
    except (OSError, ValueError):
        return None  # unreadable: the sender drops it with a warning


def _last_sign_of_life(spool):
    """When the dead process last spooled something (seconds): its run ended then."""
    try:
        return max(os.path.getmtime(os.path.join(spool.dir, name)) for name in spool.pending())
    except (OSError, ValueError):
        return None


def sync_report(spool_dir: Optional[str] = None, host: Optional[str] = None, timeout: float = 60.0) -> SyncReport:
    """Replays every spooled run that no live process owns. Always online, whatever
    $LOUPE_MODE says."""
    root = spool_dir or default_root()
    counts = {SENT: 0, LEFT: 0, BUSY: 0, NOTHING: 0}
    if not os.path.isdir(root):
        return SyncReport(0, 0, 0)
    for run_id in sorted(os.listdir(root)):
        for folder in list(run_folders(os.path.join(root, run_id))):
            try:
                result = replay_folder(folder, host, timeout)
                counts[LEFT if result == REFUSED else result] += 1
            except (OSError, ValueError, KeyError) as e:  # one broken folder must not stop the rest
                print(f"loupe: skipped {folder}: {type(e).__name__}: {e}", file=sys.stderr)
                counts[LEFT] += 1
    return SyncReport(counts[SENT], counts[LEFT], counts[BUSY])


def sync(spool_dir: Optional[str] = None, host: Optional[str] = None, timeout: float = 60.0) -> int:
    """Replays every spooled run; returns the number of runs fully sent."""
    return sync_report(spool_dir, host, timeout).sent
