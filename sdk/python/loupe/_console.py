"""Captures what the script writes to stdout and stderr into the run's console log,
while the terminal still shows it.

Where the process's stdout and stderr are file descriptors 1 and 2 (a script run from a
shell, a Slurm job), capture happens at the file-descriptor level: each is replaced by
a pipe (a pseudo-terminal when it was a terminal, so progress bars and colours behave as
before) that a thread reads, forwarding every byte to where the output went before. So
it catches what Python-level capture misses: `logging` handlers set up before
`loupe.init()` (they hold the old `sys.stderr`), C extensions and subprocesses. Elsewhere
(a notebook, a replaced sys.stdout) it wraps sys.stdout and sys.stderr instead. Only one
run captures at the file-descriptor level at a time; others wrap.

A line is what a terminal would show for it: a "\\r" (a progress bar redrawing itself)
starts the line over, so only the text after the last "\\r" is kept, and a "\\r" just
before the "\\n" is a line ending, not a reset. Work per write is proportional to the
text written, and a line without a newline is cut every `max_line` characters, so a
script printing endless progress updates costs neither time nor memory.
"""
import atexit
import codecs
import os
import sys
import threading
import time

MAX_LINE = 65536  # characters; the server takes lines of up to 65,536 bytes


class _Lines:
    """Text in, complete lines out, by the rules above. Not thread-safe."""

    def __init__(self, max_line=MAX_LINE):
        self._max_line = max_line
        self._chunks = []         # the current line since its last "\r"
        self._partial_len = 0     # total length of _chunks, at most max_line
        self._cr = False          # the text so far ended with "\r": a reset, unless "\n" follows

    def feed(self, text, done):
        *ended, rest = text.split("\n")
        for piece in ended:
            self._add(piece, done)
            done.append(self.take())
        self._add(rest, done)

    def _add(self, piece, done):
        if not piece:
            return
        if self._cr:  # the "\r" that ended the last write was not part of "\r\n"
            self._chunks, self._partial_len = [], 0
        self._cr = piece.endswith("\r")
        if self._cr:
            piece = piece[:-1]
        cut = piece.rfind("\r")
        if cut >= 0:
            self._chunks, self._partial_len = [], 0
            piece = piece[cut + 1:]
        while piece:
            room = self._max_line - self._partial_len
            self._chunks.append(piece[:room])
            self._partial_len += min(len(piece), room)
            piece = piece[room:]
            if self._partial_len >= self._max_line:
                done.append(self.take())

    def take(self):
        line = "".join(self._chunks)
        self._chunks, self._partial_len, self._cr = [], 0, False
        return line


class _Tee:
    """A sys.stdout / sys.stderr stand-in that also hands complete lines to the sink."""

    def __init__(self, original, stream, sink, max_line=MAX_LINE):
        self._original = original
        self._stream = stream
        self._sink = sink
        self._lines = _Lines(max_line)
        self._lock = threading.Lock()

    def write(self, text):
        n = self._original.write(text)
        done = []
        with self._lock:
            self._lines.feed(text, done)
        for line in done:
            self._sink(self._stream, line)
        return n

    def flush(self):
        self._original.flush()

    def drain(self):
        with self._lock:
            rest = self._lines.take()
        if rest:
            self._sink(self._stream, rest)

    def __getattr__(self, name):
        return getattr(self._original, name)


class _FdPump:
    """Replaces file descriptor `fd` with a pipe (or pseudo-terminal) and forwards what
    arrives to a copy of the old one, handing complete lines to the sink."""

    def __init__(self, fd, stream, sink, max_line):
        self.fd = fd
        self._stream = stream
        self._sink = sink
        self._lines = _Lines(max_line)
        self._lock = threading.Lock()
        self._busy = False       # between reading a chunk and feeding its lines
        self._detached = False   # stopped with a child still writing: no more lines to the run
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.saved = os.dup(fd)          # restored at stop
        self._forward = os.dup(fd)       # the reader's own copy, closed when it ends
        read_end, write_end = self._open_channel(fd)
        self._read = read_end
        os.dup2(write_end, fd)
        os.close(write_end)
        self._thread = threading.Thread(target=self._pump, name=f"loupe-console-{stream}", daemon=True)
        self._thread.start()

    @staticmethod
    def _open_channel(fd):
        if os.isatty(fd):
            try:
                import pty  # noqa: PLC0415 (POSIX only; the pipe below works everywhere)
                master, slave = pty.openpty()
                try:
                    import fcntl  # noqa: PLC0415
                    import termios  # noqa: PLC0415
                    size = fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8)
                    fcntl.ioctl(slave, termios.TIOCSWINSZ, size)
                    attrs = termios.tcgetattr(slave)
                    attrs[1] &= ~termios.ONLCR  # keep "\n" as written; the terminal translates it
                    termios.tcsetattr(slave, termios.TCSANOW, attrs)
                except (ImportError, OSError):
                    pass
                return master, slave
            except OSError:
                pass
        return os.pipe()

    def _pump(self):
        while True:
            try:
                data = os.read(self._read, 65536)
            except OSError:  # a pseudo-terminal reports EIO once every writer is gone
                data = b""
            if not data:
                break
            with self._lock:
                self._busy = True
            view = memoryview(data)
            while view:
                try:
                    view = view[os.write(self._forward, view):]
                except OSError:
                    break  # the old output is gone (a closed terminal): keep capturing
            done = []
            with self._lock:
                self._lines.feed(self._decoder.decode(data), done)
                detached = self._detached
            if not detached:
                for line in done:
                    self._sink(self._stream, line)
            with self._lock:
                self._busy = False  # only now: stop() waits until these lines reached the run
        with self._lock:
            done = []
            self._lines.feed(self._decoder.decode(b"", final=True), done)
            rest = self._lines.take()
        if rest:
            done.append(rest)
        if not self._detached:
            for line in done:
                self._sink(self._stream, line)
        os.close(self._read)
        os.close(self._forward)

    def _pending(self):
        """Bytes written before the restore that the reader has not taken yet."""
        try:
            import fcntl  # noqa: PLC0415
            import termios  # noqa: PLC0415
            import struct  # noqa: PLC0415
            return struct.unpack("i", fcntl.ioctl(self._read, termios.FIONREAD, b"\0\0\0\0"))[0]
        except (ImportError, OSError):
            return 0

    def stop(self, timeout):
        os.dup2(self.saved, self.fd)  # closes the last write end but those of child processes
        os.close(self.saved)
        # Everything written before the restore is the run's: wait (up to `timeout`) until
        # the reader has taken and forwarded it, however slowly the terminal drains.
        deadline = time.monotonic() + timeout
        while self._thread.is_alive() and time.monotonic() < deadline:
            with self._lock:
                busy = self._busy
            if not busy and self._pending() == 0:
                break
            time.sleep(0.01)
        self._thread.join(min(0.2, max(0.0, deadline - time.monotonic())))
        if self._thread.is_alive():
            # A child process holds the old descriptor, so the pipe stays open: the line
            # in progress is the run's; what comes later reaches the terminal only.
            with self._lock:
                rest = self._lines.take()
                self._detached = True
            if rest:
                self._sink(self._stream, rest)
            _outliving.append(self)

    def forward_in_child(self):
        """At exit: a forked process copies what children still write to the terminal
        (otherwise they would get SIGPIPE once this process is gone)."""
        if os.fork() == 0:
            try:
                while True:
                    try:
                        data = os.read(self._read, 65536)
                    except OSError:
                        break
                    if not data:
                        break
                    try:
                        os.write(self._forward, data)
                    except OSError:
                        pass
            finally:
                os._exit(0)


_outliving = []  # pumps stopped while a child process still held their pipe


@atexit.register
def _hand_over_to_children():
    # Registered at import, so it runs after every run's own exit handler.
    for pump in _outliving:
        if pump._thread.is_alive():
            try:
                pump.forward_in_child()
            except OSError:
                pass
    if _terminal_stderr is not None:
        try:
            _terminal_stderr.close()
        except OSError:
            pass


_fd_capture_owner = None  # the ConsoleCapture that holds fds 1 and 2
_fd_lock = threading.Lock()
# Writes to the process's original stderr. Made once and never closed: the sender thread
# may be printing through it when a capture stops, and every capture restores fd 2 to
# the same place.
_terminal_stderr = None


def _terminal(saved_fd):
    global _terminal_stderr
    if _terminal_stderr is None:
        _terminal_stderr = os.fdopen(os.dup(saved_fd), "w", buffering=1, encoding="utf-8", errors="replace")
    return _terminal_stderr


def _uses_fds():
    """True when sys.stdout and sys.stderr write to file descriptors 1 and 2."""
    if "ipykernel" in sys.modules or os.name != "posix":
        return False
    try:
        return sys.stdout.fileno() == 1 and sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):
        return False


class ConsoleCapture:
    def __init__(self, sink, max_line=MAX_LINE):
        self._sink = sink
        self._max_line = max_line
        self._out = self._err = None
        self._pumps = []
        self.python_stderr = None  # sys.stderr when capture started: it writes to fd 2

    def start(self):
        global _fd_capture_owner
        with _fd_lock:
            if _fd_capture_owner is None and _uses_fds():
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                    self._pumps = [_FdPump(1, "stdout", self._sink, self._max_line),
                                   _FdPump(2, "stderr", self._sink, self._max_line)]
                except OSError:
                    for pump in self._pumps:
                        pump.stop(0)
                    self._pumps = []
                if self._pumps:
                    self.python_stderr = sys.stderr
                    _terminal(self._pumps[1].saved)
                    _fd_capture_owner = self
                    return
        self._out = _Tee(sys.stdout, "stdout", self._sink, self._max_line)
        self._err = _Tee(sys.stderr, "stderr", self._sink, self._max_line)
        sys.stdout, sys.stderr = self._out, self._err

    def stop(self, timeout=1.0):
        global _fd_capture_owner
        if self._pumps:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except (AttributeError, OSError, ValueError):
                    pass
            for pump in self._pumps:
                pump.stop(timeout)
            self._pumps = []
            with _fd_lock:
                if _fd_capture_owner is self:
                    _fd_capture_owner = None
            return
        for tee, name in ((self._out, "stdout"), (self._err, "stderr")):
            if tee is None:
                continue
            tee.drain()
            if getattr(sys, name) is tee:
                setattr(sys, name, tee._original)


def original_stderr():
    """Where the SDK's own messages go: stderr as it was before capture, so they reach
    the terminal without becoming part of the run's console log."""
    err = sys.stderr
    if isinstance(err, _Tee):
        return err._original
    owner = _fd_capture_owner
    if owner is not None and err is owner.python_stderr and _terminal_stderr is not None:
        return _terminal_stderr
    return err
