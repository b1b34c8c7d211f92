"""Every number of the user-choice model, in one place, frozen (docs/world.md, "Freeze").

The defaults below ARE the demo world. They were set once, by the reasoning written next to
each, before any policy was evaluated against them; `world_fingerprint()` hashes them and a test
pins the hash, so a change shows up in review as a deliberate new world version rather than as a
quiet retune that favours one model.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from enum import IntEnum

__all__ = [
    "DEFAULT_CHOICE_PARAMS",
    "DEFAULT_PRIORS",
    "DEFAULT_SESSION_PARAMS",
    "N_DEAL_TYPES",
    "WORLD_VERSION",
    "ChoiceParams",
    "DealType",
    "SegmentPrior",
    "SessionParams",
    "ShopperPriors",
    "world_fingerprint",
]

WORLD_VERSION = "world-v1"


class DealType(IntEnum):
    """The deal an item is shown with; the names are the assistant's ActivityType values.

    `NONE` (-1) means no deal. The assistant maps an activity type with
    `DealType[activity_type.name]` (policy imports no project package, so the order is
    duplicated here on purpose and fixed).
    """

    NONE = -1
    FLASH_SALE = 0
    PERCENT_OFF = 1
    MEMBER_DAY = 2
    THRESHOLD = 3
    BUNDLE = 4
    COUPON = 5
    NEW_USER = 6
    FREE_SHIPPING = 7


N_DEAL_TYPES = 7 + 1


@dataclass(frozen=True)
class ChoiceParams:
    """Coefficients of one shopper's response to one slate (docs/world.md, equations 1-8)."""

    # Utility (eq. 1). The intercept puts a neutral item at sigmoid(-2.2) = 10% attraction, a
    # typical e-commerce recommendation CTR once examination is applied.
    intercept: float = -2.2
    w_interest: float = 0.8  # per unit of log(C * theta): a 3x favoured category adds ~0.9
    interest_clip: float = 3.0  # bounds log(C * theta) so a zero-interest category is finite
    w_popularity: float = 0.8  # popularity quantile in [0, 1], centred at 0.5
    w_match: float = 2.5  # fit to the stated need dominates a single slate (centred at 0.5)
    price_slope: float = 0.25  # gentle log-price effect below budget
    price_over_budget: float = 1.5  # extra slope above budget: the kink of loss aversion
    w_discount: float = 2.0  # transaction utility of depth, scaled by deal-proneness
    w_audience: float = 0.6  # member-day deal to a member, new-user deal to a new shopper
    w_flash: float = 0.8  # scarcity: flash sale ending now
    flash_tau_hours: float = 6.0  # urgency halves roughly every 4 hours
    w_claim_friction: float = 0.4  # an extra step to claim, felt by deal-averse shoppers
    # Examination (eq. 2): position-based model, 95% look at the first card.
    exam_top: float = 0.95
    exam_decay: float = 0.6
    # Claim given click (eq. 4), only for items that need a claim.
    claim_intercept: float = -1.0
    claim_deal_proneness: float = 2.0
    claim_depth: float = 1.5
    claim_new_user: float = 1.0
    # Add to cart given click (eq. 5).
    cart_intercept: float = -0.5
    cart_utility: float = 0.5
    cart_over_budget: float = 1.0
    # Purchase given add to cart (eq. 6): members convert more, new shoppers less.
    buy_intercept: float = -0.2
    buy_member: float = 0.4
    buy_new: float = -0.3
    buy_over_budget: float = 1.0
    buy_claimed: float = 0.6  # a claimed coupon commits the shopper
    # Quantity (eq. 7): 1 + Poisson(mean); bundles and thresholds invite more units.
    quantity_extra: float = 0.15
    quantity_extra_multi: float = 0.6
    # Margin (eq. 8): unit cost as a share of list price.
    cost_ratio: float = 0.6


@dataclass(frozen=True)
class SessionParams:
    """Dialogue dynamics of a shopping session (docs/world.md, equations 9-12)."""

    n_slots: int = 3  # need, budget / price band, preference; the first message fills one
    match_noise: float = 0.35  # sd of the assistant's match estimate when nothing is known
    sharpness_floor: float = 0.5  # match weight when one slot of n_slots is known, scaled up
    off_intent_match: float = 0.15  # an item outside the intended category fits this much
    match_beta: tuple[float, float] = (2.0, 2.0)  # within-category fit of each item
    seen_penalty: float = 0.7  # an item shown earlier in the session attracts less
    offer_salience: float = 0.5  # a single coupon card, offered explicitly, stands out
    leave_intercept: float = -3.0  # 5% base hazard per turn
    leave_turn: float = 0.25
    leave_poor: float = 1.5  # times poor_streak / patience
    leave_click: float = -1.0  # a click keeps the shopper engaged
    leave_purchase: float = 2.5  # most shoppers leave satisfied after buying
    leave_clarify: float = 0.5  # a question costs some patience
    leave_redundant_clarify: float = 1.5  # asking when everything is known costs more


@dataclass(frozen=True)
class SegmentPrior:
    """Priors of one shopper segment (docs/world.md, "Shopper latents")."""

    name: str
    weight: float
    interest_alpha: float  # Dirichlet concentration: smaller = fewer, stronger interests
    deal_beta: tuple[float, float]  # Beta(a, b) of deal-proneness
    price_sensitivity: float  # median of the log-normal
    budget_multiplier: float  # median budget / category price level
    loyalty: float  # median loyalty strength (utility units)
    n_favourite_brands: int
    patience: float  # mean number of poor slates tolerated (>= 1)
    p_member: float
    p_new: float


def _default_segments() -> tuple[SegmentPrior, ...]:
    return (
        SegmentPrior("bargain_hunter", 0.30, 0.6, (6.0, 2.0), 1.6, 0.8, 0.3, 1, 3.0, 0.35, 0.10),
        SegmentPrior("brand_loyal", 0.20, 0.4, (2.0, 5.0), 0.8, 1.2, 1.5, 2, 4.0, 0.60, 0.05),
        SegmentPrior("premium", 0.15, 0.5, (1.5, 6.0), 0.5, 1.8, 0.8, 2, 2.0, 0.50, 0.05),
        SegmentPrior("casual", 0.25, 1.0, (3.0, 3.0), 1.0, 1.0, 0.5, 1, 2.0, 0.30, 0.15),
        SegmentPrior("newcomer", 0.10, 1.5, (4.0, 3.0), 1.2, 0.9, 0.2, 0, 2.0, 0.00, 1.00),
    )


@dataclass(frozen=True)
class ShopperPriors:
    """Population priors for `sample_shoppers` (docs/world.md, "Shopper latents")."""

    segments: tuple[SegmentPrior, ...] = field(default_factory=_default_segments)
    price_sensitivity_sd: float = 0.35  # log-normal sd around the segment median
    budget_user_sd: float = 0.30  # a shopper's overall spend level
    budget_category_sd: float = 0.20  # and per category around it
    loyalty_sd: float = 0.40
    brand_zipf: float = 0.8  # favourite brands follow brand popularity ~ rank^-0.8
    # Mean preference per deal type, in DealType order (flash, percent, member day, threshold,
    # bundle, coupon, new user, free shipping): free shipping's "zero price" pull
    # (Shampanier et al. 2007) and flash urgency rank high, bundles low.
    deal_type_mean: tuple[float, ...] = (0.5, 0.3, 0.3, 0.2, 0.1, 0.3, 0.4, 0.4)
    deal_type_sd: float = 0.30
    default_price_level: float = 50.0  # category price level when none is given


DEFAULT_CHOICE_PARAMS = ChoiceParams()
DEFAULT_SESSION_PARAMS = SessionParams()
DEFAULT_PRIORS = ShopperPriors()


def world_fingerprint(
    choice: ChoiceParams = DEFAULT_CHOICE_PARAMS,
    session: SessionParams = DEFAULT_SESSION_PARAMS,
    priors: ShopperPriors = DEFAULT_PRIORS,
) -> str:
    """A sha256 over every parameter of the world; tests pin the default one.

    Example:
        >>> from policy.world import world_fingerprint
        >>> len(world_fingerprint())
        64
    """
    blob = json.dumps(
        {
            "version": WORLD_VERSION,
            "choice": dataclasses.asdict(choice),
            "session": dataclasses.asdict(session),
            "priors": dataclasses.asdict(priors),
            "deal_types": [d.name for d in DealType],
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()
