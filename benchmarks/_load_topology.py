"""The scale-out topology on real engines, started as separate processes on 127.0.0.1.

One fresh PostgreSQL schema (``SHOPASSIST_DATABASE_URL``), one Chroma server (``chroma run``,
``SHOPASSIST_CHROMA_URL``), optionally one OpenAI-compatible LLM server (the embedded
``shopassist llm serve``, used through ``SHOPASSIST_LLM_BACKEND=openai`` and
``SHOPASSIST_LLM_BASE_URL`` exactly as a vLLM server would be) and N ``shopassist serve``
workers that share all three. Used by ``benchmarks/load.py`` and ``tests/ui/test_scale_out.py``.

Every process runs in its own session (process group) and is stopped with it; the schema is
dropped on :meth:`Topology.close`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

__all__ = [
    "PG_ADMIN_URL",
    "SMALL_LEAVES",
    "Process",
    "Topology",
    "cpu_seconds",
    "free_port",
]

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get(
    "SHOPASSIST_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SMALL_LEAVES = (
    "shoes/running",
    "home/kitchen-knives",
    "home/coffee-makers",
    "sports/yoga-mats",
    "electronics/headphones",
    "apparel/jackets/down",
    "toys/ages-3-10",
)
"""Leaves of the small world (the quick run and the test): the sample turns' categories."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (``/proc/PID/stat``)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    # fields[0] is the state (field 3 of stat): utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Process:
    """One child process of the topology, its log in a file."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    url: str = ""

    @property
    def pid(self) -> int:
        """The process id."""
        return self.popen.pid

    def alive(self) -> bool:
        """Whether it still runs."""
        return self.popen.poll() is None

    def tail(self, chars: int = 3000) -> str:
        """The end of its log."""
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM its process group, SIGKILL after ``timeout_s``."""
        if not self.alive():
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=30)


@dataclass
class Topology:
    """The shared engines and the API workers on them.

    Args:
        root: A scratch directory (var dir, Chroma data, logs).
        jwt_secret: ``SHOPASSIST_JWT_SECRET`` of the workers (sign load-tier tokens with it).
        rate_limit_storage: ``SHOPASSIST_RATE_LIMIT_STORAGE``: the local Redis, so that every
            worker counts against one limit.
    """

    root: Path
    schema: str = field(default_factory=lambda: f"shopassist_load_{uuid.uuid4().hex[:12]}")
    processes: list[Process] = field(default_factory=list)
    workers: list[Process] = field(default_factory=list)
    chroma_url: str = ""
    llm_url: str = ""
    jwt_secret: str = field(default_factory=lambda: f"load-test-{uuid.uuid4().hex}")
    rate_limit_storage: str = "redis://127.0.0.1:6379/13"
    _schema_made: bool = False

    @property
    def var(self) -> Path:
        """The var directory the CLI commands share (logs, the LLM's model and llm.json)."""
        return self.root / "var"

    @property
    def database_url(self) -> str:
        """``SHOPASSIST_DATABASE_URL``: the test database with ``search_path`` on our schema."""
        return f"{PG_ADMIN_URL}?options={quote(f'-csearch_path={self.schema}')}"

    def env(self, **extra: str) -> dict[str, str]:
        """The environment every command of the topology runs with."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("SHOPASSIST_")}
        env.update(
            {
                "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1",
                "SHOPASSIST_ENV": "dev",
                "SHOPASSIST_VAR_DIR": str(self.var),
                "SHOPASSIST_DATABASE_URL": self.database_url,
                "SHOPASSIST_EMBEDDER": "use",
                "SHOPASSIST_LLM_BACKEND": "rules",
                "SHOPASSIST_JWT_SECRET": self.jwt_secret,
                # Every worker counts against the same limits (a per-process memory:// would
                # multiply them by the number of workers).
                "SHOPASSIST_RATE_LIMIT_STORAGE": self.rate_limit_storage,
            }
        )
        if self.chroma_url:
            env["SHOPASSIST_CHROMA_URL"] = self.chroma_url
        env.update(extra)
        return env

    # --- the engines ----------------------------------------------------------------------

    def create_schema(self) -> None:
        """Create the fresh PostgreSQL schema and migrate it (``shopassist db upgrade``)."""
        from assistant.store import make_engine

        admin = make_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        try:
            with admin.begin() as connection:
                connection.exec_driver_sql(f'CREATE SCHEMA "{self.schema}"')
        finally:
            admin.dispose()
        self._schema_made = True
        self.var.mkdir(parents=True, exist_ok=True)
        self.cli("db", "upgrade")

    def build_world(
        self, *, products: int, small: bool, now: datetime | None = None
    ) -> dict[str, Any]:
        """Build the demo world into the schema.

        ``small`` builds in-process over :data:`SMALL_LEAVES` with 20 activities per type and no
        logs (seconds); otherwise ``shopassist data demo --products N`` (the deploy path).
        """
        if not small:
            self.cli("data", "demo", "--products", str(products), "--quiet")
            return {"products": products}
        from assistant.app import Shop
        from assistant.config import Settings
        from assistant.store import make_engine
        from assistant.world import STEPS, build_demo

        settings = Settings(
            _env_file=None, var_dir=self.var, database_url=self.database_url, embedder="use"
        )
        shop = Shop(settings, make_engine(settings.sqlalchemy_url))
        try:
            steps = [s for s in STEPS if s.name != "logs"]
            report = build_demo(
                shop,
                products=products,
                categories=list(SMALL_LEAVES),
                per_type=20,
                steps=steps,
                progress=False,
                now=now,
            )
        finally:
            shop.engine.dispose()
        return {"products": products, "report": str(report)}

    def start_chroma(self) -> Process:
        """``chroma run`` on a free port; waits for its heartbeat."""
        port = free_port()
        process = self._spawn(
            "chroma",
            [
                str(BIN / "chroma"),
                "run",
                "--path",
                str(self.root / "chroma"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
        )
        process.url = f"http://127.0.0.1:{port}"
        self.wait(process, process.url + "/api/v2/heartbeat", 60)
        self.chroma_url = process.url
        return process

    def index(self) -> None:
        """``shopassist index`` through the Chroma server."""
        self.cli("index", "--quiet")

    def start_llm(self, timeout_s: float = 180.0) -> Process:
        """``shopassist llm serve`` on the topology's var dir; its base URL goes to
        :attr:`llm_url` (the model is shared with the repository's ``var/models``)."""
        from assistant.llm import ensure_model

        shared = ensure_model(REPO / "var").parent
        self.var.mkdir(parents=True, exist_ok=True)
        if not (self.var / "models").exists():
            (self.var / "models").symlink_to(shared, target_is_directory=True)
        process = self._spawn("llm", [str(BIN / "shopassist"), "llm", "serve"])
        state = self.var / "llm.json"
        deadline = time.monotonic() + timeout_s
        while not state.exists():
            if not process.alive():
                raise RuntimeError(f"the LLM server exited early; its log ends:\n{process.tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the LLM server did not start in {timeout_s:.0f} s")
            time.sleep(0.2)
        self.llm_url = process.url = json.loads(state.read_text())["base_url"]
        return process

    # --- the API workers ------------------------------------------------------------------

    def start_workers(
        self, n: int, *, llm_backend: str = "rules", timeout_s: float = 180.0
    ) -> list[Process]:
        """Start ``n`` ``shopassist serve`` workers on free ports; wait until all are ready.

        ``llm_backend="openai"`` points them at :attr:`llm_url` (start the LLM server first).
        """
        extra = {"SHOPASSIST_LLM_BACKEND": llm_backend}
        if llm_backend == "openai":
            extra["SHOPASSIST_LLM_BASE_URL"] = self.llm_url
        started = []
        for _ in range(n):
            port = free_port()
            process = self._spawn(
                f"worker-{port}",
                [
                    str(BIN / "shopassist"),
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--no-start-llm",
                ],
                env=self.env(**extra),
            )
            process.url = f"http://127.0.0.1:{port}"
            started.append(process)
        for process in started:
            self.wait(process, process.url + "/readyz", timeout_s)
        self.workers += started
        return started

    def stop_workers(self) -> None:
        """Stop every worker (the engines keep running)."""
        for process in self.workers:
            process.stop()
            self.processes.remove(process)
        self.workers = []

    def worker_cpu_s(self) -> float:
        """CPU seconds the live workers have used so far, together."""
        return sum(cpu_seconds(w.pid) for w in self.workers)

    # --- plumbing -------------------------------------------------------------------------

    def cli(self, *args: str) -> None:
        """Run ``shopassist ARGS`` in the topology's environment; raise with its output."""
        done = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
            [str(BIN / "shopassist"), *args],
            cwd=REPO,
            env=self.env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"shopassist {' '.join(args)} failed ({done.returncode}):\n"
                f"{done.stdout[-2000:]}{done.stderr[-3000:]}"
            )

    def spawn(self, name: str, args: Sequence[str], **env: str) -> Process:
        """Start ``shopassist ARGS`` in the background, in the topology's environment."""
        return self._spawn(name, [str(BIN / "shopassist"), *args], env=self.env(**env))

    def _spawn(
        self, name: str, command: Sequence[str], env: dict[str, str] | None = None
    ) -> Process:
        self.root.mkdir(parents=True, exist_ok=True)
        log = self.root / f"{name}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(  # noqa: S603 - our own tools, fixed arguments
                list(command),
                cwd=REPO,
                env=env or self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    @staticmethod
    def wait(process: Process, url: str, timeout_s: float) -> None:
        """Wait until ``url`` answers 200; raise with the process's log if it exits first."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if httpx.get(url, timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if not process.alive():
                raise RuntimeError(f"{process.name} exited early; its log ends:\n{process.tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} was not 200 within {timeout_s:.0f} s:\n{process.tail()}")
            time.sleep(0.2)

    def close(self) -> None:
        """Stop every process (workers first) and drop the schema."""
        for process in reversed(self.processes):
            process.stop()
        self.processes = []
        self.workers = []
        if self._schema_made:
            from assistant.store import make_engine

            admin = make_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
            try:
                with admin.begin() as connection:
                    connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
            finally:
                admin.dispose()
            self._schema_made = False
