"""The claims guard: placeholders, the guard table (en + zh), the stream guard and the policy."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from typing import Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.conversation.facts import ActionKind, CouponFact, DealFact, ItemFact, ReplyFacts
from assistant.conversation.guard import (
    GuardViolation,
    Reason,
    StreamGuard,
    Violation,
    check,
    fill,
    placeholder_values,
    write_reply,
)
from assistant.conversation.replies import render_reply
from assistant.errors import LLMError, LLMTimeout
from tests.assistant.conversation.test_replies import (
    LANGS,
    NOW,
    USD,
    facts_for,
    flash_item,
    shipping_gap_item,
    threshold_item,
)

Lang = Literal["en", "zh"]
PROFILE = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
CODE = "SA-KXQPTRMNWZ"


def _t(lang: Lang, en: str, zh: str) -> str:
    return en if lang == "en" else zh


def phone_item(lang: Lang) -> ItemFact:
    """Half price (a 50% flash sale) on a title full of digits."""
    deal = DealFact(
        "act-half",
        1,
        "flash_sale",
        _t(lang, "Half-price phones: 50% off", "手机半价"),
        19900,
        None,
        False,
        NOW + timedelta(days=2),
    )
    return ItemFact(
        kind="product",
        id="p-galaxy",
        title="Galaxy A16 5G 512GB",
        brand="Galaxy",
        category="electronics/phones",
        price=39800,
        final_price=19900,
        deals=(deal,),
        activity_ids=(deal.activity_id,),
        valid_until=deal.ends_at,
    )


def coupon_activity(lang: Lang) -> ItemFact:
    """A coupon to claim whose title states its own amounts, the demo world's way."""
    title = _t(lang, "$10 off running shoes over $80", "跑鞋满80减10元券")
    deal = DealFact("act-ten", 1, "coupon", title, 1000, 8000, True, NOW + timedelta(days=5))
    return ItemFact(
        kind="activity",
        id="act-ten",
        title=title,
        deals=(deal,),
        activity_ids=(deal.activity_id,),
        valid_until=deal.ends_at,
        needs_claim=True,
    )


def full_facts(lang: Lang) -> ReplyFacts:
    """Five picks: a threshold deal, a 20% flash sale, a half-price phone, a free-shipping gap
    and a coupon to claim; the shopper holds one claimed coupon."""
    items = (
        threshold_item(lang),
        flash_item(lang),
        phone_item(lang),
        shipping_gap_item(lang),
        coupon_activity(lang),
    )
    coupon = CouponFact(
        "cl-1", "act-c1", "Earbuds coupon", CODE, 500, NOW + timedelta(days=29), "reserved"
    )
    return ReplyFacts(
        ActionKind.RECOMMEND, lang, "USD", NOW, items=items, coupons=(coupon,), max_price=5500
    )


def lean_facts(lang: Lang) -> ReplyFacts:
    """Two picks, no free shipping, no half price, no coupon, no 5.00 anywhere."""
    items = (replace(threshold_item(lang), cart_gap=None), flash_item(lang))
    return ReplyFacts(ActionKind.RECOMMEND, lang, "USD", NOW, items=items, max_price=5500)


FACTS = {"full": full_facts, "lean": lean_facts}


@dataclass(frozen=True)
class Row:
    lang: Lang
    draft: str
    reason: Reason | None = None
    """``None``: accepted; else the first violation's reason."""
    span: str | None = None
    """The first refused span."""
    facts: Literal["full", "lean"] = "full"
    shopper: tuple[Decimal, ...] = ()


def ok(lang: Lang, draft: str, **kw: object) -> Row:
    return Row(lang, draft, **kw)  # type: ignore[arg-type]


def bad(lang: Lang, draft: str, reason: Reason, span: str, **kw: object) -> Row:
    return Row(lang, draft, reason, span, **kw)  # type: ignore[arg-type]


R = Reason
TABLE: list[Row] = [
    # --- English, accepted ---
    ok("en", "{title_1} is {price_1} (was {was_1}): {deal_1}, {ends_1}."),
    ok("en", "Here are {n} picks under {budget}."),
    ok("en", "Here are 5 picks for you."),
    ok("en", "1. {title_1} — {price_1}\n2. {title_2} — {price_2}"),
    ok("en", "The Galaxy A16 5G 512GB is half price: {price_3} ({deal_3})."),
    ok("en", "Galaxy A16 5G 512GB at 50% off, {ends_3}."),
    ok("en", "The Trail rain jacket is 20% off, now 16.00."),
    ok("en", f"Your coupon code is {CODE}."),
    ok("en", "Use code {code_1} for {amount_1} off."),
    ok("en", "Add 7.00 more for free shipping on the mug."),
    ok("en", "Good news: {gap}."),
    ok("en", "Under 60 dollars? These fit.", shopper=(Decimal(60),)),
    ok("en", "Claim the $10 off running shoes over $80 coupon first."),
    ok("en", "Your coupon is valid until 2025-06-30."),
    ok("en", "Hurry, the jacket deal ends in 3 hours."),
    ok("en", "Save 8.00 when you spend 50.00 on the Lumi Runner 2 running shoes."),
    ok("en", "{why_2}"),
    ok("en", "A great pick: {title_3}."),
    # --- English, refused ---
    bad("en", "The Lumi Runner 2 is only 29.99 today!", R.AMOUNT, "29.99"),
    bad("en", "Get $6 off the jacket.", R.AMOUNT, "$6", facts="lean"),
    bad("en", "Everything is 30% off.", R.PERCENT, "30%"),
    bad("en", "Save 25 percent on shoes.", R.PERCENT, "25 percent"),
    bad("en", "Use code SAVE90 at checkout.", R.CODE, "SAVE90"),
    bad("en", "Your code is SA-ABCDEFGHJK.", R.CODE, "SA-ABCDEFGHJK"),
    bad("en", "This offer ends Dec 1.", R.DATE, "Dec 1"),
    bad("en", "Valid through 2026-12-01.", R.DATE, "2026-12-01"),
    bad("en", "Free shipping on all orders!", R.FREE_SHIPPING, "Free shipping", facts="lean"),
    bad("en", "The jacket is half price.", R.PERCENT, "half price", facts="lean"),
    bad("en", "The 512GB model is a steal.", R.CODE, "512GB"),
    bad("en", "The Galaxy A16 is great.", R.CODE, "A16"),
    bad("en", "Under 60 dollars? These fit.", R.AMOUNT, "60 dollars"),
    bad("en", "{title_9} is great.", R.PLACEHOLDER, "{title_9}"),
    bad("en", "{price_1 is cheap.", R.BRACE, "{price_1 is cheap."),
    bad("en", "The mug is {was_4}.", R.PLACEHOLDER, "{was_4}"),
    bad("en", "Ends in 5 hours, hurry!", R.DURATION, "5 hours", facts="lean"),
    bad("en", "Buy one get one free on tees.", R.DISCOUNT, "Buy one get one free"),
    bad("en", "Only 3 left in stock.", R.AMOUNT, "3"),
    bad("en", "Flash sale from 20:00 tonight.", R.TIME, "20:00"),
    bad("en", "Rated 4.8 by 1200 shoppers.", R.AMOUNT, "4.8"),
    # --- Chinese, accepted ---
    ok("zh", "{title_1}现在{price_1}（原价{was_1}），{deal_1}，{ends_1}。"),
    ok("zh", "为你挑了{n}个{budget}以内的好物。"),
    ok("zh", "户外冲锋衣八折，到手16.00。"),
    ok("zh", "户外冲锋衣打8折，{ends_2}。"),
    ok("zh", "Galaxy A16 5G 512GB 半价，只要{price_3}。"),
    ok("zh", "Galaxy A16 5G 512GB 五折，省{saving_3}。"),
    ok("zh", "跑鞋满80减10元券，需先领取。"),
    ok("zh", "Lumi 2代跑鞋满50.00减8.00。"),
    ok("zh", "现在满80减10，记得领券。"),
    ok("zh", f"你的券码是{CODE}，下单时使用。"),
    ok("zh", "粗陶马克杯再买7.00即可包邮。"),
    ok("zh", "预算200元以内？这几款都合适。", shopper=(Decimal(200),)),
    ok("zh", "优惠券有效期至2025-06-30。"),
    ok("zh", "3小时后结束，抓紧！"),
    ok("zh", "Lumi 2代跑鞋立减8.00。"),
    ok("zh", "Aero 耳机券减5.00。"),
    ok("zh", "你的优惠券6月30日到期。"),
    ok("zh", "{why_1}"),
    ok("zh", "跑鞋满五十减八，八折的冲锋衣也不错。", facts="lean"),
    # --- Chinese, refused ---
    bad("zh", "全场七折！", R.PERCENT, "七折"),
    bad("zh", "户外冲锋衣半价。", R.PERCENT, "半价", facts="lean"),
    bad("zh", "今天满199减30。", R.DEAL, "满199减30"),
    bad("zh", "下单立减30元。", R.AMOUNT, "30元"),
    bad("zh", "现在只要5块。", R.AMOUNT, "5块", facts="lean"),
    bad("zh", "领券再减¥5。", R.AMOUNT, "¥5", facts="lean"),
    bad("zh", "跑鞋打7.5折。", R.PERCENT, "打7.5折"),
    bad("zh", "享受百分之三十的折扣。", R.PERCENT, "百分之三十"),
    bad("zh", "全场包邮。", R.FREE_SHIPPING, "包邮", facts="lean"),
    bad("zh", "输入优惠码SAVE90立享优惠。", R.CODE, "SAVE90"),
    bad("zh", "活动12月1日结束。", R.DATE, "12月1日"),
    bad("zh", "双11同价，放心买。", R.DATE, "双11"),
    bad("zh", "袜子买一送一。", R.DISCOUNT, "买一送一"),
    bad("zh", "512GB版本很划算。", R.CODE, "512GB"),
    bad("zh", "5小时后结束。", R.DURATION, "5小时", facts="lean"),
    bad("zh", "{价格_1}很便宜。", R.PLACEHOLDER, "{价格_1}"),
    bad("zh", "仅剩2件，手慢无。", R.AMOUNT, "2"),
    bad("zh", "原价99.00，现在更便宜。", R.AMOUNT, "99.00"),
    bad("zh", "2026年12月1日截止。", R.DATE, "2026年12月1日"),
    bad("zh", "A16手机很好用。", R.CODE, "A16"),
    bad("zh", "预算200元以内？这几款都合适。", R.AMOUNT, "200元"),
    bad("zh", "跑鞋满五十减九。", R.DEAL, "满五十减九", facts="lean"),
]


def _facts(row: Row) -> ReplyFacts:
    return FACTS[row.facts](row.lang)


def _values(facts: ReplyFacts) -> dict[str, str]:
    return placeholder_values(facts, currency=USD, now=NOW)


def _verdict(row: Row) -> list[Violation]:
    facts = _facts(row)
    try:
        text = fill(row.draft, _values(facts))
    except GuardViolation as refused:
        return list(refused.violations)
    return check(text, facts, shopper_numbers=row.shopper, currency=USD)


def _id(row: Row) -> str:
    return f"{row.lang}-{'ok' if row.reason is None else row.reason.value}-{row.draft[:24]}"


def test_the_table_is_big_and_bilingual():
    assert len(TABLE) >= 60
    assert sum(row.lang == "zh" for row in TABLE) >= 25
    assert sum(row.reason is None for row in TABLE) >= 30
    assert len({row.reason for row in TABLE}) >= 12


@pytest.mark.parametrize("row", TABLE, ids=_id)
def test_guard_table(row: Row):
    violations = _verdict(row)
    if row.reason is None:
        assert violations == [], violations
    else:
        assert violations, f"accepted: {row.draft!r}"
        first = violations[0]
        assert (first.reason, first.span) == (row.reason, row.span), violations


# --- placeholder values ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "en",
            {
                "n": "5",
                "budget": "55.00",
                "title_1": "Lumi Runner 2 running shoes",
                "price_1": "39.20",
                "was_1": "47.20",
                "saving_1": "8.00",
                "deal_1": "spend 50.00, save 8.00",
                "ends_1": "ends in 3 h",
                "gap": "add 7.00 more to unlock 5.00 off",
                "deal_2": "flash sale, save 4.00",
                "price_4": "13.00",
                "gap_4": "add 7.00 more for free shipping",
                "deal_5": "coupon: 10.00 off on 80.00 or more (claim it first)",
                "ends_5": "ends in 5 days",
                "code_1": CODE,
                "amount_1": "5.00",
                "until_1": "2025-06-30",
            },
        ),
        (
            "zh",
            {
                "deal_1": "满50.00减8.00",
                "ends_1": "3小时后结束",
                "gap": "再买7.00可再减5.00",
                "deal_2": "限时秒杀，省4.00",
                "gap_4": "再买7.00即可包邮",
                "deal_5": "优惠券满80.00减10.00（需先领取）",
                "ends_5": "5天后结束",
            },
        ),
    ],
)
def test_placeholder_values_use_the_template_wording(lang: Lang, expected: dict[str, str]):
    values = _values(full_facts(lang))
    assert {k: values.get(k) for k in expected} == expected
    # no "was" for an undiscounted item, no price for an activity
    assert "was_4" not in values and "price_5" not in values
    assert values["why_2"].startswith(values["deal_2"])


@pytest.mark.parametrize("lang", LANGS)
def test_placeholder_values_leave_out_a_relaxed_budget_and_a_past_end(lang: Lang):
    facts = replace(full_facts(lang), relaxed=("budget",))
    assert "budget" not in _values(facts)
    ended = replace(flash_item(lang), valid_until=NOW - timedelta(minutes=1))
    values = _values(replace(lean_facts(lang), items=(ended,)))
    assert "ends_1" not in values and values["n"] == "1"


# --- fill -----------------------------------------------------------------------------------


def test_fill_accepts_spaces_case_and_double_braces():
    values = {"price_1": "39.20", "title_1": "Lumi"}
    assert fill("{title_1}: { price_1 } / {{Price_1}}", values) == "Lumi: 39.20 / 39.20"
    assert fill("no placeholders", values) == "no placeholders"


@pytest.mark.parametrize(
    ("draft", "reason", "span"),
    [
        ("{title_2} is here", Reason.PLACEHOLDER, "{title_2}"),
        ("{}", Reason.PLACEHOLDER, "{}"),
        ("price} today", Reason.BRACE, "}"),
        ("open {price_1", Reason.BRACE, "{price_1"),
        ("{{price_1} x", Reason.BRACE, "{{price_1}"),
        ("{pr{price_1}", Reason.BRACE, "{pr"),
        ("{" + "x" * 60 + "}", Reason.BRACE, "{" + "x" * 40),
    ],
)
def test_fill_refuses_unknown_placeholders_and_stray_braces(draft: str, reason: Reason, span: str):
    with pytest.raises(GuardViolation, match="regenerate it or use the template reply") as info:
        fill(draft, {"price_1": "39.20"})
    first = info.value.violations[0]
    assert (first.reason, first.span) == (reason, span)
    assert draft[first.start : first.end] == span
    assert isinstance(info.value, LLMError)


def test_fill_lists_every_unknown_placeholder_in_its_message():
    with pytest.raises(GuardViolation) as info:
        fill("{a} and {b_1}", {})
    assert [v.span for v in info.value.violations] == ["{a}", "{b_1}"]
    assert "unknown_placeholder: '{a}' at 0" in str(info.value)


# --- check beyond the table -----------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("action", list(ActionKind))
def test_every_template_reply_passes_the_guard(action: ActionKind, lang: Lang):
    facts = facts_for(action, lang)
    assert check(render_reply(facts), facts) == []
    full = full_facts(lang)
    assert check(render_reply(full), full) == []


@pytest.mark.parametrize("lang", LANGS)
def test_every_placeholder_value_passes_the_guard(lang: Lang):
    facts = full_facts(lang)
    for name, value in _values(facts).items():
        assert check(value, facts) == [], name


def test_check_reports_every_violation_in_order_with_spans():
    facts = lean_facts("en")
    text = "Now 12.34, was 99.00, code WELCOME10, 30% off until Jan 5."
    found = check(text, facts)
    assert [(v.span, v.reason) for v in found] == [
        ("12.34", Reason.AMOUNT),
        ("99.00", Reason.AMOUNT),
        ("WELCOME10", Reason.CODE),
        ("30%", Reason.PERCENT),
        ("Jan 5", Reason.DATE),
    ]
    assert all(text[v.start : v.end] == v.span for v in found)


def test_fact_string_numbers_count_only_where_quoted_whole():
    facts = full_facts("en")
    assert check("Galaxy A16 5G 512GB", facts) == []
    # the title occurs whole inside, but the token that runs past its end is not the title's
    assert [v.span for v in check("Galaxy A16 5G 512GBX", facts)] == ["512GBX"]
    assert [v.span for v in check("A16 5G", facts)] == ["A16", "5G"]


def test_shopper_numbers_and_empty_text():
    facts = lean_facts("en")
    assert [v.span for v in check("About 120 for a gift?", facts)] == ["120"]
    assert check("About 120 for a gift?", facts, shopper_numbers=[Decimal("120")]) == []
    assert [v.reason for v in check("  ", facts)] == [Reason.EMPTY]


def test_discount_words_need_a_deal_behind_them():
    bare = replace(lean_facts("zh"), items=(replace(threshold_item("zh"), deals=()),))
    bare = replace(bare, items=(replace(bare.items[0], final_price=4720, cart_gap=None),))
    assert [v.reason for v in check("现在立减，快来打折", bare)] == [Reason.DISCOUNT] * 2
    assert check("现在立减，快来打折", lean_facts("zh")) == []


# --- the stream guard -----------------------------------------------------------------------

ACCEPTED = [row for row in TABLE if row.reason is None]
REFUSED = [row for row in TABLE if row.reason is not None]


def _stream(row: Row, pieces: list[str]) -> tuple[str, StreamGuard]:
    facts = _facts(row)
    guard = StreamGuard(facts, shopper_numbers=row.shopper, currency=USD)
    out = [guard.feed(piece) for piece in pieces]
    out.append(guard.close())
    return "".join(out), guard


def _split(text: str, cuts: list[int]) -> list[str]:
    points = sorted({0, len(text), *(c % (len(text) + 1) for c in cuts)})
    return [text[a:b] for a, b in zip(points, points[1:], strict=False)]


def _check_stream(row: Row, pieces: list[str]) -> None:
    shown, guard = _stream(row, pieces)
    facts = _facts(row)
    if row.reason is None:
        assert not guard.violated, (pieces, guard.violations)
        assert shown == fill(row.draft, _values(facts))
        return
    assert guard.violated, pieces
    assert row.span is not None
    if row.reason in (Reason.PLACEHOLDER, Reason.BRACE):
        assert "{" not in shown and "}" not in shown
        return
    filled = fill(row.draft, _values(facts))
    first = check(filled, facts, shopper_numbers=row.shopper)[0]
    assert filled.startswith(shown)
    assert len(shown) <= first.start, (shown, first)


@pytest.mark.parametrize("row", TABLE, ids=_id)
def test_stream_character_by_character_matches_check(row: Row):
    _check_stream(row, list(row.draft))


@PROFILE
@given(data=st.data())
def test_any_split_of_a_valid_reply_streams_exactly_the_filled_reply(data: st.DataObject):
    row = data.draw(st.sampled_from(ACCEPTED))
    cuts = data.draw(st.lists(st.integers(0, len(row.draft)), max_size=12))
    _check_stream(row, _split(row.draft, cuts))


@PROFILE
@given(data=st.data())
def test_no_split_of_an_invalid_reply_shows_the_bad_span(data: st.DataObject):
    row = data.draw(st.sampled_from(REFUSED))
    cuts = data.draw(st.lists(st.integers(0, len(row.draft)), max_size=12))
    _check_stream(row, _split(row.draft, cuts))


# Pieces of replies, claims and near-claims, for random drafts.
PIECES = [
    "39.20", "$", "5", "0", " ", "off", "%", " per cent", "八", "七", "折", "打", "满", "减", "元",
    "块", "Dec", "1", ", 2026", "12月", "日", "Galaxy A16 5G 512GB", "Galaxy A16", "{price_1}",
    "{title_1}", "{deal_1}", "{ends_1}", "{gap}", "{n}", "，", "。", ".", ",", "-", ":", "/",
    "free shipping", "free ", "包邮", "code ", "SAVE90", "SA-", "KXQPTRMNWZ", "2025-06-30", "3",
    " h", "小时", "half", " price", "半价", "20:00", "买一送一", "buy one ", "get one",
    "Lumi Runner 2 running shoes", "跑鞋满80减10元券", "$10 off running shoes over $80",
    "百分之", "三十", "USD ", "use ", "WELCOME", "Only ", "只要", "save ", "abc", "GB", "x", "好",
    "{{budget}}",
]  # fmt: skip


@PROFILE
@given(data=st.data())
def test_the_stream_agrees_with_check_on_random_drafts(data: st.DataObject):
    lang = data.draw(st.sampled_from(LANGS))
    facts = data.draw(st.sampled_from([full_facts, lean_facts]))(lang)
    draft = "".join(data.draw(st.lists(st.sampled_from(PIECES), min_size=1, max_size=20)))
    cuts = data.draw(st.lists(st.integers(0, len(draft)), max_size=12))
    guard = StreamGuard(facts)
    shown = "".join(guard.feed(piece) for piece in _split(draft, cuts)) + guard.close()
    try:
        filled = fill(draft, _values(facts))
    except GuardViolation:  # {gap} without a gap
        assert guard.violated and guard.violations[0].reason is Reason.PLACEHOLDER
        assert "{" not in shown
        return
    refused = check(filled, facts)
    if not refused:
        assert (shown, guard.violated) == (filled, False), guard.violations
    else:
        assert guard.violated
        assert filled.startswith(shown) and len(shown) <= refused[0].start


LONG = (
    "Here are {n} picks under {budget}. First, {title_1} at {price_1}, {deal_1}. "
    "Then the {title_2}, {ends_2}; it is a great jacket for rainy days."
)


@pytest.mark.parametrize("bad_bit", ["$5 off", "5元", "SAVE90", "七折起", "Dec 1"])
def test_a_bad_span_mid_stream_never_reaches_the_client(bad_bit: str):
    facts = lean_facts("en")
    draft = LONG.replace("Then the", f"Now {bad_bit} on the")
    guard = StreamGuard(facts)
    shown = ""
    # tokens of 1-4 characters, as a server streams them
    sizes = [1, 3, 2, 4]
    at, i = 0, 0
    while at < len(draft):
        shown += guard.feed(draft[at : at + sizes[i % 4]])
        at += sizes[i % 4]
        i += 1
    shown += guard.close()
    assert guard.violated
    assert bad_bit not in shown and bad_bit[:2] not in shown
    assert shown.startswith("Here are 2 picks under 55.00. First, Lumi Runner 2")
    assert guard.emitted == shown


def test_stream_emits_checked_text_before_the_end():
    guard = StreamGuard(lean_facts("en"))
    pieces = ["Here are {", "n} picks", " under {bud", "get}", ". First, {title_1} at {price_1}"]
    early = "".join(guard.feed(p) for p in pieces)
    assert early and "Here are 2 picks under 55.00".startswith(early[:28])
    rest = guard.feed(", ends soon.") + guard.close()
    assert early + rest == fill("".join(pieces) + ", ends soon.", _values(lean_facts("en")))


def test_placeholder_split_across_deltas_is_filled_once_complete():
    guard = StreamGuard(lean_facts("zh"))
    shown = "".join(guard.feed(p) for p in ["{", "pri", "ce", "_", "1", "}", "，", "{ends_", "1}"])
    shown += guard.close()
    assert shown == "39.20，3小时后结束"


def test_stream_refuses_an_unknown_placeholder_and_stops():
    guard = StreamGuard(lean_facts("en"))
    assert guard.feed("Hi {nope") == ""
    assert guard.feed("} there, lots more text to show after it.") == ""
    assert guard.violated and guard.violations[0].reason is Reason.PLACEHOLDER
    assert guard.close() == ""


def test_stream_after_close_and_empty_stream():
    guard = StreamGuard(lean_facts("en"))
    assert guard.close() == ""
    assert [v.reason for v in guard.violations] == [Reason.EMPTY]
    with pytest.raises(RuntimeError, match="make a new guard per reply"):
        guard.feed("more")


def test_stream_holds_a_partial_title_until_it_is_whole():
    facts = full_facts("en")
    guard = StreamGuard(facts)
    shown = guard.feed("Look at the Galaxy A16 5G 512")
    shown += guard.feed("GB phone, it is great value today and it is in stock.")
    assert shown.startswith("Look at the Galaxy A16 5G 512GB phone")
    shown += guard.close()
    assert (
        shown
        == "Look at the Galaxy A16 5G 512GB phone, it is great value today and it is in stock."
    )
    assert not guard.violated

    diverged = StreamGuard(facts)
    shown = diverged.feed("Look at the Galaxy A16 5G 5")
    assert "A16" not in shown
    shown += diverged.feed("12 GB phone, it is great value today and it is in stock.")
    assert diverged.violated and diverged.violations[0].span == "A16"
    assert shown and "Look at the Galaxy ".startswith(shown)


# --- write_reply ----------------------------------------------------------------------------


def test_write_reply_uses_a_clean_draft():
    facts = lean_facts("en")
    reply = write_reply("  {title_2} is {price_2} now.  ", facts)
    assert (reply.text, reply.source, reply.violations) == (
        "Trail rain jacket is 16.00 now.",
        "llm",
        (),
    )


def test_write_reply_regenerates_once_then_falls_back_to_the_template():
    facts = lean_facts("en")
    calls: list[int] = []

    def good() -> str:
        calls.append(1)
        return "{title_1}: {deal_1}."

    second = write_reply("Everything 90% off!", facts, regenerate=good)
    assert second.source == "llm_regenerated"
    assert second.text == "Lumi Runner 2 running shoes: spend 50.00, save 8.00."
    assert [v.span for v in second.violations] == ["90%"]
    assert calls == [1]

    both_bad = write_reply("Code SAVE90!", facts, regenerate=lambda: "{nope}")
    assert both_bad.source == "template"
    assert both_bad.text == render_reply(facts)
    assert [v.reason for v in both_bad.violations] == [Reason.CODE, Reason.PLACEHOLDER]

    no_retry = write_reply("", facts)
    assert (no_retry.source, no_retry.violations[0].reason) == ("template", Reason.EMPTY)


def test_write_reply_falls_back_when_regeneration_times_out():
    def slow() -> str:
        raise LLMTimeout("the LLM did not answer in 10 s")

    reply = write_reply("Dec 1 only!", lean_facts("zh"), regenerate=slow)
    assert reply.source == "template"
    assert reply.text == render_reply(lean_facts("zh"))


def test_module_example_runs():
    import doctest

    from assistant.conversation import guard

    assert doctest.testmod(guard).failed == 0
