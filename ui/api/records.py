"""Claims, feedback and session history: ``POST /v1/claims``, ``POST /v1/feedback``,
``GET /v1/sessions/{session_id}``. They need SQL only, never the loaded assistant."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Path, Query, Response
from sqlalchemy import select

from assistant.agents import read_session_log
from assistant.errors import UnknownEntityError
from assistant.schedule import utc_text
from assistant.store import (
    SQLITE_BEGIN_OPTION,
    DecisionRecord,
    FeedbackEvent,
    ImpressionRecord,
    SessionRecord,
    record_feedback,
)
from assistant.store.engine import retry_when_locked
from ui.api._auth import Identity
from ui.api._deps import IdentityDep, RuntimeDep
from ui.api._errors import ApiError
from ui.api._runtime import Runtime
from ui.api._schemas import (
    ClaimRequest,
    ClaimResponse,
    ErrorResponse,
    FeedbackRequest,
    FeedbackResponse,
)

__all__ = ["router"]

router = APIRouter(tags=["records"])


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": ErrorResponse} for s in statuses}


@router.post(
    "/v1/claims",
    status_code=201,
    response_model=ClaimResponse,
    responses=_errors(401, 403, 404, 409, 413, 422),
)
async def claim(
    body: ClaimRequest, runtime: RuntimeDep, identity: IdentityDep, response: Response
) -> dict[str, Any]:
    """Claim a coupon, reserving its budget in the same transaction.

    The same ``idempotency_key`` returns the same claim (``Idempotent-Replayed: true``). A
    refusal is 409 with code ``budget_exhausted``, ``per_user_limit``, ``not_eligible`` or
    ``expired``.
    """
    user = identity.user_for(body.user_id)
    shop = runtime.shop
    made = await to_thread.run_sync(
        partial(shop.claim, user, body.activity_id, body.idempotency_key, now=runtime.clock())
    )
    if made.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return made.to_json(shop.currency)


def _record(runtime: Runtime, identity: Identity, body: FeedbackRequest) -> bool:
    shop = runtime.shop
    event = FeedbackEvent(
        event_id=body.event_id,
        impression_id=body.impression_id,
        type=body.type,
        claim_id=body.claim_id,
        order_id=body.order_id,
        value=None if body.value is None else shop.currency.parse(body.value),
        quantity=body.quantity,
        created_at=runtime.clock(),
    )

    def write() -> bool:
        with shop.sessions.begin() as session:
            # Take SQLite's write lock before reading: a read transaction cannot be upgraded
            # once another writer has committed ("database is locked" under concurrent feedback).
            session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})
            owner = session.scalar(
                select(DecisionRecord.user_id)
                .join(ImpressionRecord, ImpressionRecord.decision_id == DecisionRecord.id)
                .where(ImpressionRecord.id == body.impression_id)
            )
            if owner is None:
                raise UnknownEntityError(f"unknown impression id {body.impression_id!r}")
            if identity.subject is not None and not identity.may_read(owner):
                raise ApiError(403, "forbidden", "this impression was shown to another user")
            return record_feedback(session, event)

    # A burst of writers can keep SQLite's lock longer than one busy timeout.
    return retry_when_locked(write, what="recording feedback")


@router.post(
    "/v1/feedback", response_model=FeedbackResponse, responses=_errors(401, 403, 404, 413, 422)
)
async def feedback(
    body: FeedbackRequest, runtime: RuntimeDep, identity: IdentityDep
) -> dict[str, Any]:
    """Record a click, claim, add to cart, purchase or dismiss on an impression.

    Idempotent by ``event_id``: sending it again is 200 with ``recorded: false`` and no effect.
    """
    recorded = await to_thread.run_sync(partial(_record, runtime, identity, body))
    return {"event_id": body.event_id, "recorded": recorded}


def _history(runtime: Runtime, identity: Identity, session_id: str, user_id: str | None) -> Any:
    with runtime.shop.sessions() as session:
        record = session.get(SessionRecord, session_id)
        if record is None:
            raise ApiError(404, "not_found", f"unknown session {session_id!r}")
        if identity.subject is None:
            if user_id is None:
                raise ApiError(
                    401, "missing_token", "send a bearer token (in dev: ?user_id=<the owner>)"
                )
            allowed = user_id == record.user_id
        else:
            allowed = identity.may_read(record.user_id)
        if not allowed:
            raise ApiError(403, "forbidden", "this session belongs to another user")
        log = read_session_log(session, session_id)
        messages, decisions, impressions = log.messages, log.decisions, log.impressions
        seen, titles = log.feedback, log.titles
        turns: dict[str, dict[str, Any]] = {}
        for m in messages:
            turn = turns.setdefault(
                m.turn_id,
                {
                    "turn_id": m.turn_id,
                    "created_at": utc_text(m.created_at),
                    "messages": [],
                    "recommendations": [],
                },
            )
            turn["messages"].append(
                {"role": m.role, "text": m.text, "created_at": utc_text(m.created_at)}
            )
        for turn_id, turn in turns.items():
            decision = decisions.get(turn_id)
            if decision is None:
                continue
            turn["decision_id"] = decision.id
            turn["recommendations"] = [
                {
                    "impression_id": imp.id,
                    "position": imp.position,
                    "kind": imp.kind,
                    "id": imp.item_id,
                    "title": titles.get((imp.kind, imp.item_id)),
                    "activity_ids": list(imp.activity_ids),
                    "propensity": imp.propensity,
                    "feedback": seen.get(imp.id, []),
                }
                for imp in impressions.get(decision.id, [])
            ]
        return {
            "session_id": record.id,
            "user_id": record.user_id,
            "created_at": utc_text(record.created_at),
            "updated_at": utc_text(record.updated_at),
            "handoff": record.handoff,
            "agent_active": record.agent_active,
            "turns": list(turns.values()),
        }


@router.get("/v1/sessions/{session_id}", responses=_errors(401, 403, 404, 422))
async def session_history(
    session_id: Annotated[str, Path(min_length=1, max_length=128)],
    runtime: RuntimeDep,
    identity: IdentityDep,
    user_id: Annotated[
        str | None, Query(max_length=128, description="dev without a token: the owner")
    ] = None,
) -> dict[str, Any]:
    """A session's turns (messages in order) and what each turn recommended, with the
    feedback recorded on it. Only its user, or an agent (``role: agent`` in the token)."""
    history: dict[str, Any] = await to_thread.run_sync(
        partial(_history, runtime, identity, session_id, user_id)
    )
    return history
