"""Shared fixtures for the assistant tests: a real embedded LLM server (the bundled model on
127.0.0.1, started once per test session, only for the tests that ask for it).

The GGUF is assembled (and verified) once into the repository's ``var/models/``, where
``make run`` keeps it too; each test ``var_dir`` links its ``models/`` there instead of writing
another 491 MB copy. Servers the tests start are stopped at the end, by pid.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.config import LLMBackend, Settings
from assistant.llm import QWEN_0_5B, OpenAIChatModel, ensure_model, ensure_server, read_server_info

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 120.0  # ~2.5 s on an idle 2-core machine; generous for a busy CI box


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """``<repo>/var/models`` holding the verified bundled GGUF."""
    return ensure_model(REPO / "var").parent


@pytest.fixture(scope="session")
def make_var(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Callable[[str], Path]:
    """A fresh ``var_dir`` whose ``models/`` is the shared, already verified model directory."""

    def make(name: str) -> Path:
        var = tmp_path_factory.mktemp(name)
        (var / "models").symlink_to(model_dir, target_is_directory=True)
        return var

    return make


def stop_server(settings: Settings, sig: int = signal.SIGTERM, timeout_s: float = 30.0) -> None:
    """Stop the server that ``llm.json`` names and wait until its process is gone."""
    info = read_server_info(settings)
    if info is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(info.pid, sig)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:  # our child (ensure_server started it): reap it
            pid, _ = os.waitpid(info.pid, os.WNOHANG)
            if pid:
                return
        except ChildProcessError:  # not our child, or already reaped
            try:
                os.kill(info.pid, 0)
            except ProcessLookupError:
                return
        time.sleep(0.05)
    raise AssertionError(f"the LLM server (pid {info.pid}) did not stop within {timeout_s} s")


@pytest.fixture(scope="session")
def llm_settings(make_var: Callable[[str], Path]) -> Iterator[Settings]:
    """Settings whose ``var_dir`` has a running embedded server (started through ensure_server)."""
    settings = Settings(var_dir=make_var("llm-var"), llm_backend=LLMBackend.EMBEDDED)
    url = ensure_server(settings, start=True, timeout_s=START_TIMEOUT_S)
    if url is None:
        log = settings.var_dir / "llm.log"
        text = log.read_text(encoding="utf-8") if log.exists() else "(no log)"
        pytest.fail(f"the embedded LLM server did not start; its log:\n{text[-3000:]}")
    yield settings
    stop_server(settings)


@pytest.fixture(scope="session")
def llm_url(llm_settings: Settings) -> str:
    """The running embedded server's base URL (``http://127.0.0.1:PORT/v1``)."""
    info = read_server_info(llm_settings)
    assert info is not None
    return info.base_url


@pytest.fixture
def chat_model(llm_url: str) -> OpenAIChatModel:
    """A chat model on the shared embedded server."""
    return OpenAIChatModel(llm_url, QWEN_0_5B.alias)


@pytest.fixture(autouse=True)
def _no_tiktoken(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test in which langchain reaches for tiktoken (it would download encodings)."""
    import tiktoken

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("tiktoken was called; count tokens from the server's usage")

    for name in ("get_encoding", "encoding_for_model"):
        monkeypatch.setattr(tiktoken, name, refuse)
