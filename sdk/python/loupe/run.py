"""A Run logs to one Loupe experiment from a training script.

log() only buffers; a background sender thread turns the buffer into records
about once a second (or when it grows past max_buffered_points), puts each record
in the on-disk spool, and sends the spool in order, retrying with backoff while the
server is unreachable. Records carry sequence numbers, so a record sent twice is
applied once: each Run is a client with a random id of its own, and the server keys
idempotency on (client, kind, seq), so neither a seeded `random` nor a second process
on the same run_id can make one write look like a replay of another. The sender also
sends heartbeats and system metrics, and notices when the server says the run was
stopped, or deleted (HTTP 410: nothing more is sent or kept).

Steps logged without step= count from where the run resumed: the server adds one past
the run's last step when this client first connected (0 for a new run), so resuming
appends. Explicit steps are stored as given. What the server refuses (a key holding
images, say) is reported on stderr and in `refused`; the rest of the record is kept.
SIGTERM (what schedulers send first) flushes and finishes the run as "stopped". The constructor waits for nothing slow:
the sender creates the run on the server (so `id` is None until then) and collects
the system metadata (git, nvidia-smi).

The mode (argument, else $LOUPE_MODE, else "online") chooses how much of this runs:
"online" all of it; "offline" everything but the network, leaving the run in the spool
for `python3 -m loupe sync`; "disabled" nothing at all (no threads, files or network;
every method is a no-op), so a script runs unchanged without a server.
"""
from __future__ import annotations

import atexit
import json
import math
import numbers
import os
import re
import secrets
import signal
import sys
import threading
import time
import _thread
from datetime import datetime, timezone
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union
from urllib.parse import urlsplit

from . import _artifacts, _auth, _http, _system
from ._console import MAX_LINE as _MAX_LINE, ConsoleCapture, original_stderr
from ._spool import Spool, default_root

_MAX_STEP = 2 ** 53


def _checked_step(step: Any) -> int:
    """A step as a plain int: any integer type (numpy.int64, torch's too) through
    __index__, never a bool, a float or a number out of range."""
    is_bool = isinstance(step, bool) or getattr(getattr(step, "dtype", None), "kind", "") == "b"  # numpy.bool_ too
    try:
        value = step.__index__() if not is_bool else None
    except (AttributeError, TypeError):
        value = None
    if not isinstance(value, int) or not 0 <= value <= _MAX_STEP:
        raise ValueError(f"step must be an integer from 0 to 2^53, got {step!r}")
    return value
# Records stay well inside the server's per-request limits (docs/api.md).
_MAX_KEYS_PER_RECORD = 10000
_MAX_POINTS_PER_RECORD = 50000
_MAX_CONSOLE_RECORD_BYTES = 8 << 20
_MAX_REFUSALS_KEPT = 1000

_KEY = re.compile(r"^[A-Za-z0-9_.\-/ ]{1,255}$")
_RUN_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")  # the server's rule; also a spool folder name
_MAX_LINES_PER_RECORD = 10000
_MAX_LINE_BYTES = 65536
MODES = ("online", "offline", "disabled")


def resolve_mode(mode: Optional[str] = None) -> str:
    """The mode argument, else $LOUPE_MODE, else "online"; ValueError for anything else."""
    if mode is None:
        env = os.environ.get("LOUPE_MODE", "").strip()
        if env and env not in MODES:
            raise ValueError(f"LOUPE_MODE={env!r} is not a Loupe mode: use 'online', 'offline' or 'disabled'")
        return env or "online"
    if mode not in MODES:
        raise ValueError(f"mode must be 'online', 'offline' or 'disabled', got {mode!r}")
    return mode


def validate_key(key: str) -> None:
    if not isinstance(key, str) or not _KEY.match(key):
        raise ValueError(f"invalid key {key!r}: use 1-255 letters, digits, '_', '-', '.', '/' or spaces")
    if key != key.strip() or any(seg in ("", ".", "..") for seg in key.split("/")):
        raise ValueError(f"invalid key {key!r}: no empty, '.' or '..' segments, no leading/trailing spaces")


def encode_value(key: str, value: Any) -> Union[int, float, str]:
    if hasattr(value, "item") and callable(value.item):
        value = value.item()  # numpy and torch scalars
    if isinstance(value, bool):
        value = int(value)
    if not isinstance(value, (int, float)):
        raise TypeError(f"value of {key!r} must be a number, got {type(value).__name__}")
    value = float(value) if isinstance(value, int) and abs(value) > 2 ** 53 else value
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def new_run_id() -> str:
    # secrets, not random: training scripts seed random, and two seeded sweep runs
    # started in the same second must not share a run.
    return datetime.now(timezone.utc).strftime("run-%Y%m%d_%H%M%S-") + secrets.token_hex(4)


def new_client_id() -> str:
    return secrets.token_hex(16)


def split_utf8(line: str, max_bytes: int = _MAX_LINE_BYTES):
    """Pieces of `line` of at most max_bytes in UTF-8, never cutting a character."""
    if len(line) * 4 <= max_bytes:
        return [line]
    data = line.encode("utf-8")
    pieces = []
    while len(data) > max_bytes:
        cut = max_bytes
        while cut > 0 and (data[cut] & 0xC0) == 0x80:  # a continuation byte: back to the character's start
            cut -= 1
        pieces.append(data[:cut].decode("utf-8"))
        data = data[cut:]
    pieces.append(data.decode("utf-8"))
    return pieces


def clean_text(text: str) -> str:
    """`text` as valid UTF-8: the undecodable bytes Python keeps as lone surrogates (a
    file name or terminal output in another encoding) become U+FFFD, since the JSON the
    server takes cannot carry them."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        try:
            return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        except UnicodeEncodeError:  # surrogates that stand for no byte
            return _SURROGATES.sub("\ufffd", text)


_SURROGATES = re.compile("[\ud800-\udfff]")
_IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
_MAX_MEDIA_BYTES = 16 << 20
_MAX_CAPTION_BYTES = 4096
_MAX_TEXT_BYTES = 64 * 1024
_MAX_HISTOGRAM_BINS = 512
_MAX_ERROR_BYTES = 60 * 1024  # the server keeps up to 64 KiB


def histogram(values, bins=64):
    """(counts, edges) of `bins` equal bins from min to max of the finite values; NaN and
    infinities are left out. Tensors and arrays (anything with .tolist()) are flattened."""
    if hasattr(values, "detach"):
        values = values.detach()
    if hasattr(values, "cpu"):
        values = values.cpu()
    if hasattr(values, "tolist"):
        values = values.tolist()
    flat = []
    stack = [values]
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(v)
            continue
        if hasattr(v, "item") and not isinstance(v, (int, float)):
            v = v.item()  # numpy and torch scalars
        if isinstance(v, numbers.Real) and not isinstance(v, bool):
            v = float(v)
            if math.isfinite(v):
                flat.append(v)
        else:
            raise TypeError(f"histogram values must be numbers, got {type(v).__name__}")
    if not isinstance(bins, int) or isinstance(bins, bool) or not 1 <= bins <= _MAX_HISTOGRAM_BINS:
        raise ValueError(f"bins must be an integer from 1 to {_MAX_HISTOGRAM_BINS}")
    if not flat:
        raise ValueError("no finite values to make a histogram of")
    lo, hi = min(flat), max(flat)
    if not math.isfinite(hi - lo):
        raise ValueError("the values span more than a float can hold; pass counts and edges instead")
    if lo == hi:  # one value: one bin around it
        lo, hi, bins = lo - max(0.5, abs(lo) * 1e-9), hi + max(0.5, abs(hi) * 1e-9), 1
    while True:
        edges = [lo + (hi - lo) * i / bins for i in range(bins)] + [hi]
        if bins == 1 or all(b > a for a, b in zip(edges, edges[1:])):
            break
        bins //= 2  # a range too narrow for its magnitude: fewer, wider bins
    counts = [0] * bins
    width = (hi - lo) / bins
    for v in flat:
        counts[min(bins - 1, int((v - lo) / width))] += 1
    return counts, edges


def check_tags(tags) -> List[str]:
    """Tags as the server keeps them: strings of 1-64 bytes without commas or double
    quotes, at most 32 (a bad one is refused here: the server would refuse the run)."""
    if tags is None:
        return []
    if isinstance(tags, str) or not isinstance(tags, (list, tuple, set, frozenset)):
        raise TypeError("tags must be a list of strings, as in tags=['baseline', 'lr-sweep']")
    out = []
    for tag in tags:
        if not isinstance(tag, str):
            raise TypeError(f"tags must be strings, got {tag!r}")
        tag = clean_text(tag).strip(" ")
        if not tag or len(tag.encode("utf-8")) > 64 or "," in tag or '"' in tag or \
                any(ord(c) < 0x20 or ord(c) == 0x7f for c in tag):
            raise ValueError(f"invalid tag {tag!r}: use 1-64 bytes without commas, double quotes or control characters")
        if tag not in out:
            out.append(tag)
    if len(out) > 32:
        raise ValueError(f"a run has at most 32 tags; got {len(out)}")
    return out


def chunk_steps(steps: Dict[int, Dict[str, Any]]):
    """{step: {key: value}} split into pieces within the per-record key and point limits."""
    out, cur, keys, n = [], {}, set(), 0
    for step in sorted(steps):
        for key, value in steps[step].items():
            if n >= _MAX_POINTS_PER_RECORD or (key not in keys and len(keys) >= _MAX_KEYS_PER_RECORD):
                out.append(cur)
                cur, keys, n = {}, set(), 0
            cur.setdefault(step, {})[key] = value
            keys.add(key)
            n += 1
    if cur:
        out.append(cur)
    return out


class Checkpoint:
    """A checkpoint handed back by Run.resume_checkpoint(): where its files are, the step
    and metrics save_checkpoint() recorded, and the artifact version."""

    def __init__(self, path: str, step: Optional[int], metrics: Dict[str, Any], artifact: _artifacts.Artifact):
        self.path, self.step, self.metrics, self.artifact = path, step, metrics, artifact

    def __repr__(self) -> str:
        return f"Checkpoint({self.artifact.ref!r}, step={self.step}, path={self.path!r})"


class Run:
    def __init__(self, project: str = "default", name: Optional[str] = None,
                 config: Optional[Mapping[str, Any]] = None, host: Optional[str] = None,
                 run_id: Optional[str] = None, description: str = "", capture_console: bool = True,
                 system_metrics_interval: float = 10.0, heartbeat_interval: float = 15.0,
                 flush_interval: float = 1.0, max_buffered_points: int = 20000, stop_behavior: str = "interrupt",
                 spool_dir: Optional[str] = None, log_system_metadata: bool = True,
                 mode: Optional[str] = None, api_key: Optional[str] = None,
                 tags: Optional[Sequence[str]] = None, _replay: Optional[Spool] = None) -> None:
        if stop_behavior not in ("interrupt", "flag"):
            raise ValueError("stop_behavior must be 'interrupt' or 'flag'")
        self.mode = resolve_mode(mode)
        self.host = (host or os.environ.get("LOUPE_URL") or "http://127.0.0.1:8080").rstrip("/")
        if "://" not in self.host:  # "127.0.0.1:8080" means the plain-HTTP server there
            self.host = "http://" + self.host
        if api_key:  # else LOUPE_API_KEY, or a local server's own token (_auth.py)
            _auth.set_key(self.host, api_key)
        self.project = clean_text(project)
        if run_id and (not isinstance(run_id, str) or not _RUN_ID.match(run_id) or set(run_id) == {"."}):
            raise ValueError(f"invalid run_id {run_id!r}: use 1-128 letters, digits, '_', '-' or '.'")
        self.run_id = run_id or new_run_id()
        self.name = clean_text(name) if name else self.run_id
        self.tags = check_tags(tags)
        self.config = dict(config or {})  # what the script was configured with (a launched job's spec config)
        # A launched job's checkpoint protocol (issue 14): requests in Loupe's control file,
        # or every N steps; the checkpoint this segment resumes from.
        self._control_file = os.environ.get("LOUPE_CONTROL_FILE") or None
        self._checkpoint_every = int(os.environ.get("LOUPE_CHECKPOINT_EVERY_STEPS") or 0)
        self._checkpoint_every_epochs = int(os.environ.get("LOUPE_CHECKPOINT_EVERY_EPOCHS") or 0)
        self._last_epoch = None            # the newest value logged under "epoch"
        self._checkpoint_epoch = None      # the epoch of the last save
        self._checkpoint_seen = (0.0, 0)   # the control file's (mtime, request number) last read
        self._checkpoint_handled = 0       # the request number the last save answered
        self._checkpoint_step = None       # the step of the last save
        self._checkpoint_callback = None
        self._last_step = -1
        self._clock = time.monotonic  # log_throughput's clock (tests set their own)
        self._throughput_since = self._clock()
        if self._control_file:
            # Requests made before this process started were for an earlier segment, unless
            # Loupe marked the last one with this segment (asked while the script started).
            self.checkpoint_requested  # reads the file
            self._checkpoint_handled = self._checkpoint_seen[1]
            try:
                with open(self._control_file, encoding="utf-8") as f:
                    control = json.load(f)
                asked_in, answered = control.get("segment"), int(control.get("answered", 0))
                # (Loupe marks a request answered once a checkpoint follows it: a second
                # script of the same segment must not answer it again.)
                if (asked_in is not None and str(asked_in) == os.environ.get("LOUPE_JOB_SEGMENT")
                        and answered < self._checkpoint_seen[1]):
                    self._checkpoint_handled = self._checkpoint_seen[1] - 1
            except (OSError, ValueError, TypeError, AttributeError):
                pass
        # Where there is no control file (a pod on another machine), the requests are polled
        # from Loupe every few seconds; the first answer is the baseline, as the file's is.
        self._control_path = None
        url = os.environ.get("LOUPE_CONTROL_URL") or ""
        if not self._control_file and url.startswith(self.host.rstrip("/") + "/"):
            self._control_path = url[len(self.host.rstrip("/")):]
        self._control_polled = None
        self._control_baseline = False
        self.id: Optional[int] = None  # the server's experiment id, known once connected
        self.stopped = False
        self.finished = False
        self.deleted = False  # the run was deleted on the server: nothing more is sent
        self.refused = []     # what the server refused: {"key", "step", "message"}, at most 1,000
        if self.mode == "disabled":
            self.spool = None
            return
        self._stop_behavior = stop_behavior
        self._stop_pending = False
        self._flush_interval = flush_interval
        self._heartbeat_interval = heartbeat_interval
        self._max_buffered = max_buffered_points
        self._counter = 0
        self._lock = threading.Lock()
        self._drain_lock = threading.Lock()  # the sender and finish() may both drain
        self._steps = {}      # explicit steps: stored as given
        self._rel_steps = {}  # steps counted by log() itself: the server adds where the run resumed
        self._step_ts = {}    # (relative, step) -> time of the latest log() call for that step
        self._explicit = False
        self._media_keys = {}   # key -> image, text or histogram
        self._scalar_keys = set()
        self._refused_keys = set()
        self._buffered = 0
        self._auto_step = 0
        self._console = []
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._retry_at = 0.0
        self._backoff = 0.5
        self._last_contact = 0.0
        self._failed = False
        self._error = None  # traceback of the exception that ended the run
        self._lost = 0        # records or values the server refused
        self._siblings_done = threading.Event()
        self._sibling_thread = None
        self._refused_start = False
        self._terminated = False
        self._warned_offline = False
        self._warned_auth = False
        self._warned_full = False
        self._warned_error = False
        self._replaying = _replay is not None
        self._sender_off = threading.Event()  # set by _close: from then on only `loupe sync` sends

        if _replay is not None:  # `loupe sync`: a dead process's spool, sent as its client
            self.spool = _replay
            self._create_body = _replay.read_meta()["create"]
            self.client = self._create_body.get("client", "")
        else:
            self.client = new_client_id()
            self.spool = Spool(os.path.join(spool_dir or default_root(), self.run_id, self.client))
            self._create_body = {"project": self.project, "name": self.name, "run_id": self.run_id,
                                 "description": clean_text(description), "config": _jsonable(config or {}),
                                 "client": self.client, "start_time": time.time()}
            if self.tags:
                self._create_body["tags"] = self.tags
            self.spool.write_meta({"host": self.host, "create": self._create_body})

        self._metadata_due = log_system_metadata  # collected by the first drain: git and nvidia-smi are slow
        self._sampler = _system.Sampler() if system_metrics_interval else None
        self._system_interval = system_metrics_interval
        self._next_sample = time.time() + (system_metrics_interval or 0)
        self._system_step = 0

        self._capture = ConsoleCapture(self._on_console, _MAX_LINE) if capture_console else None
        self._wake.set()  # the sender's first round creates the run on the server at once
        self._thread = threading.Thread(target=self._loop, name="loupe-sender", daemon=True)
        self._thread.start()
        if self._capture:
            self._capture.start()
        self._prev_excepthook = None
        self._prev_sigterm = None
        if self._replaying:
            return  # a replay (sync) is no script: no hooks, no handlers
        self._prev_excepthook = sys.excepthook
        sys.excepthook = self._excepthook
        if threading.current_thread() is threading.main_thread() \
                and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            self._prev_sigterm = signal.signal(signal.SIGTERM, self._on_sigterm)
        atexit.register(self._at_exit)

    # ---- user API -----------------------------------------------------------------

    def log(self, data: Dict[str, Any], step: Optional[int] = None) -> None:
        """Buffers {key: number}; step defaults to one past the last step logged."""
        if self.mode == "disabled":
            return
        if not isinstance(data, dict):
            raise TypeError("log() takes a dict of {key: number}")
        if self._stop_pending:
            self._stop_pending = False
            raise KeyboardInterrupt(f"run {self.run_id} was stopped from the Loupe dashboard")
        if self.deleted:
            return
        now = time.time()
        encoded = {}
        for key, value in data.items():
            validate_key(key)
            if key in self._media_keys:
                raise ValueError(f"key {key!r} holds images; log numbers under another key")
            encoded[key] = encode_value(key, value)
        with self._lock:
            relative = step is None and not self._explicit
            if step is None:
                step = self._auto_step
                if step > _MAX_STEP:
                    raise ValueError("the next step would pass 2^53; pass step= explicitly")
            else:
                step = _checked_step(step)
                if not self._explicit:  # from now on, steps without step= follow the explicit ones
                    self._explicit, self._auto_step = True, step
            self._check_open()  # after validation: a bad step is a ValueError even after finish()
            self._auto_step = max(self._auto_step, step + 1)
            (self._rel_steps if relative else self._steps).setdefault(step, {}).update(encoded)
            self._step_ts[(relative, step)] = now
            self._scalar_keys.update(encoded)
            self._buffered += len(encoded)
            full = self._buffered >= self._max_buffered
        self._last_step = max(self._last_step, step)
        epoch = data.get("epoch")
        if isinstance(epoch, numbers.Real) and not isinstance(epoch, bool) and math.isfinite(float(epoch)):
            epoch = float(epoch)
            self._last_epoch = epoch if self._last_epoch is None else max(self._last_epoch, epoch)
        if full:
            self._wake.set()
        if self._checkpoint_callback is not None and self.checkpoint_requested:
            self._checkpoint_callback()

    def log_throughput(self, step: Optional[int] = None, **counts: float) -> Dict[str, float]:
        """Logs throughput/<name>_per_s for each count given (tokens=, samples=, ...): what
        was processed since the previous call (the first: since init()) over the seconds
        between them on a monotonic clock. Call it once per step with that step's counts;
        with no counts it only restarts the clock (after loading a model, say). Returns the
        rates logged."""
        for name, n in counts.items():
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,63}", name):
                raise ValueError(f"throughput name {name!r}: letters, digits and _, starting with a letter")
            if isinstance(n, bool) or not isinstance(n, numbers.Real) or not math.isfinite(n) or n < 0:
                raise ValueError(f"{name}={n!r}: a count must be a finite number >= 0")
        now = self._clock()
        with self._lock:
            elapsed, self._throughput_since = now - self._throughput_since, now
        rates = {f"throughput/{name}_per_s": float(n) / elapsed for name, n in counts.items()} if elapsed > 0 else {}
        if rates:
            self.log(rates, step=step)
        return rates

    def log_image(self, key: str, image: Union[str, "os.PathLike[str]", bytes, bytearray],
                  step: Optional[int] = None, caption: Optional[str] = None) -> None:
        """Logs an image (a file path, or PNG/JPEG bytes) under `key` at `step`, with an
        optional caption (at most 4096 bytes of UTF-8). Several images may share a step."""
        if self.mode == "disabled" or self.deleted:
            return
        if isinstance(image, (bytes, bytearray)):
            blob, filename = bytes(image), "image.jpg" if bytes(image[:3]) == b"\xff\xd8\xff" else "image.png"
        else:
            filename = clean_text(os.path.basename(os.fsdecode(image)))
            if not filename.lower().endswith(_IMAGE_TYPES):
                raise ValueError(f"{filename!r} is not an image Loupe stores: use {', '.join(_IMAGE_TYPES)}")
            with open(image, "rb") as f:
                blob = f.read()
        if not blob:
            raise ValueError("the image is empty")
        if len(blob) > _MAX_MEDIA_BYTES:
            raise ValueError(f"the image is {len(blob)} bytes; Loupe stores images of up to {_MAX_MEDIA_BYTES} bytes")
        self._log_media(key, "image", blob, filename, step, caption)

    def log_text(self, key: str, text: str, step: Optional[int] = None, caption: Optional[str] = None) -> None:
        """Logs a text sample (generated text, a prediction; at most 64 KiB of UTF-8) under
        `key` at `step`; the run page lists a key's samples as a table by step."""
        if self.mode == "disabled" or self.deleted:
            return
        if not isinstance(text, str):
            raise TypeError("log_text() takes a str")
        blob = clean_text(text).encode("utf-8")
        if not blob:
            raise ValueError("the text sample is empty")
        if len(blob) > _MAX_TEXT_BYTES:
            raise ValueError(f"the text sample is {len(blob)} bytes; Loupe keeps up to {_MAX_TEXT_BYTES}")
        self._log_media(key, "text", blob, "sample.txt", step, caption)

    def log_histogram(self, key: str, values: Any = None, step: Optional[int] = None, bins: int = 64,
                      counts: Optional[Sequence[float]] = None, edges: Optional[Sequence[float]] = None) -> None:
        """Logs the distribution of `values` (a sequence of numbers, or anything with
        .tolist() such as a tensor or an array, flattened) as a histogram of `bins` equal
        bins from its min to its max; or a histogram you made: `counts` (n) and `edges`
        (n + 1, increasing). The run page draws a key's histograms over steps."""
        if self.mode == "disabled" or self.deleted:
            return
        if counts is None and edges is None:
            counts, edges = histogram(values, bins)
        elif values is not None or counts is None or edges is None:
            raise ValueError("pass either values, or both counts and edges")
        counts = [float(c) for c in counts]
        edges = [float(e) for e in edges]
        if not 1 <= len(counts) <= _MAX_HISTOGRAM_BINS or len(edges) != len(counts) + 1:
            raise ValueError(f"a histogram has 1 to {_MAX_HISTOGRAM_BINS} bins and one edge more than bins; "
                             f"got {len(counts)} counts and {len(edges)} edges")
        if any(not math.isfinite(c) or c < 0 for c in counts) or \
                any(not math.isfinite(e) for e in edges) or any(b <= a for a, b in zip(edges, edges[1:])):
            raise ValueError("histogram counts must be finite and >= 0, edges finite and increasing")
        blob = json.dumps({"edges": edges, "counts": counts}).encode("utf-8")
        self._log_media(key, "histogram", blob, "values.hist.json", step, None)

    def _check_open(self):
        """What is logged after finish() would never be sent: say so instead of losing it."""
        if self.finished:
            raise RuntimeError(f"run {self.run_id} has finished; log to a new run (loupe.init()) or resume "
                               f"this one with loupe.init(run_id={self.run_id!r})")

    def _log_media(self, key, kind, blob, filename, step, caption):
        validate_key(key)
        if key in self._scalar_keys:
            raise ValueError(f"key {key!r} holds numbers; log {kind}s under another key")
        held = self._media_keys.get(key)
        if held is not None and held != kind:
            raise ValueError(f"key {key!r} holds {held}s; log {kind}s under another key")
        if step is not None:
            step = _checked_step(step)
        if caption is not None:
            caption = clean_text(str(caption))
            if len(caption.encode("utf-8")) > _MAX_CAPTION_BYTES:
                raise ValueError(f"the caption is over {_MAX_CAPTION_BYTES} bytes")
        self._check_open()
        with self._lock:
            relative = step is None and not self._explicit
            if step is None:
                step = max(self._auto_step - 1, 0)
            self._media_keys[key] = kind
            seq = self._next_seq()
        self.spool.put({"kind": "media", "key": key, "step": step, "filename": filename, "client": self.client,
                        "seq": seq, "step_origin": "resume" if relative else "absolute", "caption": caption},
                       blob=blob)
        self._wake.set()

    def log_artifact(self, path: Union[str, "os.PathLike[str]"], name: Optional[str] = None,
                     type: str = "unspecified", aliases: Optional[Sequence[str]] = None, description: str = "",
                     metadata: Optional[Mapping[str, Any]] = None, timeout: float = 60.0) -> _artifacts.Artifact:
        """Uploads a file or folder as the next version of artifact `name` (default: the
        file or folder's name), produced by this run, and returns it. Only content the
        server lacks is sent; content equal to an existing version returns that version
        (`created` is False) with `aliases` added. Blocks until the version is stored;
        raises ArtifactError when the server refuses it or cannot be reached. In disabled
        mode it does nothing and returns None."""
        if self.mode == "disabled":
            return None
        path = os.fspath(path)
        name = name or _artifacts.default_name(path)
        experiment = self._server_id("log an artifact", timeout)
        detail = _artifacts.upload(self.host, path, name, type, aliases or (), description,
                                   _jsonable(dict(metadata or {})), experiment)
        return _artifacts.Artifact(self.host, detail)

    def log_model(self, path: Union[str, "os.PathLike[str]"], name: Optional[str] = None,
                  aliases: Optional[Sequence[str]] = None, metadata: Optional[Mapping[str, Any]] = None,
                  registered_model_name: Optional[str] = None,
                  registry_aliases: Optional[Sequence[str]] = None) -> _artifacts.Artifact:
        """log_artifact with type "model"; with `registered_model_name`, also registers the
        version as that model's next version with `registry_aliases` (e.g. ["staging"]).
        The returned artifact's `.registered` is the model version (or None)."""
        art = self.log_artifact(path, name=name, type="model", aliases=aliases, metadata=metadata)
        if art is not None and registered_model_name:
            art.registered = _artifacts.register(self.host, art, registered_model_name, registry_aliases or ())
        return art

    # ---- checkpoints (a job Loupe launched) ---------------------------------------

    @property
    def checkpoint_requested(self) -> bool:
        """True when Loupe asked for a checkpoint (on the job's timer, before a budget stop,
        or from the job's page) or, with checkpoint.every_steps, when a logged step passed a
        multiple of it (with checkpoint.every_epochs, a value logged as "epoch"), and no
        save_checkpoint() has answered yet. Cheap: poll it each step."""
        if self._control_file:
            try:
                mtime = os.stat(self._control_file).st_mtime
                if mtime != self._checkpoint_seen[0]:
                    with open(self._control_file, encoding="utf-8") as f:
                        n = int(json.load(f).get("checkpoint_request", 0))
                    self._checkpoint_seen = (mtime, n)
            except (OSError, ValueError, TypeError, AttributeError):
                pass
        if (self._control_file or self._control_path) and self._checkpoint_seen[1] > self._checkpoint_handled:
            return True
        if self._checkpoint_every > 0 and self._last_step >= 0:
            # Due when a logged step reaches the next multiple after the last checkpoint (or 0).
            done = 0 if self._checkpoint_step is None else self._checkpoint_step // self._checkpoint_every
            if self._last_step // self._checkpoint_every > done:
                return True
        if self._checkpoint_every_epochs > 0 and self._last_epoch is not None:
            # The same for the "epoch" the script logs (fractional epochs count when whole).
            every = self._checkpoint_every_epochs
            done = 0 if self._checkpoint_epoch is None else math.floor(self._checkpoint_epoch / every)
            if math.floor(self._last_epoch / every) > done:
                return True
        return False

    def on_checkpoint_request(self, callback) -> None:
        """Calls `callback()` from log() (on the caller's thread) whenever checkpoint_requested
        is true; the callback should call save_checkpoint(). None removes it."""
        self._checkpoint_callback = callback

    def save_checkpoint(self, path: Union[str, "os.PathLike[str]"], step: int,
                        metrics: Optional[Mapping[str, Any]] = None) -> _artifacts.Artifact:
        """Stores a file or folder as the next version of this run's checkpoint artifact
        ("checkpoint-RUN_ID", type "checkpoint") with the step and metrics it was saved at,
        and answers any pending checkpoint request. The job's page lists it; resuming the
        job from it hands it back through resume_checkpoint()."""
        if not isinstance(step, int) or isinstance(step, bool) or step < 0:
            raise ValueError("save_checkpoint() needs the step it was saved at (an integer >= 0)")
        pending = self._checkpoint_seen[1]
        meta = {"step": step, "metrics": _jsonable(dict(metrics or {}))}
        if self._last_epoch is not None:
            meta["epoch"] = self._last_epoch
        if os.environ.get("LOUPE_JOB_ID"):
            meta["job_id"] = int(os.environ["LOUPE_JOB_ID"])
        art = self.log_artifact(path, name=f"checkpoint-{self.run_id}", type="checkpoint", metadata=meta)
        self._checkpoint_handled = max(self._checkpoint_handled, pending)
        self._checkpoint_step = step
        self._checkpoint_epoch = self._last_epoch
        return art

    def resume_checkpoint(self, root: Optional[str] = None) -> Optional["Checkpoint"]:
        """The checkpoint this job segment was started from (a resume, or a restart after a
        failure), downloaded under `root` (default ./checkpoints/NAME-vN): .path, .step,
        .metrics. None when it starts from the beginning."""
        ref = os.environ.get("LOUPE_RESUME_ARTIFACT")
        if not ref or self.mode == "disabled":
            return None
        art = self.use_artifact(ref)  # recorded as used by this run: the lineage shows the resume
        path = art.download(root or os.path.join("checkpoints", f"{art.name}-v{art.version}"))
        meta = art.metadata or {}
        step = meta.get("step")
        self._checkpoint_step = step if isinstance(step, int) else None
        epoch = meta.get("epoch")
        self._checkpoint_epoch = epoch if isinstance(epoch, (int, float)) and not isinstance(epoch, bool) else None
        return Checkpoint(path, step, meta.get("metrics") or {}, art)

    def use_artifact(self, ref: str, timeout: float = 60.0) -> _artifacts.Artifact:
        """The artifact version `ref` names ("name", "name:v3", "name:latest",
        "name:<alias>"), recorded as used by this run; call .download() for its files."""
        return _artifacts.resolve(self.host, ref, self._server_id("use an artifact", timeout))

    def _server_id(self, what, timeout):
        """The run's id on the server, waiting up to `timeout` s for the sender to create it."""
        if self.mode != "online":
            raise RuntimeError(f"cannot {what} in {self.mode} mode: artifacts go to the server directly")
        self._check_open()
        deadline = time.time() + timeout
        while self.id is None and not self.deleted and time.time() < deadline:
            self._wake.set()
            time.sleep(0.05)
        if self.id is None:
            raise _artifacts.ArtifactError(f"cannot {what}: the server at {self.host} has not accepted run "
                                           f"{self.run_id} within {timeout:g} s")
        return self.id

    def update_config(self, config: Mapping[str, Any]) -> None:
        """Merges `config` into the run's config (top-level keys replaced)."""
        if self.mode == "disabled" or self.deleted:
            return
        self._check_open()
        self.spool.put({"kind": "config", "body": {"config": _jsonable(config)}})
        self._wake.set()

    def finish(self, status: str = "finished", timeout: float = 30.0) -> bool:
        """Sends everything, marks the run finished, stops capturing. Returns True when
        everything logged was kept: every record reached the server and nothing was
        refused (see `refused`). Always True in "disabled" mode, never in "offline".
        Records not sent stay spooled for `loupe sync`."""
        if self.mode == "disabled":
            self.finished = True
            return True
        if self.finished:
            return not self.spool.pending() and not self.deleted and not self._lost
        self.finished = True
        try:
            return self._finish(status, timeout)
        finally:
            self._restore_sigterm()

    def _finish(self, status, timeout):
        if self._capture:
            self._capture.stop(timeout=max(1.0, timeout))
        if self.deleted:
            self._close(0)
            self.spool.remove_if_empty()
            return False
        self._drain_buffers()
        body = {"status": status, "client": self.client, "time": time.time()}
        if self._error and status != "finished":
            body["error"] = self._error
        self.spool.put({"kind": "finish", "body": body})
        self._retry_at, self._backoff = 0.0, 0.5  # a server that is back gets the rest now
        left = self._close(timeout)
        if self.deleted:
            # The sender may have learnt of the deletion (and cleared the spool) before the
            # finish record above was put: nothing of a deleted run is kept.
            self.spool.clear()
            self.spool.remove_if_empty()
            return False
        if left and self.mode == "offline":
            print(f"loupe: offline run {self.run_id} is kept in {self.spool.dir}; "
                  f"send it with `python3 -m loupe sync`", file=original_stderr())
        elif left:
            print(f"loupe: {len(left)} record(s) of run {self.run_id} could not be sent to {self.host}; "
                  f"they are kept in {self.spool.dir} and sent by `python3 -m loupe sync`",
                  file=original_stderr())
        else:
            self.spool.remove_if_empty()
        self.spool.release()  # what is left is `loupe sync`'s to send
        if self._lost:
            print(f"loupe: the server refused {self._lost} record(s) or value(s) of run {self.run_id}; "
                  f"see run.refused", file=original_stderr())
        return not left and not self._lost

    def _restore_sigterm(self):
        """Puts back the SIGTERM handler found at start, unless the script has set its own since."""
        if self._prev_sigterm is None or threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGTERM) == self._on_sigterm:
            signal.signal(signal.SIGTERM, self._prev_sigterm)
        self._prev_sigterm = None

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is KeyboardInterrupt and self.stopped:
            self.finish("stopped")
            return True  # a stop from the dashboard ends the block cleanly
        if exc_type is SystemExit and self._terminated:
            self.finish("stopped")
            return False
        if exc_type is not None:
            self._error = _traceback_text(exc_type, exc, tb)
        self.finish("finished" if exc_type is None else "crashed")
        return False

    # ---- sender ---------------------------------------------------------------------

    def _close(self, timeout):
        """Lets the sender send what is spooled, for up to `timeout` seconds, then stops it
        (so a later `loupe sync` is the only sender) and returns the records left."""
        self._closing.set()
        self._wake.set()
        self._thread.join(timeout)
        self._sender_off.set()
        if self._prev_excepthook is not None and sys.excepthook == self._excepthook:
            sys.excepthook = self._prev_excepthook
        return self.spool.pending()

    def _next_seq(self):
        """Numbers this client's writes; the caller holds self._lock (or is the only drainer)."""
        self._counter += 1
        return self._counter

    def _on_console(self, stream, line):
        now = time.time()
        with self._lock:
            for piece in split_utf8(clean_text(line)):
                self._console.append({"stream": stream, "text": piece, "ts": now})

    def _drain_buffers(self):
        with self._drain_lock:
            self._drain_buffers_locked()

    def _drain_buffers_locked(self):
        if self._metadata_due:
            self._metadata_due = False
            self.spool.put({"kind": "system", "body": {"system": _system.metadata(),
                                                       "requirements": _system.requirements()}})
        with self._lock:
            steps, self._steps, self._buffered = self._steps, {}, 0
            rel_steps, self._rel_steps = self._rel_steps, {}
            step_ts, self._step_ts = self._step_ts, {}
            console, self._console = self._console, []
        now = time.time()
        for origin, relative, buffered in (("resume", True, rel_steps), ("absolute", False, steps)):
            for piece in chunk_steps(buffered):
                self._put_metrics(origin, [{"step": s, "ts": step_ts.get((relative, s), now), "values": v}
                                           for s, v in sorted(piece.items())])
        for lines in _console_records(console):
            with self._lock:
                seq = self._next_seq()
            self.spool.put({"kind": "console", "body": {"client": self.client, "seq": seq, "lines": lines}})
        if self._sampler and time.time() >= self._next_sample:
            values = self._sampler.sample()
            if values:
                self._put_metrics("resume_system", [{"step": self._system_step, "ts": now, "values": values}])
                self._system_step += 1
            self._next_sample = time.time() + self._system_interval

    def _put_metrics(self, origin, steps):
        with self._lock:
            seq = self._next_seq()
        self.spool.put({"kind": "metrics", "body": {"client": self.client, "seq": seq, "step_origin": origin,
                                                    "partial": True, "steps": steps}})

    def _loop(self):
        online = self.mode == "online"
        while not self._sender_off.is_set() and not self.deleted:
            self._wake.wait(self._flush_interval)
            self._wake.clear()
            closing = self._closing.is_set()
            try:
                if not closing:
                    self._drain_buffers()
                if online and time.time() >= self._retry_at:
                    self._send_pending()
            except Exception as e:  # never a dead sender: what is unsent stays spooled and is retried
                if not self._warned_error:
                    self._warned_error = True
                    print(f"loupe: sending failed ({type(e).__name__}: {e}); retrying", file=original_stderr())
                self._on_failure(_http.Response(0, None))
            if closing and (not online or not self.spool.pending()):
                return
            if closing and time.time() < self._retry_at:
                time.sleep(min(0.2, self._retry_at - time.time()))

    def _siblings_sent(self):
        """True once what dead processes of the same run left in this machine's spool was
        sent (or given up on), so their steps come first and this client's resume point is
        after them. The replay runs on a thread of its own: this sender keeps spooling."""
        if self._replaying or self._siblings_done.is_set():
            return True
        if self._sibling_thread is None:
            self._sibling_thread = threading.Thread(target=self._replay_siblings, name="loupe-resume", daemon=True)
            self._sibling_thread.start()
        return False

    def _replay_siblings(self):
        from ._sync import LEFT, REFUSED, replay_folder, run_folders
        mine = os.path.abspath(self.spool.dir)
        pending = [f for f in run_folders(os.path.dirname(self.spool.dir)) if os.path.abspath(f) != mine]
        while pending and not self._sender_off.is_set():
            still = []
            for folder in pending:
                try:
                    result = replay_folder(folder, self.host, timeout=10)
                except Exception as e:  # a broken folder must not keep this run from starting
                    result = None
                    print(f"loupe: skipped {folder}: {type(e).__name__}: {e}", file=original_stderr())
                if result == LEFT:
                    still.append(folder)
                elif result == REFUSED:
                    print(f"loupe: what an earlier process of run {self.run_id} left in {folder} was refused; "
                          f"it stays there", file=original_stderr())
            pending = still
            if pending:
                self._closing.wait(1.0)
        self._siblings_done.set()
        self._wake.set()

    def _connect_once(self):
        if self.id is not None:
            return True
        if not self._siblings_sent():
            return False
        r = _http.request(self.host, "POST", "/api/v1/experiments", self._create_body)
        if r.ok:
            self.id = r.data["id"]
            given = r.data.get("name")
            if given and given != self.name and not r.data.get("resumed"):
                print(f"loupe: project {self.project!r} already has a run named {self.name!r}; "
                      f"this one is {given!r}", file=original_stderr())
                self.name = given
            if not self._replaying and not os.environ.get("LOUPE_QUIET"):
                print(f"loupe: View run {self.name!r} at {self.host}/experiments/{self.id}", file=original_stderr())
            self._on_status(r.data.get("status"))
            return True
        if r.status == 410:
            self._on_deleted(r)
            return False
        if not r.retryable:
            self._refused_start = True
            if not self._warned_error:
                self._warned_error = True
                print(f"loupe: the server refused to start run {self.run_id}: {r.message}", file=original_stderr())
        self._on_failure(r)
        return False

    def _send_pending(self):
        if not self._connect_once():
            return
        for name in self.spool.pending():
            if self._sender_off.is_set():
                return
            try:
                record, blob = self.spool.read(name)
            except (FileNotFoundError, ValueError) as e:  # a record a crash left half-written
                self._lost += 1
                print(f"loupe: dropped unreadable spool record {name} ({type(e).__name__}: {e})",
                      file=original_stderr())
                self.spool.discard(name)
                continue
            r = self._send(record, blob)
            if r.status == 410:
                self._on_deleted(r)
                return
            if r.retryable:
                self._on_failure(r)
                return
            if not r.ok:
                self._lost += 1
                if len(self.refused) < _MAX_REFUSALS_KEPT:
                    self.refused.append({"record": record["kind"], "key": record.get("key"), "step": None,
                                         "message": r.message})
                print(f"loupe: the server refused a {record['kind']} record, which is dropped: {r.message}",
                      file=original_stderr())
            self._note_refusals(r.data.get("refused"))
            self.spool.remove(name, record)
            self._on_status(r.data.get("status"))
            self._backoff = 0.5  # the server answers again: the next failure waits briefly
        if self._replaying:
            return  # a replay is no sign of life: heartbeats would revive a run that ended
        if self._control_path and (self._control_polled is None or time.monotonic() - self._control_polled >= 5.0):
            self._poll_control()
        if time.time() - self._last_contact > self._heartbeat_interval:
            r = _http.request(self.host, "POST", f"/api/v1/experiments/{self.id}/heartbeat")
            if r.ok:
                self._on_status(r.data.get("status"))
            elif r.status == 410:
                self._on_deleted(r)

    def _poll_control(self):
        self._control_polled = time.monotonic()
        r = _http.request(self.host, "GET", self._control_path, timeout=10.0)
        if not r.ok:
            return
        try:
            n = int(r.data.get("checkpoint_request", 0))
        except (TypeError, ValueError, AttributeError):
            return
        if not self._control_baseline:  # requests made before this process started were for another one
            self._control_baseline = True
            self._checkpoint_handled = max(self._checkpoint_handled, n)
        self._checkpoint_seen = (time.time(), n)

    def _send(self, record, blob):
        base = f"/api/v1/experiments/{self.id}"
        kind = record["kind"]
        if kind == "metrics":
            return _http.request(self.host, "POST", base + "/metrics", record["body"])
        if kind == "console":
            return _http.request(self.host, "POST", base + "/console", record["body"])
        if kind == "config":
            return _http.request(self.host, "PUT", base + "/config", record["body"])
        if kind == "system":
            return _http.request(self.host, "PUT", base + "/system", record["body"])
        if kind == "finish":
            return _http.request(self.host, "POST", base + "/finish", record["body"])
        if kind == "media":
            from urllib.parse import urlencode
            query = {"key": record["key"], "step": record["step"], "filename": record["filename"]}
            for field in ("client", "seq", "step_origin", "caption"):
                if record.get(field) is not None:
                    query[field] = record[field]
            return _http.request(self.host, "POST", base + "/media?" + urlencode(query), raw=blob)
        return _http.Response(400, {"message": f"unknown record kind {kind}"})

    def _on_failure(self, r):
        self._retry_at = time.time() + self._backoff
        self._backoff = min(self._backoff * 2, 30.0)
        if not self._warned_auth and r.unauthorized:
            self._warned_auth = True
            if r.status == 403:
                fix = "use a token of a user with the editor or admin role"
            elif urlsplit(self.host).hostname == "localhost" and not os.environ.get("LOUPE_API_KEY"):
                # The local token goes only to the exact address the server serves:
                # `localhost` may resolve to another one (::1) that another process holds.
                fix = (f"use http://127.0.0.1:{urlsplit(self.host).port} instead of localhost (the server's own "
                       f"token is sent only to the address it printed), or set LOUPE_API_KEY")
            elif os.environ.get("LOUPE_API_KEY"):
                fix = "LOUPE_API_KEY is set but not accepted: correct it (or unset it on the server's own machine)"
            else:
                fix = "set LOUPE_API_KEY (a token from the server's Access page or `loupe token create`)"
            print(f"loupe: {self.host} did not accept this client's credential ({r.message}); keeping the run in "
                  f"{self.spool.dir}: {fix}, then run `python3 -m loupe sync`", file=original_stderr())
        if not self._warned_full and r.status == 507:
            self._warned_full = True
            print(f"loupe: {self.host} cannot store more now ({r.message}); keeping the rest in {self.spool.dir} "
                  f"and retrying", file=original_stderr())
        if not self._warned_offline and r.status == 0:
            self._warned_offline = True
            where = "will retry" if self._replaying else f"spooling to {self.spool.dir} and retrying"
            print(f"loupe: cannot reach {self.host}; {where}", file=original_stderr())

    def _on_deleted(self, r):
        if not self.deleted:
            self.deleted = True
            print(f"loupe: run {self.run_id} was deleted on the server; nothing more is sent or kept for it",
                  file=original_stderr())
        self.spool.clear()

    def _note_refusals(self, refused):
        for item in refused or []:
            self._lost += 1
            if len(self.refused) < _MAX_REFUSALS_KEPT:
                self.refused.append(item)
            key = item.get("key")
            if key not in self._refused_keys and len(self._refused_keys) < _MAX_REFUSALS_KEPT:
                self._refused_keys.add(key)
                print(f"loupe: the server refused {key!r}: {item.get('message')}; the rest was kept",
                      file=original_stderr())

    def _on_status(self, status):
        self._last_contact = time.time()
        self._warned_offline = False
        if status == "stopped" and not self.stopped:
            self.stopped = True
            if self._stop_behavior == "interrupt" and not self.finished:
                if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                    _thread.interrupt_main()
                else:
                    # SIGINT is ignored (a script started with `&` or nohup) or handled by
                    # the script: interrupting would do nothing, so log() raises instead.
                    self._stop_pending = True
                    print(f"loupe: run {self.run_id} was stopped from the dashboard; it ends at its next "
                          "log() call", file=original_stderr())

    def _excepthook(self, exc_type, exc, tb):
        if not (exc_type is KeyboardInterrupt and self.stopped):
            self._failed = True
            self._error = _traceback_text(exc_type, exc, tb)
        self._prev_excepthook(exc_type, exc, tb)

    def _on_sigterm(self, signum, frame):
        # Unwinds the main thread (releasing whatever locks it holds); the exit then
        # finishes the run, and the process ends with the status SIGTERM would give.
        self._terminated = True
        if not self.finished:
            print(f"loupe: SIGTERM: finishing run {self.run_id} as stopped", file=original_stderr())
        raise SystemExit(128 + signum)

    def _at_exit(self):
        if not self.finished:
            stopped = self.stopped or self._terminated
            self.finish("stopped" if stopped else ("crashed" if self._failed else "finished"))


def _traceback_text(exc_type, exc, tb):
    """The traceback Python prints for an uncaught exception, kept within the server's
    limit: its start and, above all, its end (where the error is)."""
    import traceback
    text = clean_text("".join(traceback.format_exception(exc_type, exc, tb)).rstrip("\n"))
    data = text.encode("utf-8")
    if len(data) <= _MAX_ERROR_BYTES:
        return text
    head = data[:4096].decode("utf-8", "ignore")
    tail = data[-(_MAX_ERROR_BYTES - 4096 - 64):].decode("utf-8", "ignore")
    return head + "\n... (traceback shortened) ...\n" + tail


def _console_records(lines):
    """Console lines in records within the server's line count and body size limits."""
    cur, size = [], 0
    for line in lines:
        cost = len(json.dumps(line["text"])) + 64
        if cur and (len(cur) >= _MAX_LINES_PER_RECORD or size + cost > _MAX_CONSOLE_RECORD_BYTES):
            yield cur
            cur, size = [], 0
        cur.append(line)
        size += cost
    if cur:
        yield cur


def _jsonable(obj):
    """Config values the JSON encoder can take: numbers, strings, lists, dicts; others as str."""
    if isinstance(obj, dict):
        return {clean_text(str(k)): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, str):
        return clean_text(obj)
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if hasattr(obj, "item") and callable(obj.item):
        try:
            return _jsonable(obj.item())
        except (TypeError, ValueError):
            pass
    return clean_text(str(obj))
