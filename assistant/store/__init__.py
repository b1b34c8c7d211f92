"""The SQL store: typed SQLAlchemy models, the engine factory, migrations and repositories.

Build one engine in the composition root and pass sessions in; nothing here connects at import.

Example:
    >>> from assistant.store import make_engine, session_factory, upgrade  # doctest: +SKIP
    >>> engine = make_engine("sqlite:///var/shopassist.db")  # doctest: +SKIP
    >>> upgrade(engine)  # doctest: +SKIP
    >>> with session_factory(engine).begin() as session:  # doctest: +SKIP
    ...     user = get_or_create_user(session, "demo-shopper")
"""

from __future__ import annotations

from assistant.store.activities import (
    DEFAULT_HORIZON,
    ActivityUpsert,
    activity_content,
    activity_from_domain,
    activity_to_domain,
    content_hash,
    get_activity,
    load_activities,
    materialize_occurrences,
    remove_activities,
    upsert_activity,
)
from assistant.store.carts import (
    MAX_CART_LINES,
    MAX_LINE_QUANTITY,
    add_to_session_cart,
    session_cart,
    session_cart_id,
)
from assistant.store.deal_state import budget_left, turn_deal_state, user_deal_state
from assistant.store.engine import (
    SQLITE_BEGIN_OPTION,
    analyze_tables,
    make_engine,
    normalize_url,
    retry_on_disconnect,
    session_factory,
)
from assistant.store.feedback import FeedbackEvent, record_feedback
from assistant.store.migrate import check, current, downgrade, head, require_head, upgrade
from assistant.store.models import (
    ActivityRecord,
    ActivityRevisionRecord,
    Base,
    CartItemRecord,
    CartRecord,
    ClaimRecord,
    DecisionRecord,
    FeedbackRecord,
    ImpressionRecord,
    MessageRecord,
    OccurrenceRecord,
    PriceHistoryRecord,
    ProductRecord,
    SessionRecord,
    UserRecord,
)
from assistant.store.products import (
    ProductData,
    UpsertOutcome,
    load_products,
    price_history,
    product_to_domain,
    remove_products,
    upsert_product,
    upsert_products,
)
from assistant.store.users import UserData, ensure_user, get_or_create_user, upsert_users

__all__ = [
    "DEFAULT_HORIZON",
    "MAX_CART_LINES",
    "MAX_LINE_QUANTITY",
    "SQLITE_BEGIN_OPTION",
    "ActivityRecord",
    "ActivityRevisionRecord",
    "ActivityUpsert",
    "Base",
    "CartItemRecord",
    "CartRecord",
    "ClaimRecord",
    "DecisionRecord",
    "FeedbackEvent",
    "FeedbackRecord",
    "ImpressionRecord",
    "MessageRecord",
    "OccurrenceRecord",
    "PriceHistoryRecord",
    "ProductData",
    "ProductRecord",
    "SessionRecord",
    "UpsertOutcome",
    "UserData",
    "UserRecord",
    "activity_content",
    "activity_from_domain",
    "activity_to_domain",
    "add_to_session_cart",
    "analyze_tables",
    "budget_left",
    "check",
    "content_hash",
    "current",
    "downgrade",
    "ensure_user",
    "get_activity",
    "get_or_create_user",
    "head",
    "load_activities",
    "load_products",
    "make_engine",
    "materialize_occurrences",
    "normalize_url",
    "price_history",
    "product_to_domain",
    "record_feedback",
    "remove_activities",
    "remove_products",
    "require_head",
    "retry_on_disconnect",
    "session_cart",
    "session_cart_id",
    "session_factory",
    "turn_deal_state",
    "upgrade",
    "upsert_activity",
    "upsert_product",
    "upsert_products",
    "upsert_users",
    "user_deal_state",
]
