"""What the server holds for its lifetime: the shop, the assistant loaded in the background,
readiness, identity, metrics and the clock.

The assistant (catalog snapshot, search index, embedder, LLM client) takes seconds to load, so
it loads once per process in a background thread started by the app's lifespan; ``/readyz`` is
503 until it is there, and requests that need it wait for it (up to ``ready_timeout_s``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from anyio import CapacityLimiter
from sqlalchemy import text

from assistant.errors import ShopAssistError
from ui.api._auth import Authenticator
from ui.api._errors import ApiError, status_of
from ui.api._metrics import Metrics

if TYPE_CHECKING:
    from assistant.app import Shop
    from assistant.conversation import Assistant

__all__ = ["AssistantFactory", "Runtime"]

logger = logging.getLogger(__name__)

AssistantFactory = Callable[["Shop"], "Assistant"]


class Runtime:
    """The state one app shares between requests.

    Args:
        shop: The shop (settings and SQL engine).
        factory: Builds the assistant (run once, in a background thread).
        auth: Verifies tokens under the dev rule.
        clock: The current time (tests pin it).
        ready_timeout_s: How long a request waits for the assistant before a 503.
        max_turns: Turns computed at once (each holds a worker thread).
        metrics: The app's metrics (default: a fresh set).
    """

    def __init__(
        self,
        shop: Shop,
        factory: AssistantFactory,
        *,
        auth: Authenticator,
        clock: Callable[[], datetime],
        ready_timeout_s: float,
        max_turns: int,
        metrics: Metrics | None = None,
    ) -> None:
        self.shop = shop
        self.factory = factory
        self.auth = auth
        self.clock = clock
        self.ready_timeout_s = ready_timeout_s
        self.metrics = metrics or Metrics()
        self.turn_limiter = CapacityLimiter(max_turns)
        self._assistant: Assistant | None = None
        self._failure: ShopAssistError | Exception | None = None
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    # --- loading ------------------------------------------------------------------------------

    def start_loading(self) -> None:
        """Load the assistant in a daemon thread (a stop during loading does not wait for it)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._load, name="shopassist-load", daemon=True)
            self._thread.start()

    def _load(self) -> None:
        start = time.perf_counter()
        try:
            self._assistant = self.factory(self.shop)
        except Exception as exc:  # reported by /readyz and every request that needs it
            self._failure = exc
            logger.error("the assistant could not be loaded: %s", exc)
        else:
            self.metrics.ready.set(1)
            logger.info("ready in %.1f s", time.perf_counter() - start)
        finally:
            self._done.set()

    @property
    def ready(self) -> bool:
        """Whether the assistant is loaded."""
        return self._assistant is not None

    @property
    def loading(self) -> bool:
        """Whether the assistant is still loading."""
        return not self._done.is_set()

    def not_ready(self) -> ApiError:
        """The 503 for a request that needs the assistant before it is there."""
        if self._failure is not None:
            if isinstance(self._failure, ShopAssistError):
                _, code = status_of(self._failure)
            else:
                code = "unavailable"
            return ApiError(503, code, f"the assistant could not be loaded: {self._failure}")
        return ApiError(
            503,
            "not_ready",
            "the assistant is still loading its catalog and index; retry shortly",
            {"Retry-After": "5"},
        )

    async def assistant(self) -> Assistant:
        """The loaded assistant, waiting for it up to ``ready_timeout_s``.

        Raises:
            ApiError: 503 when it is not there in time or could not be loaded.
        """
        if self._assistant is None and not self._done.is_set():
            deadline = time.monotonic() + self.ready_timeout_s
            while not self._done.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
        if self._assistant is None:
            raise self.not_ready()
        return self._assistant

    # --- health -------------------------------------------------------------------------------

    def sql_status(self) -> str:
        """``ok`` when the store answers a query, else ``error``."""
        try:
            with self.shop.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:  # a health probe reports, it does not raise
            logger.warning("SQL health check failed: %s", exc)
            return "error"
        return "ok"

    def index_status(self) -> tuple[str, str | None]:
        """``ok`` once loaded, ``loading`` before, ``error`` when loading failed or the loaded
        index can no longer be reloaded (turns are still answered from it); with the reason
        for an ``error``. Checks the index on disk, so call it in a worker thread."""
        if self._assistant is None:
            if not self._done.is_set():
                return "loading", None
            return "error", f"the assistant could not be loaded: {self._failure}"
        from assistant.serving import index_error  # chromadb and numpy: loaded with the app

        error = index_error(self._assistant.index)
        return ("ok", None) if error is None else ("error", error)

    def llm_status(self) -> str:
        """``ok`` or ``degraded`` (rules instead of the configured LLM, or not loaded yet)."""
        assistant = self._assistant
        configured_rules = str(self.shop.settings.llm_backend.value) == "rules"
        if assistant is None:
            status = "ok" if configured_rules else "degraded"
        elif assistant.llm_status == "ok" or (assistant.llm_status == "off" and configured_rules):
            status = "ok"
        else:
            status = "degraded"
        self.metrics.llm_degraded.set(1 if status == "degraded" else 0)
        return status
