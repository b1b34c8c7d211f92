"""Embedders: text -> unit vectors behind one :class:`Embedder` protocol.

* :class:`UseEmbedder`: USE-multilingual-v3, 512-d, English and Chinese in one space (default).
* :class:`MiniLMEmbedder`: all-MiniLM-L6-v2 through sentence-transformers, 384-d, English only.
* :class:`OpenAIEmbedder`: any OpenAI-compatible ``/v1/embeddings`` server (vLLM in production).
* :func:`make_embedder`: one of the above from ``"use" | "minilm" | "openai:<model>@<url>"``.

Nothing here downloads anything: the local models ship inside their pip packages, and
sentence-transformers is loaded with the hub switched off. Wrap any of them in
:class:`retrieval.cache.CachedEmbedder` to skip texts already embedded.
"""

from __future__ import annotations

from retrieval.embedders._base import Embedder, EmbeddingError
from retrieval.embedders._factory import EMBEDDER_SPECS, make_embedder
from retrieval.embedders._minilm import MiniLMEmbedder
from retrieval.embedders._openai import OpenAIEmbedder
from retrieval.embedders._use import UseEmbedder

__all__ = [
    "EMBEDDER_SPECS",
    "Embedder",
    "EmbeddingError",
    "MiniLMEmbedder",
    "OpenAIEmbedder",
    "UseEmbedder",
    "make_embedder",
]
