"""The one ASGI app of ``shopassist serve``: the JSON API, its OpenAPI docs, the widget and the
Gradio app at ``/ui`` (``/`` redirects there).

:func:`create_app` wires the routes in :mod:`ui.api` to a :class:`~assistant.app.Shop`. Nothing
connects or loads at import or in ``create_app``: the app's lifespan builds the shop (unless one
is passed in) and starts loading the assistant in a background thread, so ``/healthz`` answers at
once and ``/readyz`` turns 200 when the catalog, index and embedder are in.

Identity follows DESIGN.md: ``Authorization: Bearer <JWT>`` (HS256, ``SHOPASSIST_JWT_SECRET``,
``sub`` = user id, ``exp``); in dev mode a missing token is accepted and the body's ``user_id``
trusted. Bodies over 64 KiB are 413, every error is ``{"error": {"code", "message"}}``. The JSON
API's routes (not health, metrics or the widget) are rate-limited per user and per address
(:mod:`ui.api._limits`, the ``rate_limit_*`` settings): 429 ``rate_limited`` with ``Retry-After``.

Example:
    >>> app = create_app()  # doctest: +SKIP
    >>> import uvicorn  # doctest: +SKIP
    >>> uvicorn.run(app, host="127.0.0.1", port=7860)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from assistant.config import Environment, Settings, get_settings
from assistant.errors import ValidationError
from ui.api import admin, chat, completions, ops, records
from ui.api._auth import Authenticator
from ui.api._deps import RateLimited
from ui.api._errors import install_error_handlers
from ui.api._limits import RateLimiter, RateLimits
from ui.api._metrics import Metrics
from ui.api._middleware import BodyLimit, RequestLog
from ui.api._runtime import AssistantFactory, Runtime
from ui.api._schemas import ErrorResponse
from ui.gradio_app import mount_ui

if TYPE_CHECKING:
    from assistant.app import Shop
    from assistant.conversation import Assistant

__all__ = ["BODY_LIMIT", "DEV_ORIGINS", "RateLimits", "create_app"]

logger = logging.getLogger(__name__)

BODY_LIMIT = 64 * 1024
DEV_ORIGINS = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?"
"""Origins allowed in dev when none are configured: pages served from this machine."""


def _default_factory(start_llm: bool) -> AssistantFactory:
    def build(shop: Shop) -> Assistant:
        from assistant.conversation import Assistant

        return Assistant.from_shop(shop, start_llm=start_llm)

    return build


def _utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings | None = None,
    *,
    shop: Shop | None = None,
    assistant_factory: AssistantFactory | None = None,
    dev: bool | None = None,
    cors_origins: Sequence[str] = (),
    start_llm: bool = True,
    clock: Callable[[], datetime] = _utc_now,
    ready_timeout_s: float = 110.0,
    max_concurrent_turns: int = 8,
    rate_limits: RateLimits | None = None,
) -> FastAPI:
    """Build the app (nothing is loaded until it starts).

    Args:
        settings: The settings (default: the process's ``SHOPASSIST_*`` environment); ignored
            when ``shop`` is given.
        shop: A shop to serve (default: built from ``settings`` at startup, disposed at stop).
        assistant_factory: Builds the assistant in the background (default:
            ``Assistant.from_shop`` with the LLM the settings ask for).
        dev: Dev-mode identity (a missing token is accepted). Default: ``SHOPASSIST_ENV=dev``.
        cors_origins: Origins that may call the API from a browser (the widget's host pages);
            in dev with none given, pages on localhost / 127.0.0.1 may.
        start_llm: Start the shared embedded LLM server when none runs.
        clock: The current time (tests pin it to their demo world's).
        ready_timeout_s: How long a request waits for the assistant before a 503.
        max_concurrent_turns: Turns computed at once (worker threads).
        rate_limits: The per-user and per-address limits (default: the settings'
            ``rate_limit_*``; tests raise them).

    Raises:
        ValidationError: ``dev`` asked for outside the ``dev`` environment, or limits the
            limiter cannot use.
    """
    settings = shop.settings if shop is not None else settings or get_settings()
    env_dev = settings.env is Environment.DEV
    dev_mode = env_dev if dev is None else dev
    if dev_mode and not env_dev:
        raise ValidationError(
            f"dev mode (unsigned requests) is refused with SHOPASSIST_ENV={settings.env.value}"
        )
    factory = assistant_factory or _default_factory(start_llm)
    auth = Authenticator(settings.jwt_secret.get_secret_value(), dev=dev_mode)
    metrics = Metrics()
    limiter = RateLimiter(rate_limits or RateLimits.from_settings(settings))
    origins = list(cors_origins)
    for origin in origins:
        if origin != "*" and not re.fullmatch(r"https?://[^/\s]+", origin):
            raise ValidationError(f"CORS origin {origin!r} must look like https://shop.example")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from assistant.app import Shop

        own = shop is None
        served = shop if shop is not None else Shop.from_settings(settings)
        runtime = Runtime(
            served,
            factory,
            auth=auth,
            clock=clock,
            ready_timeout_s=ready_timeout_s,
            max_turns=max_concurrent_turns,
            metrics=metrics,
        )
        app.state.runtime = runtime
        await limiter.start()
        runtime.start_loading()
        logger.info(
            "serving %s (env %s, dev identity %s, LLM %s, rate limits %s)",
            served.describe_database(),
            settings.env.value,
            "on" if dev_mode else "off",
            settings.llm_backend.value,
            limiter.describe(),
        )
        try:
            yield
        finally:
            await limiter.close()
            if own:
                served.engine.dispose()

    app = FastAPI(
        title="shopassist",
        version="1",
        summary="Conversational shopping assistant for promotional deals",
        description="JSON API of shopassist. Every error is "
        '`{"error": {"code": str, "message": str}}`. Identity: `Authorization: Bearer <JWT>` '
        "from the shop's backend (HS256, `sub` = user id, `exp`); in dev a missing token is "
        "accepted and the body's `user_id` trusted.",
        lifespan=lifespan,
    )
    app.state.metrics = metrics
    app.state.rate_limiter = limiter
    install_error_handlers(app)
    limited: dict[int | str, dict[str, Any]] = {
        429: {"model": ErrorResponse, "description": "`rate_limited`; retry after `Retry-After` s"}
    }
    for module in (chat, completions, records, admin):
        app.include_router(module.router, dependencies=[RateLimited], responses=limited)
    app.include_router(ops.router)
    mount_ui(app, lambda: app.state.runtime, dev=dev_mode)
    app.add_middleware(BodyLimit, limit=BODY_LIMIT, metrics=metrics)
    app.add_middleware(RequestLog, metrics=metrics)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_origin_regex=DEV_ORIGINS if dev_mode and not origins else None,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        expose_headers=["X-Request-ID", "Idempotent-Replayed"],
        max_age=600,
    )
    return app
