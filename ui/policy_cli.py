"""``shopassist policy``: store, update, evaluate and promote slate policies.

The subcommands are thin: the logic lives in :mod:`assistant.policy_serving`.

* ``policy list`` shows the stored snapshots and which one serves;
* ``policy create FAMILY [--epsilon] [--alpha] [--scale]`` stores a fresh policy (not serving);
* ``policy train VERSION`` folds every logged decision into a copy of VERSION (a candidate);
* ``policy update`` folds the new feedback into the serving policy (the one updater);
* ``policy evaluate CANDIDATE`` estimates it off-policy on the logs (IPS, SNIPS, DM, DR with 95%
  intervals) against the serving policy's logged reward;
* ``policy promote CANDIDATE`` serves it only if the gate's lower bound is above zero (exit 1
  when refused);
* ``policy shadow VERSION | --off`` logs what VERSION would have chosen, never shown;
* ``policy ab start VERSION [--share] | readout | stop`` runs a sticky A/B test;
* ``policy fairness [--days N]`` reports exposure and final-price spread across segments.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

__all__ = ["add_policy_command"]

EXIT_OK = 0
EXIT_FAILURE = 1
# The same as assistant.policy_serving's (a test checks); spelled here so that building the
# parser imports nothing heavy.
FAMILIES = ("epsilon_greedy", "greedy", "linucb", "linear_thompson", "logistic_thompson")
REWARDS = ("click", "claim", "purchase", "margin")


def _print(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    lines = [
        f"candidate {report['candidate']} vs serving {report['serving']} "
        f"on {report['n_decisions']} logged decisions ({report['n_rows']} shown positions), "
        f"reward {report['reward']} per position",
        f"  logged (what served): {report['logged']:.4f}",
    ]
    for e in report["estimates"]:
        lines.append(
            f"  {e['name']:<6} {e['value']:.4f}  95% interval [{e['low']:.4f}, {e['high']:.4f}]"
        )
    gate = report["gate"]
    lines.append(
        f"  gate: difference {gate['difference']:+.4f}, interval [{gate['low']:+.4f}, "
        f"{gate['high']:+.4f}]: {'promote' if gate['promote'] else 'refuse'}"
    )
    print("\n".join(lines))


def _iso_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0: {text!r}")
    return value


def _params(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name in ("epsilon", "alpha", "scale", "top"):
        value = getattr(args, name, None)
        if value is not None:
            params[name] = value
    return params


def _cmd_list(args: argparse.Namespace) -> int:
    from assistant.app import Shop
    from assistant.policy_serving import list_policies, logged_version, serving_policy

    shop = Shop.from_settings()
    rows = list_policies(shop)
    serving, _ = serving_policy(shop)
    if args.json:
        print(json.dumps({"serving": serving, "policies": rows}, indent=2))
        return EXIT_OK
    from assistant.policy_serving import DEFAULT_POLICY

    default = logged_version(DEFAULT_POLICY)
    print(f"serving: {serving}{' (built-in default)' if serving == default else ''}")
    for r in rows:
        mark = "*" if r["serving"] else " "
        print(
            f"{mark} {r['version']}  {r['family']}  stored {r['created_at'][:19]}  "
            f"folded {r['n_folded']} rows"
        )
    return EXIT_OK


def _cmd_create(args: argparse.Namespace) -> int:
    from assistant.app import Shop
    from assistant.policy_serving import create_policy

    version = create_policy(Shop.from_settings(), args.family, **_params(args))
    print(version)
    return EXIT_OK


def _cmd_update(args: argparse.Namespace) -> int:
    from assistant.app import Shop
    from assistant.policy_serving import update_policy

    print(update_policy(Shop.from_settings(), reward=args.reward))
    return EXIT_OK


def _cmd_train(args: argparse.Namespace) -> int:
    from assistant.app import Shop
    from assistant.policy_serving import train_policy

    print(train_policy(Shop.from_settings(), args.version, reward=args.reward, until=args.until))
    return EXIT_OK


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from assistant.app import Shop
    from assistant.policy_serving import evaluate_policy

    result = evaluate_policy(
        Shop.from_settings(),
        args.candidate,
        reward=args.reward,
        n_bootstrap=args.bootstrap,
        seed=args.seed,
        limit=args.limit,
        since=args.since,
        progress=not args.quiet,
    )
    _print(result.to_json(), args.json)
    return EXIT_OK


def _cmd_promote(args: argparse.Namespace) -> int:
    from assistant.app import Shop
    from assistant.errors import PromotionRefused
    from assistant.policy_serving import promote_policy

    try:
        result = promote_policy(
            Shop.from_settings(),
            args.candidate,
            reward=args.reward,
            n_bootstrap=args.bootstrap,
            seed=args.seed,
        )
    except PromotionRefused as exc:
        _print(exc.report, args.json)
        raise
    _print(result.to_json(), args.json)
    return EXIT_OK


def _cmd_shadow(args: argparse.Namespace) -> int:
    from assistant.app import Shop
    from assistant.errors import InputError
    from assistant.policy_serving import set_shadow

    if args.off == (args.version is not None):
        raise InputError("policy shadow: give a VERSION to shadow, or --off (not both)")
    set_shadow(Shop.from_settings(), None if args.off else args.version)
    print("shadowing stopped" if args.off else f"shadowing {args.version}")
    return EXIT_OK


def _cmd_ab(args: argparse.Namespace) -> int:
    from assistant.app import Shop
    from assistant.policy_serving import ab_readout_now, start_ab, stop_ab

    shop = Shop.from_settings()
    if args.ab_action == "start":
        salt = start_ab(shop, args.version, share=args.share, salt=args.salt)
        print(f"A/B test {salt}: {args.version} serves {args.share:.0%} of users")
    elif args.ab_action == "stop":
        print("A/B test stopped" if stop_ab(shop) else "no A/B test was running")
    else:
        print(ab_readout_now(shop).to_markdown())
    return EXIT_OK


def _cmd_fairness(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from assistant.app import Shop
    from assistant.policy_serving import fairness_from_logs

    since = datetime.now(UTC) - timedelta(days=args.days) if args.days else None
    print(fairness_from_logs(Shop.from_settings(), since=since).to_markdown())
    return EXIT_OK


def add_policy_command(sub: Any) -> None:
    """Add ``policy`` and its actions to the ``shopassist`` subparsers ``sub``."""
    policy = sub.add_parser(
        "policy",
        help="slate policies: store, update from feedback, evaluate off-policy, promote",
        description="Slate policies are versioned snapshots in SQL; the serving one is "
        "re-read by every worker within seconds. Without any promoted, the built-in "
        "epsilon-greedy (epsilon 0.1, top 100) serves.",
    )
    # Nested subparsers inherit the parent's class (one-line errors, exit 2).
    policy_sub = policy.add_subparsers(dest="policy_command", metavar="ACTION")
    policy_sub.required = True

    listing = policy_sub.add_parser("list", help="stored policies and which one serves")
    listing.add_argument("--json", action="store_true", help="print one JSON object")
    listing.set_defaults(handler=_cmd_list)

    create = policy_sub.add_parser(
        "create",
        help="store a fresh policy of FAMILY (it does not serve until promoted)",
        description="Store a new, untrained policy; prints its version. Contextual families "
        "(linucb, linear_thompson, logistic_thompson) learn from the features of every "
        "candidate (ranker score, rank, kind, relative price) once `policy train` or "
        "`policy update` folds feedback into them.",
    )
    create.add_argument("family", choices=FAMILIES, help="the policy family")
    create.add_argument("--epsilon", type=float, help="exploration share (default per family)")
    create.add_argument("--alpha", type=float, help="LinUCB's optimism (default 1.0)")
    create.add_argument("--scale", type=float, help="Thompson posterior scale (default 1.0)")
    create.add_argument("--top", type=int, help="eligible top candidates by score (default 100)")
    create.set_defaults(handler=_cmd_create)

    update = policy_sub.add_parser(
        "update",
        help="fold the new feedback into the serving policy (a new version that serves)",
    )
    update.add_argument("--reward", choices=REWARDS, default="click", help="default: click")
    update.set_defaults(handler=_cmd_update)

    train = policy_sub.add_parser(
        "train",
        help="fold every logged decision into a copy of VERSION (a candidate; not served)",
    )
    train.add_argument("version", help="a learning policy from `shopassist policy list`")
    train.add_argument("--reward", choices=REWARDS, default="click", help="default: click")
    train.add_argument(
        "--until",
        type=_iso_time,
        help="fold only decisions up to this ISO 8601 time (then evaluate --since it)",
    )
    train.set_defaults(handler=_cmd_train)

    shadow = policy_sub.add_parser(
        "shadow",
        help="log what VERSION would have chosen at every decision, without showing it",
    )
    shadow.add_argument("version", nargs="?", help="a version from `shopassist policy list`")
    shadow.add_argument("--off", action="store_true", help="stop shadowing")
    shadow.set_defaults(handler=_cmd_shadow)

    ab = policy_sub.add_parser(
        "ab",
        help="A/B test a candidate against the serving policy (sticky per user)",
        description="start: serve VERSION to SHARE of users, each always in the same arm (salted "
        "hash of the user id); readout: per arm, the share of users who reacted (click, claim, "
        "add to cart, purchase) with 95% intervals, the difference and a verdict; stop: end it.",
    )
    ab_sub = ab.add_subparsers(dest="ab_action", metavar="ACTION")
    ab_sub.required = True
    ab_start = ab_sub.add_parser("start", help="start serving VERSION to a share of users")
    ab_start.add_argument("version", help="a version from `shopassist policy list`")
    ab_start.add_argument(
        "--share", type=float, default=0.5, help="share of users for VERSION (default 0.5)"
    )
    ab_start.add_argument("--salt", help="name of the experiment (default: ab-<time>)")
    ab_sub.add_parser("readout", help="the running test's rates, difference and verdict")
    ab_sub.add_parser("stop", help="end the test; everyone gets the serving policy")
    ab.set_defaults(handler=_cmd_ab)

    fairness = policy_sub.add_parser(
        "fairness",
        help="exposure and final-price spread across user segments (member, new, regular)",
        description="From the logged impressions: per segment, position-weighted exposure, the "
        "share of exposure on deals, how different the item mix is, and the mean / median / p90 "
        "final price shown; disparity ratios below 0.8 are flagged.",
    )
    fairness.add_argument(
        "--days", type=_positive_float, help="only the last DAYS days (default: all logs)"
    )
    fairness.set_defaults(handler=_cmd_fairness)

    for name, handler, text in (
        (
            "evaluate",
            _cmd_evaluate,
            "estimate CANDIDATE off-policy on the logged decisions (IPS, SNIPS, DM, DR with "
            "95%% bootstrap intervals) against what served",
        ),
        (
            "promote",
            _cmd_promote,
            "serve CANDIDATE only if the 95%% interval of its per-decision gain over the "
            "serving policy is above zero (exit 1 when refused)",
        ),
    ):
        action = policy_sub.add_parser(
            name, help=text, description=(text[0].upper() + text[1:]).replace("%%", "%")
        )
        action.add_argument("candidate", help="a version from `shopassist policy list`")
        action.add_argument("--reward", choices=REWARDS, default="click", help="default: click")
        action.add_argument(
            "--bootstrap", type=int, default=1000, help="bootstrap resamples (default 1000)"
        )
        action.add_argument("--seed", type=int, default=0, help="seed (default 0)")
        action.add_argument("--json", action="store_true", help="print one JSON object")
        if name == "evaluate":
            action.add_argument(
                "--limit",
                type=int,
                default=20_000,
                help="use the newest LIMIT decisions (default 20000)",
            )
            action.add_argument(
                "--since", type=_iso_time, help="use only decisions after this ISO 8601 time"
            )
            action.add_argument("--quiet", action="store_true", help="no progress bar")
        action.set_defaults(handler=handler)
