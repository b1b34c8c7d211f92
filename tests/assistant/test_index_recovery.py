"""Index recovery: a deleted or damaged Chroma directory is rebuilt from SQL, the truth.

On a small served demo world (its var dir copied per test, so nothing shared is damaged),
200 fixed queries (English and Chinese, with and without hard filters, made from catalog
titles and categories) are answered on both search paths before and after:

* the **exact** path: :class:`retrieval.SearchIndex` over the exported collections with
  ``plan="exact"`` (a numpy scan of every vector, what serving uses);
* the **HNSW** path: Chroma's own ``query`` (its approximate HNSW graph, ``where`` filters).

Every CLI run goes through ``ui.cli.main`` in this process, as ``shopassist`` would, with the
var dir in the environment; final prices are quoted at the world's NOW (``--now``).
"""

from __future__ import annotations

import io
import json
import logging
import random
import shutil
import time
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from assistant.app import Shop
from assistant.config import get_settings
from assistant.conversation import Assistant
from assistant.errors import RetrievalError
from assistant.indexing import ACTIVITIES, PRODUCTS, catalog_items
from assistant.serving import load_serving_parts
from assistant.world import STEPS, build_demo
from assistant.world.activities import DEFAULT_PER_TYPE
from retrieval import (
    ChromaIndex,
    Filters,
    IndexItem,
    ReloadingIndex,
    SearchIndex,
    activities_for_category_where,
    category_subtree_where,
    load_search_index,
    make_client,
    make_embedder,
    where_all,
)
from tests.assistant.conversation.conftest import LEAVES, NOW, served_shop
from ui.cli import main
from ui.server import create_app

logger = logging.getLogger(__name__)

NOW_ISO = NOW.isoformat()
QUERIES = 200
K = 10
MIN_HNSW_OVERLAP = 0.98


@dataclass(frozen=True)
class Query:
    """One fixed query: its text and, for half of them, hard filters."""

    text: str
    category: str | None = None
    max_price: int | None = None

    @property
    def filters(self) -> Filters:
        return Filters(
            categories=[self.category] if self.category else (), max_price=self.max_price
        )

    def where(self) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """Chroma ``where`` for products and for activities."""
        if self.category is None:
            return None, None
        price = {"final_price": {"$lte": self.max_price}} if self.max_price else None
        return (
            where_all(category_subtree_where(self.category), price),
            activities_for_category_where(self.category),
        )


@dataclass(frozen=True)
class Answers:
    """The top-10 products and activities of every query on both paths."""

    exact: list[tuple[tuple[str, ...], tuple[float, ...], tuple[str, ...], tuple[float, ...]]]
    hnsw: list[tuple[tuple[str, ...], tuple[str, ...]]]


def cli(var: Path, *argv: str) -> tuple[int, str]:
    """``shopassist ARGV`` on ``var``: exit status and everything it printed."""
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SHOPASSIST_VAR_DIR", str(var))
        env.setenv("SHOPASSIST_EMBEDDER", "use")
        env.setenv("SHOPASSIST_LLM_BACKEND", "rules")
        env.delenv("SHOPASSIST_DATABASE_URL", raising=False)
        env.delenv("SHOPASSIST_CHROMA_URL", raising=False)
        get_settings.cache_clear()
        try:
            with redirect_stdout(out), redirect_stderr(out):
                code = main(list(argv))
        finally:
            get_settings.cache_clear()
    return code, out.getvalue()


def build_world(var: Path, per_type: int) -> Path:
    """The served demo world's catalog, ``per_type`` activities of each type, indexed by
    ``shopassist index``."""
    shop = served_shop(var)
    steps = [s for s in STEPS if s.name != "logs"]
    build_demo(
        shop,
        now=NOW,
        products=480,
        per_type=per_type,
        categories=LEAVES,
        steps=steps,
        progress=False,
    )
    shop.engine.dispose()
    code, printed = cli(var, "index", "--quiet", "--now", NOW_ISO)
    assert code == 0, printed
    return var


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """480 products and 172 activities: every collection is under Chroma's HNSW sync
    threshold (1,000), so Chroma answers from its log and persists no HNSW graph."""
    return build_world(tmp_path_factory.mktemp("recovery"), per_type=20)


@pytest.fixture(scope="module")
def big_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """480 products and 3,360 activities: the activities' HNSW graph is on disk and Chroma's
    log no longer holds every vector (at about 1,000 it still did and healed a lost graph)."""
    return build_world(tmp_path_factory.mktemp("recovery-big"), per_type=DEFAULT_PER_TYPE)


@pytest.fixture
def var(world: Path, tmp_path: Path) -> Path:
    out = tmp_path / "var"
    shutil.copytree(world, out)
    return out


@pytest.fixture
def shop(var: Path) -> Iterator[Shop]:
    served = served_shop(var)
    yield served
    served.engine.dispose()


@pytest.fixture(scope="module")
def queries(world: Path) -> list[Query]:
    """200 queries from catalog titles and categories: 4 x 50 of English / Chinese, without /
    with a category and price filter."""
    rows = [
        json.loads(line)
        for line in (world / "demo" / "products.jsonl").read_text("utf-8").splitlines()
    ]
    rng = random.Random(10)
    picked = rng.sample(rows, QUERIES)
    out = []
    for i, row in enumerate(picked):
        zh = i % 4 >= 2
        words = (row["title_zh"] if zh else row["title"]).replace(",", " ").split()
        text = " ".join(words[1:4] if not zh else words[1:3]) or row["title"]
        if i % 2 == 0:
            out.append(Query(text))
        else:
            parent = row["category"].rsplit("/", 1)[0] if i % 3 == 0 else row["category"]
            cap = int(round(float(row["price"]) * 100 * rng.uniform(0.8, 1.5)))
            out.append(Query(text, parent, cap))
    return out


@pytest.fixture(scope="module")
def vectors(queries: list[Query]) -> list[np.ndarray]:
    embedder = make_embedder("use")
    return [embedder.embed_query(q.text) for q in queries]


def open_indexes(var: Path) -> tuple[ChromaIndex, ChromaIndex]:
    embedder = make_embedder("use")  # loaded once per process
    client = make_client(path=var / "chroma")
    return tuple(  # type: ignore[return-value]
        ChromaIndex.open(client, name, dim=embedder.dim, embedder_name=embedder.name)
        for name in (PRODUCTS, ACTIVITIES)
    )


def answer(var: Path, queries: list[Query], vectors: list[np.ndarray]) -> Answers:
    products, activities = open_indexes(var)
    index: SearchIndex = load_search_index(products, activities)
    exact, hnsw = [], []
    for query, vector in zip(queries, vectors, strict=True):
        found = index.search(
            vector=vector,
            filters=query.filters,
            k_products=K,
            k_activities=K,
            expand=False,
            plan="exact",
        )
        exact.append(
            (
                tuple(h.id for h in found.products),
                tuple(h.score for h in found.products),
                tuple(h.id for h in found.activities),
                tuple(h.score for h in found.activities),
            )
        )
        p_where, a_where = query.where()
        hnsw.append(
            (
                tuple(i for i, _ in products.query(vector, K, p_where)),
                tuple(i for i, _ in activities.query(vector, K, a_where)),
            )
        )
    return Answers(exact, hnsw)


def overlap(a: list[tuple[str, ...]], b: list[tuple[str, ...]]) -> float:
    """Mean overlap@10 of two lists of top-10s (a query with no results on both counts 1)."""
    scores = [
        len(set(x) & set(y)) / max(len(x), len(y)) if x or y else 1.0
        for x, y in zip(a, b, strict=True)
    ]
    return float(np.mean(scores))


def assert_equals_sql(var: Path, shop: Shop) -> None:
    """Both collections hold exactly SQL's items: ids, every metadata field, the hashes."""
    wanted_products, wanted_activities = catalog_items(shop, now=NOW)
    for index, wanted in zip(open_indexes(var), (wanted_products, wanted_activities), strict=True):
        export = index.export()
        stored = dict(zip(export.ids, export.metadatas, strict=True))
        assert sorted(stored) == sorted(item.id for item in wanted), index.name
        assert len(export.ids) == len(set(export.ids)) == index.count()
        expected = {item.id: _stored_view(item) for item in wanted}
        bad = [i for i in expected if dict(stored[i]) != expected[i]]
        assert not bad, (index.name, bad[:3], dict(stored[bad[0]]), expected[bad[0]])


def _stored_view(item: IndexItem) -> dict[str, Any]:
    return {**item.metadata, "content_hash": item.content_hash, "text_hash": item.text_hash}


def test_a_deleted_index_is_rebuilt_equal_to_sql_with_the_same_answers(
    var: Path,
    shop: Shop,
    queries: list[Query],
    vectors: list[np.ndarray],
    record_property: Any,
) -> None:
    assert len(queries) == QUERIES and sum(q.category is not None for q in queries) == 100
    healthy = answer(var, queries, vectors)
    assert sum(bool(p) for p, *_ in healthy.exact) >= QUERIES - 5  # the filters leave results

    shutil.rmtree(var / "chroma")
    start = time.perf_counter()
    code, printed = cli(var, "index", "--rebuild", "--quiet", "--now", NOW_ISO)
    rebuild_s = time.perf_counter() - start
    assert code == 0, printed
    assert "products: 480 added" in printed

    assert_equals_sql(var, shop)
    rebuilt = answer(var, queries, vectors)
    assert rebuilt.exact == healthy.exact  # ids and scores, on all 200 queries
    products_overlap = overlap([p for p, _ in rebuilt.hnsw], [p for p, _ in healthy.hnsw])
    activities_overlap = overlap([a for _, a in rebuilt.hnsw], [a for _, a in healthy.hnsw])
    vs_exact = overlap([p for p, _ in rebuilt.hnsw], [e[0] for e in rebuilt.exact])
    record_property("hnsw_overlap_products", products_overlap)
    record_property("hnsw_overlap_activities", activities_overlap)
    record_property("hnsw_vs_exact_products", vs_exact)
    record_property("rebuild_s", rebuild_s)
    logger.info(
        "rebuild %.1f s; HNSW overlap@10 rebuilt vs healthy: products %.4f, activities %.4f; "
        "HNSW vs exact (products) %.4f",
        rebuild_s,
        products_overlap,
        activities_overlap,
        vs_exact,
    )
    assert products_overlap >= MIN_HNSW_OVERLAP
    assert activities_overlap >= MIN_HNSW_OVERLAP


def test_rebuild_is_idempotent_and_a_later_product_is_indexed_by_a_plain_run(
    var: Path, shop: Shop, queries: list[Query], vectors: list[np.ndarray]
) -> None:
    first = answer(var, queries, vectors)
    for _ in range(2):
        code, printed = cli(var, "index", "--rebuild", "--quiet", "--now", NOW_ISO)
        assert code == 0, printed
    assert_equals_sql(var, shop)
    again = answer(var, queries, vectors)
    assert again.exact == first.exact
    # HNSW graphs are built in parallel, so two builds of the same data may differ a little
    assert overlap([p for p, _ in again.hnsw], [p for p, _ in first.hnsw]) >= MIN_HNSW_OVERLAP
    code, printed = cli(var, "index", "--quiet", "--now", NOW_ISO)
    assert code == 0, printed
    assert "products: 0 added, 0 updated, 0 deleted, 480 unchanged, 0 embedded" in printed
    assert "0 added, 0 updated, 0 deleted" in printed.split("activities:")[1]

    row = {
        "id": "dp-recovery-1",
        "title": "Glacier Peak Titanium Espresso Grinder",
        "title_zh": "冰川峰钛金属意式咖啡磨豆机",
        "category": "home/coffee-makers",
        "brand": "Glacier Peak",
        "price": "129.00",
        "currency": "USD",
        "stock": 5,
    }
    added = var / "added.jsonl"
    added.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    shop.import_catalog(added, kind="products")
    code, printed = cli(var, "index", "--quiet", "--now", NOW_ISO)
    assert code == 0, printed
    assert "products: 1 added" in printed
    assert_equals_sql(var, shop)
    products, _ = open_indexes(var)
    embedder = make_embedder("use")
    hits = products.query(embedder.embed_query("titanium espresso grinder"), 3)
    assert hits[0][0] == "dp-recovery-1"


def _garble(path: Path, size: int = 4096, at: int = 0) -> None:
    with path.open("r+b") as f:
        f.seek(at)
        f.write(random.Random(4).randbytes(size))


def _segments(chroma: Path) -> list[Path]:
    return [p for p in chroma.iterdir() if p.is_dir()]


DAMAGE = [
    "hnsw-data-deleted",
    "hnsw-header-garbled",
    "hnsw-segments-deleted",
    "sqlite-cut-in-half",
    "sqlite-garbage",
]


def damage_index(kind: str, chroma: Path) -> None:
    """Damage the Chroma directory ``chroma`` in one of the :data:`DAMAGE` ways."""
    db = chroma / "chroma.sqlite3"
    if kind == "sqlite-garbage":
        _garble(db, 100_000)
    elif kind == "sqlite-cut-in-half":
        db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
    for segment in _segments(chroma):
        if kind == "hnsw-data-deleted":
            (segment / "data_level0.bin").unlink()
        elif kind == "hnsw-header-garbled":
            _garble(segment / "header.bin", 100)
        elif kind == "hnsw-segments-deleted":
            shutil.rmtree(segment)


@pytest.mark.parametrize("damage", ["sqlite-garbage"])
def test_a_damaged_index_fails_clearly_and_rebuild_recovers_it(
    damage: str, world: Path, var: Path, shop: Shop, queries: list[Query], vectors: list[np.ndarray]
) -> None:
    damage_and_recover(damage, world, var, shop, queries, vectors)


@pytest.mark.slow
@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_hnsw_graph_fails_clearly_and_rebuild_recovers_it(
    damage: str,
    big_world: Path,
    tmp_path: Path,
    queries: list[Query],
    vectors: list[np.ndarray],
) -> None:
    var = tmp_path / "var"
    shutil.copytree(big_world, var)
    assert _segments(var / "chroma"), "no HNSW segment on disk"
    shop = served_shop(var)
    try:
        damage_and_recover(damage, big_world, var, shop, queries, vectors, must_fail=True)
    finally:
        shop.engine.dispose()


def damage_and_recover(
    damage: str,
    world: Path,
    var: Path,
    shop: Shop,
    queries: list[Query],
    vectors: list[np.ndarray],
    *,
    must_fail: bool = False,
) -> None:
    """Damage ``var``'s index (a copy of ``world``'s that this process never opened, so no
    cached Chroma client hides the damage): a plain ``index`` and the server fail with one
    clear line (or, unless ``must_fail``, the index is whole again), and ``index --rebuild``
    brings back SQL's index and the answers ``world`` gives."""
    healthy = answer(world, queries, vectors)
    damage_index(damage, var / "chroma")

    code, printed = cli(var, "index", "--quiet", "--now", NOW_ISO)
    logger.info("%s: plain index -> exit %d: %s", damage, code, printed.strip()[:300])
    assert code == 1 or not must_fail, printed
    if code == 0:  # Chroma rebuilt the segment from its own log: then it must be whole again
        assert_equals_sql(var, shop)
        load_serving_parts(shop)
    else:
        assert code == 1, printed
        assert "Traceback" not in printed and len(printed.strip().splitlines()) == 1, printed
        assert printed.startswith("shopassist: error:"), printed
        assert "run `shopassist index --rebuild`" in printed
        with pytest.raises(RetrievalError, match=r"run `shopassist index --rebuild`"):
            load_serving_parts(shop)

    code, printed = cli(var, "index", "--rebuild", "--quiet", "--now", NOW_ISO)
    assert code == 0, printed
    assert_equals_sql(var, shop)
    assert answer(var, queries, vectors).exact == healthy.exact
    code, printed = cli(var, "index", "--quiet", "--now", NOW_ISO)
    assert code == 0 and "480 unchanged" in printed, printed


def test_the_server_reports_a_damaged_index_and_keeps_serving_through_a_rebuild(
    var: Path, shop: Shop, queries: list[Query], vectors: list[np.ndarray]
) -> None:
    # A server loaded on a healthy index keeps answering while the directory is gone...
    parts = load_serving_parts(shop)
    live = parts.index
    assert isinstance(live, ReloadingIndex)
    live.check_every_s = 0.0
    before = parts.index()
    shutil.rmtree(var / "chroma")
    assert parts.index() is before
    assert live.error is not None and "shopassist index --rebuild" in live.error
    # ...and picks the rebuilt one up without a restart.
    code, printed = cli(var, "index", "--rebuild", "--quiet", "--now", NOW_ISO)
    assert code == 0, printed
    after = parts.index()
    assert after is not before and live.error is None
    assert after.sizes == before.sizes
    q = vectors[0]
    assert [h.id for h in after.search(vector=q, k_activities=0).products] == [
        h.id for h in before.search(vector=q, k_activities=0).products
    ]
    # An in-place rebuild replaces the collections under the open handles: taken up too.
    code, printed = cli(var, "index", "--rebuild", "--quiet", "--now", NOW_ISO)
    assert code == 0, printed
    again = parts.index()
    assert again is not after and live.error is None and again.sizes == before.sizes

    # A server started on a damaged index says so instead of failing to start.
    _garble(var / "chroma" / "chroma.sqlite3", 100_000)
    app = create_app(shop=shop, assistant_factory=Assistant.from_shop, dev=True, start_llm=False)
    with TestClient(app) as client:
        deadline = time.monotonic() + 60
        while client.get("/healthz").json()["index"] == "loading":
            assert time.monotonic() < deadline, "the app never finished loading"
            time.sleep(0.05)
        assert client.get("/healthz").json()["index"] == "error"
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "shopassist index --rebuild" in ready.text
