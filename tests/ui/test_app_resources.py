"""Building the app leaks nothing (regression: Gradio, built outside a running event loop,
created and set a new loop for its locks and never closed it, so every ``create_app`` left
"ResourceWarning: unclosed <socket.socket ...>" and "unclosed event loop" behind)."""

from __future__ import annotations

import asyncio
import gc
import warnings

from assistant.app import Shop
from assistant.conversation import Assistant

from .conftest import Clock, build_app


def test_building_apps_leaves_no_unclosed_event_loop(
    shop: Shop, assistant: Assistant, clock: Clock
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        for dev in (True, False):
            build_app(shop, assistant, clock, dev=dev)
        gc.collect()
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == []


def test_an_app_built_inside_a_running_loop_uses_it(
    shop: Shop, assistant: Assistant, clock: Clock
) -> None:
    async def build() -> None:
        build_app(shop, assistant, clock, dev=True)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        asyncio.run(build())
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
