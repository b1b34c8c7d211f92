"""Scale-out on real engines: two ``shopassist serve`` workers sharing one PostgreSQL schema and
one Chroma server (``chroma run``), the index built through that server by ``shopassist index``.

A shopper's session hops between the workers: what worker A learned (the budget, the
category) holds on worker B, a claim made on A counts on B (idempotency key, per-user limit,
budget), and a feedback event sent to both is stored once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from assistant.app import Shop
from assistant.config import Settings
from assistant.store import ClaimRecord, FeedbackRecord, make_engine
from benchmarks._load_topology import Topology, free_port
from ui.cli import build_parser


def _scale_out(test: Any) -> Any:
    """Marks of every test on the topology: starting it takes a minute or more on two cores."""
    return pytest.mark.integration(pytest.mark.postgres(pytest.mark.slow(test)))


COUPON = "SCALE10"


def _coupon() -> dict[str, Any]:
    """A $10 coupon for everything, budget for exactly two claims, one per shopper."""
    now = datetime.now(UTC)
    window = [(now - timedelta(days=1)).isoformat(), (now + timedelta(days=30)).isoformat()]
    return {
        "id": COUPON,
        "type": "coupon",
        "scope": {"all": True},
        "amount": "10.00",
        "budget": "20.00",
        "per_user_limit": 1,
        "window": window,
    }


@pytest.fixture(scope="module")
def topology(
    tmp_path_factory: pytest.TempPathFactory, postgres_admin: object
) -> Iterator[Topology]:
    """The small world in a fresh schema, its index in a Chroma server, two rules workers."""
    top = Topology(tmp_path_factory.mktemp("scale-out"))
    try:
        top.create_schema()
        top.build_world(products=160, small=True)
        path = top.root / "activities-coupon.jsonl"
        path.write_text(json.dumps(_coupon()) + "\n")
        shop = _shop(top)
        try:
            shop.import_catalog(path)
        finally:
            shop.engine.dispose()
        top.start_chroma()
        top.index()
        top.start_workers(2)
        yield top
    finally:
        top.close()


def _shop(top: Topology) -> Shop:
    settings = Settings(_env_file=None, var_dir=top.var, database_url=top.database_url)
    return Shop(settings, make_engine(settings.sqlalchemy_url))


def _chat(url: str, user: str, message: str, session_id: str | None = None) -> dict[str, Any]:
    response = httpx.post(
        f"{url}/v1/chat",
        json={"user_id": user, "message": message, "session_id": session_id},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _claim(url: str, user: str, key: str) -> httpx.Response:
    return httpx.post(
        f"{url}/v1/claims",
        json={"user_id": user, "activity_id": COUPON, "idempotency_key": key},
        timeout=30,
    )


@_scale_out
def test_a_session_continues_on_the_other_worker(topology: Topology) -> None:
    a, b = (w.url for w in topology.workers)
    first = _chat(a, "hopper", "running shoes under $80")
    assert first["intent"]["categories"] == ["shoes/running"]
    assert first["intent"]["max_price"] == "80.00"
    assert first["recommendations"], first["reply"]

    second = _chat(b, "hopper", "no Nike please", session_id=first["session_id"])
    assert second["session_id"] == first["session_id"]
    # Worker B knows the category and budget worker A heard: they live in the shared store.
    assert second["intent"]["categories"] == ["shoes/running"]
    assert second["intent"]["max_price"] == "80.00"
    assert "Nike" in second["intent"]["brands_out"]
    for rec in second["recommendations"]:
        assert rec["final_price"] is not None
        assert float(rec["final_price"]) <= 80.0
        assert not rec["title"].startswith("Nike")

    third = _chat(a, "hopper", "cheaper ones", session_id=first["session_id"])
    assert third["intent"]["categories"] == ["shoes/running"]
    assert float(third["intent"]["max_price"]) < 80.0

    history = httpx.get(
        f"{b}/v1/sessions/{first['session_id']}", params={"user_id": "hopper"}, timeout=30
    )
    assert history.status_code == 200, history.text
    assert history.text.count("cheaper ones") >= 1  # turn 3 (worker A) is visible on B


@_scale_out
def test_a_claim_on_one_worker_counts_on_the_other(topology: Topology) -> None:
    a, b = (w.url for w in topology.workers)
    made = _claim(a, "claimer-1", "claimer-1-key")
    assert made.status_code == 201, made.text

    replay = _claim(b, "claimer-1", "claimer-1-key")
    assert replay.status_code == 201, replay.text
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json()["claim_id"] == made.json()["claim_id"]
    assert replay.json()["code"] == made.json()["code"]

    again = _claim(b, "claimer-1", "claimer-1-other-key")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "per_user_limit"

    assert _claim(b, "claimer-2", "claimer-2-key").status_code == 201
    spent = _claim(a, "claimer-3", "claimer-3-key")
    assert spent.status_code == 409
    assert spent.json()["error"]["code"] == "budget_exhausted"

    shop = _shop(topology)
    try:
        with shop.sessions() as session:
            claims = session.scalar(
                select(func.count())
                .select_from(ClaimRecord)
                .where(ClaimRecord.activity_id == COUPON)
            )
    finally:
        shop.engine.dispose()
    assert claims == 2


@_scale_out
def test_feedback_sent_to_both_workers_is_stored_once(topology: Topology) -> None:
    a, b = (w.url for w in topology.workers)
    turn = _chat(a, "clicker", "coffee makers on sale")
    assert turn["recommendations"], turn["reply"]
    impression = turn["recommendations"][0]["impression_id"]
    event = {"event_id": "scale-out-click-1", "impression_id": impression, "type": "click"}

    answers = [httpx.post(f"{url}/v1/feedback", json=event, timeout=30) for url in (a, b, a)]
    assert [r.status_code for r in answers] == [200, 200, 200], [r.text for r in answers]
    assert [r.json()["recorded"] for r in answers] == [True, False, False]

    shop = _shop(topology)
    try:
        with shop.sessions() as session:
            stored = session.scalar(
                select(func.count())
                .select_from(FeedbackRecord)
                .where(FeedbackRecord.event_id == "scale-out-click-1")
            )
    finally:
        shop.engine.dispose()
    assert stored == 1


@_scale_out
def test_the_workers_search_the_chroma_server_not_a_local_directory(topology: Topology) -> None:
    assert (topology.root / "chroma").is_dir()
    assert not (topology.var / "chroma").exists()  # no silent fall-back to an embedded index
    for worker in topology.workers:
        turn = _chat(worker.url, "finder", "yoga mats")
        assert turn["recommendations"], turn["reply"]


@_scale_out
def test_a_catalog_change_reaches_every_worker(topology: Topology) -> None:
    """A product imported into SQL and indexed by ``shopassist index`` (another process) is
    served by both running workers: each reloads its snapshot and index by revision."""
    mat = {
        "id": "scale-out-mat",
        "title": "Featherlite Travel Yoga Mat",
        "description": "A foldable 1.5 mm travel yoga mat.",
        "category": "sports/yoga-mats",
        "brand": "Featherlite",
        "price": "1.50",
        "stock": 50,
    }
    path = topology.root / "products-new.jsonl"
    path.write_text(json.dumps(mat) + "\n")
    ask = "yoga mats under $2"
    for worker in topology.workers:
        before = _chat(worker.url, "mat-seeker", ask)
        assert "scale-out-mat" not in [r["id"] for r in before["recommendations"]]

    shop = _shop(topology)
    try:
        shop.import_catalog(path)
    finally:
        shop.engine.dispose()
    topology.index()

    for worker in topology.workers:
        deadline = time.monotonic() + 30
        while True:
            found = [r["id"] for r in _chat(worker.url, "mat-seeker", ask)["recommendations"]]
            if "scale-out-mat" in found:
                break
            assert time.monotonic() < deadline, f"{worker.url} still serves {found}"
            time.sleep(0.5)


@_scale_out
def test_serve_workers_runs_several_processes_on_one_port(topology: Topology) -> None:
    """``shopassist serve --workers 2``: two uvicorn worker processes on one port, on the
    topology's stores; a session continues whichever process answers."""
    port = free_port()
    process = topology.spawn(
        "serve-workers",
        ["serve", "--port", str(port), "--workers", "2", "--no-start-llm"],
    )
    url = f"http://127.0.0.1:{port}"
    try:
        topology.wait(process, url + "/readyz", 180)
        deadline = time.monotonic() + 120
        while len(_children(process.pid)) < 2:
            assert time.monotonic() < deadline, "uvicorn did not start two workers"
            time.sleep(0.5)
        session_id = None
        for message in ("headphones under $100", "no Sony", "cheaper ones"):
            turn = _chat(url, "multi", message, session_id)
            session_id = turn["session_id"]
        assert turn["intent"]["categories"] == ["electronics/headphones"]
        assert "Sony" in turn["intent"]["brands_out"]
        assert float(turn["intent"]["max_price"]) < 100.0
    finally:
        process.stop()


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_serve_refuses_a_bad_worker_count(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["serve", "--workers", value])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--workers" in err
    assert "is not 1 or more" in err or "is not a whole number" in err
