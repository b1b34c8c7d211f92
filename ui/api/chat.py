"""``POST /v1/chat`` and its server-sent-events twin ``POST /v1/chat/stream``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse

from ui.api._deps import IdentityDep, RuntimeDep
from ui.api._schemas import ChatRequest, ChatResponse, ErrorResponse
from ui.api._turns import TurnRequest, prepare_stream, run_turn, stream_turn

__all__ = ["router", "sse"]

router = APIRouter(tags=["chat"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorResponse} for s in (401, 403, 404, 413, 422, 503)
}
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse(event: str, data: dict[str, Any]) -> str:
    """One server-sent event."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _request(body: ChatRequest, user_id: str, endpoint: str) -> TurnRequest:
    return TurnRequest(user_id, body.message, body.session_id, body.cart_lines(), endpoint)


@router.post("/v1/chat", response_model=None, responses={200: {"model": ChatResponse}, **_ERRORS})
async def chat(body: ChatRequest, runtime: RuntimeDep, identity: IdentityDep) -> JSONResponse:
    """Answer one shopper message: the reply and up to three recommendations.

    Unknown users are created on first contact. An unknown ``session_id`` is 404, another
    user's 403; while an agent owns the session the reply is empty and ``agent_active`` true.
    """
    user = identity.user_for(body.user_id)
    # The body is plain JSON types already (turn_json): a JSONResponse skips FastAPI's
    # jsonable_encoder walk over it, which the load test's profile showed at every turn.
    return JSONResponse(await run_turn(runtime, _request(body, user, "chat")))


@router.post(
    "/v1/chat/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": '`token` events `{"text"}` (guard-checked text only), then one '
            "`result` (the /v1/chat response; its `reply` is authoritative) or `error`",
        },
        **_ERRORS,
    },
)
async def chat_stream(
    body: ChatRequest, runtime: RuntimeDep, identity: IdentityDep
) -> StreamingResponse:
    """The same turn as ``/v1/chat``, streamed as server-sent events."""
    request = _request(body, identity.user_for(body.user_id), "chat_stream")
    await prepare_stream(runtime, request)

    async def events() -> AsyncIterator[str]:
        async for event, data in stream_turn(runtime, request):
            yield sse(event, data)

    return StreamingResponse(events(), media_type="text/event-stream", headers=SSE_HEADERS)
