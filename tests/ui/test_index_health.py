"""``/healthz`` and ``/readyz`` tell the truth about the search index after the server loaded
it: when the index on disk is deleted or damaged, a reload fails and the server keeps answering
turns from the index it loaded; health says ``error`` with what repairs it until ``shopassist
index --rebuild`` has run (regression: it said ok throughout), while readiness stays 200 (every
worker sharing the index would fail alike: a 503 would take them all out of the balancer).

Each test serves a copy of the served demo world, so nothing shared is damaged.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.conversation import Assistant
from retrieval import ReloadingIndex
from tests.assistant.conversation.conftest import NOW, served_shop
from tests.assistant.test_index_recovery import cli

from .conftest import Clock, build_app, wait_ready
from .test_api import RUNNING

REBUILD_HINT = "run `shopassist index --rebuild`"


@pytest.fixture
def var(served_var: Path, tmp_path: Path) -> Path:
    out = tmp_path / "var"
    shutil.copytree(served_var, out)
    return out


@pytest.fixture
def client(var: Path, clock: Clock) -> Iterator[TestClient]:
    shop = served_shop(var)
    try:
        assistant = Assistant.from_shop(shop, seed=3)
        assert isinstance(assistant.index, ReloadingIndex)
        assistant.index.check_every_s = 0.0
        with TestClient(build_app(shop, assistant, clock, dev=True)) as c:
            wait_ready(c)
            yield c
    finally:
        shop.engine.dispose()


def _damage(var: Path, how: str) -> None:
    chroma = var / "chroma"
    if how == "deleted":
        shutil.rmtree(chroma)
    else:
        with (chroma / "chroma.sqlite3").open("r+b") as f:
            f.write(random.Random(4).randbytes(100_000))


@pytest.mark.parametrize("how", ["deleted", "garbled"])
def test_a_broken_index_is_reported_while_turns_go_on(
    client: TestClient, var: Path, how: str
) -> None:
    health = client.get("/healthz").json()
    assert (health["index"], "index_error" in health) == ("ok", False)
    assert client.get("/readyz").json() == {"status": "ready"}

    _damage(var, how)
    health = client.get("/healthz")
    assert health.status_code == 200  # alive: it still answers
    body = health.json()
    assert (body["sql"], body["index"]) == ("ok", "error")
    assert body["index_error"].startswith("the search index cannot be reloaded")
    assert REBUILD_HINT in body["index_error"]
    assert client.get("/readyz").json() == {"status": "ready"}  # it still answers turns
    turn = client.post("/v1/chat", json={"user_id": "u-health", "message": RUNNING})
    assert turn.status_code == 200, turn.text
    assert turn.json()["recommendations"]  # from the index loaded before


def test_health_recovers_once_the_index_is_rebuilt(client: TestClient, var: Path) -> None:
    _damage(var, "deleted")
    assert client.get("/healthz").json()["index"] == "error"
    code, printed = cli(var, "index", "--quiet", "--now", NOW.isoformat(), "--rebuild")
    assert code == 0, printed
    health = client.get("/healthz").json()
    assert (health["index"], "index_error" in health) == ("ok", False)
    assert client.get("/readyz").json() == {"status": "ready"}
