"""FastAPI dependencies: the app's runtime, the caller's identity and the rate limits."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ui.api._auth import Identity
from ui.api._limits import RateLimiter
from ui.api._runtime import Runtime

__all__ = ["IdentityDep", "RateLimited", "RuntimeDep"]

# Declared for the OpenAPI docs ("Authorize" in /docs); the header itself is read strictly below.
_bearer = HTTPBearer(
    auto_error=False,
    description="JWT from the shop's backend: HS256, sub = user id, exp (optional in dev)",
)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(_runtime)]


def _identity(
    request: Request,
    runtime: RuntimeDep,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Identity:
    return runtime.auth.identify(request.headers.get("authorization"))


IdentityDep = Annotated[Identity, Depends(_identity)]


async def _rate_limited(request: Request, identity: IdentityDep) -> None:
    limiter: RateLimiter = request.app.state.rate_limiter
    await limiter.check(request, identity)


RateLimited = Depends(_rate_limited)
"""Counts the request against its user's and its address's limits (429 over either); the
routers of the JSON API take it as a router-wide dependency (:func:`ui.server.create_app`)."""
