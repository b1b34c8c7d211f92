"""The one error tree of shopassist.

Every error we raise on purpose derives from :class:`ShopAssistError`; the HTTP layer maps each
class to a status code in exactly one handler, and the CLI prints ``str(error)`` on one line and
exits 2 for :class:`InputError` subclasses (bad input the user can fix) and 1 otherwise.

    ShopAssistError
    ├── InputError                 bad input; the message says what and how to fix it
    │   ├── ValidationError        a value is malformed (amount, currency, date, id)
    │   ├── CatalogImportError     a catalog file has bad rows (all listed, nothing written)
    │   ├── DataError              a source data file is missing, unreadable or lacks columns
    │   ├── UnknownEntityError     an id that does not exist (product, activity, user, session)
    │   └── CartError              a cart that cannot be priced (unknown product, bad quantity)
    ├── ClaimRefused               a coupon claim the engine refuses (carries the reason code)
    ├── PromotionRefused           the rollout gate refuses a candidate policy (not good enough)
    ├── StoreError                 the SQL store is unreachable or not migrated
    ├── RetrievalError             the vector index is missing or broken
    └── LLMError                   the LLM failed
        └── LLMTimeout             the LLM did not answer in time
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "CartError",
    "CatalogImportError",
    "ClaimRefused",
    "DataError",
    "ForbiddenError",
    "InputError",
    "LLMError",
    "LLMTimeout",
    "PromotionRefused",
    "RetrievalError",
    "RowError",
    "ShopAssistError",
    "StoreError",
    "UnknownEntityError",
    "ValidationError",
]


class ShopAssistError(Exception):
    """Base class of every error shopassist raises on purpose."""

    code = "internal"


class InputError(ShopAssistError):
    """The caller's input is wrong; fixing it fixes the call."""

    code = "bad_request"


class ValidationError(InputError, ValueError):
    """A single value is malformed (an amount, a currency, a date, an id).

    Also a ``ValueError``, so pydantic validators that call domain code report it per field.
    """

    code = "invalid"


@dataclass(frozen=True, slots=True)
class RowError:
    """One bad row of a catalog file: 1-based line number (CSV header is line 1) and why."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class CatalogImportError(InputError):
    """A catalog file has bad rows; every one is listed and nothing was written."""

    code = "catalog_invalid"

    def __init__(self, source: str, errors: Sequence[RowError]) -> None:
        self.source = source
        self.errors = tuple(errors)
        shown = "; ".join(str(e) for e in self.errors[:20])
        more = f"; and {len(self.errors) - 20} more" if len(self.errors) > 20 else ""
        super().__init__(
            f"{source}: {len(self.errors)} bad row(s), nothing imported: {shown}{more}"
        )


class DataError(InputError):
    """A source data file is missing, unreadable or lacks the columns an import needs.

    E.g. a truncated Complete Journey parquet file. The message names the file and what is wrong;
    nothing was written.
    """

    code = "data_invalid"


class UnknownEntityError(InputError):
    """An id that does not exist."""

    code = "not_found"


class ForbiddenError(InputError):
    """An id that exists but belongs to someone else (another user's session)."""

    code = "forbidden"


class CartError(InputError):
    """A cart that cannot be priced."""

    code = "bad_cart"


class ClaimRefused(ShopAssistError):
    """The engine refuses a claim; ``reason`` is one of the deal model's reason codes."""

    code = "claim_refused"

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class PromotionRefused(ShopAssistError):
    """The rollout gate refused to serve a candidate: its interval does not beat the serving one.

    ``report`` holds the evaluation (estimates, the gate's interval) for the caller to show.
    """

    code = "promotion_refused"

    def __init__(self, message: str, report: dict[str, object]) -> None:
        self.report = report
        super().__init__(message)


class StoreError(ShopAssistError):
    """The SQL store is unreachable, or its schema is not at the current migration."""

    code = "store_unavailable"


class RetrievalError(ShopAssistError):
    """The vector index is missing or broken; ``shopassist index --rebuild`` repairs it."""

    code = "index_unavailable"


class LLMError(ShopAssistError):
    """The LLM failed; the turn falls back to rules."""

    code = "llm_error"


class LLMTimeout(LLMError):
    """The LLM did not answer in time."""

    code = "llm_timeout"
