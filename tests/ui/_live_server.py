"""Real servers for the concurrency and durability tests: uvicorn in a thread around an app
built in the test, or ``shopassist serve`` as a child process that a test can ``kill -9``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

__all__ = ["ServerProcess", "free_port", "serve_in_thread"]

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_for(url: str, ok: int, deadline: float, alive: Callable[[], bool]) -> None:
    while True:
        try:
            if httpx.get(url, timeout=5).status_code == ok:
                return
        except httpx.TransportError:
            pass
        assert alive(), f"the server died before {url} answered"
        assert time.monotonic() < deadline, f"{url} did not answer {ok} in time"
        time.sleep(0.05)


@contextmanager
def serve_in_thread(app: FastAPI, *, ready_path: str = "/healthz") -> Iterator[str]:
    """Serve ``app`` with a real uvicorn on a free loopback port; yields its base URL.

    ``ready_path`` is polled until it answers 200 (``/healthz`` for routes that need SQL only,
    ``/readyz`` for routes that need the loaded assistant).
    """
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url + ready_path, 200, time.monotonic() + 60, thread.is_alive)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=15)


class ServerProcess:
    """``shopassist serve`` in its own process group, on ``var``'s store, in rules mode.

    Args:
        var: The var directory (SQLite store, Chroma index) it serves.
        port: The port (default: a free one).
        env: Extra ``SHOPASSIST_*`` settings.
    """

    def __init__(self, var: Path, *, port: int | None = None, env: dict[str, str] | None = None):
        self.var = var
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = var / f"serve-{self.port}.log"
        self.env = {
            **os.environ,
            "SHOPASSIST_ENV": "dev",
            "SHOPASSIST_VAR_DIR": str(var),
            "SHOPASSIST_EMBEDDER": "use",
            "SHOPASSIST_LLM_BACKEND": "rules",
            **(env or {}),
        }
        if "SHOPASSIST_DATABASE_URL" not in (env or {}):
            self.env.pop("SHOPASSIST_DATABASE_URL", None)  # the var dir's SQLite store
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def store_url(self) -> str:
        """The SQLAlchemy URL of the store it serves."""
        url = self.env.get("SHOPASSIST_DATABASE_URL")
        return url or f"sqlite:///{(self.var / 'shopassist.db').resolve()}"

    def start(self, timeout_s: float = 120.0, *, ready_path: str = "/readyz") -> ServerProcess:
        """Start it and wait until ``ready_path`` answers 200: ``/readyz`` (the assistant is
        loaded) or ``/healthz`` (serving; enough for routes that need SQL only)."""
        command = [
            str(Path(sys.executable).with_name("shopassist")),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-start-llm",
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
                command,
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_for(self.url + ready_path, 200, time.monotonic() + timeout_s, self._alive_or_report)
        return self

    def _alive_or_report(self) -> bool:
        if self.process is not None and self.process.poll() is None:
            return True
        tail = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
        raise AssertionError(f"shopassist serve exited early; its log ends:\n{tail}")

    def kill(self) -> None:
        """``kill -9`` it (no graceful shutdown, no flushing), and reap it."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """Stop it gracefully (SIGTERM), or kill it after 20 s."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()
