"""The demo catalog: seeded, bilingual products in the importer's row format.

Every product is drawn from the vocabulary of its leaf category (``_vocab_*.py``): a real-sounding
brand and product line, one option per axis (gender, feature, size, pack, color...), a log-normal
price around the leaf's median scaled by the brand's tier and the options' factors, and English
and Chinese titles and descriptions filled from the leaf's templates. The same seed always gives
the same rows; the leaves each get a share of ``products`` (at least one each when there are
enough products to go round).

Example:
    >>> rows = list(generate_catalog(products=40, seed=7))
    >>> len(rows), rows[0]["id"], rows[0]["category"]
    (40, 'dp-000001', 'shoes/running')
    >>> import re; bool(re.search("[\\u4e00-\\u9fff]", rows[0]["title_zh"]))
    True
"""

from __future__ import annotations

import logging
import math
import random
import re
from collections.abc import Iterator, Sequence
from typing import Any

from assistant.errors import ValidationError
from assistant.money import Currency
from assistant.world import (
    _vocab_apparel,
    _vocab_baby,
    _vocab_beauty,
    _vocab_computers,
    _vocab_food,
    _vocab_gifts,
    _vocab_home,
    _vocab_outdoor,
    _vocab_shoes,
    _vocab_tech,
)
from assistant.world._vocab import Leaf, Option

__all__ = [
    "CATEGORY_NAMES",
    "DEPARTMENT_NAMES",
    "LEAF_CATEGORIES",
    "LEAVES",
    "MAX_PRODUCTS",
    "PRODUCT_PREFIX",
    "allocate",
    "check_options",
    "generate_catalog",
    "leaf_of",
    "product_id",
]

logger = logging.getLogger(__name__)

LEAVES: tuple[Leaf, ...] = (
    *_vocab_shoes.LEAVES[:4],
    *_vocab_apparel.LEAVES,
    _vocab_shoes.LEAVES[4],
    *_vocab_beauty.LEAVES,
    *_vocab_tech.LEAVES,
    *_vocab_computers.LEAVES,
    *_vocab_home.LEAVES,
    *_vocab_food.LEAVES,
    *_vocab_baby.LEAVES,
    _vocab_gifts.LEAVES[0],
    *_vocab_outdoor.LEAVES,
    _vocab_gifts.LEAVES[1],
)
"""Every leaf category of the demo catalog, grouped by department."""

LEAF_CATEGORIES: tuple[str, ...] = tuple(leaf.path for leaf in LEAVES)
"""The leaf category paths, in catalog order."""

DEPARTMENT_NAMES: dict[str, tuple[str, str]] = {
    "shoes": ("Shoes", "鞋靴"),
    "apparel": ("Apparel", "服装"),
    "apparel/jackets": ("Jackets", "外套"),
    "beauty": ("Beauty", "美妆个护"),
    "electronics": ("Electronics", "数码电子"),
    "home": ("Home & kitchen", "家居厨具"),
    "grocery": ("Grocery", "食品饮料"),
    "baby": ("Baby", "母婴"),
    "toys": ("Toys", "玩具"),
    "sports": ("Sports & fitness", "运动健身"),
    "outdoor": ("Outdoor", "户外"),
    "gifts": ("Gifts", "礼品"),
}
"""Bilingual names of the inner nodes of the category tree (departments and groups)."""

CATEGORY_NAMES: dict[str, tuple[str, str]] = {
    **DEPARTMENT_NAMES,
    **{leaf.path: leaf.names for leaf in LEAVES},
}
"""English and Chinese name of every category path (departments, groups and leaves)."""

PRODUCT_PREFIX = "dp-"
"""Every generated product id starts with this, so a rebuild can tell its own items apart."""

MAX_PRODUCTS = 1_000_000
"""The largest catalog :func:`generate_catalog` makes."""

_BY_PATH = {leaf.path: leaf for leaf in LEAVES}
_REDRAWS = 4
_MAX_REPEATS = 50
_EMPTY_LINE = Option("", "")
_PROPER = frozenset({"Egyptian", "German", "Merino", "Chinese", "Supima", "Damascus", "MagSafe"})
_SPACES = re.compile(r" {2,}")
_ARTICLE = re.compile(r"\b([Aa]) (?=[aeiou])(?!(?:one|uni|use|usu|eu))", re.IGNORECASE)


def leaf_of(path: str) -> Leaf:
    """The vocabulary of a leaf category.

    Raises:
        ValidationError: ``path`` is not a leaf of the demo catalog.
    """
    try:
        return _BY_PATH[path.strip("/")]
    except KeyError:
        raise ValidationError(
            f"unknown demo category {path!r}; use one of {', '.join(LEAF_CATEGORIES)}"
        ) from None


def product_id(number: int) -> str:
    """The id of the ``number``-th generated product (1-based)."""
    return f"{PRODUCT_PREFIX}{number:06d}"


def allocate(products: int, leaves: Sequence[Leaf]) -> list[int]:
    """How many products each leaf gets: proportional to its share, largest remainder first.

    Every leaf gets at least one product when ``products >= len(leaves)``.
    """
    if not leaves:
        return []
    floor = 1 if products >= len(leaves) else 0
    rest = products - floor * len(leaves)
    total = sum(leaf.share for leaf in leaves)
    exact = [rest * leaf.share / total for leaf in leaves]
    counts = [floor + int(x) for x in exact]
    order = sorted(range(len(leaves)), key=lambda i: (-(exact[i] - int(exact[i])), i))
    for i in order[: products - sum(counts)]:
        counts[i] += 1
    return counts


def check_options(products: int, categories: Sequence[str] | None) -> tuple[Leaf, ...]:
    """The leaves to fill, after checking the options of :func:`generate_catalog`.

    Raises:
        ValidationError: ``products`` is not a whole number in range, or a category is unknown.
    """
    if isinstance(products, bool) or not isinstance(products, int):
        raise ValidationError(f"products must be a whole number, got {products!r}")
    if not 1 <= products <= MAX_PRODUCTS:
        raise ValidationError(f"products must be between 1 and {MAX_PRODUCTS:,}, got {products}")
    if categories is None:
        return LEAVES
    if isinstance(categories, str) or not categories:
        raise ValidationError("categories must be a non-empty list of leaf paths, or None for all")
    wanted = {leaf_of(path).path for path in categories}
    return tuple(leaf for leaf in LEAVES if leaf.path in wanted)


def generate_catalog(
    *,
    products: int = 5000,
    seed: int = 7,
    categories: Sequence[str] | None = None,
    currency: Currency | str = "USD",
) -> Iterator[dict[str, Any]]:
    """Generate demo products as catalog rows (the JSONL format of :mod:`assistant.catalog`).

    Arguments are checked when this is called; rows are then generated lazily, so 100,000 of
    them stream to a file in flat memory.

    Args:
        products: How many products, 1 to :data:`MAX_PRODUCTS`.
        seed: The random seed; the same seed and arguments give the same rows.
        categories: Leaf categories to fill (default: every one of :data:`LEAF_CATEGORIES`).
        currency: The shop currency; prices are written with its number of decimals.

    Returns:
        An iterator of rows with ``id``, bilingual ``title``/``description``, ``category``,
        ``brand``, ``price`` (decimal text), ``currency``, ``stock``, ``url``, ``image_url`` and
        ``attributes``.

    Raises:
        ValidationError: ``products`` out of range, or an unknown category.
    """
    leaves = check_options(products, categories)
    money = currency if isinstance(currency, Currency) else Currency.of(currency)
    return _rows(leaves, allocate(products, leaves), seed, money)


def _rows(
    leaves: Sequence[Leaf], counts: Sequence[int], seed: int, currency: Currency
) -> Iterator[dict[str, Any]]:
    number = 0
    for leaf, count in zip(leaves, counts, strict=True):
        rng = random.Random(f"shopassist-demo-catalog:{seed}:{leaf.path}")
        titles: set[str] = set()
        repeats = 0
        for _ in range(count):
            number += 1
            # Redraw a repeated title a few times, until the leaf's titles are clearly used up.
            for _attempt in range(_REDRAWS if repeats < _MAX_REPEATS else 1):
                row = _product(leaf, product_id(number), rng, currency)
                if row["title"] not in titles:
                    break
            else:
                repeats += 1
            titles.add(row["title"])
            yield row
    logger.debug("generated %d demo products over %d leaves", number, len(leaves))


def _lower(text: str) -> str:
    """English option text for mid-sentence use: ``"Max-Cushion"`` -> ``"max-cushion"``."""

    def word(part: str) -> str:
        if part in _PROPER or not part[:1].isupper() or not part[1:].islower():
            return part
        return part.lower()

    return " ".join("-".join(word(p) for p in w.split("-")) for w in text.split(" "))


def _fill(template: str, values: dict[str, str], *, english: bool) -> str:
    text = _SPACES.sub(" ", template.format(**values)).strip()
    if english:
        text = text.replace(" ,", ",").replace(" .", ".")
        text = _ARTICLE.sub(r"\1n ", text).replace("The The ", "The ")
    return text.replace(" ，", "，").replace(" （", "（")


def _price_minor(leaf: Leaf, factor: float, rng: random.Random, currency: Currency) -> int:
    spec = leaf.price
    center = math.log(spec.median * factor)
    value = math.exp(rng.gauss(center, spec.sigma))
    for _ in range(5):
        if spec.low <= value <= spec.high:
            break
        value = math.exp(rng.gauss(center, spec.sigma))
    value = min(max(value, spec.low), spec.high)
    cents = _charm(value)
    shift = currency.exponent - 2
    scaled = cents * int(10**shift) if shift >= 0 else round(cents / int(10**-shift))
    return max(scaled, 1)


def _charm(value: float) -> int:
    """A shelf price in cents: 3.4 -> 3.49, 47.3 -> 47.99, 131 -> 129.99, 1312 -> 1299.99."""
    if value < 10:
        return max(int(value * 10) * 10 + 9, 99)
    if value < 100:
        return int(value) * 100 + 99
    step = 5 if value < 1000 else 50
    return max(round(value / step) * step, step) * 100 - 1


def _product(leaf: Leaf, pid: str, rng: random.Random, currency: Currency) -> dict[str, Any]:
    brand = rng.choice(leaf.brands)
    line = rng.choice(brand.lines) if brand.lines else _EMPTY_LINE
    chosen = [(axis.key, rng.choice(axis.options)) for axis in leaf.axes]
    factor = brand.tier * line.factor * math.prod(option.factor for _, option in chosen)
    en = {"brand": brand.en, "line": line.en, "noun": leaf.noun[0]}
    zh = {"brand": brand.zh, "line": line.zh, "noun": leaf.noun[1]}
    for key, option in chosen:
        en[key], en[f"{key}_lc"] = option.en, _lower(option.en)
        zh[key] = zh[f"{key}_lc"] = option.zh
    blurbs = rng.sample(leaf.blurbs, k=min(2, len(leaf.blurbs)))
    closer = [rng.choice(leaf.closers)] if leaf.closers and rng.random() < 0.6 else []
    sentences = [leaf.intro, *blurbs, *closer]
    description = " ".join(_fill(en_text, en, english=True) for en_text, _ in sentences)
    description_zh = "".join(_fill(zh_text, zh, english=False) for _, zh_text in sentences)
    attributes: dict[str, Any] = {key: option.attribute for key, option in chosen}
    if line.en:
        attributes["line"] = line.en
    stock = 0 if rng.random() < 0.03 else int(rng.lognormvariate(math.log(60), 0.8)) + 1
    return {
        "id": pid,
        "title": _fill(leaf.title[0], en, english=True),
        "title_zh": _fill(leaf.title[1], zh, english=False),
        "description": description,
        "description_zh": description_zh,
        "category": leaf.path,
        "brand": brand.en,
        "price": currency.format(_price_minor(leaf, factor, rng, currency)),
        "currency": currency.code,
        "stock": stock,
        "url": f"https://shop.example/p/{pid}",
        "image_url": f"https://shop.example/img/{pid}.jpg",
        "attributes": attributes,
    }
