"""A lean streaming server for bench/chat_relay_bench.py: NOT a model and not the tests'
stand-in (tests/llm/standin_provider.py), only the least an OpenAI-compatible streamed
chat completion needs, in one asyncio process, so that 64 concurrent streams cost it
little CPU on a 2-core machine (the threaded stand-in took most of a core, and the
benchmark then measured the stand-in's queueing rather than Loupe's relaying).

Every POST is answered as a stream of TOKENS chunks, DELAY_MS apart, each token the
CLOCK_MONOTONIC time it was written in nanoseconds, then the finish chunk, a usage chunk
and `data: [DONE]`. Prints "PORT <n>" when ready.

With "keepalive" the body is chunked and the connection serves call after call, as real
providers' do; without, each answer ends by closing its connection.

Usage: python3 bench/lean_stream_server.py [TOKENS=40] [DELAY_MS=5] [keepalive]"""
import asyncio
import json
import socket
import sys
import time

TOKENS = int(sys.argv[1]) if len(sys.argv) > 1 else 40
DELAY = (int(sys.argv[2]) if len(sys.argv) > 2 else 5) / 1000
KEEPALIVE = len(sys.argv) > 3 and sys.argv[3] == "keepalive"


def chunk(delta, finish=None):
    return ("data: " + json.dumps({"id": "chatcmpl-lean", "object": "chat.completion.chunk", "created": 0,
                                   "model": "lean", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
            + "\n\n").encode()


def piece(data):
    """One HTTP/1.1 chunk of a chunked body (keep-alive mode)."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


async def serve(reader, writer):
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            # Keep-alive: the body is chunked, so the connection serves the next call (as
            # real providers' do); otherwise it ends the body by closing.
            wrap = piece if KEEPALIVE else (lambda data: data)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n" +
                         (b"Transfer-Encoding: chunked\r\n\r\n" if KEEPALIVE else b"Connection: close\r\n\r\n"))
            writer.write(wrap(chunk({"role": "assistant", "content": ""})))
            for _ in range(TOKENS):
                await asyncio.sleep(DELAY)
                writer.write(wrap(chunk({"content": f"{time.monotonic_ns()} "})))
            writer.write(wrap(chunk({}, "stop")))
            writer.write(wrap(("data: " + json.dumps({"id": "chatcmpl-lean", "object": "chat.completion.chunk", "choices": [],
                                                      "usage": {"prompt_tokens": 1, "completion_tokens": TOKENS,
                                                                "total_tokens": TOKENS + 1}}) + "\n\n").encode()))
            writer.write(wrap(b"data: [DONE]\n\n"))
            if KEEPALIVE:
                writer.write(b"0\r\n\r\n")
            await writer.drain()
            if not KEEPALIVE:
                break
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", 0, backlog=256)
    print("PORT", server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
