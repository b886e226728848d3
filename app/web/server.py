"""Serving the web app with uvicorn: in the foreground (`rectify web`) or in a thread
beside `rectify serve`'s scheduler (RECTIFY_SERVE_WEB).

The socket is bound here, before uvicorn runs, so a taken port is one line
(ServiceUnavailable) rather than uvicorn's log and exit. The app's own
loggers (`rectify.web…`: sign-in refusals, incidents) go where uvicorn's go.
"""
from __future__ import annotations

import copy
import signal
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass

from services.core.runtime import Runtime
from statemachine.errors import ServiceUnavailable

__all__ = ["Listening", "listen", "run", "start_beside"]


def _log_config() -> dict:
    from uvicorn.config import LOGGING_CONFIG

    cfg = copy.deepcopy(LOGGING_CONFIG)
    cfg["loggers"]["rectify"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return cfg


def _server_class():
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, but a SIGTERM or Ctrl-C is the way to stop it, and the process
        then exits 0 (uvicorn re-raises the signal after shutting down: exit -15)."""

        @contextmanager
        def capture_signals(self):
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            before = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in before.items():
                    signal.signal(sig, handler)

    return Server


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto named: asyncio sets TCP_NODELAY only on accepted sockets whose proto says TCP;
    # without it every answer on a kept-alive connection waited ~40 ms (Nagle, delayed ACK)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise ServiceUnavailable(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    sock.set_inheritable(True)
    return sock


@dataclass
class Listening:
    """A uvicorn server of one app and the socket it serves on."""

    server: object
    sock: socket.socket
    thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def run(self) -> None:
        """Serve in this thread until SIGINT or SIGTERM (the main thread), or stop()."""
        try:
            self.server.run(sockets=[self.sock])
        finally:
            self.sock.close()

    def start(self, *, ready_within: float = 30) -> "Listening":
        """Serve in a thread; returns once it answers."""
        self.thread = threading.Thread(target=self.run, name="rectify-web", daemon=True)
        self.thread.start()
        ready = threading.Event()
        for _ in range(int(ready_within / 0.05)):
            if self.server.started or not self.thread.is_alive():
                break
            ready.wait(0.05)
        if not self.server.started:
            self.stop()
            raise ServiceUnavailable(f"the web app did not start on port {self.port}")
        return self

    def stop(self, timeout: float = 15) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout)


def listen(runtime: Runtime, *, app=None, port: int | None = None) -> Listening:
    """The app of `runtime` (checked: no secret key, no app) bound to its web_host and
    web_port (0: any free port), not serving yet."""
    import uvicorn

    from .app import create_app

    s = runtime.settings
    app = app or create_app(runtime)
    sock = _bind(s.web_host, s.web_port if port is None else port)
    config = uvicorn.Config(app, proxy_headers=True, forwarded_allow_ips="127.0.0.1", server_header=False,
                            log_config=_log_config(), timeout_graceful_shutdown=10, lifespan="off")
    return Listening(_server_class()(config), sock)


def run(runtime: Runtime) -> None:
    listen(runtime).run()


def start_beside(runtime: Runtime) -> Listening:
    return listen(runtime).start()
