"""Fixtures of the index and sync tests, loaded with ``pytest_plugins`` by those modules.

``chroma_client`` runs a test on a PersistentClient in ``tmp_path`` and on an HttpClient to a
real ``chroma run --host 127.0.0.1`` server (one per session, marked ``integration``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from retrieval import ChromaIndex, make_client
from tests.retrieval._index_helpers import (
    HashEmbedder,
    clear_chroma_cache,
    start_chroma_server,
    stop_chroma_server,
)

CLIENTS = [
    pytest.param("persistent", id="persistent"),
    pytest.param("http", id="http", marks=pytest.mark.integration),
]


@pytest.fixture(scope="session")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real ``chroma run --host 127.0.0.1`` server shared by the whole session."""
    yield start_chroma_server(tmp_path_factory.mktemp("chroma-server"))
    stop_chroma_server()


@pytest.fixture(params=CLIENTS)
def chroma_client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A PersistentClient in ``tmp_path``, or an HttpClient to the session's server."""
    if request.param == "persistent":
        yield make_client(path=tmp_path / "chroma")
    else:
        yield make_client(url=request.getfixturevalue("chroma_url"))
    clear_chroma_cache()


@pytest.fixture
def index_ns() -> str:
    """A collection-name prefix unique to the test (the server is shared)."""
    return f"t{uuid.uuid4().hex[:10]}-"


@pytest.fixture
def hash_embedder() -> HashEmbedder:
    """A fresh counting embedder."""
    return HashEmbedder()


@pytest.fixture
def products_index(chroma_client: Any, index_ns: str, hash_embedder: HashEmbedder) -> ChromaIndex:
    """An empty ``products`` collection opened for :class:`HashEmbedder`."""
    return ChromaIndex.open(
        chroma_client,
        f"{index_ns}products",
        dim=hash_embedder.dim,
        embedder_name=hash_embedder.name,
    )
