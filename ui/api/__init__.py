"""The JSON API of ``shopassist serve`` (assembled by :func:`ui.server.create_app`).

Routes live in :mod:`ui.api.chat` (``/v1/chat``, ``/v1/chat/stream``), :mod:`ui.api.completions`
(``/v1/chat/completions``), :mod:`ui.api.records` (claims, feedback, sessions) and
:mod:`ui.api.ops` (health, readiness, metrics, the widget). :func:`mint_token` issues a token the
way a shop's backend does (tests, the sample host page).
"""

from __future__ import annotations

from ui.api._auth import Authenticator, Identity, mint_token

__all__ = ["Authenticator", "Identity", "mint_token"]
