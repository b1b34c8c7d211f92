"""The embedded LLM for benchmarks: the repository's verified model, and stopping its server."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

from assistant.config import Settings
from assistant.llm import ensure_model, read_server_info

REPO = Path(__file__).resolve().parents[1]


def link_models(var: Path) -> None:
    """Share the repository's verified model (``var/models``) instead of another 491 MB copy."""
    shared = ensure_model(REPO / "var").parent
    var.mkdir(parents=True, exist_ok=True)
    if not (var / "models").exists():
        (var / "models").symlink_to(shared, target_is_directory=True)


def stop_server(settings: Settings) -> None:
    """Stop the embedded server ``settings.var_dir`` names, if any."""
    info = read_server_info(settings)
    if info is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(info.pid, signal.SIGTERM)
