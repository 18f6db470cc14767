"""Captures stdout and stderr into the run's console log while still printing them."""
import sys
import threading


class _Tee:
    def __init__(self, original, stream, sink):
        self._original = original
        self._stream = stream
        self._sink = sink
        self._partial = ""
        self._lock = threading.Lock()

    def write(self, text):
        n = self._original.write(text)
        with self._lock:
            self._partial += text
            *lines, self._partial = self._partial.split("\n")
        for line in lines:
            self._sink(self._stream, line.rstrip("\r"))
        return n

    def flush(self):
        self._original.flush()

    def drain(self):
        with self._lock:
            rest, self._partial = self._partial, ""
        if rest:
            self._sink(self._stream, rest)

    def __getattr__(self, name):
        return getattr(self._original, name)


class ConsoleCapture:
    def __init__(self, sink):
        self._sink = sink
        self._out = self._err = None

    def start(self):
        self._out = _Tee(sys.stdout, "stdout", self._sink)
        self._err = _Tee(sys.stderr, "stderr", self._sink)
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

