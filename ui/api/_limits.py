"""Rate limits on the JSON API: per user and per client address, with the ``limits`` package.

Every request to a limited route counts once against its client address and once against its
user (the verified token's ``sub``; in dev without a token, the ``user_id`` the body or query
names). Over either limit it is 429 ``rate_limited`` with ``Retry-After`` (whole seconds). A
verified token with the claim ``shopassist_rate: "load"`` (:data:`~ui.api._auth.LOAD_TIER`)
counts against the raised ``rate_limit_load`` instead, for both keys: load tests run many
shoppers from one address.

Counters live in the storage the settings name: ``memory://`` (one process) or
``redis://HOST:PORT`` (every worker of a deployment shares one count). The client address is the
peer's, or, when the peer is one of ``trusted_proxies``, the nearest untrusted hop of
``X-Forwarded-For``; a header from anyone else is ignored, since a client can write anything
there. If Redis does not answer, requests pass (a warning at most once a minute): the limiter
protects the service, it must not take it down.

Example:
    >>> limiter = RateLimiter(RateLimits(user="3/minute", ip="100/minute"))
    >>> limiter.describe()
    'user 3 per 1 minute, ip 100 per 1 minute, load 100000 per 1 minute (fixed-window, memory://)'
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import TYPE_CHECKING, Any

from fastapi import Request

from assistant.config import RATE_STRATEGIES, Settings, rate_limit_items
from assistant.errors import ValidationError
from ui.api._auth import Identity
from ui.api._errors import ApiError

if TYPE_CHECKING:
    from limits import RateLimitItem
    from limits.aio.storage import Storage
    from limits.aio.strategies import RateLimiter as Strategy

__all__ = ["RateLimiter", "RateLimits"]

logger = logging.getLogger(__name__)

_KEY_CHARS = 128
_WARN_EVERY_S = 60.0
_STORAGES = ("memory", "redis", "rediss", "redis+unix")


@dataclass(frozen=True, slots=True)
class RateLimits:
    """What the API limits, and where it counts (the ``rate_limit_*`` settings).

    Args:
        user: Requests per user, e.g. ``"30/minute"`` (``limits`` notation; ``;`` joins several).
        ip: Requests per client address.
        load: The limit of a verified load-test token, per user and per address.
        storage: ``"memory://"`` or ``"redis://HOST:PORT[/DB]"``.
        strategy: ``"fixed-window"``, ``"moving-window"`` or ``"sliding-window-counter"``.
        trusted_proxies: Addresses or networks whose ``X-Forwarded-For`` is honoured.
        namespace: Prefix of every counter key (apps sharing a Redis share counts only under
            the same namespace; tests give each app group its own).

    Raises:
        ValidationError: A limit, storage, strategy or proxy the limiter cannot use.
    """

    user: str = "30/minute"
    ip: str = "120/minute"
    load: str = "100000/minute"
    storage: str = "memory://"
    strategy: str = "fixed-window"
    trusted_proxies: tuple[str, ...] = ()
    namespace: str = "shopassist"

    def __post_init__(self) -> None:
        # The settings check the same; limits built in code (tests, tools) are checked here.
        try:
            for name in ("user", "ip", "load"):
                rate_limit_items(getattr(self, name), f"rate_limit_{name}")
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        if self.strategy not in RATE_STRATEGIES:
            raise ValidationError(
                f"rate-limit strategy {self.strategy!r} is unknown; use one of "
                + ", ".join(RATE_STRATEGIES)
            )
        if self.storage.partition("://")[0] not in _STORAGES or "://" not in self.storage:
            raise ValidationError(
                f"rate-limit storage {self.storage!r} is not supported; use 'memory://' or "
                "'redis://HOST:PORT[/DB]'"
            )
        for proxy in self.trusted_proxies:
            try:
                ip_network(proxy, strict=False)
            except ValueError:
                raise ValidationError(
                    f"trusted proxy {proxy!r} is not an IP address or network"
                ) from None

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        """The limits the settings name."""
        return cls(
            user=settings.rate_limit_user,
            ip=settings.rate_limit_ip,
            load=settings.rate_limit_load,
            storage=settings.rate_limit_storage,
            strategy=settings.rate_limit_strategy,
            trusted_proxies=tuple(settings.trusted_proxies),
        )


class RateLimiter:
    """Counts requests per user and per address and refuses those over a limit.

    The storage connects lazily inside the serving event loop (:meth:`start` in the app's
    lifespan), so each served app, and each test client, has its own connections.

    Args:
        limits: What to limit and where to count.
    """

    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self._user = rate_limit_items(limits.user, "user limit")
        self._ip = rate_limit_items(limits.ip, "ip limit")
        self._load = rate_limit_items(limits.load, "load limit")
        self._proxies: list[IPv4Network | IPv6Network] = [
            ip_network(p, strict=False) for p in limits.trusted_proxies
        ]
        self._storage: Storage | None = None
        self._strategy: Strategy | None = None
        self._warned_at = -math.inf

    def describe(self) -> str:
        """The limits in one line (for the startup log)."""
        parts = [
            f"{name} " + ", ".join(str(i).lower() for i in items)
            for name, items in (("user", self._user), ("ip", self._ip), ("load", self._load))
        ]
        storage = self.limits.storage.partition("://")[0] + "://"
        return ", ".join(parts) + f" ({self.limits.strategy}, {storage})"

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Build the storage and strategy (in the event loop that will use them)."""
        from limits.aio import strategies
        from limits.storage import storage_from_string

        kinds: dict[str, Callable[..., Strategy]] = {
            "fixed-window": strategies.FixedWindowRateLimiter,
            "moving-window": strategies.MovingWindowRateLimiter,
            "sliding-window-counter": strategies.SlidingWindowCounterRateLimiter,
        }

        uri = self.limits.storage
        options: dict[str, Any] = {}
        if not uri.startswith("memory:"):
            # redis-py's asyncio client (limits' default would be coredis, one more package).
            options = {"implementation": "redispy", "wrap_exceptions": True}
        storage = storage_from_string(f"async+{uri}", **options)
        self._storage = storage  # type: ignore[assignment]
        self._strategy = kinds[self.limits.strategy](storage)

    async def close(self) -> None:
        """Close the storage's connections (a Redis client's pool)."""
        client = getattr(getattr(self._storage, "bridge", None), "storage", None)
        close = getattr(client, "aclose", None)
        if close is not None:
            await close()
        self._storage = self._strategy = None

    # --- the check ----------------------------------------------------------------------------

    def client_address(self, request: Request) -> str:
        """The caller's address: the peer, or behind trusted proxies the nearest untrusted hop
        of ``X-Forwarded-For``."""
        peer = request.client.host if request.client else "unknown"
        if not self._proxies or not self._trusted(peer):
            return peer
        hops = [
            hop.strip()
            for value in request.headers.getlist("x-forwarded-for")
            for hop in value.split(",")
            if hop.strip()
        ]
        for hop in reversed(hops):
            if not self._trusted(hop):
                return hop[:_KEY_CHARS]
        return hops[0][:_KEY_CHARS] if hops else peer

    def _trusted(self, address: str) -> bool:
        try:
            parsed = ip_address(address)
        except ValueError:
            return False
        return any(parsed in network for network in self._proxies)

    async def check(self, request: Request, identity: Identity) -> None:
        """Count this request against its address and its user.

        Raises:
            ApiError: 429 ``rate_limited`` with ``Retry-After`` when either is over its limit.
        """
        if self._strategy is None:
            await self.start()
        assert self._strategy is not None
        user = identity.subject or await _claimed_user(request)
        ip_items, user_items = (self._load, self._load) if identity.load else (self._ip, self._user)
        keys: list[tuple[str, str, list[RateLimitItem]]] = [
            ("ip", self.client_address(request), ip_items)
        ]
        if user:
            keys.append(("user", user[:_KEY_CHARS], user_items))
        from limits.errors import StorageError

        try:
            for scope, key, items in keys:
                for item in items:
                    if not await self._strategy.hit(item, self.limits.namespace, scope, key):
                        raise await self._refusal(item, scope, key)
        except StorageError as exc:
            now = time.monotonic()
            if now - self._warned_at >= _WARN_EVERY_S:
                self._warned_at = now
                logger.warning("rate-limit storage failed, requests pass unlimited: %s", exc)

    async def _refusal(self, item: RateLimitItem, scope: str, key: str) -> ApiError:
        assert self._strategy is not None
        stats = await self._strategy.get_window_stats(item, self.limits.namespace, scope, key)
        retry = max(1, math.ceil(stats.reset_time - time.time()))
        who = "this user" if scope == "user" else "this address"
        return ApiError(
            429,
            "rate_limited",
            f"too many requests from {who}: the limit is {str(item).lower()}; retry in {retry} s",
            {"Retry-After": str(retry)},
        )


async def _claimed_user(request: Request) -> str | None:
    """The user a request without a token names (dev): ``user_id`` (chat, claims) or ``user``
    (completions) in a JSON body, or ``?user_id=`` on a GET. Unverified, so the per-address
    limit is what really bounds a dev caller."""
    if request.method != "POST":
        return request.query_params.get("user_id") or None
    try:
        # FastAPI has parsed the body already; Starlette caches the result.
        body = await request.json()
    except ValueError:
        return None
    if isinstance(body, dict):
        for field in ("user_id", "user"):
            value = body.get(field)
            if isinstance(value, str) and value:
                return value
    return None
