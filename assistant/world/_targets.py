"""What a demo activity covers: scopes over leaves, brands, departments and product ids.

A :class:`Target` is a scope in the catalog-row format together with its bilingual name and a
typical price of what it covers (the median, which sizes thresholds, coupons and caps).
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from assistant.errors import ValidationError
from assistant.money import Currency
from assistant.world._phrases import Label, lower_first
from assistant.world.catalog import CATEGORY_NAMES, LEAVES

__all__ = ["Item", "Target", "Targets"]

_BRAND_ZH = {b.en: b.zh for leaf in LEAVES for b in leaf.brands}
_PAIRS = (
    ("electronics/phones", "electronics/phone-cases"),
    ("electronics/laptops", "electronics/laptop-bags"),
    ("home/coffee-makers", "grocery/coffee-tea"),
    ("sports/yoga-mats", "sports/fitness"),
    ("shoes/running", "apparel/socks"),
    ("baby/diapers", "baby/care"),
    ("grocery/snacks", "grocery/beverages"),
    ("outdoor/picnic-camping", "outdoor/backpacks"),
)


@dataclass(frozen=True, slots=True)
class Item:
    """What activities need to know about a product: id, leaf, brand, price (minor units)."""

    id: str
    category: str
    brand: str
    price: int


@dataclass(frozen=True, slots=True)
class Target:
    """A scope (catalog-row JSON), its name, its median and lowest price, its department."""

    scope: dict[str, Any]
    label: Label
    ref: int
    department: str
    low: int


def _median(items: Iterable[Item]) -> int:
    return int(statistics.median_low(item.price for item in items))


class Targets:
    """Every product grouped by leaf, and ways to pick a scope over them.

    Products whose category is not a demo leaf are ignored: activities only cover the demo
    world's own leaves.

    Raises:
        ValidationError: no product lies in a demo leaf category.
    """

    def __init__(self, rows: Iterable[Mapping[str, Any]], currency: Currency) -> None:
        self.unit = int(10**currency.exponent)
        known = {leaf.path: leaf for leaf in LEAVES}
        grouped: dict[str, list[Item]] = {}
        for row in rows:
            path = str(row["category"]).strip("/")
            if path in known:
                item = Item(str(row["id"]), path, str(row["brand"]), currency.parse(row["price"]))
                grouped.setdefault(path, []).append(item)
        if not grouped:
            raise ValidationError(
                "no product is in a demo leaf category; generate the catalog first "
                "(assistant.world.generate_catalog)"
            )
        self.by_leaf = {leaf.path: grouped[leaf.path] for leaf in LEAVES if leaf.path in grouped}
        self.leaves = list(self.by_leaf)
        self.departments = list(dict.fromkeys(path.split("/")[0] for path in self.leaves))
        self.all_items = [item for items in self.by_leaf.values() for item in items]
        self.pairs = [p for p in _PAIRS if p[0] in self.by_leaf and p[1] in self.by_leaf]
        # Typical prices per scope, computed once: a 100k catalog must not be rescanned per draw.
        prices: dict[tuple[str, ...], list[int]] = {}
        home: dict[str, str] = {}
        for item in self.all_items:
            for key in (
                ("leaf", item.category),
                ("brand_leaf", item.category, item.brand),
                ("brand", item.brand),
                ("department", _dept(item.category)),
                ("all",),
            ):
                prices.setdefault(key, []).append(item.price)
            home.setdefault(item.brand, _dept(item.category))
        self._ref = {key: int(statistics.median_low(values)) for key, values in prices.items()}
        self._low = {key: min(values) for key, values in prices.items()}
        self._home = home
        self._brands = {
            path: sorted({i.brand for i in items}) for path, items in self.by_leaf.items()
        }

    # --- named scopes ---------------------------------------------------------------------

    def leaf(self, path: str) -> Target:
        """Every product of one leaf: ``"running shoes"`` / ``"跑鞋"``."""
        en, zh = CATEGORY_NAMES[path]
        label = Label(lower_first(en), en, zh, lower_first(en))
        key = ("leaf", path)
        return Target({"categories": [path]}, label, self._ref[key], _dept(path), self._low[key])

    def brand_leaf(self, path: str, brand: str) -> Target:
        """One brand within a leaf: ``"Nike running shoes"`` / ``"耐克跑鞋"``."""
        en, zh = CATEGORY_NAMES[path]
        name = f"{brand} {lower_first(en)}"
        label = Label(name, name, _zh(brand) + zh, name)
        scope = {"categories": [path], "brands": [brand]}
        key = ("brand_leaf", path, brand)
        return Target(scope, label, self._ref[key], _dept(path), self._low[key])

    def brand(self, brand: str) -> Target:
        """Everything of one brand: ``"all Nike products"`` / ``"耐克全品"``."""
        label = Label(
            f"all {brand} products",
            f"All {brand} products",
            f"{_zh(brand)}全品",
            f"{brand} products",
        )
        key = ("brand", brand)
        return Target({"brands": [brand]}, label, self._ref[key], self._home[brand], self._low[key])

    def department(self, department: str) -> Target:
        """A whole department: ``"electronics"`` / ``"数码电子"``."""
        en, zh = CATEGORY_NAMES[department]
        label = Label(lower_first(en), en, zh, f"{lower_first(en)} items")
        key = ("department", department)
        scope = {"categories": [department]}
        return Target(scope, label, self._ref[key], department, self._low[key])

    def everything(self) -> Target:
        """The whole shop: ``"everything"`` / ``"全场"``."""
        label = Label("everything", "Sitewide", "全场", "items", everything=True)
        return Target({"all": True}, label, self._ref[("all",)], "all", self._low[("all",)])

    def products(self, path: str, rng: random.Random, count: int) -> Target:
        """A few products of one leaf: ``"5 selected running shoes"`` / ``"精选跑鞋5款"``."""
        pool = self.by_leaf[path]
        if len(pool) < 2:
            return self.leaf(path)
        chosen = sorted(rng.sample(pool, k=min(count, len(pool))), key=lambda i: i.id)
        en, zh = CATEGORY_NAMES[path]
        label = Label(
            f"{len(chosen)} selected {lower_first(en)}",
            f"{len(chosen)} selected {lower_first(en)}",
            f"精选{zh}{len(chosen)}款",
            f"selected {lower_first(en)}",
        )
        scope = {"products": [i.id for i in chosen]}
        low = min(item.price for item in chosen)
        return Target(scope, label, _median(chosen), _dept(path), low)

    def pair(self, first: str, second: str) -> Target:
        """Two leaves that go together: ``"phones and phone cases"`` / ``"手机与手机壳"``."""
        (en1, zh1), (en2, zh2) = CATEGORY_NAMES[first], CATEGORY_NAMES[second]
        en = f"{lower_first(en1)} and {lower_first(en2)}"
        label = Label(en, en[0].upper() + en[1:], f"{zh1}与{zh2}", en)
        ref = min(self._ref["leaf", first], self._ref["leaf", second])
        low = min(self._low["leaf", first], self._low["leaf", second])
        return Target({"categories": [first, second]}, label, ref, _dept(first), low)

    # --- random choices -------------------------------------------------------------------

    def pick(
        self, rng: random.Random, weights: Mapping[str, float], *, cheap: bool = False
    ) -> Target:
        """A random target of a kind drawn by ``weights`` (leaf, brand_leaf, brand, department,
        everything, products, pair); ``cheap`` prefers leaves whose median is under 100."""
        kinds = [k for k in weights if k != "pair" or self.pairs]
        kind = rng.choices(kinds, weights=[weights[k] for k in kinds])[0]
        leaves = self.leaves
        if cheap:
            leaves = [p for p in leaves if self._ref["leaf", p] < 100 * self.unit] or leaves
        path = rng.choice(leaves)
        if kind == "leaf":
            return self.leaf(path)
        if kind == "brand_leaf":
            return self.brand_leaf(path, rng.choice(self._brands[path]))
        if kind == "brand":
            return self.brand(rng.choice(self.all_items).brand)
        if kind == "department":
            return self.department(rng.choice(self.departments))
        if kind == "everything":
            return self.everything()
        if kind == "products":
            return self.products(path, rng, rng.randint(2, 6))
        return self.pair(*rng.choice(self.pairs))


def _dept(path: str) -> str:
    return path.split("/")[0]


def _zh(brand: str) -> str:
    zh = _BRAND_ZH.get(brand, brand)
    # Latin names keep a space before Chinese text; Chinese names run on.
    return zh if not zh[-1:].isascii() else f"{zh} "
