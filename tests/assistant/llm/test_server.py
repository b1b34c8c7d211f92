"""The shared embedded server: ``ensure_server`` start and reuse, ``llm.json``, one per var_dir."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.errors import LLMError
from assistant.llm import QWEN_0_5B, ensure_server, read_server_info, run_server
from assistant.llm.server import server_answers, state_path
from tests.assistant.conftest import START_TIMEOUT_S

pytestmark = pytest.mark.integration


def test_started_server_announces_itself_and_answers(llm_settings: Settings) -> None:
    info = read_server_info(llm_settings)
    assert info is not None
    assert info.base_url == f"http://127.0.0.1:{info.port}/v1"
    assert info.model == QWEN_0_5B.alias
    assert server_answers(info.base_url)
    assert info.pid != os.getpid()  # a detached process of its own


def test_running_server_is_reused(llm_settings: Settings) -> None:
    before = read_server_info(llm_settings)
    started = time.perf_counter()
    url = ensure_server(llm_settings, start=True)
    assert time.perf_counter() - started < 2.0
    assert before is not None and url == before.base_url
    assert read_server_info(llm_settings) == before


def test_no_server_and_no_start_is_none(make_var: Callable[[str], Path]) -> None:
    settings = Settings(var_dir=make_var("idle"))
    assert ensure_server(settings) is None
    assert not (settings.var_dir / "llm.log").exists()  # nothing was started


def test_stale_state_file_is_not_trusted(make_var: Callable[[str], Path]) -> None:
    settings = Settings(var_dir=make_var("stale"))
    dead = {"base_url": "http://127.0.0.1:9/v1", "port": 9, "pid": 999999, "model": "x"}
    state_path(settings).write_text(json.dumps(dead), encoding="utf-8")
    assert ensure_server(settings) is None


def test_ensure_server_never_raises(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where var_dir should be", encoding="utf-8")
    assert ensure_server(Settings(var_dir=blocker), start=True, timeout_s=5) is None


def test_second_server_on_the_same_var_dir_is_refused(llm_settings: Settings) -> None:
    with pytest.raises(LLMError, match=r"already runs for .* at http://127\.0\.0\.1:\d+/v1"):
        run_server(llm_settings)


def test_cli_serve_runs_in_the_foreground_until_ctrl_c(make_var: Callable[[str], Path]) -> None:
    var = make_var("cli")
    env = {**os.environ, "SHOPASSIST_VAR_DIR": str(var)}
    cli = [sys.executable, "-c", "import sys; from ui.cli import main; sys.exit(main())"]
    proc = subprocess.Popen(
        [*cli, "llm", "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # printed once the server answers
        assert "Ctrl-C stops" in line, proc.stderr.read() if proc.stderr else ""
        info = read_server_info(Settings(var_dir=var))
        assert info is not None and info.pid == proc.pid and info.base_url in line
        assert server_answers(info.base_url)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=START_TIMEOUT_S) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not state_path(Settings(var_dir=var)).exists()
    assert not server_answers(info.base_url, timeout_s=1.0)


def test_cli_serve_help_explains() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "from ui.cli import main; main()", "llm", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--port" in out and "llm.json" in out and "127.0.0.1" in out
