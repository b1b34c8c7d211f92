"""``shopassist index``: SQL to Chroma with the real USE embedder, incremental and resumable."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from assistant.app import Shop
from assistant.config import Settings
from assistant.errors import RetrievalError
from assistant.indexing import ACTIVITIES, PRODUCTS, sync_catalog_index
from assistant.store import make_engine
from assistant.world import STEPS, build_demo
from retrieval import ChromaIndex, index_lock, make_client, make_embedder

NOW = datetime(2030, 6, 15, 12, tzinfo=UTC)
LEAVES = [
    "shoes/running",
    "shoes/trail-running",
    "home/kitchen-knives",
    "home/cookware",
    "electronics/headphones",
    "grocery/snacks",
]
SMALL = {
    "products": 240,
    "per_type": 10,
    "categories": LEAVES,
    "steps": [s for s in STEPS if s.name != "logs"],
}


def _shop(var: Path) -> Shop:
    settings = Settings(_env_file=None, var_dir=var, embedder="use")
    return Shop(settings, make_engine(settings.sqlalchemy_url))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated store with a small demo world (no logs), to copy per test."""
    var = tmp_path_factory.mktemp("world")
    shop = _shop(var)
    build_demo(shop, now=NOW, progress=False, **SMALL)  # type: ignore[arg-type]
    shop.engine.dispose()
    return var


@pytest.fixture
def var(world: Path, tmp_path: Path) -> Path:
    out = tmp_path / "var"
    shutil.copytree(world, out)
    return out


def _open(var: Path, name: str) -> ChromaIndex:
    embedder = make_embedder("use")
    client = make_client(path=var / "chroma")
    return ChromaIndex.open(client, name, dim=embedder.dim, embedder_name=embedder.name)


def _snapshot(var: Path) -> dict[str, tuple[list[str], dict[str, str], np.ndarray]]:
    out = {}
    for name in (PRODUCTS, ACTIVITIES):
        index = _open(var, name)
        exported = index.export()
        order = np.argsort(np.asarray(exported.ids))
        ids = [exported.ids[i] for i in order]
        out[name] = (ids, index.get_hashes(), exported.vectors[order])
    return out


def test_sync_is_incremental_and_finds_chinese_queries(var: Path) -> None:
    shop = _shop(var)
    first = sync_catalog_index(shop, progress=False, now=NOW)
    assert first.products.added == 240 and first.products.embedded == 240
    assert first.activities.added > 0
    again = sync_catalog_index(shop, progress=False, now=NOW)
    assert again.products.embedded == again.activities.embedded == 0
    assert again.products.unchanged == 240

    # One product renamed, one removed: one embedding, one delete.
    products = var / "demo" / "products.jsonl"
    rows = [json.loads(line) for line in products.read_text().splitlines()]
    rows[0]["title"] = rows[0]["title"] + " (2026 edition)"
    edited = var / "edited_products.jsonl"
    edited.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows[:1]))
    shop.import_catalog(edited, kind="products")
    shop.remove_from_catalog("products", [rows[1]["id"]])
    third = sync_catalog_index(shop, progress=False, now=NOW)
    assert (third.products.updated, third.products.deleted, third.products.embedded) == (1, 1, 1)

    embedder = make_embedder("use")
    index = _open(var, PRODUCTS)
    categories = {r["id"]: r["category"] for r in rows}
    for query, leaf in (("便宜的跑步鞋", "shoes/running"), ("厨房刀具", "home/kitchen-knives")):
        hits = index.query(embedder.embed([query])[0], 10)
        assert sum(categories[i] == leaf for i, _ in hits) >= 5, (query, hits)


def test_rebuild_starts_over(var: Path) -> None:
    shop = _shop(var)
    sync_catalog_index(shop, progress=False, now=NOW)
    rebuilt = sync_catalog_index(shop, rebuild=True, progress=False, now=NOW)
    assert rebuilt.products.added == 240 and rebuilt.products.rebuilt


@pytest.mark.integration
def test_a_killed_index_run_is_finished_by_the_next(var: Path, tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    shutil.copytree(var, clean)
    sync_catalog_index(_shop(clean), progress=False, now=None)

    env = dict(os.environ, SHOPASSIST_VAR_DIR=str(var), SHOPASSIST_EMBEDDER="use")
    env.pop("SHOPASSIST_DATABASE_URL", None)
    exe = str(Path(sys.executable).parent / "shopassist")
    proc = subprocess.Popen(
        [exe, "index", "--quiet"],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    cache = var / "embeddings.sqlite"
    deadline = time.monotonic() + 120
    while not cache.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.7)  # let some batches land, then kill it mid-run
    os.killpg(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL, "the run ended before it was killed"

    done = subprocess.run(
        [exe, "index", "--quiet"], env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr
    resumed, uninterrupted = _snapshot(var), _snapshot(clean)
    for name in (PRODUCTS, ACTIVITIES):
        assert resumed[name][0] == uninterrupted[name][0]
        assert resumed[name][1] == uninterrupted[name][1]
        np.testing.assert_allclose(resumed[name][2], uninterrupted[name][2], atol=1e-6)


def test_a_second_writer_is_refused(var: Path) -> None:
    with index_lock(var / "chroma.lock"), pytest.raises(RetrievalError, match="another"):
        sync_catalog_index(_shop(var), progress=False, now=NOW)
