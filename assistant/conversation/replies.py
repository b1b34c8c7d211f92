"""Reply writing from facts, in the shopper's language, with templates (no LLM).

Every number, date and code a reply states comes from a :class:`ReplyFacts` field: prices, final
prices and savings, deal minimum spends, cart gaps, coupon amounts and codes, and the budget the
shopper gave. Amounts are written as bare decimals of the shop currency (``"39.20"``), never with
a currency sign or word, so nothing else in a reply reads as money.
:func:`reply_numbers_are_grounded` is the claims guard that checks exactly that, for these
templates and later for LLM-written replies.

Example:
    >>> from datetime import UTC, datetime, timedelta
    >>> from assistant.money import Currency
    >>> now = datetime(2025, 6, 1, 12, tzinfo=UTC)
    >>> deal = DealFact("act-1", 1, "threshold", "Shoes: spend $50, save $8", 800, 5000, False,
    ...                 now + timedelta(hours=3))
    >>> item = ItemFact("product", "p-1", "Lumi Runner", brand="Lumi", price=4720,
    ...                 final_price=3920, deals=(deal,), valid_until=deal.ends_at,
    ...                 bought_brand_before=True)
    >>> why_line(item, language="en", currency=Currency.of("USD"), now=now)
    'spend 50.00, save 8.00; ends in 3 h; you bought Lumi before'
    >>> print(render_reply(ReplyFacts(ActionKind.RECOMMEND, "en", "USD", now, items=(item,),
    ...                               max_price=5500)))
    Here is 1 pick under 55.00:
    1. Lumi Runner — 39.20 (was 47.20) · spend 50.00, save 8.00; ends in 3 h; you bought Lumi before
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from itertools import islice
from typing import Literal

from assistant.conversation._templates_base import Span, Templates
from assistant.conversation._templates_en import ENGLISH
from assistant.conversation._templates_zh import CHINESE
from assistant.conversation.facts import (
    ActionKind,
    CouponFact,
    DealFact,
    IneligibleFact,
    ItemFact,
    ReplyFacts,
)
from assistant.money import Currency

__all__ = ["MAX_WHY_PARTS", "reply_numbers_are_grounded", "render_reply", "why_line"]

MAX_WHY_PARTS = 3
"""A why-line states at most this many reasons."""

_TEMPLATES: dict[str, Templates] = {"en": ENGLISH, "zh": CHINESE}

_MAX_TERMS = 100
"""Longest activity terms sentence quoted in a why-line (longer ones are left out, not cut)."""

_RELAXED_CODES = {
    "budget": "budget",
    "price": "budget",
    "max_price": "budget",
    "min_price": "budget",
    "category": "category",
    "categories": "category",
    "brand": "brand",
    "brands": "brand",
    "exclude_brands": "brand",
    "deals": "deals",
    "wants_deals": "deals",
}

_USED = frozenset({"used", "redeemed"})

# The money a reply states: the contract checker's pattern (an amount with a currency sign or
# word, integers included) plus any bare decimal, which is how these templates write money.
_MONEY = re.compile(
    r"[$¥￥]\s?(?P<signed>\d+(?:[.,]\d{1,2})?)(?!\d)"
    r"|(?<![\d.,])(?P<worded>\d+(?:[.,]\d{1,2})?)\s?(?:元|块|dollars?|USD|CNY|RMB)"
    r"|(?<![\d.,])(?P<bare>\d+[.,]\d{1,2})(?![\d])"
)
_DATE = re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)")


def _templates(language: str) -> Templates:
    try:
        return _TEMPLATES[language]
    except KeyError:
        raise ValueError(
            f"no reply templates for language {language!r}; use 'en' or 'zh'"
        ) from None


def _day(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()


def _span(end: datetime, now: datetime) -> Span | None:
    """How far off ``end`` is from ``now``; ``None`` once it has passed."""
    seconds = (end - now).total_seconds()
    if seconds <= 0:
        return None
    date = _day(end)
    if seconds < 3600:
        return Span("min", max(1, int(seconds // 60)), date)
    if seconds < 12 * 3600:
        return Span("h", max(1, math.floor(seconds / 3600 + 0.5)), date)
    days = (end.astimezone(UTC).date() - now.astimezone(UTC).date()).days
    if days == 0:
        return Span("today", 0, date)
    if days == 1:
        return Span("tomorrow", 1, date)
    if days <= 7:
        return Span("days", days, date)
    return Span("date", days, date)


def _deal_words(deal: DealFact, t: Templates, currency: Currency) -> str:
    saving = currency.format(deal.saving) if deal.saving > 0 else None
    min_spend = currency.format(deal.min_spend) if deal.min_spend else None
    return t.deal(deal.type, saving, min_spend, deal.needs_claim)


def _end_of(item: ItemFact) -> datetime | None:
    if item.valid_until is not None:
        return item.valid_until
    return item.deals[0].ends_at if item.deals else None


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!;])\s+|(?<=[。！；])\s*|\n", text) if s.strip()]


def _terms_sentence(terms: str) -> str | None:
    """The most telling sentence of an activity's terms (the first with a number), if short."""
    sentences = _sentences(terms)
    if not sentences:
        return None
    chosen = next((s for s in sentences if re.search(r"\d", s)), sentences[0])
    return chosen if len(chosen) <= _MAX_TERMS else None


def _product_parts(
    item: ItemFact, t: Templates, currency: Currency, now: datetime, max_price: int | None
) -> Iterator[str]:
    if item.deals:
        best = item.deals[0]
        words = _deal_words(best, t, currency)
        if not best.needs_claim:
            claim = next((d for d in item.deals[1:] if d.needs_claim), None)
            if claim is not None:
                words += " " + t.claim_also(
                    currency.format(claim.saving) if claim.saving > 0 else None
                )
            elif item.needs_claim:
                words = t.with_claim(words)
        yield words
    elif item.final_price is not None and max_price is not None and item.final_price <= max_price:
        yield t.within_budget()
    elif item.category:
        yield t.in_category(item.category)
    end = _end_of(item)
    span = _span(end, now) if end is not None else None
    if span is not None:
        yield t.ends(span)
    gap = item.cart_gap
    if (
        gap is not None
        and gap.add > 0
        and (gap.unlocks > 0 or gap.activity_type == "free_shipping")
    ):
        yield t.gap(
            currency.format(gap.add),
            currency.format(gap.unlocks),
            gap.activity_type == "free_shipping",
        )
    if item.bought_brand_before and item.brand:
        yield t.bought_brand(item.brand)


def _activity_parts(
    item: ItemFact, t: Templates, currency: Currency, now: datetime
) -> Iterator[str]:
    deal = item.deals[0] if item.deals else None
    if deal is not None and (deal.saving > 0 or deal.min_spend):
        words, claimed = _deal_words(deal, t, currency), deal.needs_claim
    else:
        words, claimed = t.activity_kind(deal.type if deal is not None else ""), False
    if not claimed and (item.needs_claim or (deal is not None and deal.needs_claim)):
        words = t.with_claim(words)
    yield words
    end = _end_of(item)
    span = _span(end, now) if end is not None else None
    if span is not None:
        yield t.ends(span)
    sentence = _terms_sentence(item.terms)
    if sentence is not None:
        yield sentence


def why_line(
    item: ItemFact,
    *,
    language: Literal["en", "zh"],
    currency: Currency,
    now: datetime,
    max_price: int | None = None,
) -> str:
    """A short factual reason for one recommendation, built from its facts only.

    Parts in priority order, at most :data:`MAX_WHY_PARTS`: the best deal in words by type (or,
    without a deal, "within your budget" when ``max_price`` is given and met, else its category),
    when it ends, what adding to the cart unlocks, and "you bought {brand} before". For an
    activity: its type / amounts, its end, and one sentence of its terms.

    Args:
        item: The recommended item.
        language: ``en`` or ``zh``.
        currency: The shop currency (formats every amount).
        now: The moment of the turn (UTC), for "ends in 3 h".
        max_price: The shopper's budget in force, if any.

    Returns:
        ``"spend 50.00, save 8.00; ends in 3 h; you bought Lumi before"`` /
        ``"满50.00减8.00；3小时后结束；你买过Lumi"``.
    """
    t = _templates(language)
    parts = (
        _activity_parts(item, t, currency, now)
        if item.kind == "activity"
        else _product_parts(item, t, currency, now, max_price)
    )
    chosen = list(islice(parts, MAX_WHY_PARTS))
    return t.separator.join(chosen) if chosen else t.plain_why()


def _relaxed_codes(relaxed: Iterable[str]) -> list[str]:
    codes: list[str] = []
    for raw in relaxed:
        code = _RELAXED_CODES.get(raw.strip().lower(), "other")
        if code not in codes:
            codes.append(code)
    return codes


def _item_lines(
    facts: ReplyFacts, t: Templates, currency: Currency, max_price: int | None
) -> list[str]:
    lines = []
    for number, item in enumerate(facts.items, start=1):
        why = why_line(
            item, language=facts.language, currency=currency, now=facts.now, max_price=max_price
        )
        if item.kind == "activity":
            lines.append(t.item_line(number, item.title, None, None, why))
            continue
        final = item.final_price if item.final_price is not None else item.price
        was = item.price if item.saving > 0 else None
        lines.append(
            t.item_line(
                number,
                item.title,
                currency.format(final) if final is not None else None,
                currency.format(was) if was is not None else None,
                why,
            )
        )
    return lines


def _recommend(facts: ReplyFacts, t: Templates, currency: Currency) -> list[str]:
    if facts.no_results or not facts.items:
        return [t.no_results()]
    codes = _relaxed_codes(facts.relaxed)
    # A widened budget no longer bounds these picks, so it is not restated.
    budget_kept = "budget" not in codes
    max_price = facts.max_price if budget_kept else None
    min_price = facts.min_price if budget_kept else None
    lines = [t.relaxed(codes)] if codes else []
    lines.append(
        t.intro(
            len(facts.items),
            currency.format(min_price) if min_price is not None else None,
            currency.format(max_price) if max_price is not None else None,
        )
    )
    return lines + _item_lines(facts, t, currency, max_price)


def _offer(facts: ReplyFacts, t: Templates, currency: Currency) -> list[str]:
    if not facts.items:
        return [t.no_offers()]
    lines = [t.offer_intro(len(facts.items)), *_item_lines(facts, t, currency, facts.max_price)]
    if any(item.needs_claim for item in facts.items):
        lines.append(t.offer_outro())
    return lines


def _coupon_state(coupon: CouponFact, now: datetime) -> str | None:
    if coupon.status.lower() in _USED:
        return "used"
    return "expired" if coupon.valid_until <= now else None


def _coupons(facts: ReplyFacts, t: Templates, currency: Currency) -> list[str]:
    if not facts.coupons:
        return [t.no_coupons()]
    return [
        t.coupons_intro(len(facts.coupons)),
        *(
            t.coupon_line(
                c.title,
                c.code,
                currency.format(c.amount),
                _day(c.valid_until),
                _coupon_state(c, facts.now),
            )
            for c in facts.coupons
        ),
    ]


def _ineligible_line(fact: IneligibleFact, t: Templates, currency: Currency) -> str:
    date = fact.ended_at if fact.reason == "expired" else fact.starts_at
    return t.ineligible(
        fact.reason,
        fact.title,
        currency.format(fact.min_spend) if fact.min_spend else None,
        currency.format(fact.missing) if fact.missing else None,
        _day(date) if date is not None and fact.reason in ("expired", "not_started") else None,
    )


def render_reply(facts: ReplyFacts) -> str:
    """The whole reply for ``facts.action``, in ``facts.language``, from the facts only.

    Raises:
        ValueError: a language without templates or an unknown currency code.
    """
    t = _templates(facts.language)
    currency = Currency.of(facts.currency)
    action = facts.action
    if action is ActionKind.RECOMMEND:
        lines = _recommend(facts, t, currency)
    elif action is ActionKind.OFFER_COUPON:
        lines = _offer(facts, t, currency)
    elif action is ActionKind.SHOW_COUPONS:
        lines = _coupons(facts, t, currency)
    elif action is ActionKind.EXPLAIN_INELIGIBLE:
        lines = [_ineligible_line(f, t, currency) for f in facts.ineligible] or [t.no_ineligible()]
    elif action is ActionKind.CLARIFY:
        lines = [t.clarify(facts.question)]
    elif action is ActionKind.HANDOFF:
        lines = [t.handoff(facts.handoff_reason)]
    elif action is ActionKind.OUT_OF_SCOPE:
        lines = [t.out_of_scope()]
    else:
        lines = [t.small_talk()]
    return "\n".join(lines)


def _fact_amounts(facts: ReplyFacts) -> Iterator[int | None]:
    yield facts.max_price
    yield facts.min_price
    for item in facts.items:
        yield from (item.price, item.final_price, item.saving)
        for deal in item.deals:
            yield from (deal.saving, deal.min_spend)
        if item.cart_gap is not None:
            yield from (item.cart_gap.add, item.cart_gap.unlocks)
    for coupon in facts.coupons:
        yield coupon.amount
    for fact in facts.ineligible:
        yield from (fact.min_spend, fact.missing)


def _fact_moments(facts: ReplyFacts) -> Iterator[datetime | None]:
    yield facts.now
    for item in facts.items:
        yield item.valid_until
        yield from (deal.ends_at for deal in item.deals)
    yield from (coupon.valid_until for coupon in facts.coupons)
    for fact in facts.ineligible:
        yield from (fact.starts_at, fact.ended_at)


def _fact_texts(facts: ReplyFacts) -> Iterator[str]:
    """Fact strings a reply may quote whole: their own digits are not claims of ours."""
    for item in facts.items:
        yield from (item.title, item.brand, item.category, item.id, item.url, item.terms)
        yield from _sentences(item.terms)
        yield from item.activity_ids
        for deal in item.deals:
            yield from (deal.title, deal.activity_id)
    for coupon in facts.coupons:
        yield from (coupon.title, coupon.code, coupon.claim_id, coupon.activity_id)
    for fact in facts.ineligible:
        yield from (fact.title, fact.activity_id)


def reply_numbers_are_grounded(
    text: str, facts: ReplyFacts, extra: Iterable[int] = ()
) -> list[str]:
    """The amounts and dates in ``text`` that no fact holds (an empty list when all are).

    Money is any decimal (``39.20``) and any number with a currency sign or word (``$39``,
    ``39元``); it is grounded when its value equals an amount of ``facts`` (prices, final
    prices, savings, minimum spends, cart gaps, coupon amounts, the budget) or of ``extra`` (e.g.
    the shopper's own numbers), all in minor units. Dates are ``YYYY-MM-DD`` and must be the UTC
    date of a fact's time. Fact strings quoted whole (titles, codes, terms, ids) are skipped.
    Bare integers are not checked (counts, "3 h"), so for a currency without minor digits only
    amounts written with a sign or word are.

    Args:
        text: A reply.
        facts: What it may state.
        extra: Further amounts it may state, minor units.

    Returns:
        Each offending substring, in the order it appears.
    """
    currency = Currency.of(facts.currency)
    amounts = {
        Decimal(currency.format(a))
        for a in (*_fact_amounts(facts), *extra)
        if a is not None and a >= 0
    }
    days = {_day(m) for m in _fact_moments(facts) if m is not None}
    masked = text
    for quoted in sorted({s for s in _fact_texts(facts) if s}, key=len, reverse=True):
        masked = masked.replace(quoted, " ")
    offending: list[tuple[int, str]] = []
    for match in _DATE.finditer(masked):
        if match.group(0) not in days:
            offending.append((match.start(), match.group(0)))
    undated = _DATE.sub(lambda m: " " * len(m.group(0)), masked)
    for match in _MONEY.finditer(undated):
        number = match.group("signed") or match.group("worded") or match.group("bare")
        if Decimal(number.replace(",", ".")) not in amounts:
            offending.append((match.start(), match.group(0)))
    return [found for _, found in sorted(offending)]
