"""The claims guard: LLM replies with placeholders that code fills, checked against the facts.

The LLM (a small model that invents facts) writes a short reply with placeholders, e.g.
``"{title_1} is {price_1} now ({deal_1}, {ends_1})."``; :func:`fill` puts in the values that
:func:`placeholder_values` builds from :class:`ReplyFacts` with the templates' own wording, and
:func:`check` refuses any number, amount, percentage (``20%``, ``八折``, ``半价``), ``满199减30``,
code, date or duration the facts do not hold, and any "free shipping" or discount without a deal
behind it. Fact strings quoted whole (a title such as ``"Galaxy A16 5G 512GB"``, an activity
title such as ``"满80减10元券"``, a coupon code) may carry their own numbers; numbers the shopper
said (a budget) are allowed too. :class:`StreamGuard` does the same to a token stream and shows
only checked text; :func:`write_reply` is the whole policy: the draft, one regeneration, then
the template reply.

Placeholders (``i`` is 1-based, up to the number of items): ``{title_i}``, ``{price_i}`` (final
price), ``{was_i}`` (list price, only when discounted), ``{saving_i}``, ``{deal_i}`` (the best
deal in words), ``{ends_i}``, ``{why_i}``, ``{gap_i}``, ``{gap}`` (the first cart gap),
``{budget}``, ``{n}``; for coupons ``{coupon_i}``, ``{code_i}``, ``{amount_i}``, ``{until_i}``.
A placeholder without a value for these facts counts as unknown.

Example:
    >>> from datetime import UTC, datetime, timedelta
    >>> from assistant.conversation.facts import ActionKind, DealFact, ItemFact
    >>> now = datetime(2025, 6, 1, 12, tzinfo=UTC)
    >>> deal = DealFact("act-1", 1, "threshold", "Shoes: spend $50, save $8", 800, 5000, False,
    ...                 now + timedelta(hours=3))
    >>> item = ItemFact("product", "p-1", "Lumi Runner 2", price=4720, final_price=3920,
    ...                 deals=(deal,), valid_until=deal.ends_at)
    >>> facts = ReplyFacts(ActionKind.RECOMMEND, "en", "USD", now, items=(item,))
    >>> usd = Currency.of("USD")
    >>> fill("{title_1}: {price_1} ({deal_1}, {ends_1})",
    ...      placeholder_values(facts, currency=usd, now=now))
    'Lumi Runner 2: 39.20 (spend 50.00, save 8.00, ends in 3 h)'
    >>> [str(v) for v in check("Lumi Runner 2 is 20% off, use code SAVE90", facts)]
    ["invented_percent: '20%' at 17", "invented_code: 'SAVE90' at 35"]
    >>> guard = StreamGuard(facts)
    >>> guard.feed("{title_1} is only {pri") + guard.feed("ce_1} today") + guard.close()
    'Lumi Runner 2 is only 39.20 today'
    >>> guard = StreamGuard(facts)
    >>> shown = guard.feed("Only {pri") + guard.feed("ce_1} today, $5 off") + guard.close()
    >>> "$5" in shown, guard.violated
    (False, True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from assistant.conversation._guard_analysis import (
    Grounds,
    Reason,
    Violation,
    analyze,
    grounds_for,
)
from assistant.conversation.facts import ItemFact, ReplyFacts
from assistant.conversation.replies import (
    _day,
    _deal_words,
    _end_of,
    _relaxed_codes,
    _span,
    _templates,
    render_reply,
    why_line,
)
from assistant.errors import LLMError
from assistant.money import Currency

__all__ = [
    "GuardViolation",
    "GuardedReply",
    "Reason",
    "StreamGuard",
    "Violation",
    "check",
    "fill",
    "placeholder_values",
    "write_reply",
]

_MAX_PLACEHOLDER = 40
"""A ``{`` with no ``}`` within this many characters is a stray brace, not a placeholder."""


class GuardViolation(LLMError):
    """An LLM draft the guard refuses: unknown placeholders, stray braces or invented claims.

    Attributes:
        violations: Each refused span and why.
    """

    def __init__(self, violations: Iterable[Violation]) -> None:
        self.violations = tuple(violations)
        listed = "; ".join(str(v) for v in self.violations)
        super().__init__(
            f"the reply draft was refused ({listed}); regenerate it or use the template reply"
        )


def _item_values(
    number: int,
    item: ItemFact,
    facts: ReplyFacts,
    currency: Currency,
    now: datetime,
    max_price: int | None,
) -> dict[str, str]:
    t = _templates(facts.language)
    values = {f"title_{number}": item.title}
    final = item.final_price if item.final_price is not None else item.price
    if final is not None:
        values[f"price_{number}"] = currency.format(final)
    if item.price is not None and item.saving > 0:
        values[f"was_{number}"] = currency.format(item.price)
        values[f"saving_{number}"] = currency.format(item.saving)
    if item.deals:
        best = item.deals[0]
        if item.kind == "product" or best.saving > 0 or best.min_spend:
            values[f"deal_{number}"] = _deal_words(best, t, currency)
        else:
            values[f"deal_{number}"] = t.activity_kind(best.type)
    end = _end_of(item)
    span = _span(end, now) if end is not None else None
    if span is not None:
        values[f"ends_{number}"] = t.ends(span)
    values[f"why_{number}"] = why_line(
        item, language=facts.language, currency=currency, now=now, max_price=max_price
    )
    gap = item.cart_gap
    if gap and gap.add > 0 and (gap.unlocks > 0 or gap.activity_type == "free_shipping"):
        values[f"gap_{number}"] = t.gap(
            currency.format(gap.add),
            currency.format(gap.unlocks),
            gap.activity_type == "free_shipping",
        )
    return values


def placeholder_values(facts: ReplyFacts, *, currency: Currency, now: datetime) -> dict[str, str]:
    """Every placeholder's text for ``facts``, in ``facts.language``, worded as the templates.

    A placeholder is present only when the facts give it a value: ``was_i`` only for a
    discounted item, ``ends_i`` only while its deal runs, ``budget`` only while the budget
    bounds the picks (not after it was relaxed).

    Args:
        facts: The reply's facts.
        currency: The shop currency.
        now: The moment of the turn (UTC), for "ends in 3 h".

    Returns:
        Placeholder name (without braces) to text, e.g. ``{"price_1": "39.20", ...}``.
    """
    budget_kept = "budget" not in _relaxed_codes(facts.relaxed)
    max_price = facts.max_price if budget_kept else None
    values: dict[str, str] = {}
    shown = len(facts.items) or len(facts.coupons)
    if shown:
        values["n"] = str(shown)
    if max_price is not None:
        values["budget"] = currency.format(max_price)
    for number, item in enumerate(facts.items, start=1):
        item_values = _item_values(number, item, facts, currency, now, max_price)
        if "gap" not in values and f"gap_{number}" in item_values:
            values["gap"] = item_values[f"gap_{number}"]
        values.update(item_values)
    for number, coupon in enumerate(facts.coupons, start=1):
        values[f"coupon_{number}"] = coupon.title
        values[f"code_{number}"] = coupon.code
        values[f"amount_{number}"] = currency.format(coupon.amount)
        values[f"until_{number}"] = _day(coupon.valid_until)
    return values


class _Filler:
    """Fills placeholders in text that arrives in pieces; ``{name}`` and ``{{name}}`` alike."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values
        self._pending = ""
        self._start = 0
        self._pos = 0
        self.violations: list[Violation] = []

    def _refuse(self, reason: Reason) -> None:
        end = self._start + len(self._pending)
        self.violations.append(Violation(self._start, end, self._pending, reason))
        self._pending = ""

    def _resolve(self, inner: str) -> str:
        name = inner.strip().lower()
        value = self._values.get(name)
        if value is None:
            self._refuse(Reason.PLACEHOLDER)
            return ""
        self._pending = ""
        return value

    def feed(self, chunk: str) -> str:
        """The filled text of ``chunk`` that is complete (an open placeholder is held)."""
        out: list[str] = []
        for ch in chunk:
            self._pos += 1
            if not self._pending:
                if ch == "{":
                    self._pending, self._start = ch, self._pos - 1
                elif ch == "}":
                    self.violations.append(Violation(self._pos - 1, self._pos, ch, Reason.BRACE))
                else:
                    out.append(ch)
                continue
            double = self._pending.startswith("{{")
            if ch == "{" and self._pending != "{":
                self._refuse(Reason.BRACE)
                self._pending, self._start = ch, self._pos - 1
                continue
            if double and self._pending.endswith("}") and ch != "}":
                self._refuse(Reason.BRACE)
                out.append(ch)
                continue
            self._pending += ch
            if ch == "}" and (not double or self._pending.endswith("}}")):
                out.append(self._resolve(self._pending[2:-2] if double else self._pending[1:-1]))
            elif len(self._pending) > _MAX_PLACEHOLDER:
                self._refuse(Reason.BRACE)
        return "".join(out)

    def close(self) -> None:
        """The end of the text: an open placeholder is a stray brace."""
        if self._pending:
            self._refuse(Reason.BRACE)


def fill(template: str, values: Mapping[str, str]) -> str:
    """``template`` with each ``{name}`` (or ``{{name}}``) replaced by ``values[name]``.

    Names are matched case-insensitively, spaces inside the braces ignored.

    Raises:
        GuardViolation: an unknown placeholder (``unknown_placeholder``) or a ``{`` / ``}``
            that opens or closes none (``unbalanced_brace``); spans are in ``template``.
    """
    filler = _Filler(values)
    text = filler.feed(template)
    filler.close()
    if filler.violations:
        raise GuardViolation(filler.violations)
    return text


def _grounds(
    facts: ReplyFacts,
    currency: Currency | None,
    shopper_numbers: Iterable[Decimal],
    values: Mapping[str, str] | None,
) -> Grounds:
    money = currency if currency is not None else Currency.of(facts.currency)
    if values is None:
        values = placeholder_values(facts, currency=money, now=facts.now)
    return grounds_for(facts, currency=money, values=values, shopper_numbers=shopper_numbers)


def check(
    text: str,
    facts: ReplyFacts,
    *,
    shopper_numbers: Iterable[Decimal] = (),
    currency: Currency | None = None,
    values: Mapping[str, str] | None = None,
) -> list[Violation]:
    """The claims in a final (filled) reply that ``facts`` do not hold; empty when it is clean.

    Refused: any number, amount (``39.20``, ``$5``, ``5元``, ``5块``), percentage (``20%``,
    ``20 percent``, ``八折``, ``8折``, ``打8.5折``, ``半价``, ``half price``), ``满199减30`` pair,
    code-like token (``SAVE90``, ``SA-XXXXXXXXXX``, ``512GB``), date (``2026-12-01``, ``Dec 1``,
    ``12月1日``), time of day or duration (``3 h``) that no fact holds, and ``free shipping`` /
    ``包邮`` / ``立减`` / ``buy one get one`` without a deal behind it. A claim inside a fact
    string quoted verbatim (a title, an activity's terms, a coupon code, a placeholder's value)
    is accepted; so are ``shopper_numbers`` as amounts and counts.

    Args:
        text: The reply after :func:`fill`.
        facts: What it may state.
        shopper_numbers: Numbers the shopper said in shop-currency units (their budget).
        currency: The shop currency; ``facts.currency`` when ``None``.
        values: The placeholder values used; built from ``facts`` when ``None``.

    Returns:
        One :class:`Violation` per refused span, in text order.
    """
    if not text.strip():
        return [Violation(0, len(text), text, Reason.EMPTY)]
    grounds = _grounds(facts, currency, shopper_numbers, values)
    return list(analyze(text, grounds, final=True).violations)


class StreamGuard:
    """A streaming claims guard: only checked text comes out, placeholders filled.

    Feed the LLM's deltas as they arrive; each call returns the text that is now safe to show.
    A span with a digit, a currency sign, a percent sign, a Chinese numeral before 折/元/块, a
    discount word or a code-like token is held until it and the next few characters have
    arrived (and, inside what may be a quoted fact string, until that string is complete), then
    verified. The first refused span stops the guard for good: :attr:`violated` turns true, the
    refused span is never returned, and the caller falls back (regenerate once, else the
    template). A placeholder is held from ``{`` to ``}`` and filled.

    For any split of a reply into deltas, the concatenated output is :func:`fill`'s result when
    :func:`check` accepts it, and a prefix that stops before the first refused span otherwise.
    """

    def __init__(
        self,
        facts: ReplyFacts,
        *,
        shopper_numbers: Iterable[Decimal] = (),
        currency: Currency | None = None,
        values: Mapping[str, str] | None = None,
    ) -> None:
        money = currency if currency is not None else Currency.of(facts.currency)
        if values is None:
            values = placeholder_values(facts, currency=money, now=facts.now)
        self._grounds = grounds_for(
            facts, currency=money, values=values, shopper_numbers=shopper_numbers
        )
        self._filler = _Filler(values)
        self._text = ""
        self._emitted = 0
        self._violations: tuple[Violation, ...] = ()
        self._closed = False

    @property
    def violated(self) -> bool:
        """A span was refused; nothing more is emitted."""
        return bool(self._violations)

    @property
    def violations(self) -> tuple[Violation, ...]:
        """The refused spans (placeholder problems in draft positions, others in filled text)."""
        return self._violations

    @property
    def text(self) -> str:
        """The filled text received so far (checked or not)."""
        return self._text

    @property
    def emitted(self) -> str:
        """What has been returned so far."""
        return self._text[: self._emitted]

    def _advance(self, final: bool) -> str:
        if self._filler.violations:
            self._violations = tuple(self._filler.violations)
            return ""
        analysis = analyze(self._text, self._grounds, final=final, start=self._emitted)
        if analysis.violations:
            self._violations = analysis.violations
            return ""
        if analysis.safe_end <= self._emitted:
            return ""
        out = self._text[self._emitted : analysis.safe_end]
        self._emitted = analysis.safe_end
        return out

    def feed(self, delta: str) -> str:
        """Take the next delta; return the text now checked and safe to show (maybe ``""``).

        Raises:
            RuntimeError: after :meth:`close`.
        """
        if self._closed:
            raise RuntimeError("StreamGuard.feed() after close(); make a new guard per reply")
        if self.violated:
            return ""
        self._text += self._filler.feed(delta)
        return self._advance(final=False)

    def close(self) -> str:
        """The end of the stream: check the rest and return what remains safe to show."""
        if self._closed or self.violated:
            self._closed = True
            return ""
        self._closed = True
        self._filler.close()
        if not self._text.strip() and not self._filler.violations:
            self._violations = (Violation(0, len(self._text), self._text, Reason.EMPTY),)
            return ""
        return self._advance(final=True)


@dataclass(frozen=True, slots=True)
class GuardedReply:
    """The reply to send and where it came from.

    Attributes:
        text: The reply.
        source: ``llm`` (the draft passed), ``llm_regenerated`` (the second draft passed) or
            ``template`` (both refused, or no second try).
        violations: What was refused in the drafts, first draft first.
    """

    text: str
    source: Literal["llm", "llm_regenerated", "template"]
    violations: tuple[Violation, ...] = ()


def _attempt(
    draft: str, values: Mapping[str, str], grounds: Grounds
) -> tuple[str | None, tuple[Violation, ...]]:
    try:
        text = fill(draft, values).strip()
    except GuardViolation as refused:
        return None, refused.violations
    if not text:
        return None, (Violation(0, len(draft), draft, Reason.EMPTY),)
    violations = analyze(text, grounds, final=True).violations
    return (None, violations) if violations else (text, ())


def write_reply(
    draft: str,
    facts: ReplyFacts,
    *,
    regenerate: Callable[[], str] | None = None,
    shopper_numbers: Iterable[Decimal] = (),
    currency: Currency | None = None,
    values: Mapping[str, str] | None = None,
) -> GuardedReply:
    """The reply for ``facts`` from an LLM draft: fill and check it, regenerate once, else the
    template.

    Args:
        draft: The LLM's reply with placeholders.
        facts: What the reply may state.
        regenerate: Asks the LLM for a second draft; an :class:`LLMError` from it (a timeout)
            falls back to the template.
        shopper_numbers: Numbers the shopper said (their budget).
        currency: The shop currency; ``facts.currency`` when ``None``.
        values: The placeholder values; built from ``facts`` when ``None``.
    """
    money = currency if currency is not None else Currency.of(facts.currency)
    if values is None:
        values = placeholder_values(facts, currency=money, now=facts.now)
    grounds = grounds_for(facts, currency=money, values=values, shopper_numbers=shopper_numbers)
    text, refused = _attempt(draft, values, grounds)
    if text is not None:
        return GuardedReply(text, "llm")
    if regenerate is not None:
        try:
            second = regenerate()
        except LLMError:
            second = None
        if second is not None:
            text, again = _attempt(second, values, grounds)
            if text is not None:
                return GuardedReply(text, "llm_regenerated", refused)
            refused += again
    return GuardedReply(render_reply(facts), "template", refused)
