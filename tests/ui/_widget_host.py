"""Runs the sample host shop (``examples/widget_host/app.py``) as the shop would: its own
process, on a free loopback port, stopped (by its pid) when the test ends."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

__all__ = ["HOST_APP", "host_shop", "run_host"]

HOST_APP = Path(__file__).resolve().parents[2] / "examples" / "widget_host" / "app.py"


def run_host(
    *args: str, env: Mapping[str, str], timeout_s: float = 30.0
) -> subprocess.CompletedProcess[str]:
    """Run the host app to completion (``--help``, or a start it refuses)."""
    return subprocess.run(
        [sys.executable, str(HOST_APP), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


@contextmanager
def host_shop(
    port: int, *args: str, env: Mapping[str, str], log: Path, timeout_s: float = 30.0
) -> Iterator[str]:
    """The host shop serving on ``127.0.0.1:port``; yields its origin."""
    origin = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, str(HOST_APP), "--port", str(port), *args],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the host shop exited: {log.read_text()}")
            try:
                httpx.get(f"{origin}/", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, (
                    f"the host shop did not start: {log.read_text()}"
                )
                time.sleep(0.05)
        yield origin
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
