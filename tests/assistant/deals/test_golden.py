"""The hand-worked golden cases of the deal model (shared/checks/deal_cases.json)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from assistant.catalog import ActivityRow, ProductRow
from assistant.deals import CartQuote, DealContext, quote_cart
from assistant.domain import Activity, CartLine, Product, Shopper
from assistant.money import Currency

REPO_ROOT = Path(__file__).resolve().parents[3]
CASES_PATH = REPO_ROOT.parent / "shared" / "checks" / "deal_cases.json"
USD = Currency.of("USD")
CHECKED = {
    "item_discounts",
    "order",
    "coupon",
    "goods_total",
    "savings",
    "shipping",
    "gap",
    "ineligible",
}


def _load() -> dict[str, Any] | None:
    if not CASES_PATH.is_file():
        return None
    data: dict[str, Any] = json.loads(CASES_PATH.read_text(encoding="utf-8"))
    return data


DATA = _load()
CASE_IDS = [case["id"] for case in DATA["cases"]] if DATA else ["missing-golden-file"]


def _deal_pair(deal: Any) -> list[str] | None:
    return None if deal is None else [deal.activity_id, USD.format(deal.discount)]


def _quote(data: dict[str, Any], case: dict[str, Any]) -> CartQuote:
    products: dict[str, Product] = {
        row["id"]: ProductRow.model_validate(row).to_domain(USD) for row in data["products"]
    }
    activities: list[Activity] = [
        ActivityRow.model_validate(row).to_domain(USD, "UTC") for row in data["activities"]
    ]
    users = {
        row["id"]: Shopper(row["id"], member=row["member"], new_user=row["new_user"])
        for row in data["users"]
    }
    uses = {key.removesuffix("_uses"): count for key, count in case.get("history", {}).items()}
    budget_left = {
        aid: USD.parse(amount) for aid, amount in case.get("activity_budget_left", {}).items()
    }
    ctx = DealContext(
        now=datetime.fromisoformat(case.get("now", data["now"])),
        shopper=users[case["user"]],
        shipping_fee=USD.parse(data["shipping_fee"]),
        uses=uses,
        budget_left=budget_left,
    )
    cart = [CartLine(pid, qty) for pid, qty in case["cart"]]
    return quote_cart(products, cart, activities, ctx)


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_golden_case(case_id: str) -> None:
    if DATA is None:
        pytest.fail(
            f"golden deal cases not found at {CASES_PATH}; the shared checks folder must sit "
            "beside the repository (shared/checks/deal_cases.json)"
        )
    case = next(c for c in DATA["cases"] if c["id"] == case_id)
    expect = case["expect"]
    assert set(expect) <= CHECKED, f"unchecked expectation keys {set(expect) - CHECKED}"
    quote = _quote(DATA, case)
    why = case.get("why", "")

    if "item_discounts" in expect:
        got = {line.product_id: _deal_pair(line.item_deal) for line in quote.lines}
        got = {pid: pair for pid, pair in got.items() if pair is not None}
        assert got == expect["item_discounts"], why
    for key in ("order", "coupon"):
        if key in expect:
            assert _deal_pair(getattr(quote, key)) == expect[key], why
    for key in ("goods_total", "savings", "shipping"):
        if key in expect:
            assert USD.format(getattr(quote, key)) == expect[key], f"{key}: {why}"
    if "gap" in expect:
        gap = quote.gap
        got_gap = (
            None
            if gap is None
            else {
                "activity": gap.activity_id,
                "add": USD.format(gap.add),
                "unlocks": USD.format(gap.unlocks),
            }
        )
        assert got_gap == expect["gap"], why
    for aid, reason in expect.get("ineligible", {}).items():
        assert quote.ineligible.get(aid) == reason, f"{aid}: {why}"
    assert quote.goods_total == quote.subtotal - quote.savings
    assert quote.payable == quote.goods_total + quote.shipping
