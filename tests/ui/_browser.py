"""Shared pieces of the browser tests: Debian's headless Chromium driven by playwright.

Chromium is Debian's ``/usr/bin/chromium`` (the Makefile installs it); playwright never downloads
a browser here. Without it the browser tests skip, except in CI (``CI`` set), where they fail.
The fixtures ``browser`` and ``page`` live in ``tests/ui/conftest.py``; ``BROWSER_MARKS`` is the
``pytestmark`` of every browser test module.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

__all__ = [
    "BROWSER_MARKS",
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "SCREENSHOTS",
    "TIMEOUT_MS",
    "launch_browser",
    "open_page",
]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TIMEOUT_MS = 30_000

BROWSER_MARKS = [
    pytest.mark.integration,
    # Gradio's queue estimates wait times with pandas options that pandas 3 deprecates; the
    # server's own code is not involved (gradio 6.31, pandas 3).
    pytest.mark.filterwarnings(
        "ignore:'future.no_silent_downcasting' is deprecated:DeprecationWarning"
    ),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated:DeprecationWarning"),
]


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: the browser tests must run)", pytrace=False)
    pytest.skip(reason)


def launch_browser() -> Iterator[Browser]:
    """Debian's Chromium, headless (skips without it, fails in CI)."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing: `apt-get install chromium` (make install does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is missing: pip install -e '.[dev]'")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


def open_page(browser: Browser, *allowed: str) -> Iterator[Page]:
    """A page that may only load URLs under ``allowed`` (everything else, e.g. product images
    on the internet, is refused)."""
    context = browser.new_context(viewport={"width": 1360, "height": 1000}, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    context.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(allowed) else route.abort(),
    )
    opened = context.new_page()
    yield opened
    context.close()
