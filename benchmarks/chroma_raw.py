"""Raw Chroma baseline: upsert throughput and top-50 query latency on random 512-d vectors.

Usage::

    .venv/bin/python benchmarks/chroma_raw.py                 # N = 100,000
    .venv/bin/python benchmarks/chroma_raw.py --quick         # N = 10,000, under 20 s
    .venv/bin/python benchmarks/chroma_raw.py --n 20000 --clustered   # embedding-like data
    .venv/bin/python benchmarks/chroma_raw.py --url http://127.0.0.1:8000   # a `chroma run`
    .venv/bin/python benchmarks/chroma_raw.py --output docs/chroma-raw.md

The data is deterministic from ``--seed``: N random unit vectors (or, with ``--clustered``,
vectors scattered around their subcategory's centre, as real embeddings cluster by topic;
uniformly random 512-d vectors are the worst case for HNSW) with product-like metadata
(``cat0`` one of 10 top categories, ``cat1`` one of 50 subcategories, ``price`` in minor units,
``in_stock``). It upserts them through chromadb itself (cosine HNSW, ``embedding_function=None``,
the largest batch the client allows) into a fresh collection, then times top-50 queries:
unfiltered, ``where`` on one top category (about 10% of items) and ``where`` on price and stock
(about 25%). Recall@50 is against an exact numpy scan of the same filter, whose latency is
shown too, as the in-memory baseline. It prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from retrieval import make_client

K = 50


def build(
    n: int, dim: int, seed: int, clustered: bool = False
) -> tuple[NDArray[np.float32], list[dict[str, Any]]]:
    """``n`` unit vectors, shape ``(n, dim)``, and their metadata."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, dim), dtype=np.float32)
    sub = rng.integers(0, 50, n)
    if clustered:  # cosine to the centre about 0.7, as items of one subcategory
        centres = np.random.default_rng(0).standard_normal((50, dim), dtype=np.float32)
        vectors = centres[sub] + vectors
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    price = rng.integers(100, 100_001, n)
    stock = rng.random(n) < 0.8
    metadatas = [
        {
            "cat0": f"c{s // 5}",
            "cat1": f"c{s // 5}/s{s}",
            "price": int(p),
            "in_stock": bool(st),
        }
        for s, p, st in zip(sub, price, stock, strict=True)
    ]
    return vectors, metadatas


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * len(ordered)))]


def run(n: int, dim: int, n_queries: int, seed: int, url: str | None, clustered: bool) -> str:
    """Run the benchmark and return its markdown table."""
    vectors, metadatas = build(n, dim, seed, clustered)
    queries = build(n_queries, dim, seed + 1, clustered)[0]
    ids = [f"P{i:07d}" for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        client = make_client(path=Path(tmp), url=url)
        name = f"bench-raw-{os.getpid()}"
        collection = client.create_collection(
            name, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
        )
        batch = client.get_max_batch_size()
        start = time.perf_counter()
        for at in range(0, n, batch):
            collection.upsert(
                ids=ids[at : at + batch],
                embeddings=vectors[at : at + batch],
                metadatas=metadatas[at : at + batch],  # type: ignore[arg-type]
            )
        upsert_s = time.perf_counter() - start

        cat0 = np.array([m["cat0"] for m in metadatas])
        price = np.array([m["price"] for m in metadatas])
        stock = np.array([m["in_stock"] for m in metadatas])
        filters: list[tuple[str, dict[str, Any] | None, NDArray[np.bool_]]] = [
            ("unfiltered", None, np.ones(n, dtype=bool)),
            ("`cat0 = c3` (~10%)", {"cat0": {"$eq": "c3"}}, cat0 == "c3"),
            (
                "`price <= 31,000 and in_stock` (~25%)",
                {"$and": [{"price": {"$lte": 31_000}}, {"in_stock": {"$eq": True}}]},
                (price <= 31_000) & stock,
            ),
        ]
        rows = [
            "| operation | N | calls | p50 (ms) | p95 (ms) | recall@50 |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
            f"| upsert (batches of {batch}) | {n} | {-(-n // batch)} | "
            f"{n / upsert_s:,.0f} items/s | total {upsert_s:.1f} s | |",
        ]
        for label, where, mask in filters:
            chroma_ms, exact_ms, recalls = [], [], []
            for query in queries:
                start = time.perf_counter()
                got = collection.query(
                    query_embeddings=query[None, :], n_results=K, where=where, include=[]
                )
                chroma_ms.append((time.perf_counter() - start) * 1e3)
                truth, elapsed = _exact(vectors, mask, query)
                exact_ms.append(elapsed)
                want = {ids[i] for i in truth}
                recalls.append(len(want & set(got["ids"][0])) / len(want))
            p50, p95 = _percentiles(chroma_ms)
            rows.append(
                f"| Chroma query top-{K}, {label} | {n} | {n_queries} | {p50:.2f} | {p95:.2f} | "
                f"{statistics.fmean(recalls):.3f} |"
            )
            p50, p95 = _percentiles(exact_ms)
            rows.append(
                f"| numpy exact scan top-{K}, {label} | {n} | {n_queries} | {p50:.2f} | "
                f"{p95:.2f} | 1.000 |"
            )
        client.delete_collection(name)
    where_run = url or "PersistentClient (local dir)"
    rows += [
        "",
        f"{'clustered' if clustered else 'uniformly random'} vectors, dim {dim}, seed {seed}; "
        f"HNSW defaults (cosine, ef_search 100); Chroma {_version()} via {where_run}; Python "
        f"{platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs",
    ]
    return "\n".join(rows)


def _exact(
    vectors: NDArray[np.float32], mask: NDArray[np.bool_], query: NDArray[np.float32]
) -> tuple[NDArray[np.intp], float]:
    """Exact filtered top-K by brute force: (row indices, milliseconds)."""
    start = time.perf_counter()
    if mask.all():
        rows, scores = np.arange(len(vectors)), vectors @ query
    else:
        rows = np.flatnonzero(mask)
        scores = vectors[rows] @ query
    top = np.argpartition(-scores, min(K, len(rows) - 1))[:K]
    chosen = rows[top[np.argsort(-scores[top])]]
    return chosen, (time.perf_counter() - start) * 1e3


def _version() -> str:
    import chromadb

    return str(chromadb.__version__)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print (and optionally save) the table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="N = 10,000 and 50 queries")
    parser.add_argument("--n", type=int, default=None, help="number of vectors (overrides)")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--queries", type=int, default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--clustered", action="store_true", help="embedding-like clusters")
    parser.add_argument("--url", default=None, help="a Chroma server instead of a local dir")
    parser.add_argument("--output", type=Path, default=None, help="also write the table here")
    args = parser.parse_args(argv)
    n = args.n or (10_000 if args.quick else 100_000)
    n_queries = args.queries or (50 if args.quick else 300)
    table = run(n, args.dim, n_queries, args.seed, args.url, args.clustered)
    print(table)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
