"""``python -m app serve``: one server, one port, for people and programs.

A FastAPI application holds the OpenAI-compatible API at ``/v1`` (:mod:`app.openai_api`)
and mounts the Gradio UI, with its documented API ``/ask`` and ``/ask_stream``
(:mod:`app.api`), at ``/``. Uvicorn serves it.

Binding beyond loopback is an explicit choice and needs credentials: the UI's login
(``ui.username``/``ui.password``, or ``ui.allow_anonymous``) and the API's bearer token
(``api.token``, or ``api.enabled: false``).
"""

from __future__ import annotations

import ipaddress
import logging
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .errors import AssistantError, ConfigError

log = logging.getLogger("app.server")


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def launch_options(config, host: str | None = None, port: int | None = None) -> dict[str, Any]:
    """Where and how to serve: ``server_name``, ``server_port`` and, beyond loopback, the
    UI's ``auth``. Raises ConfigError when binding beyond loopback without credentials."""
    host = host or config.ui.host
    opts: dict[str, Any] = {"server_name": host, "server_port": port or config.ui.port}
    if is_loopback(host):
        return opts
    if config.ui.username and config.ui.password:
        # The login travels in clear over plain HTTP: put TLS in front when exposed.
        opts["auth"] = (config.ui.username, config.ui.password)
    elif config.ui.allow_anonymous:
        log.warning("serving on %s without a login (ui.allow_anonymous is true)", host)
    else:
        raise ConfigError(
            f"serving on {host} would expose the assistant to the network without a login: set "
            "ui.username and ui.password (or RAG__UI__USERNAME / RAG__UI__PASSWORD), or set "
            "ui.allow_anonymous: true to serve without one")
    if config.api.enabled and not config.api.token:
        raise ConfigError(
            f"serving on {host} would expose the OpenAI-compatible API without a token: set api.token "
            "(or RAG__API__TOKEN), or set api.enabled: false")
    return opts


def create_app(assistant, opts: dict[str, Any] | None = None, config=None):
    """The FastAPI app: ``/v1`` (when ``api.enabled``) and the Gradio UI at ``/``.

    ``opts`` come from :func:`launch_options`; ``config`` overrides the assistant's own
    settings for the API section (tests serve one index with and without a token).
    """
    import fastapi
    import gradio as gr

    from .openai_api import openai_app
    from .ui import build_ui

    config = config or assistant.config
    opts = opts or launch_options(config)
    app = fastapi.FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    if config.api.enabled:
        app.mount("/v1", openai_app(assistant, config))
    demo = build_ui(assistant)
    demo.queue(default_concurrency_limit=1)
    app = gr.mount_gradio_app(app, demo, path="/", auth=opts.get("auth"), ssr_mode=False, show_error=False,
                              server_name=opts["server_name"], server_port=opts["server_port"])
    _bad_bodies_are_400(app.routes[-1].app)
    return app


def _bad_bodies_are_400(gradio_app) -> None:
    """A malformed body sent to the Gradio API (``/gradio_api/call/ask``: not JSON, no
    ``data`` list) is a client error: 400, the same as on ``/v1``, instead of FastAPI's 422.
    The body keeps FastAPI's ``detail`` list, which names the field."""
    from fastapi.encoders import jsonable_encoder
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    async def handler(request, exc: RequestValidationError):
        return JSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=400)

    gradio_app.add_exception_handler(RequestValidationError, handler)


class RunningServer:
    """A server running in a background thread (tests, benchmarks): ``url``, ``stop()``."""

    def __init__(self, app, host: str, port: int):
        import uvicorn

        self.url = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
        self._server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                                     timeout_graceful_shutdown=1))
        self._thread = threading.Thread(target=self._server.run, name="app-server", daemon=True)

    def start(self, timeout: float = 30.0) -> "RunningServer":
        """Start serving; returns when the socket accepts requests."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start on {self.url}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread (open event streams are cut after 1 s)."""
        self._server.should_exit = True
        self._thread.join(timeout=1)
        if self._thread.is_alive():  # e.g. a client still holds Gradio's heartbeat stream
            self._server.force_exit = True
            self._thread.join(timeout=15)


def start_in_thread(assistant, host: str = "127.0.0.1", port: int = 0, config=None,
                    auth: tuple[str, str] | None = None) -> RunningServer:
    """Serve ``assistant`` on ``host:port`` (0: a free port) in this process, with
    ``config`` (default: the assistant's) and, if given, the UI login ``auth``."""
    if port == 0:
        import socket

        with socket.socket() as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
    config = config or assistant.config
    opts = launch_options(config, host, port)
    if auth:
        opts["auth"] = auth
    return RunningServer(create_app(assistant, opts, config), host, port).start()


def serve(config_path: str | Path | None = None, host: str | None = None, port: int | None = None) -> None:
    """Load the config and index, then serve until Ctrl-C (exit 1 on a known error)."""
    import socket

    import uvicorn

    from .assistant import Assistant
    from .config import load_config

    try:
        config = load_config(config_path)
        opts = launch_options(config, host, port)
        assistant = Assistant(config)
        app = create_app(assistant, opts)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    host, port = opts["server_name"], opts["server_port"]
    # Bind before announcing, so a busy port is one clear line instead of a uvicorn trace.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        print(f"error: cannot serve on {host}:{port} ({exc}); pick another port with --port N", file=sys.stderr)
        raise SystemExit(1) from None
    shown = f"[{host}]" if ":" in host else host
    api = f"; OpenAI-compatible API at http://{shown}:{port}/v1" if config.api.enabled else ""
    print(f"Serving the assistant at http://{shown}:{port}/{api}  (Ctrl-C to stop)", flush=True)
    # Load lazily-built parts once the server listens and no question has come for 2 s
    # (never competing with a client's first question), rather than during a user's first.
    stop = threading.Event()
    warm = threading.Thread(target=assistant.warm_up, args=(stop, 2.0), name="warm-up", daemon=True)
    server = _server_class(on_started=warm.start)(uvicorn.Config(app, log_level="warning",
                                                                 timeout_graceful_shutdown=5))
    try:
        server.run(sockets=[sock])
    finally:
        # Never exit while the warm-up is inside the embedding engine (native code torn down
        # under a running thread can crash the exit); each step is about a second.
        stop.set()
        if warm.is_alive():
            warm.join(timeout=10)


def _server_class(on_started=None):
    import uvicorn

    class QuietExitServer(uvicorn.Server):
        """Ctrl-C or SIGTERM: shut down gracefully and return. (Stock uvicorn re-raises the
        signal once shut down, which cancels the app's lifespan task mid-wait and prints
        a traceback for an ordinary stop.) ``on_started`` runs once it listens."""

        async def startup(self, sockets=None) -> None:
            await super().startup(sockets=sockets)
            if on_started is not None and not self.should_exit:
                on_started()

        def handle_exit(self, sig, frame) -> None:
            super().handle_exit(sig, frame)
            self._captured_signals.clear()

    return QuietExitServer
