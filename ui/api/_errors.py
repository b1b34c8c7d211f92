"""The JSON error shape and the one place that maps errors to HTTP statuses.

Every error response is ``{"error": {"code": str, "message": str}}`` (DESIGN.md "Contracts").
Bad input is always a 4xx: malformed JSON and failed validation are 422, an oversize body 413,
and nothing the caller sends can produce a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError, ProgrammingError
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.errors import (
    ClaimRefused,
    ForbiddenError,
    InputError,
    LLMError,
    RetrievalError,
    ShopAssistError,
    StoreError,
    UnknownEntityError,
    ValidationError,
)

__all__ = ["ApiError", "error_body", "install_error_handlers", "status_of"]

logger = logging.getLogger(__name__)

_PG_NUL = "cannot contain NUL (0x00)"
"""How psycopg refuses a NUL in a text parameter."""

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    503: "unavailable",
}


class ApiError(Exception):
    """An HTTP error raised by the API layer itself (auth, ownership, readiness).

    Args:
        status: The HTTP status.
        code: A stable machine-readable code (``missing_token``, ``forbidden``...).
        message: What was wrong and what to do, for people.
    """

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def error_body(code: str, message: str) -> dict[str, Any]:
    """The contract's error object."""
    return {"error": {"code": code, "message": message}}


def status_of(exc: ShopAssistError) -> tuple[int, str]:
    """The HTTP status and error code of a domain error (the single mapping)."""
    if isinstance(exc, ClaimRefused):
        return 409, exc.reason
    if isinstance(exc, UnknownEntityError):
        return 404, exc.code
    if isinstance(exc, ForbiddenError):
        return 403, exc.code
    if isinstance(exc, ValidationError) and str(exc).startswith("message too long"):
        return 422, "message_too_long"
    if isinstance(exc, InputError):
        return 422, exc.code
    if isinstance(exc, StoreError | RetrievalError | LLMError):
        return 503, exc.code
    return 500, exc.code


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _validation_summary(errors: Sequence[Any]) -> tuple[str, str]:
    """The code and a short message for pydantic errors, without echoing the input."""
    code = "invalid_request"
    parts = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        kind = err.get("type", "")
        if kind == "json_invalid":
            return "malformed_json", "the body is not valid JSON"
        if loc and loc[-1] in ("message", "content") and kind == "string_too_long":
            code = "message_too_long"
        where = ".".join(loc) or "body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    if code == "message_too_long":
        return code, "message too long: at most 2,000 characters"
    return code, "; ".join(parts[:5]) or "the request body is invalid"


def _json(
    request: Request,
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
) -> Any:
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.errors.labels(code).inc()
    return JSONResponse(error_body(code, _one_line(message)), status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the contract's shape."""

    async def api_error(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, ApiError)
        return _json(request, exc.status, exc.code, exc.message, exc.headers)

    async def domain_error(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, ShopAssistError)
        status, code = status_of(exc)
        if status >= 500:
            logger.warning("%s on %s: %s", type(exc).__name__, request.url.path, exc)
        return _json(request, status, code, str(exc))

    async def validation_error(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, RequestValidationError)
        code, message = _validation_summary(exc.errors())
        return _json(request, 422, code, message)

    async def http_error(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
            # FastAPI's 400 for a JSON body it cannot decode at all (not UTF-8): as malformed
            # as any other broken JSON, so the same 422 (found by the schemathesis fuzz).
            return _json(request, 422, "malformed_json", "the body is not valid UTF-8 JSON")
        code = _STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return _json(request, exc.status_code, code, message, exc.headers)

    async def unexpected(request: Request, exc: Exception) -> Any:
        logger.exception("unexpected error on %s %s", request.method, request.url.path)
        return _json(request, 500, "internal", "internal error; the server log has the details")

    async def data_error(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, DataError)
        if _PG_NUL in str(exc.orig):
            # A NUL in a path or query parameter reaches PostgreSQL, which refuses it in text
            # (the body's ids are refused by their pattern first): the caller's fault, not ours.
            return _json(request, 422, "invalid_request", "text may not hold NUL characters")
        return await unexpected(request, exc)

    async def store_error(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, OperationalError | ProgrammingError)
        reason = _one_line(str(exc.orig))
        if "no such table" in reason or ("relation" in reason and "does not exist" in reason):
            message = (
                "the database has no shopassist tables or an older schema: run "
                "`shopassist db upgrade`"
            )
        elif isinstance(exc, OperationalError):  # refused, dropped, locked, shut down
            message = "the database cannot be used right now; retry shortly"
        else:
            return await unexpected(request, exc)
        logger.warning("store unavailable on %s: %s", request.url.path, reason[:200])
        return _json(request, 503, "store_unavailable", message)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(ShopAssistError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(DataError, data_error)
    app.add_exception_handler(OperationalError, store_error)
    app.add_exception_handler(ProgrammingError, store_error)
    app.add_exception_handler(Exception, unexpected)
