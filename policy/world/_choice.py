"""The user-choice model: true outcome probabilities of a slate, and sampled outcomes.

A slate is read with the position-based click model (PBM; Craswell et al. 2008, Chuklin et al.
2015): a card at position k is examined with probability e_k and, once examined, attracts a click
with a logistic (binary-logit) function of a random-utility score (McFadden 1974). The score adds
reference-price and loss-aversion terms (Winer 1986; Kalyanaram & Winer 1995; Hardie, Johnson &
Fader 1993), transaction utility scaled by deal-proneness (Thaler 1985; Lichtenstein, Netemeyer &
Burton 1995) and scarcity of time-limited deals (Inman, Peter & Raghubir 1997). Claim, add-to-cart
and purchase follow a click as a conversion funnel. The equations are in docs/world.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._arrays import (
    ArrayLike,
    BoolArray,
    FloatArray,
    IntArray,
    as_float,
    as_int,
    check_range,
    sigmoid,
)
from ._items import ItemBatch
from ._params import DEFAULT_CHOICE_PARAMS, ChoiceParams, DealType
from ._shoppers import ShopperLatents

__all__ = ["SlateOutcomes", "SlateProbabilities", "UserChoiceModel"]


@dataclass(frozen=True, eq=False)
class SlateProbabilities:
    """True probabilities for each shown card: shape (m, k) from the batch API, (k,) otherwise.

    Padding positions (slate index -1) hold zeros. `claim`, `add_to_cart` and `purchase` are
    marginal (they include the click); the `*_given_*` fields are the funnel's conditionals
    (`purchase_given_cart` averages the claimed and unclaimed cases over P(claim | click)).
    """

    utility: FloatArray
    examination: FloatArray
    click: FloatArray
    claim_given_click: FloatArray
    cart_given_click: FloatArray
    purchase_given_cart: FloatArray
    purchase_given_cart_claimed: FloatArray
    purchase_given_cart_unclaimed: FloatArray
    expected_quantity: FloatArray
    claim: FloatArray
    add_to_cart: FloatArray
    purchase: FloatArray
    expected_revenue: FloatArray
    expected_margin: FloatArray


@dataclass(frozen=True, eq=False)
class SlateOutcomes:
    """Sampled events for each shown card, same shapes as `SlateProbabilities`.

    `value` is final price x quantity for purchases (0 otherwise); `margin` is
    quantity x (final price - cost_ratio x list price).
    """

    click: BoolArray
    claim: BoolArray
    add_to_cart: BoolArray
    purchase: BoolArray
    quantity: IntArray
    value: FloatArray
    margin: FloatArray


@dataclass(frozen=True)
class _Pairs:
    """Flattened (shopper, item, position) triples, validated, shape (p,) each."""

    users: IntArray
    items: IntArray
    positions: IntArray
    match: FloatArray
    sharpness: FloatArray
    offset: FloatArray
    valid: BoolArray


class UserChoiceModel:
    """A shopper's response to a slate of recommended cards, with its true probabilities.

    Args:
        params: coefficients; the default is the frozen demo world (`world_fingerprint`).

    Example:
        >>> import numpy as np
        >>> from policy.world import UserChoiceModel, sample_items, sample_shoppers
        >>> rng = np.random.default_rng(0)
        >>> items = sample_items(50, 8, 20, rng)
        >>> shoppers = sample_shoppers(100, 8, 20, rng)
        >>> model = UserChoiceModel()
        >>> p = model.click_probabilities(shoppers[0], items.take([3, 7, 9]))
        >>> p.shape, bool(((p >= 0) & (p <= 1)).all())
        ((3,), True)
        >>> out = model.respond(shoppers[0], items.take([3, 7, 9]), rng)
        >>> out.click.shape
        (3,)
        >>> probs, outcomes = model.simulate(
        ...     shoppers, np.arange(100), items, rng.integers(0, 50, (100, 3)), rng)
        >>> probs.click.shape, outcomes.purchase.shape
        ((100, 3), (100, 3))
    """

    def __init__(self, params: ChoiceParams = DEFAULT_CHOICE_PARAMS) -> None:
        self.params = params

    # Single shopper --------------------------------------------------------------------------

    def probabilities(
        self,
        shopper: ShopperLatents,
        items: ItemBatch,
        positions: ArrayLike | None = None,
        *,
        match: ArrayLike | None = None,
        sharpness: float = 1.0,
    ) -> SlateProbabilities:
        """True probabilities for one shopper and each of `items` (shape (n,)).

        Args:
            shopper: a population of one (`shoppers[i]`).
            items: the cards, shape (n,).
            positions: shape (n,), the 0-based position of each card; default 0..n-1.
            match: shape (n,), in [0, 1], how well each card fits what the shopper asked;
                default 0.5 (neutral, no term).
            sharpness: kappa >= 0, the weight of `match` (grows as clarifying answers arrive).
        """
        if len(shopper) != 1:
            raise ValueError(
                f"UserChoiceModel: expects one shopper; got {len(shopper)}. "
                "Pass shoppers[i], or use slate_probabilities for a batch"
            )
        n = len(items)
        pos = np.arange(n) if positions is None else positions
        pairs = self._pairs(
            shopper, items, np.zeros(n, dtype=np.int64), np.arange(n), pos, match, sharpness, None
        )
        return self._probabilities(shopper, items, pairs, (n,))

    def click_probabilities(
        self,
        shopper: ShopperLatents,
        items: ItemBatch,
        positions: ArrayLike | None = None,
        *,
        match: ArrayLike | None = None,
        sharpness: float = 1.0,
    ) -> FloatArray:
        """P(click) for one shopper, shape (n,); see `probabilities` for the arguments."""
        return self.probabilities(shopper, items, positions, match=match, sharpness=sharpness).click

    def respond(
        self,
        shopper: ShopperLatents,
        slate: ItemBatch,
        rng: np.random.Generator,
        *,
        match: ArrayLike | None = None,
        sharpness: float = 1.0,
    ) -> SlateOutcomes:
        """Sample one shopper's events on `slate`, shown in order at positions 0..k-1."""
        probs = self.probabilities(shopper, slate, match=match, sharpness=sharpness)
        return self.sample(probs, slate, np.arange(len(slate)), rng)

    # Batch -----------------------------------------------------------------------------------

    def slate_probabilities(
        self,
        shoppers: ShopperLatents,
        users: ArrayLike,
        items: ItemBatch,
        slates: ArrayLike,
        *,
        match: ArrayLike | None = None,
        sharpness: ArrayLike = 1.0,
        offset: ArrayLike | None = None,
    ) -> SlateProbabilities:
        """True probabilities for m independent slates at once, shape (m, k).

        Args:
            shoppers: the population.
            users: shape (m,), the shopper (row of `shoppers`) who sees each slate.
            items: the item pool.
            slates: shape (m, k), item indices into `items` by position; -1 pads a short slate.
            match: shape (m, k), in [0, 1]; default 0.5 (neutral).
            sharpness: shape (m,) or a scalar, >= 0.
            offset: shape (m, k), an additive utility shift the caller owns (the session's
                fatigue for cards already shown, an offer's salience); default 0.
        """
        slates_arr = as_int("UserChoiceModel", "slates", slates, (None, None))
        m, k = slates_arr.shape
        users_arr = as_int("UserChoiceModel", "users", users, (m,))
        sharp = np.broadcast_to(
            as_float("UserChoiceModel", "sharpness", sharpness, (m,) if np.ndim(sharpness) else ()),
            (m,),
        )
        pairs = self._pairs(
            shoppers,
            items,
            np.repeat(users_arr, k),
            slates_arr.ravel(),
            np.tile(np.arange(k), m),
            None if match is None else as_float("UserChoiceModel", "match", match, (m, k)).ravel(),
            np.repeat(sharp, k),
            None if offset is None else as_float("UserChoiceModel", "offset", offset, (m, k)),
        )
        return self._probabilities(shoppers, items, pairs, (m, k))

    def simulate(
        self,
        shoppers: ShopperLatents,
        users: ArrayLike,
        items: ItemBatch,
        slates: ArrayLike,
        rng: np.random.Generator,
        *,
        match: ArrayLike | None = None,
        sharpness: ArrayLike = 1.0,
        offset: ArrayLike | None = None,
    ) -> tuple[SlateProbabilities, SlateOutcomes]:
        """Sample m independent slates at once; returns the true probabilities and the events.

        Arguments as in `slate_probabilities`. The draws consume a fixed number of random
        numbers per card, so the same seed gives the same events whatever the probabilities.
        """
        probs = self.slate_probabilities(
            shoppers, users, items, slates, match=match, sharpness=sharpness, offset=offset
        )
        slates_arr = np.asarray(slates, dtype=np.int64)
        return probs, self.sample(probs, items, slates_arr, rng)

    # Internals -------------------------------------------------------------------------------

    def _pairs(
        self,
        shoppers: ShopperLatents,
        items: ItemBatch,
        users: IntArray,
        item_idx: ArrayLike,
        positions: ArrayLike,
        match: ArrayLike | None,
        sharpness: ArrayLike,
        offset: ArrayLike | None,
    ) -> _Pairs:
        owner = "UserChoiceModel"
        if shoppers.n_categories != items.n_categories or shoppers.n_brands != items.n_brands:
            raise ValueError(
                f"{owner}: shoppers have {shoppers.n_categories} categories and "
                f"{shoppers.n_brands} brands but items have {items.n_categories} and "
                f"{items.n_brands}; build both for the same catalog"
            )
        idx = as_int(owner, "slate items", item_idx, (None,))
        p = idx.shape[0]
        pos = as_int(owner, "positions", positions, (p,))
        check_range(owner, "positions", pos, 0)
        check_range(owner, "users", users, 0, len(shoppers) - 1)
        check_range(owner, "slate items", idx, -1, len(items) - 1)
        m = np.full(p, 0.5) if match is None else as_float(owner, "match", match, (p,))
        check_range(owner, "match", m, 0.0, 1.0)
        sharp = np.broadcast_to(
            as_float(owner, "sharpness", sharpness, (p,) if np.ndim(sharpness) else ()), (p,)
        )
        check_range(owner, "sharpness", sharp, 0.0)
        off = np.zeros(p) if offset is None else np.asarray(offset, dtype=np.float64).ravel()
        valid = idx >= 0
        return _Pairs(users, np.where(valid, idx, 0), pos, m, sharp, off, valid)

    def _probabilities(
        self, sh: ShopperLatents, it: ItemBatch, pr: _Pairs, shape: tuple[int, ...]
    ) -> SlateProbabilities:
        par = self.params
        u, i = pr.users, pr.items
        cat = it.category[i]
        price = it.final_price[i]
        dt = it.deal_type[i]
        claim_item = it.needs_claim[i]
        lam = sh.price_sensitivity[u]
        delta = sh.deal_proneness[u]
        member = sh.is_member[u]
        new = sh.is_new[u]
        n_cat = sh.n_categories
        interest = np.clip(
            np.log(n_cat * np.maximum(sh.category_interest[u, cat], 1e-300)),
            -par.interest_clip,
            par.interest_clip,
        )
        favourite = (sh.favourite_brands[u] == it.brand[i][:, None]).any(axis=1)
        x = np.log(price / sh.budget[u, cat])
        over = np.maximum(x, 0.0)
        has_deal = dt >= 0
        pref = sh.deal_type_preference[u, np.where(has_deal, dt, 0)]
        deal = np.where(has_deal, delta * (par.w_discount * it.discount[i] + pref), 0.0)
        audience = (member & (dt == DealType.MEMBER_DAY)) | (new & (dt == DealType.NEW_USER))
        urgency = np.where(it.is_flash_sale[i], np.exp(-it.hours_left[i] / par.flash_tau_hours), 0)
        utility = (
            par.intercept
            + par.w_interest * interest
            + sh.loyalty[u] * favourite
            + par.w_popularity * (it.popularity[i] - 0.5)
            + par.w_match * pr.sharpness * (pr.match - 0.5)
            - lam * (par.price_slope * x + par.price_over_budget * over)
            + deal
            + par.w_audience * audience
            + par.w_flash * urgency
            - par.w_claim_friction * (1.0 - delta) * claim_item
            + pr.offset
        )
        examination = par.exam_top * (1.0 + pr.positions) ** (-par.exam_decay)
        click = examination * sigmoid(utility)
        claim_c = claim_item * sigmoid(
            par.claim_intercept
            + par.claim_deal_proneness * delta
            + par.claim_depth * it.discount[i]
            + par.claim_new_user * (new & (dt == DealType.NEW_USER))
        )
        cart_c = sigmoid(
            par.cart_intercept + par.cart_utility * utility - par.cart_over_budget * lam * over
        )
        buy_logit = (
            par.buy_intercept
            + par.buy_member * member
            + par.buy_new * new
            - par.buy_over_budget * lam * over
        )
        buy0 = sigmoid(buy_logit)
        buy1 = sigmoid(buy_logit + par.buy_claimed)
        buy_c = claim_c * buy1 + (1.0 - claim_c) * buy0
        multi = np.isin(dt, (DealType.BUNDLE, DealType.THRESHOLD))
        quantity = 1.0 + par.quantity_extra + par.quantity_extra_multi * multi
        purchase = click * cart_c * buy_c
        unit_margin = price - par.cost_ratio * it.list_price[i]
        fields = {
            "utility": utility,
            "examination": examination,
            "click": click,
            "claim_given_click": claim_c,
            "cart_given_click": cart_c,
            "purchase_given_cart": buy_c,
            "purchase_given_cart_claimed": buy1,
            "purchase_given_cart_unclaimed": buy0,
            "expected_quantity": np.broadcast_to(quantity, utility.shape),
            "claim": click * claim_c,
            "add_to_cart": click * cart_c,
            "purchase": purchase,
            "expected_revenue": purchase * quantity * price,
            "expected_margin": purchase * quantity * unit_margin,
        }
        out = {k: np.where(pr.valid, v, 0.0).reshape(shape) for k, v in fields.items()}
        return SlateProbabilities(**out)

    def sample(
        self,
        probs: SlateProbabilities,
        items: ItemBatch,
        slates: IntArray,
        rng: np.random.Generator,
    ) -> SlateOutcomes:
        """Draw events from true probabilities (eq. 3-8); `slates` has the shape of `probs`.

        Four uniforms per card (click, claim, cart, purchase) and one Poisson draw, always, so
        a seed fixes the events whatever the probabilities are. Claim and add-to-cart are
        independent given the click; the purchase follows the cart, likelier after a claim.
        """
        shape = probs.click.shape
        valid = (slates >= 0).reshape(shape)
        r = rng.random((4, *shape))
        click = r[0] < probs.click
        claim = click & (r[1] < probs.claim_given_click)
        cart = click & (r[2] < probs.cart_given_click)
        buy_p = np.where(
            claim, probs.purchase_given_cart_claimed, probs.purchase_given_cart_unclaimed
        )
        purchase = cart & (r[3] < buy_p) & valid
        quantity = np.where(
            purchase, 1 + rng.poisson(np.maximum(probs.expected_quantity - 1.0, 0.0)), 0
        ).astype(np.int64)
        idx = np.where(valid, slates, 0).reshape(shape)
        value = quantity * items.final_price[idx]
        margin = quantity * (
            items.final_price[idx] - self.params.cost_ratio * items.list_price[idx]
        )
        return SlateOutcomes(click, claim, cart, purchase, quantity, value, margin)
