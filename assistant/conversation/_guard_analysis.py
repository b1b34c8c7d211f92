"""What the facts allow a reply to claim, and the verdict on each claim of a (partial) text.

:func:`grounds_for` gathers, once per reply, every value the facts hold: amounts, counts,
percentages off, ``满X减Y`` pairs, dates, durations until an end, coupon codes, whether free
shipping or any discount is real, and the fact strings that may be quoted whole.
:func:`analyze` judges the claims of a text against them; on a partial text (a stream) it also
says how far the text is settled and safe to show.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum

from assistant.conversation._guard_claims import LOOKAHEAD, Claim, ClaimKind, find_claims
from assistant.conversation.facts import ItemFact, ReplyFacts
from assistant.conversation.replies import (
    _fact_amounts,
    _fact_moments,
    _fact_texts,
    _span,
)
from assistant.money import Currency, percent_of

__all__ = ["Analysis", "Grounds", "Reason", "Violation", "analyze", "grounds_for"]


class Reason(StrEnum):
    """Why a span of a reply is refused."""

    AMOUNT = "invented_amount"
    NUMBER = "invented_number"
    PERCENT = "invented_percent"
    DEAL = "invented_deal"
    DATE = "invented_date"
    TIME = "invented_time"
    DURATION = "invented_duration"
    CODE = "invented_code"
    FREE_SHIPPING = "unbacked_free_shipping"
    DISCOUNT = "unbacked_discount"
    PLACEHOLDER = "unknown_placeholder"
    BRACE = "unbalanced_brace"
    EMPTY = "empty_reply"


@dataclass(frozen=True, slots=True)
class Violation:
    """One refused span.

    Attributes:
        start: Index of its first character (in the checked text; for a placeholder problem, in
            the draft).
        end: Index after its last character.
        span: The text refused.
        reason: Why.
    """

    start: int
    end: int
    span: str
    reason: Reason

    def __str__(self) -> str:
        return f"{self.reason.value}: {self.span!r} at {self.start}"


_REASONS = {
    ClaimKind.AMOUNT: Reason.AMOUNT,
    ClaimKind.NUMBER: Reason.NUMBER,
    ClaimKind.PERCENT: Reason.PERCENT,
    ClaimKind.PAIR: Reason.DEAL,
    ClaimKind.DATE: Reason.DATE,
    ClaimKind.TIME: Reason.TIME,
    ClaimKind.DURATION: Reason.DURATION,
    ClaimKind.CODE: Reason.CODE,
    ClaimKind.FREE_SHIPPING: Reason.FREE_SHIPPING,
    ClaimKind.DISCOUNT: Reason.DISCOUNT,
    ClaimKind.BOGO: Reason.DISCOUNT,
    ClaimKind.FESTIVAL: Reason.DATE,
    ClaimKind.BRACE: Reason.BRACE,
}


@dataclass(frozen=True, slots=True)
class Grounds:
    """Everything a reply may claim, by kind (amounts in major units of the shop currency)."""

    amounts: frozenset[Decimal]
    counts: frozenset[Decimal]
    percents: frozenset[Decimal]
    pairs: frozenset[tuple[Decimal, Decimal]]
    days: frozenset[date]
    durations: frozenset[tuple[str, Decimal]]
    codes: frozenset[str]
    times: frozenset[str]
    free_shipping: bool
    discount: bool
    bogo: bool
    texts: tuple[str, ...]
    """Fact strings that may appear verbatim; the claims inside an occurrence are accepted."""


def _percents_of(item: ItemFact) -> Iterator[Decimal]:
    """Whole percentages that give exactly the item's savings (rounded half up, as deals do)."""
    if not item.price:
        return
    for saving in {item.saving, *(deal.saving for deal in item.deals)}:
        if 0 < saving <= item.price:
            for percent in range(1, 101):
                if percent_of(item.price, percent) == saving:
                    yield Decimal(percent)


def _ends(facts: ReplyFacts) -> Iterator[datetime]:
    for item in facts.items:
        yield from (m for m in (item.valid_until, *(d.ends_at for d in item.deals)) if m)
    yield from (coupon.valid_until for coupon in facts.coupons)


def _durations(facts: ReplyFacts) -> Iterator[tuple[str, Decimal]]:
    """What "ends in 3 h" may say: the same spans the templates compute."""
    for end in _ends(facts):
        span = _span(end, facts.now)
        if span is None:
            continue
        if span.unit in ("min", "h", "days"):
            yield span.unit, Decimal(span.value)
        elif span.unit in ("tomorrow", "date"):
            yield "days", Decimal(span.value)


def _activity_texts(facts: ReplyFacts) -> Iterator[str]:
    """Texts that describe deals (not product titles): their amounts and percents are facts."""
    for item in facts.items:
        yield from (deal.title for deal in item.deals)
        if item.kind == "activity":
            yield from (item.title, item.terms)
    yield from (coupon.title for coupon in facts.coupons)
    yield from (fact.title for fact in facts.ineligible)


def grounds_for(
    facts: ReplyFacts,
    *,
    currency: Currency,
    values: Mapping[str, str],
    shopper_numbers: Iterable[Decimal] = (),
) -> Grounds:
    """What ``facts`` (and the shopper's own numbers) let a reply claim.

    Args:
        facts: The reply's facts.
        currency: The shop currency (amounts are compared as its decimals).
        values: The placeholder values; their texts may be quoted whole.
        shopper_numbers: Numbers the shopper said (a budget): allowed as amounts and counts.
    """
    amounts = {Decimal(currency.format(a)) for a in _fact_amounts(facts) if a is not None}
    amounts |= {Decimal(n) for n in shopper_numbers}
    percents = {p for item in facts.items for p in _percents_of(item)}
    pairs = {
        (Decimal(currency.format(d.min_spend)), Decimal(currency.format(d.saving)))
        for item in facts.items
        for d in item.deals
        if d.min_spend and d.saving
    }
    days = {m.astimezone(UTC).date() for m in _fact_moments(facts) if m is not None}
    times: set[str] = set()
    free_shipping = any(
        d.type == "free_shipping" for item in facts.items for d in item.deals
    ) or any(
        item.cart_gap and item.cart_gap.activity_type == "free_shipping" for item in facts.items
    )
    discount = bool(facts.coupons) or any(
        item.saving > 0 or any(d.saving > 0 for d in item.deals) for item in facts.items
    )
    bogo = False
    for text in _activity_texts(facts):
        for claim in find_claims(text):
            if claim.kind is ClaimKind.PERCENT and claim.value is not None:
                percents.add(claim.value)
            elif claim.kind is ClaimKind.PAIR and claim.value and claim.other:
                pairs.add((claim.value, claim.other))
                amounts |= {claim.value, claim.other}
            elif claim.kind is ClaimKind.AMOUNT and claim.value is not None:
                amounts.add(claim.value)
            elif claim.kind is ClaimKind.DATE:
                days |= {d for d in (_as_date(*parts) for parts in claim.dates) if d}
            elif claim.kind is ClaimKind.TIME:
                times.add(claim.token)
            free_shipping |= claim.kind is ClaimKind.FREE_SHIPPING
            bogo |= claim.kind is ClaimKind.BOGO
            discount |= claim.kind in (ClaimKind.PERCENT, ClaimKind.PAIR, ClaimKind.DISCOUNT)
    shown = max(len(facts.items), len(facts.coupons), len(facts.ineligible))
    counts = {Decimal(n) for n in range(1, shown + 1)} | amounts
    texts = {t for t in (*_fact_texts(facts), *values.values()) if t and find_claims(t)}
    return Grounds(
        amounts=frozenset(amounts),
        counts=frozenset(counts),
        percents=frozenset(percents),
        pairs=frozenset(pairs),
        days=frozenset(days),
        durations=frozenset(_durations(facts)),
        codes=frozenset(coupon.code for coupon in facts.coupons),
        times=frozenset(times),
        free_shipping=free_shipping,
        discount=discount,
        bogo=bogo,
        texts=tuple(sorted(texts, key=len, reverse=True)),
    )


def _as_date(year: int | None, month: int | None, day: int | None) -> date | None:
    if year is None or month is None or day is None:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _date_held(
    parts: tuple[tuple[int | None, int | None, int | None], ...], days: frozenset[date]
) -> bool:
    return any(
        all(
            want is None or want == got
            for want, got in zip(p, (d.year, d.month, d.day), strict=True)
        )
        for p in parts
        for d in days
    )


def _grounded(claim: Claim, g: Grounds) -> bool:
    """Whether the facts hold what ``claim`` states (quoting aside)."""
    kind, value = claim.kind, claim.value
    if kind is ClaimKind.AMOUNT:
        return value in g.amounts
    if kind is ClaimKind.NUMBER:
        return value in g.counts
    if kind is ClaimKind.PERCENT:
        return value in g.percents
    if kind is ClaimKind.PAIR:
        return (value, claim.other) in g.pairs
    if kind is ClaimKind.DATE:
        return _date_held(claim.dates, g.days)
    if kind is ClaimKind.TIME:
        return claim.token in g.times
    if kind is ClaimKind.DURATION:
        return value is not None and (claim.unit, value) in g.durations
    if kind is ClaimKind.CODE:
        return claim.token in g.codes
    if kind is ClaimKind.FREE_SHIPPING:
        return g.free_shipping
    if kind is ClaimKind.DISCOUNT:
        return g.discount
    if kind is ClaimKind.BOGO:
        return g.bogo
    return False  # festivals and braces: only inside a quoted fact string


@dataclass(frozen=True, slots=True)
class Analysis:
    """The verdict on a text.

    Attributes:
        violations: Refused claims, in text order (settled ones only, for a partial text).
        safe_end: The text up to here is checked and may be shown.
    """

    violations: tuple[Violation, ...]
    safe_end: int


def _quoted(text: str, texts: tuple[str, ...]) -> list[tuple[int, int]]:
    """Where fact strings occur whole in ``text``."""
    spans = []
    for quoted in texts:
        at = text.find(quoted)
        while at >= 0:
            spans.append((at, at + len(quoted)))
            at = text.find(quoted, at + 1)
    return spans


def _quote_starts(text: str, texts: tuple[str, ...]) -> list[int]:
    """Where a fact string may be starting and run past the end of a partial ``text``."""
    starts = []
    for quoted in texts:
        for at in range(max(0, len(text) - len(quoted) + 1), len(text)):
            if quoted.startswith(text[at:]):
                starts.append(at)
    return starts


def _word_start(text: str, cut: int) -> int:
    """Move ``cut`` back so that it does not split an ASCII word or number."""
    while 0 < cut < len(text) and text[cut - 1].isascii() and text[cut - 1].isalnum():
        if not (text[cut].isascii() and (text[cut].isalnum() or text[cut] in ".,-:/")):
            break
        cut -= 1
    return cut


def _cut(text: str, end: int, claims: list[Claim]) -> int:
    """``end`` moved back until it splits neither a claim nor an ASCII word."""
    while True:
        cut = _word_start(text, end)
        cut = next((c.held_from for c in claims if c.held_from < cut < c.end), cut)
        if cut == end:
            return cut
        end = cut


def analyze(text: str, grounds: Grounds, *, final: bool = True, start: int = 0) -> Analysis:
    """Judge every claim in ``text``.

    With ``final=False`` the text is the start of a longer one: a claim within
    :data:`LOOKAHEAD` characters of the end may still change, and a claim that a fact string
    starting before it could still cover is not judged yet; both hold back ``safe_end``.

    Args:
        text: The (filled) reply so far.
        grounds: What its facts allow.
        final: Whether ``text`` is complete.
        start: Judge only the claims from here on: a ``safe_end`` of an earlier call on a
            shorter start of ``text`` (those before it were judged then).
    """
    limit = len(text) if final else len(text) - LOOKAHEAD
    quoted = _quoted(text, grounds.texts)
    open_quotes = [] if final else _quote_starts(text, grounds.texts)
    violations: list[Violation] = []
    safe_end = max(limit, 0)
    claims = find_claims(text, start)
    for claim in claims:
        if claim.end > limit:
            safe_end = min(safe_end, claim.held_from)
            break
        if _grounded(claim, grounds) or any(s <= claim.start and claim.end <= e for s, e in quoted):
            continue
        if any(s <= claim.start for s in open_quotes):
            safe_end = min(safe_end, claim.held_from)
            continue
        safe_end = min(safe_end, claim.held_from)
        violations.append(
            Violation(claim.start, claim.end, text[claim.start : claim.end], _REASONS[claim.kind])
        )
    return Analysis(tuple(violations), _cut(text, safe_end, claims))
