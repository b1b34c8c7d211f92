"""ChromaIndex on real Chroma: a PersistentClient in tmp_path and a real ``chroma run`` server."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest

from retrieval import (
    MAX_EPOCH,
    ActivityMeta,
    ChromaIndex,
    ChromaUnavailableError,
    IndexItem,
    IndexMismatchError,
    ProductMeta,
    activities_for_category_where,
    category_subtree_where,
    live_where,
    make_client,
    where_all,
)
from tests.retrieval._index_helpers import HashEmbedder, free_port, make_items

pytest_plugins = ["tests.retrieval._index_fixtures"]


def _fill(index: ChromaIndex, hash_embedder: HashEmbedder, n: int = 30) -> list[IndexItem]:
    items = make_items(n)
    index.upsert(items, hash_embedder.embed([item.text for item in items]))
    return items


def test_upsert_query_scores_are_cosine(
    products_index: ChromaIndex, hash_embedder: HashEmbedder
) -> None:
    items = _fill(products_index, hash_embedder)
    assert products_index.count() == 30
    query = hash_embedder.embed(["running shoes Stride"])[0]
    hits = products_index.query(query, k=5)
    assert len(hits) == 5
    vectors = products_index.get_vectors([rid for rid, _ in hits])
    np.testing.assert_allclose([s for _, s in hits], vectors @ query, atol=1e-5)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    exact = items[3]
    assert products_index.query(hash_embedder.embed([exact.text])[0], k=1)[0][0] == exact.id
    assert len(products_index.query(query, k=500)) == 30


def test_where_category_subtree_and_price(
    products_index: ChromaIndex, hash_embedder: HashEmbedder
) -> None:
    items = _fill(products_index, hash_embedder)
    query = hash_embedder.embed(["product"])[0]

    def ids(where: dict[str, Any] | None) -> set[str]:
        return {rid for rid, _ in products_index.query(query, k=100, where=where)}

    by_id = {item.id: item.metadata for item in items}
    shoes = {i for i, m in by_id.items() if str(m["category"]).startswith("shoes/")}
    assert shoes and ids(category_subtree_where("shoes")) == shoes
    rain = {i for i, m in by_id.items() if m["category"] == "apparel/jackets/rain"}
    assert ids(category_subtree_where("apparel/jackets")) == rain
    assert ids(category_subtree_where("apparel/jackets/rain/")) == rain
    assert ids(category_subtree_where("shoe")) == set()
    cheap = {i for i, m in by_id.items() if cast(int, m["final_price"]) <= 3000}
    assert 0 < len(cheap) < len(items)
    assert ids({"final_price": {"$lte": 3000}}) == cheap
    both = where_all(
        category_subtree_where("shoes"), {"final_price": {"$lte": 3000}}, {"in_stock": True}
    )
    expected = {i for i in shoes & cheap if by_id[i]["in_stock"]}
    assert expected and ids(both) == expected
    assert ids({"brand": {"$in": ["stride", "peak"]}}) == {
        i for i, m in by_id.items() if m["brand"] in ("stride", "peak")
    }


def test_where_activities(chroma_client: Any, index_ns: str, hash_embedder: HashEmbedder) -> None:
    index = ChromaIndex.open(
        chroma_client, f"{index_ns}activities", dim=64, embedder_name=hash_embedder.name
    )
    metas = {
        "all": ActivityMeta("threshold", "order", 100, 200, scope_all=True),
        "shoes": ActivityMeta("percent_off", "item", 100, 200, categories=["shoes"]),
        "running": ActivityMeta("flash_sale", "item", 150, 300, categories=["shoes/running"]),
        "socks": ActivityMeta("coupon", "coupon", 0, None, "members", True, categories=["apparel"]),
        "brand": ActivityMeta("coupon", "coupon", 100, 200, brands=["Stride"]),
    }
    items = [IndexItem(k, f"deal {k}", m.to_metadata()) for k, m in metas.items()]
    index.upsert(items, hash_embedder.embed([i.text for i in items]))
    query = hash_embedder.embed(["deal"])[0]

    def ids(where: dict[str, Any] | None) -> set[str]:
        return {rid for rid, _ in index.query(query, k=10, where=where)}

    assert ids(activities_for_category_where("shoes/running/trail")) == {"all", "shoes", "running"}
    assert ids(activities_for_category_where("shoes")) == {"all", "shoes", "running"}
    assert ids(activities_for_category_where("apparel/socks")) == {"all", "socks"}
    assert ids(activities_for_category_where("home")) == {"all"}
    assert ids(live_where(120)) == {"all", "shoes", "socks", "brand"}
    assert ids(live_where(250)) == {"running", "socks"}
    assert ids({"scope_brands": {"$contains": "stride"}}) == {"brand"}
    assert ids(where_all(live_where(120), {"audience": "members"})) == {"socks"}


def test_upsert_replaces_metadata_exactly(
    products_index: ChromaIndex, hash_embedder: HashEmbedder
) -> None:
    priced = IndexItem("P1", "socks", ProductMeta("apparel/socks", "Lumi", 500).to_metadata())
    unpriced = IndexItem("P1", "socks", ProductMeta("apparel/socks").to_metadata())
    vector = hash_embedder.embed(["socks"])
    products_index.upsert([priced], vector)
    products_index.upsert([unpriced], vector)
    stored = dict(products_index.export().metadatas[0])
    assert "price" not in stored and "final_price" not in stored
    assert stored == {
        **unpriced.metadata,
        "content_hash": unpriced.content_hash,
        "text_hash": unpriced.text_hash,
    }


def test_long_lists_are_packed_and_round_trip(
    chroma_client: Any, index_ns: str, hash_embedder: HashEmbedder
) -> None:
    """A coupon scoped to 14k products once broke the collection (Chroma/SQLite limit)."""
    index = ChromaIndex.open(
        chroma_client, f"{index_ns}activities", dim=64, embedder_name=hash_embedder.name
    )
    many = [f"p{i}" for i in range(6000)]  # Chroma 1.5 fails from 5,462 list elements
    meta = ActivityMeta("coupon", "coupon", 0, None, categories=["shoes"], products=many)
    big = IndexItem("big", "deal big", meta.to_metadata())
    small = IndexItem("small", "deal small", {**meta.to_metadata(), "scope_products": ("p1",)})
    index.upsert([big, small], hash_embedder.embed(["deal big", "deal small"]))

    def stored() -> dict[str, dict[str, Any]]:
        export = index.export()
        return {rid: dict(m) for rid, m in zip(export.ids, export.metadatas, strict=True)}

    for item in (big, small):
        assert stored()[item.id] == {
            **item.metadata,
            "content_hash": item.content_hash,
            "text_hash": item.text_hash,
        }
    query = hash_embedder.embed(["deal"])[0]
    hits = index.query(query, k=5, where=activities_for_category_where("shoes"))
    assert {rid for rid, _ in hits} == {"big", "small"}
    shrunk = IndexItem("big", "deal big", dict(small.metadata))
    index.upsert([shrunk], query[None, :])  # the packed list turns back into a Chroma list
    assert stored()["big"] == {
        **shrunk.metadata,
        "content_hash": shrunk.content_hash,
        "text_hash": shrunk.text_hash,
    }
    with pytest.raises(ValueError, match="@json"):
        index.upsert([IndexItem("x", "x", {"k@json": "[]"})], query[None, :])


def test_batches_vectors_and_export(
    products_index: ChromaIndex, hash_embedder: HashEmbedder
) -> None:
    products_index.max_batch_size = 7  # force several write batches
    products_index.page_size = 5  # and several pages when scanning
    items = make_items(23)
    vectors = hash_embedder.embed([item.text for item in items])
    products_index.upsert(items, vectors)
    assert products_index.count() == 23
    picked = [items[5].id, items[0].id, items[22].id]
    np.testing.assert_allclose(products_index.get_vectors(picked), vectors[[5, 0, 22]], atol=1e-6)
    export = products_index.export()
    assert sorted(export.ids) == sorted(item.id for item in items)
    assert export.vectors.dtype == np.float32 and export.vectors.shape == (23, 64)
    row = export.ids.index(items[4].id)
    np.testing.assert_allclose(export.vectors[row], vectors[4], atol=1e-6)
    assert export.metadatas[row]["content_hash"] == items[4].content_hash
    assert products_index.get_hashes() == {item.id: item.content_hash for item in items}
    products_index.delete([items[0].id, "never-there"])
    assert products_index.count() == 22
    with pytest.raises(KeyError, match="not in index"):
        products_index.get_vectors([items[0].id, items[1].id])


def test_open_refuses_other_embedder_unless_rebuilt(
    chroma_client: Any, index_ns: str, products_index: ChromaIndex, hash_embedder: HashEmbedder
) -> None:
    _fill(products_index, hash_embedder, 5)
    with pytest.raises(IndexMismatchError, match=r"'embedder': 'hash-64'.*--rebuild"):
        ChromaIndex.open(chroma_client, products_index.name, dim=64, embedder_name="other")
    with pytest.raises(IndexMismatchError, match="'dim': 64"):
        ChromaIndex.open(chroma_client, products_index.name, dim=32, embedder_name="hash-64")
    again = ChromaIndex.open(chroma_client, products_index.name, dim=64, embedder_name="hash-64")
    assert again.count() == 5
    rebuilt = ChromaIndex.open(
        chroma_client, products_index.name, dim=32, embedder_name="other", rebuild=True
    )
    assert rebuilt.count() == 0 and (rebuilt.dim, rebuilt.embedder_name) == (32, "other")
    assert rebuilt.revision == 1


def test_open_refuses_foreign_collection(chroma_client: Any, index_ns: str) -> None:
    chroma_client.create_collection(f"{index_ns}foreign", embedding_function=None)
    with pytest.raises(IndexMismatchError, match="shopassist_schema"):
        ChromaIndex.open(chroma_client, f"{index_ns}foreign", dim=64, embedder_name="hash-64")


def test_revision_and_reset(products_index: ChromaIndex, hash_embedder: HashEmbedder) -> None:
    assert products_index.revision == 0
    assert products_index.bump_revision() == 1 and products_index.revision == 1
    _fill(products_index, hash_embedder, 4)
    products_index.reset()
    assert (
        products_index.count() == 0 and products_index.revision == 2
    )  # never back to an old number


def test_invalid_vectors_and_queries(
    products_index: ChromaIndex, hash_embedder: HashEmbedder
) -> None:
    items = make_items(2)
    with pytest.raises(ValueError, match=r"shape \(2, 64\)"):
        products_index.upsert(items, np.zeros((2, 32), dtype=np.float32))
    bad = hash_embedder.embed(["a", "b"])
    bad[1, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        products_index.upsert(items, bad)
    with pytest.raises(ValueError, match="unique"):
        products_index.upsert([items[0], items[0]], hash_embedder.embed(["a", "b"]))
    with pytest.raises(ValueError, match=r"shape \(64,\)"):
        products_index.query(np.zeros((1, 64), dtype=np.float32), k=3)
    with pytest.raises(ValueError, match="k must be"):
        products_index.query(np.zeros(64, dtype=np.float32), k=0)
    assert products_index.query(hash_embedder.embed(["x"])[0], k=3) == []


def test_make_client_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="path"):
        make_client()
    with pytest.raises(ValueError, match="http://HOST:PORT"):
        make_client(url="ftp://example.org")
    port = free_port()
    with pytest.raises(ChromaUnavailableError, match=f"127.0.0.1:{port} is not reachable"):
        make_client(path=tmp_path, url=f"http://127.0.0.1:{port}")


def test_item_hashes_are_stable_and_validated() -> None:
    as_list: dict[str, Any] = {"b": 1, "a": "x", "l": ["s", "t"]}  # lists are stored as tuples
    item = IndexItem("P1", "red shoes", as_list)
    same = IndexItem("P1", "red shoes", {"l": ("s", "t"), "a": "x", "b": 1})
    assert item.content_hash == same.content_hash == "4d89cf4973ccc993d2908c16c809be1e"
    moved = IndexItem("P1", "red shoes", {"b": 2, "a": "x", "l": ("s", "t")})
    assert moved.content_hash != item.content_hash and moved.text_hash == item.text_hash
    assert (
        IndexItem("P1", "red shoes", {"b": True}).content_hash
        != IndexItem("P1", "red shoes", {"b": 1}).content_hash
    )
    for metadata, message in [
        ({"content_hash": "x"}, "reserved"),
        ({"l": []}, "non-empty"),
        ({"l": [1, 2]}, "only str"),
        ({"f": float("nan")}, "not finite"),
        ({"d": {"x": 1}}, "dict is not"),
        ({"": 1}, "non-empty str"),
        ({"i": 2**64}, "64 bits"),
    ]:
        with pytest.raises(ValueError, match=message):
            IndexItem("P1", "t", metadata)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-empty str"):
        IndexItem("", "t")


def test_metadata_schema() -> None:
    product = ProductMeta(" shoes/running/trail/ ", " Stride ", 6000, 5400, False).to_metadata()
    assert product == {
        "kind": "product",
        "category": "shoes/running/trail",
        "depth": 3,
        "cat0": "shoes",
        "cat1": "shoes/running",
        "cat2": "shoes/running/trail",
        "brand": "stride",
        "priced": True,
        "price": 6000,
        "final_price": 5400,
        "in_stock": False,
    }
    assert ProductMeta("home", price=700).to_metadata()["final_price"] == 700
    assert ProductMeta("home").to_metadata()["priced"] is False
    with pytest.raises(ValueError, match="final_price"):
        ProductMeta("home", price=700, final_price=800).to_metadata()
    with pytest.raises(ValueError, match="non-empty names"):
        ProductMeta("shoes//running").to_metadata()
    activity = ActivityMeta(
        "coupon", "coupon", 10, None, "segment:vip", True,
        categories=["shoes/running", "shoes"], brands=["Stride"],
    ).to_metadata()  # fmt: skip
    assert activity["ends"] == MAX_EPOCH
    assert activity["scope_categories"] == ("shoes", "shoes/running")
    assert activity["scope_tree"] == ("shoes", "shoes/running")
    assert activity["scope_brands"] == ("stride",)
    assert "scope_products" not in activity
    with pytest.raises(ValueError, match="ends"):
        ActivityMeta("coupon", "coupon", 10, 5).to_metadata()


def test_local_index_never_reaches_the_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The offline trap: no ONNX download, no telemetry, for a whole open/write/query cycle."""

    def refuse(self: socket.socket, address: object) -> None:
        raise AssertionError(f"network access attempted: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    embedder = HashEmbedder()
    index = ChromaIndex.open(
        make_client(path=tmp_path / "c"), "products", dim=64, embedder_name=embedder.name
    )
    items = make_items(12)
    index.upsert(items, embedder.embed([item.text for item in items]))
    assert index.query(embedder.embed(["shoes"])[0], k=3, where={"in_stock": True})
    assert len(index.export().ids) == 12
