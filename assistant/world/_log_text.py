"""Short templated shopper messages for the logged turns, in English or Chinese.

Every message names the session's intended category (the label an intent model learns); some
first messages state a budget, as a bare number in the shop currency (DESIGN.md: bare numbers
and 元 mean the shop currency).
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["category_names", "shopper_message"]

_FIRST_EN = (
    "I'm looking for {name}.",
    "Any deals on {name}?",
    "Show me {name} under {budget}.",
    "Can you recommend some {name}?",
    "I need new {name}, what's on sale?",
    "Looking for {name} under {budget}, any coupons?",
)
_LATER_EN = (
    "Show me more {name}.",
    "Any cheaper {name}?",
    "Any other {name} with a coupon?",
    "What other {name} do you have?",
    "Something else in {name}, please.",
)
_FIRST_ZH = (
    "我想买{name}。",
    "{name}有什么优惠吗？",
    "推荐一些{budget}元以内的{name}。",
    "有没有好一点的{name}推荐？",
    "{name}现在有折扣吗？",
    "想要{budget}块以内的{name}，有券吗？",
)
_LATER_ZH = (
    "还有别的{name}吗？",
    "有没有更便宜的{name}？",
    "{name}还有哪些可以用券的？",
    "再看看其他{name}。",
    "换一批{name}看看。",
)


def _lower_first(text: str) -> str:
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def category_names(
    paths: tuple[str, ...], known: Mapping[str, tuple[str, str]]
) -> list[tuple[str, str]]:
    """(English mid-sentence, Chinese) name of each leaf path.

    Names come from ``known`` (the demo catalog's ``CATEGORY_NAMES``); a path it does not know
    (an imported catalog) is named by its last segment, in both languages.
    """
    out = []
    for path in paths:
        if path in known:
            en, zh = known[path]
        else:
            en = zh = path.rsplit("/", 1)[-1].replace("-", " ").replace("_", " ")
        out.append((_lower_first(en), zh))
    return out


def _nice(budget: float) -> int:
    """A round number near ``budget``, as a shopper says it (5s below 100, 10s above)."""
    step = 5 if budget < 100 else 10 if budget < 1000 else 100
    return max(int(round(budget / step)) * step, step)


def shopper_message(
    name: tuple[str, str], zh: bool, first: bool, pick: float, budget: float
) -> str:
    """One message: ``pick`` in [0, 1) chooses the template, ``budget`` is in shop units."""
    templates = (_FIRST_ZH if first else _LATER_ZH) if zh else (_FIRST_EN if first else _LATER_EN)
    text = templates[min(int(pick * len(templates)), len(templates) - 1)]
    return text.format(name=name[1] if zh else name[0], budget=_nice(budget))
