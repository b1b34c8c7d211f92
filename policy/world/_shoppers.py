"""Shopper latents: the hidden traits a policy must learn to serve (docs/world.md)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._arrays import (
    ArrayLike,
    BoolArray,
    FloatArray,
    IntArray,
    as_bool,
    as_float,
    as_int,
    check_range,
)
from ._params import DEFAULT_PRIORS, N_DEAL_TYPES, ShopperPriors

__all__ = ["ShopperLatents", "draw_intents", "sample_shoppers"]

_OWNER = "ShopperLatents"


@dataclass(frozen=True, eq=False)
class ShopperLatents:
    """Latent traits of u shoppers (a population, or one shopper with u = 1).

    Attributes:
        category_interest: float, shape (u, n_categories), rows on the simplex: theta_u.
        budget: float, shape (u, n_categories), > 0: what the shopper means to pay per item.
        price_sensitivity: float, shape (u,), > 0: lambda_u.
        deal_proneness: float, shape (u,), in [0, 1]: delta_u.
        deal_type_preference: float, shape (u, N_DEAL_TYPES): pi_{u,t}.
        favourite_brands: int, shape (u, f), brand indices, -1 for an empty slot.
        loyalty: float, shape (u,), >= 0: utility of a favourite brand, l_u.
        is_member: bool, shape (u,).
        is_new: bool, shape (u,): new shoppers are never members.
        patience: int, shape (u,), >= 1: consecutive poor slates before the shopper leaves.
        segment: int, shape (u,): index into `ShopperPriors.segments`.
        n_brands: number of brands the favourites index into.

    Example:
        >>> import numpy as np
        >>> from policy.world import sample_shoppers
        >>> shoppers = sample_shoppers(1000, 8, 20, np.random.default_rng(0))
        >>> one = shoppers[3]
        >>> len(shoppers), len(one), one.category_interest.shape
        (1000, 1, (1, 8))
    """

    category_interest: FloatArray
    budget: FloatArray
    price_sensitivity: FloatArray
    deal_proneness: FloatArray
    deal_type_preference: FloatArray
    favourite_brands: IntArray
    loyalty: FloatArray
    is_member: BoolArray
    is_new: BoolArray
    patience: IntArray
    segment: IntArray
    n_brands: int

    def __post_init__(self) -> None:
        interest = as_float(_OWNER, "category_interest", self.category_interest, (None, None))
        u, c = interest.shape
        if c < 1:
            raise ValueError(f"{_OWNER}: `category_interest` needs at least one category column")
        set_ = object.__setattr__
        set_(self, "category_interest", interest)
        set_(self, "n_brands", int(self.n_brands))
        set_(self, "budget", as_float(_OWNER, "budget", self.budget, (u, c)))
        set_(
            self,
            "deal_type_preference",
            as_float(_OWNER, "deal_type_preference", self.deal_type_preference, (u, N_DEAL_TYPES)),
        )
        for name in ("price_sensitivity", "deal_proneness", "loyalty"):
            set_(self, name, as_float(_OWNER, name, getattr(self, name), (u,)))
        fav = as_int(_OWNER, "favourite_brands", self.favourite_brands, (u, None))
        set_(self, "favourite_brands", fav)
        for name in ("is_member", "is_new"):
            set_(self, name, as_bool(_OWNER, name, getattr(self, name), (u,)))
        for name in ("patience", "segment"):
            set_(self, name, as_int(_OWNER, name, getattr(self, name), (u,)))
        check_range(_OWNER, "category_interest", self.category_interest, 0.0, 1.0)
        sums = self.category_interest.sum(axis=1)
        if u and not np.allclose(sums, 1.0, atol=1e-6):
            i = int(np.argmax(np.abs(sums - 1.0)))
            raise ValueError(
                f"{_OWNER}: `category_interest` rows must sum to 1; row {i} sums to "
                f"{sums[i].item()!r}"
            )
        check_range(_OWNER, "budget", self.budget, 0.0, low_open=True)
        check_range(_OWNER, "price_sensitivity", self.price_sensitivity, 0.0, low_open=True)
        check_range(_OWNER, "deal_proneness", self.deal_proneness, 0.0, 1.0)
        check_range(_OWNER, "favourite_brands", fav, -1, self.n_brands - 1)
        check_range(_OWNER, "loyalty", self.loyalty, 0.0)
        check_range(_OWNER, "patience", self.patience, 1)
        check_range(_OWNER, "segment", self.segment, 0)
        if (self.is_new & self.is_member).any():
            raise ValueError(f"{_OWNER}: a shopper cannot be both `is_new` and `is_member`")

    def __len__(self) -> int:
        return int(self.category_interest.shape[0])

    @property
    def n_categories(self) -> int:
        """Number of categories (columns of `category_interest`)."""
        return int(self.category_interest.shape[1])

    def __getitem__(self, index: int) -> ShopperLatents:
        """One shopper as a population of one (what the single-shopper API takes)."""
        i = int(index)
        if not -len(self) <= i < len(self):
            raise IndexError(f"{_OWNER}: shopper {i} out of range for {len(self)} shoppers")
        return self.take(np.array([i % len(self)]))

    def take(self, index: ArrayLike) -> ShopperLatents:
        """The shoppers at `index` (shape (k,)), in that order."""
        idx = as_int(_OWNER, "index", index, (None,))
        check_range(_OWNER, "index", idx, 0, len(self) - 1)
        return ShopperLatents(
            category_interest=self.category_interest[idx],
            budget=self.budget[idx],
            price_sensitivity=self.price_sensitivity[idx],
            deal_proneness=self.deal_proneness[idx],
            deal_type_preference=self.deal_type_preference[idx],
            favourite_brands=self.favourite_brands[idx],
            loyalty=self.loyalty[idx],
            is_member=self.is_member[idx],
            is_new=self.is_new[idx],
            patience=self.patience[idx],
            segment=self.segment[idx],
            n_brands=self.n_brands,
        )


def sample_shoppers(
    n: int,
    n_categories: int,
    n_brands: int,
    rng: np.random.Generator,
    *,
    category_price_levels: FloatArray | None = None,
    priors: ShopperPriors = DEFAULT_PRIORS,
) -> ShopperLatents:
    """Draw n shoppers from the segment mixture (docs/world.md, "Shopper latents").

    Args:
        n: number of shoppers.
        n_categories: number of categories (C).
        n_brands: number of brands (B); brand 0 is the most popular.
        rng: the generator everything is drawn from (same seed, same population).
        category_price_levels: shape (C,), typical price per category (e.g. the median list
            price); budgets are drawn around it. Default `priors.default_price_level` each.
        priors: population priors; the default is the frozen demo world.

    Returns:
        The population, each array with leading dimension n.
    """
    if n < 0 or n_categories < 1 or n_brands < 1:
        raise ValueError(
            f"sample_shoppers: need n >= 0, n_categories >= 1, n_brands >= 1; "
            f"got {n}, {n_categories}, {n_brands}"
        )
    if category_price_levels is None:
        levels = np.full(n_categories, priors.default_price_level)
    else:
        levels = as_float(
            "sample_shoppers", "category_price_levels", category_price_levels, (n_categories,)
        )
        check_range("sample_shoppers", "category_price_levels", levels, 0.0, low_open=True)
    segs = priors.segments
    weights = np.array([s.weight for s in segs])
    segment = rng.choice(len(segs), size=n, p=weights / weights.sum())

    def per_segment(values: list[float]) -> FloatArray:
        return np.asarray(values, dtype=np.float64)[segment]

    alpha = per_segment([s.interest_alpha for s in segs])
    # Dirichlet(alpha * 1) by normalized gammas, vectorized over shoppers with different alpha.
    gam = rng.gamma(alpha[:, None], 1.0, size=(n, n_categories)) + 1e-12
    interest = gam / gam.sum(axis=1, keepdims=True)
    spend = np.log(per_segment([s.budget_multiplier for s in segs]))
    spend = spend + priors.budget_user_sd * rng.standard_normal(n)
    budget = levels[None, :] * np.exp(
        spend[:, None] + priors.budget_category_sd * rng.standard_normal((n, n_categories))
    )
    sensitivity = per_segment([s.price_sensitivity for s in segs]) * np.exp(
        priors.price_sensitivity_sd * rng.standard_normal(n)
    )
    deal = rng.beta(
        per_segment([s.deal_beta[0] for s in segs]), per_segment([s.deal_beta[1] for s in segs])
    )
    pref = np.asarray(priors.deal_type_mean)[None, :] + priors.deal_type_sd * rng.standard_normal(
        (n, N_DEAL_TYPES)
    )
    # Favourite brands: Gumbel top-k without replacement under Zipf brand popularity.
    max_fav = max(s.n_favourite_brands for s in segs)
    n_fav = per_segment([float(s.n_favourite_brands) for s in segs]).astype(np.int64)
    keys = -priors.brand_zipf * np.log(np.arange(1, n_brands + 1))[None, :] + rng.gumbel(
        size=(n, n_brands)
    )
    width = min(max_fav, n_brands)
    top = np.argsort(-keys, axis=1)[:, :width]
    fav = np.where(np.arange(width)[None, :] < n_fav[:, None], top, -1)
    loyalty = per_segment([s.loyalty for s in segs]) * np.exp(
        priors.loyalty_sd * rng.standard_normal(n)
    )
    is_new = rng.random(n) < per_segment([s.p_new for s in segs])
    is_member = (rng.random(n) < per_segment([s.p_member for s in segs])) & ~is_new
    patience = 1 + rng.poisson(per_segment([s.patience - 1.0 for s in segs]))
    return ShopperLatents(
        category_interest=interest,
        budget=budget,
        price_sensitivity=sensitivity,
        deal_proneness=deal,
        deal_type_preference=pref,
        favourite_brands=fav,
        loyalty=loyalty,
        is_member=is_member,
        is_new=is_new,
        patience=patience,
        segment=segment,
        n_brands=n_brands,
    )


def draw_intents(shoppers: ShopperLatents, users: ArrayLike, rng: np.random.Generator) -> IntArray:
    """The category each session is about: c* ~ Categorical(theta_u), for users of shape (s,).

    Example:
        >>> import numpy as np
        >>> from policy.world import draw_intents, sample_shoppers
        >>> shoppers = sample_shoppers(10, 8, 20, np.random.default_rng(0))
        >>> draw_intents(shoppers, np.arange(10), np.random.default_rng(1)).shape
        (10,)
    """
    idx = as_int("draw_intents", "users", users, (None,))
    check_range("draw_intents", "users", idx, 0, len(shoppers) - 1)
    cum = np.cumsum(shoppers.category_interest[idx], axis=1)
    r = rng.random(idx.shape[0]) * cum[:, -1]
    out: IntArray = np.minimum((cum < r[:, None]).sum(axis=1), shoppers.n_categories - 1)
    return out.astype(np.int64)
