"""Turns with the LLM: the real embedded server (the bundled Qwen 0.5B on 127.0.0.1), plus two
tiny HTTP servers that fail on purpose (one never answers, one hangs up mid-stream) to show
that a broken LLM costs a turn nothing but its phrasing."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from assistant.conversation import Assistant, turn_json
from assistant.llm import OpenAIChatModel, Usage

from .conftest import NOW, served_shop

pytestmark = pytest.mark.integration

MONEY = re.compile(
    r"(?:[$¥￥]\s?(\d+(?:[.,]\d{1,2})?))|(?:(\d+(?:\.\d{1,2})?)\s?(?:元|块|dollars?|USD|CNY|RMB))"
)
NUM = re.compile(r"\d+(?:\.\d+)?")


class Recording:
    """A chat model that records the prompt size of every call (from the server's usage)."""

    def __init__(self, inner: OpenAIChatModel) -> None:
        self.inner = inner
        self.prompt_tokens: list[int] = []

    @property
    def model(self) -> str:
        return self.inner.model

    @property
    def last_usage(self) -> Usage | None:
        return self.inner.last_usage

    def _record(self) -> None:
        if self.inner.last_usage is not None:
            self.prompt_tokens.append(self.inner.last_usage.prompt_tokens)

    def complete_json(
        self,
        messages: Sequence[Mapping[str, Any]],
        schema: Mapping[str, Any],
        **kw: Any,
    ) -> dict[str, Any]:
        out = self.inner.complete_json(messages, schema, **kw)
        self._record()
        return out

    def stream(self, messages: Sequence[Mapping[str, Any]], **kw: Any) -> Iterator[str]:
        yield from self.inner.stream(messages, **kw)
        self._record()


@pytest.fixture(scope="module")
def shop_var(served_var: Path) -> Path:
    return served_var


def _assistant(var: Path, chat: Any, timeout_s: float = 60.0) -> Assistant:
    assistant = Assistant.from_shop(served_shop(var), seed=11)
    assistant.chat = chat
    assistant.llm_status = "ok"
    assistant.llm_timeout_s = timeout_s
    return assistant


def _grounded(body: dict[str, Any], said: str) -> list[str]:
    facts = {
        Decimal(n).normalize()
        for n in NUM.findall(json.dumps(body["recommendations"], ensure_ascii=False) + said)
    }
    return [
        m.group(0)
        for m in MONEY.finditer(body["reply"])
        if Decimal(m.group(1) or m.group(2)).normalize() not in facts
    ]


@pytest.mark.parametrize(
    "message", ["running shoes under $80", "50块以内的厨房刀具", "有没有打折的羽绒服"]
)
def test_llm_phrased_replies_state_only_facts(
    shop_var: Path, chat_model: OpenAIChatModel, message: str
) -> None:
    assistant = _assistant(shop_var, chat_model)
    result = assistant.turn("llm-phrase", message, now=NOW)
    body = turn_json(result, assistant.shop.currency)
    assert result.recommendations
    assert result.llm["reply"] in ("llm", "llm_regenerated", "template")
    assert _grounded(body, message) == []
    if result.intent.max_price is not None:
        assert all(
            r.item.final_price is not None and r.item.final_price <= result.intent.max_price
            for r in result.recommendations
        )
    if result.intent.language == "zh":
        assert re.search(r"[\u4e00-\u9fff]", result.reply)


def test_the_llm_is_asked_only_when_the_rules_leave_slots_open(
    shop_var: Path, chat_model: OpenAIChatModel
) -> None:
    assistant = _assistant(shop_var, chat_model)
    sure = assistant.turn("llm-skip", "running shoes under $80", now=NOW)
    assert sure.llm["understand"] == "skipped"
    open_ = assistant.turn("llm-ask", "something comfy to sleep on when camping", now=NOW)
    assert open_.llm["understand"] == "used"
    # the extractor wins on numbers: the LLM never sets a price
    assert open_.intent.max_price is None and open_.intent.min_price is None


def test_twenty_turns_keep_the_prompt_small_and_early_slots_alive(
    shop_var: Path, chat_model: OpenAIChatModel
) -> None:
    chat = Recording(chat_model)
    assistant = _assistant(shop_var, chat)
    messages = [
        "running shoes",
        "under $60 please",
        "any deals?",
        "what else do you have",
        "show me something lighter",
        "something for long runs",
        "cushioned ones",
        "breathable mesh",
        "for daily training",
        "more options",
        "something in black",
        "what about wide fit",
        "others?",
        "comfortable ones",
        "for my morning jog",
        "show me again",
        "any coupon?",
        "lightweight",
        "something stable",
        "last ones please",
    ]
    session = None
    result = None
    for message in messages:
        result = assistant.turn("llm-long", message, session_id=session, now=NOW)
        session = result.session_id
    assert result is not None
    assert chat.prompt_tokens and max(chat.prompt_tokens) < 1500
    assert result.intent.max_price == 6000  # set in turn 2, still in force in turn 20
    assert all(
        r.item.final_price is not None and r.item.final_price <= 6000
        for r in result.recommendations
        if r.item.kind == "product"
    )


def _read_request(conn: socket.socket) -> None:
    """Read one whole HTTP request (headers, then ``Content-Length`` bytes of body): closing a
    socket with unread bytes sends a reset, which the client reports instead of the answer."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return
        body += chunk


def _serve_once(behaviour: str) -> tuple[str, threading.Event]:
    """A one-port HTTP server that fails: ``stall`` never answers, ``hangup`` sends the start
    of a streamed answer and closes the connection."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def run() -> None:
        listener.settimeout(0.2)
        held: list[socket.socket] = []
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            _read_request(conn)
            if behaviour == "hangup":
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                    b"transfer-encoding: chunked\r\n\r\n"
                    b'2a\r\ndata: {"choices":[{"delta":{"content":"Take"}}]}\n\n\r\n'
                )
                conn.close()
            else:
                held.append(conn)
        for conn in held:
            conn.close()
        listener.close()

    threading.Thread(target=run, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/v1", stop


@pytest.mark.parametrize("behaviour", ["stall", "hangup"])
def test_a_broken_llm_costs_the_turn_only_its_phrasing(shop_var: Path, behaviour: str) -> None:
    url, stop = _serve_once(behaviour)
    try:
        assistant = _assistant(shop_var, OpenAIChatModel(url, "test-model"), timeout_s=1.5)
        result = assistant.turn("llm-broken", "yoga mat under $60", now=NOW)
    finally:
        stop.set()
    assert result.recommendations and result.reply.startswith("Here are")
    assert result.llm["reply"] == "failed"
    assert assistant.llm_status == "degraded"
    assert all(
        r.item.final_price is not None and r.item.final_price <= 6000
        for r in result.recommendations
    )


def _chunk(text: str) -> bytes:
    body = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "test-model",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
    }
    return f"data: {json.dumps(body)}\n\n".encode()


def _serve_stream(pieces: Sequence[str]) -> tuple[str, threading.Event]:
    """An OpenAI-compatible server that streams ``pieces`` as one answer, to every request."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def run() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            _read_request(conn)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"
            )
            for piece in pieces:
                conn.sendall(_chunk(piece))
            conn.sendall(b"data: [DONE]\n\n")
            conn.close()
        listener.close()

    threading.Thread(target=run, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/v1", stop


def test_an_invented_discount_mid_stream_never_reaches_the_client(shop_var: Path) -> None:
    from assistant.conversation import ReplyFacts
    from assistant.conversation.phrasing import phrase_reply

    url, stop = _serve_stream(["Take a look at ", "{title", "_1}", ": now ", "$", "5 off", "!"])
    assistant = _assistant(shop_var, OpenAIChatModel(url, "test-model"), timeout_s=5)
    try:
        result = assistant.turn("llm-stream", "yoga mat under $60", now=NOW)
        facts = ReplyFacts(
            action=result.action,
            language="en",
            currency="USD",
            now=NOW,
            items=tuple(r.item for r in result.recommendations),
            max_price=6000,
        )
        shown: list[str] = []
        guarded = phrase_reply(
            OpenAIChatModel(url, "test-model"),
            facts,
            currency=assistant.shop.currency,
            request="yoga mat",
            on_text=shown.append,
        )
    finally:
        stop.set()
    streamed = "".join(shown)
    assert "$5" not in streamed and "5 off" not in streamed
    assert streamed.startswith("Take a look at ")  # the verified prefix did stream
    assert guarded.source == "template" and "$5" not in guarded.text
    assert result.llm["reply"] == "template" and "$5" not in result.reply
