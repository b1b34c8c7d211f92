"""Retrieval benchmark: indexing, filtered search latency and recall, and ranking quality.

Usage::

    .venv/bin/python benchmarks/retrieval.py --quick     # 5k products + 1k activities, < 60 s
    .venv/bin/python benchmarks/retrieval.py             # 100k + 10k demo, and The Complete
                                                         # Journey's 92k products
    .venv/bin/python benchmarks/retrieval.py --output docs/retrieval.md   # the measured section
    .venv/bin/python benchmarks/retrieval.py --write-queries   # regenerate the generated set

Everything is measured in one process on this machine with the real USE-multilingual
embeddings (512-d) behind the embedding cache ``var/bench/retrieval-embeddings.sqlite``: the
first run embeds every text once (about 10 minutes on 2 cores), later runs are warm.

* Indexing: USE's cold throughput on fresh texts, the :class:`~retrieval.SearchIndex` build,
  raw Chroma's insert (chromadb itself, cosine HNSW, vectors given), and the items/s of each
  path with embedding included (distinct texts / embedding rate + insert or build time).
* Latency: p50/p95 over the query set of the product top-k (300 and 50), unfiltered and under
  two filters, for the search index, a float16 variant, its forced exact plan, an exact masked
  numpy scan (float32, the ground truth) and Chroma's own ``where`` queries; recall@k is
  against the exact filtered top-k (ties counted).
* Quality (demo world): recall@50, nDCG@10 and MRR of dense, lexical and hybrid ranking on the
  frozen hand-written split and the generated split, reported separately, each query under its
  own filters.
"""

from __future__ import annotations

import os
import sys

if __name__ == "retrieval":
    # Scripts in benchmarks/ have this folder first on sys.path, so their `import retrieval`
    # finds this file before the package: hand the real package over and stop here.
    _here = os.path.dirname(os.path.abspath(__file__))
    _saved = sys.path[:]
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _here]
    del sys.modules["retrieval"]
    try:
        import retrieval as _package
    finally:
        sys.path[:] = _saved
    sys.modules["retrieval"] = _package
elif __name__ == "__main__":
    # The repository root goes first too: this folder's policy.py (the policy benchmark) would
    # shadow the `policy` package that the assistant imports.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from _retrieval_bench import main  # type: ignore[import-not-found]

    sys.exit(main())
