"""Small SQL helpers shared by the repositories."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, String, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session

__all__ = ["id_in"]


def id_in(
    session: Session, column: InstrumentedAttribute[str], ids: Collection[str]
) -> ColumnElement[bool]:
    """``column IN ids``, as one array parameter on PostgreSQL.

    PostgreSQL plans ``= ANY(array)`` with a hash even before a freshly loaded table has
    statistics; a long ``IN (...)`` list there is a nested comparison per row, which made a
    50,000-product import quadratic.
    """
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(String)))
    return column.in_(list(ids))
