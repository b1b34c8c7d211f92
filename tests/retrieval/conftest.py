"""Shared fixtures for retrieval tests: the real embedders, loaded once per test session.

Both load with outgoing connections blocked, so a test run proves that loading them never
reaches a model hub (DESIGN.md, "Offline models").
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import pytest

from retrieval import MiniLMEmbedder, UseEmbedder

T = TypeVar("T")


@contextmanager
def no_network() -> Iterator[None]:
    """Make every outgoing socket connection fail loudly while the block runs."""

    def refuse(self: socket.socket, address: object) -> None:
        raise AssertionError(f"network access attempted while loading a model: {address!r}")

    saved = socket.socket.connect, socket.socket.connect_ex
    socket.socket.connect = refuse  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        socket.socket.connect, socket.socket.connect_ex = saved  # type: ignore[method-assign]


def _load_offline(build: Callable[[], T]) -> T:
    with no_network():
        return build()


@pytest.fixture(scope="session")
def use_embedder() -> UseEmbedder:
    """USE-multilingual, loaded once (about a second)."""
    return _load_offline(UseEmbedder)


@pytest.fixture(scope="session")
def minilm_embedder() -> MiniLMEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, loaded once (5-15 s: torch)."""
    return _load_offline(MiniLMEmbedder)
