"""The logged interactions as SQL rows: built lazily, written with bulk Core inserts, removed.

Ids are deterministic and sortable: users ``demo-u00001``, sessions ``demo-s000001`` (in time
order), turns ``demo-t0000001`` with their decision ``demo-d0000001`` and message
``demo-m0000001``, impressions ``<decision id>-<position>``, feedback events
``<impression id>-<type>``, orders ``demo-o0000001-<position>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Select, Table, delete, func, insert, select
from tqdm import tqdm

from assistant.store import (
    CartItemRecord,
    CartRecord,
    ClaimRecord,
    DecisionRecord,
    FeedbackRecord,
    ImpressionRecord,
    MessageRecord,
    SessionRecord,
    UserRecord,
)
from assistant.world._log_items import CatalogSnapshot
from assistant.world._log_text import shopper_message

__all__ = [
    "DEMO_USER_PREFIX",
    "EVENT_TYPES",
    "LogArrays",
    "Versions",
    "count_demo",
    "delete_demo",
    "insert_rows",
    "table_rows",
    "user_id",
]

DEMO_USER_PREFIX = "demo-u"
"""Every demo user id starts with this; ``replace`` removes exactly these users' rows."""

EVENT_TYPES = ("click", "claim", "add_to_cart", "purchase")
_BATCH = 5000
_DECIMALS = 10  # propensities are >= epsilon / n (~1e-3): at least 7 significant digits kept
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def user_id(number: int) -> str:
    """The id of the ``number``-th demo user (1-based)."""
    return f"{DEMO_USER_PREFIX}{number:05d}"


@dataclass(frozen=True)
class Versions:
    """What the decisions record about the logging policy."""

    policy: str
    ranker: str
    params: str
    world: str
    temperature: float
    epsilon: float


@dataclass(frozen=True, eq=False)
class LogArrays:
    """The simulated log, ready to become rows; times are seconds relative to ``now``.

    Users (u,): ``member``, ``new``, ``segments`` (names), ``zh`` (writes Chinese),
    ``user_created``. Sessions (S,), in time order: ``session_user``, ``session_intent``,
    ``session_start``, ``session_end``. Decisions (m,), sorted by (session, turn): ``session``,
    ``turn``, ``at``; shape (m, n) ``candidates`` (rows of the snapshot, -1 = padding),
    ``scores``, ``first``; shape (m, k) ``chosen``, ``propensity``, ``true_click``,
    ``true_purchase``, ``events`` (bool, shape (m, k, 4) in `EVENT_TYPES` order),
    ``event_at`` (shape (m, k, 4)), ``quantity``; ``pick`` and ``budget`` (m,) choose and fill
    each turn's message.
    """

    member: BoolArray
    new: BoolArray
    segments: Sequence[list[str]]
    zh: BoolArray
    user_created: FloatArray
    session_user: IntArray
    session_intent: IntArray
    session_start: FloatArray
    session_end: FloatArray
    session: IntArray
    turn: IntArray
    at: FloatArray
    candidates: IntArray
    scores: FloatArray
    first: FloatArray
    chosen: IntArray
    propensity: FloatArray
    true_click: FloatArray
    true_purchase: FloatArray
    events: BoolArray
    event_at: FloatArray
    quantity: IntArray
    pick: FloatArray
    budget: FloatArray


def _times(now: datetime, seconds: FloatArray) -> list[datetime]:
    return [now + timedelta(seconds=s) for s in seconds.tolist()]


def _users(log: LogArrays, now: datetime) -> Iterator[dict[str, Any]]:
    created = _times(now, log.user_created)
    for u in range(log.member.size):
        yield {
            "id": user_id(u + 1),
            "member": bool(log.member[u]),
            "new_user": bool(log.new[u]),
            "segments": sorted(log.segments[u]),
            "locale": "zh" if log.zh[u] else "en",
            "created_at": created[u],
        }


def _sessions(log: LogArrays, snap: CatalogSnapshot, now: datetime) -> Iterator[dict[str, Any]]:
    start, end = _times(now, log.session_start), _times(now, log.session_end)
    for s in range(log.session_user.size):
        u = int(log.session_user[s])
        yield {
            "id": f"demo-s{s + 1:06d}",
            "user_id": user_id(u + 1),
            "created_at": start[s],
            "updated_at": end[s],
            "state": {
                "source": "demo-logs",
                "intent_category": snap.leaves[int(log.session_intent[s])],
                "language": "zh" if log.zh[u] else "en",
            },
            "handoff": False,
            "agent_active": False,
            "summary": "",
        }


def _messages(
    log: LogArrays, names: Sequence[tuple[str, str]], now: datetime
) -> Iterator[dict[str, Any]]:
    at = _times(now, log.at - 2.0)
    for d in range(log.session.size):
        s = int(log.session[d])
        text = shopper_message(
            names[int(log.session_intent[s])],
            bool(log.zh[log.session_user[s]]),
            first=bool(log.turn[d] == 1),
            pick=float(log.pick[d]),
            budget=float(log.budget[d]),
        )
        yield {
            "id": f"demo-m{d + 1:07d}",
            "session_id": f"demo-s{s + 1:06d}",
            "turn_id": f"demo-t{d + 1:07d}",
            "role": "shopper",
            "text": text,
            "created_at": at[d],
        }


def _decisions(
    log: LogArrays, snap: CatalogSnapshot, versions: Versions, now: datetime
) -> Iterator[dict[str, Any]]:
    at = _times(now, log.at)
    ids = snap.ids
    for d in range(log.session.size):
        s = int(log.session[d])
        cand = log.candidates[d]
        keep = cand >= 0
        chosen = [int(i) for i in log.chosen[d] if i >= 0]
        shown = len(chosen)
        revisions = {a: snap.revisions[a] for i in chosen for a in snap.deal_ids[i]}
        yield {
            "id": f"demo-d{d + 1:07d}",
            "turn_id": f"demo-t{d + 1:07d}",
            "session_id": f"demo-s{s + 1:06d}",
            "user_id": user_id(int(log.session_user[s]) + 1),
            "created_at": at[d],
            "candidate_ids": [ids[i] for i in cand[keep].tolist()],
            "scores": log.scores[d][keep].tolist(),
            "propensities": np.round(log.first[d][keep], _DECIMALS).tolist(),
            "chosen_ids": [ids[i] for i in chosen],
            "positions": list(range(shown)),
            "ranker_version": versions.ranker,
            "policy_version": versions.policy,
            "params_version": versions.params,
            "activity_revisions": dict(sorted(revisions.items())),
            "context": {
                "world_version": versions.world,
                "intent_category": snap.leaves[int(log.session_intent[s])],
                "turn": int(log.turn[d]),
                "chosen_propensities": np.round(log.propensity[d, :shown], _DECIMALS).tolist(),
                "final_prices": [int(snap.final_minor[i]) for i in chosen],
                "true_click": np.round(log.true_click[d, :shown], 6).tolist(),
                "true_purchase": np.round(log.true_purchase[d, :shown], 6).tolist(),
            },
        }


def _impressions(log: LogArrays, snap: CatalogSnapshot, now: datetime) -> Iterator[dict[str, Any]]:
    at = _times(now, log.at)
    for d, pos in zip(*np.nonzero(log.chosen >= 0), strict=True):
        item = int(log.chosen[d, pos])
        yield {
            "id": f"demo-d{d + 1:07d}-{pos}",
            "decision_id": f"demo-d{d + 1:07d}",
            "position": int(pos),
            "kind": "activity" if snap.is_activity[item] else "product",
            "item_id": snap.ids[item],
            "activity_ids": list(snap.deal_ids[item]),
            "propensity": round(float(log.propensity[d, pos]), _DECIMALS),
            "created_at": at[d],
        }


def _feedback(log: LogArrays, snap: CatalogSnapshot, now: datetime) -> Iterator[dict[str, Any]]:
    d_idx, pos_idx, kind_idx = np.nonzero(log.events)
    at = _times(now, log.event_at[d_idx, pos_idx, kind_idx])
    for n, (d, pos, kind) in enumerate(zip(d_idx, pos_idx, kind_idx, strict=True)):
        impression = f"demo-d{d + 1:07d}-{pos}"
        name = EVENT_TYPES[kind]
        quantity = int(log.quantity[d, pos])
        value = quantity * int(snap.final_minor[log.chosen[d, pos]])
        yield {
            "event_id": f"{impression}-{name}",
            "impression_id": impression,
            "type": name,
            "claim_id": None,
            "order_id": f"demo-o{d + 1:07d}-{pos}" if name == "purchase" else None,
            "value": value if name == "purchase" else None,
            "quantity": quantity if name in ("add_to_cart", "purchase") else None,
            "created_at": at[n],
        }


def table_rows(
    log: LogArrays,
    snap: CatalogSnapshot,
    names: Sequence[tuple[str, str]],
    versions: Versions,
    now: datetime,
) -> list[tuple[Table, int, Iterable[dict[str, Any]]]]:
    """Each table with its row count and a lazy iterator of its rows, in insertion order."""
    n_shown = int((log.chosen >= 0).sum())
    tables = UserRecord.metadata.tables
    return [
        (tables["users"], log.member.size, _users(log, now)),
        (tables["sessions"], log.session_user.size, _sessions(log, snap, now)),
        (tables["messages"], log.session.size, _messages(log, names, now)),
        (tables["decisions"], log.session.size, _decisions(log, snap, versions, now)),
        (tables["impressions"], n_shown, _impressions(log, snap, now)),
        (tables["feedback_events"], int(log.events.sum()), _feedback(log, snap, now)),
    ]


def insert_rows(
    conn: Connection, table: Table, rows: Iterable[dict[str, Any]], bar: tqdm[Any]
) -> int:
    """Insert ``rows`` in batches of executemany (one statement per batch); returns the count."""
    batch: list[dict[str, Any]] = []
    count = 0
    for row in rows:
        batch.append(row)
        if len(batch) == _BATCH:
            conn.execute(insert(table), batch)
            count += len(batch)
            bar.update(len(batch))
            batch = []
    if batch:
        conn.execute(insert(table), batch)
        count += len(batch)
        bar.update(len(batch))
    return count


def _demo_users() -> Select[str]:
    return select(UserRecord.id).where(UserRecord.id.like(f"{DEMO_USER_PREFIX}%"))


def count_demo(conn: Connection) -> tuple[int, int]:
    """How many demo users are stored, and how many coupon claims they hold."""
    users = conn.execute(
        select(func.count())
        .select_from(UserRecord)
        .where(UserRecord.id.like(f"{DEMO_USER_PREFIX}%"))
    ).scalar_one()
    claims = conn.execute(
        select(func.count()).select_from(ClaimRecord).where(ClaimRecord.user_id.in_(_demo_users()))
    ).scalar_one()
    return int(users), int(claims)


def delete_demo(conn: Connection) -> None:
    """Delete every row of the demo users and nothing of any other user.

    Their feedback, impressions, decisions, messages, carts, sessions and the users themselves.
    """
    users = _demo_users()
    decisions = select(DecisionRecord.id).where(DecisionRecord.user_id.in_(users))
    sessions = select(SessionRecord.id).where(SessionRecord.user_id.in_(users))
    impressions = select(ImpressionRecord.id).where(ImpressionRecord.decision_id.in_(decisions))
    carts = select(CartRecord.id).where(CartRecord.user_id.in_(users))
    conn.execute(delete(FeedbackRecord).where(FeedbackRecord.impression_id.in_(impressions)))
    conn.execute(delete(ImpressionRecord).where(ImpressionRecord.decision_id.in_(decisions)))
    conn.execute(delete(DecisionRecord).where(DecisionRecord.user_id.in_(users)))
    conn.execute(delete(MessageRecord).where(MessageRecord.session_id.in_(sessions)))
    conn.execute(delete(CartItemRecord).where(CartItemRecord.cart_id.in_(carts)))
    conn.execute(delete(CartRecord).where(CartRecord.user_id.in_(users)))
    conn.execute(delete(SessionRecord).where(SessionRecord.user_id.in_(users)))
    conn.execute(delete(UserRecord).where(UserRecord.id.like(f"{DEMO_USER_PREFIX}%")))
