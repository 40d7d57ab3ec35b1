"""A small OpenAI-compatible chat server with scripted replies, for deterministic LLM tests.

It speaks just enough of ``POST /v1/chat/completions`` (plain and ``stream: true``
server-sent events) for the real ``openai`` client under llama-index's ``OpenAILike``.
Each request is answered by ``StubServer.script(request_json)``, which returns a
:class:`Reply`: the text, a delay, an HTTP status, a finish reason, a pause between
streamed tokens. The server records every request, the most requests it had in flight at
once, and whether a streaming client hung up before the end.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


@dataclass
class Reply:
    """What the stub answers to one request."""

    text: str = ""
    delay_s: float = 0.0
    status: int = 200
    finish_reason: str = "stop"
    #: Pause between streamed tokens (one token per character group of ``token_chars``).
    token_delay_s: float = 0.0
    token_chars: int = 2
    #: Raw body for an error status (defaults to OpenAI's error JSON).
    body: str | None = None


@dataclass
class StubServer:
    """State shared with the handler; ``url`` is the ``/v1`` base URL."""

    url: str = ""
    script: Callable[[dict], Reply] = lambda request: Reply("")
    requests: list[dict] = field(default_factory=list)
    headers: list[dict] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    #: Streams the client closed before the last token: (tokens sent, time).
    hung_up: list[tuple[int, float]] = field(default_factory=list)
    completed_streams: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self, script: Callable[[dict], Reply]) -> None:
        """A new script, with the records cleared."""
        with self._lock:
            self.script = script
            self.requests.clear()
            self.headers.clear()
            self.in_flight = self.max_in_flight = self.completed_streams = 0
            self.hung_up.clear()


def _chunk(content: str | None, finish: str | None) -> bytes:
    delta = {"role": "assistant", "content": content} if content is not None else {}
    data = {"id": "stub", "object": "chat.completion.chunk", "created": int(time.time()), "model": "stub",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def make_handler(state: StubServer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            pass

        def _send_json(self, status: int, payload: dict | str) -> None:
            body = payload.encode() if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            request = json.loads(self.rfile.read(length) or b"{}")
            with state._lock:
                state.requests.append(request)
                state.headers.append(dict(self.headers))
                state.in_flight += 1
                state.max_in_flight = max(state.max_in_flight, state.in_flight)
            try:
                reply = state.script(request)
                time.sleep(reply.delay_s)
                if reply.status != 200:
                    self._send_json(reply.status, reply.body if reply.body is not None else
                                    {"error": {"message": f"stub error {reply.status}", "type": "server_error"}})
                    return
                if request.get("stream"):
                    self._stream(reply)
                    return
                self._send_json(200, {
                    "id": "stub", "object": "chat.completion", "created": int(time.time()), "model": "stub",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.text},
                                 "finish_reason": reply.finish_reason}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})
            finally:
                with state._lock:
                    state.in_flight -= 1

        def _stream(self, reply: Reply) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            n = reply.token_chars
            tokens = [reply.text[i:i + n] for i in range(0, len(reply.text), n)]
            sent = 0
            try:
                for tok in tokens:
                    self.wfile.write(_chunk(tok, None))
                    self.wfile.flush()
                    sent += 1
                    time.sleep(reply.token_delay_s)
                self.wfile.write(_chunk(None, reply.finish_reason))
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                with state._lock:
                    state.completed_streams += 1
            except (BrokenPipeError, ConnectionResetError):
                with state._lock:
                    state.hung_up.append((sent, time.time()))

    return Handler


def start_stub() -> tuple[StubServer, ThreadingHTTPServer]:
    """Start a stub on a free loopback port; stop it with ``server.shutdown()``."""
    state = StubServer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return state, server
