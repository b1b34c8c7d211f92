"""The one shared embedded LLM server: llama.cpp's own server (xllamacpp) on 127.0.0.1.

``shopassist llm serve`` (or ``python -m assistant.llm.server``) runs it in the foreground:
one process per ``var_dir`` (``<var_dir>/llm.lock`` is held while it runs), serving the bundled
GGUF (:mod:`assistant.llm.model`) with the OpenAI-compatible ``/v1/models`` and
``/v1/chat/completions`` (streaming, ``response_format`` json_schema). Once it answers it writes
``<var_dir>/llm.json`` (base URL, port, pid, model id) and removes it on exit (Ctrl-C, SIGTERM).

:func:`ensure_server` is how everyone else finds it: the base URL of a running server, or with
``start=True`` a new one started detached in the background (its log goes to
``<var_dir>/llm.log``). It never raises: when no server can be had it logs why and returns
``None``, and the caller answers with rules.

Example:
    >>> from assistant.config import Settings
    >>> from assistant.llm.server import ensure_server
    >>> ensure_server(Settings(), start=True)  # doctest: +SKIP
    'http://127.0.0.1:41233/v1'
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
from filelock import FileLock, Timeout

from assistant.config import Settings, get_settings
from assistant.errors import LLMError
from assistant.llm.model import QWEN_0_5B, ModelSpec, ensure_model

__all__ = [
    "ServerInfo",
    "ensure_server",
    "read_server_info",
    "run_server",
    "server_answers",
    "state_path",
]

logger = logging.getLogger("assistant.llm.server")  # the same name under `python -m`

HOST = "127.0.0.1"
N_CTX = 2048


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """What ``<var_dir>/llm.json`` says about the running server."""

    base_url: str
    port: int
    pid: int
    model: str

    def to_json(self) -> dict[str, Any]:
        """The ``llm.json`` object."""
        return {"base_url": self.base_url, "port": self.port, "pid": self.pid, "model": self.model}


def state_path(settings: Settings) -> Path:
    """``<var_dir>/llm.json``: where the running server says where it listens."""
    return settings.var_dir / "llm.json"


def read_server_info(settings: Settings) -> ServerInfo | None:
    """The server that ``llm.json`` announces, or ``None`` (absent or unreadable).

    It is not checked: :func:`server_answers` tells whether it is really up.
    """
    try:
        raw = json.loads(state_path(settings).read_text(encoding="utf-8"))
        return ServerInfo(
            base_url=str(raw["base_url"]),
            port=int(raw["port"]),
            pid=int(raw["pid"]),
            model=str(raw["model"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def server_answers(base_url: str, timeout_s: float = 2.0) -> bool:
    """Whether an OpenAI-compatible server answers ``GET {base_url}/models`` with 200."""
    try:
        response = httpx.get(f"{base_url.rstrip('/')}/models", timeout=timeout_s)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def _threads() -> int:
    # llama.cpp is memory-bound past a few threads; more only slows the rest of the machine.
    return max(1, min(8, len(os.sched_getaffinity(0))))


def _params(gguf: Path, spec: ModelSpec, port: int, threads: int) -> Any:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(gguf)
    params.model_alias = {spec.alias}  # a set of names: a bare str would become its letters
    params.n_ctx = N_CTX
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.hostnames = [HOST]
    params.port = port
    params.offline = True  # never reach a model hub
    params.ui = False
    params.verbosity = 0
    return params


def run_server(
    settings: Settings,
    *,
    port: int = 0,
    threads: int | None = None,
    spec: ModelSpec = QWEN_0_5B,
    on_ready: Callable[[ServerInfo], None] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Run the embedded server in this process until SIGINT/SIGTERM (or ``stop`` is set).

    Args:
        settings: Its ``var_dir`` holds the model, ``llm.json`` and the instance lock.
        port: TCP port on 127.0.0.1; 0 picks a free one (``llm.json`` tells which).
        threads: CPU threads for generation and prompt processing (default: the CPUs this
            process may use, at most 8).
        spec: The model to serve.
        on_ready: Called once the server answers, with what ``llm.json`` now holds.
        stop: Set it to stop the server from another thread (tests); signals work without it.

    Raises:
        LLMError: Another server runs on this ``var_dir``, the model cannot be assembled, or
            the server fails to start (e.g. the port is taken).
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(settings.var_dir / "llm.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        running = read_server_info(settings)
        where = f" at {running.base_url} (pid {running.pid})" if running else ""
        raise LLMError(
            f"an embedded LLM server already runs for {settings.var_dir}{where}; "
            "use it, or stop it first"
        ) from None
    try:
        _serve_locked(settings, port, threads or _threads(), spec, on_ready, stop)
    finally:
        lock.release()


def _serve_locked(
    settings: Settings,
    port: int,
    threads: int,
    spec: ModelSpec,
    on_ready: Callable[[ServerInfo], None] | None,
    stop: threading.Event | None,
) -> None:
    gguf = ensure_model(settings.var_dir, spec)
    import xllamacpp

    started = time.perf_counter()
    try:
        server = xllamacpp.Server(_params(gguf, spec, port, threads))
    except Exception as exc:  # the binding raises plain RuntimeError/ValueError
        raise LLMError(f"the embedded LLM server did not start on {HOST}:{port}: {exc}") from exc
    address = str(server.listening_address).rstrip("/")
    info = ServerInfo(
        base_url=f"{address}/v1",
        port=int(address.rsplit(":", 1)[1]),
        pid=os.getpid(),
        model=spec.alias,
    )
    if not server_answers(info.base_url, timeout_s=10.0):
        del server
        raise LLMError(f"the embedded LLM server at {info.base_url} does not answer /v1/models")
    state = state_path(settings)
    tmp = state.with_name(f"{state.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(info.to_json()), encoding="utf-8")
    os.replace(tmp, state)
    logger.info(
        "embedded LLM %s ready at %s in %.1f s (%d threads, pid %d)",
        spec.alias,
        info.base_url,
        time.perf_counter() - started,
        threads,
        info.pid,
    )
    stop = stop or threading.Event()
    previous = _on_sigterm(stop)
    try:
        if on_ready is not None:
            on_ready(info)
        while not stop.wait(0.5):
            pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if read_server_info(settings) == info:
            with contextlib.suppress(FileNotFoundError):
                state.unlink()
        del server  # waits for llama.cpp's loop to exit
        logger.info("embedded LLM server at %s stopped", info.base_url)


def _on_sigterm(stop: threading.Event) -> Any:
    """Make SIGTERM stop the loop like Ctrl-C does; only possible in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    return signal.signal(signal.SIGTERM, handler)


def ensure_server(
    settings: Settings, *, start: bool = False, timeout_s: float = 60.0
) -> str | None:
    """The base URL (``http://127.0.0.1:PORT/v1``) of the running embedded server, or ``None``.

    Args:
        settings: Its ``var_dir`` says which server (``llm.json``).
        start: When none answers, start one detached (``python -m assistant.llm.server``) and
            wait for it; without it, only a server that already runs is used.
        timeout_s: How long to wait for a started server (the model loads in about 2 s; the
            first start also assembles the GGUF).

    Returns:
        The base URL, or ``None`` with the reason logged; never raises.
    """
    try:
        return _ensure_server(settings, start, timeout_s)
    except Exception as exc:  # the caller falls back to rules; it must not crash
        logger.warning("the embedded LLM server is unavailable: %s", exc)
        return None


def _running(settings: Settings) -> str | None:
    info = read_server_info(settings)
    if info is not None and server_answers(info.base_url):
        return info.base_url
    return None


def _ensure_server(settings: Settings, start: bool, timeout_s: float) -> str | None:
    if url := _running(settings):
        return url
    if not start:
        logger.info(
            "no embedded LLM server is running for %s; start one with `shopassist llm serve`",
            settings.var_dir,
        )
        return None
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout_s
    # One starter at a time: a second caller waits here, then finds the first one's server.
    try:
        with FileLock(str(settings.var_dir / "llm.start.lock"), timeout=timeout_s):
            if url := _running(settings):
                return url
            return _start_and_wait(settings, deadline)
    except Timeout:
        logger.warning("another process has been starting the embedded LLM for %.0f s", timeout_s)
        return None


def _start_and_wait(settings: Settings, deadline: float) -> str | None:
    var_dir = settings.var_dir.resolve()
    log_path = var_dir / "llm.log"
    env = {**os.environ, "SHOPASSIST_VAR_DIR": str(var_dir), "HF_HUB_OFFLINE": "1"}
    with log_path.open("ab") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "assistant.llm.server"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # detached: outlives this process and its Ctrl-C
        )
    logger.info("starting the embedded LLM server (pid %d, log %s)", child.pid, log_path)
    while time.monotonic() < deadline:
        info = read_server_info(settings)
        if info is not None and server_answers(info.base_url):
            return info.base_url
        code = child.poll()
        if code is not None and _instance_lock_held(settings):
            time.sleep(0.1)  # ours lost the race to a `shopassist llm serve` still loading
            continue
        if code is not None:
            logger.warning(
                "the embedded LLM server exited with status %d before it was ready: %s",
                code,
                _last_line(log_path),
            )
            return None
        time.sleep(0.1)
    logger.warning(
        "the embedded LLM server was not ready within the timeout; stopping it (log: %s)", log_path
    )
    child.terminate()
    return None


def _instance_lock_held(settings: Settings) -> bool:
    lock = FileLock(str(settings.var_dir / "llm.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return True
    lock.release()
    return False


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return lines[-1] if lines else "(empty log)"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m assistant.llm.server [--port N]``: what ``shopassist llm serve`` runs."""
    parser = argparse.ArgumentParser(
        prog="python -m assistant.llm.server",
        description="Run the shared embedded LLM server in the foreground (Ctrl-C stops it).",
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: free)")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        run_server(get_settings(), port=args.port)
    except LLMError as exc:
        logger.error("%s", exc)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
