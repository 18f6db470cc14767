"""A stand-in for a bad network between the SDK and Loupe: an HTTP proxy that forwards
every request to the real server and then, when its policy says so, loses the answer.

    proxy = FaultyProxy(upstream_url, policy).start()
    policy(method, path) -> "pass" | "drop" | "truncate"

"drop" closes the connection after the server has applied the request (the
acknowledgement is lost); "truncate" sends the status line and headers with the real
Content-Length but only half of the body, then closes (http.client.IncompleteRead on
the client). Both are what a client sees when a connection dies mid-answer.
"""
import http.client
import http.server
import socketserver
import threading
import urllib.parse


class FaultyProxy:
    def __init__(self, upstream, policy):
        self.upstream = urllib.parse.urlparse(upstream)
        self.policy = policy
        self.counts = {"pass": 0, "drop": 0, "truncate": 0}
        self._lock = threading.Lock()
        self._server = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self):
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                action = proxy.policy(self.command, self.path)
                with proxy._lock:
                    proxy.counts[action] += 1
                try:
                    conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=60)
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    payload = resp.read()
                    conn.close()
                except OSError:
                    self.close_connection = True
                    return  # upstream down: the client sees a closed connection
                if action == "drop":
                    self.close_connection = True
                    return
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(payload[:len(payload) // 2] if action == "truncate" else payload)
                self.close_connection = True

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self._server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
