"""Build an :class:`Embedder` from a short spec string (a setting, a CLI flag)."""

from __future__ import annotations

import re
from functools import cache

from retrieval.embedders._base import Embedder

__all__ = ["EMBEDDER_SPECS", "make_embedder"]

EMBEDDER_SPECS = ("use", "minilm", "openai:<model>@<base_url>")
"""The spec forms :func:`make_embedder` accepts."""

_OPENAI = re.compile(r"openai:(?P<model>[^@]+)@(?P<url>https?://\S+)")


def make_embedder(spec: str, *, api_key: str | None = None) -> Embedder:
    """The embedder a spec names.

    Args:
        spec: ``"use"`` (USE-multilingual, the default), ``"minilm"`` (all-MiniLM-L6-v2,
            English only) or ``"openai:<model>@<base_url>"`` (an OpenAI-compatible server such
            as vLLM, e.g. ``"openai:BAAI/bge-m3@http://127.0.0.1:8000"``).
        api_key: bearer token for ``openai:`` specs; ignored otherwise.

    Returns:
        A loaded embedder (local models load their weights here). ``"use"`` loads once per
        process and every later call returns that same, thread-safe embedder: loading it
        takes seconds, and the CLI, the server and the tests ask for it repeatedly.

    Raises:
        ValueError: the spec is none of the above; the message lists the choices.

    Example:
        >>> make_embedder("use").dim
        512
    """
    if not isinstance(spec, str):
        raise TypeError(f"embedder spec must be a str, got {type(spec).__name__}")
    key = spec.strip()
    if key.lower() == "use":
        return _use()
    if key.lower() == "minilm":
        from retrieval.embedders._minilm import MiniLMEmbedder

        return MiniLMEmbedder()
    match = _OPENAI.fullmatch(key)
    if match is not None:
        from retrieval.embedders._openai import OpenAIEmbedder

        return OpenAIEmbedder(match["url"], match["model"].strip(), api_key=api_key)
    raise ValueError(f"unknown embedder spec {spec!r}; choose one of: {', '.join(EMBEDDER_SPECS)}")


@cache
def _use() -> Embedder:
    """The process's one USE embedder (thread-safe: it serializes its model calls)."""
    from retrieval.embedders._use import UseEmbedder

    return UseEmbedder()
