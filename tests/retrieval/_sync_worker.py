"""Subprocess for the resumability test: ``python -m tests.retrieval._sync_worker ARGS``.

Under the index lock it syncs ``make_items(N, variant=...)`` into a PersistentClient with a
slow embedder that appends one line to ``--marker`` as each batch starts embedding, so the
test knows how many batches were committed before it kills this process with SIGKILL.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from retrieval import ChromaIndex, index_lock, make_client, sync_index
from tests.retrieval._index_helpers import HashEmbedder, make_items


class SlowEmbedder(HashEmbedder):
    """:class:`HashEmbedder` that reports each call to a file and then sleeps."""

    def __init__(self, marker: Path, delay: float) -> None:
        super().__init__()
        self.marker = marker
        self.delay = delay

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> NDArray[np.float32]:
        """Like :class:`HashEmbedder`, after reporting the call and sleeping ``delay``."""
        with self.marker.open("a") as out:
            out.write(f"{len(texts)}\n")
        time.sleep(self.delay)
        return super().embed(texts, progress=progress)


def main() -> None:
    """Parse the arguments and run one sync."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--path", type=Path, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--variant", default="")
    parser.add_argument("--batch-size", type=int, required=True)
    parser.add_argument("--delay", type=float, required=True)
    parser.add_argument("--marker", type=Path, required=True)
    args = parser.parse_args()
    embedder = SlowEmbedder(args.marker, args.delay)
    with index_lock(args.path.with_suffix(".lock")):
        index = ChromaIndex.open(
            make_client(path=args.path), args.name, dim=embedder.dim, embedder_name=embedder.name
        )
        sync_index(
            index, make_items(args.n, variant=args.variant), embedder, batch_size=args.batch_size
        )


if __name__ == "__main__":
    main()
