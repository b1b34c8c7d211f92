"""A client for OpenAI-compatible ``POST /v1/embeddings`` servers (vLLM in production).

vLLM serves embedding models (e.g. Qwen3-Embedding, BGE-M3) with ``vllm serve MODEL`` and
answers the OpenAI request ``{"model": ..., "input": [...]}`` with
``{"data": [{"index": i, "embedding": [...]}, ...]}``. This client only uses that subset, so any
compatible server works (llama.cpp's, text-embeddings-inference's OpenAI route, OpenAI itself).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any

import httpx
import numpy as np

from retrieval.embedders._base import (
    EmbeddingError,
    FloatMatrix,
    FloatVector,
    batches,
    check_positive,
    check_query,
    check_texts,
    empty_matrix,
    normalize_rows,
    progress_bar,
)

__all__ = ["OpenAIEmbedder"]

logger = logging.getLogger(__name__)

_RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_MAX_BACKOFF_S = 10.0


def _endpoint(base_url: str) -> str:
    """``{base_url}/v1/embeddings``; a base URL that already ends in ``/v1`` is accepted too."""
    if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
        raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
    base = base_url.rstrip("/")
    base = base.removesuffix("/v1")
    return f"{base}/v1/embeddings"


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible server such as ``vllm serve``.

    Texts go ``batch_size`` per request; transient failures (connection errors, timeouts, HTTP
    408/429/5xx) are retried ``max_retries`` times with exponential backoff (``backoff_s``,
    doubling, at most 10 s; a 429's ``Retry-After`` is honoured up to that cap). Rows are put
    back in input order by each item's ``index`` and L2-normalized here (servers differ on
    whether they normalize). The dimension comes from the first response; reading :attr:`dim`
    before any call sends one short probe request.

    Blank texts are sent as ``""``; a server that refuses empty input answers 4xx and this
    raises :class:`EmbeddingError`.

    Args:
        base_url: the server's root, e.g. ``http://127.0.0.1:8000`` (a trailing ``/v1`` is ok).
        model: the served model's name; :attr:`name` is ``openai:<model>``.
        api_key: sent as ``Authorization: Bearer <api_key>`` when given.
        timeout: seconds per request (connect, read, write and pool each).
        batch_size: texts per request.
        max_retries: retries after the first attempt of each request.
        backoff_s: the first retry's delay.
        dim: the expected dimension; a response of another length raises. Default: learned.
        query_prefix: prepended by :meth:`embed_query` only, for instruction-tuned models
            (Qwen3-Embedding wants ``"Instruct: <task>\\nQuery: "``); documents never get it.
        client: an ``httpx.Client`` to use instead of a new one (for tests and pooling).

    Example:
        >>> embedder = OpenAIEmbedder("http://127.0.0.1:8000", "BAAI/bge-m3")  # doctest: +SKIP
        >>> embedder.embed(["running shoes", "跑步鞋"]).shape  # doctest: +SKIP
        (2, 1024)
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        batch_size: int = 64,
        max_retries: int = 3,
        backoff_s: float = 0.5,
        dim: int | None = None,
        query_prefix: str = "",
        client: httpx.Client | None = None,
    ) -> None:
        if not isinstance(model, str) or not model.strip():
            raise ValueError(f"model must be a non-empty str, got {model!r}")
        if max_retries < 0 or backoff_s < 0 or timeout <= 0:
            raise ValueError(
                "max_retries and backoff_s must be >= 0 and timeout > 0, got "
                f"max_retries={max_retries!r}, backoff_s={backoff_s!r}, timeout={timeout!r}"
            )
        self.url = _endpoint(base_url)
        self.model = model
        self.name = f"openai:{model}"
        self.batch_size = check_positive("batch_size", batch_size)
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.query_prefix = query_prefix
        self._dim = None if dim is None else check_positive("dim", dim)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._owns_client = client is None
        self._client = client if client is not None else httpx.Client(timeout=timeout)
        self._headers = headers

    @property
    def dim(self) -> int:
        """The vector length, learned from the first response (a probe request if needed)."""
        if self._dim is None:
            self._request(["dimension probe"])
        assert self._dim is not None  # set by _request
        return self._dim

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> FloatMatrix:
        """Embed documents, ``batch_size`` per request.

        Args:
            texts: the texts; blank ones are sent as ``""``.
            progress: show a tqdm bar on stderr, one step per request.

        Returns:
            float32 unit rows, shape ``(len(texts), dim)``, in input order.

        Raises:
            TypeError: ``texts`` is not a sequence of ``str``.
            EmbeddingError: the server failed after the retries, refused the request, or
                answered something that is not a valid embeddings response.
        """
        items = check_texts(texts)
        if not items:
            return empty_matrix(self.dim)
        parts: list[FloatMatrix] = []
        with progress_bar(len(items), self.name, progress) as bar:
            for batch in batches(items, self.batch_size):
                parts.append(self._request(batch))
                bar.update(len(batch))
        return np.concatenate(parts, axis=0)

    def embed_query(self, text: str) -> FloatVector:
        """Embed one query (with :attr:`query_prefix`), shape ``(dim,)``."""
        vector: FloatVector = self._request([self.query_prefix + check_query(text)])[0]
        return vector

    def close(self) -> None:
        """Close the HTTP client if this embedder created it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> OpenAIEmbedder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"OpenAIEmbedder(url={self.url!r}, model={self.model!r})"

    def _request(self, batch: list[str]) -> FloatMatrix:
        """One batch through the retry loop; shape ``(len(batch), dim)``."""
        payload = {"model": self.model, "input": batch, "encoding_format": "float"}
        attempts = self.max_retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self._client.post(self.url, json=payload, headers=self._headers)
            except httpx.TransportError as exc:
                if last:
                    raise EmbeddingError(
                        f"POST {self.url} failed after {attempts} attempts: "
                        f"{type(exc).__name__}: {exc}; is the embedding server running there?"
                    ) from exc
                logger.warning("POST %s: %s; retrying", self.url, type(exc).__name__)
                time.sleep(self._delay(attempt, None))
                continue
            if response.status_code == 200:
                return self._parse(response, len(batch))
            detail = response.text[:300].strip()
            if response.status_code not in _RETRY_STATUS:
                raise EmbeddingError(
                    f"POST {self.url} was refused with HTTP {response.status_code} "
                    f"(model {self.model!r}): {detail}"
                )
            if last:
                raise EmbeddingError(
                    f"POST {self.url} failed with HTTP {response.status_code} after {attempts} "
                    f"attempts (model {self.model!r}): {detail}"
                )
            logger.warning("POST %s: HTTP %d; retrying", self.url, response.status_code)
            time.sleep(self._delay(attempt, response.headers.get("retry-after")))
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        delay = min(self.backoff_s * 2.0**attempt, _MAX_BACKOFF_S)
        if retry_after is not None:
            with contextlib.suppress(ValueError):  # an HTTP date: keep our own backoff
                delay = max(delay, min(float(retry_after), _MAX_BACKOFF_S))
        return delay

    def _parse(self, response: httpx.Response, n: int) -> FloatMatrix:
        """Rows of a 200 response in input order, shape ``(n, dim)``, unit norm."""

        def bad(why: str) -> EmbeddingError:
            return EmbeddingError(f"POST {self.url} answered an invalid embeddings response: {why}")

        try:
            body: Any = response.json()
            data = body["data"]
            rows = {int(item["index"]): item["embedding"] for item in data}
        except (ValueError, KeyError, TypeError) as exc:
            raise bad(f"expected {{'data': [{{'index', 'embedding'}}, ...]}} ({exc!r})") from exc
        if len(data) != n or sorted(rows) != list(range(n)):
            raise bad(f"sent {n} inputs, got indices {sorted(rows)[:10]} ({len(data)} items)")
        try:
            matrix = np.asarray([rows[i] for i in range(n)], dtype=np.float32)
        except (ValueError, TypeError) as exc:
            raise bad(f"embeddings are not equal-length number lists ({exc})") from exc
        if matrix.ndim != 2 or matrix.shape[1] == 0:
            raise bad(f"embeddings have shape {matrix.shape}, expected ({n}, dim)")
        if self._dim is None:
            self._dim = int(matrix.shape[1])
            logger.info("%s at %s has dimension %d", self.model, self.url, self._dim)
        elif matrix.shape[1] != self._dim:
            raise bad(f"got {matrix.shape[1]}-d vectors, expected {self._dim}")
        return normalize_rows(matrix, f"POST {self.url}")
