"""The retrieval benchmark's body; run it through ``benchmarks/retrieval.py`` (see there)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from _report import save  # type: ignore[import-not-found]
from _retrieval_data import (  # type: ignore[import-not-found]
    World,
    activity_grades,
    complete_journey_items,
    demo_world,
    embedder,
    generate_queries,
    texts,
)
from numpy.typing import NDArray

from retrieval import (
    Filters,
    IndexItem,
    SearchIndex,
    make_client,
    mrr,
    ndcg_at_k,
    recall_at_k,
    recall_vs_exact,
)

DATA = Path(__file__).parent / "data"
TEST_QUERIES = DATA / "retrieval_queries_test.jsonl"
GENERATED_QUERIES = DATA / "retrieval_queries_generated.jsonl"
MODES = ("dense", "lexical", "hybrid")
RANKINGS = (*MODES, "dense, no expansion")
Vectors = NDArray[np.float32]


def read_queries(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _minor(text: str) -> int:
    units, _, cents = text.partition(".")
    return int(units) * 100 + int((cents + "00")[:2])


def query_filters(query: dict[str, Any], now: int) -> Filters:
    spec = query.get("filters", {})
    low, high = spec.get("min_price"), spec.get("max_price")
    types = tuple(spec.get("activity_types", ()))
    return Filters(
        min_price=None if low is None else _minor(low),
        max_price=None if high is None else _minor(high),
        activity_types=types,
        valid_at=now,
    )


def _ms(samples: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)))]
    return statistics.median(ordered) * 1e3, p95 * 1e3


def _timed(call: Callable[[int], Any], n: int) -> tuple[list[Any], list[float]]:
    out, times = [], []
    for i in range(n):
        start = time.perf_counter()
        out.append(call(i))
        times.append(time.perf_counter() - start)
    return out, times


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:,.2f}"


class Chroma:
    """A raw chromadb collection in a temporary directory, vectors and metadata given."""

    def __init__(self, items: Sequence[IndexItem], vectors: Vectors) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="bench-chroma-")
        client = make_client(Path(self._dir.name))
        self.collection = client.create_collection(
            "products", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
        )
        batch = client.get_max_batch_size()
        start = time.perf_counter()
        for at in range(0, len(items), batch):
            part = items[at : at + batch]
            self.collection.add(
                ids=[i.id for i in part],
                embeddings=vectors[at : at + batch],
                metadatas=[dict(i.metadata) for i in part],  # type: ignore[misc]
            )
        self.insert_s = time.perf_counter() - start

    def query(self, vector: Vectors, k: int, where: dict[str, Any] | None) -> list[str]:
        got = self.collection.query(
            query_embeddings=vector[None, :], n_results=k, where=where, include=[]
        )
        return list(got["ids"][0])

    def close(self) -> None:
        self._dir.cleanup()


def exact_scan(vectors: Vectors, mask: NDArray[np.bool_] | None, q: Vectors, k: int) -> Vectors:
    """The baseline exact masked numpy scan: scores of the filtered top-k, best first.

    A selective mask gathers its rows; a broad one scores every row and masks the scores.
    """
    if mask is None:
        scores = vectors @ q
    elif mask.mean() < 0.1:
        scores = vectors[np.flatnonzero(mask)] @ q
    else:
        scores = np.where(mask, vectors @ q, -np.inf).astype(np.float32)
    k = min(k, int(np.isfinite(scores).sum()))
    if k == 0:
        return scores[:0]
    top = np.argpartition(-scores, k - 1)[:k]
    return np.sort(scores[top])[::-1]


def indexing(
    name: str,
    products: Sequence[IndexItem],
    activities: Sequence[IndexItem],
    vectors: tuple[Vectors, Vectors],
    sample: int,
) -> tuple[str, SearchIndex, Chroma]:
    """Build the search index (products and activities) and a raw Chroma collection of the
    products; the indexing table row."""
    distinct = list(dict.fromkeys(texts([*products, *activities])))
    fresh = distinct[:sample]
    inner = embedder().inner
    start = time.perf_counter()
    inner.embed(fresh)
    embed_rate = len(fresh) / (time.perf_counter() - start)
    n = len(products) + len(activities)
    start = time.perf_counter()
    index = SearchIndex.from_items(products, vectors[0], activities, vectors[1])
    build_s = time.perf_counter() - start
    chroma = Chroma(products, vectors[0])
    chroma_rate = len(products) / chroma.insert_s
    embed_s = len(distinct) / embed_rate
    row = (
        f"| {name} | {n:,} | {len(distinct):,} | {_fmt(embed_rate)} | {_fmt(n / build_s)} "
        f"({build_s:.1f} s) | {_fmt(chroma_rate)} ({chroma.insert_s:.0f} s) | "
        f"{_fmt(n / (embed_s + build_s))} | {_fmt(n / (embed_s + n / chroma_rate))} |"
    )
    return row, index, chroma


def plain_index(items: Sequence[IndexItem], vectors: Vectors, **options: Any) -> SearchIndex:
    """Products only, no texts (no BM25): the variants timed beside the main index."""
    catalog = ([i.id for i in items], None, [i.metadata for i in items])
    empty = ([], None, [])
    return SearchIndex(
        catalog, vectors, empty, np.zeros((0, vectors.shape[1]), np.float32), **options
    )


def latency(
    index: SearchIndex,
    items: Sequence[IndexItem],
    chroma: Chroma,
    vectors: Vectors,
    queries: Vectors,
    filters: dict[str, tuple[Filters, dict[str, Any]]],
    chroma_calls: int,
) -> list[str]:
    """Latency and recall rows for unfiltered and filtered top-300 / top-50."""
    ids = [i.id for i in items]
    row_of = {item_id: r for r, item_id in enumerate(ids)}
    order = np.array([row_of[i] for i in index.product_ids])
    half = plain_index(items, vectors, dtype="float16")
    n = queries.shape[0]
    out: list[str] = []
    for label, (flt, where) in filters.items():
        sorted_mask, _ = index.masks(flt)
        mask = None
        if sorted_mask is not None:
            mask = np.zeros(len(ids), dtype=np.bool_)
            mask[order[sorted_mask]] = True
        share = 1.0 if mask is None else float(mask.mean())
        for k in (300, 50):
            truth, scan_t = _timed(
                lambda i, m=mask, kk=k: exact_scan(vectors, m, queries[i], kk), n
            )
            rows: list[tuple[str, list[float], list[float]]] = []
            for name, engine, plan in (
                ("SearchIndex, auto plan", index, "auto"),
                ("SearchIndex float16, auto plan", half, "auto"),
                ("SearchIndex, exact plan", index, "exact"),
            ):
                results, t = _timed(
                    lambda i, e=engine, p=plan, f=flt, kk=k: e.search(
                        vector=queries[i],
                        filters=f,
                        k_products=kk,
                        k_activities=0,
                        expand=False,
                        plan=p,
                    ),
                    n,
                )
                recalls = [
                    recall_vs_exact(
                        vectors[[row_of[h.id] for h in r.products]] @ queries[i], truth[i], k
                    )
                    for i, r in enumerate(results)
                ]
                rows.append((name, t, recalls))
            rows.append(("numpy exact masked scan (float32)", scan_t, [1.0] * n))
            calls = min(n, chroma_calls)
            got, t = _timed(lambda i, kk=k, w=where: chroma.query(queries[i], kk, w or None), calls)
            recalls = [
                recall_vs_exact(vectors[[row_of[x] for x in g]] @ queries[i], truth[i], k)
                for i, g in enumerate(got)
            ]
            rows.append((f"Chroma query{' + where' if where else ''}", t, recalls))
            for name, t, recalls in rows:
                p50, p95 = _ms(t)
                out.append(
                    f"| {label} ({share:.0%} pass) | {k} | {name} | {len(t)} | {p50:.2f} | "
                    f"{p95:.2f} | {np.mean(recalls):.3f} |"
                )
    return out


def full_search(index: SearchIndex, queries: Vectors, flt: Filters, label: str) -> list[str]:
    """The whole call a turn makes: 300 products + 50 activities + expansion."""
    rows = []
    for name, f in (("unfiltered", Filters()), (label, flt)):
        _, t = _timed(lambda i, ff=f: index.search(vector=queries[i], filters=ff), queries.shape[0])
        p50, p95 = _ms(t)
        rows.append(f"| {name} | {len(t)} | {p50:.2f} | {p95:.2f} |")
    return rows


def quality(
    index: SearchIndex, world: World, sets: dict[str, list[dict[str, Any]]], vectors: Vectors
) -> tuple[list[str], list[str]]:
    """Product metrics per query set and mode; activity nDCG@10 with and without expansion."""
    leaf = {i.id: str(i.metadata["category"]) for i in world.products}
    covers = activity_grades(world)
    product_rows, activity_rows = [], []
    at = 0
    for set_name, queries in sets.items():
        qvec = vectors[at : at + len(queries)]
        at += len(queries)
        scores: dict[str, list[tuple[float, float, float]]] = {m: [] for m in RANKINGS}
        acts: dict[str, list[float]] = {"dense": [], "dense, no expansion": [], "hybrid": []}
        for q, v in zip(queries, qvec, strict=True):
            flt = query_filters(q, world.now)
            p_mask, a_mask = index.masks(flt)
            grades = q["relevant"]
            allowed = [i for r, i in enumerate(index.product_ids) if p_mask is None or p_mask[r]]
            relevant = {i: grades.get(leaf[i], 0) for i in allowed if grades.get(leaf[i], 0)}
            a_allowed = [i for r, i in enumerate(index.activity_ids) if a_mask is None or a_mask[r]]
            a_relevant = {
                i: max((grades.get(c, 0) for c in covers[i]), default=0) for i in a_allowed
            }
            for ranking in RANKINGS:
                mode = ranking.split(",")[0]
                r = index.search(
                    q["query"],
                    vector=v,
                    filters=flt,
                    mode=mode,
                    expand="no expansion" not in ranking,
                )
                ranked = [h.id for h in r.products]
                scores[ranking].append(
                    (
                        recall_at_k(ranked, relevant, 50),
                        ndcg_at_k(ranked, relevant, 10),
                        mrr(ranked, relevant),
                    )
                )
                if ranking in acts:
                    acts[ranking].append(ndcg_at_k([h.id for h in r.activities], a_relevant, 10))
        for mode in RANKINGS:
            m = np.mean(np.array(scores[mode]), axis=0)
            product_rows.append(
                f"| {set_name} | {len(queries)} | {mode} | {m[0]:.3f} | {m[1]:.3f} | {m[2]:.3f} |"
            )
        for name, values in acts.items():
            activity_rows.append(f"| {set_name} | {name} | {np.mean(values):.3f} |")
    return product_rows, activity_rows


def spot_checks(index: SearchIndex, world: World) -> list[str]:
    """The two Chinese queries the issue names: leaf of the top 10 products."""
    use = embedder()
    leaf = {i.id: str(i.metadata["category"]) for i in world.products}
    out = []
    for query, wanted in (("便宜的跑步鞋", "shoes/running"), ("厨房刀具", "home/kitchen-knives")):
        r = index.search(query, embedder=use)
        top = [leaf[h.id] for h in r.products[:10]]
        out.append(f"| {query} | {wanted} | {top.count(wanted)}/10 |")
    return out


def _price_median(items: Sequence[IndexItem], prefix: str) -> int:
    prices = [
        int(i.metadata["final_price"])
        for i in items
        if "final_price" in i.metadata and str(i.metadata["category"]).startswith(prefix)
    ]
    return int(np.median(prices))


def _filters(
    items: Sequence[IndexItem], department: str, leaf: str, cap: int | None = None
) -> dict[str, tuple[Filters, dict[str, Any]]]:
    """Unfiltered, a broad filter (price and one department) and a selective one (price and
    one category)."""
    broad = cap if cap is not None else _price_median(items, department + "/")
    narrow = cap if cap is not None else _price_median(items, leaf)
    depth = leaf.count("/")
    return {
        "unfiltered": (Filters(), {}),
        f"price <= {broad / 100:.2f} and {department}": (
            Filters(max_price=broad, categories=[department]),
            {"$and": [{"cat0": {"$eq": department}}, {"final_price": {"$lte": broad}}]},
        ),
        f"price <= {narrow / 100:.2f} and {leaf}": (
            Filters(max_price=narrow, categories=[leaf]),
            {"$and": [{f"cat{depth}": {"$eq": leaf}}, {"final_price": {"$lte": narrow}}]},
        ),
    }


LATENCY_HEAD = [
    "| filter | k | engine | calls | p50 (ms) | p95 (ms) | recall@k vs exact |",
    "| --- | ---: | --- | ---: | ---: | ---: | ---: |",
]
INDEX_HEAD = [
    "| data | items | distinct texts | USE texts/s (cold) | SearchIndex build, items/s "
    "| raw Chroma insert, items/s | SearchIndex + embedding, items/s "
    "| Chroma + embedding, items/s |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
]


def run(args: argparse.Namespace) -> str:
    """Every section; the markdown report."""
    quick = args.quick
    load = os.getloadavg()
    out = [
        f"# Retrieval benchmark (`benchmarks/retrieval.py{' --quick' if quick else ''}`)",
        "",
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"numpy {np.__version__}; load average at start {load[0]:.1f}. USE-multilingual-v3 "
        "512-d embeddings; search single-threaded (BLAS 1 thread).",
        "",
    ]
    use = embedder()
    n_p, n_a = (5_000, 1_000) if quick else (100_000, 10_000)
    world = demo_world(n_p, n_a)
    start = time.perf_counter()
    vectors = (
        use.embed(texts(world.products), progress=not quick),
        use.embed(texts(world.activities), progress=not quick),
    )
    print(f"demo world embedded in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    sets = {
        "test (frozen, hand-written)": read_queries(TEST_QUERIES),
        "generated": read_queries(GENERATED_QUERIES),
    }
    all_queries = [q["query"] for qs in sets.values() for q in qs]
    qvec = use.embed(all_queries)
    sample = 300 if quick else 1000
    index_rows = []
    row, index, chroma = indexing(
        f"demo {n_p:,} products + {len(world.activities):,} activities",
        world.products,
        world.activities,
        vectors,
        sample,
    )
    index_rows.append(row)
    n_lat = min(qvec.shape[0], 100 if quick else 300)
    chroma_calls = 50 if quick else 100
    lat_q = qvec[np.random.default_rng(0).permutation(qvec.shape[0])[:n_lat]]
    demo_filters = _filters(world.products, "electronics", "shoes/running")
    lat_rows = [f"| **demo, {n_p:,} products** | | | | | | |"]
    lat_rows += latency(
        index, world.products, chroma, vectors[0], lat_q, demo_filters, chroma_calls
    )
    chroma.close()
    broad_label, (broad, _) = list(demo_filters.items())[1]
    turn_rows = full_search(index, lat_q, broad, broad_label)
    print("demo latency done", file=sys.stderr)
    product_rows, activity_rows = quality(index, world, sets, qvec)
    spot = spot_checks(index, world)
    if not quick and not args.no_cj:
        items, types = complete_journey_items()
        cj_vectors = use.embed(texts(items), progress=True)
        pick = np.random.default_rng(1).permutation(len(types))[:n_lat]
        cj_q = use.embed([types[i] for i in pick])
        no_acts = np.zeros((0, cj_vectors.shape[1]), np.float32)
        row, cj_index, cj_chroma = indexing(
            f"The Complete Journey {len(items):,} products (simulated data)",
            items,
            [],
            (cj_vectors, no_acts),
            sample,
        )
        index_rows.append(row)
        cj_filters = _filters(items, "grocery", "grocery/frozen-pizza", cap=500)
        lat_rows.append(f"| **The Complete Journey, {len(items):,} products** | | | | | | |")
        lat_rows += latency(cj_index, items, cj_chroma, cj_vectors, cj_q, cj_filters, chroma_calls)
        cj_chroma.close()
    out += ["## Indexing", "", *INDEX_HEAD, *index_rows, ""]
    out += ["## Product top-k latency and recall against exact filtered search", ""]
    out += [*LATENCY_HEAD, *lat_rows, ""]
    out += ["## One whole search (300 products + 50 activities + expansion), demo", ""]
    out += ["| filter | calls | p50 (ms) | p95 (ms) |", "| --- | ---: | ---: | ---: |"]
    out += [*turn_rows, ""]
    out += [f"## Quality on the demo world ({n_p:,} products), products", ""]
    out += ["| query set | queries | mode | recall@50 | nDCG@10 | MRR |"]
    out += ["| --- | ---: | --- | ---: | ---: | ---: |", *product_rows, ""]
    out += ["## Quality, activities (nDCG@10; an activity's grade is its best covered leaf)", ""]
    out += ["| query set | ranking | nDCG@10 |", "| --- | --- | ---: |", *activity_rows, ""]
    out += ["## Spot checks (demo catalog, default search)", ""]
    out += ["| query | wanted leaf | in the top 10 |", "| --- | --- | ---: |", *spot, ""]
    load = os.getloadavg()
    out.append(f"Load average at the end: {load[0]:.1f}.")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print (and optionally save) the report."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="5k products, < 60 s")
    parser.add_argument("--no-cj", action="store_true", help="skip The Complete Journey")
    parser.add_argument("--output", type=Path, default=None, help="also write the report here")
    parser.add_argument(
        "--write-queries", action="store_true", help=f"write {GENERATED_QUERIES.name} and exit"
    )
    args = parser.parse_args(argv)
    if args.write_queries:
        with GENERATED_QUERIES.open("w", encoding="utf-8") as out:
            for query in generate_queries():
                out.write(json.dumps(query, ensure_ascii=False) + "\n")
        print(f"wrote {GENERATED_QUERIES}")
        return 0
    started = time.perf_counter()
    report = run(args)
    report += f" Whole run: {time.perf_counter() - started:.0f} s.\n"
    print(report)
    if args.output:
        save(args.output, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
