"""Business constraints around the serving policy: budget pacing, caps, a holdout, safe exploration.

Five pieces, all pure given their inputs (the caller reads spend, exposures and clocks from SQL):

* `BudgetPacer` (from `policy.pacing`, re-exported here): spreads a coupon's daily budget over
  the day along a `PacingCurve`, so spend follows the curve and never exceeds the budget.
* `FrequencyCap`: at most N promotional impressions of one activity per user per sliding window.
* `ControlArm`: a sticky salted-hash holdout (default 5% of users) that sees no promotion, for
  uplift measurement; never applied to a shopper who asked for deals.
* `filter_explorable`: what the policy may explore: rows inside the hard filters whose deal has
  not ended, with flash sales about to end lifted into the exploration pool.
* `RewardOption` and `reward`: what a logged outcome is worth to the learner.

Example:
    >>> import numpy as np
    >>> from policy.constraints import BudgetPacer, PacingCurve
    >>> pacer = BudgetPacer(daily_budget=240_000, curve=PacingCurve.linear())
    >>> round(pacer.offer_probability(hour=12.0, spent=120_000, demand_per_hour=40_000), 4)
    0.25
    >>> pacer.offer_probability(hour=12.0, spent=125_000, demand_per_hour=40_000)
    0.0
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from ._validate import aware, minor_units, number
from .ab import hash_unit
from .pacing import (
    DIURNAL_TRAFFIC,
    BudgetPacer,
    DemandRate,
    PacingCurve,
    PacingDecision,
)

__all__ = [
    "DIURNAL_TRAFFIC",
    "BudgetPacer",
    "ControlArm",
    "DemandRate",
    "Explorable",
    "FrequencyCap",
    "LoggedOutcome",
    "PacingCurve",
    "PacingDecision",
    "PromotionArm",
    "RewardOption",
    "filter_explorable",
    "reward",
]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# --- frequency caps --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FrequencyCap:
    """At most `max_impressions` promotional impressions of one activity per user per window.

    The window slides: an impression at `now` is allowed when fewer than `max_impressions`
    earlier exposures fall in (now - window, now]. Exposures stamped after `now` (another
    worker's clock running ahead) count too, so skew can only make the cap stricter.

    Args:
        max_impressions: N, >= 1.
        window: Window length, > 0.

    Example:
        >>> from datetime import UTC, datetime, timedelta
        >>> cap = FrequencyCap(max_impressions=2, window=timedelta(hours=24))
        >>> now = datetime(2026, 11, 28, 12, tzinfo=UTC)
        >>> cap.allows([now - timedelta(hours=30), now - timedelta(hours=1)], now)
        True
        >>> cap.allows([now - timedelta(hours=3), now - timedelta(hours=1)], now)
        False
    """

    max_impressions: int = 3
    window: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        n = self.max_impressions
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ValueError(f"FrequencyCap: `max_impressions` must be an integer >= 1; got {n!r}")
        if not isinstance(self.window, timedelta) or self.window <= timedelta(0):
            raise ValueError(
                f"FrequencyCap: `window` must be a positive timedelta; got {self.window!r}"
            )

    def count(self, exposures: Iterable[datetime], now: datetime) -> int:
        """Exposures that fall in the window ending at `now` (later ones included).

        Raises:
            ValueError: If `now` or an exposure is not a timezone-aware datetime.
        """
        now = aware("FrequencyCap", "now", now)
        start = now - self.window
        return sum(1 for t in exposures if aware("FrequencyCap", "exposure", t) > start)

    def remaining(self, exposures: Iterable[datetime], now: datetime) -> int:
        """How many more impressions the cap allows now (>= 0)."""
        return max(0, self.max_impressions - self.count(exposures, now))

    def allows(self, exposures: Iterable[datetime], now: datetime) -> bool:
        """Whether one more impression may be shown now."""
        return self.count(exposures, now) < self.max_impressions

    def allowed(
        self,
        activity_ids: Sequence[str | None],
        exposures: Mapping[str, Sequence[datetime]],
        now: datetime,
    ) -> BoolArray:
        """Mask of the candidates one user may still be shown.

        Args:
            activity_ids: Each candidate's promoted activity id, or None for a candidate that
                promotes nothing (always allowed), shape (n_candidates,).
            exposures: Activity id -> this user's impression times of it (missing: none).
            now: The current time, timezone-aware.

        Returns:
            Boolean array, shape (n_candidates,): True where the cap allows one more impression.
        """
        now = aware("FrequencyCap", "now", now)
        return np.array(
            [a is None or self.allows(exposures.get(a, ()), now) for a in activity_ids],
            dtype=np.bool_,
        )


# --- no-promotion control arm ----------------------------------------------------------------


class PromotionArm(StrEnum):
    """A user's arm of the no-promotion holdout, as logged with every decision."""

    PROMOTED = "promoted"
    """Not in the holdout: promotions are served."""
    CONTROL = "control"
    """In the holdout: no promotion is offered (the uplift baseline)."""
    CONTROL_ASKED_FOR_DEALS = "control_asked_for_deals"
    """In the holdout, but the shopper asked for deals, so promotions are served anyway; keep
    these turns out of the uplift comparison (or compare them with the promoted ones that asked
    too)."""


@dataclass(frozen=True, slots=True)
class ControlArm:
    """Sticky holdout of a small share of users who see no promotion, for uplift measurement.

    Membership is `hash_unit(salt, user_id) < share`: stable across processes and machines and
    independent of any A/B experiment salted differently. A shopper who asks for deals is never
    denied them: `arm(..., wants_deals=True)` is never `CONTROL`.

    Args:
        share: Fraction of users held out, in [0, 0.5].
        salt: Names the holdout; changing it redraws every user.

    Example:
        >>> arm = ControlArm(share=0.05, salt="no-promo-2026")
        >>> arm.arm("user-7", wants_deals=True)
        <PromotionArm.PROMOTED: 'promoted'>
    """

    share: float = 0.05
    salt: str = "no-promotion-v1"

    def __post_init__(self) -> None:
        share = number("ControlArm", "share", self.share)
        if not 0.0 <= share <= 0.5:
            raise ValueError(
                f"ControlArm: `share` must lie in [0, 0.5] (a small holdout); got {self.share!r}"
            )
        object.__setattr__(self, "share", share)
        if not isinstance(self.salt, str) or not self.salt:
            raise ValueError(f"ControlArm: `salt` must be a non-empty string; got {self.salt!r}")

    def held_out(self, user_id: str) -> bool:
        """Whether the user is in the holdout bucket (whatever they ask)."""
        return hash_unit(self.salt, user_id) < self.share

    def arm(self, user_id: str, *, wants_deals: bool) -> PromotionArm:
        """The user's arm for this turn.

        Args:
            user_id: Stable user id.
            wants_deals: Whether the shopper asked for deals in this turn (the intent's
                ``wants_deals``); required, so no caller forgets it.

        Raises:
            ValueError: If `wants_deals` is not a bool or `user_id` is empty.
        """
        if not isinstance(wants_deals, bool):
            raise ValueError(
                f"ControlArm: `wants_deals` must be True or False; got {wants_deals!r}"
            )
        if not self.held_out(user_id):
            return PromotionArm.PROMOTED
        return PromotionArm.CONTROL_ASKED_FOR_DEALS if wants_deals else PromotionArm.CONTROL

    def suppress_promotion(self, user_id: str, *, wants_deals: bool) -> bool:
        """True when no promotion may be shown this turn (held out and did not ask for deals)."""
        return self.arm(user_id, wants_deals=wants_deals) is PromotionArm.CONTROL


# --- exploration inside the hard filters -----------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Explorable:
    """The candidates a policy may choose and explore, with the scores it should see.

    Attributes:
        rows: Kept rows of the input, in input order.
        scores: Scores for the policy, aligned with `rows`, shape (len(rows),); read-only.
        boosted: Input rows of flash sales lifted into the exploration pool.
        expired: Input rows dropped because their deal had ended (valid_until <= now).
        filtered: Input rows dropped because they fail the hard filters.
    """

    rows: tuple[int, ...]
    scores: FloatArray
    boosted: tuple[int, ...]
    expired: tuple[int, ...]
    filtered: tuple[int, ...]

    def original(self, indices: Iterable[int]) -> tuple[int, ...]:
        """Map a slate's indices (positions in `scores`) back to input rows."""
        return tuple(self.rows[int(i)] for i in indices)


def filter_explorable(
    scores: npt.ArrayLike,
    valid_until: Sequence[datetime | None],
    now: datetime,
    *,
    in_filters: npt.ArrayLike | None = None,
    flash: npt.ArrayLike | None = None,
    pool_size: int = 100,
    flash_window: timedelta = timedelta(hours=2),
    max_boosted: int = 10,
) -> Explorable:
    """Restrict exploration to live candidates inside the hard filters; lift ending flash sales.

    The rule:

    1. A row failing the hard filters (`in_filters` False) is dropped: never shown, never
       explored.
    2. A row whose deal has ended (`valid_until` <= now) is dropped; `None` means no end.
    3. Urgent rows are live flash sales ending within `flash_window` (now < valid_until <=
       now + flash_window). Up to `max_boosted` of them, soonest ending first (then higher score,
       then lower row), are lifted just above the score of the (pool_size - b)-th best other
       row, b being the number lifted. The policy's exploration pool (its `top` best rows, with
       `top` = `pool_size`) then contains every lifted row, so each keeps an exploration
       propensity of at least epsilon / pool_size per position until it ends, while the greedy
       choice still goes to the best-scored rows. Rows already above that cut keep their scores.

    Args:
        scores: Ranker scores, shape (n_candidates,), finite.
        valid_until: When each row's deal ends (timezone-aware) or None, length n_candidates.
        now: The current time, timezone-aware.
        in_filters: Hard-filter mask, shape (n_candidates,); default all True.
        flash: Flash-sale mask, shape (n_candidates,); default all False.
        pool_size: The policy's `top` (its exploration pool), >= 2.
        flash_window: How close to its end a flash sale is lifted, > 0.
        max_boosted: The most rows lifted per call, >= 0 (at most pool_size - 1 are lifted, so
            the best-scored row always stays in the pool).

    Returns:
        The kept rows and the scores to pass to `Policy.select`; map the slate back with
        `Explorable.original`.

    Raises:
        ValueError: If shapes differ, scores are not finite, a time is naive, or a parameter is
            out of range.

    Example:
        >>> from datetime import UTC, datetime, timedelta
        >>> now = datetime(2026, 11, 28, 12, tzinfo=UTC)
        >>> ex = filter_explorable([0.9, 0.8, 0.1, 0.5], [None, now, now + timedelta(hours=1),
        ...                         None], now, flash=[False, False, True, False], pool_size=2)
        >>> ex.rows, ex.expired, ex.boosted, ex.original([1])
        ((0, 2, 3), (1,), (2,), (2,))
    """
    owner = "filter_explorable"
    now = aware(owner, "now", now)
    try:
        arr = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{owner}: `scores` must be numeric; {exc}") from exc
    if arr.ndim != 1:
        raise ValueError(f"{owner}: `scores` must have shape (n,); got {arr.shape}")
    n = arr.size
    if not np.isfinite(arr).all():
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"{owner}: `scores` must be finite; got {arr[bad]} at index {bad}")
    if len(valid_until) != n:
        raise ValueError(
            f"{owner}: `valid_until` must have one entry per score ({n}); got {len(valid_until)}"
        )
    masks = {}
    for name, value, default in (("in_filters", in_filters, True), ("flash", flash, False)):
        mask = np.full(n, default) if value is None else np.asarray(value)
        if mask.shape != (n,) or mask.dtype != np.bool_:
            raise ValueError(
                f"{owner}: `{name}` must be a boolean array of shape ({n},); got dtype "
                f"{mask.dtype} and shape {mask.shape}"
            )
        masks[name] = mask
    if isinstance(pool_size, bool) or not isinstance(pool_size, int | np.integer) or pool_size < 2:
        raise ValueError(f"{owner}: `pool_size` must be an integer >= 2; got {pool_size!r}")
    if isinstance(max_boosted, bool) or not isinstance(max_boosted, int | np.integer):
        raise ValueError(f"{owner}: `max_boosted` must be an integer >= 0; got {max_boosted!r}")
    if max_boosted < 0:
        raise ValueError(f"{owner}: `max_boosted` must be >= 0; got {max_boosted}")
    if not isinstance(flash_window, timedelta) or flash_window <= timedelta(0):
        raise ValueError(
            f"{owner}: `flash_window` must be a positive timedelta; got {flash_window!r}"
        )

    ends: list[datetime | None] = [
        None if v is None else aware(owner, f"valid_until[{i}]", v)
        for i, v in enumerate(valid_until)
    ]
    filtered = tuple(int(i) for i in np.flatnonzero(~masks["in_filters"]))
    expired = tuple(
        i for i, end in enumerate(ends) if masks["in_filters"][i] and end is not None and end <= now
    )
    gone = set(filtered) | set(expired)
    rows = [i for i in range(n) if i not in gone]
    out = arr[rows].copy()
    horizon = now + flash_window
    urgent = sorted(
        (i for i in rows if masks["flash"][i] and (end := ends[i]) is not None and end <= horizon),
        key=lambda i: (ends[i], -arr[i], i),
    )[: min(int(max_boosted), pool_size - 1)]
    boosted: list[int] = []
    if urgent:
        urgent_set = set(urgent)
        others = np.array([arr[i] for i in rows if i not in urgent_set])
        free = pool_size - len(urgent)
        if others.size > free:
            cut = float(np.partition(others, others.size - free)[others.size - free])
            lift = float(np.nextafter(cut, np.inf))
            position = {row: j for j, row in enumerate(rows)}
            for i in urgent:
                if arr[i] <= cut:
                    out[position[i]] = lift
                    boosted.append(i)
    out.flags.writeable = False
    if boosted:
        logger.debug("filter_explorable lifted %d ending flash sales", len(boosted))
    return Explorable(
        rows=tuple(rows),
        scores=out,
        boosted=tuple(sorted(boosted)),
        expired=expired,
        filtered=filtered,
    )


# --- reward options --------------------------------------------------------------------------


class RewardOption(StrEnum):
    """What the learner is rewarded for."""

    CLICK = "click"
    """1 if the recommendation was clicked."""
    CLAIM = "claim"
    """1 if its coupon was claimed."""
    PURCHASE = "purchase"
    """1 if it was bought."""
    MARGIN = "margin"
    """Revenue minus discount of the purchase, minor units (0 without a purchase)."""


@dataclass(frozen=True, slots=True)
class LoggedOutcome:
    """What followed one impression, as the feedback log records it.

    Attributes:
        clicked: The shopper clicked the recommendation.
        claimed: The shopper claimed its coupon.
        purchased: The shopper bought it.
        revenue: Gross value of the purchase at list prices, minor units (0 without one).
        discount: What deals took off that purchase, minor units, <= revenue.

    Raises:
        ValueError: If an amount is negative or not an integer, the discount exceeds the
            revenue, or money is logged without a purchase.
    """

    clicked: bool = False
    claimed: bool = False
    purchased: bool = False
    revenue: int = 0
    discount: int = 0

    def __post_init__(self) -> None:
        for name in ("clicked", "claimed", "purchased"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(
                    f"LoggedOutcome: `{name}` must be True or False; got {getattr(self, name)!r}"
                )
        revenue = minor_units("LoggedOutcome", "revenue", self.revenue)
        discount = minor_units("LoggedOutcome", "discount", self.discount)
        if discount > revenue:
            raise ValueError(
                f"LoggedOutcome: `discount` ({discount}) cannot exceed `revenue` ({revenue})"
            )
        if not self.purchased and revenue:
            raise ValueError(
                "LoggedOutcome: `revenue` and `discount` must be 0 without a purchase; got "
                f"revenue={revenue}, discount={discount}"
            )


def reward(option: RewardOption | str, outcome: LoggedOutcome) -> int:
    """The reward of a logged outcome under a reward option.

    Args:
        option: A `RewardOption` or its value (``"click"``, ``"claim"``, ``"purchase"``,
            ``"margin"``).
        outcome: The logged outcome.

    Returns:
        0 or 1 for click, claim and purchase; revenue - discount (minor units) for margin.

    Raises:
        ValueError: If `option` is not a reward option or `outcome` not a `LoggedOutcome`.

    Example:
        >>> reward("margin", LoggedOutcome(clicked=True, purchased=True, revenue=5000,
        ...                                discount=750))
        4250
    """
    try:
        kind = RewardOption(option)
    except ValueError:
        choices = ", ".join(o.value for o in RewardOption)
        raise ValueError(f"reward: `option` must be one of {choices}; got {option!r}") from None
    if not isinstance(outcome, LoggedOutcome):
        raise ValueError(f"reward: `outcome` must be a LoggedOutcome; got {type(outcome).__name__}")
    if kind is RewardOption.CLICK:
        return int(outcome.clicked)
    if kind is RewardOption.CLAIM:
        return int(outcome.claimed)
    if kind is RewardOption.PURCHASE:
        return int(outcome.purchased)
    return outcome.revenue - outcome.discount
