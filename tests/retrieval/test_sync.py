"""sync_index on real Chroma: incremental, idempotent, resumable after SIGKILL, one writer."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from retrieval import (
    ChromaIndex,
    IndexItem,
    IndexLockedError,
    IndexMismatchError,
    ProductMeta,
    index_lock,
    make_client,
    sync_index,
)
from tests.retrieval._index_helpers import (
    HashEmbedder,
    assert_same_index,
    clear_chroma_cache,
    make_items,
)

pytest_plugins = ["tests.retrieval._index_fixtures"]

REPO = Path(__file__).resolve().parents[2]


def test_first_sync_then_idempotent(
    products_index: ChromaIndex, hash_embedder: HashEmbedder
) -> None:
    items = make_items(40)
    first = sync_index(products_index, items, hash_embedder, batch_size=16)
    assert (first.added, first.updated, first.deleted, first.unchanged) == (40, 0, 0, 0)
    assert first.embedded == 40 and hash_embedder.calls == 3 and first.changed
    assert products_index.get_hashes() == {item.id: item.content_hash for item in items}
    revision = products_index.revision

    second = sync_index(products_index, iter(items), hash_embedder, batch_size=16)
    assert (second.added, second.updated, second.deleted, second.unchanged) == (0, 0, 0, 40)
    assert second.embedded == 0 and hash_embedder.calls == 3 and not second.changed
    assert products_index.revision == revision  # no write at all


def test_incremental_changes(
    chroma_client: Any, products_index: ChromaIndex, hash_embedder: HashEmbedder
) -> None:
    items = make_items(20)
    sync_index(products_index, items, hash_embedder)
    vectors_before = products_index.get_vectors([items[2].id])
    texts_before = hash_embedder.texts

    changed = list(items)
    changed[1] = dataclasses.replace(items[1], text="a completely new title")
    cheaper = ProductMeta("shoes/trail", "lumi", 999, 899, True).to_metadata()
    changed[2] = IndexItem(items[2].id, items[2].text, cheaper)
    del changed[7]
    changed.append(make_items(21)[20])
    report = sync_index(products_index, changed, hash_embedder)

    assert (report.added, report.updated, report.deleted, report.unchanged) == (1, 2, 1, 17)
    assert report.embedded == 2 and hash_embedder.texts - texts_before == 2  # new + new text only
    assert products_index.get_hashes() == {item.id: item.content_hash for item in changed}
    np.testing.assert_allclose(products_index.get_vectors([items[2].id]), vectors_before, atol=1e-6)
    stored = dict(zip(*_export_meta(products_index), strict=True))
    assert stored[items[2].id]["final_price"] == 899
    np.testing.assert_allclose(
        products_index.get_vectors([items[1].id])[0],
        hash_embedder.embed(["a completely new title"])[0],
        atol=1e-6,
    )
    reference = HashEmbedder()
    fresh = ChromaIndex.open(
        chroma_client, f"{products_index.name}-fresh", dim=64, embedder_name=reference.name
    )
    sync_index(fresh, changed, reference)
    assert_same_index(products_index, fresh)


def _export_meta(index: ChromaIndex) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    export = index.export()
    return export.ids, export.metadatas


def test_rebuild_starts_over(products_index: ChromaIndex, hash_embedder: HashEmbedder) -> None:
    items = make_items(10)
    sync_index(products_index, items, hash_embedder)
    before = products_index.revision
    report = sync_index(products_index, items[:6], hash_embedder, rebuild=True)
    assert products_index.revision > before
    assert report.rebuilt and (report.added, report.deleted, report.embedded) == (6, 0, 6)
    assert products_index.count() == 6


def test_refuses_other_embedder(
    chroma_client: Any, products_index: ChromaIndex, hash_embedder: HashEmbedder
) -> None:
    sync_index(products_index, make_items(3), hash_embedder)
    other = HashEmbedder(name="hash-64-v2")
    with pytest.raises(IndexMismatchError, match=r"'hash-64'.*not 'hash-64-v2'.*--rebuild"):
        sync_index(products_index, make_items(3), other)
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        ChromaIndex.open(chroma_client, products_index.name, dim=64, embedder_name=other.name)
    rebuilt = ChromaIndex.open(
        chroma_client, products_index.name, dim=64, embedder_name=other.name, rebuild=True
    )
    assert sync_index(rebuilt, make_items(3), other).added == 3


def test_invalid_input(products_index: ChromaIndex, hash_embedder: HashEmbedder) -> None:
    items = make_items(3)
    with pytest.raises(ValueError, match="duplicate item id 'P0000'"):
        sync_index(products_index, [*items, items[0]], hash_embedder)
    with pytest.raises(ValueError, match="batch_size"):
        sync_index(products_index, items, hash_embedder, batch_size=0)

    class Broken(HashEmbedder):
        def embed(self, texts: Any, *, progress: bool = False) -> Any:
            return super().embed(texts)[:, :10]

    with pytest.raises(ValueError, match=r"returned shape \(3, 10\)"):
        sync_index(products_index, items, Broken())
    assert products_index.count() == 0


def _run_worker(path: Path, name: str, marker: Path, n: int, variant: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tests.retrieval._sync_worker", "--path", str(path)]
    command += ["--name", name, "--n", str(n), "--variant", variant, "--batch-size", "10"]
    command += ["--delay", "0.4", "--marker", str(marker)]
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    return subprocess.Popen(command, cwd=REPO, env=env, text=True, stderr=subprocess.PIPE)


def _wait_for_lines(marker: Path, lines: int, worker: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if marker.exists() and len(marker.read_text().splitlines()) >= lines:
            return
        if worker.poll() is not None:
            _, stderr = worker.communicate()
            raise AssertionError(f"worker exited early ({worker.returncode}): {stderr}")
        time.sleep(0.02)
    raise AssertionError("worker made no progress in 60 s")


def test_killed_sync_resumes_to_the_same_index(tmp_path: Path) -> None:
    old, new = make_items(50, variant="old"), make_items(70, variant="new")[5:]
    run_path, ref_path = tmp_path / "run", tmp_path / "ref"
    for path in (run_path, ref_path):  # both start from the old catalog
        index = ChromaIndex.open(
            make_client(path=path), "products", dim=64, embedder_name="hash-64"
        )
        sync_index(index, old, HashEmbedder())
    clear_chroma_cache()  # the worker writes run_path; read it afresh afterwards

    marker = tmp_path / "batches.txt"
    worker = _run_worker(run_path, "products", marker, 70, "new")
    _wait_for_lines(marker, 3, worker)  # batches 1-2 committed, batch 3 embedding
    worker.send_signal(signal.SIGKILL)
    worker.communicate(timeout=30)
    assert worker.returncode == -signal.SIGKILL

    hash_embedder = HashEmbedder()
    with index_lock(run_path.with_suffix(".lock")):  # the killed writer left no stale lock
        index = ChromaIndex.open(
            make_client(path=run_path), "products", dim=64, embedder_name="hash-64"
        )
        hashes = index.get_hashes()
        done = sum(hashes.get(item.id) == item.content_hash for item in new)
        assert 0 < done < len(new), "the kill must land mid-run"
        resumed = sync_index(index, new, hash_embedder, batch_size=10)
    assert resumed.embedded == len(new) - done == hash_embedder.texts

    reference = ChromaIndex.open(
        make_client(path=ref_path), "products", dim=64, embedder_name="hash-64"
    )
    sync_index(reference, new, HashEmbedder(), batch_size=10)
    assert_same_index(index, reference)
    assert index.get_hashes() == {item.id: item.content_hash for item in new}


def test_lock_contention(tmp_path: Path) -> None:
    lock = tmp_path / "var" / "chroma.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from retrieval import index_lock\n"
            "with index_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)",
            str(lock),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        expected = f"another `shopassist index` is running \\(lock {lock}\\)"
        with pytest.raises(IndexLockedError, match=expected), index_lock(lock, timeout=0.2):
            pass
    finally:
        holder.kill()
        holder.communicate()
    with index_lock(lock) as held:  # released by the holder's death
        assert held == lock
