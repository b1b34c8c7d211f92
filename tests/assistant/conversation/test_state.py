"""Dialogue state: how each turn's intent merges with the session's slots."""

from __future__ import annotations

from assistant.conversation import DialogueState, ShownItem, merge
from assistant.understanding import IntentType, ShopperIntent


def _find(**kw: object) -> ShopperIntent:
    return ShopperIntent.model_validate({"type": "find_products", **kw})


def _refine(**kw: object) -> ShopperIntent:
    return ShopperIntent.model_validate({"type": "refine", **kw})


def test_a_refinement_keeps_every_slot_it_does_not_restate() -> None:
    _, state = merge(DialogueState(), _find(categories=["shoes/running"], query="running shoes"))
    effective, state = merge(state, _refine(max_price=4000))
    assert effective.categories == ["shoes/running"]
    assert effective.query == "running shoes"
    assert effective.max_price == 4000
    effective, state = merge(state, _refine(max_price=5500))
    assert effective.max_price == 5500 and effective.categories == ["shoes/running"]


def test_cheaper_without_a_number_goes_below_the_cheapest_shown() -> None:
    _, state = merge(DialogueState(), _find(categories=["shoes/running"]))
    state.shown = [
        ShownItem(kind="product", id="a", final_price=6000),
        ShownItem(kind="product", id="b", final_price=4500),
    ]
    effective, _ = merge(state, _refine(cheaper=True))
    assert effective.max_price == 4499


def test_a_new_topic_starts_over_but_keeps_standing_preferences() -> None:
    _, state = merge(
        DialogueState(),
        _find(categories=["shoes/running"], max_price=5000, brands_out=["Nike"]),
    )
    _, state = merge(state, _refine(not_interested=["Puma"], personalization=False))
    effective, state = merge(state, _find(categories=["home/kitchen-knives"]))
    assert effective.categories == ["home/kitchen-knives"]
    assert effective.max_price is None and effective.brands_out == []
    assert effective.not_interested == ["Puma"] and effective.personalization is False


def test_excluded_brands_accumulate_and_an_asked_brand_wins() -> None:
    _, state = merge(DialogueState(), _find(categories=["shoes/running"], brands_out=["Nike"]))
    effective, state = merge(state, _refine(brands_out=["Adidas"]))
    assert effective.brands_out == ["Nike", "Adidas"]
    effective, _ = merge(state, _refine(brands_in=["Nike"]))
    assert effective.brands_in == ["Nike"] and effective.brands_out == ["Adidas"]


def test_a_lower_budget_drops_an_old_floor_above_it() -> None:
    _, state = merge(DialogueState(), _find(categories=["x/y"], min_price=6000, max_price=9000))
    effective, _ = merge(state, _refine(max_price=5000))
    assert effective.max_price == 5000 and effective.min_price is None


def test_other_turns_leave_the_slots_alone() -> None:
    _, state = merge(DialogueState(), _find(categories=["shoes/running"], max_price=5000))
    for kind in (IntentType.MY_COUPONS, IntentType.HANDOFF, IntentType.SMALL_TALK):
        _, after = merge(state, ShopperIntent(type=kind))
        assert after.categories == ["shoes/running"] and after.max_price == 5000


def test_a_refinement_first_becomes_a_search() -> None:
    effective, _ = merge(DialogueState(), _refine(max_price=3000))
    assert effective.type is IntentType.FIND_PRODUCTS


def test_an_unreadable_stored_state_starts_over() -> None:
    assert DialogueState.from_json({"max_price": "lots"}) == DialogueState()
    assert DialogueState.from_json(None) == DialogueState()


def test_a_guessed_category_never_resets_the_session() -> None:
    _, state = merge(
        DialogueState(), _find(categories=["shoes/running"], max_price=6000), frozenset()
    )
    guessed = _find(categories=["shoes"], query="last")
    effective, _ = merge(state, guessed, frozenset({"type", "max_price"}))
    assert effective.categories == ["shoes/running"] and effective.max_price == 6000
    sure = _find(categories=["home/kitchen-knives"])
    effective, _ = merge(state, sure, frozenset({"type", "categories"}))
    assert effective.categories == ["home/kitchen-knives"] and effective.max_price is None
