"""LLM phrasing of a recommendation reply, filled and checked by the claims guard.

The LLM writes one friendly sentence that refer to the facts only through placeholders
(``{title_1}``, ``{price_1}``, ``{deal_1}``, ``{ends_1}``, ``{gap}``...). Code fills them
(:func:`~assistant.conversation.guard.placeholder_values`), the guard rejects anything the facts
do not hold, a refused draft is regenerated once, and then the template wins
(:func:`~assistant.conversation.guard.write_reply`). The numbered list of picks under the
sentences always comes from the templates, so every card's price and deal reads the same in
the reply and in the JSON.

The prompt holds only this turn's facts and a short summary of the session's slots, so it stays
the same size however long the conversation gets. Catalog titles and the request reach the model
only inside a JSON data block (:func:`~assistant.llm.prompts.data_block`) that the system prompt
declares to be data, never instructions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

from assistant.conversation.facts import ReplyFacts
from assistant.conversation.guard import (
    GuardedReply,
    StreamGuard,
    placeholder_values,
    write_reply,
)
from assistant.conversation.replies import render_reply
from assistant.llm import ChatModel
from assistant.llm.prompts import DATA_RULE_EN, DATA_RULE_ZH, data_block, echoes, prompt_windows
from assistant.money import Currency

__all__ = ["PHRASED_ACTIONS", "phrase_reply", "reply_messages"]

PHRASED_ACTIONS = frozenset({"recommend", "offer_coupon"})
"""Actions whose reply the LLM phrases; the others are short fixed templates."""

_SYSTEM = {
    "en": (
        "You are a friendly shopping assistant. Write ONE short sentence in English that "
        "introduces the first pick to the shopper, speaking to them as 'you'. Never write a "
        "number, price, percentage, date or code: use the placeholders exactly as written, "
        "in curly braces. " + DATA_RULE_EN + " Example: Take a look at {title_1}: it is "
        "{price_1} right now ({deal_1})."
    ),
    "zh": (
        "你是一位亲切的购物助手。用中文写一句简短的话，向顾客（称“你”）介绍第一个推荐。"
        "不要自己写任何数字、价格、折扣、日期或优惠码：按原样使用花括号里的占位符。"
        + DATA_RULE_ZH
        + "例如：推荐你看看{title_1}，现在只要{price_1}（{deal_1}）。"
    ),
}
_STRICT = {
    "en": "Your last answer had a number or claim that is not a placeholder: use placeholders.",
    "zh": "上次的回答里有不是占位符的数字或说法。只能使用占位符。",
}
_EXAMPLE = {
    "en": (
        "Data: "
        + data_block(
            {
                "request": "running shoes",
                "picks": ["Stride Run 2 Running Shoes", "Lumi Trail Runner"],
            }
        )
        + "\nUse these placeholders: {title_1} {price_1} {deal_1}",
        "Take a look at {title_1}: it is {price_1} right now ({deal_1}).",
    ),
    "zh": (
        "Data: "
        + data_block({"request": "跑步鞋", "picks": ["Stride 跑步鞋", "Lumi 越野跑鞋"]})
        + "\nUse these placeholders: {title_1} {price_1} {deal_1}",
        "推荐你看看{title_1}，现在只要{price_1}（{deal_1}）。",
    ),
}
"""One worked exchange: a 0.5B model follows an example far better than instructions."""
_ECHO = re.compile(r"placeholder|shopper wants|占位符|\{\w+\} *=", re.IGNORECASE)
_PROMPT_WINDOWS = prompt_windows(
    [text.split("Example:")[0].split("例如")[0] for text in _SYSTEM.values()]
    + [DATA_RULE_EN, DATA_RULE_ZH, *_STRICT.values()]
)
"""Runs of the instructions (not the worked example, which a reply may well resemble): a
draft that repeats one is printing its prompt and is refused."""
_BARE_NAME = re.compile(r"(?<![{\w])(?:title|price|deal|ends|gap|budget)_?\d?(?![\w}])")
_ADJACENT = re.compile(r"\}\s*\{")
_SENTENCE_END = re.compile(r"[.!?。！？]")


def reply_messages(
    facts: ReplyFacts, values: Mapping[str, str], *, request: str, strict: bool = False
) -> list[dict[str, str]]:
    """The chat messages asking for the reply's opening sentence.

    The model sees the placeholder *names* and the items' titles, never the numbers, so it
    has nothing to copy wrongly; code fills the placeholders afterwards. Titles and the
    request are untrusted (a merchant or a shopper wrote them): they travel only as quoted
    strings in the JSON data block.

    Args:
        facts: The reply's facts.
        values: Placeholder name -> text (only the names of those present are offered).
        request: What the shopper is looking for, summarized (no raw message history).
        strict: Add the reminder used for the one regeneration.
    """
    lang = facts.language
    offered = [name for name in ("title_1", "price_1", "deal_1", "ends_1") if name in values]
    # Titles and the request are untrusted text: only ever inside the JSON data block.
    data = data_block({"request": request, "picks": [item.title for item in facts.items[:3]]})
    user = f"Data: {data}\nUse these placeholders: " + " ".join(
        "{" + name + "}" for name in offered
    )
    example_user, example_reply = _EXAMPLE[lang]
    messages = [
        {"role": "system", "content": _SYSTEM[lang]},
        {"role": "user", "content": example_user},
        {"role": "assistant", "content": example_reply},
        {"role": "user", "content": user},
    ]
    if strict:
        messages.append({"role": "system", "content": _STRICT[lang]})
    return messages


def _one_sentence(text: str) -> str:
    """The draft's first line, cut after its last complete sentence (drafts stop mid-word
    at ``max_tokens``); an echo of the prompt (or of its instructions) becomes empty, which the
    guard refuses."""
    line = text.strip().split("\n", 1)[0].strip()
    # Complete sentences up to the first that repeats the instructions (a 0.5B model goes on
    # from its answer into its system prompt); the rest of the line is dropped.
    ends = [m.end() for m in _SENTENCE_END.finditer(line)] or [len(line)]
    kept, start = "", 0
    for end in ends:
        if echoes(line[start:end], _PROMPT_WINDOWS):
            break
        kept, start = line[:end], end
    if (
        not kept
        or _ECHO.search(kept)
        or "{" not in kept
        or _BARE_NAME.search(kept.replace("{", " {"))
        or _ADJACENT.search(kept)
    ):
        return ""  # an echo, no placeholder, a bare placeholder name, or a placeholder list
    return kept


def _list_lines(template: str) -> list[str]:
    return [line for line in template.splitlines() if line[:1].isdigit()]


def phrase_reply(
    chat: ChatModel,
    facts: ReplyFacts,
    *,
    currency: Currency,
    request: str,
    shopper_numbers: Iterable[Decimal] = (),
    max_tokens: int = 60,
    timeout_s: float = 8.0,
    on_text: Callable[[str], None] | None = None,
) -> GuardedReply:
    """The guarded reply: LLM sentences (or the template's intro) above the template's list.

    Args:
        on_text: Receives the first draft's text as it streams, only what the
            :class:`~assistant.conversation.guard.StreamGuard` has verified (placeholders
            filled). If the finished draft is then refused, the caller replaces what it showed
            with the returned reply.

    Raises:
        LLMError: The first draft could not be had (server down, timeout); the caller falls
            back to the template and reports the LLM degraded.
    """
    values = placeholder_values(facts, currency=currency, now=facts.now)
    numbers = list(shopper_numbers)

    def draft(strict: bool) -> str:
        messages = reply_messages(facts, values, request=request, strict=strict)
        stream = chat.stream(messages, max_tokens=max_tokens, timeout_s=timeout_s)
        if strict or on_text is None:
            return _one_sentence("".join(stream))
        guard = StreamGuard(facts, shopper_numbers=numbers, currency=currency, values=values)
        parts = []
        for delta in stream:
            parts.append(delta)
            if not guard.violated and (shown := guard.feed(delta)):
                on_text(shown)
        if not guard.violated and (rest := guard.close()):
            on_text(rest)
        return _one_sentence("".join(parts))

    first = draft(strict=False)
    guarded = write_reply(
        first,
        facts,
        regenerate=lambda: draft(strict=True),
        shopper_numbers=numbers,
        currency=currency,
        values=values,
    )
    if guarded.source == "template":
        return guarded
    template = render_reply(facts)
    text = "\n".join([guarded.text, *_list_lines(template)])
    return GuardedReply(text, guarded.source, guarded.violations)
