"""Shared fixtures: the demo vocabulary, with and without the USE embedder."""

from __future__ import annotations

import pytest

from assistant.understanding import Vocabulary, demo_vocabulary


@pytest.fixture(scope="session")
def vocab() -> Vocabulary:
    """The demo catalog's dictionaries, no embedder."""
    return demo_vocabulary()


@pytest.fixture(scope="session")
def use_vocab(vocab: Vocabulary) -> Vocabulary:
    """The same dictionaries with the bundled USE-multilingual embedder as fallback."""
    from retrieval.embedders import make_embedder

    return vocab.with_embedder(make_embedder("use"))
