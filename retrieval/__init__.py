"""shopassist's `retrieval` package: standalone, it imports no project package (DESIGN.md)."""

from __future__ import annotations

from retrieval._filters import Filters
from retrieval._index_errors import (
    ChromaUnavailableError,
    IndexDamagedError,
    IndexLockedError,
    IndexMismatchError,
    VectorIndexError,
)
from retrieval._index_meta import (
    MAX_EPOCH,
    ActivityMeta,
    IndexItem,
    MetaValue,
    ProductMeta,
    activities_for_category_where,
    category_subtree_where,
    live_where,
    where_all,
)
from retrieval._lock import index_lock
from retrieval._reload import ReloadingIndex, load_search_index
from retrieval.cache import CachedEmbedder, CacheStats, EmbeddingCache, text_key
from retrieval.embedders import (
    EMBEDDER_SPECS,
    Embedder,
    EmbeddingError,
    MiniLMEmbedder,
    OpenAIEmbedder,
    UseEmbedder,
    make_embedder,
)
from retrieval.index import (
    SCHEMA_VERSION,
    ChromaIndex,
    IndexExport,
    discard_local_index,
    make_client,
)
from retrieval.metrics import mrr, ndcg_at_k, recall_at_k, recall_vs_exact
from retrieval.search import DEFAULT_MODE, Hit, Mode, SearchIndex, SearchResult
from retrieval.sync import SyncReport, sync_index

__all__: list[str] = [
    # embedders and the embedding cache
    "EMBEDDER_SPECS",
    "CacheStats",
    "CachedEmbedder",
    "Embedder",
    "EmbeddingCache",
    "EmbeddingError",
    "MiniLMEmbedder",
    "OpenAIEmbedder",
    "UseEmbedder",
    "make_embedder",
    "text_key",
    # Chroma indexes, their metadata schema, sync and the writer lock
    "MAX_EPOCH",
    "SCHEMA_VERSION",
    "ActivityMeta",
    "ChromaIndex",
    "ChromaUnavailableError",
    "IndexDamagedError",
    "IndexExport",
    "IndexItem",
    "IndexLockedError",
    "IndexMismatchError",
    "MetaValue",
    "ProductMeta",
    "SyncReport",
    "VectorIndexError",
    "activities_for_category_where",
    "category_subtree_where",
    "discard_local_index",
    "index_lock",
    "live_where",
    "make_client",
    "sync_index",
    "where_all",
    # fast filtered search, expansion, reload by revision, and retrieval metrics
    "DEFAULT_MODE",
    "Filters",
    "Hit",
    "Mode",
    "ReloadingIndex",
    "SearchIndex",
    "SearchResult",
    "load_search_index",
    "mrr",
    "ndcg_at_k",
    "recall_at_k",
    "recall_vs_exact",
]
