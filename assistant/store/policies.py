"""Versioned policy snapshots and off-policy evaluations in SQL.

A snapshot row is immutable once written: its ``version`` is the policy's own version (a digest
of everything that changes a choice), so writing the same policy twice is a no-op. The serving
policy is the snapshot with the latest ``promoted_at``; promoting writes that column only.

Example:
    >>> with shop.sessions.begin() as session:  # doctest: +SKIP
    ...     save_policy_snapshot(session, "linucb", snap, version=v, now=now)
    ...     promote_policy_snapshot(session, v, now=now)
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.errors import InputError
from assistant.store.models import PolicyEvaluationRecord, PolicyRoleRecord, PolicySnapshotRecord

__all__ = [
    "get_policy_snapshot",
    "latest_policy_evaluation",
    "clear_policy_role",
    "list_policy_snapshots",
    "policy_roles",
    "promote_policy_snapshot",
    "record_policy_evaluation",
    "save_policy_snapshot",
    "serving_policy_snapshot",
    "set_policy_role",
]


def save_policy_snapshot(
    session: Session,
    family: str,
    snapshot: dict[str, Any],
    *,
    version: str,
    now: datetime,
    parent_version: str | None = None,
    folded_through: datetime | None = None,
    n_folded: int = 0,
) -> PolicySnapshotRecord:
    """Write a snapshot (or return the existing row of the same version unchanged)."""
    existing = session.get(PolicySnapshotRecord, version)
    if existing is not None:
        return existing
    record = PolicySnapshotRecord(
        version=version,
        family=family,
        snapshot=snapshot,
        parent_version=parent_version,
        created_at=now,
        folded_through=folded_through,
        n_folded=n_folded,
        promoted_at=None,
    )
    session.add(record)
    session.flush()
    return record


def get_policy_snapshot(session: Session, version: str) -> PolicySnapshotRecord:
    """The snapshot of ``version``.

    Raises:
        InputError: No snapshot has that version (the message lists the known ones).
    """
    record = session.get(PolicySnapshotRecord, version)
    if record is None:
        known = session.scalars(
            select(PolicySnapshotRecord.version)
            .order_by(PolicySnapshotRecord.created_at.desc())
            .limit(10)
        ).all()
        listed = ", ".join(known) or "none yet (`shopassist policy create FAMILY`)"
        raise InputError(f"unknown policy version {version!r}; known: {listed}")
    return record


def serving_policy_snapshot(session: Session) -> PolicySnapshotRecord | None:
    """The promoted snapshot serving now (latest ``promoted_at``), or None."""
    return session.scalars(
        select(PolicySnapshotRecord)
        .where(PolicySnapshotRecord.promoted_at.is_not(None))
        .order_by(PolicySnapshotRecord.promoted_at.desc(), PolicySnapshotRecord.version)
        .limit(1)
    ).first()


def promote_policy_snapshot(session: Session, version: str, *, now: datetime) -> None:
    """Make ``version`` the serving snapshot (workers pick it up on their next reload)."""
    record = get_policy_snapshot(session, version)
    record.promoted_at = now
    session.flush()


def list_policy_snapshots(session: Session, limit: int = 50) -> list[PolicySnapshotRecord]:
    """The newest snapshots first."""
    return list(
        session.scalars(
            select(PolicySnapshotRecord)
            .order_by(PolicySnapshotRecord.created_at.desc(), PolicySnapshotRecord.version)
            .limit(limit)
        )
    )


def record_policy_evaluation(
    session: Session,
    *,
    candidate_version: str,
    serving_version: str,
    n_decisions: int,
    reward: str,
    report: dict[str, Any],
    promoted: bool,
    now: datetime,
) -> PolicyEvaluationRecord:
    """Keep an off-policy evaluation and its verdict."""
    record = PolicyEvaluationRecord(
        id=uuid.uuid4().hex,
        candidate_version=candidate_version,
        serving_version=serving_version,
        created_at=now,
        n_decisions=n_decisions,
        reward=reward,
        report=report,
        promoted=promoted,
    )
    session.add(record)
    session.flush()
    return record


def latest_policy_evaluation(session: Session) -> PolicyEvaluationRecord | None:
    """The most recent off-policy evaluation, or None."""
    return session.scalars(
        select(PolicyEvaluationRecord).order_by(PolicyEvaluationRecord.created_at.desc()).limit(1)
    ).first()


def set_policy_role(
    session: Session, role: str, version: str, *, now: datetime, share: float = 0.0, salt: str = ""
) -> PolicyRoleRecord:
    """Give ``version`` the ``shadow`` or ``ab`` role (replacing whoever held it)."""
    get_policy_snapshot(session, version)
    record = session.get(PolicyRoleRecord, role)
    if record is None:
        record = PolicyRoleRecord(
            role=role, version=version, share=share, salt=salt, started_at=now
        )
        session.add(record)
    else:
        record.version, record.share, record.salt, record.started_at = version, share, salt, now
    session.flush()
    return record


def clear_policy_role(session: Session, role: str) -> bool:
    """End the role; returns whether anyone held it."""
    record = session.get(PolicyRoleRecord, role)
    if record is None:
        return False
    session.delete(record)
    session.flush()
    return True


def policy_roles(session: Session) -> dict[str, PolicyRoleRecord]:
    """Role name -> its record, for the roles held now."""
    return {r.role: r for r in session.scalars(select(PolicyRoleRecord))}
