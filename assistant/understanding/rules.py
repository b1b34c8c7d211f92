"""The deterministic rules extractor: one shopper message -> :class:`Extraction`.

It runs before any LLM and is certain of what its rules find (:attr:`Extraction.sure`):
language, money and ranges, brands asked for and refused, dictionary categories, deal types,
recipient and occasion, and the message type (handoff, my coupons, why a coupon does not
apply, claim, compare, a shown item, small talk, out of scope, refine, find deals or products).
Everything works for English and Chinese, and for messages that mix both.

Conventions (docs/intent.md lists them all):

* Amounts are the shop currency; "about X" is ``0.8 X .. 1.2 X``; a lone "$50" is a ceiling.
* A message with only constraints ("under 30", "no Adidas", "cheaper") refines the last request.
* Price, deal-type, recipient and occasion slots are filled only for find and refine messages.
* A category the dictionaries do not know is mapped by the vocabulary's embedder, if any, and
  reported as not sure.

Example:
    >>> from assistant.understanding import demo_vocabulary, extract
    >>> result = extract("Nike running shoes under $80, no Adidas", demo_vocabulary())
    >>> i = result.intent
    >>> i.type.value, i.categories, i.brands_in, i.brands_out, i.max_price
    ('find_products', ['shoes/running'], ['Nike'], ['Adidas'], 8000)
    >>> extract("预算150左右，想买个耳机", demo_vocabulary()).intent.min_price
    12000
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from assistant.money import Currency
from assistant.understanding import _lexicon as lx
from assistant.understanding._matcher import Match
from assistant.understanding._money import find_budget
from assistant.understanding._text import arabic_numerals, clean_message, detect_language
from assistant.understanding._vocabulary import Vocabulary
from assistant.understanding.intent import Extraction, IntentType, Language, ShopperIntent, Sort

__all__ = ["FIND_TYPES", "extract"]

FIND_TYPES = frozenset({IntentType.FIND_PRODUCTS, IntentType.FIND_DEALS, IntentType.REFINE})
"""Types that carry search slots (prices, deal types)."""

_USD = Currency.of("USD")
_ZH_DIGIT = dict(zip("一二两三四五六七八九十", (1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10), strict=True))
_EN_COUNT = {"two": 2, "three": 3, "four": 4}
_MONEY_WORDS = re.compile(r"budget|price|cost|spend|afford|\$|dollar|buck|预算|价|钱|块|元")
_GIFT_CUE = re.compile(r"\bgifts?\b|\bpresents?\b|\bfor\b|给|送|礼物|礼")
_CAPITAL = re.compile(r"(?<=\s)[A-Z][A-Za-z]+")
_PUNCT = re.compile(r"[^\w\s'&+-]|_")
_SPACES = re.compile(r"\s+")
_CONNECTORS = re.compile(r"(?:^|\s)(?:or|and|any|more)(?=\s|$)|或者|或|和")


def _blank(text: str, spans: Iterable[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _first_unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


class _Brands:
    """Brand hits split into asked-for and refused, ambiguous aliases confirmed or dropped."""

    def __init__(self, vocabulary: Vocabulary, text: str, lower: str) -> None:
        hits = vocabulary.find_brands(lower)
        same_length = len(text) == len(lower)
        sure = [not self._ambiguous(vocabulary, h) for h in hits]
        for i, hit in enumerate(hits):
            if not sure[i]:
                sure[i] = (
                    # Written as the brand is, and not merely capitalized to start a sentence.
                    (same_length and hit.start > 0 and text[hit.start : hit.end] == hit.key)
                    or bool(lx.BRAND_CONFIRM_AFTER.match(lower[hit.end :]))
                    or bool(lx.BRAND_CONFIRM_BEFORE.search(lower[: hit.start]))
                )
        for _ in range(2):  # an ambiguous alias beside a sure brand is a brand too
            for i, hit in enumerate(hits):
                if sure[i]:
                    continue
                before = i > 0 and sure[i - 1] and self._joined(lower, hits[i - 1], hit)
                after = i + 1 < len(hits) and sure[i + 1] and self._joined(lower, hit, hits[i + 1])
                sure[i] = bool(before or after)
        self.hits = [h for h, ok in zip(hits, sure, strict=True) if ok]
        negated: list[bool] = []
        for i, hit in enumerate(self.hits):
            neg = bool(lx.NEGATION_BEFORE.search(lower[: hit.start])) or bool(
                lx.NEGATION_AFTER.match(lower[hit.end :])
            )
            if not neg and i > 0 and negated[i - 1]:
                neg = self._joined(lower, self.hits[i - 1], hit)
            negated.append(neg)
        # "不要耐克和阿迪的": a negation after the last brand of a list covers the whole list.
        for i in range(len(self.hits) - 1, 0, -1):
            if negated[i] and self._joined(lower, self.hits[i - 1], self.hits[i]):
                negated[i - 1] = negated[i - 1] or bool(
                    lx.NEGATION_AFTER.match(lower[self.hits[i].end :])
                )
        self.brands_in = _first_unique(
            h.key for h, n in zip(self.hits, negated, strict=True) if not n
        )
        self.brands_out = _first_unique(h.key for h, n in zip(self.hits, negated, strict=True) if n)
        self.brands_in = [b for b in self.brands_in if b not in self.brands_out]

    @staticmethod
    def _ambiguous(vocabulary: Vocabulary, hit: Match) -> bool:
        return hit.alias in vocabulary.ambiguous

    @staticmethod
    def _joined(lower: str, left: Match, right: Match) -> bool:
        return bool(lx.BRAND_CONNECTOR.match(lower[left.end : right.start]))


_GENERIC_WORDS = frozenset(
    [
        "something",
        "anything",
        "nice",
        "good",
        "cool",
        "great",
        "present",
        "gift",
        "gifts",
        "idea",
        "ideas",
        "thing",
        "things",
        "stuff",
        "some",
        "one",
        "东西",
        "礼物",
        "好东西",
        "什么",
        "like",
        "i'd",
        "want",
        "need",
        "buy",
        "get",
        "for",
        "买",
        "送",
        "小礼物",
        "礼品",
    ]
)


def _without_people(query: str) -> str:
    """The query without recipient, occasion and generic gift words."""
    text = query
    for pattern, _ in (*lx.RECIPIENTS, *lx.OCCASIONS):
        text = pattern.sub(" ", text)
    words = [w.strip(",.!?;:，。！？") for w in text.split()]
    return " ".join(
        w
        for w in words
        if w
        and w.casefold() not in _GENERIC_WORDS
        and not w.startswith("'")  # what is left of "I'd", "I'm"
        and not (len(w) == 1 and not w.isascii())  # a lone 给 / 买 / 的
    )


def _categories(vocabulary: Vocabulary, text: str) -> list[str]:
    """Dictionary categories in ``text``; of two adjacent ones the second (the head) wins."""
    hits = vocabulary.find_categories(vocabulary.correct(text))
    kept: list[Match] = []
    for hit in hits:
        if kept and not text[kept[-1].end : hit.start].strip():
            kept.pop()  # "tea gift box": "tea" only modifies "gift box"
        kept.append(hit)
    return _first_unique(h.key for h in kept)


def _item_refs(text: str) -> list[int]:
    refs: list[int] = []
    for m in lx.ASK_ITEM.finditer(text):
        groups = {k: v for k, v in m.groupdict().items() if v}
        if "firstn" in groups:
            n = _EN_COUNT.get(groups["firstn"]) or int(groups["firstn"])
            refs.extend(range(1, n + 1))
        elif "first" in groups:
            value = groups["first"]
            n = int(value) if value.isdigit() else _ZH_DIGIT[value]
            refs.extend(range(1, n + 1))
        elif "ord" in groups or "ord2" in groups:
            refs.append(lx.ORDINALS[groups.get("ord") or groups["ord2"]])
        elif "zh" in groups:
            value = groups["zh"]
            refs.append(int(value) if value.isdigit() else _ZH_DIGIT[value])
        else:
            for key in ("num", "bare", "and"):
                if key in groups:
                    refs.append(int(groups[key]))
    return _first_unique_int(r for r in refs if r > 0)


def _first_unique_int(items: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(items))


def _recipient(text: str) -> str | None:
    found = [(m.start(), name) for pattern, name in lx.RECIPIENTS if (m := pattern.search(text))]
    return min(found)[1] if found else None


def _occasion(text: str) -> str | None:
    found = [
        (-(m.end() - m.start()), m.start(), name)
        for pattern, name in lx.OCCASIONS
        if (m := pattern.search(text))
    ]
    return min(found)[2] if found else None


def _sort(text: str, cheaper: bool) -> Sort:
    if lx.SORT_DISCOUNT.search(text):
        return "discount"
    if lx.SORT_ENDING.search(text):
        return "ending_soon"
    if lx.EXPENSIVE.search(text):
        return "price_desc"
    if not cheaper and lx.CHEAP.search(text):
        return "price_asc"
    return "relevance"


def _query(rest: str, brands_in: list[str], refused: set[str]) -> str:
    """The words to search with: no money, brands refused, filler or refused things."""
    text = _PUNCT.sub(" ", rest)
    text = lx.FILLER_EN.sub(" ", text)
    text = lx.FILLER_ZH.sub(" ", text)
    words = [
        w for w in _SPACES.split(text) if w and w not in ("-", "'", "&", "+") and w not in refused
    ]
    return " ".join([*brands_in, *words]).strip()


def extract(
    message: str, vocabulary: Vocabulary, *, currency: Currency | None = None
) -> Extraction:
    """Understand one message by rules alone (deterministic, no I/O but an optional embedder).

    Args:
        message: What the shopper wrote (control characters are dropped).
        vocabulary: The shop's categories and brands (:func:`demo_vocabulary` for the demo).
        currency: The shop currency that amounts are in; default USD (the demo's).

    Returns:
        The intent and the slots the rules are sure of.

    Raises:
        ValidationError: ``message`` is empty or blank, or longer than 2,000 characters.
    """
    currency = currency or _USD
    text = clean_message(message)
    language: Language = "zh" if detect_language(text) == "zh" else "en"
    lower = text.lower()

    brands = _Brands(vocabulary, text, lower)
    converted = arabic_numerals(_blank(lower, ((h.start, h.end) for h in brands.hits)))
    budget = find_budget(converted, currency)
    rest = budget.rest

    not_interested: list[str] = []
    refused_words: set[str] = set()
    for m in lx.NOT_INTERESTED.finditer(arabic_numerals(lower)):
        phrase = next(g for g in m.groups() if g)
        named = _categories(vocabulary, phrase) + [h.key for h in vocabulary.find_brands(phrase)]
        not_interested.extend(named or [_CONNECTORS.sub("", phrase).strip()])
        refused_words.update(phrase.split())
    categories = [c for c in _categories(vocabulary, rest) if c not in not_interested]
    brands_in = [b for b in brands.brands_in if b not in not_interested]
    brands_out = brands.brands_out

    activity_types = _first_unique(
        t for pattern, types in lx.DEAL_TYPES if pattern.search(converted) for t in types
    )
    wants_deals = bool(activity_types) or bool(lx.GENERIC_DEAL.search(converted))
    recipient = _recipient(converted)
    occasion = _occasion(converted)
    if recipient is None and occasion in ("mothers_day", "fathers_day"):
        recipient = "mother" if occasion == "mothers_day" else "father"
    cheaper = bool(lx.CHEAPER.search(converted))
    sort = _sort(converted, cheaper)
    item_refs = _item_refs(converted)
    personalization = (
        False
        if lx.PERSONALIZE_OFF.search(converted)
        else True
        if lx.PERSONALIZE_ON.search(converted)
        else None
    )
    named_product = bool(categories or brands_in or brands_out)
    substance = (
        named_product
        or budget.found
        or wants_deals
        or recipient is not None
        or occasion is not None
        or cheaper
        or sort != "relevance"
        or bool(not_interested)
        or personalization is not None
    )

    sure_type = True
    if lx.INJECTION.search(converted):
        kind = IntentType.OUT_OF_SCOPE
    elif lx.HANDOFF.search(converted):
        kind = IntentType.HANDOFF
    elif lx.WHY_INELIGIBLE.search(converted):
        kind = IntentType.WHY_INELIGIBLE
    elif lx.MY_COUPONS.search(converted):
        kind = IntentType.MY_COUPONS
    elif lx.CLAIM.search(converted):
        kind = IntentType.CLAIM_COUPON
    elif lx.COMPARE.search(converted) and (len(item_refs) > 1 or not categories):
        kind = IntentType.COMPARE
    elif item_refs and not categories:
        kind = IntentType.ASK_ITEM
    elif lx.OFF_TOPIC.search(converted) and not named_product:
        kind = IntentType.OUT_OF_SCOPE
    elif lx.SMALL_TALK.search(converted) and not substance:
        kind = IntentType.SMALL_TALK
    elif wants_deals:
        kind = IntentType.FIND_DEALS
    elif (
        not_interested
        or personalization is not None
        or (
            not categories
            and recipient is None
            and occasion is None
            and (cheaper or budget.found or brands_in or brands_out or sort != "relevance")
        )
    ):
        kind = IntentType.REFINE
    else:
        kind = IntentType.FIND_PRODUCTS
        sure_type = bool(categories or recipient or occasion)

    search = kind in FIND_TYPES
    min_price, max_price = (budget.min_price, budget.max_price) if search else (None, None)
    if not search:
        activity_types, wants_deals, cheaper = [], False, False
        recipient = occasion = None
    new_topic = bool(lx.NEW_TOPIC.search(converted)) or (
        kind in (IntentType.FIND_PRODUCTS, IntentType.FIND_DEALS) and bool(categories)
    )
    query = _query(rest, brands_in, refused_words)

    sure = {"language", "activity_types", "wants_deals", "sort"}
    if sure_type:
        sure.add("type")
    if budget.found or not search or not (re.search(r"\d", rest) or _MONEY_WORDS.search(converted)):
        sure |= {"min_price", "max_price"}
    if categories or not search:
        sure.add("categories")
    elif vocabulary.embedder is not None and kind != IntentType.REFINE:
        # Who it is for and the occasion are not product words: "something for my mom" must
        # not land in baby care because "mom" sits near "baby" in embedding space.
        content = _without_people(query)
        guess = vocabulary.nearest_category(content) if content else None
        if guess is not None:
            categories = [guess[0]]
    capitalized = bool(_CAPITAL.search(text)) or language == "zh"
    if brands.hits or not search or not capitalized:
        sure |= {"brands_in", "brands_out"}
    if recipient or occasion or not search or not _GIFT_CUE.search(converted):
        sure |= {"recipient", "occasion"}

    intent = ShopperIntent(
        type=kind,
        categories=categories,
        brands_in=brands_in,
        brands_out=brands_out,
        min_price=min_price,
        max_price=max_price,
        recipient=recipient,
        occasion=occasion,
        activity_types=activity_types,
        wants_deals=wants_deals,
        sort=sort,
        cheaper=cheaper,
        language=language,
        query=query,
        item_refs=item_refs,
        not_interested=_first_unique(not_interested),
        personalization=personalization,
        new_topic=new_topic,
    )
    return Extraction(intent=intent, sure=frozenset(sure))
