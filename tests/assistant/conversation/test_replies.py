"""Template replies: language, grounded amounts, why-lines and every action in en and zh."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal

import pytest

from assistant.conversation.facts import (
    ActionKind,
    CartGapFact,
    CouponFact,
    DealFact,
    IneligibleFact,
    ItemFact,
    ReplyFacts,
)
from assistant.conversation.replies import (
    MAX_WHY_PARTS,
    render_reply,
    reply_numbers_are_grounded,
    why_line,
)
from assistant.money import Currency

Lang = Literal["en", "zh"]
LANGS: tuple[Lang, ...] = ("en", "zh")
USD = Currency.of("USD")
NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
CJK = re.compile(r"[\u3400-\u9fff]")
SEP = {"en": "; ", "zh": "；"}
CLAIM = {"en": "claim it first", "zh": "需先领取"}

# The contract checker's money pattern (DESIGN.md contracts; the API's reply check).
CONTRACT = re.compile(
    r"(?:[$¥￥]\s?(\d+(?:[.,]\d{1,2})?))|(?:(\d+(?:\.\d{1,2})?)\s?(?:元|块|dollars?|USD|CNY|RMB))"
)
DECIMAL = re.compile(r"(?<![\d.])\d+\.\d{1,2}(?!\d)")


def _t(lang: Lang, en: str, zh: str) -> str:
    return en if lang == "en" else zh


def _deal(type_: str, saving: int, min_spend: int | None, ends: timedelta | None, claim=False):
    return DealFact(
        activity_id=f"act-{type_}",
        revision=1,
        type=type_,
        title=f"{type_} deal",
        saving=saving,
        min_spend=min_spend,
        needs_claim=claim,
        ends_at=NOW + ends if ends is not None else None,
    )


def threshold_item(lang: Lang) -> ItemFact:
    """Spend 50.00 save 8.00, ends in 3 h, a 7.00 gap to 5.00 more, a brand bought before."""
    deal = _deal("threshold", 800, 5000, timedelta(hours=3))
    return ItemFact(
        kind="product",
        id="p-lumi",
        title=_t(lang, "Lumi Runner 2 running shoes", "Lumi 2代跑鞋"),
        brand="Lumi",
        category="shoes/running",
        price=4720,
        final_price=3920,
        deals=(deal,),
        activity_ids=(deal.activity_id,),
        valid_until=deal.ends_at,
        cart_gap=CartGapFact(
            add=700, unlocks=500, activity_id="act-threshold-2", activity_type="threshold"
        ),
        bought_brand_before=True,
    )


def coupon_item(lang: Lang) -> ItemFact:
    deal = _deal("coupon", 500, 3000, timedelta(days=2), claim=True)
    return ItemFact(
        kind="product",
        id="p-aero",
        title=_t(lang, "Aero wireless earbuds", "Aero 无线耳机"),
        brand="Aero",
        category="electronics/audio",
        price=5900,
        final_price=5400,
        deals=(deal,),
        activity_ids=(deal.activity_id,),
        valid_until=deal.ends_at,
        needs_claim=True,
    )


def shipping_gap_item(lang: Lang) -> ItemFact:
    return ItemFact(
        kind="product",
        id="p-mug",
        title=_t(lang, "Cosy stoneware mug", "粗陶马克杯"),
        brand="Cosy",
        category="home/kitchen",
        price=1300,
        final_price=1300,
        cart_gap=CartGapFact(
            add=700, unlocks=599, activity_id="act-ship", activity_type="free_shipping"
        ),
    )


def flash_item(lang: Lang) -> ItemFact:
    deal = _deal("flash_sale", 400, None, timedelta(hours=3))
    return ItemFact(
        kind="product",
        id="p-jacket",
        title=_t(lang, "Trail rain jacket", "户外冲锋衣"),
        brand="Peak",
        category="outdoor/jackets",
        price=2000,
        final_price=1600,
        deals=(deal,),
        activity_ids=(deal.activity_id,),
        valid_until=deal.ends_at,
    )


def plain_item(lang: Lang) -> ItemFact:
    return ItemFact(
        kind="product",
        id="p-tee",
        title=_t(lang, "Basic cotton tee", "纯棉T恤"),
        brand="Basic",
        category="apparel/tops",
        price=1500,
        final_price=1500,
    )


def activity_item(lang: Lang) -> ItemFact:
    deal = _deal("threshold", 0, 5000, timedelta(days=5))
    return ItemFact(
        kind="activity",
        id="act-threshold",
        title=_t(lang, "Running shoes spend-more weekend", "跑鞋满减周末"),
        deals=(deal,),
        activity_ids=(deal.activity_id,),
        valid_until=deal.ends_at,
        terms=_t(
            lang,
            "For all shoppers. Spend 50.00 or more on running shoes and save 8.00.",
            "所有用户可参加。跑鞋满50.00减8.00。",
        ),
    )


ITEMS = (threshold_item, coupon_item, shipping_gap_item, flash_item, plain_item, activity_item)


def coupons() -> tuple[CouponFact, ...]:
    return (
        CouponFact(
            "cl-1",
            "act-c1",
            "Earbuds coupon",
            "SAVE5-AERO",
            500,
            NOW + timedelta(days=29),
            "reserved",
        ),
        CouponFact(
            "cl-2", "act-c2", "Mug coupon", "MUG-2", 300, NOW - timedelta(days=1), "reserved"
        ),
        CouponFact("cl-3", "act-c3", "Tee coupon", "TEE-3", 200, NOW + timedelta(days=3), "used"),
    )


def ineligible() -> tuple[IneligibleFact, ...]:
    return (
        IneligibleFact("a1", "Shoe coupon", "min_spend_not_met", min_spend=8000, missing=1250),
        IneligibleFact("a2", "Spring sale", "expired", ended_at=NOW - timedelta(days=3)),
        IneligibleFact("a3", "Summer sale", "not_started", starts_at=NOW + timedelta(days=10)),
        IneligibleFact("a4", "Members' day", "audience"),
        IneligibleFact("a5", "Welcome coupon", "per_user_limit"),
        IneligibleFact("a6", "Big coupon", "budget_exhausted"),
        IneligibleFact("a7", "Toy coupon", "out_of_scope"),
        IneligibleFact("a8", "Flash deal", "sold_out"),
    )


def facts_for(action: ActionKind, lang: Lang, **overrides: object) -> ReplyFacts:
    base = ReplyFacts(action=action, language=lang, currency="USD", now=NOW)
    if action in (ActionKind.RECOMMEND, ActionKind.OFFER_COUPON):
        base = replace(base, items=tuple(make(lang) for make in ITEMS[:3]), max_price=5500)
    elif action is ActionKind.SHOW_COUPONS:
        base = replace(base, coupons=coupons())
    elif action is ActionKind.EXPLAIN_INELIGIBLE:
        base = replace(base, ineligible=ineligible())
    elif action is ActionKind.CLARIFY:
        base = replace(base, question="budget")
    elif action is ActionKind.HANDOFF:
        base = replace(base, handoff_reason="requested")
    return replace(base, **overrides)  # type: ignore[arg-type]


def why(item: ItemFact, lang: Lang, **kw: int | None) -> str:
    return why_line(item, language=lang, currency=USD, now=NOW, **kw)


def contract_numbers(facts: ReplyFacts) -> set[Decimal]:
    """The numbers the contract checker accepts: recommendations JSON and the shopper's own."""
    numbers: set[Decimal] = set()
    for item in facts.items:
        for value in (item.price, item.final_price):
            if value is not None:
                numbers.add(Decimal(USD.format(value)))
        if item.cart_gap is not None:
            numbers |= {
                Decimal(USD.format(item.cart_gap.add)),
                Decimal(USD.format(item.cart_gap.unlocks)),
            }
        reason = why(item, facts.language, max_price=facts.max_price)
        numbers |= {Decimal(n) for n in re.findall(r"\d+(?:\.\d+)?", reason)}
    for bound in (facts.max_price, facts.min_price):
        if bound is not None:
            numbers.add(Decimal(USD.format(bound)))
    return numbers


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("action", list(ActionKind))
def test_every_action_speaks_the_language_and_states_only_facts(action: ActionKind, lang: Lang):
    facts = facts_for(action, lang)
    reply = render_reply(facts)
    assert reply.strip()
    assert bool(CJK.search(reply)) == (lang == "zh"), reply
    assert reply_numbers_are_grounded(reply, facts) == []
    allowed = contract_numbers(facts)
    for match in CONTRACT.finditer(reply):
        assert Decimal((match.group(1) or match.group(2)).replace(",", ".")) in allowed, reply
    if action in (ActionKind.RECOMMEND, ActionKind.OFFER_COUPON):
        # Bare decimals too: the card JSON holds every amount the reply states.
        for number in DECIMAL.findall(reply):
            assert Decimal(number) in allowed, (number, reply)
    assert len(reply.splitlines()) <= 8


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("make", ITEMS)
def test_why_lines_are_grounded_and_short(make, lang: Lang):
    item = make(lang)
    facts = ReplyFacts(ActionKind.RECOMMEND, lang, "USD", NOW, items=(item,))
    line = why(item, lang)
    assert line
    assert len(line.split(SEP[lang])) <= MAX_WHY_PARTS
    assert reply_numbers_are_grounded(line, facts) == []
    assert bool(CJK.search(line)) == (lang == "zh")
    assert (CLAIM[lang] in line) == item.needs_claim


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "spend 50.00, save 8.00; ends in 3 h; add 7.00 more to unlock 5.00 off"),
        ("zh", "满50.00减8.00；3小时后结束；再买7.00可再减5.00"),
    ],
)
def test_why_line_keeps_the_first_three_parts_in_priority_order(lang: Lang, expected: str):
    # deal, end, gap and brand are all true; the brand is the one left out
    assert why(threshold_item(lang), lang) == expected
    no_gap = replace(threshold_item(lang), cart_gap=None)
    brand = _t(lang, "you bought Lumi before", "你买过Lumi")
    assert why(no_gap, lang).split(SEP[lang]) == [*expected.split(SEP[lang])[:2], brand]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "coupon: 5.00 off on 30.00 or more (claim it first); ends in 2 days"),
        ("zh", "优惠券满30.00减5.00（需先领取）；2天后结束"),
    ],
)
def test_coupon_needing_a_claim_says_so(lang: Lang, expected: str):
    assert why(coupon_item(lang), lang) == expected
    claimed = replace(
        coupon_item(lang),
        needs_claim=False,
        deals=(replace(coupon_item(lang).deals[0], needs_claim=False),),
    )
    assert CLAIM[lang] not in why(claimed, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_a_coupon_behind_the_best_deal_still_asks_for_the_claim(lang: Lang):
    coupon = _deal("coupon", 300, None, None, claim=True)
    item = replace(flash_item(lang), deals=(*flash_item(lang).deals, coupon), needs_claim=True)
    line = why(item, lang)
    assert CLAIM[lang] in line
    assert "3.00" in line


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "flash sale, save 4.00; ends in 3 h"),
        ("zh", "限时秒杀，省4.00；3小时后结束"),
    ],
)
def test_flash_sale_ending_in_three_hours(lang: Lang, expected: str):
    assert why(flash_item(lang), lang) == expected


@pytest.mark.parametrize(
    ("delta", "en", "zh"),
    [
        (timedelta(minutes=40), "ends in 40 min", "40分钟后结束"),
        (timedelta(hours=2, minutes=50), "ends in 3 h", "3小时后结束"),
        (timedelta(hours=11, minutes=40), "ends in 12 h", "12小时后结束"),
        (timedelta(hours=13), "ends today", "今天结束"),
        (timedelta(hours=20), "ends tomorrow", "明天结束"),
        (timedelta(days=4), "ends in 4 days", "4天后结束"),
        (timedelta(days=20), "until 2025-06-21", "截至2025-06-21"),
    ],
)
@pytest.mark.parametrize("lang", LANGS)
def test_ends_in_wording(lang: Lang, delta: timedelta, en: str, zh: str):
    item = replace(flash_item(lang), valid_until=NOW + delta)
    assert why(item, lang).split(SEP[lang])[1] == _t(lang, en, zh)


@pytest.mark.parametrize("lang", LANGS)
def test_a_deal_that_already_ended_gets_no_end_part(lang: Lang):
    item = replace(flash_item(lang), valid_until=NOW - timedelta(minutes=1))
    assert why(item, lang) == _t(lang, "flash sale, save 4.00", "限时秒杀，省4.00")


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "in home > kitchen; add 7.00 more for free shipping"),
        ("zh", "来自home > kitchen类目；再买7.00即可包邮"),
    ],
)
def test_free_shipping_gap(lang: Lang, expected: str):
    assert why(shipping_gap_item(lang), lang) == expected


@pytest.mark.parametrize("lang", LANGS)
def test_no_deal_item_within_budget_or_by_category(lang: Lang):
    item = plain_item(lang)
    assert why(item, lang, max_price=5500) == _t(lang, "within your budget", "在你的预算内")
    assert why(item, lang, max_price=1000) == _t(
        lang, "in apparel > tops", "来自apparel > tops类目"
    )
    bare = replace(item, category="")
    assert why(bare, lang) == _t(lang, "matches your search", "符合你的要求")


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "en",
            "save when you spend 50.00; ends in 5 days; "
            "Spend 50.00 or more on running shoes and save 8.00.",
        ),
        ("zh", "满50.00可享满减；5天后结束；跑鞋满50.00减8.00。"),
    ],
)
def test_activity_item_states_type_end_and_terms(lang: Lang, expected: str):
    assert why(activity_item(lang), lang) == expected


@pytest.mark.parametrize("lang", LANGS)
def test_recommend_restates_the_budget_and_lists_items(lang: Lang):
    facts = facts_for(ActionKind.RECOMMEND, lang)
    lines = render_reply(facts).splitlines()
    assert lines[0] == _t(lang, "Here are 3 picks under 55.00:", "为你挑了3个55.00以内的：")
    assert len(lines) == 4
    first = threshold_item(lang)
    was = _t(lang, " (was 47.20)", "（原价47.20）")
    assert lines[1] == f"1. {first.title} — 39.20{was} · {why(first, lang, max_price=5500)}"
    # no saving, no "was"
    assert lines[3].startswith(f"3. {shipping_gap_item(lang).title} — 13.00 · ")
    assert _t(lang, "was", "原价") not in lines[3]


@pytest.mark.parametrize("lang", LANGS)
def test_recommend_with_a_price_range_and_without_a_budget(lang: Lang):
    ranged = render_reply(facts_for(ActionKind.RECOMMEND, lang, min_price=1000))
    assert ranged.splitlines()[0] == _t(
        lang, "Here are 3 picks between 10.00 and 55.00:", "为你挑了3个10.00到55.00之间的："
    )
    open_ = render_reply(facts_for(ActionKind.RECOMMEND, lang, max_price=None))
    assert open_.splitlines()[0] == _t(lang, "Here are 3 picks for you:", "为你挑了3个：")


@pytest.mark.parametrize("lang", LANGS)
def test_relaxed_search_says_what_was_widened(lang: Lang):
    facts = facts_for(ActionKind.RECOMMEND, lang, relaxed=("budget", "brand"))
    reply = render_reply(facts)
    assert reply.splitlines()[0] == _t(
        lang,
        "Nothing matched all your filters, so I widened the budget and included other brands.",
        "没有完全符合条件的结果，所以我放宽了预算、加入了其他品牌。",
    )
    assert "55.00" not in reply  # the widened budget is not claimed for these picks
    other = render_reply(facts_for(ActionKind.RECOMMEND, lang, relaxed=("colour",)))
    assert _t(lang, "relaxed some filters", "放宽了部分条件") in other
    assert "colour" not in other


@pytest.mark.parametrize("lang", LANGS)
def test_no_results_lists_nothing_and_suggests_a_change(lang: Lang):
    reply = render_reply(facts_for(ActionKind.RECOMMEND, lang, no_results=True))
    assert "1." not in reply
    assert _t(lang, "nothing matched", "没有找到") in reply
    assert _t(lang, "category", "品类") in reply and _t(lang, "budget", "预算") in reply


@pytest.mark.parametrize("lang", LANGS)
def test_offer_coupon_frames_claiming(lang: Lang):
    facts = facts_for(ActionKind.OFFER_COUPON, lang, items=(coupon_item(lang), activity_item(lang)))
    lines = render_reply(facts).splitlines()
    assert lines[0] == _t(lang, "Here are deals you can claim:", "这些优惠可以领取：")
    assert lines[2].startswith(f"2. {activity_item(lang).title} · ")
    assert lines[-1] == _t(
        lang,
        "Claim before you check out so the discount applies.",
        "下单前记得先领取，优惠才会生效。",
    )
    empty = render_reply(facts_for(ActionKind.OFFER_COUPON, lang, items=()))
    assert empty == _t(
        lang, "There are no coupons to claim for this right now.", "目前没有可领取的优惠券。"
    )


@pytest.mark.parametrize("lang", LANGS)
def test_show_coupons_lists_code_amount_and_date(lang: Lang):
    lines = render_reply(facts_for(ActionKind.SHOW_COUPONS, lang)).splitlines()
    assert lines[1] == _t(
        lang,
        "- Earbuds coupon (code SAVE5-AERO): 5.00 off, valid until 2025-06-30",
        "- Earbuds coupon（券码SAVE5-AERO）：减5.00，有效期至2025-06-30",
    )
    assert lines[2].endswith(_t(lang, "(expired)", "（已过期）"))
    assert lines[3].endswith(_t(lang, "(used)", "（已使用）"))
    none = render_reply(facts_for(ActionKind.SHOW_COUPONS, lang, coupons=()))
    assert _t(lang, "You have no coupons yet", "你还没有优惠券") in none


INELIGIBLE_WORDS = {
    "min_spend_not_met": (
        "needs a minimum spend of 80.00; add 12.50 more",
        "需满80.00才能使用，还差12.50",
    ),
    "expired": ("ended on 2025-05-29", "已于2025-05-29结束"),
    "not_started": ("starts on 2025-06-11", "2025-06-11才开始"),
    "audience": (
        "limited to certain shoppers (e.g. members or new users)",
        "仅限特定用户（如会员或新用户）",
    ),
    "per_user_limit": ("as many times as allowed", "次数上限"),
    "budget_exhausted": ("have been claimed", "被领完"),
    "out_of_scope": ("does not cover the items in your cart", "不适用于你购物车里的商品"),
    "sold_out": ("is sold out", "已售罄"),
}


@pytest.mark.parametrize("lang", LANGS)
def test_explain_ineligible_gives_one_sentence_per_reason(lang: Lang):
    lines = render_reply(facts_for(ActionKind.EXPLAIN_INELIGIBLE, lang)).splitlines()
    assert len(lines) == len(ineligible())
    for fact, line in zip(ineligible(), lines, strict=True):
        assert fact.title in line
        assert INELIGIBLE_WORDS[fact.reason][LANGS.index(lang)] in line, line
    none = render_reply(facts_for(ActionKind.EXPLAIN_INELIGIBLE, lang, ineligible=()))
    assert _t(lang, "customer-service agent", "人工客服") in none


@pytest.mark.parametrize("lang", LANGS)
def test_explain_ineligible_without_the_optional_numbers(lang: Lang):
    facts = facts_for(
        ActionKind.EXPLAIN_INELIGIBLE,
        lang,
        ineligible=(
            IneligibleFact("a1", "Shoe coupon", "min_spend_not_met"),
            IneligibleFact("a2", "Spring sale", "expired"),
            IneligibleFact("a9", "Odd one", "something_new"),
        ),
    )
    reply = render_reply(facts)
    assert reply_numbers_are_grounded(reply, facts) == []
    assert not re.search(r"\d", reply)
    assert _t(lang, "doesn't apply to your order", "不适用于你的订单") in reply


@pytest.mark.parametrize("lang", LANGS)
def test_clarify_asks_about_the_slot(lang: Lang):
    asked = {
        q: render_reply(facts_for(ActionKind.CLARIFY, lang, question=q))
        for q in ("category", "budget", "recipient", None)
    }
    assert asked["budget"] == _t(lang, "What's your budget?", "你的预算大概是多少？")
    assert _t(lang, "shoes", "鞋子") in asked["category"]
    assert len(set(asked.values())) == 4
    assert all(text.endswith(("?", "？", "…", "...?")) for text in asked.values())


@pytest.mark.parametrize("lang", LANGS)
def test_handoff_varies_with_the_reason(lang: Lang):
    texts = {
        r: render_reply(facts_for(ActionKind.HANDOFF, lang, handoff_reason=r))
        for r in ("requested", "complaint", "dispute", "repeated_failure", None)
    }
    assert all(_t(lang, "customer-service agent", "人工客服") in t for t in texts.values())
    assert texts[None] == texts["requested"]
    assert len({texts[r] for r in ("requested", "complaint", "dispute", "repeated_failure")}) == 4
    assert _t(lang, "sorry", "抱歉") in texts["complaint"].lower()


@pytest.mark.parametrize("lang", LANGS)
def test_out_of_scope_and_small_talk_redirect_without_codes_or_numbers(lang: Lang):
    for action in (ActionKind.OUT_OF_SCOPE, ActionKind.SMALL_TALK):
        reply = render_reply(facts_for(action, lang))
        assert not re.search(r"\d", reply)
        assert _t(lang, "coupons", "优惠券") in reply


def test_guard_flags_invented_amounts_and_dates():
    facts = facts_for(ActionKind.RECOMMEND, "en")
    text = (
        "Only 12.34 today, or $99, or 6元, until 2031-01-01; was 47.20, add 7.00, ends 2025-06-01."
    )
    assert reply_numbers_are_grounded(text, facts) == ["12.34", "$99", "6元", "2031-01-01"]
    assert reply_numbers_are_grounded(text, facts, extra=(1234, 9900, 600)) == ["2031-01-01"]
    # "7元" is 7.00, a cart gap; "$55" is the budget
    assert reply_numbers_are_grounded("under $55 or 7元", facts) == []


def test_guard_skips_numbers_inside_quoted_fact_text():
    coupon = CouponFact(
        "cl-9",
        "act-9",
        "$10 off running shoes over $80",
        "TEN-80",
        1000,
        NOW + timedelta(days=1),
        "reserved",
    )
    facts = ReplyFacts(ActionKind.SHOW_COUPONS, "en", "USD", NOW, coupons=(coupon,))
    reply = render_reply(facts)
    assert "$80" in reply
    assert reply_numbers_are_grounded(reply, facts) == []
    assert reply_numbers_are_grounded(reply + " Now 80.00!", facts) == ["80.00"]


def test_unknown_language_is_refused():
    facts = replace(facts_for(ActionKind.SMALL_TALK, "en"), language="fr")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no reply templates for language 'fr'; use 'en' or 'zh'"):
        render_reply(facts)


def test_module_example_runs():
    import doctest

    from assistant.conversation import replies

    assert doctest.testmod(replies).failed == 0
