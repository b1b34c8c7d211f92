"""Customer-service agents: the queue of handed-off sessions, taking one over, writing to the
shopper, handing back, and what an agent needs to see and say.

A session enters the queue when the pipeline flags a handoff (the shopper asks for a person,
complains, or the assistant failed twice). An agent :func:`take_over` it (``agent_active``: the
assistant now stays quiet and replies ``""``), reads :func:`session_history` (every turn's
messages and, for each slate, the candidates, ranker scores, propensities, versions, the
activity revisions shown and the why-lines), asks :func:`suggest_reply` for a draft written by
the grounded reply path (templates, or the LLM through the claims guard) from the items shown
in that session only, edits it, :func:`send_agent_message` and finally :func:`hand_back`. The
shopper reads agent messages through ``GET /v1/sessions/{id}`` or :func:`agent_updates`.

Example:
    >>> shop = Shop.from_settings()  # doctest: +SKIP
    >>> entry = agent_queue(shop)[0]  # doctest: +SKIP
    >>> take_over(shop, entry.session_id)  # doctest: +SKIP
    True
    >>> draft = suggest_reply(Assistant.from_shop(shop), entry.session_id)  # doctest: +SKIP
    >>> send_agent_message(shop, entry.session_id, draft.text).role  # doctest: +SKIP
    'agent'
    >>> hand_back(shop, entry.session_id)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import re
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.conversation.facts import ActionKind, ItemFact, ReplyFacts
from assistant.conversation.guard import Violation, check
from assistant.conversation.phrasing import phrase_reply
from assistant.conversation.ranking import Candidate
from assistant.conversation.replies import render_reply
from assistant.conversation.state import DialogueState, ShownItem
from assistant.errors import InputError, LLMError, UnknownEntityError, ValidationError
from assistant.schedule import aware
from assistant.store.models import (
    ActivityRecord,
    ActivityRevisionRecord,
    DecisionRecord,
    FeedbackRecord,
    ImpressionRecord,
    MessageRecord,
    ProductRecord,
    SessionRecord,
)

if TYPE_CHECKING:
    from assistant.app import Shop
    from assistant.conversation.pipeline import Assistant

__all__ = [
    "SessionLog",
    "read_session_log",
    "MAX_AGENT_MESSAGE_CHARS",
    "AgentUpdates",
    "CandidateScore",
    "DecisionView",
    "MessageView",
    "QueueEntry",
    "SessionView",
    "ShownItemView",
    "Suggestion",
    "TurnView",
    "agent_queue",
    "agent_updates",
    "hand_back",
    "send_agent_message",
    "session_history",
    "suggest_reply",
    "take_over",
]

logger = logging.getLogger(__name__)

MAX_AGENT_MESSAGE_CHARS = 2000
"""The longest agent message, as for a shopper's."""
QUEUE_LIMIT = 50
"""The most sessions :func:`agent_queue` lists by default."""
TOP_CANDIDATES = 10
"""Candidates per decision listed with their scores (best first)."""
_PREVIEW_CHARS = 120
_MAX_ID = 128
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """A handed-off session waiting for (or owned by) an agent.

    Attributes:
        session_id: The session.
        user_id: Its shopper.
        last_message_at: When its last message was written (``None``: no message yet).
        agent_active: An agent has taken it over.
        messages: How many messages it has.
        last_shopper_message: The shopper's latest message, cut to 120 characters.
    """

    session_id: str
    user_id: str
    last_message_at: datetime | None
    agent_active: bool
    messages: int
    last_shopper_message: str


@dataclass(frozen=True, slots=True)
class MessageView:
    """One message: ``role`` is ``shopper``, ``assistant`` or ``agent``; ``created_at`` UTC."""

    id: str
    role: str
    text: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CandidateScore:
    """A candidate the ranker scored for a decision (``kind`` is not logged, only the id)."""

    id: str
    score: float


@dataclass(frozen=True, slots=True)
class ShownItemView:
    """One item a decision showed, with what the ranker and the policy said about it.

    Attributes:
        impression_id: The impression (feedback points to it).
        position: 0-based slot.
        kind: ``product`` or ``activity``.
        item_id: Product or activity id.
        title: Its current title (``""`` when it no longer exists).
        score: The ranker's score, when the decision logged it.
        rank: 1-based rank by score among the logged candidates, when logged.
        propensity: The policy's probability of showing it there.
        activity_revisions: Activity id -> the revision shown with it.
        why: The why-line the shopper read (``""`` when it cannot be recovered).
        feedback: What the shopper did with it (``click``, ``claim``...), in order.
    """

    impression_id: str
    position: int
    kind: str
    item_id: str
    title: str
    score: float | None
    rank: int | None
    propensity: float
    activity_revisions: dict[str, int]
    why: str
    feedback: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DecisionView:
    """One logged slate decision.

    Attributes:
        decision_id: The decision.
        created_at: When it was made (UTC).
        n_candidates: How many candidates the policy chose from.
        candidates: The best logged candidates by ranker score (at most 10).
        items: What was shown, in slot order.
        ranker_version: The ranker that scored.
        policy_version: The policy that chose.
        params_version: The policy parameters' snapshot.
        slate_propensity: The probability of the whole slate, when logged.
    """

    decision_id: str
    created_at: datetime
    n_candidates: int
    candidates: tuple[CandidateScore, ...]
    items: tuple[ShownItemView, ...]
    ranker_version: str
    policy_version: str
    params_version: str
    slate_propensity: float | None


@dataclass(frozen=True, slots=True)
class TurnView:
    """A turn's messages (an agent message is a turn of its own) and its decision, if any."""

    turn_id: str
    created_at: datetime
    messages: tuple[MessageView, ...]
    decision: DecisionView | None


@dataclass(frozen=True, slots=True)
class SessionView:
    """A session as the agent console shows it (turns oldest first)."""

    session_id: str
    user_id: str
    handoff: bool
    agent_active: bool
    language: str
    created_at: datetime
    updated_at: datetime
    turns: tuple[TurnView, ...]


@dataclass(frozen=True, slots=True)
class AgentUpdates:
    """What the shopper's page polls while a person may be answering.

    Attributes:
        handoff: The session is (still) in the agent queue.
        agent_active: An agent owns the session.
        messages: The agent messages of the session, oldest first.
    """

    handoff: bool
    agent_active: bool
    messages: tuple[MessageView, ...]


@dataclass(frozen=True, slots=True)
class Suggestion:
    """An agent-assist draft and the facts it rests on.

    Attributes:
        text: The draft (the agent edits it before sending).
        facts: Everything the draft may state: the session's shown items re-priced now.
        source: ``template``, ``llm`` or ``llm_regenerated``.
        violations: What the claims guard refused in the final text (empty: it passed).
    """

    text: str
    facts: ReplyFacts
    source: Literal["template", "llm", "llm_regenerated"]
    violations: tuple[Violation, ...] = ()

    @property
    def item_ids(self) -> tuple[str, ...]:
        """The ids of the items the draft may name."""
        return tuple(item.id for item in self.facts.items)


def _now(now: datetime | None) -> datetime:
    return aware(now, "now") if now is not None else datetime.now(UTC)


def _check_session_id(session_id: str) -> str:
    if not isinstance(session_id, str) or not session_id.strip():
        raise ValidationError("the session id is empty; pick a session from the agent queue")
    if len(session_id) > _MAX_ID:
        raise ValidationError(
            f"the session id has {len(session_id)} characters, at most {_MAX_ID}; "
            "pick a session from the agent queue"
        )
    return session_id.strip()


def _session(session: Session, session_id: str, *, lock: bool = False) -> SessionRecord:
    query = select(SessionRecord).where(SessionRecord.id == session_id)
    if lock:
        query = query.with_for_update()
    record = session.scalar(query)
    if record is None:
        raise UnknownEntityError(
            f"unknown session {session_id!r}; pick a session from the agent queue"
        )
    return record


def _clean_text(text: str) -> str:
    if not isinstance(text, str):
        raise ValidationError(f"the agent message must be text, got {type(text).__name__}")
    cleaned = _CONTROL.sub(" ", text).strip()
    if not cleaned:
        raise ValidationError("the agent message is empty; type what to tell the shopper")
    if len(cleaned) > MAX_AGENT_MESSAGE_CHARS:
        raise ValidationError(
            f"the agent message has {len(cleaned)} characters, at most "
            f"{MAX_AGENT_MESSAGE_CHARS:,}; shorten it or send it in parts"
        )
    return cleaned


def _view(m: MessageRecord) -> MessageView:
    return MessageView(m.id, m.role, m.text, m.created_at)


# --- the queue and its actions ----------------------------------------------------------------


def agent_queue(shop: Shop, *, limit: int = QUEUE_LIMIT) -> list[QueueEntry]:
    """The handed-off sessions, the most recently active first.

    Args:
        shop: The shop.
        limit: The most sessions to list (1-500).

    Raises:
        ValidationError: ``limit`` out of range.
    """
    if not 1 <= limit <= 500:
        raise ValidationError(f"limit must be between 1 and 500, got {limit}")
    waiting = select(SessionRecord.id).where(SessionRecord.handoff.is_(True)).scalar_subquery()
    last = (
        select(
            MessageRecord.session_id,
            func.max(MessageRecord.created_at).label("last_at"),
            func.count().label("n"),
        )
        .where(MessageRecord.session_id.in_(waiting))
        .group_by(MessageRecord.session_id)
        .subquery()
    )
    with shop.sessions() as session:
        rows = session.execute(
            select(
                SessionRecord.id,
                SessionRecord.user_id,
                SessionRecord.agent_active,
                last.c.last_at,
                last.c.n,
            )
            .outerjoin(last, last.c.session_id == SessionRecord.id)
            .where(SessionRecord.handoff.is_(True))
            .order_by(
                func.coalesce(last.c.last_at, SessionRecord.updated_at).desc(), SessionRecord.id
            )
            .limit(limit)
        ).all()
        ids = [row.id for row in rows]
        latest: dict[str, str] = {}
        if ids:
            for session_id, text in session.execute(
                select(MessageRecord.session_id, MessageRecord.text)
                .where(MessageRecord.session_id.in_(ids), MessageRecord.role == "shopper")
                .order_by(MessageRecord.created_at)
            ):
                latest[session_id] = text
    out = []
    for row in rows:
        last_at = row.last_at
        if last_at is not None and last_at.tzinfo is None:  # an aggregate loses the column type
            last_at = last_at.replace(tzinfo=UTC)
        preview = latest.get(row.id, "")
        if len(preview) > _PREVIEW_CHARS:
            preview = preview[: _PREVIEW_CHARS - 1] + "…"
        out.append(
            QueueEntry(
                session_id=row.id,
                user_id=row.user_id,
                last_message_at=last_at,
                agent_active=bool(row.agent_active),
                messages=int(row.n or 0),
                last_shopper_message=preview,
            )
        )
    return out


def take_over(shop: Shop, session_id: str, *, now: datetime | None = None) -> bool:
    """An agent takes a handed-off session: the assistant stays quiet until :func:`hand_back`.

    Idempotent: taking over a session an agent already owns changes nothing.

    Returns:
        True when this call took it over, False when an agent already owned it.

    Raises:
        ValidationError: An empty or over-long session id.
        UnknownEntityError: No such session.
        InputError: The session was not handed off (it is not in the queue).
    """
    session_id = _check_session_id(session_id)
    moment = _now(now)
    with shop.sessions.begin() as session:
        record = _session(session, session_id, lock=True)
        if not record.handoff:
            raise InputError(
                f"session {session_id!r} was not handed off to an agent; only sessions in the "
                "agent queue can be taken over"
            )
        if record.agent_active:
            return False
        record.agent_active = True
        record.updated_at = max(record.updated_at, moment)
    logger.info("agent took over session %s", session_id)
    return True


def send_agent_message(
    shop: Shop, session_id: str, text: str, *, now: datetime | None = None
) -> MessageView:
    """Write an agent message to the shopper of a session the agent has taken over.

    The message is stored with role ``agent`` in its own turn, timed after every earlier
    message of the session so it reads in order. Control characters become spaces; leading and
    trailing whitespace goes.

    Returns:
        The stored message.

    Raises:
        ValidationError: Empty text, text over 2,000 characters, or a bad session id.
        UnknownEntityError: No such session.
        InputError: The session is not taken over (call :func:`take_over` first).
    """
    session_id = _check_session_id(session_id)
    cleaned = _clean_text(text)
    moment = _now(now)
    with shop.sessions.begin() as session:
        record = _session(session, session_id, lock=True)
        if not record.agent_active:
            raise InputError(
                f"session {session_id!r} is not taken over by an agent; take it over before "
                "writing to the shopper"
            )
        latest = session.scalar(
            select(func.max(MessageRecord.created_at)).where(MessageRecord.session_id == session_id)
        )
        if latest is not None:
            latest = latest if latest.tzinfo is not None else latest.replace(tzinfo=UTC)
            moment = max(moment, latest + _TICK)
        message = MessageRecord(
            id=uuid.uuid4().hex,
            session_id=session_id,
            turn_id=uuid.uuid4().hex,
            role="agent",
            text=cleaned,
            created_at=moment,
        )
        session.add(message)
        record.updated_at = max(record.updated_at, moment)
        session.flush()
        view = _view(message)
    logger.info("agent message in session %s (%d characters)", session_id, len(cleaned))
    return view


def hand_back(shop: Shop, session_id: str, *, now: datetime | None = None) -> None:
    """The agent hands the session back to the assistant and it leaves the queue.

    Raises:
        ValidationError: A bad session id.
        UnknownEntityError: No such session.
        InputError: No agent owns the session (nothing to hand back).
    """
    session_id = _check_session_id(session_id)
    moment = _now(now)
    with shop.sessions.begin() as session:
        record = _session(session, session_id, lock=True)
        if not record.agent_active:
            raise InputError(
                f"session {session_id!r} is not taken over by an agent, so there is nothing to "
                "hand back; refresh the queue"
            )
        record.agent_active = False
        record.handoff = False
        record.updated_at = max(record.updated_at, moment)
    logger.info("agent handed back session %s", session_id)


def agent_updates(shop: Shop, session_id: str, user_id: str) -> AgentUpdates:
    """The session's handoff state and agent messages, for its own shopper.

    Raises:
        ValidationError: A bad session id.
        UnknownEntityError: No such session, or it belongs to another user.
    """
    session_id = _check_session_id(session_id)
    with shop.sessions() as session:
        record = session.get(SessionRecord, session_id)
        if record is None or record.user_id != user_id:
            raise UnknownEntityError(f"unknown session {session_id!r} for user {user_id!r}")
        messages = session.scalars(
            select(MessageRecord)
            .where(MessageRecord.session_id == session_id, MessageRecord.role == "agent")
            .order_by(MessageRecord.created_at, MessageRecord.id)
        ).all()
        return AgentUpdates(
            handoff=record.handoff,
            agent_active=record.agent_active,
            messages=tuple(_view(m) for m in messages),
        )


# --- the history ------------------------------------------------------------------------------


def _titles(session: Session, kinds: dict[str, set[str]]) -> dict[tuple[str, str], str]:
    titles: dict[tuple[str, str], str] = {}
    if kinds["product"]:
        rows = session.execute(
            select(ProductRecord.id, ProductRecord.title).where(
                ProductRecord.id.in_(kinds["product"])
            )
        )
        titles.update({("product", i): t for i, t in rows})
    if kinds["activity"]:
        rows = session.execute(
            select(ActivityRevisionRecord.activity_id, ActivityRevisionRecord.title)
            .join(ActivityRecord, ActivityRecord.id == ActivityRevisionRecord.activity_id)
            .where(
                ActivityRevisionRecord.activity_id.in_(kinds["activity"]),
                ActivityRevisionRecord.revision == ActivityRecord.current_revision,
            )
        )
        titles.update({("activity", i): t for i, t in rows})
    return titles


def _why_lines(decision: DecisionRecord, messages: Sequence[MessageRecord]) -> dict[int, str]:
    """Position -> the why-line shown: logged in the decision's context when the pipeline
    logs it, else read back from the reply's numbered list (``N. title — price · why``)."""
    logged = (decision.context or {}).get("reasons")
    if isinstance(logged, list):
        return {i: str(r) for i, r in enumerate(logged)}
    out: dict[int, str] = {}
    for message in messages:
        if message.role != "assistant":
            continue
        for line in message.text.splitlines():
            number, dot, rest = line.partition(". ")
            if dot and number.isdigit() and " · " in rest:
                out.setdefault(int(number) - 1, rest.rpartition(" · ")[2].strip())
    return out


def _decision_view(
    decision: DecisionRecord,
    impressions: Sequence[ImpressionRecord],
    messages: Sequence[MessageRecord],
    titles: dict[tuple[str, str], str],
    feedback: dict[str, list[str]],
) -> DecisionView:
    context: dict[str, Any] = decision.context or {}
    ranked = sorted(
        zip(decision.candidate_ids or [], decision.scores or [], strict=False),
        key=lambda pair: -float(pair[1]),
    )
    rank_of = {cid: i for i, (cid, _) in enumerate(ranked, start=1)}
    score_of = {cid: float(score) for cid, score in ranked}
    revisions = decision.activity_revisions or {}
    why = _why_lines(decision, messages)
    items = []
    for imp in impressions:
        shown_ids = ([imp.item_id] if imp.kind == "activity" else []) + list(imp.activity_ids)
        items.append(
            ShownItemView(
                impression_id=imp.id,
                position=imp.position,
                kind=imp.kind,
                item_id=imp.item_id,
                title=titles.get((imp.kind, imp.item_id), ""),
                score=score_of.get(imp.item_id),
                rank=rank_of.get(imp.item_id),
                propensity=float(imp.propensity),
                activity_revisions={a: int(revisions[a]) for a in shown_ids if a in revisions},
                why=why.get(imp.position, ""),
                feedback=tuple(feedback.get(imp.id, ())),
            )
        )
    slate = context.get("slate_propensity")
    return DecisionView(
        decision_id=decision.id,
        created_at=decision.created_at,
        n_candidates=int(context.get("n_candidates", len(decision.candidate_ids or []))),
        candidates=tuple(CandidateScore(c, float(s)) for c, s in ranked[:TOP_CANDIDATES]),
        items=tuple(items),
        ranker_version=decision.ranker_version,
        policy_version=decision.policy_version,
        params_version=decision.params_version,
        slate_propensity=float(slate) if slate is not None else None,
    )


_ROLE_ORDER = {"shopper": 0, "agent": 1, "assistant": 2}


@dataclass(frozen=True)
class SessionLog:
    """What SQL holds about one session's turns, read in one go (console and API share it).

    Attributes:
        messages: The messages in order (a turn's shopper message before its replies).
        decisions: Turn id -> its slate decision.
        impressions: Decision id -> its shown items, by position.
        feedback: Impression id -> the feedback types recorded on it, oldest first.
        titles: (kind, item id) -> the item's current title.
    """

    messages: list[MessageRecord]
    decisions: dict[str, DecisionRecord]
    impressions: dict[str, list[ImpressionRecord]]
    feedback: dict[str, list[str]]
    titles: dict[tuple[str, str], str]


def read_session_log(session: Session, session_id: str) -> SessionLog:
    """Read a session's messages, decisions, impressions, feedback and item titles."""
    messages = sorted(
        session.scalars(select(MessageRecord).where(MessageRecord.session_id == session_id)),
        # A turn's messages share a timestamp: the shopper spoke first.
        key=lambda m: (m.created_at, _ROLE_ORDER.get(m.role, 1)),
    )
    decisions = {
        d.turn_id: d
        for d in session.scalars(
            select(DecisionRecord).where(DecisionRecord.session_id == session_id)
        )
    }
    impressions: dict[str, list[ImpressionRecord]] = defaultdict(list)
    if decisions:
        for imp in session.scalars(
            select(ImpressionRecord)
            .where(ImpressionRecord.decision_id.in_([d.id for d in decisions.values()]))
            .order_by(ImpressionRecord.position)
        ):
            impressions[imp.decision_id].append(imp)
    feedback: dict[str, list[str]] = defaultdict(list)
    ids = [i.id for imps in impressions.values() for i in imps]
    if ids:
        for impression_id, kind in session.execute(
            select(FeedbackRecord.impression_id, FeedbackRecord.type)
            .where(FeedbackRecord.impression_id.in_(ids))
            .order_by(FeedbackRecord.created_at)
        ):
            feedback[impression_id].append(kind)
    kinds: dict[str, set[str]] = {"product": set(), "activity": set()}
    for imps in impressions.values():
        for imp in imps:
            kinds[imp.kind].add(imp.item_id)
    return SessionLog(messages, decisions, impressions, feedback, _titles(session, kinds))


def session_history(shop: Shop, session_id: str) -> SessionView:
    """A session's turns with, for each slate shown, the decision behind it.

    Raises:
        ValidationError: A bad session id.
        UnknownEntityError: No such session.
    """
    session_id = _check_session_id(session_id)
    with shop.sessions() as session:
        record = _session(session, session_id)
        log = read_session_log(session, session_id)
        messages, decisions, impressions = log.messages, log.decisions, log.impressions
        feedback, titles = log.feedback, log.titles
        grouped: dict[str, list[MessageRecord]] = {}
        for m in messages:
            grouped.setdefault(m.turn_id, []).append(m)
        turns = []
        for turn_id, turn_messages in grouped.items():
            decision = decisions.get(turn_id)
            view = None
            if decision is not None:
                view = _decision_view(
                    decision, impressions.get(decision.id, []), turn_messages, titles, feedback
                )
            turns.append(
                TurnView(
                    turn_id=turn_id,
                    created_at=turn_messages[0].created_at,
                    messages=tuple(_view(m) for m in turn_messages),
                    decision=view,
                )
            )
        state = DialogueState.from_json(record.state)
        return SessionView(
            session_id=record.id,
            user_id=record.user_id,
            handoff=record.handoff,
            agent_active=record.agent_active,
            language=state.language,
            created_at=record.created_at,
            updated_at=record.updated_at,
            turns=tuple(turns),
        )


# --- agent assist -----------------------------------------------------------------------------


def _shown_items(session: Session, record: SessionRecord, state: DialogueState) -> list[ShownItem]:
    """The items of the session's last slate: the dialogue state's, else the last decision's."""
    if state.shown:
        return list(state.shown)
    decision_id = session.scalar(
        select(DecisionRecord.id)
        .where(DecisionRecord.session_id == record.id)
        .order_by(DecisionRecord.created_at.desc(), DecisionRecord.id.desc())
        .limit(1)
    )
    if decision_id is None:
        return []
    return [
        ShownItem(
            kind="activity" if imp.kind == "activity" else "product",
            id=imp.item_id,
            activity_ids=list(imp.activity_ids),
        )
        for imp in session.scalars(
            select(ImpressionRecord)
            .where(ImpressionRecord.decision_id == decision_id)
            .order_by(ImpressionRecord.position)
        )
    ]


def _within(items: Sequence[ItemFact], low: int | None, high: int | None) -> bool:
    for item in items:
        if item.kind != "product":
            continue
        if item.final_price is None:
            return False
        if high is not None and item.final_price > high:
            return False
        if low is not None and item.final_price < low:
            return False
    return True


def suggest_reply(
    assistant: Assistant, session_id: str, *, now: datetime | None = None
) -> Suggestion:
    """A draft reply for the agent, written by the grounded reply path.

    The facts are the items of the session's last slate (nothing else), re-priced now for its
    shopper, in the session's language. With an LLM on ``assistant`` the opening sentence is
    phrased by it through the claims guard (one regeneration, then the template); without one
    the template writes the reply. The final text is checked by the claims guard again.

    Args:
        assistant: The loaded assistant (catalog snapshot, deal engine, LLM if any).
        session_id: The session.
        now: The moment prices are computed for (default: now).

    Raises:
        ValidationError: A bad session id.
        UnknownEntityError: No such session.
    """
    session_id = _check_session_id(session_id)
    moment = _now(now)
    shop = assistant.shop
    snapshot = assistant.catalog.current()
    with shop.sessions() as session:
        record = _session(session, session_id)
        state = DialogueState.from_json(record.state)
        shown = _shown_items(session, record, state)
        # The pipeline's own read (deal context, the session's cart) and pricing of one item.
        read = assistant._read(session, record.user_id, session_id, None, snapshot, moment)
    language = state.language
    items: list[ItemFact] = []
    for item in shown:
        known = snapshot.info if item.kind == "product" else snapshot.activity_by_id
        if item.id not in known:
            continue  # removed from the catalog since it was shown
        candidate = Candidate(kind=item.kind, id=item.id, similarity=1.0)
        items.append(assistant._fact(candidate, read, snapshot, language))
    bounded = _within(items, state.min_price, state.max_price)
    if not items:
        action = ActionKind.CLARIFY
    elif all(i.kind == "activity" for i in items):
        action = ActionKind.OFFER_COUPON
    else:
        action = ActionKind.RECOMMEND
    facts = ReplyFacts(
        action=action,
        language=language,
        currency=shop.currency.code,
        now=moment,
        items=tuple(items),
        question="category" if not items else None,
        max_price=state.max_price if bounded else None,
        min_price=state.min_price if bounded else None,
    )
    source: Literal["template", "llm", "llm_regenerated"] = "template"
    text = render_reply(facts)
    numbers = [
        Decimal(shop.currency.format(a))
        for a in (state.min_price, state.max_price)
        if a is not None
    ]
    if assistant.chat is not None and items:
        request = state.query or " ".join(state.categories) or "what was shown"
        try:
            guarded = phrase_reply(
                assistant.chat,
                facts,
                currency=shop.currency,
                request=request,
                shopper_numbers=numbers,
                timeout_s=assistant.llm_timeout_s,
            )
        except LLMError as exc:
            logger.warning("agent-assist LLM phrasing failed, template used: %s", exc)
        else:
            text, source = guarded.text, guarded.source
    violations = tuple(check(text, facts, shopper_numbers=numbers, currency=shop.currency))
    if violations and source != "template":
        text, source = render_reply(facts), "template"
        violations = tuple(check(text, facts, shopper_numbers=numbers, currency=shop.currency))
    if violations:
        logger.warning("agent-assist draft for session %s has unguarded claims", session_id)
    return Suggestion(text=text, facts=facts, source=source, violations=violations)
