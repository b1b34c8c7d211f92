"""A tiny host shop for the shopassist widget: one page with the widget's tag, and the endpoint
that mints the signed-in shopper's token.

This stands in for a shop's own backend (Python standard library only, no shopassist import):
the shop signs an HS256 JWT (``sub`` = its user id, ``exp``) with the secret it shares with the
assistant (``SHOPASSIST_JWT_SECRET``), so the secret never reaches the browser. The page loads
``widget.js`` from the assistant, on another origin; the assistant must allow this page's origin
(``shopassist serve --cors-origin http://127.0.0.1:8000``).

Run (the assistant on 7860, this shop on 8000)::

    export SHOPASSIST_JWT_SECRET=...   # the same value for both; dev: the demo secret
    shopassist serve --cors-origin http://127.0.0.1:8000 &
    python examples/widget_host/app.py --assistant http://127.0.0.1:7860 --port 8000

then open http://127.0.0.1:8000/. See README.md beside this file.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import html
import json
import logging
import os
import re
import sys
import time
from collections.abc import Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

logger = logging.getLogger("widget_host")

HERE = Path(__file__).resolve().parent
DEMO_JWT_SECRET = "shopassist-demo-secret-change-me"  # noqa: S105 - the assistant's dev default
"""The secret a dev assistant uses when ``SHOPASSIST_JWT_SECRET`` is unset (refused elsewhere)."""
TOKEN_PATH = "/shopassist-token"
_ORIGIN = re.compile(r"https?://[^/\s?#]+")


class ConfigError(ValueError):
    """The shop cannot start as configured; the message says what to set."""


def mint_token(secret: str, user_id: str, *, ttl_s: int = 900, now: float | None = None) -> str:
    """An HS256 JWT for ``user_id`` (``sub``), valid ``ttl_s`` seconds (``exp``).

    Example:
        >>> token = mint_token("s" * 32, "demo-shopper", now=0)
        >>> token.count(".")
        2
    """

    def part(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    issued = int(time.time() if now is None else now)
    header = part(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = {"sub": user_id, "iat": issued, "exp": issued + ttl_s}
    payload = part(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = header + b"." + payload
    signature = part(hmac.new(secret.encode(), signing_input, hashlib.sha256).digest())
    return (signing_input + b"." + signature).decode()


def shop_secret(environ: dict[str, str] | os._Environ[str]) -> str:
    """The signing secret from ``SHOPASSIST_JWT_SECRET``; in dev the assistant's demo default.

    Raises:
        ConfigError: no secret (or the demo one, or one under 32 characters) outside dev.
    """
    env = environ.get("SHOPASSIST_ENV", "dev")
    secret = environ.get("SHOPASSIST_JWT_SECRET", "")
    if env == "dev":
        if not secret:
            logger.warning("SHOPASSIST_JWT_SECRET is unset: signing with the dev demo secret")
        return secret or DEMO_JWT_SECRET
    how = (
        "set SHOPASSIST_JWT_SECRET to the secret the assistant uses, e.g. "
        "export SHOPASSIST_JWT_SECRET=$(python -c "
        "'import secrets; print(secrets.token_urlsafe(48))') for both the shop and "
        "`shopassist serve`"
    )
    if not secret:
        raise ConfigError(f"SHOPASSIST_JWT_SECRET is not set (SHOPASSIST_ENV={env}): {how}")
    if secret == DEMO_JWT_SECRET or len(secret) < 32:
        raise ConfigError(
            f"SHOPASSIST_JWT_SECRET is the demo secret or under 32 characters "
            f"(SHOPASSIST_ENV={env}): {how}"
        )
    return secret


def render_page(assistant: str, user_id: str) -> bytes:
    """``index.html`` with the assistant's URL and the signed-in shopper filled in."""
    page = (HERE / "index.html").read_text(encoding="utf-8")
    page = page.replace("__ASSISTANT__", html.escape(assistant, quote=True))
    return page.replace("__USER__", html.escape(user_id)).encode()


def make_server(
    host: str, port: int, *, assistant: str, secret: str, user_id: str, ttl_s: int = 900
) -> ThreadingHTTPServer:
    """The shop's HTTP server (not started): ``/`` is the page, ``/shopassist-token`` the token.

    Raises:
        ConfigError: ``assistant`` is not an origin such as ``http://127.0.0.1:7860``.
    """
    assistant = assistant.rstrip("/")
    if not _ORIGIN.fullmatch(assistant):
        raise ConfigError(f"--assistant {assistant!r} must look like http://127.0.0.1:7860")
    page = render_page(assistant, user_id)

    class Handler(BaseHTTPRequestHandler):
        server_version = "widget-host"

        def _send(self, status: HTTPStatus, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: HTTPStatus, data: dict[str, Any]) -> None:
            self._send(status, json.dumps(data).encode(), "application/json")

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            path = self.path.split("?", 1)[0]
            if path in ("/", "/index.html"):
                self._send(HTTPStatus.OK, page, "text/html; charset=utf-8")
            elif path == TOKEN_PATH:
                # A real shop checks its own sign-in (session cookie) here and refuses 401
                # when nobody is signed in; this demo shop always has one shopper signed in.
                token = mint_token(secret, user_id, ttl_s=ttl_s)
                self._json(HTTPStatus.OK, {"token": token, "user_id": user_id, "expires_in": ttl_s})
            else:
                self._json(HTTPStatus.NOT_FOUND, {"error": f"no page at {path}; try /"})

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
            logger.info("%s %s", self.address_string(), format % args)

    return ThreadingHTTPServer((host, port), Handler)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} is not in 0-65535")
    return value


def _ttl(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 60 <= value <= 86400:
        raise argparse.ArgumentTypeError(f"a token lifetime of {value} s is not in 60-86400")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sample shop until interrupted; 2 on a configuration error."""
    parser = argparse.ArgumentParser(
        description="A sample shop page with the shopassist widget, and its token endpoint "
        f"(GET {TOKEN_PATH} mints an HS256 JWT for the signed-in shopper with "
        "SHOPASSIST_JWT_SECRET, the secret the assistant verifies with). Outside dev "
        "(SHOPASSIST_ENV=test|prod) it refuses to start without a real secret. The assistant "
        "must allow this page's origin: shopassist serve --cors-origin http://HOST:PORT.",
    )
    parser.add_argument(
        "--assistant",
        default="http://127.0.0.1:7860",
        help="the assistant's base URL, where widget.js and the API are "
        "(default http://127.0.0.1:7860)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--user", default="demo-shopper", help="the signed-in shopper's id (default demo-shopper)"
    )
    parser.add_argument(
        "--ttl", type=_ttl, default=900, help="token lifetime in seconds (default 900)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        secret = shop_secret(os.environ)
        server = make_server(
            args.host,
            args.port,
            assistant=args.assistant,
            secret=secret,
            user_id=args.user,
            ttl_s=args.ttl,
        )
    except (ConfigError, OSError) as exc:
        sys.stderr.write(f"widget_host: {exc}\n")
        return 2
    origin = f"http://{args.host}:{server.server_port}"
    logger.info(
        "shop page on %s/ (assistant %s); the assistant must allow this origin: "
        "shopassist serve --cors-origin %s",
        origin,
        args.assistant,
        origin,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
