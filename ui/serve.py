"""``shopassist serve``: the JSON API, its docs and the widget on one port (uvicorn).

Wire it into the CLI with ``add_serve_command(sub)``; heavy imports (FastAPI, uvicorn, the
pipeline) happen only when the command runs. With ``--workers N`` uvicorn runs N processes on
the port, each building its app with :func:`app_from_environment` from the options this command
leaves in ``SHOPASSIST_SERVE_OPTIONS`` (the workers share nothing but the configured stores).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["OPTIONS_ENV", "add_serve_command", "app_from_environment"]

logger = logging.getLogger(__name__)

OPTIONS_ENV = "SHOPASSIST_SERVE_OPTIONS"
"""Where ``--workers`` hands the command's options to the worker processes (JSON)."""


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} is not in 0-65535")
    return value


def _origin(text: str) -> str:
    origin = text.strip().rstrip("/")
    if origin != "*" and not re.fullmatch(r"https?://[^/\s?#]+", origin):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an origin: give the scheme, host and port only, e.g. "
            "https://shop.example or http://127.0.0.1:8000"
        )
    return origin


def positive_int(text: str) -> int:
    """An argparse type: a whole number of 1 or more (shared with ``ui.cli``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not 1 or more")
    return value


def _request_logging() -> None:
    # Requests and turns log one INFO line each; -v still raises the rest of the logging.
    for name in ("ui", "assistant"):
        if logging.getLogger(name).getEffectiveLevel() > logging.INFO:
            logging.getLogger(name).setLevel(logging.INFO)


def app_from_environment() -> FastAPI:
    """The app of one ``--workers`` process (uvicorn calls it as a factory).

    Reads the options ``shopassist serve`` put in :data:`OPTIONS_ENV` (none: the defaults) and
    the ``SHOPASSIST_*`` settings, as ``uvicorn --factory ui.serve:app_from_environment`` does
    outside the CLI.
    """
    from assistant.config import get_settings
    from ui.server import create_app

    if not logging.getLogger().handlers:  # a fresh worker process: log like the CLI does
        logging.basicConfig(
            level=logging.WARNING,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
    _request_logging()
    options = json.loads(os.environ.get(OPTIONS_ENV) or "{}")
    return create_app(
        get_settings(),
        dev=options.get("dev"),
        cors_origins=options.get("cors_origins", []),
        start_llm=options.get("start_llm", True),
    )


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from assistant.config import get_settings
    from ui.server import create_app

    settings = get_settings()
    _request_logging()
    # Built here even with --workers: a refused option fails once, before any worker starts.
    app = create_app(
        settings,
        dev=args.dev,
        cors_origins=args.cors_origin,
        start_llm=args.start_llm,
    )
    config: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "access_log": False,  # the app logs one line per request itself, without query strings
        "log_level": "info",
        "timeout_graceful_shutdown": 10,
    }
    base = f"http://{args.host}:{args.port}"
    dev = settings.env.value == "dev" if args.dev is None else args.dev
    allowed = ", ".join(args.cors_origin) or ("localhost pages (dev)" if dev else "none")
    logger.info(
        "shopassist on %s: shopper UI %s/ui, API docs %s/docs, widget %s/widget.js; "
        "pages that may call the API (CORS): %s; %d worker process%s",
        base,
        base,
        base,
        base,
        allowed,
        args.workers,
        "" if args.workers == 1 else "es",
    )
    if args.workers == 1:
        uvicorn.run(app, **config)
        return 0
    os.environ[OPTIONS_ENV] = json.dumps(
        {"dev": args.dev, "cors_origins": args.cors_origin, "start_llm": args.start_llm}
    )
    uvicorn.run("ui.serve:app_from_environment", factory=True, workers=args.workers, **config)
    return 0


def add_serve_command(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``serve`` to the ``shopassist`` subcommands; returns its parser.

    Args:
        subparsers: What ``ArgumentParser.add_subparsers()`` returned.
    """
    serve: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="serve the shopper UI (/ui), the JSON API, its docs (/docs) and the widget",
        description="Serve shopassist over HTTP: the Gradio shopper chat at /ui (/ redirects "
        "there), /v1/chat, /v1/chat/stream, /v1/claims, /v1/feedback, /v1/sessions/ID, "
        "/v1/chat/completions (OpenAI-compatible), /healthz, /readyz, /metrics, /widget.js and "
        "the OpenAPI docs at /docs. The catalog, index and embedder load in the background: "
        "/readyz is 503 until they are in. Identity: Bearer JWTs signed with "
        "SHOPASSIST_JWT_SECRET; in dev (SHOPASSIST_ENV=dev) requests without a token are "
        "accepted. Needs `shopassist data demo` (or a catalog import) and `shopassist index`.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=7860, help="port (default 7860)")
    serve.add_argument(
        "--dev",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="accept requests without a token and trust the body's user_id (default: on when "
        "SHOPASSIST_ENV=dev; refused elsewhere)",
    )
    serve.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        type=_origin,
        metavar="ORIGIN",
        help="a site whose pages may call the API (the widget's host page), e.g. "
        "https://shop.example or http://127.0.0.1:8000 for examples/widget_host; repeat for "
        "more (default: none, or in dev any page on localhost / 127.0.0.1)",
    )
    serve.add_argument(
        "--start-llm",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="start the shared embedded LLM server when none runs (default: yes; "
        "SHOPASSIST_LLM_BACKEND=rules needs none)",
    )
    serve.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        help="worker processes on the port (default 1); each loads its own catalog, index and "
        "embedder and shares only the configured stores (PostgreSQL, the Chroma server, the "
        "LLM server), so use them with SHOPASSIST_DATABASE_URL and SHOPASSIST_CHROMA_URL",
    )
    serve.set_defaults(handler=_cmd_serve)
    return serve
