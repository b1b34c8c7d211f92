"""Loading what serving turns needs, once per process: catalog snapshot, search index, embedder
and the extractor's vocabulary.

Everything here reads; only ``shopassist index`` (and the server's sync task) writes Chroma.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from assistant.conversation.snapshot import CatalogSnapshot, LiveCatalog
from assistant.errors import RetrievalError
from assistant.indexing import ACTIVITIES, PRODUCTS
from assistant.understanding import TextEmbedder, Vocabulary
from retrieval import (
    ChromaIndex,
    Embedder,
    ReloadingIndex,
    SearchIndex,
    VectorIndexError,
    load_search_index,
    make_client,
    make_embedder,
)

if TYPE_CHECKING:
    from assistant.app import Shop

__all__ = ["QueryCache", "ServingParts", "load_serving_parts"]

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


def load_serving_parts(shop: Shop) -> ServingParts:
    """Load the catalog snapshot, the search index (reloading on change) and the embedder.

    Raises:
        RetrievalError: The index is empty or missing (run ``shopassist index``), was built
            with another embedder, or the Chroma server is unreachable.
    """
    settings = shop.settings
    start = time.perf_counter()
    embedder = QueryCache(make_embedder(settings.embedder))
    try:
        client = make_client(path=Path(settings.var_dir) / "chroma", url=settings.chroma_url)
        products = ChromaIndex.open(client, PRODUCTS, dim=embedder.dim, embedder_name=embedder.name)
        activities = ChromaIndex.open(
            client, ACTIVITIES, dim=embedder.dim, embedder_name=embedder.name
        )
        if products.count() == 0:
            raise RetrievalError(
                "the search index is empty: build the catalog (`shopassist data demo` or "
                "`shopassist catalog import`) and run `shopassist index`"
            )
        live = ReloadingIndex(
            load=lambda: load_search_index(products, activities),
            revision=lambda: (products.revision, activities.revision),
        )
    except VectorIndexError as exc:
        raise RetrievalError(str(exc)) from exc
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
    return ServingParts(catalog, live.current, embedder, vocabulary)
