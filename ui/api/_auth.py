"""Who is calling: the shop backend's JWT (HS256, ``sub`` = user id, ``exp``) and the dev rule.

DESIGN.md: in ``dev`` a missing token is accepted and the body's ``user_id`` trusted; otherwise a
missing or bad token is 401 and a body ``user_id`` other than ``sub`` is 403. A token is checked
in every mode: a bad one is 401 in ``dev`` too. A token whose ``role`` claim is ``"agent"`` (or
whose ``roles`` list holds it) is a customer-service agent, who may read any session. A verified
token whose ``shopassist_rate`` claim is ``"load"`` gets the raised rate limit of load tests
(:data:`RATE_CLAIM`, docs/api.md); nothing unsigned can ask for it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt

from ui.api._errors import ApiError

__all__ = ["LOAD_TIER", "RATE_CLAIM", "Authenticator", "Identity", "mint_token"]

ALGORITHM = "HS256"
RATE_CLAIM = "shopassist_rate"
"""The token claim that names a rate tier."""
LOAD_TIER = "load"
"""The tier of load-test tokens: ``rate_limit_load`` instead of the per-user and per-IP limits."""
_BEARER = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True, slots=True)
class Identity:
    """The caller: ``subject`` from a verified token, or ``None`` (dev, no token).

    ``load`` is set only from a verified token's :data:`RATE_CLAIM`.
    """

    subject: str | None
    agent: bool = False
    load: bool = False

    def user_for(self, claimed: str | None, *, what: str = "user_id") -> str:
        """The user a request acts for.

        Raises:
            ApiError: 403 when ``claimed`` is not the token's subject; 422 when there is no
                token and no ``claimed`` user (dev mode).
        """
        if self.subject is not None:
            if claimed is not None and claimed != self.subject:
                raise ApiError(
                    403, "forbidden", f"{what} does not match the token's subject; leave it out"
                )
            return self.subject
        if claimed is None:
            raise ApiError(422, "invalid_request", f"{what} is required without a token")
        return claimed

    def may_read(self, owner: str) -> bool:
        """Whether the caller may read data that belongs to ``owner``."""
        return self.agent or self.subject == owner


class Authenticator:
    """Verifies bearer tokens with the shop's secret.

    Args:
        secret: The HS256 secret (``SHOPASSIST_JWT_SECRET``).
        dev: Whether a missing token is accepted (the body's user id is then trusted).
        leeway_s: Clock skew tolerated on ``exp``.
    """

    def __init__(self, secret: str, *, dev: bool, leeway_s: float = 30.0) -> None:
        self._secret = secret
        self.dev = dev
        self.leeway_s = leeway_s

    def identify(self, authorization: str | None) -> Identity:
        """The identity behind an ``Authorization`` header value.

        Raises:
            ApiError: 401 for a malformed, badly signed or expired token, or (outside dev) a
                missing one.
        """
        if not authorization:
            if self.dev:
                return Identity(None)
            raise ApiError(
                401, "missing_token", "send Authorization: Bearer <token> from the shop", _BEARER
            )
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "invalid_token", "use Authorization: Bearer <token>", _BEARER)
        if self.dev and token.count(".") != 2:
            # OpenAI clients always send their api_key ("EMPTY", "dev"): in dev a bearer value
            # that is no JWT at all counts as no token. A JWT that fails to verify is still 401.
            return Identity(None)
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "sub"]},
                leeway=self.leeway_s,
            )
        except jwt.ExpiredSignatureError:
            raise ApiError(
                401, "token_expired", "the token has expired; get a new one", _BEARER
            ) from None
        except jwt.InvalidTokenError as exc:
            raise ApiError(401, "invalid_token", f"the token is invalid: {exc}", _BEARER) from None
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject:
            raise ApiError(401, "invalid_token", "the token's sub must be the user id", _BEARER)
        roles = claims.get("roles")
        agent = claims.get("role") == "agent" or (isinstance(roles, list) and "agent" in roles)
        return Identity(subject, agent=agent, load=claims.get(RATE_CLAIM) == LOAD_TIER)


def mint_token(secret: str, user_id: str, *, ttl_s: int = 3600, **claims: Any) -> str:
    """A token as the shop's backend issues it (for tests, the sample host and tools).

    Example:
        >>> token = mint_token("s" * 32, "u1", role="agent")
        >>> Authenticator("s" * 32, dev=False).identify(f"Bearer {token}").agent
        True
        >>> load = mint_token("s" * 32, "loadtest-1", shopassist_rate="load")
        >>> Authenticator("s" * 32, dev=False).identify(f"Bearer {load}").load
        True
    """
    payload = {"sub": user_id, "exp": int(time.time()) + ttl_s, **claims}
    return jwt.encode(payload, secret, algorithm=ALGORITHM)
