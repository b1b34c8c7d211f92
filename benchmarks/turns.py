"""Whole turns in rules mode on the demo world: constraint violations and per-stage latency.

Usage::

    .venv/bin/python benchmarks/turns.py                  # >= 500 turns on the 5,000-product world
    .venv/bin/python benchmarks/turns.py --quick          # smoke run: small world, ~60 turns
    .venv/bin/python benchmarks/turns.py --output docs/assistant.md
    .venv/bin/python benchmarks/turns.py --var var        # use an existing world and index

Without ``--var`` it builds a demo world (no logs) and its index in a temporary directory,
at a fixed moment. Sessions come from templates in English and Chinese over the demo
categories and brands: budgets in many phrasings, deal requests, excluded brands, and
follow-ups ("cheaper ones", "ok, 55 max then", "再便宜一点"). Every recommendation is
checked against what the shopper *said* (the generator's ground truth, not what the extractor
understood): final price within the budget, not an excluded brand, final price <= list price,
deals not expired. Latency is per stage (``TurnResult.timings_ms``) and for the whole turn.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

# Run as a script, this folder comes first on sys.path, where policy.py (the policy
# benchmark) would shadow the `policy` package: the repository root goes first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _llm import link_models, stop_server  # type: ignore[import-not-found]
from _report import save  # type: ignore[import-not-found]

from assistant.app import Shop
from assistant.config import Settings
from assistant.conversation import Assistant, CatalogSnapshot, TurnResult
from assistant.indexing import sync_catalog_index
from assistant.store import make_engine
from assistant.world import STEPS, build_demo
from assistant.world.catalog import CATEGORY_NAMES

NOW = datetime(2030, 6, 15, 12, tzinfo=UTC)
QUICK_LEAVES = [
    "shoes/running",
    "home/kitchen-knives",
    "electronics/headphones",
    "electronics/phones",
    "apparel/jackets/down",
    "sports/yoga-mats",
    "toys/ages-3-10",
    "home/coffee-makers",
]


@dataclass
class Said:
    """What the shopper said so far in a session (ground truth for the checks)."""

    max_price: int | None = None
    min_price: int | None = None
    brands_out: set[str] = field(default_factory=set)
    leaf: str = ""


@dataclass
class Turn:
    text: str
    said: Said


def _money(minor: int) -> str:
    return f"{minor // 100}"


def sessions(
    rng: random.Random, leaves: list[str], brands: dict[str, list[str]], n: int
) -> Iterator[list[Turn]]:
    """``n`` sessions of 1-3 turns with their ground-truth constraints."""
    for _ in range(n):
        leaf = rng.choice(leaves)
        en, zh = CATEGORY_NAMES[leaf]
        en = en.lower()
        zh_mode = rng.random() < 0.45
        said = Said(leaf=leaf)
        turns: list[Turn] = []
        budget = rng.choice([15, 25, 30, 40, 55, 60, 80, 100, 150, 200, 300, 500])
        pick = rng.random()
        leaf_brands = brands.get(leaf) or ["Nike"]
        if zh_mode:
            if pick < 0.35:
                said.max_price = budget * 100
                text = rng.choice(
                    [
                        f"{budget}元以内的{zh}",
                        f"{zh}，不要超过{budget}块",
                        f"预算{budget}以内，想买{zh}",
                    ]
                )
            elif pick < 0.55:
                text = rng.choice([f"有没有打折的{zh}", f"{zh}有什么优惠", f"{zh}满减活动"])
            elif pick < 0.75:
                brand = rng.choice(leaf_brands)
                said.brands_out.add(brand.casefold())
                text = f"{zh}，不要{brand}的"
            else:
                said.min_price, said.max_price = budget // 2 * 100, budget * 100
                text = f"{zh}，{budget // 2}到{budget}元之间"
            turns.append(Turn(text, _copy(said)))
            if rng.random() < 0.4:
                lower = max(budget * 2 // 3, 5)
                said.max_price = lower * 100
                if said.min_price is not None and said.min_price > said.max_price:
                    said.min_price = None
                turns.append(Turn(f"再便宜一点，{lower}块以内", _copy(said)))
        else:
            if pick < 0.35:
                said.max_price = budget * 100
                text = rng.choice(
                    [
                        f"{en} under ${budget}",
                        f"looking for {en}, tops {budget} bucks",
                        f"{en} less than {budget} dollars",
                    ]
                )
            elif pick < 0.55:
                text = rng.choice([f"any deals on {en}?", f"{en} on sale", f"coupons for {en}"])
            elif pick < 0.75:
                brand = rng.choice(leaf_brands)
                said.brands_out.add(brand.casefold())
                text = f"{en}, no {brand}"
            else:
                said.min_price, said.max_price = budget // 2 * 100, budget * 100
                text = f"{en} from {budget // 2} to {budget}"
            turns.append(Turn(text, _copy(said)))
            if rng.random() < 0.5:
                lower = max(budget * 2 // 3, 5)
                said.max_price = lower * 100
                if said.min_price is not None and said.min_price > said.max_price:
                    said.min_price = None
                turns.append(Turn(f"cheaper ones, under {lower}", _copy(said)))
                if rng.random() < 0.5:
                    last = max(lower * 3 // 4, 5)
                    said.max_price = last * 100
                    if said.min_price is not None and said.min_price > said.max_price:
                        said.min_price = None
                    turns.append(Turn(f"ok, {last} max then", _copy(said)))
        yield turns


def _copy(said: Said) -> Said:
    return Said(said.max_price, said.min_price, set(said.brands_out), said.leaf)


def violations(result: TurnResult, said: Said, now: datetime) -> list[str]:
    """Every way a recommendation breaks what the shopper said, or the price contract."""
    out = []
    for rec in result.recommendations:
        item = rec.item
        final = item.final_price
        if item.kind == "product":
            if (said.max_price is not None or said.min_price is not None) and final is None:
                out.append(f"{item.id}: unpriced under a budget")
            if final is not None and said.max_price is not None and final > said.max_price:
                out.append(f"{item.id}: {final} > {said.max_price}")
            if final is not None and said.min_price is not None and final < said.min_price:
                out.append(f"{item.id}: {final} < {said.min_price}")
            if item.brand.casefold() in said.brands_out:
                out.append(f"{item.id}: excluded brand {item.brand}")
        if final is not None and item.price is not None and final > item.price:
            out.append(f"{item.id}: final {final} above price {item.price}")
        if item.valid_until is not None and item.valid_until < now:
            out.append(f"{item.id}: expired deal")
    return out


def _could_fit(snapshot: CatalogSnapshot, said: Said) -> bool:
    """Without a floor: some product of the leaf has a list price within the budget (so its
    final price is too) and is not of an excluded brand. (With a floor, deals can take every
    final price below it, so a list price says nothing.)"""
    if said.min_price is not None:
        return False
    for info in snapshot.info.values():
        if info.category != said.leaf or info.price is None:
            continue
        if info.brand.casefold() in said.brands_out:
            continue
        if said.max_price is not None and info.price > said.max_price:
            continue
        if said.min_price is not None and info.price < said.min_price:
            continue
        return True
    return False


def _world(var: Path, products: int, leaves: list[str] | None) -> None:
    settings = Settings(_env_file=None, var_dir=var, embedder="use")
    shop = Shop(settings, make_engine(settings.sqlalchemy_url))
    steps = [s for s in STEPS if s.name != "logs"]
    options = {"categories": leaves} if leaves else {}
    build_demo(shop, now=NOW, products=products, progress=True, steps=steps, **options)  # type: ignore[arg-type]
    sync_catalog_index(shop, progress=True, now=NOW)
    shop.engine.dispose()


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def _llm_rows(
    embedded: bool,
    understand: dict[str, int],
    sources: dict[str, int],
    stages: dict[str, list[float]],
) -> list[str]:
    if not embedded:
        return []
    asked = sum(understand.values()) or 1
    phrased = sum(sources.values()) or 1
    first = stages.get("first_token", [])
    return [
        f"| LLM understanding skipped (rules sure) | {understand.get('skipped', 0) / asked:.0%} |",
        f"| LLM understanding failed (timeout, error) | "
        f"{understand.get('failed', 0) / asked:.0%} |",
        f"| replies accepted first time | {sources.get('llm', 0) / phrased:.0%} |",
        f"| replies accepted after one regeneration | "
        f"{sources.get('llm_regenerated', 0) / phrased:.0%} |",
        f"| replies replaced by the template | {sources.get('template', 0) / phrased:.0%} |",
        f"| LLM phrasing failed (timeout, error) | {sources.get('failed', 0) / phrased:.0%} |",
        f"| first guard-checked token p50 / p95 | {_pct(first, 50) / 1000:.2f} s / "
        f"{_pct(first, 95) / 1000:.2f} s |",
    ]


def run(args: argparse.Namespace) -> str:
    quick = args.quick
    tmp: Path | None = None
    if args.var:
        var, now = Path(args.var), datetime.now(UTC)
    else:
        tmp = Path(tempfile.mkdtemp(prefix="turns-bench-"))
        var, now = tmp / "var", NOW
        leaves = QUICK_LEAVES if quick else None
        _world(var, 400 if quick else 5000, leaves)
    embedded = args.llm == "embedded"
    try:
        settings = Settings(_env_file=None, var_dir=var, embedder="use", llm_backend=args.llm)
        if embedded:
            link_models(var)
        shop = Shop(settings, make_engine(settings.sqlalchemy_url))
        start = time.perf_counter()
        assistant = Assistant.from_shop(shop, seed=args.seed, start_llm=embedded)
        load_s = time.perf_counter() - start
        if embedded and assistant.chat is None:
            raise SystemExit("the embedded LLM server did not start; see var/llm.log")
        if assistant.chat is not None:
            assistant.llm_timeout_s = args.llm_timeout
        snapshot = assistant.catalog.current()
        leaves = sorted({p.category for p in snapshot.info.values()} & set(CATEGORY_NAMES))
        brands: dict[str, list[str]] = {}
        for p in snapshot.info.values():
            brands.setdefault(p.category, []).append(p.brand)
        brands = {k: sorted(set(v)) for k, v in brands.items()}
        rng = random.Random(args.seed)
        n_sessions = 30 if quick else args.sessions
        if embedded and not quick and args.sessions == 320:
            n_sessions = 60  # ~2-4 s a turn with the 0.5B model on 2 cores
        sources: dict[str, int] = {}
        understand: dict[str, int] = {}
        totals: list[float] = []
        stages: dict[str, list[float]] = {}
        bad: list[str] = []
        missed: list[str] = []
        counts = {"turns": 0, "with_recs": 0, "recs": 0, "zh": 0}
        for user, convo in enumerate(sessions(rng, leaves, brands, n_sessions)):
            session_id = None
            for turn in convo:
                t0 = time.perf_counter()
                result = assistant.turn(f"bench-{user}", turn.text, session_id=session_id, now=now)
                totals.append((time.perf_counter() - t0) * 1000)
                session_id = result.session_id
                for stage, ms in result.timings_ms.items():
                    stages.setdefault(stage, []).append(ms)
                counts["turns"] += 1
                counts["zh"] += result.intent.language == "zh"
                counts["with_recs"] += bool(result.recommendations)
                counts["recs"] += len(result.recommendations)
                if result.llm.get("reply", "off") not in ("off", "template"):
                    sources[result.llm["reply"]] = sources.get(result.llm["reply"], 0) + 1
                elif result.llm.get("reply") == "template" and result.recommendations:
                    sources["template"] = sources.get("template", 0) + 1
                u = result.llm.get("understand", "off")
                understand[u] = understand.get(u, 0) + 1
                bad += [f"{turn.text!r}: {v}" for v in violations(result, turn.said, now)]
                if not result.recommendations and _could_fit(snapshot, turn.said):
                    missed.append(turn.text)
        over_list = sum(1 for b in bad if "above price" in b)
        mode = f"Embedded LLM ({assistant.chat.model})" if assistant.chat else "Rules"
        lines = [
            f"# Turn benchmark (`benchmarks/turns.py{' --quick' if quick else ''}`)",
            "",
            f"{mode} mode, "
            f"{len(snapshot.info):,} products, "
            f"{len(snapshot.activities):,} activities; "
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}. Assistant loaded in {load_s:.1f} s.",
            "",
            "| measure | value |",
            "| --- | --- |",
            f"| turns (sessions) | {counts['turns']} ({n_sessions}) |",
            f"| Chinese turns | {counts['zh']} |",
            f"| turns with recommendations | {counts['with_recs']} |",
            f"| recommendations checked | {counts['recs']} |",
            f"| constraint violations (vs what the shopper said) | {len(bad) - over_list} |",
            f"| final price above list price | {over_list} |",
            f"| nothing shown although a list price was within a budget with no floor | "
            f"{len(missed)} |",
            *_llm_rows(embedded, understand, sources, stages),
            "",
            "| stage | p50 ms | p95 ms |",
            "| --- | ---: | ---: |",
        ]
        for stage in (
            "understand",
            "llm_understand",
            "first_token",
            "load",
            "retrieve",
            "price",
            "rank",
            "choose",
            "reply",
            "store",
        ):
            if stage in stages:
                v = stages[stage]
                lines.append(f"| {stage} | {_pct(v, 50):.2f} | {_pct(v, 95):.2f} |")
        lines.append(
            f"| **whole turn** | **{_pct(totals, 50):.2f}** | **{_pct(totals, 95):.2f}** |"
        )
        if bad:
            lines += ["", "Violations (first 10):", ""] + [f"- {b}" for b in bad[:10]]
        if missed:
            lines += ["", "Nothing shown although a product fit (first 10):", ""]
            lines += [f"- {m!r}" for m in missed[:10]]
        shop.engine.dispose()
        return "\n".join(lines) + "\n"
    finally:
        if embedded:
            stop_server(settings)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small world, ~60 turns")
    parser.add_argument("--sessions", type=int, default=320, help="sessions in a full run")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--var", help="an existing var dir with a world and index (now = now)")
    parser.add_argument(
        "--llm",
        choices=["rules", "embedded"],
        default="rules",
        help="rules (default) or the bundled model on the shared embedded server (started "
        "on demand; 60 sessions unless --sessions is given)",
    )
    parser.add_argument("--llm-timeout", type=float, default=8.0, help="seconds per LLM call")
    parser.add_argument("--output", help="also write the table to this markdown file")
    args = parser.parse_args()
    table = run(args)
    print(table)
    if args.output:
        section = "benchmark-embedded" if args.llm == "embedded" else "benchmark"
        save(Path(args.output), table, section=section)
    fails = [line for line in table.splitlines() if line.startswith("| constraint violations")]
    return 1 if fails and not fails[0].endswith("| 0 |") else 0


if __name__ == "__main__":
    sys.exit(main())
