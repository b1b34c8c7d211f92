"""Business rules at the choose step: the no-promotion holdout, frequency caps, live deals only.

Applied to a turn's ranked candidates before the policy sees them, in this order
(:mod:`policy.constraints` holds the rules themselves):

1. **Control arm.** A sticky 5% of users (``ControlArm``) are not promoted to: no activity cards
   (coupons, spend-X-save-Y, flash-sale pages...) are recommended to them. Their product cards
   still show this shopper's real prices, deals included, since those are the shop's prices.
   Never applied when the shopper asked for deals: then the arm is logged as
   ``control_asked_for_deals``.
2. **Frequency caps.** Unasked-for promotions: at most 3 impressions of one activity per user in
   24 hours (``FrequencyCap``). A shopper who asks for deals sees what they asked for.
3. **Live and explorable** (``filter_explorable``): rows whose deal has ended are dropped; deals
   ending within two hours (flash sales and the like) are lifted into the policy's exploration
   pool so they get explored before they end.

What was dropped or lifted is logged with the decision (``constraints`` in its context), so the
logged propensities stay exact for the candidates the policy actually saw.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select

from assistant.store.models import DecisionRecord, ImpressionRecord
from policy import ControlArm, FrequencyCap, PromotionArm, filter_explorable

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from assistant.conversation.ranking import Candidate

__all__ = ["Constrained", "TurnConstraints"]

URGENT_WINDOW = timedelta(hours=2)


@dataclass(frozen=True)
class Constrained:
    """The candidates the policy may choose from, with their (possibly lifted) scores."""

    candidates: list[Candidate]
    scores: NDArray[np.float64]
    log: dict[str, Any]


@dataclass(frozen=True)
class TurnConstraints:
    """The business rules of the choose step (defaults: 5% holdout, 3 per activity a day)."""

    control: ControlArm = field(default_factory=ControlArm)
    cap: FrequencyCap = field(default_factory=FrequencyCap)
    pool_size: int = 100

    def _exposures(
        self, sessions: sessionmaker[Session], user_id: str, activity_ids: set[str], now: datetime
    ) -> dict[str, list[datetime]]:
        out: dict[str, list[datetime]] = defaultdict(list)
        if not activity_ids:
            return out
        with sessions() as session:
            rows = session.execute(
                select(ImpressionRecord.item_id, ImpressionRecord.created_at)
                .join(DecisionRecord, DecisionRecord.id == ImpressionRecord.decision_id)
                .where(
                    DecisionRecord.user_id == user_id,
                    ImpressionRecord.kind == "activity",
                    ImpressionRecord.item_id.in_(sorted(activity_ids)),
                    ImpressionRecord.created_at > now - self.cap.window,
                )
            )
            for item_id, at in rows:
                out[item_id].append(at)
        return out

    def apply(
        self,
        sessions: sessionmaker[Session],
        user_id: str,
        *,
        wants_deals: bool,
        candidates: Sequence[Candidate],
        scores: NDArray[np.float64],
        now: datetime,
    ) -> Constrained:
        """Drop what the rules forbid and lift urgent deals; see the module docstring."""
        n = len(candidates)
        arm = self.control.arm(user_id, wants_deals=wants_deals)
        promo = np.array([c.kind == "activity" for c in candidates], dtype=bool)
        allowed = np.ones(n, dtype=bool)
        if arm is PromotionArm.CONTROL:
            allowed &= ~promo
        capped: list[str] = []
        if not wants_deals and arm is not PromotionArm.CONTROL:
            activity_ids = [c.id if c.kind == "activity" else None for c in candidates]
            wanted = {a for a in activity_ids if a is not None}
            exposures = self._exposures(sessions, user_id, wanted, now)
            ok = self.cap.allowed(activity_ids, exposures, now)
            capped = [c.id for c, keep in zip(candidates, ok, strict=True) if not keep]
            allowed &= ok
        urgent = np.array(
            [
                c.has_deal and c.ends_at is not None and now < c.ends_at <= now + URGENT_WINDOW
                for c in candidates
            ],
            dtype=bool,
        )
        ex = filter_explorable(
            scores,
            [c.ends_at for c in candidates],
            now,
            in_filters=allowed,
            flash=urgent,
            pool_size=max(self.pool_size, 2),
            flash_window=URGENT_WINDOW,
        )
        log: dict[str, Any] = {"arm": str(arm), "holdout_salt": self.control.salt}
        if capped:
            log["capped"] = capped
        if ex.expired:
            log["expired"] = [candidates[i].id for i in ex.expired]
        if ex.boosted:
            log["lifted"] = [candidates[i].id for i in ex.boosted]
        held = int((~allowed & promo).sum()) - len(capped)
        if held > 0:
            log["held_out"] = held
        return Constrained(
            [candidates[i] for i in ex.rows], np.asarray(ex.scores, dtype=np.float64), log
        )
