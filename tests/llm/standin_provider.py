"""A STAND-IN model provider for Loupe's tests: not a model, and never used outside tests.

It speaks the two wire protocols Loupe calls, as the real services do, so the tests need
no internet: OpenAI chat completions (POST /v1/chat/completions, whole or streamed as
server-sent `chat.completion.chunk`s ending in `data: [DONE]`, with the usage chunk of
`stream_options.include_usage`) and GET /v1/models; and Anthropic's Messages API (POST
/v1/messages, whole or streamed as message_start / content_block_* / message_delta /
message_stop events, with `ping`s) and its GET /v1/models. Wrong keys get each
provider's 401 body.

Answers are deterministic: "<model> heard: <the last user message>", one token a word.
Directives in the last user message make it fail the way real providers fail:
  #fail:429x2   answer 429 (Retry-After: 1) to the first 2 calls with this prompt
  #fail:500x1   answer 500 to the first call with this prompt (any status works)
  #echokey      such a failure's message quotes the key the call carried (as some
                proxies and self-hosted servers do); #echokey:pad puts 280 x's before
                it, so that an excerpt of 300 bytes cuts the key
  #drop         stream two tokens, then close the connection mid-answer
  #malformed    stream a chunk that is not JSON
  #hang         stream one token, then send nothing more (until the client gives up)
  #slow:50      wait 50 ms before each token
  #stamp        (streamed chat completions) each token is the time it was sent, in
                nanoseconds of CLOCK_MONOTONIC (shared by the processes of one machine),
                so a benchmark can time every token's trip
  #nousage      report no usage at all
  #truncate     (whole answers) send half of the JSON body
Judge mode: a call whose system prompt is Loupe's judge's ("You are an impartial judge")
is answered with the JSON verdict Loupe asks for, scoring every criterion the system
prompt lists ("- name (min to max): ...") at max - 2, with a reason. Directives anywhere
in the judge's user message (the judged conversation carries them):
  #score:N      every criterion scored N (outside the scale too: for the strict reading)
  #judgebad     a reply that is not JSON; #judgebad:1 only the first judge call of this
                user message, so the retry gets a verdict
  #judgefence   the verdict inside a ```json fence, as chat models often write it
GET /_standin/requests returns the calls received (method, path, headers, body) and
DELETE /_standin/requests forgets them.

Run: python3 standin_provider.py [--port 0] [--key KEY] — prints "PORT <n>" when ready.
"""
import argparse
import json
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = {"key": "sk-standin", "requests": [], "failures": {}, "judged": {}, "lock": threading.Lock()}


def words_of(text):
    return [w for w in re.split(r"\s+", text) if w]


def answer_for(model, messages):
    last = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
    if isinstance(last, list):  # content parts
        last = " ".join(p.get("text", "") for p in last if isinstance(p, dict))
    clean = re.sub(r"#\S+", "", last).strip()
    return f"{model} heard: {clean}", last


JUDGE_SYSTEM = "You are an impartial judge"


def judge_reply(system, prompt):
    """The stand-in judge's reply to Loupe's judge prompt (see the module's docstring)."""
    criteria = re.findall(r"^- ([a-z_]+) \(([-0-9.]+) to ([-0-9.]+)\):", system, re.M)
    with STATE["lock"]:
        n = STATE["judged"].get(prompt, 0) + 1
        STATE["judged"][prompt] = n
    bad = re.search(r"#judgebad(?::(\d+))?", prompt)
    if bad and (bad.group(1) is None or n <= int(bad.group(1))):
        return "I would rate this answer highly overall, about eight out of ten."
    fixed = re.search(r"#score:(-?\d+(?:\.\d+)?)", prompt)
    verdict = {"criteria": {}, "reasoning": "The stand-in judge's verdict."}
    for name, _lo, hi in criteria:
        score = float(fixed.group(1)) if fixed else float(hi) - 2
        score = int(score) if score == int(score) else score
        verdict["criteria"][name] = {"score": score, "reasoning": f"{name} scored {score} by the stand-in."}
    text = json.dumps(verdict)
    return "```json " + text + " ```" if "#judgefence" in prompt else text


def system_of(req, messages):
    if isinstance(req.get("system"), str):
        return req["system"]
    first = messages[0] if messages else {}
    return first.get("content", "") if first.get("role") == "system" and isinstance(first.get("content"), str) else ""


def prompt_tokens(messages, system=""):
    n = len(words_of(system)) if isinstance(system, str) else 0
    for m in messages:
        c = m.get("content", "")
        n += len(words_of(c if isinstance(c, str) else json.dumps(c)))
    return n


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        # As production HTTP servers do: small SSE chunks go out at once, not after the
        # client's delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away (cancelled, timed out)

    # --- plumbing -------------------------------------------------------------------
    def send_json(self, status, obj, headers=None, truncate=False):
        body = json.dumps(obj).encode()
        if truncate:
            body = body[: len(body) // 2]
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body) if not truncate else len(body) * 2))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        if truncate:
            self.close_connection = True

    # Streams go out with chunked transfer encoding, as the real providers send them, so a
    # connection dropped mid-answer is a broken body, not a short one.
    def start_stream(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def sse(self, data, event=None):
        out = ""
        if event:
            out += f"event: {event}\n"
        out += f"data: {data}\n\n"
        raw = out.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(raw), raw))
        self.wfile.flush()

    def end_stream(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def drop(self):
        self.wfile.flush()
        self.connection.shutdown(2)
        self.close_connection = True

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        with STATE["lock"]:
            STATE["requests"].append({"method": self.command, "path": self.path,
                                      "headers": {k.lower(): v for k, v in self.headers.items()},
                                      "body": raw.decode("utf-8", "replace")})
        return raw

    def anthropic(self):
        return "anthropic-version" in {k.lower() for k in self.headers.keys()} or self.path.startswith("/v1/messages")

    def authorised(self):
        if self.anthropic():
            if self.headers.get("x-api-key") == STATE["key"]:
                return True
            self.send_json(401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}})
            return False
        if self.headers.get("Authorization") == "Bearer " + STATE["key"]:
            return True
        given = (self.headers.get("Authorization") or "").replace("Bearer ", "")
        self.send_json(401, {"error": {"message": f"Incorrect API key provided: {given[:3]}***{given[-4:]}.",
                                       "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}})
        return False

    def injected_failure(self, prompt):
        m = re.search(r"#fail:(\d{3})x(\d+)", prompt)
        if not m:
            return False
        status, times = int(m.group(1)), int(m.group(2))
        with STATE["lock"]:
            seen = STATE["failures"].get(prompt, 0)
            STATE["failures"][prompt] = seen + 1
        if seen >= times:
            return False
        headers = {"Retry-After": "1"} if status == 429 else {}
        message = f"stand-in failure {status}"
        if "#echokey" in prompt:
            key = self.headers.get("x-api-key") or (self.headers.get("Authorization") or "").replace("Bearer ", "")
            message = ("x" * 280 if "#echokey:pad" in prompt else message + " for key ") + key
        if self.anthropic():
            kind = {429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
            self.send_json(status, {"type": "error", "error": {"type": kind, "message": message}}, headers)
        else:
            self.send_json(status, {"error": {"message": message, "type": "server_error" if status >= 500 else "rate_limit_exceeded", "param": None, "code": None}}, headers)
        return True

    # --- routes ---------------------------------------------------------------------
    def do_GET(self):
        if self.path == "/_standin/requests":
            with STATE["lock"]:
                return self.send_json(200, STATE["requests"])
        self.read_body()
        if self.path.rstrip("/") == "/v1/models":
            if not self.authorised():
                return
            if self.anthropic():
                return self.send_json(200, {"data": [{"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"} for m in ("claude-standin", "claude-standin-2")],
                                            "has_more": False, "first_id": "claude-standin", "last_id": "claude-standin-2"})
            return self.send_json(200, {"object": "list", "data": [{"id": m, "object": "model", "created": 1700000000, "owned_by": "standin"} for m in ("gpt-standin", "tuned-standin")]})
        self.send_json(404, {"error": {"message": "Not found", "type": "invalid_request_error"}})

    def do_DELETE(self):
        if self.path == "/_standin/requests":
            with STATE["lock"]:
                STATE["requests"].clear()
                STATE["failures"].clear()
            return self.send_json(200, {})
        self.send_json(404, {})

    def do_POST(self):
        raw = self.read_body()
        if self.path not in ("/v1/chat/completions", "/v1/messages"):
            return self.send_json(404, {"error": {"message": f"Unknown path {self.path}", "type": "invalid_request_error"}})
        if not self.authorised():
            return
        try:
            req = json.loads(raw)
        except ValueError:
            return self.send_json(400, {"error": {"message": "We could not parse the JSON body of your request.", "type": "invalid_request_error"}})
        model = req.get("model") or ""
        messages = req.get("messages") or []
        text, prompt = answer_for(model, messages)
        if self.injected_failure(prompt):
            return
        if system_of(req, messages).startswith(JUDGE_SYSTEM):
            text = judge_reply(system_of(req, messages), prompt)
        if self.path == "/v1/messages":
            return self.messages(req, model, messages, text, prompt)
        return self.completions(req, model, messages, text, prompt)

    def delay(self, prompt):
        m = re.search(r"#slow:(\d+)", prompt)
        if m:
            time.sleep(int(m.group(1)) / 1000)

    def completions(self, req, model, messages, text, prompt):
        tokens = [w + " " for w in words_of(text)]
        tokens[-1] = tokens[-1].rstrip()
        limit = req.get("max_tokens")
        finish = "stop"
        if isinstance(limit, int) and limit < len(tokens):
            tokens, finish = tokens[:limit], "length"
        usage = {"prompt_tokens": prompt_tokens(messages), "completion_tokens": len(tokens),
                 "total_tokens": prompt_tokens(messages) + len(tokens)}
        rid = "chatcmpl-standin"
        if not req.get("stream"):
            body = {"id": rid, "object": "chat.completion", "created": int(time.time()), "model": model,
                    "system_fingerprint": None,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(tokens), "refusal": None},
                                 "logprobs": None, "finish_reason": finish}]}
            if "#nousage" not in prompt:
                body["usage"] = usage
            return self.send_json(200, body, truncate="#truncate" in prompt)
        self.start_stream()
        include_usage = bool((req.get("stream_options") or {}).get("include_usage")) and "#nousage" not in prompt

        def chunk(delta, finish_reason=None):
            c = {"id": rid, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
                 "system_fingerprint": None, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]}
            if include_usage:
                c["usage"] = None
            return json.dumps(c)

        self.sse(chunk({"role": "assistant", "content": ""}))
        for i, t in enumerate(tokens):
            self.delay(prompt)
            if "#drop" in prompt and i == 2:
                return self.drop()
            if "#malformed" in prompt and i == 1:
                self.sse('{"id": "chatcmpl-standin", "choices": [')
                continue
            if "#hang" in prompt and i == 1:
                time.sleep(3600)
            if "#stamp" in prompt:
                t = f"{time.monotonic_ns()} "
            self.sse(chunk({"content": t}))
        self.sse(chunk({}, finish))
        if include_usage:
            self.sse(json.dumps({"id": rid, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
                                 "system_fingerprint": None, "choices": [], "usage": usage}))
        self.sse("[DONE]")
        self.end_stream()

    def messages(self, req, model, messages, text, prompt):
        tokens = [w + " " for w in words_of(text)]
        tokens[-1] = tokens[-1].rstrip()
        limit = req.get("max_tokens")
        if not isinstance(limit, int):
            return self.send_json(400, {"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: Field required"}})
        stop = "end_turn"
        if limit < len(tokens):
            tokens, stop = tokens[:limit], "max_tokens"
        p_tokens = prompt_tokens(messages, req.get("system", ""))
        mid = "msg_standin"
        if not req.get("stream"):
            body = {"id": mid, "type": "message", "role": "assistant", "model": model,
                    "content": [{"type": "text", "text": "".join(tokens)}], "stop_reason": stop, "stop_sequence": None,
                    "usage": {"input_tokens": p_tokens, "output_tokens": len(tokens)}}
            if "#nousage" in prompt:
                del body["usage"]
            return self.send_json(200, body, truncate="#truncate" in prompt)
        self.start_stream()
        start_usage = {"input_tokens": p_tokens, "output_tokens": 1}
        message = {"id": mid, "type": "message", "role": "assistant", "model": model, "content": [],
                   "stop_reason": None, "stop_sequence": None}
        if "#nousage" not in prompt:
            message["usage"] = start_usage
        self.sse(json.dumps({"type": "message_start", "message": message}), "message_start")
        self.sse(json.dumps({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}), "content_block_start")
        self.sse(json.dumps({"type": "ping"}), "ping")
        for i, t in enumerate(tokens):
            self.delay(prompt)
            if "#drop" in prompt and i == 2:
                return self.drop()
            if "#malformed" in prompt and i == 1:
                self.sse('{"type": "content_block_delta", "index": 0, "delta": {', "content_block_delta")
                continue
            if "#hang" in prompt and i == 1:
                time.sleep(3600)
            self.sse(json.dumps({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}}), "content_block_delta")
        self.sse(json.dumps({"type": "content_block_stop", "index": 0}), "content_block_stop")
        delta = {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}}
        if "#nousage" not in prompt:
            delta["usage"] = {"output_tokens": len(tokens)}
        self.sse(json.dumps(delta), "message_delta")
        self.sse(json.dumps({"type": "message_stop"}), "message_stop")
        self.end_stream()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--key", default="sk-standin")
    args = ap.parse_args()
    STATE["key"] = args.key
    ThreadingHTTPServer.request_queue_size = 256  # 64 concurrent streams must not wait for a SYN retry
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
