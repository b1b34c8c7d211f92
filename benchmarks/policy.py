"""Policy benchmark: off-policy evaluation on the Open Bandit Dataset, agreement with obp, slate
bandits in the user-choice model with a regret plot, the session policy, and select() latency.

    .venv/bin/python benchmarks/policy.py --quick                         # smoke run (make test)
    .venv/bin/python benchmarks/policy.py                                 # the full run
    .venv/bin/python benchmarks/policy.py --output docs/policy-latest.md  # make bench

Sections, in order (each returns markdown; a section that fails to import or run is reported as
"section unavailable: <error>" and the others still run):

1. ``_policy_obd.obd_section``: the Open Bandit Dataset sample, learn on the Bernoulli-TS log,
   evaluate on the random log, estimates with 95% intervals.
2. ``_policy_obd.obp_agreement_section``: our estimators against obp's on the same logs.
3. ``_policy_sim.simulation_section``: random, greedy, epsilon-greedy, LinUCB, linear Thompson
   sampling and Vowpal Wabbit ``--cb_explore_adf`` over 50,000 rounds (``--quick``: 2,000) of
   the user-choice model; cumulative reward and regret against an oracle, and the regret plot
   (written next to ``--output`` as ``policy-regret.png``; without ``--output``, none).
4. ``_policy_session.session_section``: the session policy against the rules action policy.
5. ``_policy_sim.latency_section``: p50 / p95 of ``select()`` for 100 candidates.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _report import save  # noqa: E402


def _section(module: str, function: str, **kwargs: object) -> tuple[str, float]:
    """Run one section lazily; its failure becomes a line in the report, not a crash."""
    started = time.perf_counter()
    try:
        fn: Callable[..., str] = getattr(importlib.import_module(module), function)
        body = fn(**kwargs)
    except Exception as exc:  # noqa: BLE001 - one broken section must not hide the others
        traceback.print_exc(file=sys.stderr)
        body = f"## {module}.{function}\n\nsection unavailable: {type(exc).__name__}: {exc}"
    return body, time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small runs of every section")
    parser.add_argument("--seed", type=int, default=0, help="seed of every section (default 0)")
    parser.add_argument(
        "--rounds", type=int, default=None, help="simulation rounds (default 50,000; quick 2,000)"
    )
    parser.add_argument("--output", type=Path, help="write the report (e.g. docs/policy-latest.md)")
    args = parser.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        parser.error(f"--rounds must be >= 1; got {args.rounds}")
    started = time.perf_counter()
    common = {"quick": args.quick, "seed": args.seed}
    plot = None if args.output is None else args.output.parent / "policy-regret.png"
    sections = [
        ("_policy_obd", "obd_section", common),
        ("_policy_obd", "obp_agreement_section", common),
        (
            "_policy_sim",
            "simulation_section",
            {
                **common,
                "rounds": args.rounds,
                "plot_path": plot,
                "progress": lambda line: print(line, file=sys.stderr, flush=True),
            },
        ),
        ("_policy_session", "session_section", common),
        ("_policy_sim", "latency_section", common),
    ]
    bodies = []
    timings = []
    for module, function, kwargs in sections:
        print(f"running {module}.{function} ...", file=sys.stderr, flush=True)
        body, seconds = _section(module, function, **kwargs)
        bodies.append(body)
        timings.append(f"| {module}.{function} | {seconds:.1f} |")
    wall = time.perf_counter() - started
    mode = "quick" if args.quick else "full"
    report = "\n\n".join(
        [
            "# Policy benchmark",
            f"{mode} run, seed {args.seed}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
            f"{os.cpu_count()} CPUs, wall time {wall:.1f} s "
            f"(`.venv/bin/python benchmarks/policy.py{' --quick' if args.quick else ''}`).",
            *bodies,
            "## Section times\n\n| section | seconds |\n| --- | ---: |\n" + "\n".join(timings),
        ]
    )
    print(report)
    if args.output:
        save(args.output, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
