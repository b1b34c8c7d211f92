"""``POST /v1/chat/completions``: the assistant behind the OpenAI chat-completions API.

Any OpenAI client can talk to the shop: the last ``user`` message is the turn, OpenAI's ``user``
field is the shopper's id (``anon-<uuid>`` when absent), and the ``/v1/chat`` response rides in an
extra ``shopassist`` field (recommendations, session id). ``session_id`` and ``cart`` may be sent
as extra body fields to continue a conversation. ``stream: true`` streams
``chat.completion.chunk`` events; the last chunk carries ``shopassist``.

Example:
    >>> from openai import OpenAI  # doctest: +SKIP
    >>> client = OpenAI(base_url="http://127.0.0.1:7860/v1", api_key="<JWT or anything in dev>")
    >>> answer = client.chat.completions.create(  # doctest: +SKIP
    ...     model="shopassist", user="u1", messages=[{"role": "user", "content": "running shoes"}]
    ... )
    >>> answer.model_extra["shopassist"]["recommendations"][0]["final_price"]  # doctest: +SKIP
    '74.00'
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from ui.api._auth import Identity
from ui.api._deps import IdentityDep, RuntimeDep
from ui.api._errors import ApiError
from ui.api._schemas import MAX_MESSAGE_CHARS, CompletionRequest, ErrorResponse
from ui.api._turns import TurnRequest, prepare_stream, run_turn, stream_turn
from ui.api.chat import SSE_HEADERS

__all__ = ["router"]

router = APIRouter(tags=["openai"])

MODEL = "shopassist"


def _user(identity: Identity, claimed: str | None) -> str:
    if identity.subject is None and claimed is None:
        return f"anon-{uuid.uuid4()}"
    return identity.user_for(claimed, what="user")


def _turn_request(body: CompletionRequest, identity: Identity, endpoint: str) -> TurnRequest:
    asked = [m for m in body.messages if m.role == "user"]
    if not asked:
        raise ApiError(422, "invalid_request", "messages hold no user message")
    message = asked[-1].text()
    if len(message) > MAX_MESSAGE_CHARS:
        raise ApiError(422, "message_too_long", "message too long: at most 2,000 characters")
    cart = None if body.cart is None else [(c.product_id, c.quantity) for c in body.cart]
    return TurnRequest(_user(identity, body.user), message, body.session_id, cart, endpoint)


def _chunk(cid: str, created: int, model: str, delta: dict[str, Any], **extra: Any) -> str:
    finish = extra.pop("finish_reason", None)
    body = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        **extra,
    }
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


@router.post(
    "/v1/chat/completions",
    response_model=None,
    responses={
        200: {
            "content": {"application/json": {}, "text/event-stream": {}},
            "description": "a `chat.completion`, or with `stream: true` server-sent "
            "`chat.completion.chunk` events ending in `data: [DONE]` (the last chunk carries "
            "`shopassist`)",
        },
        **{s: {"model": ErrorResponse} for s in (401, 403, 404, 413, 422, 503)},
    },
)
async def completions(body: CompletionRequest, runtime: RuntimeDep, identity: IdentityDep) -> Any:
    """OpenAI-compatible chat completion; recommendations in the extra ``shopassist`` field."""
    model = body.model or MODEL
    created = int(time.time())
    if not body.stream:
        request = _turn_request(body, identity, "completions")
        result = await run_turn(runtime, request)
        return {
            "id": f"chatcmpl-{result['turn_id']}",
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": result["reply"]},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "shopassist": result,
        }
    request = _turn_request(body, identity, "completions_stream")
    await prepare_stream(runtime, request)
    cid = f"chatcmpl-{uuid.uuid4().hex}"

    async def chunks() -> AsyncIterator[str]:
        yield _chunk(cid, created, model, {"role": "assistant", "content": ""})
        async for event, data in stream_turn(runtime, request):
            if event == "token":
                yield _chunk(cid, created, model, {"content": data["text"]})
            elif event == "result":
                yield _chunk(cid, created, model, {}, finish_reason="stop", shopassist=data)
            else:
                yield f"data: {json.dumps(data, ensure_ascii=False)}\n\n"
        yield "data: [DONE]\n\n"

    return StreamingResponse(chunks(), media_type="text/event-stream", headers=SSE_HEADERS)
