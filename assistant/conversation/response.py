"""A turn as the ``/v1/chat`` JSON response (DESIGN.md "Contracts"): money as decimal strings
in the shop currency, times ISO 8601 UTC."""

from __future__ import annotations

from typing import Any

from assistant.conversation.facts import ItemFact
from assistant.conversation.pipeline import Recommendation, TurnResult
from assistant.money import Currency
from assistant.schedule import utc_text
from assistant.understanding.intent import ShopperIntent

__all__ = ["intent_json", "recommendation_json", "turn_json"]


def _money(currency: Currency, minor: int | None) -> str | None:
    return None if minor is None else currency.format(minor)


def intent_json(intent: ShopperIntent, currency: Currency) -> dict[str, Any]:
    """The effective intent, prices as decimal strings."""
    out = intent.model_dump(mode="json")
    out["min_price"] = _money(currency, intent.min_price)
    out["max_price"] = _money(currency, intent.max_price)
    return out


def _deal_json(item: ItemFact, currency: Currency) -> list[dict[str, Any]]:
    return [
        {
            "activity_id": d.activity_id,
            "revision": d.revision,
            "type": d.type,
            "title": d.title,
            "saving": currency.format(d.saving),
            "needs_claim": d.needs_claim,
            "ends_at": None if d.ends_at is None else utc_text(d.ends_at),
        }
        for d in item.deals
    ]


def recommendation_json(rec: Recommendation, currency: Currency) -> dict[str, Any]:
    """One recommendation card."""
    item = rec.item
    gap = item.cart_gap
    priced = item.price is not None or item.final_price is not None
    return {
        "impression_id": rec.impression_id,
        "position": rec.position,
        "kind": item.kind,
        "id": item.id,
        "title": item.title,
        "brand": item.brand or None,
        "category": item.category or None,
        "price": _money(currency, item.price),
        "final_price": _money(currency, item.final_price),
        "currency": currency.code if priced else None,
        "activity_ids": list(item.activity_ids),
        "valid_until": None if item.valid_until is None else utc_text(item.valid_until),
        "reason": rec.reason,
        "url": item.url,
        "image_url": item.image_url,
        "needs_claim": item.needs_claim,
        "cart_gap": None
        if gap is None
        else {
            "add": currency.format(gap.add),
            "unlocks": currency.format(gap.unlocks),
            "activity_id": gap.activity_id,
        },
        "deals": _deal_json(item, currency),
        "score": round(rec.score, 6),
        "propensity": rec.propensity,
    }


def turn_json(result: TurnResult, currency: Currency) -> dict[str, Any]:
    """The whole ``/v1/chat`` response."""
    return {
        "session_id": result.session_id,
        "turn_id": result.turn_id,
        "reply": result.reply,
        "handoff": result.handoff,
        "agent_active": result.agent_active,
        "action": str(result.action),
        "intent": intent_json(result.intent, currency),
        "recommendations": [recommendation_json(r, currency) for r in result.recommendations],
        "timings_ms": {k: round(v, 3) for k, v in result.timings_ms.items()},
        "versions": result.versions,
        "llm": result.llm,
    }
