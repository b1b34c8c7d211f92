"""Latency of the deal engine on a realistic cart: 20 lines against 50 live activities.

Usage::

    .venv/bin/python benchmarks/deals.py                 # full run (500 iterations)
    .venv/bin/python benchmarks/deals.py --quick         # smoke run, a few seconds
    .venv/bin/python benchmarks/deals.py --output docs/deals-table.md

The data is deterministic from ``--seed``: 20 products over nested categories and brands, and
50 activities of all eight types (tiers, coupons, quantity-limited and recurring flash sales,
audiences the shopper belongs to), every one live now and in scope of some cart line. It
prints a markdown table of p50 / p95 / mean latency for ``quote_cart`` on the whole cart and
for ``quote_item`` on each of the 20 products.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

# Run as a script, this folder comes first on sys.path, where policy.py (the policy
# benchmark) would shadow the `policy` package: the repository root goes first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.deals import DealContext, quote_cart, quote_item
from assistant.domain import (
    Activity,
    ActivityType,
    Audience,
    CartLine,
    Product,
    Scope,
    Shopper,
    Tier,
)
from assistant.schedule import Schedule

NOW = datetime(2030, 1, 15, 21, 0, tzinfo=UTC)
CATEGORIES = [
    "shoes/running",
    "shoes/trail",
    "apparel/socks",
    "apparel/jackets",
    "beauty/skincare",
    "beauty/lips",
    "electronics/headphones",
    "home/kitchen",
]
BRANDS = ["Stride", "Lumi", "Sonic", "Hearth", "Peak"]
MIX = {
    ActivityType.PERCENT_OFF: 10,
    ActivityType.FLASH_SALE: 6,
    ActivityType.MEMBER_DAY: 4,
    ActivityType.THRESHOLD: 8,
    ActivityType.BUNDLE: 4,
    ActivityType.COUPON: 10,
    ActivityType.NEW_USER: 4,
    ActivityType.FREE_SHIPPING: 4,
}


def build(seed: int) -> tuple[dict[str, Product], list[CartLine], list[Activity], DealContext]:
    """The benchmark's world: products, a 20-line cart, 50 live in-scope activities, a shopper."""
    rng = random.Random(seed)
    products = {
        f"P{i:02d}": Product(
            f"P{i:02d}",
            f"product {i}",
            rng.choice(CATEGORIES),
            rng.choice(BRANDS),
            rng.randint(199, 20000),
        )
        for i in range(20)
    }
    cart = [CartLine(pid, rng.randint(1, 3)) for pid in products]
    in_cart = list(products.values())

    def scope() -> Scope:
        anchor = rng.choice(in_cart)  # always covers at least this line
        kind = rng.choice(["all", "category", "top", "brand", "products"])
        if kind == "all":
            return Scope(all=True)
        if kind == "category":
            return Scope(categories=(anchor.category,))
        if kind == "top":
            return Scope(categories=(anchor.category.split("/")[0],))
        if kind == "brand":
            return Scope(brands=(anchor.brand,))
        others = rng.sample(in_cart, 2)
        return Scope(products=(anchor.id, *(p.id for p in others)))

    def schedule(recurring: bool) -> Schedule:
        if recurring:  # a nightly window that is live now
            return Schedule.recurring(
                NOW - timedelta(days=rng.randint(1, 10), minutes=30),
                "FREQ=DAILY",
                timedelta(hours=2),
                ends_at=NOW + timedelta(days=30),
            )
        start = NOW - timedelta(hours=rng.randint(1, 240))
        return Schedule.once(start, NOW + timedelta(hours=rng.randint(1, 240)))

    activities: list[Activity] = []
    for kind, count in MIX.items():
        for _ in range(count):
            aid = f"A{len(activities):02d}"
            terms: dict[str, Any] = {}
            audience = Audience()
            if kind.group.value == "item":
                terms["percent"] = rng.choice([5, 10, 15, 20, 30, 50])
                if rng.random() < 0.3:
                    terms["max_discount"] = rng.randint(200, 3000)
                if kind is ActivityType.FLASH_SALE:
                    terms["quantity_limit"] = rng.randint(5, 50)
                if kind is ActivityType.MEMBER_DAY:
                    audience = Audience("members")
            elif kind is ActivityType.THRESHOLD:
                levels = sorted(rng.sample(range(5000, 80000, 2500), rng.randint(2, 3)))
                rate = rng.choice([8, 10, 12])  # one rate per activity: higher tiers save more
                terms["tiers"] = tuple(Tier(t, t // rate) for t in levels)
            elif kind is ActivityType.BUNDLE:
                terms["min_quantity"] = rng.randint(2, 4)
                if rng.random() < 0.5:
                    terms["amount"] = rng.randint(300, 2000)
                else:
                    terms["percent"] = rng.choice([5, 10, 15])
            elif kind.group.value == "coupon":
                if rng.random() < 0.6:
                    terms["amount"] = rng.choice([300, 500, 1000, 2000])
                else:
                    terms["percent"] = rng.choice([5, 10, 15])
                    terms["max_discount"] = rng.choice([1000, 2500, 4000])
                terms["min_spend"] = rng.choice([0, 2000, 5000, 10000, 30000])
                terms["budget"] = 1_000_000
                terms["per_user_limit"] = 1
                if kind is ActivityType.NEW_USER:
                    audience = Audience("new_users")
            else:
                terms["min_spend"] = rng.choice([4900, 9900, 19900])
            activities.append(
                Activity(
                    aid,
                    kind,
                    scope(),
                    schedule(recurring=kind is ActivityType.FLASH_SALE and rng.random() < 0.5),
                    audience=audience,
                    **terms,
                )
            )
    held = frozenset(a.id for a in activities[:40] if a.type.claimable and rng.random() < 0.3)
    ctx = DealContext(
        NOW, Shopper("bench", member=True, new_user=True), shipping_fee=600, held=held
    )
    return products, cart, activities, ctx


def _timed(call: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - start) / 1e6)
    return samples


def _row(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    mean = statistics.fmean(ordered)
    return f"| {name} | {len(samples)} | {p50:.3f} | {p95:.3f} | {mean:.3f} |"


def run(iterations: int, seed: int) -> str:
    """Run the benchmark and return its markdown table."""
    products, cart, activities, ctx = build(seed)
    first = quote_cart(products, cart, activities, ctx)
    if first.ineligible:  # every activity must at least stand and be in scope
        standing = {k: v for k, v in first.ineligible.items() if v != "min_spend_not_met"}
        assert not standing, f"benchmark data has inapplicable activities: {standing}"
    _timed(lambda: quote_cart(products, cart, activities, ctx), max(2, iterations // 10))

    cart_samples = _timed(lambda: quote_cart(products, cart, activities, ctx), iterations)
    item_samples: list[float] = []
    for product in products.values():
        item_samples += _timed(partial(quote_item, product, activities, ctx), iterations)

    applied = len(first.applied)
    lines = [
        "| operation | calls | p50 (ms) | p95 (ms) | mean (ms) |",
        "| --- | ---: | ---: | ---: | ---: |",
        _row("`quote_cart`: 20 lines x 50 activities", cart_samples),
        _row("`quote_item`: 1 of the 20 products x 50 activities", item_samples),
        "",
        f"Cart: {len(cart)} lines, {sum(line.quantity for line in cart)} units, "
        f"{applied} deals applied, payable {first.payable} of subtotal {first.subtotal} "
        f"(minor units). Seed {seed}, {iterations} iterations.",
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.system()} {platform.release()}.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a few iterations, a smoke test")
    parser.add_argument("--iterations", type=int, default=None, help="timed calls per case")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated data")
    parser.add_argument("--output", type=Path, default=None, help="also write the table here")
    args = parser.parse_args(argv)
    iterations = args.iterations or (5 if args.quick else 500)
    if iterations < 1:
        parser.error("--iterations must be at least 1")
    table = run(iterations, args.seed)
    print(table, end="")
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
