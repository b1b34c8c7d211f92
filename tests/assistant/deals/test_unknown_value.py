"""Coupons of unknown value (imported without a face value) are valid but never applied."""

from __future__ import annotations

import pytest

from assistant.deals import claim_check, full_value
from assistant.domain import Audience, IneligibleReason, Scope
from assistant.errors import ValidationError

from .helpers import activity, context, product, quote

SHOE = product("P1", 6000)


def test_a_coupon_of_unknown_value_is_never_applied_and_never_a_gap() -> None:
    unknown = activity("C0", "coupon", value_known=False, min_spend=10_000)
    unknown_held = activity("C1", "coupon", scope=Scope(products=("P1",)), value_known=False)
    known = activity("C2", "coupon", amount=500)
    held = context(held=frozenset({"C1"}))

    alone = quote([SHOE], [("P1", 1)], [unknown, unknown_held], held)
    assert (alone.coupon, alone.savings, alone.gap, alone.to_claim) == (None, 0, None, ())
    assert dict(alone.ineligible) == {}

    beside = quote([SHOE], [("P1", 1)], [unknown, unknown_held, known], held)
    assert beside.coupon is not None and beside.coupon.activity_id == "C2"
    assert beside.savings == 500


def test_a_coupon_of_unknown_value_still_gets_its_standing_reasons() -> None:
    members_only = activity("C0", "coupon", value_known=False, audience=Audience("members"))
    result = quote([SHOE], [("P1", 1)], [members_only])
    assert dict(result.ineligible) == {"C0": IneligibleReason.AUDIENCE}


def test_a_claim_of_a_coupon_of_unknown_value_reserves_nothing() -> None:
    unknown = activity("C0", "coupon", value_known=False)
    assert full_value(unknown) is None
    assert claim_check(unknown, context()) is None


@pytest.mark.parametrize(
    ("kind", "terms", "message"),
    [
        ("coupon", {"amount": 500}, "a coupon of unknown value cannot have amount"),
        (
            "new_user",
            {"percent": 10, "max_discount": 300},
            "a coupon of unknown value cannot have percent, max_discount",
        ),
        (
            "percent_off",
            {"percent": 10},
            "only a coupon may have an unknown value, not a percent_off",
        ),
    ],
)
def test_an_unknown_value_with_terms_or_on_another_type_is_refused(
    kind: str, terms: dict[str, int], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        activity("X1", kind, value_known=False, **terms)
