"""Running turns off the event loop, whole or streamed.

The pipeline is synchronous, so every turn runs in a worker thread (at most ``max_turns`` at
once). A streamed turn hands guard-checked reply text from the worker to the event loop as it is
written; the final ``result`` carries the authoritative reply (a draft the guard refuses at the
end is replaced there by the template's).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from anyio import to_thread

from assistant.conversation import Assistant, turn_json
from assistant.errors import ShopAssistError
from assistant.store import SessionRecord
from ui.api._errors import ApiError, error_body, status_of
from ui.api._runtime import Runtime

if TYPE_CHECKING:
    from assistant.conversation import TurnResult

__all__ = ["TurnRequest", "check_session", "prepare_stream", "run_turn", "stream_turn"]

logger = logging.getLogger(__name__)

_background: set[asyncio.Task[None]] = set()


@dataclass(frozen=True, slots=True)
class TurnRequest:
    """One turn to answer, its user already established."""

    user_id: str
    message: str
    session_id: str | None
    cart: Sequence[tuple[str, int]] | None
    endpoint: str


def check_session(runtime: Runtime, session_id: str, user_id: str) -> None:
    """Refuse a session that does not exist (404) or belongs to someone else (403)."""
    with runtime.shop.sessions() as session:
        owner = session.get(SessionRecord, session_id)
        owner_id = None if owner is None else owner.user_id
    if owner_id is None:
        raise ApiError(
            404,
            "not_found",
            f"unknown session {session_id!r}; leave out session_id to start a new conversation",
        )
    if owner_id != user_id:
        raise ApiError(403, "forbidden", "this session belongs to another user")


def _turn(
    runtime: Runtime,
    assistant: Assistant,
    request: TurnRequest,
    on_text: Callable[[str], None] | None = None,
) -> TurnResult:
    # The pipeline refuses an unknown session (404) or another user's (403) in its own read,
    # before it writes anything: no separate round trip for the check here.
    # The pipeline sends guard-checked LLM text to `on_text` as it streams; a template reply
    # is not streamed, so `stream_turn` sends the finished reply in pieces.
    result = assistant.turn(
        request.user_id,
        request.message,
        session_id=request.session_id,
        cart=request.cart,
        now=runtime.clock(),
        on_text=on_text,
    )
    runtime.metrics.observe_turn(request.endpoint, str(result.action), result.timings_ms)
    return result


async def run_turn(runtime: Runtime, request: TurnRequest) -> dict[str, Any]:
    """Answer one turn in a worker thread; the ``/v1/chat`` response."""
    assistant = await runtime.assistant()
    result = await to_thread.run_sync(
        partial(_turn, runtime, assistant, request), limiter=runtime.turn_limiter
    )
    return turn_json(result, runtime.shop.currency)


def _pieces(reply: str, shown: str) -> list[str]:
    """What is left to stream of ``reply`` after ``shown`` went out (line by line)."""
    if shown and not reply.startswith(shown):
        return []  # the streamed draft was refused: the result's reply replaces it
    rest = reply[len(shown) :]
    return [line for line in rest.splitlines(keepends=True) if line]


async def stream_turn(
    runtime: Runtime, request: TurnRequest
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """Answer one turn, yielding ``("token", {"text"})`` events, then one ``("result", body)``
    or ``("error", {"error": ...})``.

    Call :func:`prepare_stream` first, so that errors a client can fix (unknown session, not
    ready) are HTTP statuses rather than events.
    """
    assistant = await runtime.assistant()
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def on_text(text: str) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, ("token", text))

    async def produce() -> None:
        try:
            result = await to_thread.run_sync(
                partial(_turn, runtime, assistant, request, on_text),
                limiter=runtime.turn_limiter,
            )
        except ApiError as exc:
            await queue.put(("error", error_body(exc.code, exc.message)))
        except ShopAssistError as exc:
            status, code = status_of(exc)
            if status >= 500:
                logger.warning("streamed turn failed: %s", exc)
            await queue.put(("error", error_body(code, " ".join(str(exc).split()))))
        except Exception:
            logger.exception("streamed turn failed")
            await queue.put(("error", error_body("internal", "internal error")))
        else:
            await queue.put(("result", result))

    task = asyncio.create_task(produce())
    _background.add(task)  # the worker thread cannot be cancelled: let it finish and be logged
    task.add_done_callback(_background.discard)
    shown: list[str] = []
    while True:
        kind, payload = await queue.get()
        if kind == "token":
            shown.append(payload)
            yield "token", {"text": payload}
        elif kind == "result":
            body = turn_json(payload, runtime.shop.currency)
            for piece in _pieces(body["reply"], "".join(shown)):
                yield "token", {"text": piece}
            yield "result", body
            return
        else:
            runtime.metrics.errors.labels(payload["error"]["code"]).inc()
            yield "error", payload
            return


async def prepare_stream(runtime: Runtime, request: TurnRequest) -> None:
    """Check what a streamed turn needs before the response starts (503 / 404 / 403)."""
    await runtime.assistant()
    if request.session_id is not None:
        await to_thread.run_sync(
            partial(check_session, runtime, request.session_id, request.user_id)
        )
