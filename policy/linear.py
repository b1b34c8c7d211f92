"""Contextual slate bandits on linear scores: LinUCB, linear and logistic Thompson sampling.

Model. Each candidate i of a turn comes with a feature row x_i (candidate and shopper features,
built by the assistant) and the reward of a card shown at slate position j is modelled as
E[r | x, j] = e_j x^T theta, where e_j is an optional known examination curve (the
position-based click model, Craswell et al. 2008; default 1 at every position). Feedback is folded
in batches into the ridge-regression statistics A = ridge I + sum z z^T and b = sum r z with
z = e_j x (Li et al. 2010, Algorithm 1), so the posterior mean is theta_hat = A^-1 b.

* `LinUCB` (Li, Chu, Langford & Schapire 2010, "A Contextual-Bandit Approach to Personalized
  News Article Recommendation") ranks the eligible candidates by the optimistic index
  x^T theta_hat + alpha sqrt(x^T A^-1 x).
* `LinearThompson` (Agrawal & Goyal 2013, "Thompson Sampling for Contextual Bandits with Linear
  Payoffs") draws theta ~ N(theta_hat, scale^2 A^-1) once per decision and ranks by x^T theta.
* `LogisticThompson` (Chapelle & Li 2011, "An Empirical Evaluation of Thompson Sampling") models
  clicks as P(click | x, j) = e_j sigma(x^T theta) instead, with a Laplace-approximated Gaussian
  posterior updated by Fisher scoring at each batch; it samples and logs like `LinearThompson`.

Both fill the slate position by position from that ranking with epsilon-exploration (the
procedure of `EpsilonGreedy`: with probability epsilon a uniformly random remaining eligible
candidate, else the best remaining), so every eligible candidate keeps a propensity of at least
epsilon / m at every position and the logs support off-policy evaluation.

Propensities.

* LinUCB's ranking is a deterministic function of the inputs, so its marginal and conditional
  propensities are exact (the epsilon-greedy dynamic programme of `policy.epsilon_greedy`).
* Thompson sampling's are estimates: the ranking itself is random, so P(i at j) is the posterior
  average of the epsilon-greedy marginal of i's sampled rank. `LinearThompson` averages it over
  `propensity_samples` (S, default 256) fresh posterior draws plus the draw that chose the slate,
  in one vectorized pass ((m, d) x (d, S) scores, a stable sort per draw). Each sampled value
  lies in [0, 1], so the standard error of a marginal is at most sqrt(p (1 - p) / S), about
  0.031 at p = 0.5 and 0.0062 at p = 0.01 with S = 256 (S = 512 halves the variance but takes
  `select` past 1 ms p95); with epsilon > 0 every estimate is at least epsilon / m.
  Conditionals are ratios of the estimated probabilities of the slate's prefixes (consistent;
  their product is `slate_propensity`).

Eligibility and input rules: only the `top` best-scoring candidates by the ranker's `scores`
are eligible (ties to the lower row); exploration never leaves them, so the assistant passes only
hard-filter-passing, unexpired candidates. `k` larger than the eligible candidates raises unless
`allow_short=True`. NaN or infinite scores, features or rewards, and a feature width other than
`n_features` raise a ValueError naming the argument.

Snapshots. `to_snapshot()` is JSON-safe (floats bit-exact as base64); `from_snapshot` rebuilds a
policy that makes identical choices and refuses a snapshot whose recomputed version differs.

Example:
    >>> import numpy as np
    >>> from policy.linear import LinUCB
    >>> policy = LinUCB(2, alpha=0.5, epsilon=0.1, top=10)
    >>> x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> learned = policy.fold(x[:2], [0, 0], [1.0, 0.0])
    >>> learned.version != policy.version
    True
    >>> slate = learned.select(np.zeros(3), 2, np.random.default_rng(0), features=x)
    >>> slate.indices
    (2, 0)
    >>> LinUCB.from_snapshot(learned.to_snapshot()).version == learned.version
    True
"""

from __future__ import annotations

import math
from dataclasses import KW_ONLY, dataclass, field, replace
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt

from ._snapshot import SNAPSHOT_FORMAT, decode_array, digest, encode_array, snapshot_field
from .base import (
    FloatArray,
    Slate,
    check_features,
    check_feedback,
    check_probability,
    check_select_args,
    check_slate_size,
    check_top,
)
from .epsilon_greedy import _rank_marginals, _ranked, _select

__all__ = ["LinUCB", "LinearThompson", "LogisticThompson", "policy_from_snapshot"]

_ALGORITHM = "1"
"""Bumped whenever the model or the sampling procedure changes (it is part of every version)."""

IntArray = npt.NDArray[np.int64]


def _positive(owner: str, name: str, value: object, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{owner}: `{name}` must be a number; got {value!r}")
    out = float(value)
    if not math.isfinite(out) or out < 0.0 or (out == 0.0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{owner}: `{name}` must be finite and {bound}; got {value!r}")
    return out


@dataclass(frozen=True, eq=False)
class _LinearPolicy:
    """Shared state and plumbing of the linear slate bandits (ridge statistics, snapshots)."""

    n_features: int
    _: KW_ONLY
    epsilon: float = 0.05
    top: int | None = 100
    ridge: float = 1.0
    examination: tuple[float, ...] | None = None
    gram: FloatArray | None = field(default=None, repr=False)
    target: FloatArray | None = field(default=None, repr=False)
    n_observations: int = 0
    _mean: FloatArray = field(init=False, repr=False)
    _root: FloatArray = field(init=False, repr=False)
    _version: str = field(init=False, repr=False)

    _NAME: ClassVar[str] = ""

    def __post_init__(self) -> None:
        owner = type(self).__name__
        set_ = object.__setattr__
        d = self.n_features
        if isinstance(d, bool) or not isinstance(d, int | np.integer) or d < 1:
            raise ValueError(f"{owner}: `n_features` must be an integer >= 1; got {d!r}")
        set_(self, "n_features", int(d))
        set_(self, "epsilon", check_probability(owner, "epsilon", self.epsilon))
        if self.top is not None:
            set_(self, "top", check_top(owner, self.top))
        set_(self, "ridge", _positive(owner, "ridge", self.ridge))
        if self.examination is not None:
            exam = tuple(
                _positive(owner, "examination", v) for v in np.asarray(self.examination).ravel()
            )
            if not exam:
                raise ValueError(f"{owner}: `examination` must hold one weight per position")
            set_(self, "examination", exam)
        n_obs = self.n_observations
        if isinstance(n_obs, bool) or not isinstance(n_obs, int | np.integer) or n_obs < 0:
            raise ValueError(f"{owner}: `n_observations` must be an integer >= 0; got {n_obs!r}")
        set_(self, "n_observations", int(n_obs))
        gram = self.ridge * np.eye(d) if self.gram is None else np.array(self.gram, dtype=float)
        target = np.zeros(d) if self.target is None else np.array(self.target, dtype=float)
        if gram.shape != (d, d) or target.shape != (d,):
            raise ValueError(
                f"{owner}: `gram` must have shape ({d}, {d}) and `target` ({d},); got "
                f"{gram.shape} and {target.shape}"
            )
        if not (np.isfinite(gram).all() and np.isfinite(target).all()):
            raise ValueError(f"{owner}: `gram` and `target` must be finite")
        if not np.allclose(gram, gram.T, rtol=1e-9, atol=1e-12):
            raise ValueError(
                f"{owner}: `gram` must be symmetric positive definite; it is not symmetric"
            )
        try:
            chol = np.linalg.cholesky(gram)
        except np.linalg.LinAlgError as exc:
            raise ValueError(
                f"{owner}: `gram` must be symmetric positive definite (ridge I plus a sum of "
                f"outer products); {exc}"
            ) from exc
        root = np.linalg.inv(chol).T  # root @ root.T == inv(gram)
        mean = root @ (root.T @ target)
        for arr in (gram, target, root, mean):
            arr.flags.writeable = False
        set_(self, "gram", gram)
        set_(self, "target", target)
        set_(self, "_root", root)
        set_(self, "_mean", mean)
        set_(
            self,
            "_version",
            f"{_ALGORITHM}:{self._describe()}:n={self.n_observations}:"
            f"{digest(self._params(), gram, target)[:12]}",
        )

    # The seam --------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """Stable identifier of the policy family."""
        return self._NAME

    @property
    def version(self) -> str:
        """Hyper-parameters, observation count and a digest of the learned statistics."""
        return self._version

    @property
    def mean(self) -> FloatArray:
        """The posterior mean theta_hat = A^-1 b, shape (n_features,); read-only."""
        return self._mean

    def select(
        self,
        scores: FloatArray,
        k: int,
        rng: np.random.Generator,
        *,
        features: FloatArray | None = None,
        allow_short: bool = False,
    ) -> Slate:
        """Choose an ordered slate of `k` of the `top` best-scoring candidates.

        Args:
            scores: Ranker scores, shape (n_candidates,), finite; they decide eligibility.
            k: Slate size, at least 1 and at most min(n_candidates, top) unless `allow_short`.
            rng: Source of all randomness.
            features: Per-candidate context, shape (n_candidates, n_features), finite.
            allow_short: Return min(k, eligible) rows instead of raising when k is larger.

        Returns:
            The slate with per-position marginal and conditional propensities (exact for
            LinUCB, Monte Carlo estimates for LinearThompson; see the module docstring).

        Raises:
            ValueError: If `scores` or `features` are empty, mis-shaped or not finite, the
                feature width is not `n_features`, or k exceeds the eligible candidates.
        """
        owner = type(self).__name__
        rows, x, k_eff = self._eligible(owner, scores, k, rng, features, allow_short)
        assert isinstance(rng, np.random.Generator)  # checked above; narrows the type
        slate = self._choose(owner, x, k_eff, rng)
        return Slate(
            indices=tuple(int(rows[i]) for i in slate.indices),
            propensities=slate.propensities,
            conditional=slate.conditional,
            slate_propensity=slate.slate_propensity,
        )

    def fold(self, features: FloatArray, positions: Any, rewards: Any) -> Self:
        """A new policy that has also learned from one batch of shown cards.

        Args:
            features: Rows of the shown cards, shape (n_events, n_features), finite.
            positions: Slate position of each card, shape (n_events,), ints >= 0 (below
                len(examination) when an examination curve is set).
            rewards: Observed reward of each card (e.g. 1.0 for a click), shape (n_events,).

        Returns:
            A new policy with updated statistics and a new version; an empty batch returns
            this policy unchanged.

        Raises:
            ValueError: On mis-shaped or non-finite input, or a position without an
                examination weight.
        """
        owner = type(self).__name__
        x, pos, rew = check_feedback(owner, features, positions, rewards, self.n_features)
        if rew.size == 0:
            return self
        if self.examination is not None:
            exam = np.asarray(self.examination)
            if pos.max() >= exam.size:
                raise ValueError(
                    f"{owner}: position {int(pos.max())} has no examination weight; "
                    f"`examination` covers positions 0..{exam.size - 1}"
                )
            x = x * exam[pos][:, None]
        assert self.gram is not None and self.target is not None  # set in __post_init__
        return replace(
            self,
            gram=self.gram + x.T @ x,
            target=self.target + x.T @ rew,
            n_observations=self.n_observations + int(rew.size),
        )

    def to_snapshot(self) -> dict[str, Any]:
        """JSON-safe parameters: name, format, version, hyper-parameters and the statistics."""
        assert self.gram is not None and self.target is not None  # set in __post_init__
        return {
            "policy": self.name,
            "format": SNAPSHOT_FORMAT,
            "version": self.version,
            "n_features": self.n_features,
            "params": self._params(),
            "n_observations": self.n_observations,
            "gram": encode_array(self.gram),
            "target": encode_array(self.target),
        }

    @classmethod
    def from_snapshot(cls, snapshot: dict[str, Any]) -> Self:
        """Rebuild the policy `to_snapshot` described; it chooses identically.

        Raises:
            ValueError: If the snapshot is for another policy or format, is malformed, or its
                recomputed version differs from the stored one (corrupted or edited).
        """
        owner = cls.__name__
        if not isinstance(snapshot, dict):
            raise ValueError(f"{owner}: a snapshot must be a dict; got {type(snapshot).__name__}")
        name = snapshot_field(owner, snapshot, "policy")
        if name != cls._NAME:
            raise ValueError(f"{owner}: snapshot is for policy {name!r}, not {cls._NAME!r}")
        fmt = snapshot_field(owner, snapshot, "format")
        if fmt != SNAPSHOT_FORMAT:
            raise ValueError(
                f"{owner}: snapshot format {fmt!r} is not supported; expected {SNAPSHOT_FORMAT}"
            )
        d = snapshot_field(owner, snapshot, "n_features")
        if isinstance(d, bool) or not isinstance(d, int) or d < 1:
            raise ValueError(f"{owner}: snapshot `n_features` must be an integer >= 1; got {d!r}")
        params = dict(snapshot_field(owner, snapshot, "params"))
        if params.get("examination") is not None:
            params["examination"] = tuple(params["examination"])
        try:
            policy = cls(
                d,
                **params,
                gram=decode_array(owner, "gram", snapshot_field(owner, snapshot, "gram"), (d, d)),
                target=decode_array(
                    owner, "target", snapshot_field(owner, snapshot, "target"), (d,)
                ),
                n_observations=snapshot_field(owner, snapshot, "n_observations"),
            )
        except TypeError as exc:
            raise ValueError(f"{owner}: snapshot `params` do not fit {owner}; {exc}") from exc
        stored = snapshot_field(owner, snapshot, "version")
        if policy.version != stored:
            raise ValueError(
                f"{owner}: snapshot version {stored!r} does not match its contents "
                f"({policy.version!r}); the snapshot is corrupted or from another revision"
            )
        return policy

    def expected_rewards(self, features: FloatArray) -> FloatArray:
        """Posterior-mean reward x^T theta_hat at examination 1, shape (n,) for rows (n, d)."""
        x = check_features(type(self).__name__, features, np.shape(features)[0], self.n_features)
        out: FloatArray = x @ self._mean
        return out

    # Internals -------------------------------------------------------------------------------

    def _eligible(
        self,
        owner: str,
        scores: object,
        k: object,
        rng: object,
        features: object,
        allow_short: bool,
    ) -> tuple[npt.NDArray[np.intp], FloatArray, int]:
        arr, k_req = check_select_args(owner, scores, k, rng)
        x = check_features(owner, features, arr.size, self.n_features)
        m = arr.size if self.top is None else min(arr.size, self.top)
        k_eff = check_slate_size(owner, k_req, m, allow_short)
        rows = _ranked(arr, m)
        return rows, x[rows], k_eff

    def _params(self) -> dict[str, Any]:
        return {
            "epsilon": self.epsilon,
            "top": self.top,
            "ridge": self.ridge,
            "examination": None if self.examination is None else list(self.examination),
        }

    def _describe(self) -> str:
        return f"epsilon={self.epsilon!r}:top={'all' if self.top is None else self.top}"

    def _choose(self, owner: str, x: FloatArray, k: int, rng: np.random.Generator) -> Slate:
        raise NotImplementedError


@dataclass(frozen=True, eq=False, kw_only=True)
class LinUCB(_LinearPolicy):
    """LinUCB slate policy (Li et al. 2010) with epsilon-exploration and exact propensities.

    Ranks the eligible candidates by x^T theta_hat + alpha sqrt(x^T A^-1 x) and fills the slate
    epsilon-greedily from that ranking; the propensities are exact (module docstring).

    Args:
        n_features: Width d of the feature rows.
        alpha: Width of the confidence bonus, >= 0 (0 is greedy on the ridge estimate).
        epsilon: Exploration probability per position, in [0, 1].
        top: Only the `top` best-scoring candidates are eligible; None means all.
        ridge: Prior precision lambda > 0 (A starts at lambda I).
        examination: Optional examination weight per slate position (e_0, e_1, ...).
        gram, target, n_observations: Learned statistics (A, b, count); default: none yet.

    Raises:
        ValueError: On an invalid parameter, naming it.
    """

    alpha: float = 1.0

    _NAME: ClassVar[str] = "linucb"

    def __post_init__(self) -> None:
        object.__setattr__(self, "alpha", _positive("LinUCB", "alpha", self.alpha, allow_zero=True))
        super().__post_init__()

    def _params(self) -> dict[str, Any]:
        return {**super()._params(), "alpha": self.alpha}

    def _describe(self) -> str:
        return f"alpha={self.alpha!r}:{super()._describe()}"

    def indices(self, features: FloatArray) -> FloatArray:
        """The UCB index of each row, shape (n,) for features (n, n_features)."""
        x = check_features("LinUCB", features, np.shape(features)[0], self.n_features)
        return self._index(x)

    def _index(self, x: FloatArray) -> FloatArray:
        spread = np.sqrt(np.square(x @ self._root).sum(axis=1))
        out: FloatArray = x @ self._mean + self.alpha * spread
        return out

    def _choose(self, owner: str, x: FloatArray, k: int, rng: np.random.Generator) -> Slate:
        return _select(owner, self.epsilon, None, self._index(x), k, rng)

    def position_probabilities(
        self,
        scores: FloatArray,
        k: int,
        *,
        features: FloatArray | None = None,
        allow_short: bool = False,
    ) -> FloatArray:
        """Exact P(candidate i at position j), shape (k_eff, n_candidates); rows sum to 1."""
        rng = np.random.default_rng(0)
        rows, x, k_eff = self._eligible("LinUCB", scores, k, rng, features, allow_short)
        out = np.zeros((k_eff, np.shape(scores)[0]))
        m = rows.size
        out[:, rows[_ranked(self._index(x), m)]] = _rank_marginals(m, k_eff, self.epsilon)
        return out


@dataclass(frozen=True, eq=False, kw_only=True)
class LinearThompson(_LinearPolicy):
    """Linear Thompson sampling slate policy (Agrawal & Goyal 2013) with epsilon-exploration.

    Draws theta ~ N(theta_hat, scale^2 A^-1) per decision, ranks the eligible candidates by
    x^T theta and fills the slate epsilon-greedily from that ranking. Propensities are Monte
    Carlo estimates over `propensity_samples` posterior draws (error bound in the module
    docstring).

    Args:
        n_features: Width d of the feature rows.
        scale: Posterior scale v >= 0 (0: greedy on the ridge estimate, exact propensities).
        propensity_samples: Posterior draws S for the propensity estimates, >= 1.
        epsilon: Exploration probability per position, in [0, 1].
        top: Only the `top` best-scoring candidates are eligible; None means all.
        ridge: Prior precision lambda > 0 (A starts at lambda I).
        examination: Optional examination weight per slate position (e_0, e_1, ...).
        gram, target, n_observations: Learned statistics (A, b, count); default: none yet.

    Raises:
        ValueError: On an invalid parameter, naming it.
    """

    scale: float = 0.5
    propensity_samples: int = 256

    _NAME: ClassVar[str] = "linear_thompson"

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "scale", _positive("LinearThompson", "scale", self.scale, allow_zero=True))
        s = self.propensity_samples
        if isinstance(s, bool) or not isinstance(s, int | np.integer) or s < 1:
            raise ValueError(
                f"LinearThompson: `propensity_samples` must be an integer >= 1; got {s!r}"
            )
        set_(self, "propensity_samples", int(s))
        super().__post_init__()

    def _params(self) -> dict[str, Any]:
        return {
            **super()._params(),
            "scale": self.scale,
            "propensity_samples": self.propensity_samples,
        }

    def _describe(self) -> str:
        return f"scale={self.scale!r}:samples={self.propensity_samples}:{super()._describe()}"

    def _sample_into(
        self, out: FloatArray, base: FloatArray, spread: FloatArray, rng: np.random.Generator
    ) -> None:
        """Fill `out` (n, m) with x^T theta for n posterior draws theta = mean + scale root z."""
        draws = rng.standard_normal((out.shape[0], self.n_features))
        np.matmul(draws, spread.T, out=out)
        out *= self.scale
        out += base[None, :]

    def _choose(self, owner: str, x: FloatArray, k: int, rng: np.random.Generator) -> Slate:
        m = x.shape[0]
        spread = x @ self._root
        base = x @ self._mean
        actual = base + self.scale * (spread @ rng.standard_normal(self.n_features))
        chosen = _select(owner, self.epsilon, None, actual, k, rng)
        sampled = np.empty((self.propensity_samples + 1, m))
        sampled[0] = actual
        self._sample_into(sampled[1:], base, spread, rng)
        top = _top_rows(sampled, k)  # (S + 1, k): each draw's best k rows, best first
        table = _rank_marginals(m, k, self.epsilon)
        tail = table[:, k] if m > k else np.zeros(k)
        picks = np.asarray(chosen.indices)
        props = []
        for j, c in enumerate(picks.tolist()):
            hits = top == c  # (S + 1, k): c at rank r in draw s
            props.append(float(tail[j] + (hits @ (table[j, :k] - tail[j])).mean()))
        # P(prefix) per draw: product of epsilon-greedy conditionals given that draw's ranking.
        running = np.ones(top.shape[0])
        conds: list[float] = []
        previous = 1.0
        placed = np.zeros(top.shape, dtype=bool)
        for j, c in enumerate(picks.tolist()):
            if j:
                placed |= top == picks[j - 1]
            best = top[np.arange(top.shape[0]), np.argmax(~placed, axis=1)]
            running = running * ((1.0 - self.epsilon) * (best == c) + self.epsilon / (m - j))
            now = float(running.mean())
            conds.append(now / previous)
            previous = now
        return Slate(
            indices=chosen.indices,
            propensities=tuple(props),
            conditional=tuple(conds),
            slate_propensity=previous,
        )

    def position_probabilities(
        self,
        scores: FloatArray,
        k: int,
        *,
        features: FloatArray | None = None,
        rng: np.random.Generator | None = None,
        samples: int | None = None,
        allow_short: bool = False,
    ) -> FloatArray:
        """Monte Carlo P(candidate i at position j), shape (k_eff, n_candidates).

        Rows sum to 1 exactly; each entry's standard error is at most sqrt(p (1 - p) / S)
        with S = `samples` (default `propensity_samples`) draws from `rng` (default seed 0).
        """
        gen = np.random.default_rng(0) if rng is None else rng
        rows, x, k_eff = self._eligible("LinearThompson", scores, k, gen, features, allow_short)
        m = rows.size
        n_draws = self.propensity_samples if samples is None else int(samples)
        sampled = np.empty((n_draws, m))
        self._sample_into(sampled, x @ self._mean, x @ self._root, gen)
        top = _top_rows(sampled, k_eff)
        table = _rank_marginals(m, k_eff, self.epsilon)
        tail = table[:, k_eff] if m > k_eff else np.zeros(k_eff)
        sub = np.tile(tail[:, None], (1, m))
        for r in range(k_eff):
            counts = np.bincount(top[:, r], minlength=m) / n_draws
            sub += (table[:, r] - tail)[:, None] * counts[None, :]
        out = np.zeros((k_eff, np.shape(scores)[0]))
        out[:, rows] = sub
        return out


@dataclass(frozen=True, eq=False, kw_only=True)
class LogisticThompson(LinearThompson):
    """Thompson sampling for a logistic click model, the position bias known (Laplace posterior).

    The Bayesian logistic regression of Chapelle & Li (2011, "An Empirical Evaluation of
    Thompson Sampling"), updated in batches as there, with a full covariance and the
    position-based click model's examination inside the likelihood:
    P(click | x, j) = e_j sigma(x^T theta) (Craswell et al. 2008). Each `fold` starts from the
    current Gaussian posterior N(m, Q^-1), takes `newton_steps` Fisher-scoring steps to the
    posterior mode theta* of the batch, and keeps N(theta*, H^-1) with H = Q + sum w x x^T the
    Fisher information at theta* (w = e sigma (1 - sigma)^2 / (1 - e sigma)); `gram` holds H and
    `target` holds H theta*. Selection and propensities are `LinearThompson`'s: a posterior draw
    ranks by x^T theta (sigma is monotone), epsilon-exploration, Monte Carlo propensities.

    Args:
        n_features: Width d of the feature rows.
        scale: Posterior scale v >= 0 (1 is the Laplace posterior itself).
        newton_steps: Fisher-scoring steps per fold, >= 1.
        propensity_samples, epsilon, top, ridge: As for `LinearThompson`.
        examination: Optional examination probability per slate position, each in (0, 1].
        gram, target, n_observations: Learned statistics; default: none yet.

    Raises:
        ValueError: On an invalid parameter, naming it.
    """

    scale: float = 1.0
    newton_steps: int = 4

    _NAME: ClassVar[str] = "logistic_thompson"

    def __post_init__(self) -> None:
        steps = self.newton_steps
        if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 1:
            raise ValueError(
                f"LogisticThompson: `newton_steps` must be an integer >= 1; got {steps!r}"
            )
        object.__setattr__(self, "newton_steps", int(steps))
        if self.examination is not None and any(float(e) > 1.0 for e in self.examination):
            raise ValueError(
                "LogisticThompson: `examination` holds probabilities, each in (0, 1]; got "
                f"{tuple(self.examination)}"
            )
        super().__post_init__()

    def _params(self) -> dict[str, Any]:
        return {**super()._params(), "newton_steps": self.newton_steps}

    def _describe(self) -> str:
        return f"steps={self.newton_steps}:{super()._describe()}"

    def fold(self, features: FloatArray, positions: Any, rewards: Any) -> Self:
        """A new policy whose posterior has also seen one batch of shown cards.

        Args:
            features: Rows of the shown cards, shape (n_events, n_features), finite.
            positions: Slate position of each card, shape (n_events,), ints >= 0.
            rewards: Click indicator of each card, shape (n_events,), in [0, 1].

        Returns:
            A new policy (new version); an empty batch returns this policy unchanged.

        Raises:
            ValueError: On mis-shaped or non-finite input, a reward outside [0, 1], or a
                position without an examination weight.
        """
        owner = "LogisticThompson"
        x, pos, y = check_feedback(owner, features, positions, rewards, self.n_features)
        if y.size == 0:
            return self
        if ((y < 0.0) | (y > 1.0)).any():
            bad = int(np.flatnonzero((y < 0.0) | (y > 1.0))[0])
            raise ValueError(
                f"{owner}: `rewards` must be click indicators in [0, 1]; got {y[bad]} at "
                f"index {bad}"
            )
        if self.examination is None:
            exam = np.ones(y.size)
        else:
            curve = np.asarray(self.examination)
            if pos.max() >= curve.size:
                raise ValueError(
                    f"{owner}: position {int(pos.max())} has no examination weight; "
                    f"`examination` covers positions 0..{curve.size - 1}"
                )
            exam = curve[pos]
        assert self.gram is not None  # set in __post_init__
        prior_precision = self.gram
        prior_mean = self._mean
        theta = prior_mean.copy()
        hessian = prior_precision
        for _ in range(self.newton_steps):
            sig = 1.0 / (1.0 + np.exp(-(x @ theta)))
            shown = np.clip(exam * sig, 1e-12, 1.0 - 1e-12)
            score = (y - shown) * (1.0 - sig) / (1.0 - shown)
            weight = exam * sig * (1.0 - sig) ** 2 / (1.0 - shown)
            hessian = prior_precision + (x * weight[:, None]).T @ x
            grad = x.T @ score - prior_precision @ (theta - prior_mean)
            theta = theta + np.linalg.solve(hessian, grad)
        sig = 1.0 / (1.0 + np.exp(-(x @ theta)))
        shown = np.clip(exam * sig, 1e-12, 1.0 - 1e-12)
        weight = exam * sig * (1.0 - sig) ** 2 / (1.0 - shown)
        hessian = prior_precision + (x * weight[:, None]).T @ x
        hessian = (hessian + hessian.T) / 2.0
        return replace(
            self,
            gram=hessian,
            target=hessian @ theta,
            n_observations=self.n_observations + int(y.size),
        )


def _top_rows(sampled: FloatArray, k: int) -> IntArray:
    """Each row's k largest columns, best first, ties to the lower column: shape (n, k).

    k passes of argmax (first occurrence wins) beat a full sort for the small k of a slate.
    Overwrites the chosen entries of `sampled` (a scratch array) with -inf.
    """
    work = sampled
    out = np.empty((work.shape[0], k), dtype=np.int64)
    every = np.arange(work.shape[0])
    for r in range(k):
        best = np.argmax(work, axis=1)
        out[:, r] = best
        work[every, best] = -np.inf
    return out


_FAMILIES: dict[str, type[_LinearPolicy]] = {
    "linucb": LinUCB,
    "linear_thompson": LinearThompson,
    "logistic_thompson": LogisticThompson,
}


def policy_from_snapshot(snapshot: dict[str, Any]) -> LinUCB | LinearThompson:
    """Rebuild whichever linear policy wrote `snapshot` (dispatch on its `policy` field).

    Raises:
        ValueError: If the snapshot names no known policy or fails `from_snapshot`'s checks.
    """
    name = snapshot.get("policy") if isinstance(snapshot, dict) else None
    family = _FAMILIES.get(str(name))
    if family is None:
        raise ValueError(
            f"policy_from_snapshot: unknown policy {name!r}; expected one of {sorted(_FAMILIES)}"
        )
    out = family.from_snapshot(snapshot)
    assert isinstance(out, LinUCB | LinearThompson)
    return out
