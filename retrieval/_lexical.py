"""Lexical retrieval: Okapi BM25 over item texts, English and Chinese, and reciprocal rank fusion.

Tokens (:func:`tokenize`): text is NFKC-normalized and casefolded; Latin letters and digits make
words (a trailing plural ``s`` is dropped, a few stop words are skipped); each run of CJK
characters makes its overlapping character bigrams, and a lone CJK character is its own token.
Character bigrams need no dictionary and match Chinese queries well (Chinese IR has long used
them: Kwok, 1997; Elasticsearch's ``cjk`` analyzer does the same).

BM25 (Robertson and Zaragoza, 2009, "The Probabilistic Relevance Framework: BM25 and Beyond"):
``score(d, q) = sum over terms t of q: idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * |d| /
avgdl))`` with ``idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))``. The term weights are computed
once at build; a query sums its terms' posting lists with one ``bincount``.

RRF (Cormack et al., 2009, "Reciprocal Rank Fusion outperforms Condorcet and individual Rank
Learning Methods"): ``sum over lists of weight / (60 + rank)``.

Example:
    >>> tokenize("Stride Run 2 跑步鞋")
    ['stride', 'run', '2', '跑步', '步鞋']
    >>> index = BM25Index(["red running shoes", "kitchen knife", "跑步鞋"])
    >>> rows, _ = index.top_k("running shoe", 2)
    >>> rows.tolist()
    [0]
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["RRF_K", "BM25Index", "rrf_fuse", "tokenize"]

RRF_K = 60
"""The constant of reciprocal rank fusion (Cormack et al. use 60)."""

_TOKEN = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]+|[a-z0-9]+"
)
_STOP = frozenset(
    {
        "a",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "for",
        "from",
        "i",
        "in",
        "is",
        "it",
        "me",
        "my",
        "of",
        "on",
        "or",
        "r",
        "some",
        "something",
        "stuff",
        "that",
        "the",
        "this",
        "to",
        "u",
        "with",
        "want",
        "need",
    }
)


def _stem(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Index terms of ``text`` (see the module docs), in order, repeats kept."""
    out: list[str] = []
    for run in _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold()):
        if run[0].isascii():
            if run not in _STOP:
                out.append(_stem(run))
        elif len(run) == 1:
            out.append(run)
        else:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


class BM25Index:
    """BM25 over a fixed list of texts (rows in the same order as the texts).

    Args:
        texts: One text per row.
        k1: Term-frequency saturation.
        b: Length normalization.
    """

    def __init__(self, texts: Sequence[str], *, k1: float = 1.2, b: float = 0.75) -> None:
        self.n = len(texts)
        vocab: dict[str, int] = {}
        docs: list[int] = []
        terms: list[int] = []
        lengths = np.zeros(self.n, dtype=np.float32)
        for row, text in enumerate(texts):
            tokens = tokenize(text)
            lengths[row] = len(tokens)
            terms.extend(vocab.setdefault(t, len(vocab)) for t in tokens)
            docs.extend([row] * len(tokens))
        self._vocab = vocab
        pair = np.asarray(terms, dtype=np.int64) * max(self.n, 1) + np.asarray(docs, np.int64)
        keys, tf = np.unique(pair, return_counts=True)
        term_of, doc_of = keys // max(self.n, 1), keys % max(self.n, 1)
        df = np.bincount(term_of, minlength=len(vocab)).astype(np.float64)
        idf = np.log1p((self.n - df + 0.5) / (df + 0.5))
        avgdl = float(lengths.mean()) if self.n and lengths.mean() > 0 else 1.0
        norm = k1 * (1.0 - b + b * lengths[doc_of] / avgdl)
        weight = idf[term_of] * tf * (k1 + 1.0) / (tf + norm)
        # keys are sorted by term, then doc: a CSR of posting lists for free
        self._indptr = np.searchsorted(term_of, np.arange(len(vocab) + 1)).astype(np.int64)
        self._docs = doc_of.astype(np.int32)
        self._weights = weight.astype(np.float32)

    @property
    def vocabulary_size(self) -> int:
        """Distinct terms indexed."""
        return len(self._vocab)

    def scores(self, query: str) -> NDArray[np.float32]:
        """BM25 score of every row, shape ``(n,)``; 0 for rows sharing no term with ``query``."""
        ids = sorted({self._vocab[t] for t in tokenize(query) if t in self._vocab})
        if not ids:
            return np.zeros(self.n, dtype=np.float32)
        spans = [slice(self._indptr[i], self._indptr[i + 1]) for i in ids]
        docs = np.concatenate([self._docs[s] for s in spans])
        weights = np.concatenate([self._weights[s] for s in spans])
        return np.bincount(docs, weights=weights, minlength=self.n).astype(np.float32)

    def top_k(
        self, query: str, k: int, mask: NDArray[np.bool_] | None = None
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """The ``k`` best rows with a positive score among ``mask`` (default all), best first."""
        scores = self.scores(query)
        allowed = scores > 0 if mask is None else (scores > 0) & mask
        rows = np.flatnonzero(allowed)
        if rows.shape[0] > k:
            rows = rows[np.argpartition(-scores[rows], k - 1)[:k]]
        order = np.lexsort((rows, -scores[rows]))
        return rows[order].astype(np.int64), scores[rows[order]]


def rrf_fuse(
    rankings: Sequence[NDArray[np.int64]],
    k: int,
    *,
    weights: Sequence[float] | None = None,
    constant: int = RRF_K,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Weighted reciprocal rank fusion of ranked row lists; the ``k`` best, best first.

    Args:
        rankings: Each a ranked list of row numbers, shape ``(m_i,)``, best first.
        k: How many fused rows to return.
        weights: One per list (default all 1): ``sum of weight / (constant + rank)``.
        constant: The RRF constant.

    Returns:
        Rows, shape ``(m,)``, and fused scores, shape ``(m,)``; ties go to the lower row.

    Example:
        >>> rows, scores = rrf_fuse([np.array([3, 1]), np.array([1, 2])], 3)
        >>> rows.tolist(), [round(s * 61, 3) for s in scores.tolist()]
        ([1, 3, 2], [1.984, 1.0, 0.984])
    """
    if not rankings or all(r.shape[0] == 0 for r in rankings):
        return np.empty(0, np.int64), np.empty(0, np.float64)
    scale = [1.0] * len(rankings) if weights is None else list(weights)
    rows = np.concatenate(rankings)
    gains = np.concatenate(
        [w / (constant + 1.0 + np.arange(r.shape[0])) for w, r in zip(scale, rankings, strict=True)]
    )
    unique, inverse = np.unique(rows, return_inverse=True)
    fused = np.bincount(inverse, weights=gains)
    order = np.lexsort((unique, -fused))[:k]
    return unique[order].astype(np.int64), fused[order].astype(np.float64)
