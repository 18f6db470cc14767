"""Captures stdout and stderr into the run's console log while still printing them.

A line is what a terminal would show for it: a "\\r" (a progress bar redrawing itself)
starts the line over, so only the text after the last "\\r" is kept, and a "\\r" just
before the "\\n" is a line ending, not a reset. Work per write is proportional to the
text written, and a line without a newline is cut every `max_line` characters, so a
script printing endless progress updates costs neither time nor memory.
"""
import sys
import threading

MAX_LINE = 65536  # characters; the server takes lines of up to 65,536 bytes


class _Tee:
    def __init__(self, original, stream, sink, max_line=MAX_LINE):
        self._original = original
        self._stream = stream
        self._sink = sink
        self._max_line = max_line
        self._chunks = []         # the current line since its last "\r"
        self._partial_len = 0     # total length of _chunks, at most max_line
        self._cr = False          # the text so far ended with "\r": a reset, unless "\n" follows
        self._lock = threading.Lock()

    def write(self, text):
        n = self._original.write(text)
        done = []
        with self._lock:
            *ended, rest = text.split("\n")
            for piece in ended:
                self._add(piece, done)
                done.append(self._take())
            self._add(rest, done)
        for line in done:
            self._sink(self._stream, line)
        return n

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
                done.append(self._take())

    def _take(self):
        line = "".join(self._chunks)
        self._chunks, self._partial_len, self._cr = [], 0, False
        return line

    def flush(self):
        self._original.flush()

    def drain(self):
        with self._lock:
            rest = self._take()
        if rest:
            self._sink(self._stream, rest)

    def __getattr__(self, name):
        return getattr(self._original, name)


class ConsoleCapture:
    def __init__(self, sink, max_line=MAX_LINE):
        self._sink = sink
        self._max_line = max_line
        self._out = self._err = None

    def start(self):
        self._out = _Tee(sys.stdout, "stdout", self._sink, self._max_line)
        self._err = _Tee(sys.stderr, "stderr", self._sink, self._max_line)
        sys.stdout, sys.stderr = self._out, self._err

    def stop(self):
        for tee, name in ((self._out, "stdout"), (self._err, "stderr")):
            if tee is None:
                continue
            tee.drain()
            if getattr(sys, name) is tee:
                setattr(sys, name, tee._original)


def original_stderr():
    err = sys.stderr
    return err._original if isinstance(err, _Tee) else err
