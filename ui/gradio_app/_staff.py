"""Sign-in for the staff tabs (agent console, insights, admin).

Staff sign in with the shop's admin password (``SHOPASSIST_ADMIN_PASSWORD``; the demo password
works in dev only, as the settings refuse it in prod). A signed-in tab keeps a :class:`StaffState`
in its ``gr.State``; every staff handler calls :func:`require_staff` first, so a handler fired
without signing in (a crafted request to Gradio's queue) is refused, not only hidden.

Example:
    >>> state = StaffState()
    >>> state.signed_in
    False
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass

from ui.api._runtime import Runtime

__all__ = ["StaffRefused", "StaffState", "require_staff", "sign_in"]

logger = logging.getLogger(__name__)

MAX_NAME_CHARS = 64


class StaffRefused(Exception):
    """A staff action without a valid sign-in; the message is shown to the person."""


@dataclass(frozen=True, slots=True)
class StaffState:
    """Who is signed in to a staff tab (``name`` empty: nobody)."""

    name: str = ""

    @property
    def signed_in(self) -> bool:
        return bool(self.name)


def sign_in(runtime: Callable[[], Runtime], name: str, password: str) -> StaffState:
    """Check the admin password and return the signed-in state.

    Args:
        runtime: Returns the server's runtime (its shop's settings hold the password).
        name: The staff member's display name (shown to shoppers as the agent's name).
        password: The password typed.

    Raises:
        StaffRefused: No name, a name over 64 characters, or a wrong password.
    """
    name = (name or "").strip()
    if not name:
        raise StaffRefused("Type your name to sign in.")
    if len(name) > MAX_NAME_CHARS:
        raise StaffRefused(f"The name must be at most {MAX_NAME_CHARS} characters.")
    expected = runtime().shop.settings.admin_password.get_secret_value()
    if not hmac.compare_digest((password or "").encode(), expected.encode()):
        logger.warning("staff sign-in refused: wrong password")
        raise StaffRefused("Wrong password.")
    logger.info("staff signed in")
    return StaffState(name)


def require_staff(state: StaffState | None) -> StaffState:
    """The signed-in state, or :class:`StaffRefused` when nobody is signed in."""
    if state is None or not state.signed_in:
        raise StaffRefused("Sign in first.")
    return state
