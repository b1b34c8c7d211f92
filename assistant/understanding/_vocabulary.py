"""The shop's words: category paths and brands with their English and Chinese names.

:class:`Vocabulary` maps phrases to catalog category paths and canonical brand names. Dictionary
hits are certain; when a message names no known category, an optional embedder maps its content
words to the nearest category by cosine similarity (not certain, so the LLM may override it).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from assistant.understanding._aliases import (
    AMBIGUOUS_BRAND_ALIASES,
    BRAND_ALIASES,
    CATEGORY_ALIASES,
    EXCLUDED_CATEGORY_ALIASES,
)
from assistant.understanding._matcher import Match, PhraseMatcher, Speller, variants

__all__ = ["DEFAULT_CATEGORY_THRESHOLD", "Match", "TextEmbedder", "Vocabulary", "demo_vocabulary"]

DEFAULT_CATEGORY_THRESHOLD = 0.6
"""Least cosine similarity for the embedder fallback (USE-multilingual; see docs/intent.md)."""


class TextEmbedder(Protocol):
    """What the category fallback needs of an embedder (``retrieval.Embedder`` fits).

    ``embed`` returns unit rows, shape ``(len(texts), dim)``; ``embed_query`` a unit vector,
    shape ``(dim,)``.
    """

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]: ...

    def embed_query(self, text: str) -> NDArray[np.float32]: ...


def _parent(path: str) -> str | None:
    return path.rsplit("/", 1)[0] if "/" in path else None


class Vocabulary:
    """Category and brand dictionaries, plus an optional embedder for unknown category words.

    Args:
        categories: category path -> names and aliases (any case; plurals are added).
        brands: canonical brand name -> aliases (the canonical name is always one).
        ambiguous_brand_aliases: aliases that are also ordinary words ("Global", "好奇"); they
            count only when written as the brand is, beside another brand, or with 的/牌/brand.
        embedder: maps an unknown category phrase to the nearest category; ``None``: no fallback.
        category_threshold: least cosine similarity for that fallback.

    Example:
        >>> vocab = Vocabulary({"shoes/running": ["running shoes", "跑鞋"]}, {"Nike": ["耐克"]})
        >>> [m.key for m in vocab.find_categories("耐克跑鞋")], vocab.paths
        (['shoes/running'], ('shoes/running',))
    """

    def __init__(
        self,
        categories: Mapping[str, Iterable[str]],
        brands: Mapping[str, Iterable[str]],
        *,
        ambiguous_brand_aliases: Iterable[str] = (),
        embedder: TextEmbedder | None = None,
        category_threshold: float = DEFAULT_CATEGORY_THRESHOLD,
    ) -> None:
        self._names = {path.strip("/"): tuple(names) for path, names in categories.items()}
        self._brand_names = {brand: tuple(names) for brand, names in brands.items()}
        self.paths: tuple[str, ...] = tuple(self._names)
        self.brands: tuple[str, ...] = tuple(self._brand_names)
        self._categories = PhraseMatcher(
            {
                path: set().union(*(variants(n) for n in names))
                for path, names in self._names.items()
            }
        )
        self._brands = PhraseMatcher(
            {
                brand: set().union(*(variants(n, plurals=False) for n in (brand, *names)))
                for brand, names in self._brand_names.items()
            }
        )
        self.ambiguous = frozenset(a.lower() for a in ambiguous_brand_aliases)
        words = {w for alias in self._categories.aliases for w in alias.split()}
        self.speller = Speller(w for w in words if w.isalpha())
        self.embedder = embedder
        self.category_threshold = category_threshold
        self._lock = threading.Lock()
        self._matrix: NDArray[np.float32] | None = None
        self._owners: list[str] = []

    @classmethod
    def from_catalog(
        cls,
        categories: Iterable[str],
        brands: Iterable[str],
        names: Mapping[str, tuple[str, str]] | None = None,
        brand_aliases: Mapping[str, Iterable[str]] | None = None,
        *,
        embedder: TextEmbedder | None = None,
        category_threshold: float = DEFAULT_CATEGORY_THRESHOLD,
    ) -> Vocabulary:
        """A vocabulary for a catalog's category paths and brands.

        Each path's aliases are its last segment ("shoes/running" -> "running"), its English
        and Chinese names from ``names`` and the hand-written synonyms of the demo catalog
        (:mod:`assistant.understanding._aliases`) that exist for it.

        Args:
            categories: category paths (a path's ancestors are added).
            brands: canonical brand names.
            names: path -> (English name, Chinese name).
            brand_aliases: brand -> more names (e.g. its Chinese name).
            embedder: see :class:`Vocabulary`.
            category_threshold: see :class:`Vocabulary`.
        """
        paths: set[str] = set()
        for path in categories:
            current: str | None = path.strip("/")
            while current:
                paths.add(current)
                current = _parent(current)
        names = names or {}
        table: dict[str, set[str]] = {}
        for path in sorted(paths):
            leaf = path.rsplit("/", 1)[-1]
            found = {leaf.replace("-", " ")} if not any(c.isdigit() for c in leaf) else set()
            found |= {n for n in names.get(path, ()) if n}
            found |= set(CATEGORY_ALIASES.get(path, ()))
            table[path] = {n for n in found if n.lower() not in EXCLUDED_CATEGORY_ALIASES}
        brand_table: dict[str, set[str]] = {b: set() for b in brands}
        for brand, more in (brand_aliases or {}).items():
            brand_table.setdefault(brand, set()).update(m for m in more if m)
        for brand, more in BRAND_ALIASES.items():
            if brand in brand_table:
                brand_table[brand].update(more)
        for brand, aliases in brand_table.items():
            # A single Chinese character is too ambiguous to be a brand on its own.
            brand_table[brand] = {a for a in aliases if len(a) > 1 or a.isascii()} | {brand}
        return cls(
            table,
            brand_table,
            ambiguous_brand_aliases=AMBIGUOUS_BRAND_ALIASES,
            embedder=embedder,
            category_threshold=category_threshold,
        )

    def with_embedder(
        self, embedder: TextEmbedder | None, *, category_threshold: float | None = None
    ) -> Vocabulary:
        """The same dictionaries with another embedder (or none)."""
        return Vocabulary(
            self._names,
            self._brand_names,
            ambiguous_brand_aliases=self.ambiguous,
            embedder=embedder,
            category_threshold=(
                self.category_threshold if category_threshold is None else category_threshold
            ),
        )

    def names(self, path: str) -> tuple[str, ...]:
        """The names and aliases a category path was built with."""
        return self._names.get(path, ())

    def find_categories(self, text: str) -> list[Match]:
        """Category hits in lower-case ``text``; an ancestor of another hit is dropped."""
        hits = self._categories.find(text)
        keys = {m.key for m in hits}
        return [m for m in hits if not any(k != m.key and k.startswith(m.key + "/") for k in keys)]

    def find_brands(self, text: str) -> list[Match]:
        """Every brand alias hit in lower-case ``text``, ambiguous ones included."""
        return self._brands.find(text)

    def correct(self, text: str) -> str:
        """``text`` with one-letter typos of category words fixed ("runing" -> "running")."""
        return self.speller.correct(text)

    def nearest_category(self, text: str) -> tuple[str, float] | None:
        """The category whose names are closest to ``text`` by the embedder, if close enough.

        Returns:
            ``(path, cosine)`` when the best cosine is at least ``category_threshold``; ``None``
            without an embedder, for blank text, or when nothing is close enough.
        """
        if self.embedder is None or not text.strip():
            return None
        matrix, owners = self._name_matrix()
        query = np.asarray(self.embedder.embed_query(text), dtype=np.float32)
        scores = matrix @ query
        best = int(np.argmax(scores))
        score = float(scores[best])
        return (owners[best], score) if score >= self.category_threshold else None

    def _name_matrix(self) -> tuple[NDArray[np.float32], list[str]]:
        """Each category name's unit vector, shape ``(n_names, dim)``, built once."""
        with self._lock:
            if self._matrix is None:
                assert self.embedder is not None
                owners: list[str] = []
                texts: list[str] = []
                for path, names in self._names.items():
                    for name in names:
                        owners.append(path)
                        texts.append(name)
                self._matrix = np.asarray(self.embedder.embed(texts), dtype=np.float32)
                self._owners = owners
            return self._matrix, self._owners


def demo_vocabulary(
    *, embedder: TextEmbedder | None = None, category_threshold: float = DEFAULT_CATEGORY_THRESHOLD
) -> Vocabulary:
    """The vocabulary of the demo catalog: every category of ``assistant.world`` and its brands.

    Example:
        >>> vocab = demo_vocabulary()
        >>> [m.key for m in vocab.find_categories("cheap running shoes")]
        ['shoes/running']
        >>> [m.key for m in vocab.find_brands("不要耐克")]
        ['Nike']
    """
    from assistant.world.catalog import CATEGORY_NAMES, LEAVES

    brand_aliases: dict[str, set[str]] = {}
    for leaf in LEAVES:
        for brand in leaf.brands:
            brand_aliases.setdefault(brand.en, set()).add(brand.zh)
    return Vocabulary.from_catalog(
        CATEGORY_NAMES,
        brand_aliases,
        CATEGORY_NAMES,
        brand_aliases,
        embedder=embedder,
        category_threshold=category_threshold,
    )
