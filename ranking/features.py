"""Ranking features from plain inputs: a versioned schema, vocabularies and the :class:`Batch`.

The assistant passes plain values in (strings, numbers, numpy arrays); this module turns them into
the tensors :class:`ranking.model.DINRanker` reads. Nothing here knows about SQL or the catalog.

* :data:`FEATURE_SCHEMA_VERSION` / :data:`FEATURE_SPEC`: the fields and their order. Any change
  to a field, its order or its transform bumps the version; artifacts record it and refuse to
  load under another one.
* :class:`Vocabulary` / :class:`Vocabularies`: string ids to integer ids. ``0`` pads, ``1`` is the
  out-of-vocabulary id, so an unseen category, brand, item or segment (cold start) still scores.
* :class:`UserContext`: one request: who asks (member, new, segment, purchase history) and when.
* :class:`CandidateTable`: the candidates, one numpy column per field, shape ``(n,)``.
* :func:`build_batch`: validates once (NaN and inf are refused with the field's name) and returns
  a :class:`Batch`. An empty history is valid: all positions masked.

Example:
    >>> import numpy as np
    >>> vocab = Vocabularies.fit(
    ...     items=["i1"], categories=["shoes"], brands=["acme"], segments=["a"])
    >>> cands = CandidateTable(
    ...     item_ids=["i1", "i9"], categories=["shoes", "hats"], brands=["acme", "new"],
    ...     similarity=np.array([0.8, 0.1]), price=np.array([5000, 2000]),
    ...     final_price=np.array([4000, 2000]), has_deal=np.array([True, False]),
    ...     needs_claim=np.array([False, False]), hours_left=np.array([5.0, 0.0]),
    ...     popularity=np.array([10, 0]), freshness_days=np.array([3.0, 400.0]))
    >>> batch = build_batch(cands, [UserContext(hour=9, weekday=2)], vocab)
    >>> batch.category.tolist(), bool(batch.hist_mask.any())
    ([2, 1], False)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "FEATURE_SCHEMA_VERSION",
    "FEATURE_SPEC",
    "OOV_ID",
    "PAD_ID",
    "Batch",
    "CandidateTable",
    "FeatureSpec",
    "HistoryEvent",
    "UserContext",
    "Vocabularies",
    "Vocabulary",
    "build_batch",
]

FEATURE_SCHEMA_VERSION = "ranking-features/1"
PAD_ID = 0
OOV_ID = 1


@dataclass(frozen=True)
class FeatureSpec:
    """The feature schema: field names in tensor order, and the fixed transforms' constants.

    Attributes:
        version: the schema version, recorded in every artifact.
        numeric: per-candidate numeric fields, the columns of :attr:`Batch.numeric`.
        user_numeric: per-request numeric fields, the columns of :attr:`Batch.user_numeric`.
        categorical: the id fields, each with its own :class:`Vocabulary`.
        history_len: ``L``, the history positions kept (the most recent events).
        max_hours_left: ``hours_left`` is clipped to ``[0, max_hours_left]`` and scaled to [0, 1].
    """

    version: str
    numeric: tuple[str, ...]
    user_numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    history_len: int
    max_hours_left: float


FEATURE_SPEC = FeatureSpec(
    version=FEATURE_SCHEMA_VERSION,
    numeric=(
        "similarity",
        "log_price",
        "log_final_price",
        "discount_depth",
        "has_deal",
        "needs_claim",
        "hours_left",
        "log_popularity",
        "log_freshness_days",
    ),
    user_numeric=(
        "is_member",
        "is_new",
        "hour_sin",
        "hour_cos",
        "weekday_sin",
        "weekday_cos",
        "log_history_len",
    ),
    categorical=("item", "category", "brand", "segment"),
    history_len=30,
    max_hours_left=168.0,
)


@dataclass(frozen=True)
class Vocabulary:
    """String tokens to ids: ``0`` is padding, ``1`` out of vocabulary, known tokens from ``2``.

    Attributes:
        tokens: the known tokens in id order (``tokens[0]`` has id 2).
    """

    tokens: tuple[str, ...]
    _index: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {tok: i + 2 for i, tok in enumerate(self.tokens)}
        if len(index) != len(self.tokens):
            raise ValueError("vocabulary tokens must be unique")
        object.__setattr__(self, "_index", index)

    @classmethod
    def fit(cls, tokens: Iterable[str]) -> Vocabulary:
        """Known tokens in sorted order, so the same data always gives the same ids."""
        return cls(tuple(sorted(set(tokens))))

    @property
    def size(self) -> int:
        """Embedding rows needed: the known tokens plus padding and OOV."""
        return len(self.tokens) + 2

    def lookup(self, tokens: Iterable[str]) -> NDArray[np.int64]:
        """Ids of ``tokens``; unseen ones map to :data:`OOV_ID`."""
        index = self._index
        return np.fromiter((index.get(t, OOV_ID) for t in tokens), dtype=np.int64)


@dataclass(frozen=True)
class Vocabularies:
    """One :class:`Vocabulary` per categorical field of :data:`FEATURE_SPEC`."""

    item: Vocabulary
    category: Vocabulary
    brand: Vocabulary
    segment: Vocabulary

    @classmethod
    def fit(
        cls,
        *,
        items: Iterable[str],
        categories: Iterable[str],
        brands: Iterable[str],
        segments: Iterable[str],
    ) -> Vocabularies:
        """Vocabularies of the tokens seen in training data."""
        return cls(
            item=Vocabulary.fit(items),
            category=Vocabulary.fit(categories),
            brand=Vocabulary.fit(brands),
            segment=Vocabulary.fit(segments),
        )

    def to_json(self) -> dict[str, list[str]]:
        """A JSON-ready form, for the artifact manifest."""
        return {name: list(getattr(self, name).tokens) for name in FEATURE_SPEC.categorical}

    @classmethod
    def from_json(cls, data: Mapping[str, Sequence[str]]) -> Vocabularies:
        """The inverse of :meth:`to_json`."""
        return cls(**{name: Vocabulary(tuple(data[name])) for name in FEATURE_SPEC.categorical})


@dataclass(frozen=True)
class HistoryEvent:
    """One past purchase (or other strong signal) of the user.

    Attributes:
        item_id: the catalog's item id.
        category: the item's category id.
        brand: the item's brand id.
        days_ago: how long ago, in days (>= 0).
    """

    item_id: str
    category: str
    brand: str
    days_ago: float


@dataclass(frozen=True)
class UserContext:
    """One request: the user's features and history, and when it happens (shop time).

    Attributes:
        hour: hour of day, 0-23.
        weekday: Monday = 0 ... Sunday = 6.
        is_member: the user is a member.
        is_new: the user is new (no orders yet).
        segment: the user's segment id ("" when none; unseen ones are OOV).
        history: past events in any order; the ``history_len`` most recent are kept.
    """

    hour: int
    weekday: int
    is_member: bool = False
    is_new: bool = False
    segment: str = ""
    history: tuple[HistoryEvent, ...] = ()


@dataclass(frozen=True)
class CandidateTable:
    """The candidates to score, one column per field, each of shape ``(n,)``.

    Attributes:
        item_ids: catalog item ids.
        categories: category ids.
        brands: brand ids.
        similarity: query-item semantic similarity (cosine, from the retriever).
        price: list price in minor units (> 0).
        final_price: price after the best deal for this shopper now, minor units.
        has_deal: some deal applies.
        needs_claim: the best deal needs a coupon claim first.
        hours_left: hours until the best deal ends (0 when no deal; clipped).
        popularity: recent purchase (or click) count of the item (>= 0).
        freshness_days: days since the item was listed (>= 0).
    """

    item_ids: Sequence[str]
    categories: Sequence[str]
    brands: Sequence[str]
    similarity: ArrayLike
    price: ArrayLike
    final_price: ArrayLike
    has_deal: ArrayLike
    needs_claim: ArrayLike
    hours_left: ArrayLike
    popularity: ArrayLike
    freshness_days: ArrayLike

    def __len__(self) -> int:
        return len(self.item_ids)


@dataclass(frozen=True)
class Batch:
    """Model-ready tensors for ``n`` candidate rows over ``u`` requests.

    Per-request tensors are stored once and gathered by :attr:`request_index`, so scoring 500
    candidates for one user embeds and attends over one history, not 500 copies.

    Attributes:
        numeric: float32, shape ``(n, len(FEATURE_SPEC.numeric))``.
        item: int64 ids, shape ``(n,)``.
        category: int64 ids, shape ``(n,)``.
        brand: int64 ids, shape ``(n,)``.
        request_index: int64, shape ``(n,)``, each row's request in ``[0, u)``.
        user_numeric: float32, shape ``(u, len(FEATURE_SPEC.user_numeric))``.
        segment: int64 ids, shape ``(u,)``.
        hist_item: int64 ids, shape ``(u, L)``, padded with :data:`PAD_ID`.
        hist_category: int64 ids, shape ``(u, L)``.
        hist_brand: int64 ids, shape ``(u, L)``.
        hist_recency: float32 ``log1p(days_ago)``, shape ``(u, L)``.
        hist_mask: bool, shape ``(u, L)``, True where a real event sits.
    """

    numeric: torch.Tensor
    item: torch.Tensor
    category: torch.Tensor
    brand: torch.Tensor
    request_index: torch.Tensor
    user_numeric: torch.Tensor
    segment: torch.Tensor
    hist_item: torch.Tensor
    hist_category: torch.Tensor
    hist_brand: torch.Tensor
    hist_recency: torch.Tensor
    hist_mask: torch.Tensor

    def __len__(self) -> int:
        return int(self.item.shape[0])

    @property
    def n_requests(self) -> int:
        """``u``, the number of requests."""
        return int(self.segment.shape[0])

    def take(self, rows: torch.Tensor) -> Batch:
        """The sub-batch of ``rows`` (int64, shape ``(m,)``), with only the requests it uses."""
        requests, local = torch.unique(self.request_index[rows], return_inverse=True)
        return Batch(
            numeric=self.numeric[rows],
            item=self.item[rows],
            category=self.category[rows],
            brand=self.brand[rows],
            request_index=local,
            user_numeric=self.user_numeric[requests],
            segment=self.segment[requests],
            hist_item=self.hist_item[requests],
            hist_category=self.hist_category[requests],
            hist_brand=self.hist_brand[requests],
            hist_recency=self.hist_recency[requests],
            hist_mask=self.hist_mask[requests],
        )

    def to(self, device: torch.device | str) -> Batch:
        """The same batch on ``device``."""
        return Batch(**{name: getattr(self, name).to(device) for name in _BATCH_FIELDS})


_BATCH_FIELDS = tuple(Batch.__dataclass_fields__)


def _column(name: str, values: ArrayLike, n: int) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (n,):
        raise ValueError(f"candidate field {name!r} must have shape ({n},), got {arr.shape}")
    if not np.isfinite(arr).all():
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(
            f"candidate field {name!r} holds a non-finite value ({arr[bad]}) at row {bad}; "
            "pass finite numbers (e.g. 0 hours left when there is no deal)"
        )
    return arr


def _candidate_numeric(cands: CandidateTable, spec: FeatureSpec) -> NDArray[np.float32]:
    n = len(cands)
    for name in ("categories", "brands"):
        if len(getattr(cands, name)) != n:
            raise ValueError(f"candidate field {name!r} must have {n} entries")
    similarity = _column("similarity", cands.similarity, n)
    price = _column("price", cands.price, n)
    final_price = _column("final_price", cands.final_price, n)
    has_deal = _column("has_deal", cands.has_deal, n)
    needs_claim = _column("needs_claim", cands.needs_claim, n)
    hours_left = _column("hours_left", cands.hours_left, n)
    popularity = _column("popularity", cands.popularity, n)
    freshness = _column("freshness_days", cands.freshness_days, n)
    if (price <= 0).any():
        raise ValueError("candidate field 'price' must be > 0 (minor units)")
    if (final_price < 0).any() or (final_price > price).any():
        raise ValueError("candidate field 'final_price' must lie in [0, price]")
    if (popularity < 0).any() or (freshness < 0).any():
        raise ValueError("candidate fields 'popularity' and 'freshness_days' must be >= 0")
    columns = {
        "similarity": similarity,
        "log_price": np.log1p(price),
        "log_final_price": np.log1p(final_price),
        "discount_depth": 1.0 - final_price / price,
        "has_deal": has_deal,
        "needs_claim": needs_claim,
        "hours_left": np.clip(hours_left, 0.0, spec.max_hours_left) / spec.max_hours_left,
        "log_popularity": np.log1p(popularity),
        "log_freshness_days": np.log1p(freshness),
    }
    return np.stack([columns[name] for name in spec.numeric], axis=1).astype(np.float32)


def _user_numeric(user: UserContext, spec: FeatureSpec) -> list[float]:
    if not (0 <= user.hour <= 23 and 0 <= user.weekday <= 6):
        raise ValueError(
            f"hour must be 0-23 and weekday 0-6, got hour={user.hour} weekday={user.weekday}"
        )
    hour_angle = 2.0 * math.pi * user.hour / 24.0
    day_angle = 2.0 * math.pi * user.weekday / 7.0
    columns = {
        "is_member": float(user.is_member),
        "is_new": float(user.is_new),
        "hour_sin": math.sin(hour_angle),
        "hour_cos": math.cos(hour_angle),
        "weekday_sin": math.sin(day_angle),
        "weekday_cos": math.cos(day_angle),
        "log_history_len": math.log1p(len(user.history)),
    }
    return [columns[name] for name in spec.user_numeric]


def build_batch(
    candidates: CandidateTable,
    requests: Sequence[UserContext],
    vocab: Vocabularies,
    *,
    request_index: ArrayLike | None = None,
    spec: FeatureSpec = FEATURE_SPEC,
) -> Batch:
    """Validate plain inputs and build a :class:`Batch`.

    Args:
        candidates: ``n`` candidate rows.
        requests: the ``u`` requests the rows belong to.
        vocab: the vocabularies of the artifact that will score the batch.
        request_index: shape ``(n,)``, each row's position in ``requests``; may be omitted when
            there is exactly one request (serving: one user, many candidates).
        spec: the feature schema (the default is the only one this code builds).

    Raises:
        ValueError: a non-finite or out-of-range field (named in the message), mismatched
            lengths, or a missing ``request_index``.
    """
    n, u, length = len(candidates), len(requests), spec.history_len
    if u == 0:
        raise ValueError("at least one request is needed")
    if request_index is None:
        if u != 1:
            raise ValueError(f"request_index is required with {u} requests")
        index = np.zeros(n, dtype=np.int64)
    else:
        index = np.asarray(request_index, dtype=np.int64)
        if index.shape != (n,) or (n and (index.min() < 0 or index.max() >= u)):
            raise ValueError(f"request_index must have shape ({n},) with values in [0, {u})")
    numeric = _candidate_numeric(candidates, spec)

    hist_ids = np.zeros((3, u, length), dtype=np.int64)
    hist_recency = np.zeros((u, length), dtype=np.float32)
    hist_mask = np.zeros((u, length), dtype=bool)
    for r, user in enumerate(requests):
        days = np.array([e.days_ago for e in user.history], dtype=np.float64)
        if not np.isfinite(days).all() or (days < 0).any():
            raise ValueError(f"history field 'days_ago' must be finite and >= 0 (request {r})")
        recent = [user.history[i] for i in np.argsort(days, kind="stable")[:length]]
        k = len(recent)
        if k:
            hist_ids[0, r, :k] = vocab.item.lookup(e.item_id for e in recent)
            hist_ids[1, r, :k] = vocab.category.lookup(e.category for e in recent)
            hist_ids[2, r, :k] = vocab.brand.lookup(e.brand for e in recent)
            hist_recency[r, :k] = np.log1p([e.days_ago for e in recent])
            hist_mask[r, :k] = True
    user_numeric = np.array([_user_numeric(user, spec) for user in requests], dtype=np.float32)

    return Batch(
        numeric=torch.from_numpy(numeric),
        item=torch.from_numpy(vocab.item.lookup(candidates.item_ids)),
        category=torch.from_numpy(vocab.category.lookup(candidates.categories)),
        brand=torch.from_numpy(vocab.brand.lookup(candidates.brands)),
        request_index=torch.from_numpy(index),
        user_numeric=torch.from_numpy(user_numeric),
        segment=torch.from_numpy(vocab.segment.lookup(user.segment for user in requests)),
        hist_item=torch.from_numpy(hist_ids[0]),
        hist_category=torch.from_numpy(hist_ids[1]),
        hist_brand=torch.from_numpy(hist_ids[2]),
        hist_recency=torch.from_numpy(hist_recency),
        hist_mask=torch.from_numpy(hist_mask),
    )
