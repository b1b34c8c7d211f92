"""Loading what serving turns needs, once per process: catalog snapshot, search index, embedder
and the extractor's vocabulary.

Everything here reads; only ``shopassist index`` (and the server's sync task) writes Chroma.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from chromadb.errors import ChromaError
from numpy.typing import NDArray

from assistant.conversation.snapshot import CatalogSnapshot, LiveCatalog
from assistant.errors import RetrievalError
from assistant.indexing import ACTIVITIES, PRODUCTS
from assistant.understanding import TextEmbedder, Vocabulary
from retrieval import (
    ChromaIndex,
    Embedder,
    IndexDamagedError,
    ReloadingIndex,
    SearchIndex,
    VectorIndexError,
    load_search_index,
    make_client,
    make_embedder,
)

if TYPE_CHECKING:
    from assistant.app import Shop

__all__ = ["QueryCache", "ServingParts", "index_error", "load_serving_parts"]

logger = logging.getLogger(__name__)


class QueryCache:
    """An embedder's ``embed_query`` with an in-memory LRU: shoppers repeat short queries."""

    def __init__(self, embedder: Embedder, size: int = 4096) -> None:
        self.embedder = embedder
        self.name = embedder.name
        self.dim = embedder.dim
        self._cached: Callable[[str], NDArray[np.float32]] = lru_cache(maxsize=size)(
            embedder.embed_query
        )

    def embed_query(self, text: str) -> NDArray[np.float32]:
        """The query's unit vector, shape ``(dim,)`` (do not modify it: it is shared)."""
        return self._cached(text)

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Pass-through to the embedder, shape ``(len(texts), dim)``."""
        return self.embedder.embed(texts)


@dataclass(frozen=True)
class ServingParts:
    """What :class:`~assistant.conversation.Assistant` needs, loaded."""

    catalog: LiveCatalog
    index: Callable[[], SearchIndex]
    embedder: QueryCache
    vocabulary: Vocabulary


def catalog_vocabulary(snapshot: CatalogSnapshot, embedder: TextEmbedder | None) -> Vocabulary:
    """The extractor's vocabulary: the catalog's categories and brands, with the demo world's
    English and Chinese names and brand aliases wherever they apply."""
    from assistant.world.catalog import CATEGORY_NAMES, LEAVES

    brand_aliases: dict[str, set[str]] = {}
    for leaf in LEAVES:
        for brand in leaf.brands:
            brand_aliases.setdefault(brand.en, set()).add(brand.zh)
    return Vocabulary.from_catalog(
        {p.category for p in snapshot.info.values()},
        {p.brand for p in snapshot.info.values()},
        CATEGORY_NAMES,
        brand_aliases,
        embedder=embedder,
    )


class _Collections:
    """The products and activities collections, opened again when the local directory was
    replaced (deleted and rebuilt by ``shopassist index --rebuild``): the old handles would
    keep reading the old, unlinked files, and their revisions would never move."""

    def __init__(self, directory: Path, url: str | None, embedder: QueryCache) -> None:
        self._directory = directory
        self._url = url
        self._embedder = embedder
        self._open()

    def _file(self) -> tuple[int, int] | None:
        if self._url:
            return None
        try:
            stat = (self._directory / "chroma.sqlite3").stat()
        except FileNotFoundError:
            return None
        return stat.st_dev, stat.st_ino

    def _open(self) -> None:
        dim, name = self._embedder.dim, self._embedder.name
        client = make_client(path=self._directory, url=self._url)
        self.products = ChromaIndex.open(client, PRODUCTS, dim=dim, embedder_name=name)
        self.activities = ChromaIndex.open(client, ACTIVITIES, dim=dim, embedder_name=name)
        self.file = self._file()

    def revision(self) -> tuple[tuple[int, int] | None, int, int]:
        """Which directory and revision the collections are at (any change means reload)."""
        file = self._file()
        if file != self.file:
            if file is None:  # do not recreate it empty: keep serving what was loaded
                raise IndexDamagedError(
                    f"the Chroma directory {self._directory} is gone: run "
                    "`shopassist index --rebuild`"
                )
            self._open()
        return self.file, self.products.revision, self.activities.revision

    def load(self) -> SearchIndex:
        """Both collections, exported into a search index (taken up again first: an in-place
        ``--rebuild`` replaces them)."""
        self.products.refresh()
        self.activities.refresh()
        return load_search_index(self.products, self.activities)


def load_serving_parts(shop: Shop) -> ServingParts:
    """Load the catalog snapshot, the search index (reloading on change) and the embedder.

    Raises:
        RetrievalError: The index is empty or missing (run ``shopassist index``), was built
            with another embedder, is damaged (run ``shopassist index --rebuild``), or the
            Chroma server is unreachable.
    """
    settings = shop.settings
    start = time.perf_counter()
    embedder = QueryCache(make_embedder(settings.embedder))
    try:
        source = _Collections(Path(settings.var_dir) / "chroma", settings.chroma_url, embedder)
        if source.products.count() == 0:
            raise RetrievalError(
                "the search index is empty: build the catalog (`shopassist data demo` or "
                "`shopassist catalog import`) and run `shopassist index`"
            )
        live = ReloadingIndex(load=source.load, revision=source.revision)
    except VectorIndexError as exc:
        raise RetrievalError(str(exc)) from exc
    except (ChromaError, sqlite3.DatabaseError) as exc:
        raise RetrievalError(
            f"the search index cannot be read ({exc}): the Chroma index is damaged; run "
            "`shopassist index --rebuild` (SQL is the source of truth, nothing is lost)"
        ) from exc
    catalog = LiveCatalog(shop.sessions)
    snapshot = catalog.current()
    vocabulary = catalog_vocabulary(snapshot, embedder)
    logger.info(
        "serving parts loaded in %.1f s: %d products, %d activities, index revision %s",
        time.perf_counter() - start,
        len(snapshot.info),
        len(snapshot.activities),
        live.current().revision,
    )
    return ServingParts(catalog, live, embedder, vocabulary)


def index_error(index: Callable[[], SearchIndex]) -> str | None:
    """Why a serving index (:attr:`ServingParts.index`) cannot follow the index on disk, or
    ``None`` while it can.

    Checks the source first (at most once per ``check_every_s``, reloading when it moved). A
    reload that fails (the Chroma directory deleted or damaged) leaves turns on the last index
    loaded; this says so, with what repairs it, so that health checks do not report ``ok``.
    """
    index()
    error = index.error if isinstance(index, ReloadingIndex) else None
    if error is None:
        return None
    hint = "" if "shopassist index" in error else "; run `shopassist index --rebuild`"
    return f"the search index cannot be reloaded, turns use the one loaded before: {error}{hint}"
