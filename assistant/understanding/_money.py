"""Budget phrases in English and Chinese: amounts, bounds, ranges and "about X".

Every amount is in the shop currency (DESIGN.md: "$", "元", "块", "bucks" and bare numbers all
mean it; nothing is converted). Bare numbers count only inside a budget phrase ("under 40",
"40-90", "预算500", "300以内"); "iPhone 15" or "he's 5" are not prices. "About X" ("around $100",
"预算150左右", "大概300") becomes the range 0.8 X .. 1.2 X. A lone amount with a currency mark
and no direction ("$50 headphones") is a ceiling. Deal terms ("满99减20", "$10 off", "20%") are
not budgets and are blanked before the budget patterns run.

The input is lower-case text whose Chinese numerals are already Arabic
(:func:`assistant.understanding._text.arabic_numerals`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from assistant.errors import ValidationError
from assistant.money import Currency

__all__ = ["AROUND_HIGH", "AROUND_LOW", "Budget", "find_budget"]

AROUND_LOW = Decimal("0.8")
""""About X" means at least this share of X."""
AROUND_HIGH = Decimal("1.2")
""""About X" means at most this multiple of X."""

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_PRE = r"(?:us\$|\$|¥|usd ?|rmb ?)"
_POST = (
    r"(?: ?(?:usd|dollars?|bucks?|元钱?|块钱?|块|刀|美元|美金|rmb)\b|\$|¥|元|块钱?|刀|美元|美金)"
)
# Units that make a number something other than money.
_NOT_MONEY = (
    r"(?! ?(?:%|percent|岁|years?\b|yrs?\b|yo\b|y/o|months?\b|个月|gb\b|tb\b|mb\b|mah\b|mm\b|cm\b"
    r"|inch|in\b|寸|英寸|码|号|pcs\b|pack\b|件|双|个|只|瓶|袋|盒|kg\b|g\b|ml\b|l\b|oz\b|pairs?\b"
    r"|折|人|天|days?\b|hours?\b|小时|分钟|st\b|nd\b|rd\b|th\b|x\b|k\b))"
)


def _amount(tag: str) -> str:
    return (
        rf"(?P<{tag}pre>{_PRE} ?)?(?<![a-z0-9.])(?<!\d,)(?P<{tag}>{_NUM})(?![\d])"
        rf"(?P<{tag}post>{_POST})?{_NOT_MONEY}"
    )


_A = _amount("a")
_B = _amount("b")

_DEAL_TERMS = re.compile(
    r"满 ?\d+(?:\.\d+)? ?(?:元|块)? ?(?:减|立减|打) ?\d+(?:\.\d+)? ?(?:元|块|折)?"
    r"|每满 ?\d+ ?减 ?\d+"
    r"|spend (?:over )?\$? ?\d+(?:\.\d+)?,? (?:and |to )?(?:save|get) \$? ?\d+(?:\.\d+)?"
    r"|(?:\$ ?)?\d+(?:\.\d+)? ?(?:dollars? |bucks )?off(?: (?:orders? |purchases? )?"
    r"(?:over|above|of) \$? ?\d+(?:\.\d+)?)?"
    r"|\d+(?:\.\d+)? ?(?:%|percent)(?: off)?"
    r"|打? ?\d+(?:\.\d+)? ?折"
    r"|buy \d+ get \d+"
    r"|第 ?\d+ ?(?:个|件|款|双|条|种)?"
    r"|(?:#|no\. ?|number |item |option |top )\d+"
    r"|\d+(?:st|nd|rd|th)\b"
)

_RANGE = re.compile(
    rf"(?P<lead>between |from |介于|在)?{_A} ?(?P<sep>-|–|—|~|to|and|到|至) ?{_B}"
    r"(?: ?(?:之间|之内|以内|范围内?))?"
)
_AROUND_PRE = re.compile(
    rf"(?<!more )(?<!tell me )(?<!what )(?<!how )"
    rf"(?:(?:预算|budget)(?: is| of|在|是|:)? ?)?"
    rf"(?:around|about|approximately|approx\.?|roughly|circa|~|大概|大约|约|差不多|左右) ?{_A}"
    r"(?: ?(?:左右|上下))?"
)
_AROUND_POST = re.compile(
    rf"(?:(?:预算|budget)(?: is| of|在|是|:)? ?)?{_A} ?(?:左右|上下|-?ish\b|or so\b)"
)
_UPPER_PRE = re.compile(
    r"(?:(?:under|below|less than|lower than|cheaper than|at most|at the most|max(?:imum)?"
    r"|no more than|not more than|no higher than|not higher than|not over|nothing over"
    r"|nothing above|not above|not exceeding|up to|within|tops|<=?|≤|spend at most"
    r"|(?:my |the |a |our )?budget(?:'s| is| of)?:?|can spend|price"
    r"|不超过|不要超过|别超过|不能超过|不高于|低于|少于|最多|最高|顶多|控制在"
    r"|预算(?:在|是|为|有|只有|就)?|价格(?:在|是)?|价位(?:在|是)?) ?)+"
    rf"{_A}(?! ?(?:以上|起|\+|or more|and up|and above|or above))(?: ?(?:以内|以下|之内|内))?"
)
_UPPER_POST = re.compile(
    rf"{_A} ?(?:以内|以下|之内|内(?!容)|或以下|及以下|封顶|or less|or under|or below|and under"
    r"|and below|max(?:imum)?\b|tops\b|at most|at the most|or cheaper|and lower|or lower)"
)
_LOWER_PRE = re.compile(
    r"(?:over|above|more than|greater than|at least|min(?:imum)?|starting (?:at|from)|from"
    r"|>=?|≥|超过|高于|多于|不低于|至少|最少|起码) ?"
    rf"{_A}"
)
_LOWER_POST = re.compile(rf"{_A} ?(?:\+|以上|及以上|起|or more|and up|and above|or above|plus\b)")
_LONE = re.compile(_A)
_AGE = re.compile(r"(?:ages?|aged|age of|old) ?$")


@dataclass(slots=True)
class Budget:
    """The budget a message states, in minor units of the shop currency.

    Attributes:
        min_price: Lowest final price, or ``None``.
        max_price: Highest final price, or ``None``.
        around: The amount was approximate ("about 150").
        spans: ``(start, end)`` of every money phrase found in the text.
        rest: The text with every money phrase and deal term blanked (same length).
    """

    min_price: int | None = None
    max_price: int | None = None
    around: bool = False
    spans: list[tuple[int, int]] = field(default_factory=list)
    rest: str = ""

    @property
    def found(self) -> bool:
        """Whether any money phrase was found."""
        return bool(self.spans)


def _minor(number: str, currency: Currency) -> int | None:
    try:
        value = Decimal(number.replace(",", ""))
        value = value.quantize(Decimal(1).scaleb(-currency.exponent), rounding=ROUND_HALF_UP)
        return currency.parse(str(value))
    except (ArithmeticError, ValidationError):
        return None  # "under 99999999999999999999999999999 dollars" bounds nothing


def _scale(minor: int, factor: Decimal) -> int:
    return int((Decimal(minor) * factor).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _marked(match: re.Match[str], tag: str) -> bool:
    return bool(match.group(f"{tag}pre") or match.group(f"{tag}post"))


def find_budget(text: str, currency: Currency) -> Budget:
    """The budget in ``text`` (lower case, Arabic numerals); see the module docstring.

    Later phrases win over earlier ones for the same bound ("under 100, no, under 80" -> 80).
    """
    chars = list(_DEAL_TERMS.sub(lambda m: " " * len(m.group(0)), text))
    budget = Budget()

    def blank(match: re.Match[str]) -> None:
        start, end = match.span()
        chars[start:end] = " " * (end - start)
        budget.spans.append((start, end))

    def amount(match: re.Match[str], tag: str) -> int | None:
        return _minor(match.group(tag), currency)

    def run(pattern: re.Pattern[str], handle: object) -> None:
        for match in list(pattern.finditer("".join(chars))):
            if callable(handle) and handle(match):
                blank(match)

    found: list[tuple[int, str, int]] = []  # (position, "min" | "max", minor)

    def on_range(match: re.Match[str]) -> bool:
        low, high = amount(match, "a"), amount(match, "b")
        if low is None or high is None or high <= low:
            return False
        lead = match.group("lead")
        marked = _marked(match, "a") or _marked(match, "b")
        if match.group("sep") == "and" and lead != "between ":
            return False
        if not (lead or marked) and _AGE.search("".join(chars[: match.start()])):
            return False
        found.append((match.start(), "min", low))
        found.append((match.start(), "max", high))
        return True

    def on_around(match: re.Match[str]) -> bool:
        value = amount(match, "a")
        if value is None:
            return False
        found.append((match.start(), "min", _scale(value, AROUND_LOW)))
        found.append((match.start(), "max", _scale(value, AROUND_HIGH)))
        budget.around = True
        return True

    def bound(kind: str) -> object:
        def on(match: re.Match[str]) -> bool:
            value = amount(match, "a")
            if value is None:
                return False
            found.append((match.start(), kind, value))
            return True

        return on

    def on_lone(match: re.Match[str]) -> bool:
        return _marked(match, "a") and bool(bound("max")(match))  # type: ignore[operator]

    run(_RANGE, on_range)
    run(_AROUND_PRE, on_around)
    run(_AROUND_POST, on_around)
    run(_UPPER_PRE, bound("max"))
    run(_UPPER_POST, bound("max"))
    run(_LOWER_PRE, bound("min"))
    run(_LOWER_POST, bound("min"))
    run(_LONE, on_lone)
    for _, kind, value in sorted(found, key=lambda item: item[0]):
        if kind == "min":
            budget.min_price = value
        else:
            budget.max_price = value
    budget.rest = "".join(chars)
    budget.spans.sort()
    return budget
