"""Helpers of the index and sync tests: a tiny embedder, items, a real ``chroma run`` server.

The server is one per test process, started on first use and stopped at exit.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from retrieval import ChromaIndex, IndexItem, ProductMeta

DIM = 64
CATEGORIES = ["shoes/running", "shoes/trail", "apparel/socks", "apparel/jackets/rain", "home"]
BRANDS = ["Stride", "Lumi", "Peak"]


class HashEmbedder:
    """Deterministic bag-of-words embedder: each word hashes to a signed unit in 64 dims."""

    def __init__(self, name: str = "hash-64", dim: int = DIM) -> None:
        self.name = name
        self.dim = dim
        self.calls = 0
        self.texts = 0

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> NDArray[np.float32]:
        """Shape ``(len(texts), dim)``, float32, unit rows; ``""`` maps to the first axis."""
        self.calls += 1
        self.texts += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                out[row, digest[0] % self.dim] += 1.0 if digest[1] % 2 else -1.0
            if not out[row].any():
                out[row, 0] = 1.0
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out


def make_items(n: int, *, variant: str = "") -> list[IndexItem]:
    """``n`` product items with deterministic text and metadata (``variant`` alters text)."""
    items = []
    for i in range(n):
        category = CATEGORIES[i % len(CATEGORIES)]
        price = 1000 + 137 * i
        meta = ProductMeta(category, BRANDS[i % 3], price, price - (i % 4) * 50, i % 7 != 0)
        text = f"product {i} {category.replace('/', ' ')} {BRANDS[i % 3]} {variant}".strip()
        items.append(IndexItem(f"P{i:04d}", text, meta.to_metadata()))
    return items


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


_server: dict[str, Any] = {}


def stop_chroma_server() -> None:
    """Stop the server :func:`start_chroma_server` started, if any."""
    process: subprocess.Popen[bytes] | None = _server.pop("process", None)
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_chroma_server(root: Path) -> str:
    """Start (once per process) a real ``chroma run`` on 127.0.0.1; its URL."""
    if "url" in _server and _server["process"].poll() is None:
        return str(_server["url"])
    port = free_port()
    log_path = root / "chroma-server.log"
    chroma = Path(sys.executable).parent / "chroma"
    command = [str(chroma), "run", "--path", str(root / "data"), "--host", "127.0.0.1"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
    _server.update(process=process)
    atexit.register(stop_chroma_server)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chroma run exited with {process.returncode}: {log_path}")
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1) as answer:
                if answer.status == 200:
                    _server["url"] = url
                    return url
        except OSError:
            time.sleep(0.1)
    stop_chroma_server()
    raise RuntimeError(f"chroma run did not answer within 60 s: {log_path}")


def clear_chroma_cache() -> None:
    """Forget chromadb's per-process client systems (so a directory is read afresh)."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


def assert_same_index(left: ChromaIndex, right: ChromaIndex) -> None:
    """Same ids, same metadata (hashes included), vectors within 1e-6."""
    a, b = left.export(), right.export()
    order_a, order_b = np.argsort(a.ids), np.argsort(b.ids)
    assert [a.ids[i] for i in order_a] == [b.ids[i] for i in order_b]
    assert [a.metadatas[i] for i in order_a] == [b.metadatas[i] for i in order_b]
    np.testing.assert_allclose(a.vectors[order_a], b.vectors[order_b], atol=1e-6, rtol=0)
