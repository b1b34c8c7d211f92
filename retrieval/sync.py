"""Bring a :class:`~retrieval.index.ChromaIndex` in line with the catalog (SQL is the truth).

:func:`sync_index` compares the wanted items' hashes with the stored ones and writes only the
difference: ids no longer wanted are deleted, new items and items whose text changed are
embedded and upserted, items whose metadata alone changed are upserted with their stored vector
(no embedding). Every batch is one committed write, so a run killed at any point leaves each
record either old or new, and running again finishes the job: the result is the same as one
uninterrupted run. A second run with the same items writes nothing.

Example:
    >>> with index_lock(Path("var/chroma/.index.lock")):  # doctest: +SKIP
    ...     report = sync_index(index, items, embedder, progress=True)
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

from retrieval._index_errors import IndexMismatchError
from retrieval._index_meta import IndexItem
from retrieval.index import ChromaIndex

__all__ = ["SyncReport", "sync_index"]

logger = logging.getLogger(__name__)


class _DocumentEmbedder(Protocol):
    """The part of ``retrieval``'s ``Embedder`` protocol that sync uses."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> NDArray[Any]: ...


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What one :func:`sync_index` run did.

    Attributes:
        collection: The collection's name.
        added: Items that were not in the index.
        updated: Items whose text or metadata changed.
        deleted: Records no longer wanted.
        unchanged: Items already up to date.
        embedded: Texts embedded (added plus text changes; metadata-only updates embed none).
        seconds: Wall time of the run.
        rebuilt: Whether the collection was dropped first.
    """

    collection: str
    added: int
    updated: int
    deleted: int
    unchanged: int
    embedded: int
    seconds: float
    rebuilt: bool = False

    @property
    def changed(self) -> bool:
        """Whether the run wrote anything."""
        return bool(self.added or self.updated or self.deleted or self.rebuilt)


def _embed(embedder: _DocumentEmbedder, texts: list[str], dim: int) -> NDArray[np.float32]:
    vectors = np.asarray(embedder.embed(texts), dtype=np.float32)
    if vectors.shape != (len(texts), dim) or not np.isfinite(vectors).all():
        raise ValueError(
            f"embedder {embedder.name!r} returned shape {vectors.shape} (or non-finite values) "
            f"for {len(texts)} texts; expected ({len(texts)}, {dim}) finite floats"
        )
    return vectors


def sync_index(
    index: ChromaIndex,
    items: Iterable[IndexItem],
    embedder: _DocumentEmbedder,
    *,
    batch_size: int = 256,
    progress: bool = False,
    rebuild: bool = False,
) -> SyncReport:
    """Make ``index`` hold exactly ``items``, embedding only what is new or changed.

    Hold :func:`retrieval.index_lock` around it: one writer at a time.

    Args:
        index: The collection to update, opened for ``embedder``.
        items: Every item that should be indexed (the whole catalog slice, not a delta).
        embedder: Any ``Embedder`` (``name``, ``dim``, ``embed(texts) -> (n, dim)`` float32).
        batch_size: Items per embed call and per committed write.
        progress: Show a tqdm bar on stderr.
        rebuild: Drop the collection first and embed everything again.

    Returns:
        The counts of this run.

    Raises:
        IndexMismatchError: ``embedder`` is not the one the index was built with.
        ValueError: Duplicate item ids, a bad ``batch_size``, or an embedder returning the
            wrong shape.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if (embedder.name, embedder.dim) != (index.embedder_name, index.dim):
        raise IndexMismatchError(
            f"index {index.name!r} holds vectors of {index.embedder_name!r} (dim {index.dim}), "
            f"not {embedder.name!r} (dim {embedder.dim}): open it for this embedder with "
            "rebuild=True (`shopassist index --rebuild`)"
        )
    start = time.perf_counter()
    if rebuild:
        index.reset()
    wanted: dict[str, IndexItem] = {}
    for item in items:
        if item.id in wanted:
            raise ValueError(f"duplicate item id {item.id!r}: each id must appear once")
        wanted[item.id] = item
    stored = index.stored_hashes()

    doomed = sorted(set(stored) - set(wanted))
    to_embed: list[IndexItem] = []
    to_restamp: list[IndexItem] = []
    added = unchanged = 0
    for item_id in sorted(wanted):
        item = wanted[item_id]
        old = stored.get(item_id)
        if old is None:
            added += 1
            to_embed.append(item)
        elif old[0] == item.content_hash:
            unchanged += 1
        elif old[1] == item.text_hash:
            to_restamp.append(item)
        else:
            to_embed.append(item)
    updated = len(to_embed) - added + len(to_restamp)

    if doomed or to_embed or to_restamp or rebuild:
        index.bump_revision()
        index.delete(doomed)
        for start_at in range(0, len(to_restamp), batch_size):
            batch = to_restamp[start_at : start_at + batch_size]
            index.upsert(batch, index.get_vectors([item.id for item in batch]))
        with tqdm(
            total=len(to_embed),
            desc=f"index {index.name}",
            unit="item",
            file=sys.stderr,
            disable=not progress,
        ) as bar:
            for start_at in range(0, len(to_embed), batch_size):
                batch = to_embed[start_at : start_at + batch_size]
                index.upsert(batch, _embed(embedder, [item.text for item in batch], index.dim))
                bar.update(len(batch))
        index.bump_revision()

    report = SyncReport(
        collection=index.name,
        added=added,
        updated=updated,
        deleted=len(doomed),
        unchanged=unchanged,
        embedded=len(to_embed),
        seconds=time.perf_counter() - start,
        rebuilt=rebuild,
    )
    logger.info(
        "synced %s: %d added, %d updated, %d deleted, %d unchanged, %d embedded in %.1f s",
        report.collection,
        report.added,
        report.updated,
        report.deleted,
        report.unchanged,
        report.embedded,
        report.seconds,
    )
    return report
