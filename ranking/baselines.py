"""Baselines the neural ranker must beat, on the same :class:`~ranking.tasks.RankingData`.

Every baseline follows :class:`Baseline`: ``fit(data, params, seed)`` on the training split (and
the training period's :class:`~ranking.tasks.Interactions`), then ``score(split)``, higher is
better, one finite float64 per row. :func:`tune` tries parameter settings from :data:`GRIDS` and
keeps the best on validation NDCG@10 of the click label. Registered in :data:`BASELINES`:

* ``popularity``: the ``log_popularity`` column. No parameters.
* ``frequency-recency``: ``a * log_user_item_count + b * user_item_recency +
  c * user_category_share + 1e-6 * log_popularity``, the strong "buy it again" baseline of
  next-basket recommendation (Hu, Rijke et al., "Modeling Personalized Item Frequency
  Information for Next-basket Recommendation", SIGIR 2020). Needs feature schema v2 columns.
* ``similarity``: the query-item ``similarity`` column only.
* ``logistic``: :class:`LogisticRanker`, the seed's formula, ``l2`` tuned.
* ``lightgbm-binary`` / ``lightgbm-lambdarank``: gradient-boosted trees (Ke et al., NeurIPS
  2017) on the candidate numeric columns, the request's user numeric columns and category, brand
  and segment ids as categorical features; the binary objective on the click label, or
  LambdaRank (Burges, 2010) over the training ``groups``. Early stopping on validation NDCG@10.
* ``als``: implicit-feedback matrix factorisation (Hu, Koren and Volinsky, ICDM 2008) of the
  training interactions, ``score = user factor . item factor``; rows whose user or item has no
  training interaction fall back to ``log_popularity``, placed below every factor score.

Columns are looked up by name in :data:`~ranking.features.FEATURE_SPEC`, never by position.
``lightgbm`` and ``implicit`` are imported inside the baselines that use them, so the rest of
``ranking`` runs with torch, numpy and pyarrow only.

:class:`LogisticRanker`: the seed's formula, ``f(x, h) = sigmoid(w . [h_t; x] + b)``, trained with
cross-entropy. ``x`` is the standardised numeric candidate and user features plus one-hot
category and brand; ``h_t`` is the history summarised as its category histogram. Linear in both,
it cannot express "this candidate's category is in this user's history", which is what the
attention in :class:`~ranking.model.DINRanker` is for.

Example:
    >>> import numpy as np
    >>> from ranking.features import CandidateTable, UserContext, Vocabularies, build_batch
    >>> vocab = Vocabularies.fit(items=["a"], categories=["c"], brands=["b"], segments=[])
    >>> cands = CandidateTable(["a", "a"], ["c", "c"], ["b", "b"], np.array([0.9, 0.1]),
    ...     np.array([100, 100]), np.array([100, 100]), np.zeros(2), np.zeros(2), np.zeros(2),
    ...     np.ones(2), np.ones(2))
    >>> batch = build_batch(cands, [UserContext(hour=0, weekday=0)], vocab)
    >>> lr = LogisticRanker(vocab).fit(batch, np.array([1.0, 0.0]))
    >>> bool(lr.score(batch)[0] > lr.score(batch)[1])
    True

    With a :class:`~ranking.tasks.RankingData` ``data`` from :func:`~ranking.tasks.build_task`::

        result = tune("lightgbm-lambdarank", data, trials=8, seed=0)
        test_scores = result.baseline.score(data.test)
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from torch import nn

from ranking.features import (
    FEATURE_SPEC,
    FREQUENCY_RECENCY_WEIGHTS,
    PAD_ID,
    Batch,
    Vocabularies,
    frequency_recency,
)
from ranking.metrics import ndcg_at_k
from ranking.tasks import RankingData, Split

__all__ = [
    "BASELINES",
    "GRIDS",
    "NUM_THREADS",
    "TUNE_K",
    "AlsBaseline",
    "Baseline",
    "FrequencyRecencyBaseline",
    "LightGBMBinaryBaseline",
    "LightGBMLambdaRankBaseline",
    "LogisticBaseline",
    "LogisticRanker",
    "PopularityBaseline",
    "SimilarityBaseline",
    "Trial",
    "TuneResult",
    "tune",
]

logger = logging.getLogger(__name__)

#: The metric :func:`tune` selects on (and LightGBM stops early on): NDCG at this cutoff.
TUNE_K = 10

#: Threads LightGBM and implicit's ALS use. Results do not depend on it; on a machine busy with
#: other work, fewer threads avoid OpenMP spin-waiting (the tests set 1).
NUM_THREADS = 2


def _one_hot(ids: torch.Tensor, width: int) -> torch.Tensor:
    """float32 one-hot rows (``nn.functional.one_hot`` builds int64 first: 2x the memory)."""
    out = torch.zeros(len(ids), width)
    out[torch.arange(len(ids)), ids] = 1.0
    return out


class LogisticRanker:
    """Logistic regression over ``[h_t; x]`` (see the module doc), fitted with L-BFGS.

    Args:
        vocab: the vocabularies the batches are built with (sizes the one-hot blocks).
        l2: L2 penalty on the weights.
    """

    def __init__(self, vocab: Vocabularies, l2: float = 1e-4) -> None:
        self.n_categories = vocab.category.size
        self.n_brands = vocab.brand.size
        self.l2 = l2
        self.mean: torch.Tensor | None = None
        self.std: torch.Tensor | None = None
        self.linear: nn.Linear | None = None

    def _features(self, batch: Batch) -> torch.Tensor:
        ri = batch.request_index
        dense = torch.cat([batch.numeric, batch.user_numeric[ri]], dim=1)
        if self.mean is None or self.std is None:
            self.mean, self.std = dense.mean(dim=0), dense.std(dim=0).clamp_min(1e-6)
        dense = (dense - self.mean) / self.std
        cat = _one_hot(batch.category, self.n_categories)
        brand = _one_hot(batch.brand, self.n_brands)
        mask = batch.hist_mask.float()
        hist = nn.functional.one_hot(batch.hist_category, self.n_categories).float()
        hist = (hist * mask.unsqueeze(-1)).sum(dim=1) / mask.sum(dim=1, keepdim=True).clamp_min(1)
        hist[:, PAD_ID] = 0.0
        return torch.cat([hist[ri], dense, cat, brand], dim=1)

    def fit(self, batch: Batch, labels: ArrayLike, steps: int = 200) -> LogisticRanker:
        """Fit on ``batch`` with binary ``labels`` of shape ``(n,)``; returns ``self``."""
        y = torch.as_tensor(np.asarray(labels, dtype=np.float32))
        if y.shape != (len(batch),):
            raise ValueError(f"labels must have shape ({len(batch)},), got {tuple(y.shape)}")
        self.mean = self.std = None
        x = self._features(batch)
        linear = nn.Linear(x.shape[1], 1)
        nn.init.zeros_(linear.weight)
        nn.init.zeros_(linear.bias)
        opt = torch.optim.LBFGS(linear.parameters(), max_iter=steps, line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            opt.zero_grad()
            logits = linear(x).squeeze(1)
            loss = nn.functional.binary_cross_entropy_with_logits(logits, y)
            loss = loss + self.l2 * linear.weight.pow(2).sum()
            loss.backward()  # type: ignore[no-untyped-call]
            return loss

        opt.step(closure)  # type: ignore[no-untyped-call]
        self.linear = linear
        return self

    def score(self, batch: Batch, chunk: int = 20_000) -> NDArray[np.float32]:
        """Probabilities, shape ``(n,)``; scored ``chunk`` rows at a time, since the one-hot
        blocks make each row as wide as the category and brand vocabularies."""
        if self.linear is None:
            raise RuntimeError("LogisticRanker.score before fit")
        linear = self.linear
        parts = []
        with torch.inference_mode():
            for start in range(0, len(batch), chunk):
                rows = torch.arange(start, min(start + chunk, len(batch)))
                logits = linear(self._features(batch.take(rows))).squeeze(1)
                parts.append(torch.sigmoid(logits).numpy())
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


class Baseline(Protocol):
    """A ranking baseline: fitted once on a task, then scores any of its splits.

    Attributes:
        name: the registry name (a key of :data:`BASELINES`).
    """

    name: str

    def fit(self, data: RankingData, params: Mapping[str, Any], seed: int) -> None:
        """Fit on ``data.train`` (and ``data.interactions``; ``data.valid`` for early stopping).

        ``params`` may name a subset of the baseline's parameters (the others take their
        defaults, the first setting of its grid in :data:`GRIDS`); unknown names are refused.
        """
        ...

    def score(self, split: Split) -> NDArray[np.float64]:
        """Scores of shape ``(len(split),)``, higher ranks first, always finite."""
        ...


@dataclass(frozen=True)
class Trial:
    """One parameter setting tried by :func:`tune`.

    Attributes:
        params: the full parameter setting (defaults filled in).
        valid_ndcg: NDCG@10 of the click label on ``data.valid``.
        seconds: wall time of fit plus validation scoring.
    """

    params: Mapping[str, Any]
    valid_ndcg: float
    seconds: float


@dataclass(frozen=True)
class TuneResult:
    """What :func:`tune` found.

    Attributes:
        baseline: the fitted baseline of the best trial (ready to score ``data.test``).
        params: its parameter setting.
        trials: every trial, in the order tried.
    """

    baseline: Baseline
    params: Mapping[str, Any]
    trials: tuple[Trial, ...]

    @property
    def best(self) -> Trial:
        """The chosen trial (the first among equals)."""
        return max(self.trials, key=lambda t: t.valid_ndcg)


def _product(**axes: Sequence[Any]) -> tuple[dict[str, Any], ...]:
    """Every combination, the last axis varying fastest; each axis lists its default first."""
    names = tuple(axes)
    return tuple(
        dict(zip(names, values, strict=True)) for values in itertools.product(*axes.values())
    )


#: Each baseline's parameter settings in the order :func:`tune` tries them; the first is the
#: default :meth:`Baseline.fit` fills missing parameters from.
GRIDS: dict[str, tuple[dict[str, Any], ...]] = {
    "popularity": ({},),
    "frequency-recency": tuple(
        p
        for p in _product(
            a=(FREQUENCY_RECENCY_WEIGHTS[0], 0.0),
            b=(FREQUENCY_RECENCY_WEIGHTS[1], 0.25, 4.0, 0.0),
            c=(FREQUENCY_RECENCY_WEIGHTS[2], 1.0, 0.0, 4.0),
        )
        if p["a"] or p["b"] or p["c"]
    ),
    "similarity": ({},),
    "logistic": _product(l2=(1e-4, 1e-5, 1e-3, 1e-2, 1e-1)),
    "lightgbm-binary": _product(
        num_leaves=(31, 15, 63), learning_rate=(0.05, 0.1), min_data_in_leaf=(20, 100, 5)
    ),
    "lightgbm-lambdarank": _product(
        num_leaves=(31, 15, 63), learning_rate=(0.05, 0.1), min_data_in_leaf=(20, 100, 5)
    ),
    "als": _product(factors=(32, 16, 64), regularization=(0.1, 0.01, 1.0), alpha=(10.0, 1.0, 40.0)),
}


def _check_width(batch: Batch) -> None:
    width = int(batch.numeric.shape[1])
    if width != len(FEATURE_SPEC.numeric):
        raise ValueError(
            f"batch has {width} numeric columns but feature schema {FEATURE_SPEC.version!r} "
            f"has {len(FEATURE_SPEC.numeric)}; rebuild the task with this code's schema"
        )


def _numeric(batch: Batch, name: str) -> NDArray[np.float64]:
    """The candidate numeric column ``name`` as float64, shape ``(n,)``."""
    if name not in FEATURE_SPEC.numeric:
        raise ValueError(
            f"feature column {name!r} is not in feature schema {FEATURE_SPEC.version!r} "
            f"(numeric columns: {', '.join(FEATURE_SPEC.numeric)}); build the task with a "
            "schema that has it"
        )
    _check_width(batch)
    column = batch.numeric[:, FEATURE_SPEC.numeric.index(name)]
    return column.detach().cpu().numpy().astype(np.float64)


class _BaselineBase:
    """Shared checks: parameter names, fit before score, non-empty splits, finite scores."""

    name = "baseline"

    def __init__(self) -> None:
        self._fitted = False

    def fit(self, data: RankingData, params: Mapping[str, Any], seed: int) -> None:
        defaults = GRIDS[self.name][0]
        unknown = sorted(set(params) - set(defaults))
        if unknown:
            allowed = ", ".join(defaults) or "none"
            raise ValueError(f"{self.name}: unknown parameters {unknown}; allowed: {allowed}")
        if len(data.train) == 0:
            raise ValueError(f"{self.name}: the training split is empty; nothing to fit on")
        self._fitted = False
        self._fit(data, {**defaults, **params}, seed)
        self._fitted = True

    def score(self, split: Split) -> NDArray[np.float64]:
        if not self._fitted:
            raise RuntimeError(f"{self.name}: score() before fit(); call fit(data, params, seed)")
        n = len(split)
        if n == 0:
            raise ValueError(f"{self.name}: cannot score an empty split (0 rows)")
        if len(split.batch) != n:
            raise ValueError(f"{self.name}: split has {n} labels but {len(split.batch)} rows")
        scores = np.asarray(self._score(split), dtype=np.float64)
        if scores.shape != (n,):
            raise RuntimeError(f"{self.name}: scored shape {scores.shape}, expected ({n},)")
        bad = ~np.isfinite(scores)
        if bad.any():
            raise ValueError(
                f"{self.name}: {int(bad.sum())} of {n} scores are not finite (first at row "
                f"{int(np.flatnonzero(bad)[0])}); check the split's features for NaN or inf"
            )
        return scores

    def _fit(self, data: RankingData, params: dict[str, Any], seed: int) -> None:
        raise NotImplementedError

    def _score(self, split: Split) -> NDArray[np.float64]:
        raise NotImplementedError


class PopularityBaseline(_BaselineBase):
    """Most popular first: the ``log_popularity`` column. No parameters."""

    name = "popularity"

    def _fit(self, data: RankingData, params: dict[str, Any], seed: int) -> None:
        _numeric(data.train.batch, "log_popularity")

    def _score(self, split: Split) -> NDArray[np.float64]:
        return _numeric(split.batch, "log_popularity")


class SimilarityBaseline(_BaselineBase):
    """Closest to the query first: the ``similarity`` column. No parameters."""

    name = "similarity"

    def _fit(self, data: RankingData, params: dict[str, Any], seed: int) -> None:
        _numeric(data.train.batch, "similarity")

    def _score(self, split: Split) -> NDArray[np.float64]:
        return _numeric(split.batch, "similarity")


class FrequencyRecencyBaseline(_BaselineBase):
    """Buy it again: how often and how recently the user had the item, and their category share.

    ``score = a * log_user_item_count + b * user_item_recency + c * user_category_share
    + 1e-6 * log_popularity``; the last term only breaks ties (it moves a score by at most
    ~2e-5), so users with no history still get a popularity order. Parameters ``a``, ``b``,
    ``c`` (see :data:`GRIDS`); fitting only checks the columns exist. The formula is
    :func:`ranking.features.frequency_recency`, which also computes the ``freq_recency`` feature
    the other models see (with the default weights, the grid's first setting).
    """

    name = "frequency-recency"
    _COLUMNS = ("log_user_item_count", "user_item_recency", "user_category_share", "log_popularity")

    def __init__(self) -> None:
        super().__init__()
        self.weights: tuple[float, float, float] = FREQUENCY_RECENCY_WEIGHTS

    def _fit(self, data: RankingData, params: dict[str, Any], seed: int) -> None:
        weights = (float(params["a"]), float(params["b"]), float(params["c"]))
        if not all(np.isfinite(w) and w >= 0 for w in weights):
            raise ValueError(f"{self.name}: a, b and c must be finite and >= 0, got {weights}")
        for column in self._COLUMNS:
            _numeric(data.train.batch, column)
        self.weights = weights

    def _score(self, split: Split) -> NDArray[np.float64]:
        batch = split.batch
        count, recency, share, popularity = (_numeric(batch, c) for c in self._COLUMNS)
        return frequency_recency(count, recency, share, popularity, self.weights)


class LogisticBaseline(_BaselineBase):
    """:class:`LogisticRanker` on the click label; parameter ``l2``."""

    name = "logistic"

    def __init__(self) -> None:
        super().__init__()
        self.model: LogisticRanker | None = None

    def _fit(self, data: RankingData, params: dict[str, Any], seed: int) -> None:
        # Zero initialisation and full-batch L-BFGS: no randomness, so ``seed`` is unused.
        model = LogisticRanker(data.vocab, l2=float(params["l2"]))
        self.model = model.fit(data.train.batch, data.train.labels[:, 0])

    def _score(self, split: Split) -> NDArray[np.float64]:
        assert self.model is not None
        return self.model.score(split.batch).astype(np.float64)


def _tree_features(batch: Batch) -> NDArray[np.float64]:
    """``[numeric | user_numeric[request] | category, brand, segment[request]]``, float64."""
    _check_width(batch)
    ri = batch.request_index
    parts = [
        batch.numeric.double(),
        batch.user_numeric[ri].double(),
        torch.stack([batch.category, batch.brand, batch.segment[ri]], dim=1).double(),
    ]
    return torch.cat(parts, dim=1).detach().cpu().numpy()


_TREE_FEATURE_NAMES = (
    *FEATURE_SPEC.numeric,
    *(f"user_{name}" for name in FEATURE_SPEC.user_numeric),
    "category",
    "brand",
    "segment",
)
_TREE_CATEGORICAL = tuple(range(len(_TREE_FEATURE_NAMES) - 3, len(_TREE_FEATURE_NAMES)))


def _query_sizes(groups: NDArray[np.int64]) -> NDArray[np.int64]:
    """Lengths of the runs of equal ``groups`` (rows of a group are contiguous)."""
    g = np.asarray(groups)
    starts = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
    sizes: NDArray[np.int64] = np.diff(np.r_[starts, len(g)]).astype(np.int64)
    return sizes


class _LightGBMBaseline(_BaselineBase):
    """LightGBM on :func:`_tree_features`; subclasses set the objective.

    Fixed: at most ``max_rounds`` rounds, early stopping after ``patience`` rounds without a
    better validation NDCG@10, :data:`NUM_THREADS` threads, ``deterministic`` row-wise
    histograms seeded by ``seed`` (the same data and seed give the same trees).
    """

    objective = "binary"
    max_rounds = 1000
    patience = 50

    def __init__(self) -> None:
        super().__init__()
        self.booster: Any = None

    def _fit(self, data: RankingData, params: dict[str, Any], seed: int) -> None:
        import lightgbm as lgb

        if len(data.valid) == 0:
            raise ValueError(f"{self.name}: the validation split is empty; early stopping needs it")
        config = {
            "objective": self.objective,
            "metric": "ndcg",
            "eval_at": [TUNE_K],
            "num_leaves": int(params["num_leaves"]),
            "learning_rate": float(params["learning_rate"]),
            "min_data_in_leaf": int(params["min_data_in_leaf"]),
            "num_threads": NUM_THREADS,
            "seed": seed,
            "deterministic": True,
            "force_row_wise": True,
            "verbosity": -1,
        }
        train, valid = data.train, data.valid
        dataset_params = {"verbosity": -1}
        train_set = lgb.Dataset(
            _tree_features(train.batch),
            label=train.labels[:, 0].astype(np.int64),
            group=_query_sizes(train.groups),
            feature_name=list(_TREE_FEATURE_NAMES),
            categorical_feature=list(_TREE_CATEGORICAL),
            params=dataset_params,
        )
        valid_set = lgb.Dataset(
            _tree_features(valid.batch),
            label=valid.labels[:, 0].astype(np.int64),
            group=_query_sizes(valid.groups),
            reference=train_set,
            params=dataset_params,
        )
        self.booster = lgb.train(
            config,
            train_set,
            num_boost_round=self.max_rounds,
            valid_sets=[valid_set],
            valid_names=["valid"],
            callbacks=[lgb.early_stopping(self.patience, first_metric_only=True, verbose=False)],
        )

    def _score(self, split: Split) -> NDArray[np.float64]:
        best = self.booster.best_iteration or None
        out = self.booster.predict(_tree_features(split.batch), num_iteration=best)
        return np.asarray(out, dtype=np.float64)


class LightGBMBinaryBaseline(_LightGBMBaseline):
    """LightGBM, binary log loss on the click label; scores are click probabilities."""

    name = "lightgbm-binary"
    objective = "binary"


class LightGBMLambdaRankBaseline(_LightGBMBaseline):
    """LightGBM LambdaRank on the click label, one query per training group."""

    name = "lightgbm-lambdarank"
    objective = "lambdarank"


class AlsBaseline(_BaselineBase):
    """Implicit-feedback ALS (Hu, Koren and Volinsky, 2008) via ``implicit``.

    The training interactions become a user x item matrix of event counts ``r``; ALS fits
    ``p_u . q_i`` to the preference ``r > 0`` with confidence ``1 + alpha * r``. Parameters
    ``factors``, ``regularization``, ``alpha``; 15 iterations, :data:`NUM_THREADS` threads,
    seeded by ``seed``.

    A row whose user or item has no training interaction scores by ``log_popularity``, shifted
    below the split's lowest factor score, so it ranks after every known pair.

    ``implicit`` warns when OpenBLAS runs multithreaded (its solver threads contend with BLAS
    threads); set ``OPENBLAS_NUM_THREADS=1`` in the environment before Python starts.
    """

    name = "als"
    iterations = 15

    def __init__(self) -> None:
        super().__init__()
        self.user_index: dict[Any, int] = {}
        self.item_index: dict[Any, int] = {}
        self.user_factors: NDArray[np.float64] = np.zeros((0, 0))
        self.item_factors: NDArray[np.float64] = np.zeros((0, 0))

    def _fit(self, data: RankingData, params: dict[str, Any], seed: int) -> None:
        from implicit.cpu.als import AlternatingLeastSquares
        from scipy.sparse import csr_matrix  # implicit depends on scipy

        inter = data.interactions
        if len(inter.user_ids) == 0:
            raise ValueError(f"{self.name}: the task has no training interactions to factorise")
        users, u = np.unique(inter.user_ids.astype(str), return_inverse=True)
        items, i = np.unique(inter.item_ids.astype(str), return_inverse=True)
        counts = csr_matrix(
            (np.ones(len(u), dtype=np.float32), (u, i)), shape=(len(users), len(items))
        )
        counts.sum_duplicates()
        model = AlternatingLeastSquares(
            factors=int(params["factors"]),
            regularization=float(params["regularization"]),
            alpha=float(params["alpha"]),
            iterations=self.iterations,
            calculate_training_loss=False,
            num_threads=NUM_THREADS,
            random_state=seed,
        )
        model.fit(counts, show_progress=False)
        self.user_index = {str(k): n for n, k in enumerate(users)}
        self.item_index = {str(k): n for n, k in enumerate(items)}
        self.user_factors = np.asarray(model.user_factors, dtype=np.float64)
        self.item_factors = np.asarray(model.item_factors, dtype=np.float64)

    def _score(self, split: Split) -> NDArray[np.float64]:
        n = len(split)
        if split.user_ids.shape != (n,) or split.item_ids.shape != (n,):
            raise ValueError(f"{self.name}: user_ids and item_ids must have shape ({n},)")
        u = np.fromiter((self.user_index.get(str(k), -1) for k in split.user_ids), np.int64, n)
        i = np.fromiter((self.item_index.get(str(k), -1) for k in split.item_ids), np.int64, n)
        known = (u >= 0) & (i >= 0)
        scores = np.empty(n, dtype=np.float64)
        scores[known] = np.einsum(
            "nd,nd->n", self.user_factors[u[known]], self.item_factors[i[known]]
        )
        if not known.all():
            pop = _numeric(split.batch, "log_popularity")[~known]
            floor = float(scores[known].min()) if known.any() else 0.0
            span = float(pop.max() - pop.min()) + 1.0
            # In (floor - 2, floor - 1]: below every factor score, ordered by popularity.
            scores[~known] = floor - 1.0 + (pop - pop.max()) / span
        return scores


#: Every baseline by name, in the order reports list them.
BASELINES: dict[str, type[Baseline]] = {
    "popularity": PopularityBaseline,
    "frequency-recency": FrequencyRecencyBaseline,
    "similarity": SimilarityBaseline,
    "logistic": LogisticBaseline,
    "lightgbm-binary": LightGBMBinaryBaseline,
    "lightgbm-lambdarank": LightGBMLambdaRankBaseline,
    "als": AlsBaseline,
}


def _settings(name: str, trials: int, seed: int) -> list[dict[str, Any]]:
    """The grid if it has at most ``trials`` settings; else its first (the default) and a
    seeded sample of the rest without replacement, kept in grid order."""
    grid = GRIDS[name]
    if trials >= len(grid):
        return [dict(p) for p in grid]
    rng = np.random.default_rng(seed)
    rest = np.sort(rng.choice(np.arange(1, len(grid)), size=trials - 1, replace=False))
    return [dict(grid[0]), *(dict(grid[int(k)]) for k in rest)]


def tune(baseline_name: str, data: RankingData, trials: int, seed: int) -> TuneResult:
    """Try up to ``trials`` settings of a baseline and keep the best on validation NDCG@10.

    The settings are :data:`GRIDS` ``[baseline_name]`` in order when it has at most ``trials``
    of them; otherwise the grid's first setting (the default) and ``trials - 1`` others drawn
    without replacement by ``numpy.random.default_rng(seed)``, tried in grid order. Each is fitted
    with ``seed`` and scored on ``data.valid`` by NDCG@10 of the click label over
    ``data.valid.groups``; the first best wins and its fitted baseline is returned as is (no
    refit), so the result is deterministic for a seed.

    Args:
        baseline_name: a key of :data:`BASELINES`.
        data: the task; ``valid`` must have rows.
        trials: the most settings to try (>= 1).
        seed: seeds the sample of settings and every fit.

    Raises:
        ValueError: an unknown name, ``trials < 1`` or an empty validation split.
    """
    if baseline_name not in BASELINES:
        raise ValueError(f"unknown baseline {baseline_name!r}; choose one of {list(BASELINES)}")
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise ValueError(f"trials must be an int >= 1, got {trials!r}")
    valid = data.valid
    if len(valid) == 0:
        raise ValueError("the validation split is empty; tune selects on it")
    best: tuple[float, Baseline, dict[str, Any]] | None = None
    done: list[Trial] = []
    settings = _settings(baseline_name, trials, seed)
    for params in settings:
        start = time.perf_counter()
        baseline = BASELINES[baseline_name]()
        baseline.fit(data, params, seed)
        value = ndcg_at_k(valid.labels[:, 0], baseline.score(valid), valid.groups, TUNE_K)
        seconds = time.perf_counter() - start
        full = {**GRIDS[baseline_name][0], **params}
        done.append(Trial(params=full, valid_ndcg=value, seconds=seconds))
        logger.info(
            "tune %s trial %d/%d params=%s valid_ndcg@%d=%.4f %.2fs",
            baseline_name,
            len(done),
            len(settings),
            full,
            TUNE_K,
            value,
            seconds,
        )
        if best is None or value > best[0]:
            best = (value, baseline, full)
    assert best is not None
    return TuneResult(baseline=best[1], params=best[2], trials=tuple(done))
