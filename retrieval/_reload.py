"""Keep an in-memory :class:`~retrieval.search.SearchIndex` in step with its source's revision.

Chroma is written only by ``shopassist index`` and the server's sync task; each write bumps the
collections' ``revision`` (:attr:`retrieval.ChromaIndex.revision`). Readers hold a
:class:`ReloadingIndex`: it asks for the source's revision at most every ``check_every_s``
seconds and rebuilds the search index when the revision moved, so every worker converges on
the new catalog without restarting.

Example:
    >>> live = ReloadingIndex(
    ...     load=lambda: load_search_index(products, activities, texts=texts),
    ...     revision=lambda: (products.revision, activities.revision),
    ... )  # doctest: +SKIP
    >>> live.current().search("跑鞋", embedder=use)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING, Any

from retrieval.search import SearchIndex

if TYPE_CHECKING:
    from retrieval.index import ChromaIndex

__all__ = ["ReloadingIndex", "load_search_index"]

logger = logging.getLogger(__name__)


def load_search_index(
    products: ChromaIndex,
    activities: ChromaIndex,
    *,
    texts: Mapping[str, str] | None = None,
    attempts: int = 3,
    **options: Any,
) -> SearchIndex:
    """A search index of two Chroma collections, exported consistently.

    The revisions are read before and after the export; if a sync wrote in between, the
    export is taken again (up to ``attempts`` times, then the last one is used: the next
    revision check reloads it anyway).

    Args:
        products: The products collection.
        activities: The activities collection.
        texts: Item id -> embedded text, for lexical and hybrid search (Chroma keeps none).
        attempts: Exports to try.
        **options: :class:`SearchIndex` options.

    Returns:
        The index; its ``revision`` is the sum of the two collections' revisions, which rises
        with every write to either.
    """
    for attempt in range(max(attempts, 1)):
        before = products.revision + activities.revision
        exported = products.export(), activities.export()
        after = products.revision + activities.revision
        if before == after:
            break
        logger.info("catalog changed during export (attempt %d); exporting again", attempt + 1)
    return SearchIndex.from_exports(*exported, texts=texts, revision=after, **options)


class ReloadingIndex:
    """The current :class:`SearchIndex`, rebuilt whenever the source's revision changes.

    Args:
        load: Builds a fresh index from the source.
        revision: The source's revision now (cheap; e.g. the Chroma collections' counters).
        check_every_s: Minimum seconds between two revision checks (0: every call).

    Thread-safe: one caller rebuilds while the others keep using the previous index.
    """

    def __init__(
        self,
        load: Callable[[], SearchIndex],
        revision: Callable[[], Hashable],
        *,
        check_every_s: float = 1.0,
    ) -> None:
        self._load = load
        self._revision = revision
        self.check_every_s = check_every_s
        self._lock = threading.Lock()
        self._seen: Hashable = revision()
        self._index = load()
        self._checked = time.monotonic()
        self.reloads = 0
        self.error: str | None = None
        """Why the last revision check or reload failed (``None`` once one succeeds again)."""

    def __call__(self) -> SearchIndex:
        """:meth:`current`: the instance itself serves as a ``Callable[[], SearchIndex]``."""
        return self.current()

    def current(self) -> SearchIndex:
        """The index for the source's latest revision (reloading first if it moved).

        When the source cannot be read (a damaged or deleted index), the last index loaded
        keeps answering and :attr:`error` says why; the next check tries again.
        """
        now = time.monotonic()
        if now - self._checked < self.check_every_s or not self._lock.acquire(blocking=False):
            return self._index
        try:
            self._checked = now
            seen = self._revision()
            if seen != self._seen:
                logger.info("catalog revision %r -> %r: reloading search index", self._seen, seen)
                self._index = self._load()
                self._seen = seen
                self.reloads += 1
            self.error = None
        except Exception as exc:  # any reader failure: keep serving what was loaded
            if self.error is None:
                logger.error("the search index cannot be reloaded (serving the last one): %s", exc)
            self.error = str(exc) or type(exc).__name__
        finally:
            self._lock.release()
        return self._index
