"""LLM phrasing of a recommendation reply, filled and checked by the claims guard.

The LLM writes one or two friendly sentences that refer to the facts only through placeholders
(``{title_1}``, ``{price_1}``, ``{deal_1}``, ``{ends_1}``, ``{gap}``...). Code fills them
(:func:`~assistant.conversation.guard.placeholder_values`), the guard rejects anything the facts
do not hold, a refused draft is regenerated once, and then the template wins
(:func:`~assistant.conversation.guard.write_reply`). The numbered list of picks under the
sentences always comes from the templates, so every card's price and deal reads the same in
the reply and in the JSON.

The prompt holds only this turn's facts and a short summary of the session's slots, so it stays
the same size however long the conversation gets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from assistant.conversation.facts import ReplyFacts
from assistant.conversation.guard import GuardedReply, placeholder_values, write_reply
from assistant.conversation.replies import render_reply
from assistant.llm import ChatModel
from assistant.money import Currency

__all__ = ["PHRASED_ACTIONS", "phrase_reply", "reply_messages"]

PHRASED_ACTIONS = frozenset({"recommend", "offer_coupon"})
"""Actions whose reply the LLM phrases; the others are short fixed templates."""

_SYSTEM = {
    "en": (
        "You are a friendly shopping assistant. Write ONE or TWO short sentences in English "
        "introducing the picks. Never write a number, price, percentage, date or code "
        "yourself: refer to facts only with the placeholders given, e.g. {title_1} and "
        "{price_1}. Do not list every item; the list is shown under your sentences."
    ),
    "zh": (
        "你是一位亲切的购物助手。用中文写一到两句简短的话介绍推荐。不要自己写任何数字、价格、"
        "折扣、日期或优惠码：只能用给出的占位符引用事实，例如 {title_1} 和 {price_1}。"
        "不要逐个列出商品，清单会显示在你的话下面。"
    ),
}
_STRICT = {
    "en": "Your last answer had a number or claim that is not a placeholder: use placeholders.",
    "zh": "上次的回答里有不是占位符的数字或说法。只能使用占位符。",
}


def reply_messages(
    facts: ReplyFacts, values: Mapping[str, str], *, request: str, strict: bool = False
) -> list[dict[str, str]]:
    """The chat messages asking for the reply's opening sentences.

    Args:
        facts: The reply's facts.
        values: Placeholder name -> text (what the model may refer to).
        request: What the shopper is looking for, summarized (no raw message history).
        strict: Add the reminder used for the one regeneration.
    """
    lang = facts.language
    usable = [
        f"{{{name}}} = {text}"
        for name, text in values.items()
        if name.split("_")[0] in ("title", "price", "was", "deal", "ends", "gap", "budget", "n")
    ]
    user = f"Shopper wants: {request}\nPlaceholders:\n" + "\n".join(usable[:24])
    messages = [
        {"role": "system", "content": _SYSTEM[lang]},
        {"role": "user", "content": user},
    ]
    if strict:
        messages.append({"role": "system", "content": _STRICT[lang]})
    return messages


def _list_lines(template: str) -> list[str]:
    return [line for line in template.splitlines() if line[:1].isdigit()]


def phrase_reply(
    chat: ChatModel,
    facts: ReplyFacts,
    *,
    currency: Currency,
    request: str,
    shopper_numbers: Iterable[Decimal] = (),
    max_tokens: int = 80,
    timeout_s: float = 8.0,
) -> GuardedReply:
    """The guarded reply: LLM sentences (or the template's intro) above the template's list.

    Raises:
        LLMError: The first draft could not be had (server down, timeout); the caller falls
            back to the template and reports the LLM degraded.
    """
    values = placeholder_values(facts, currency=currency, now=facts.now)

    def draft(strict: bool) -> str:
        messages = reply_messages(facts, values, request=request, strict=strict)
        return "".join(chat.stream(messages, max_tokens=max_tokens, timeout_s=timeout_s))

    first = draft(strict=False)
    guarded = write_reply(
        first,
        facts,
        regenerate=lambda: draft(strict=True),
        shopper_numbers=shopper_numbers,
        currency=currency,
        values=values,
    )
    if guarded.source == "template":
        return guarded
    template = render_reply(facts)
    text = "\n".join([guarded.text, *_list_lines(template)])
    return GuardedReply(text, guarded.source, guarded.violations)
