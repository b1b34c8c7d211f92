"""The chat-model client against the real embedded server: JSON, streaming, errors, backends."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assistant.config import LLMBackend, Settings
from assistant.errors import LLMError, LLMTimeout
from assistant.llm import (
    QWEN_0_5B,
    ChatModel,
    Message,
    OpenAIChatModel,
    ensure_server,
    make_chat_model,
    read_server_info,
)
from tests.assistant.conftest import START_TIMEOUT_S, stop_server

pytestmark = pytest.mark.integration

INTENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "language": {"enum": ["en", "zh"]},
        "category": {"type": "string"},
        "max_price": {"type": ["number", "null"]},
    },
    "required": ["language", "category", "max_price"],
    "additionalProperties": False,
}
# The 0.5B model needs an example per language to tell them apart reliably.
INTENT_PROMPT: list[Message] = [
    {
        "role": "system",
        "content": 'You extract a shopper\'s request as JSON. language: "zh" when the message '
        'is written in Chinese, "en" when in English. category: what they want to buy, in '
        "English. max_price: their budget as a number, or null.",
    },
    {"role": "user", "content": "有没有便宜的连衣裙"},
    {"role": "assistant", "content": '{"language": "zh", "category": "dress", "max_price": null}'},
    {"role": "user", "content": "wireless earbuds under $40"},
    {"role": "assistant", "content": '{"language": "en", "category": "earbuds", "max_price": 40}'},
]
REPLY_PROMPT: list[Message] = [
    {"role": "system", "content": "You are a concise, friendly shop assistant."},
    {"role": "user", "content": "Recommend running shoes in two sentences."},
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("message", "language", "category", "max_price"),
    [
        ("running shoes under $80", "en", "shoe", 80),
        ("300元以内的跑步鞋", "zh", "shoe", 300),
    ],
    ids=["en", "zh"],
)
def test_json_intent_matches_the_schema(
    chat_model: OpenAIChatModel, message: str, language: str, category: str, max_price: int
) -> None:
    answer = chat_model.complete_json(
        [*INTENT_PROMPT, {"role": "user", "content": message}],
        INTENT_SCHEMA,
        name="intent",
        max_tokens=64,
        timeout_s=60,
    )
    assert set(answer) == {"language", "category", "max_price"}
    assert answer["language"] == language
    assert category in answer["category"].lower()
    assert answer["max_price"] == max_price
    usage = chat_model.last_usage
    assert usage is not None and usage.prompt_tokens > 50 and 5 < usage.completion_tokens < 64


def test_json_cut_short_by_max_tokens_is_an_error(chat_model: OpenAIChatModel) -> None:
    with pytest.raises(LLMError, match=r"cut off at max_tokens=3; allow more tokens"):
        chat_model.complete_json(
            [*INTENT_PROMPT, {"role": "user", "content": "a red dress"}],
            INTENT_SCHEMA,
            max_tokens=3,
            timeout_s=60,
        )
    usage = chat_model.last_usage
    assert usage is not None and usage.completion_tokens == 3


def test_stream_yields_deltas_and_usage(chat_model: OpenAIChatModel) -> None:
    deltas = list(chat_model.stream(REPLY_PROMPT, max_tokens=40, timeout_s=60))
    assert len(deltas) >= 5
    assert all(isinstance(d, str) and d for d in deltas)
    usage = chat_model.last_usage
    assert usage is not None and 5 <= usage.completion_tokens <= 40
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_timeout_raises_llm_timeout(chat_model: OpenAIChatModel) -> None:
    started = time.monotonic()
    with pytest.raises(LLMTimeout, match=r"did not answer within 0\.01 s"):
        chat_model.complete_json(
            [*INTENT_PROMPT, {"role": "user", "content": "a red dress"}],
            INTENT_SCHEMA,
            max_tokens=32,
            timeout_s=0.01,
        )
    assert time.monotonic() - started < 5


def test_nothing_listening_is_an_llm_error() -> None:
    model = OpenAIChatModel(f"http://127.0.0.1:{_free_port()}/v1", "any")
    with pytest.raises(LLMError, match=r"cannot reach the LLM at http://127\.0\.0\.1:\d+/v1"):
        model.complete_json(INTENT_PROMPT, INTENT_SCHEMA, timeout_s=5)
    with pytest.raises(LLMError, match=r"cannot reach the LLM"):
        list(model.stream(REPLY_PROMPT, timeout_s=5))


def test_server_killed_mid_stream_is_an_error_not_a_hang(
    make_var: Callable[[str], Path],
) -> None:
    settings = Settings(var_dir=make_var("doomed"))
    url = ensure_server(settings, start=True, timeout_s=START_TIMEOUT_S)
    assert url is not None
    info = read_server_info(settings)
    assert info is not None
    model = OpenAIChatModel(url, QWEN_0_5B.alias)
    long_reply: list[Message] = [
        {"role": "user", "content": "Describe twenty kinds of shoes, one paragraph each."}
    ]
    received: list[str] = []
    started = time.monotonic()
    try:
        with pytest.raises(LLMError, match=r"broke off mid-stream") as caught:
            for delta in model.stream(long_reply, max_tokens=1000, timeout_s=30):
                received.append(delta)
                if len(received) == 3:
                    os.kill(info.pid, signal.SIGKILL)
    finally:
        stop_server(settings, signal.SIGKILL)
    assert not isinstance(caught.value, LLMTimeout)
    assert len(received) >= 3
    assert time.monotonic() - started < 30


def test_make_chat_model_for_each_backend(
    llm_settings: Settings, llm_url: str, make_var: Callable[[str], Path]
) -> None:
    assert (
        make_chat_model(llm_settings.model_copy(update={"llm_backend": LLMBackend.RULES})) is None
    )

    embedded = make_chat_model(llm_settings)
    assert isinstance(embedded, ChatModel) and isinstance(embedded, OpenAIChatModel)
    assert embedded.base_url == llm_url and embedded.model == QWEN_0_5B.alias

    nothing_running = Settings(var_dir=make_var("none"), llm_backend=LLMBackend.EMBEDDED)
    assert make_chat_model(nothing_running) is None  # `chat` does not start a server

    remote = make_chat_model(
        Settings(llm_backend=LLMBackend.OPENAI, llm_base_url=llm_url, llm_model="served-name")
    )
    assert isinstance(remote, OpenAIChatModel)
    assert remote.base_url == llm_url and remote.model == "served-name"

    discovered = make_chat_model(Settings(llm_backend=LLMBackend.OPENAI, llm_base_url=llm_url))
    assert discovered is not None and discovered.model == QWEN_0_5B.alias  # from /v1/models
    answer = discovered.complete_json(
        [*INTENT_PROMPT, {"role": "user", "content": "a red dress"}], INTENT_SCHEMA, timeout_s=60
    )
    assert set(answer) == set(INTENT_SCHEMA["required"])


def test_unknown_model_name_without_a_server_is_an_llm_error() -> None:
    model = OpenAIChatModel(f"http://127.0.0.1:{_free_port()}/v1")
    with pytest.raises(LLMError, match=r"set SHOPASSIST_LLM_MODEL"):
        _ = model.model
