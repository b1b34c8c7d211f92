"""Staff-only calls: ``DELETE /v1/admin/users/{user_id}`` forgets a user (privacy).

Staff authenticate like shoppers, with a bearer JWT signed by the shop's secret (HS256,
``SHOPASSIST_JWT_SECRET``, ``sub`` = the staff member, ``exp``), whose ``role`` claim is
``"admin"`` (or whose ``roles`` list holds it). The shop's staff backend mints it, as it mints
agents' tokens; the admin password of the Gradio staff tabs never travels to this API. Never
the dev path: without a token the call is 401 in every mode, and a shopper's or an agent's
token is 403.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Annotated, Any

import jwt
from anyio import to_thread
from fastapi import APIRouter, Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from assistant.privacy import forget_user
from ui.api._auth import ALGORITHM
from ui.api._deps import RuntimeDep
from ui.api._errors import ApiError
from ui.api._schemas import ErrorResponse

__all__ = ["ADMIN_ROLE", "ForgetResponse", "router"]

ADMIN_ROLE = "admin"
"""The ``role`` claim (or an entry of ``roles``) that makes a token a staff administrator's."""

_BEARER = {"WWW-Authenticate": "Bearer"}

logger = logging.getLogger(__name__)

router = APIRouter(tags=["admin"])

_staff_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="StaffBearer",
    description='Staff JWT: HS256 with the shop secret, sub, exp and role "admin"',
)


def _staff(
    request: Request,
    runtime: RuntimeDep,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_staff_bearer)],
) -> str:
    """The staff member (the token's ``sub``) behind an admin call.

    Raises:
        ApiError: 401 without a token (in dev too) or with a malformed, badly signed or expired
            one; 403 for a valid token without the admin role.
    """
    header = request.headers.get("authorization")
    if not header:
        raise ApiError(
            401, "missing_token", 'send Authorization: Bearer <a token with role "admin">', _BEARER
        )
    # The shared verifier first: the same 401s (bad signature, expired) as every other call.
    identity = runtime.auth.identify(header)
    if identity.subject is None:  # dev accepts a bearer value that is no JWT: admin never does
        raise ApiError(401, "invalid_token", "admin calls need a signed JWT", _BEARER)
    token = header.strip().partition(" ")[2].strip()
    claims: dict[str, Any] = jwt.decode(
        token,
        runtime.shop.settings.jwt_secret.get_secret_value(),
        algorithms=[ALGORITHM],
        options={"verify_exp": False},  # checked just above, with the shared leeway
    )
    roles = claims.get("roles")
    if claims.get("role") != ADMIN_ROLE and not (isinstance(roles, list) and ADMIN_ROLE in roles):
        raise ApiError(
            403, "forbidden", f'this call is for shop staff: a token with role "{ADMIN_ROLE}"'
        )
    return identity.subject


StaffDep = Annotated[str, Depends(_staff)]


class ForgetResponse(BaseModel):
    """Rows deleted and anonymized, per table (see :mod:`assistant.privacy`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "deleted": {"messages": 14, "cart_items": 2, "carts": 1, "users": 1},
                "anonymized": {
                    "sessions": 3,
                    "decisions": 6,
                    "impressions": 18,
                    "feedback_events": 4,
                    "claims": 1,
                    "users": 1,
                },
            }
        }
    )

    deleted: dict[str, int] = Field(description="rows deleted, by table")
    anonymized: dict[str, int] = Field(description="rows kept under a fresh pseudonym, by table")


@router.delete(
    "/v1/admin/users/{user_id}",
    response_model=ForgetResponse,
    responses={s: {"model": ErrorResponse} for s in (401, 403, 404, 422)},
)
async def forget(
    user_id: Annotated[str, Path(min_length=1, max_length=128)],
    runtime: RuntimeDep,
    staff: StaffDep,
) -> dict[str, Any]:
    """Forget a user: delete their messages, carts and personal fields, and move their events
    (sessions, decisions, impressions, feedback, claims) to a fresh random pseudonym, in one
    transaction. 404 when no user has this id (never seen, or already forgotten). Staff only.
    """
    report = await to_thread.run_sync(partial(forget_user, runtime.shop, user_id))
    # An audit line naming the staff member who asked, never the user forgotten.
    logger.info("admin API: a user was forgotten at the request of staff %r", staff)
    return report.to_json()
