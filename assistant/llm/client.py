"""The chat-model seam and its one implementation over an OpenAI-compatible server.

:class:`ChatModel` is all the rest of shopassist knows of an LLM: JSON that matches a JSON Schema
(:meth:`ChatModel.complete_json`) and streamed text (:meth:`ChatModel.stream`), with the token
counts the server reports. :class:`OpenAIChatModel` implements it with langchain's
``ChatOpenAI`` and sends only what vLLM's OpenAI-compatible server and llama.cpp's server both
accept (``response_format`` ``{"type": "json_schema", ...}``, ``stream_options.include_usage``,
``max_completion_tokens``), so the embedded server is a faithful stand-in for production.

Token counts come from the server's ``usage``, never from tiktoken (it downloads its encodings):
nothing here calls ``get_num_tokens``. Timeouts raise :class:`~assistant.errors.LLMTimeout`,
every other failure (connection refused, server gone mid-stream, bad JSON)
:class:`~assistant.errors.LLMError`; no retries, the caller falls back to rules.

Example:
    >>> from assistant.config import Settings
    >>> from assistant.llm import make_chat_model
    >>> llm = make_chat_model(Settings(), start_server=True)  # doctest: +SKIP
    >>> llm.complete_json(  # doctest: +SKIP
    ...     [{"role": "user", "content": "running shoes under $80"}],
    ...     {"type": "object", "properties": {"max_price": {"type": "number"}},
    ...      "required": ["max_price"]},
    ... )
    {'max_price': 80}
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypedDict, runtime_checkable

import httpx

from assistant.config import LLMBackend, Settings
from assistant.errors import LLMError, LLMTimeout

if TYPE_CHECKING:
    from langchain_openai import ChatOpenAI

__all__ = ["ChatModel", "Message", "OpenAIChatModel", "Usage", "make_chat_model"]

logger = logging.getLogger(__name__)

API_KEY_ENV = "SHOPASSIST_LLM_API_KEY"


class Message(TypedDict):
    """One chat message, as the OpenAI chat API takes it.

    The methods accept any mapping with ``role`` and ``content`` (plain dicts too); this type
    documents the shape and lets callers build messages with checked keys.
    """

    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one call, as the server reported them."""

    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


@runtime_checkable
class ChatModel(Protocol):
    """An LLM that answers chat messages with schema-bound JSON or streamed text.

    Implementations raise :class:`~assistant.errors.LLMTimeout` when a call runs past its
    ``timeout_s`` and :class:`~assistant.errors.LLMError` for every other failure.
    """

    @property
    def model(self) -> str:
        """The model id sent to the server (for logs and decisions)."""
        ...

    @property
    def last_usage(self) -> Usage | None:
        """Token counts of this thread's last finished call (``None`` before any)."""
        ...

    def complete_json(
        self,
        messages: Sequence[Mapping[str, Any]],
        schema: Mapping[str, Any],
        *,
        name: str = "response",
        max_tokens: int = 128,
        timeout_s: float = 10.0,
    ) -> dict[str, Any]:
        """The model's answer as a JSON object constrained by ``schema`` (temperature 0).

        Args:
            messages: The conversation, system prompt first.
            schema: A JSON Schema for an object; the server constrains decoding to it.
            name: The schema's name in the request (letters, digits, ``_`` and ``-``).
            max_tokens: Upper bound on generated tokens; an answer cut short is an error.
            timeout_s: Deadline for the whole call.
        """
        ...

    def stream(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        max_tokens: int = 200,
        timeout_s: float = 20.0,
    ) -> Iterator[str]:
        """The model's reply as text deltas, as they are generated.

        ``timeout_s`` bounds the whole stream; the error is raised from the iteration.
        """
        ...


class OpenAIChatModel:
    """:class:`ChatModel` over any OpenAI-compatible server (vLLM, the embedded llama.cpp).

    Args:
        base_url: The server's API root, e.g. ``http://127.0.0.1:8000/v1``.
        model: The served model id; ``None`` asks the server's ``/models`` on first use.
        api_key: Sent as a bearer token (default: ``$SHOPASSIST_LLM_API_KEY``, else none).
        temperature: Sampling temperature for :meth:`stream` (JSON is always at 0).
    """

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        *,
        api_key: str | None = None,
        temperature: float = 0.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._model = model
        self._api_key = api_key or os.environ.get(API_KEY_ENV) or "none"
        self._temperature = temperature
        self._chat: ChatOpenAI | None = None
        self._lock = threading.Lock()
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"OpenAIChatModel(base_url={self.base_url!r}, model={self._model!r})"

    @property
    def model(self) -> str:
        """The served model id (asked from the server once when not given)."""
        return self._client().model_name

    @property
    def last_usage(self) -> Usage | None:
        """Token counts of this thread's last finished call."""
        usage: Usage | None = getattr(self._local, "usage", None)
        return usage

    def complete_json(
        self,
        messages: Sequence[Mapping[str, Any]],
        schema: Mapping[str, Any],
        *,
        name: str = "response",
        max_tokens: int = 128,
        timeout_s: float = 10.0,
    ) -> dict[str, Any]:
        """The answer as a JSON object matching ``schema``; see :meth:`ChatModel.complete_json`."""
        response_format = {
            "type": "json_schema",
            "json_schema": {"name": name, "schema": dict(schema), "strict": True},
        }
        started = time.perf_counter()
        cut_off = LLMError(
            f"the JSON answer was cut off at max_tokens={max_tokens}; allow more tokens or "
            "shrink the schema"
        )
        self._local.usage = None
        with _mapped_errors(self.base_url, timeout_s):
            import openai

            try:
                reply = self._client().invoke(
                    _as_dicts(messages),
                    response_format=response_format,
                    temperature=0.0,
                    max_tokens=max_tokens,
                    timeout=timeout_s,
                )
            except openai.LengthFinishReasonError as exc:  # openai's parse() refuses a cut
                usage = exc.completion.usage
                if usage is not None:
                    self._local.usage = Usage(usage.prompt_tokens, usage.completion_tokens)
                raise cut_off from exc
        self._local.usage = _usage(reply.usage_metadata)
        if reply.response_metadata.get("finish_reason") == "length":
            raise cut_off
        text = reply.content if isinstance(reply.content, str) else str(reply.content)
        try:
            answer = json.loads(text)
        except ValueError:
            raise LLMError(f"the LLM's answer is not JSON: {text[:200]!r}") from None
        if not isinstance(answer, dict):
            raise LLMError(f"the LLM's answer is JSON but not an object: {text[:200]!r}")
        logger.debug(
            "LLM JSON %s in %.2f s (%s)", name, time.perf_counter() - started, self.last_usage
        )
        return answer

    def stream(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        max_tokens: int = 200,
        timeout_s: float = 20.0,
    ) -> Iterator[str]:
        """Text deltas of the reply; see :meth:`ChatModel.stream`."""
        self._local.usage = None
        deadline = time.monotonic() + timeout_s
        with _mapped_errors(self.base_url, timeout_s) as call:
            chunks = self._client().stream(
                _as_dicts(messages),
                temperature=self._temperature,
                max_tokens=max_tokens,
                timeout=timeout_s,  # httpx applies it per read: a stalled server ends the call
                stream_usage=True,
            )
            try:
                for chunk in chunks:
                    if chunk.usage_metadata:
                        self._local.usage = _usage(chunk.usage_metadata)
                    if isinstance(chunk.content, str) and chunk.content:
                        call.streamed = True
                        yield chunk.content
                    if time.monotonic() > deadline:
                        raise LLMTimeout(
                            f"the LLM at {self.base_url} did not finish within {timeout_s:g} s"
                        )
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:  # a generator: closing it drops the connection
                    close()

    def _client(self) -> ChatOpenAI:
        with self._lock:
            if self._chat is None:
                from langchain_openai import ChatOpenAI
                from pydantic import SecretStr

                self._chat = ChatOpenAI(
                    model=self._model or self._served_model(),
                    base_url=self.base_url,
                    api_key=SecretStr(self._api_key),
                    temperature=self._temperature,
                    max_retries=0,  # the turn has a deadline; rules are the fallback
                    stream_usage=True,
                )
            return self._chat

    def _served_model(self) -> str:
        try:
            response = httpx.get(
                f"{self.base_url}/models",
                headers={"Authorization": f"Bearer {self._api_key}"},
                timeout=5.0,
            )
            response.raise_for_status()
            return str(response.json()["data"][0]["id"])
        except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
            raise LLMError(
                f"cannot ask {self.base_url}/models which model it serves ({exc}); "
                "set SHOPASSIST_LLM_MODEL"
            ) from exc


def _as_dicts(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"role": str(m["role"]), "content": str(m["content"])} for m in messages]


def _usage(metadata: Mapping[str, Any] | None) -> Usage | None:
    if not metadata:
        return None
    return Usage(
        prompt_tokens=int(metadata.get("input_tokens", 0)),
        completion_tokens=int(metadata.get("output_tokens", 0)),
    )


@dataclass(slots=True)
class _Call:
    """What a call got before it failed, for the error message."""

    streamed: bool = False


@contextmanager
def _mapped_errors(base_url: str, timeout_s: float) -> Iterator[_Call]:
    """Turn openai/httpx exceptions into LLMTimeout / LLMError that say what failed."""
    import openai

    call = _Call()
    try:
        yield call
    except LLMError:
        raise
    except (openai.APITimeoutError, httpx.TimeoutException) as exc:
        raise LLMTimeout(f"the LLM at {base_url} did not answer within {timeout_s:g} s") from exc
    except (openai.APIConnectionError, httpx.TransportError) as exc:
        if call.streamed:
            raise LLMError(f"the LLM at {base_url} broke off mid-stream: {exc}") from exc
        raise LLMError(f"cannot reach the LLM at {base_url}: {exc}") from exc
    except (openai.OpenAIError, httpx.HTTPError) as exc:
        raise LLMError(f"the LLM at {base_url} failed: {exc}") from exc


def make_chat_model(
    settings: Settings, *, start_server: bool = False, timeout_s: float = 60.0
) -> ChatModel | None:
    """The chat model the settings ask for, or ``None`` for rules.

    Args:
        settings: ``llm_backend`` picks it: ``openai`` talks to ``llm_base_url`` (model
            ``llm_model``, else what the server serves); ``embedded`` to the shared embedded
            server; ``rules`` has none.
        start_server: For ``embedded``: start the server when none runs (``serve``,
            ``make run``); without it only a running one is used (``chat``).
        timeout_s: How long to wait for a started embedded server.

    Returns:
        The model, or ``None`` (rules): the backend is ``rules``, or no embedded server could be
        had (the reason is logged). Never raises for an unreachable server; calls will.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if settings.llm_backend is LLMBackend.RULES:
        return None
    if settings.llm_backend is LLMBackend.OPENAI:
        if not settings.llm_base_url:  # Settings refuses this; kept for direct construction
            logger.warning("SHOPASSIST_LLM_BACKEND=openai without SHOPASSIST_LLM_BASE_URL")
            return None
        return OpenAIChatModel(settings.llm_base_url, settings.llm_model)
    from assistant.llm.server import ensure_server, read_server_info

    base_url = ensure_server(settings, start=start_server, timeout_s=timeout_s)
    if base_url is None:
        return None
    info = read_server_info(settings)
    return OpenAIChatModel(base_url, info.model if info else None)
