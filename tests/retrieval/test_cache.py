"""The persistent embedding cache and the caching embedder, on real SQLite files and real USE."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from retrieval import (
    CachedEmbedder,
    CacheStats,
    Embedder,
    EmbeddingCache,
    EmbeddingError,
    UseEmbedder,
    text_key,
)

TITLES = [f"running shoes model {i}" for i in range(40)] + [f"跑步鞋 {i} 号" for i in range(40)]


class CountingEmbedder:
    """A real embedder that records every call it gets (optionally under another name).

    ``fail_on_call=k`` makes the k-th call (1-based) raise, as a server going down would.
    """

    def __init__(
        self, inner: Embedder, name: str | None = None, fail_on_call: int | None = None
    ) -> None:
        self.inner = inner
        self.name = name or inner.name
        self.dim = inner.dim
        self.calls: list[list[str]] = []
        self.fail_on_call = fail_on_call
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        with self._lock:
            self.calls.append(list(texts))
            if len(self.calls) == self.fail_on_call:
                raise EmbeddingError("the embedding server went away")
        return self.inner.embed(texts, progress=progress)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)

    @property
    def texts_seen(self) -> int:
        return sum(map(len, self.calls))


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[EmbeddingCache]:
    with EmbeddingCache(tmp_path / "cache" / "embeddings.sqlite") as opened:
        yield opened


@pytest.fixture
def counting(use_embedder: UseEmbedder) -> CountingEmbedder:
    return CountingEmbedder(use_embedder)


def test_second_pass_costs_nothing(cache: EmbeddingCache, counting: CountingEmbedder) -> None:
    cached = CachedEmbedder(counting, cache)
    first = cached.embed(TITLES)
    assert counting.texts_seen == len(TITLES)
    assert cached.stats == CacheStats(hits=0, misses=len(TITLES))

    counting.calls.clear()
    second = cached.embed(TITLES)
    assert counting.calls == []
    assert cached.stats == CacheStats(hits=len(TITLES), misses=len(TITLES))
    np.testing.assert_array_equal(second, first)


def test_only_new_texts_are_embedded_and_order_is_kept(
    cache: EmbeddingCache, counting: CountingEmbedder, use_embedder: UseEmbedder
) -> None:
    cached = CachedEmbedder(counting, cache)
    cached.embed(TITLES[::2])
    counting.calls.clear()
    mixed = ["brand-new title", *TITLES[::-1]]
    vectors = cached.embed(mixed)
    assert counting.calls == [["brand-new title", *TITLES[::-1][::2]]]
    np.testing.assert_allclose(vectors, use_embedder.embed(mixed), atol=1e-6)
    assert vectors.dtype == np.float32 and vectors.shape == (len(mixed), 512)


def test_duplicates_in_one_call_are_embedded_once(
    cache: EmbeddingCache, counting: CountingEmbedder
) -> None:
    cached = CachedEmbedder(counting, cache)
    vectors = cached.embed(["a", "b", "a", "", "   "])
    assert counting.calls == [["a", "b", ""]]  # blank strings are all ""
    np.testing.assert_array_equal(vectors[0], vectors[2])
    np.testing.assert_array_equal(vectors[3], vectors[4])
    assert cached.stats == CacheStats(hits=2, misses=3)
    cached.reset_stats()
    assert cached.stats == CacheStats()


def test_vectors_persist_across_instances(tmp_path: Path, counting: CountingEmbedder) -> None:
    path = tmp_path / "embeddings.sqlite"
    with EmbeddingCache(path) as first:
        expected = CachedEmbedder(counting, first).embed(TITLES)
    counting.calls.clear()
    with EmbeddingCache(path) as reopened:
        again = CachedEmbedder(counting, reopened)
        np.testing.assert_array_equal(again.embed(TITLES), expected)
        assert reopened.count(counting.name) == len(TITLES)
    assert counting.calls == []


def test_models_never_share_vectors(cache: EmbeddingCache, use_embedder: UseEmbedder) -> None:
    one = CountingEmbedder(use_embedder, name="model-one")
    two = CountingEmbedder(use_embedder, name="model-two")
    CachedEmbedder(one, cache).embed(TITLES)
    CachedEmbedder(two, cache).embed(TITLES)
    assert two.texts_seen == len(TITLES)  # nothing borrowed from model-one
    assert cache.count("model-one") == cache.count("model-two") == len(TITLES)
    assert cache.get_many("model-three", [text_key(TITLES[0])]) == {}
    assert cache.clear("model-one") == len(TITLES)
    assert cache.count() == len(TITLES)


def test_a_name_reused_for_another_dimension_is_reported(
    cache: EmbeddingCache, counting: CountingEmbedder
) -> None:
    cache.put_many(counting.name, [(text_key("old"), np.full(4, 0.5, dtype=np.float32))])
    with pytest.raises(EmbeddingError, match=r"holds \[4, 512\]-d vectors.*one name must mean"):
        CachedEmbedder(counting, cache).embed(["old", "new"])


def test_a_failure_half_way_keeps_the_chunks_already_stored(
    cache: EmbeddingCache, use_embedder: UseEmbedder
) -> None:
    failing = CountingEmbedder(use_embedder, fail_on_call=3)
    cached = CachedEmbedder(failing, cache, write_every=16)
    with pytest.raises(EmbeddingError, match="went away"):
        cached.embed(TITLES)
    assert cache.count(failing.name) == 32
    assert cached.stats == CacheStats(hits=0, misses=32)

    again = CountingEmbedder(use_embedder)
    CachedEmbedder(again, cache, write_every=16).embed(TITLES)
    assert again.texts_seen == len(TITLES) - 32  # only what the failed run did not store


def test_progress_counts_the_misses(
    cache: EmbeddingCache, use_embedder: UseEmbedder, capsys: pytest.CaptureFixture[str]
) -> None:
    cached = CachedEmbedder(use_embedder, cache, write_every=32)
    cached.embed(TITLES[:50], progress=True)
    assert f"{use_embedder.name}: 100%" in capsys.readouterr().err
    cached.embed(TITLES[:50], progress=True)  # nothing to embed: no bar
    assert capsys.readouterr().err == ""


def test_write_every_must_be_positive(cache: EmbeddingCache, use_embedder: UseEmbedder) -> None:
    with pytest.raises(ValueError, match=r"write_every must be a positive int, got 0"):
        CachedEmbedder(use_embedder, cache, write_every=0)


def test_put_many_keeps_existing_rows(cache: EmbeddingCache) -> None:
    key = text_key("running shoes")
    assert cache.put_many("m", [(key, np.array([1.0, 0.0], dtype=np.float32))]) == 1
    assert cache.put_many("m", [(key, np.array([0.0, 1.0], dtype=np.float32))]) == 0
    np.testing.assert_array_equal(cache.get_many("m", [key])[key], [1.0, 0.0])
    assert cache.put_many("m", []) == 0


def test_lookups_span_several_query_chunks(cache: EmbeddingCache) -> None:
    keys = [text_key(str(i)) for i in range(1234)]
    cache.put_many("m", [(k, np.full(3, i, dtype=np.float32)) for i, k in enumerate(keys)])
    found = cache.get_many("m", keys + keys[:5])
    assert len(found) == 1234
    assert float(found[keys[1000]][0]) == 1000.0


def test_the_file_is_in_wal_mode(cache: EmbeddingCache) -> None:
    with sqlite3.connect(cache.path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_two_threads_writing_at_once(tmp_path: Path, use_embedder: UseEmbedder) -> None:
    """Two writers (own connections, as two processes would have) over overlapping texts."""
    path = tmp_path / "shared.sqlite"
    barrier = threading.Barrier(2, timeout=30)
    errors: list[BaseException] = []
    results: dict[int, np.ndarray] = {}
    texts = [f"product title {i}" for i in range(300)]

    def work(worker: int) -> None:
        try:
            with EmbeddingCache(path) as own:
                cached = CachedEmbedder(use_embedder, own)
                mine = texts[worker * 100 : worker * 100 + 200]  # 100 texts overlap
                barrier.wait()
                parts = [cached.embed(mine[start : start + 20]) for start in range(0, 200, 20)]
                results[worker] = np.concatenate(parts)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(worker,), daemon=True) for worker in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with EmbeddingCache(path) as check:
        assert check.count(use_embedder.name) == 300
    expected = use_embedder.embed(texts)
    np.testing.assert_allclose(results[0], expected[:200], atol=1e-6)
    np.testing.assert_allclose(results[1], expected[100:], atol=1e-6)


def test_opening_a_fresh_file_from_several_threads_at_once(tmp_path: Path) -> None:
    """Regression: switching a new file to WAL skips busy_timeout, so concurrent first opens
    failed with "database is locked" (seen in about 1 of 15 tries with 4 threads)."""
    errors: list[BaseException] = []

    def open_and_count(path: Path, barrier: threading.Barrier) -> None:
        try:
            barrier.wait()
            with EmbeddingCache(path) as opened:
                opened.count()
        except BaseException as exc:
            errors.append(exc)

    for attempt in range(40):
        barrier = threading.Barrier(4, timeout=30)
        path = tmp_path / f"fresh-{attempt}.sqlite"
        threads = [
            threading.Thread(target=open_and_count, args=(path, barrier), daemon=True)
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert errors == []


def test_one_cache_shared_by_threads(cache: EmbeddingCache, use_embedder: UseEmbedder) -> None:
    cached = CachedEmbedder(use_embedder, cache)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for start in range(0, len(TITLES), 10):
                cached.embed(TITLES[start : start + 10])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, daemon=True) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert cache.count(use_embedder.name) == len(TITLES)
    stats = cached.stats
    assert stats.hits + stats.misses == 2 * len(TITLES)


def test_empty_input_and_queries_skip_the_cache(
    cache: EmbeddingCache, counting: CountingEmbedder
) -> None:
    cached = CachedEmbedder(counting, cache)
    assert cached.embed([]).shape == (0, 512)
    query = cached.embed_query("跑步鞋")
    assert query.shape == (512,)
    assert counting.calls == [] and cache.count() == 0


def test_bad_input_is_refused_before_any_work(
    cache: EmbeddingCache, counting: CountingEmbedder
) -> None:
    cached = CachedEmbedder(counting, cache)
    with pytest.raises(TypeError, match=r"texts\[1\] must be a str, got NoneType"):
        cached.embed(["fine", None])  # type: ignore[list-item]
    assert counting.calls == []


def test_a_closed_cache_says_so(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    cache.close()
    with pytest.raises(RuntimeError, match=r"the embedding cache at .*c\.sqlite is closed"):
        cache.count()
