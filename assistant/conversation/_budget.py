"""The LLM token budget of a session: what a turn spent, and whether the session may spend more.

Each turn talks to the LLM through a :class:`MeteredChat`, which sums the prompt and completion
tokens the server reported for the turn's calls (``usage``; never counted locally). The pipeline
adds them to the session's ``llm_tokens`` in ``sessions.state``; once a session has spent its
budget (``SHOPASSIST_SESSION_TOKEN_BUDGET``), its later turns skip the LLM: rules understanding
and template replies, which answer just as correctly, only less fluently. This bounds what one
long or abusive session can cost.

Example:
    >>> over_budget(spent=20_400, budget=20_000)
    True
    >>> over_budget(spent=20_400, budget=None)
    False
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from assistant.llm import ChatModel, Usage

__all__ = ["MeteredChat", "over_budget"]


def over_budget(spent: int, budget: int | None) -> bool:
    """Whether a session that has spent ``spent`` tokens may not call the LLM again.

    Args:
        spent: The session's LLM tokens so far (prompt + completion).
        budget: The session budget; ``None`` is no budget.
    """
    return budget is not None and spent >= budget


class MeteredChat:
    """A :class:`~assistant.llm.ChatModel` that sums the tokens of the calls made through it.

    One per turn (the count is the turn's). A call that fails before the server reports its
    usage adds nothing, nor does a stream the caller abandons before its end (the usage comes
    with the last chunk).

    Args:
        inner: The model that answers.
    """

    def __init__(self, inner: ChatModel) -> None:
        self.inner = inner
        self.tokens = 0
        self.calls = 0

    @property
    def model(self) -> str:
        """The inner model's id."""
        return self.inner.model

    @property
    def last_usage(self) -> Usage | None:
        """The inner model's usage of this thread's last call."""
        return self.inner.last_usage

    def _count(self) -> None:
        self.calls += 1
        usage = self.inner.last_usage
        if usage is not None:
            self.tokens += usage.total_tokens

    def complete_json(
        self,
        messages: Sequence[Mapping[str, Any]],
        schema: Mapping[str, Any],
        *,
        name: str = "response",
        max_tokens: int = 128,
        timeout_s: float = 10.0,
    ) -> dict[str, Any]:
        """The inner model's answer, counted; see :meth:`ChatModel.complete_json`."""
        try:
            return self.inner.complete_json(
                messages, schema, name=name, max_tokens=max_tokens, timeout_s=timeout_s
            )
        finally:
            self._count()

    def stream(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        max_tokens: int = 200,
        timeout_s: float = 20.0,
    ) -> Iterator[str]:
        """The inner model's text deltas, counted at the end; see :meth:`ChatModel.stream`."""
        try:
            yield from self.inner.stream(messages, max_tokens=max_tokens, timeout_s=timeout_s)
        finally:
            self._count()
