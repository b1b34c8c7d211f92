"""Embedding throughput: USE-multilingual and all-MiniLM-L6-v2 on product titles, and the cache.

Usage::

    .venv/bin/python benchmarks/embeddings.py              # full run, 2,000 titles
    .venv/bin/python benchmarks/embeddings.py --quick      # smoke run, under 20 s
    .venv/bin/python benchmarks/embeddings.py --output docs/embeddings-latest.md

Texts: the titles (English and Chinese) of ``var/demo/products.jsonl`` when it exists, otherwise
2,000 bilingual product titles generated from ``--seed``. Each row embeds the same texts after a
warm-up, three times (once with ``--quick``); "texts/s" is texts over the median wall time. The
cache rows wrap USE in a ``CachedEmbedder`` over a fresh SQLite file: "cold" embeds and stores
everything once, "warm" is the re-index of unchanged texts (all hits, no model call). Loading
times are excluded. The machine's other load skews every number: the table reports it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from retrieval import CachedEmbedder, Embedder, EmbeddingCache, MiniLMEmbedder, UseEmbedder  # noqa: E402

DEMO_PRODUCTS = Path("var/demo/products.jsonl")
KINDS = [
    ("running shoes", "跑步鞋"),
    ("trail running shoes", "越野跑鞋"),
    ("ankle socks", "短袜"),
    ("rain jacket", "防雨夹克"),
    ("wireless earbuds", "无线耳机"),
    ("noise-cancelling headphones", "降噪耳机"),
    ("face moisturizer", "面部保湿霜"),
    ("matte lipstick", "哑光口红"),
    ("chef's knife", "主厨刀"),
    ("non-stick frying pan", "不粘煎锅"),
    ("yoga mat", "瑜伽垫"),
    ("camping tent", "露营帐篷"),
    ("baby stroller", "婴儿推车"),
    ("mechanical keyboard", "机械键盘"),
    ("green tea gift box", "绿茶礼盒"),
]
ADJECTIVES = [
    ("lightweight", "轻量"),
    ("waterproof", "防水"),
    ("breathable", "透气"),
    ("premium", "高端"),
    ("budget", "平价"),
    ("kids'", "儿童"),
    ("women's", "女士"),
    ("men's", "男士"),
    ("compact", "便携"),
    ("classic", "经典"),
]
BRANDS = ["Stride", "Lumi", "Sonic", "Hearth", "Peak", "Nimbus", "Koa", "Vela"]
COLORS = [("black", "黑色"), ("white", "白色"), ("blue", "蓝色"), ("red", "红色"), ("grey", "灰色")]


def product_titles(n: int, seed: int) -> tuple[list[str], str]:
    """``n`` product titles (about half Chinese) and where they came from."""
    if DEMO_PRODUCTS.exists():
        titles: list[str] = []
        with DEMO_PRODUCTS.open(encoding="utf-8") as lines:
            for line in lines:
                row = json.loads(line)
                titles += [t for t in (row.get("title"), row.get("title_zh")) if t]
        if len(titles) >= n:
            return titles[:n], f"the first {n} titles of {DEMO_PRODUCTS}"
    rng = random.Random(seed)
    out = []
    for i in range(n):
        kind, adjective, color = rng.choice(KINDS), rng.choice(ADJECTIVES), rng.choice(COLORS)
        brand, model = rng.choice(BRANDS), rng.randint(1, 99)
        if i % 2:
            out.append(f"{brand} {adjective[1]}{color[1]}{kind[1]} {model}代")
        else:
            out.append(f"{brand} {adjective[0]} {kind[0]} {model}, {color[0]}")
    return out, f"{n} generated bilingual titles (seed {seed})"


def _throughput(run: Callable[[], object], n: int, repeats: int) -> tuple[float, float, float]:
    """Median wall seconds of ``repeats`` runs, texts per wall second and per CPU second.

    CPU time (this process, all threads) is less sensitive to other processes on a shared
    machine; threads that spin while waiting inflate it.
    """
    walls, cpus = [], []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    seconds = statistics.median(walls)
    return seconds, n / seconds, n / max(statistics.median(cpus), 1e-9)


def _row(label: str, batch: str, n: int, measured: tuple[float, float, float]) -> str:
    seconds, rate, cpu_rate = measured
    return f"| {label} | {batch} | {n:,} | {seconds:.2f} | {rate:,.0f} | {cpu_rate:,.0f} |"


def run(n_use: int, n_minilm: int, seed: int, repeats: int) -> str:
    """Run the benchmark and return its markdown table."""
    texts, source = product_titles(max(n_use, n_minilm), seed)
    rows = [
        "| embedder | batch | texts | seconds | texts/s | texts/CPU-s |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    load_start = time.perf_counter()
    use = UseEmbedder()
    use_load = time.perf_counter() - load_start
    use.embed(texts[:256])  # warm-up
    for batch_size in (32, 128):
        use.batch_size = batch_size
        measured = _throughput(lambda: use.embed(texts[:n_use]), n_use, repeats)
        rows.append(_row("USE-multilingual (1 BLAS thread)", str(batch_size), n_use, measured))
    two = UseEmbedder(threads=2, batch_size=128)
    measured = _throughput(lambda: two.embed(texts[:n_use]), n_use, repeats)
    rows.append(_row("USE-multilingual (2 BLAS threads)", "128", n_use, measured))

    load_start = time.perf_counter()
    minilm = MiniLMEmbedder()
    minilm_load = time.perf_counter() - load_start
    minilm.embed(texts[:256])  # warm-up: torch's first passes over new shapes are slow
    for batch_size in (32, 128):
        minilm.batch_size = batch_size
        measured = _throughput(lambda: minilm.embed(texts[:n_minilm]), n_minilm, repeats)
        rows.append(_row("all-MiniLM-L6-v2", str(batch_size), n_minilm, measured))

    use.batch_size = 128
    with (
        tempfile.TemporaryDirectory() as folder,
        EmbeddingCache(Path(folder) / "cache.sqlite") as cache,
    ):
        cached: Embedder = CachedEmbedder(use, cache)
        measured = _throughput(lambda: cached.embed(texts[:n_use]), n_use, 1)
        rows.append(_row("USE + cache, cold (embed and store)", "128", n_use, measured))
        measured = _throughput(lambda: cached.embed(texts[:n_use]), n_use, repeats)
        rows.append(_row("USE + cache, warm (all hits)", "-", n_use, measured))

    rows += [
        "",
        f"Texts: {source}. Load times (excluded): USE {use_load:.1f} s, MiniLM {minilm_load:.1f} s "
        "(including the torch import).",
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}; load average "
        f"{os.getloadavg()[0]:.1f} at the end.",
    ]
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="few texts, a smoke test (< 20 s)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated titles")
    parser.add_argument("--output", type=Path, default=None, help="also write the table here")
    args = parser.parse_args(argv)
    n_use, n_minilm = (512, 64) if args.quick else (2000, 2000)
    table = run(n_use, n_minilm, args.seed, repeats=1 if args.quick else 3)
    print(table, end="")
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
