"""Vocabulary types for the demo catalog: leaves, brands, option axes, shared word lists.

A :class:`Leaf` says everything the generator needs about one leaf category: its bilingual
names, its share of the catalog, its log-normal price spread, its brands (each with product
lines and a price tier), the option axes a product varies along, and bilingual title and
description templates. Templates use ``{brand}``, ``{line}``, ``{noun}``, one ``{key}`` per axis
and ``{key_lc}`` for the English value in lower case (for use mid-sentence).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "APPAREL_COLORS",
    "BEAUTY_EDITIONS",
    "CONSUMABLE_CLOSERS",
    "FOOD_CLOSERS",
    "FOOD_EDITIONS",
    "GENDER",
    "GENDER_UNISEX",
    "GOODS_CLOSERS",
    "SHOE_COLORS",
    "TECH_COLORS",
    "Axis",
    "Brand",
    "Leaf",
    "Option",
    "Price",
    "brand",
    "opt",
]

Pair = tuple[str, str]
"""English and Chinese text."""


@dataclass(frozen=True, slots=True)
class Option:
    """One value of an axis (or one product line): English, Chinese, attribute value, price factor.

    ``value`` is what goes into the product's ``attributes`` (the English text in lower case
    when not given); ``factor`` multiplies the leaf's median price.
    """

    en: str
    zh: str
    value: str = ""
    factor: float = 1.0

    @property
    def attribute(self) -> str:
        """The attribute value stored for this option."""
        return self.value or self.en.lower()


def opt(en: str, zh: str | None = None, factor: float = 1.0, value: str = "") -> Option:
    """An :class:`Option`; ``zh`` defaults to the English text (model names, sizes)."""
    return Option(en, en if zh is None else zh, value, factor)


@dataclass(frozen=True, slots=True)
class Brand:
    """A brand in a leaf: names, price tier (a factor on the leaf median) and product lines."""

    en: str
    zh: str
    tier: float = 1.0
    lines: tuple[Option, ...] = ()


def brand(
    en: str,
    zh: str | None,
    tier: float,
    *lines: str | tuple[str, str] | tuple[str, str, float] | Option,
) -> Brand:
    """A :class:`Brand`; a line is a name in both languages, ``(en, zh[, factor])`` or an option.

    >>> brand("Li-Ning", "李宁", 0.7, "Feidian 4", ("Chitu 7", "赤兔7")).lines[1].zh
    '赤兔7'
    """
    parsed: list[Option] = []
    for line in lines:
        if isinstance(line, Option):
            parsed.append(line)
        elif isinstance(line, tuple):
            parsed.append(opt(*line))
        else:
            parsed.append(opt(line))
    return Brand(en, en if zh is None else zh, tier, tuple(parsed))


@dataclass(frozen=True, slots=True)
class Axis:
    """Something a product varies along (gender, feature, size, pack...).

    Every axis becomes an attribute; ``in_title`` only says whether the default templates are
    expected to use it (templates decide what they show).
    """

    key: str
    options: tuple[Option, ...]
    in_title: bool = True


@dataclass(frozen=True, slots=True)
class Price:
    """A log-normal price spread in major units: median, sigma of log, and hard bounds."""

    median: float
    sigma: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class Leaf:
    """Everything the generator knows about one leaf category."""

    path: str
    names: Pair
    share: float
    price: Price
    brands: tuple[Brand, ...]
    axes: tuple[Axis, ...]
    title: Pair
    intro: Pair
    blurbs: tuple[Pair, ...]
    noun: Pair = ("", "")
    closers: tuple[Pair, ...] = field(default=())


GENDER = (opt("Men's", "男款", value="men"), opt("Women's", "女款", value="women"))
GENDER_UNISEX = (*GENDER, opt("Unisex", "中性", value="unisex"))

SHOE_COLORS = (
    opt("Black", "黑色"),
    opt("White", "白色"),
    opt("Grey", "灰色"),
    opt("Navy", "藏青色"),
    opt("Blue", "蓝色"),
    opt("Red", "红色"),
    opt("Olive", "橄榄绿"),
    opt("Pink", "粉色"),
    opt("Beige", "米色"),
)
APPAREL_COLORS = (
    opt("Black", "黑色"),
    opt("White", "白色"),
    opt("Grey", "灰色"),
    opt("Navy", "藏青色"),
    opt("Olive", "橄榄绿"),
    opt("Beige", "米色"),
    opt("Burgundy", "酒红色"),
    opt("Khaki", "卡其色"),
    opt("Sky Blue", "天蓝色"),
)
TECH_COLORS = (
    opt("Black", "黑色"),
    opt("Silver", "银色"),
    opt("White", "白色"),
    opt("Space Grey", "深空灰"),
    opt("Blue", "蓝色"),
    opt("Green", "绿色"),
    opt("Midnight", "午夜色"),
)

BEAUTY_EDITIONS = (
    opt("", "", value="standard"),
    opt("Limited Edition", "限量版", 1.1),
    opt("Value Set", "超值套装", 1.6),
    opt("Refill", "替换装", 0.85),
)
FOOD_EDITIONS = (
    opt("", "", value="standard"),
    opt("Gift Box", "礼盒装", 1.4),
    opt("Limited Edition", "限定款", 1.05),
)

GOODS_CLOSERS: tuple[Pair, ...] = (
    ("Ships within 24 hours.", "24小时内发货。"),
    ("Free returns within 30 days.", "支持30天无忧退换。"),
    ("Authentic product, sourced directly from the brand.", "品牌直供，正品保障。"),
    ("Backed by a one-year warranty.", "享一年质保。"),
)
CONSUMABLE_CLOSERS: tuple[Pair, ...] = (
    ("Ships within 24 hours.", "24小时内发货。"),
    ("Unopened items can be returned within 30 days.", "未拆封商品支持30天退换。"),
    ("Authentic product, sourced directly from the brand.", "品牌直供，正品保障。"),
)
FOOD_CLOSERS: tuple[Pair, ...] = (
    ("Ships within 24 hours.", "24小时内发货。"),
    ("Best before at least six months from delivery.", "到手保质期6个月以上。"),
    ("Store in a cool, dry place.", "请置于阴凉干燥处保存。"),
)
