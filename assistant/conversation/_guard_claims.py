"""Finding the claims in a reply: every number, amount, percentage, date, code and deal word.

A *claim* is a span of text that states something checkable: ``"39.20"``, ``"$5"``, ``"20%"``,
``"八折"``, ``"满199减30"``, ``"Dec 1"``, ``"3 h"``, ``"SAVE90"``, ``"free shipping"``. The guard
(:mod:`assistant.conversation.guard`) accepts a claim only when the facts hold its value or when
it sits inside a fact string quoted verbatim. Any digit at all is part of some claim.

Claims are found left to right; a claim's extent depends on at most :data:`LOOKAHEAD` characters
after it (``"20"`` becomes ``"20 per cent"``), which is what lets the stream guard settle a claim
before the reply has ended.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

__all__ = ["LOOKAHEAD", "Claim", "ClaimKind", "find_claims"]

LOOKAHEAD = 20
"""Characters after a claim (or before the end of a partial text) that can still change it."""


class ClaimKind(StrEnum):
    """What a claim states."""

    AMOUNT = "amount"
    """Money: a decimal, a number with a currency sign or word, or after "save" / "满"."""
    NUMBER = "number"
    """A bare integer (a count such as "3 picks", a list number, or money said plainly)."""
    PERCENT = "percent"
    """A percentage off: ``20%``, ``20 percent``, ``八折`` (20), ``半价`` / ``half price`` (50)."""
    PAIR = "pair"
    """``满199减30``: spend ``value``, save ``other``."""
    DATE = "date"
    """A calendar date or month or year."""
    TIME = "time"
    """A time of day (``20:00``, ``20:00-22:00``)."""
    DURATION = "duration"
    """``3 h``, ``40 min``, ``2 days``, ``3小时``."""
    CODE = "code"
    """A code-like token (``SAVE90``, ``SA-KXQPTRMNWZ``, ``A16``, ``512GB``)."""
    FREE_SHIPPING = "free_shipping"
    """``free shipping``, ``包邮``."""
    DISCOUNT = "discount"
    """A discount said without a number (``立减``, ``打折``)."""
    BOGO = "bogo"
    """``buy one get one``, ``买一送一``."""
    FESTIVAL = "festival"
    """A sales festival named by its date (``双11``)."""
    BRACE = "brace"
    """A ``{`` or ``}`` left in the text (an unfilled placeholder)."""


@dataclass(frozen=True, slots=True)
class Claim:
    """One claim: its span in the text, its kind and the values it states.

    Attributes:
        start: Index of its first character.
        end: Index after its last character.
        kind: What it states.
        value: The number (amount, count, percent off, pair's spend, duration), if any.
        other: A pair's saving.
        dates: Candidate ``(year, month, day)`` readings (``None`` where unsaid) of a date.
        unit: A duration's unit: ``min``, ``h``, ``days`` or ``weeks``.
        token: A code or time as written.
        lead: Where the text that makes it a claim starts, when before ``start`` (``"code"``
            in ``"code SAVE90"``).
    """

    start: int
    end: int
    kind: ClaimKind
    value: Decimal | None = None
    other: Decimal | None = None
    dates: tuple[tuple[int | None, int | None, int | None], ...] = ()
    unit: str = ""
    token: str = ""
    lead: int | None = None

    @property
    def held_from(self) -> int:
        """The first character a stream must hold back for this claim."""
        return self.start if self.lead is None else self.lead


_D = "[0-9０-９]"
_NUM = rf"{_D}+(?:,{_D}{{3}}(?!{_D}))*(?:[.．]{_D}+|,{_D}{{1,2}}(?!{_D}))?"
_CN = "[零〇一二两三四五六七八九十百千万]"
_CNNUM = rf"{_CN}+(?:点{_CN}+)?"
_MONTHS = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
# Capitalized or upper case only: "may" and "march" are also plain words.
_MONTH = (
    "(?:"
    + "|".join(f"{n.capitalize()}|{n.upper()}" for n in sorted(_MONTHS, key=len, reverse=True))
    + ")(?![A-Za-z])"
)
_UNIT_SUFFIX = r"(?:h|hrs?|hours?|mins?|minutes?|days?|weeks?|st|nd|rd|th)"

# Alternatives in priority order: at one start position the first that matches wins, and the
# leftmost start wins overall (so "满199减30" beats the "199" inside it).
_MASTER = re.compile(
    "|".join(
        [
            r"(?P<brace>[{}])",
            r"(?P<festival>双(?:十一|十二|11|12))",
            rf"(?<!{_D})(?P<iso_y>{_D}{{4}})[-/.年](?P<iso_m>{_D}{{1,2}})[-/.月]"
            rf"(?P<iso_d>{_D}{{1,2}})[日号]?(?!{_D})",
            rf"(?<!{_D})(?P<zh_y>{_D}{{4}})年",
            rf"(?<!{_D})(?P<zh_m>{_D}{{1,2}})月(?:(?P<zh_d>{_D}{{1,2}})[日号])?",
            rf"(?<![A-Za-z])(?P<en_mon>{_MONTH})\.?\s?(?P<en_d>{_D}{{1,2}})(?:st|nd|rd|th)?"
            rf"(?!{_D})(?:,?\s(?P<en_y>{_D}{{4}})(?!{_D}))?",
            rf"(?<![0-9A-Za-z])(?P<dm_d>{_D}{{1,2}})(?:st|nd|rd|th)?\s(?:of\s)?(?P<dm_mon>{_MONTH})",
            rf"(?<![0-9/])(?P<sl_a>{_D}{{1,2}})/(?P<sl_b>{_D}{{1,2}})(?:/(?P<sl_y>{_D}{{2,4}}))?"
            rf"(?![0-9/])",
            rf"(?<!{_D})(?P<time>{_D}{{1,2}}[:：]{_D}{{2}}"
            rf"(?:\s?[-–~至到]\s?{_D}{{1,2}}[:：]{_D}{{2}})?)(?!{_D})",
            rf"满\s?(?P<pair_min>{_NUM}|{_CNNUM})\s?(?:元|块)?\s?[，,]?\s?减\s?"
            rf"(?P<pair_off>{_NUM}|{_CNNUM})(?:\s?(?:元|块钱?))?",
            rf"百分之(?P<pct_cn>{_NUM}|{_CNNUM})",
            rf"打\s?(?P<zhe_da>{_NUM}|{_CNNUM})\s?折",
            rf"(?P<zhe_cn>{_CNNUM})折",
            r"(?P<half>半价|对折|(?i:half[\s-]?(?:price|off))(?![A-Za-z]))",
            r"(?P<ship>包邮|免运费|免邮|(?i:free\s(?:shipping|delivery)|ships?\sfree)(?![A-Za-z]))",
            r"(?P<bogo>买[一二两三1-3]送[一二1-2]"
            r"|(?<![A-Za-z])(?i:buy\s(?:one|1|two|2),?\sget\s(?:one|1)(?:\sfree)?|bogo)"
            r"(?![A-Za-z]))",
            rf"(?P<discount>立减|打折)(?!\s?(?:{_D}|{_CN}))",
            rf"(?:(?<![A-Za-z])(?i:US|RMB|USD|CNY)\s?)?[$¥￥€£]\s?(?P<sign_amt>{_NUM})",
            rf"(?<![A-Za-z])(?i:USD|RMB|CNY)\s?(?P<code_amt>{_NUM})",
            rf"(?P<cn_amt>{_CNNUM})\s?(?:元|块)",
            r"(?<![A-Za-z])(?i:code|voucher)s?\s?[:：]?\s?"
            r"(?P<ctx_code>[A-Z][A-Z0-9-]{3,})(?![A-Za-z0-9])",
            r"(?<![A-Za-z])(?i:use|enter|apply)\s(?P<use_code>[A-Z]{4,}[A-Z0-9-]*)(?![A-Za-z0-9])",
            r"(?:券码|优惠码|兑换码|口令|折扣码)\s?[:：]?\s?(?P<zh_code>[A-Za-z0-9][A-Za-z0-9-]{3,})",
            r"(?<![A-Za-z0-9])(?P<caps_code>[A-Z]{2,}-[A-Z0-9]{4,}(?:-[A-Z0-9]+)*)(?![A-Za-z0-9])",
            rf"(?<![A-Za-z0-9])(?!{_D}+-?{_UNIT_SUFFIX}(?![A-Za-z0-9]))"
            r"(?=[A-Za-z0-9-]*[0-9])(?=[A-Za-z0-9-]*[A-Za-z])"
            r"(?P<mixed_code>[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*)(?![A-Za-z0-9])",
            rf"(?P<num>{_NUM})",
            r"(?P<digit>\d+)",
        ]
    )
)

# What follows a bare number decides what it is.
_UNIT = re.compile(
    r"(?P<pct>\s?(?:%|％|(?i:percent|per\s?cent)(?![A-Za-z])))"
    r"|(?P<zhe>\s?折)"
    r"|(?P<money>\s?(?:元|块钱?|美元|美金|(?i:dollars?|bucks|usd|rmb|cny)(?![A-Za-z])))"
    r"|(?P<h>(?:\s|-)?(?:(?i:h|hrs?|hours?)(?![A-Za-z])|个?小时))"
    r"|(?P<min>(?:\s|-)?(?:(?i:mins?|minutes?)(?![A-Za-z])|分钟))"
    r"|(?P<days>(?:\s|-)?(?:(?i:days?)(?![A-Za-z])|天))"
    r"|(?P<weeks>(?:\s|-)?(?:(?i:weeks?)(?![A-Za-z])|个?星期|周))"
    r"|(?P<ordinal>(?:st|nd|rd|th)(?![A-Za-z]))"
    r"|(?P<off>\s(?i:off)(?![A-Za-z]))"
)

# What precedes a bare integer and makes it money (or stock: 剩, only) rather than a count.
_MONEY_BEFORE = re.compile(
    r"(?:满|减|省|便宜|仅需|只要|到手价?|原价|售价|还差|差|再买|低至|仅|剩"
    r"|(?<![A-Za-z])(?i:save[sd]?|saving|spend|under|over|below|above|only|just|was|now|costs?"
    r"|priced\sat|add|budget\sof))\s?$"
)

_DIGITS = str.maketrans("０１２３４５６７８９．", "0123456789.")
_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}


def _cn_integer(text: str) -> int | None:
    if not any(ch in _CN_UNITS for ch in text):
        # digit by digit, as in 七五折 (75) or 二〇二六
        if not text:
            return None
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch == "万":
            total += (section + (digit or 0)) * 10000
            section, digit = 0, None
        else:
            section += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
    return total + section + (digit or 0)


def parse_number(text: str) -> Decimal | None:
    """``"1,299.00"`` -> 1299.00, ``"5,99"`` -> 5.99, ``"三十"`` -> 30, ``"八点五"`` -> 8.5."""
    text = text.translate(_DIGITS).replace(" ", "")
    if text and text[0] in _CN_DIGITS or text[:1] in _CN_UNITS:
        whole, _, frac = text.partition("点")
        number = _cn_integer(whole)
        if number is None:
            return None
        if frac:
            return Decimal(f"{number}.{''.join(str(_CN_DIGITS.get(ch, 0)) for ch in frac)}")
        return Decimal(number)
    if "," in text:
        head, _, tail = text.rpartition(",")
        text = text.replace(",", "") if len(tail.partition(".")[0]) == 3 else f"{head}.{tail}"
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _zhe_off(text: str) -> Decimal | None:
    """Percent off of a Chinese 折 figure: 8 -> 20, 8.5 and 85 -> 15, 95 -> 5."""
    pay = parse_number(text)
    if pay is None or pay <= 0:
        return None
    if pay <= 10:
        pay *= 10
    return Decimal(100) - pay if pay < 100 else None


def _int(text: str | None) -> int | None:
    value = parse_number(text) if text else None
    return int(value) if value is not None else None


def _date_claim(m: re.Match[str]) -> Claim | None:
    g = m.groupdict()
    dates: tuple[tuple[int | None, int | None, int | None], ...]
    if g["iso_y"] is not None:
        dates = ((_int(g["iso_y"]), _int(g["iso_m"]), _int(g["iso_d"])),)
    elif g["zh_y"] is not None:
        dates = ((_int(g["zh_y"]), None, None),)
    elif g["zh_m"] is not None:
        dates = ((None, _int(g["zh_m"]), _int(g["zh_d"])),)
    elif g["en_mon"] is not None:
        dates = ((_int(g["en_y"]), _MONTHS[g["en_mon"].lower()], _int(g["en_d"])),)
    elif g["dm_mon"] is not None:
        dates = ((None, _MONTHS[g["dm_mon"].lower()], _int(g["dm_d"])),)
    elif g["sl_a"] is not None:
        year = _int(g["sl_y"])
        if year is not None and year < 100:
            year += 2000
        a, b = _int(g["sl_a"]), _int(g["sl_b"])
        dates = ((year, a, b), (year, b, a))
    else:
        return None
    return Claim(m.start(), m.end(), ClaimKind.DATE, dates=dates)


def _number_claim(text: str, m: re.Match[str]) -> Claim:
    """A bare number, classified by the unit after it or the word before it."""
    start, end, raw = m.start(), m.end(), m.group()
    value = parse_number(raw)
    unit = _UNIT.match(text, end)
    if unit is not None:
        kind = unit.lastgroup
        stop = unit.end()
        if kind == "pct":
            return Claim(start, stop, ClaimKind.PERCENT, value)
        if kind == "zhe":
            return Claim(start, stop, ClaimKind.PERCENT, _zhe_off(raw))
        if kind in ("money", "off"):
            return Claim(start, stop, ClaimKind.AMOUNT, value)
        if kind in ("h", "min", "days", "weeks"):
            return Claim(start, stop, ClaimKind.DURATION, value, unit=str(kind))
        if kind == "ordinal":
            return Claim(start, stop, ClaimKind.NUMBER, value)
    if _MONEY_BEFORE.search(text, max(0, start - 12), start) is not None:
        return Claim(start, end, ClaimKind.AMOUNT, value)
    if value is not None and value != value.to_integral_value():
        return Claim(start, end, ClaimKind.AMOUNT, value)
    return Claim(start, end, ClaimKind.NUMBER, value)


def _claim(text: str, m: re.Match[str]) -> Claim | None:
    g = m.groupdict()
    start, end = m.start(), m.end()
    if g["brace"] is not None:
        return Claim(start, end, ClaimKind.BRACE)
    if g["festival"] is not None:
        return Claim(start, end, ClaimKind.FESTIVAL, token=m.group())
    if g["time"] is not None:
        return Claim(start, end, ClaimKind.TIME, token=re.sub(r"\s", "", m.group()))
    if g["pair_min"] is not None:
        return Claim(
            start,
            end,
            ClaimKind.PAIR,
            parse_number(g["pair_min"]),
            other=parse_number(g["pair_off"]),
        )
    if g["pct_cn"] is not None:
        return Claim(start, end, ClaimKind.PERCENT, parse_number(g["pct_cn"]))
    for name in ("zhe_da", "zhe_cn"):
        if g[name] is not None:
            return Claim(start, end, ClaimKind.PERCENT, _zhe_off(g[name]))
    if g["half"] is not None:
        return Claim(start, end, ClaimKind.PERCENT, Decimal(50))
    if g["ship"] is not None:
        return Claim(start, end, ClaimKind.FREE_SHIPPING)
    if g["bogo"] is not None:
        return Claim(start, end, ClaimKind.BOGO)
    if g["discount"] is not None:
        return Claim(start, end, ClaimKind.DISCOUNT)
    for name in ("sign_amt", "code_amt", "cn_amt"):
        if g[name] is not None:
            return Claim(start, end, ClaimKind.AMOUNT, parse_number(g[name]))
    for name in ("ctx_code", "use_code", "zh_code", "caps_code", "mixed_code"):
        if g[name] is not None:
            # The token is the claim; "code" before it only says that it is one, and is its
            # lead (a stream holds from there: what a claim is must not hang on shown text).
            return Claim(m.start(name), end, ClaimKind.CODE, token=g[name], lead=start)
    if g["num"] is not None:
        return _number_claim(text, m)
    if g["digit"] is not None:
        return Claim(start, end, ClaimKind.NUMBER)
    return _date_claim(m)


def find_claims(text: str, start: int = 0) -> list[Claim]:
    """Every claim in ``text`` from ``start`` on, left to right, none overlapping.

    ``start`` must not fall inside a claim (the stream guard passes the end of what it has
    already checked, which never does).
    """
    claims: list[Claim] = []
    pos = start
    while (m := _MASTER.search(text, pos)) is not None:
        claim = _claim(text, m)
        if claim is None:  # pragma: no cover - every alternative is handled above
            pos = m.end()
            continue
        claims.append(claim)
        pos = max(claim.end, m.start() + 1)
    return claims
