"""Load test of the scale-out topology: API workers sharing PostgreSQL, a Chroma server and an
OpenAI-compatible LLM server, driven by a lean asyncio + aiohttp client on uvloop.

Usage::

    .venv/bin/python benchmarks/load.py             # full run (~10 min), builds everything
    .venv/bin/python benchmarks/load.py --quick     # smoke: small world, 8 shoppers, 10 s
    .venv/bin/python benchmarks/load.py --output docs/load.md
    .venv/bin/python benchmarks/load.py --url http://127.0.0.1:7860 --url http://127.0.0.1:7861

Without ``--url`` it starts the topology itself (``benchmarks/_load_topology.py``): a fresh
PostgreSQL schema in db ``test`` with the demo world (``shopassist db upgrade``, ``shopassist
data demo``), ``chroma run`` with the index built through it (``shopassist index``), two
``shopassist serve`` workers in rules mode, and later, for the embedded-LLM part, ``shopassist llm
serve`` with the workers restarted on ``SHOPASSIST_LLM_BACKEND=openai`` and
``SHOPASSIST_LLM_BASE_URL`` (how a vLLM server is used). With ``--url`` (repeated) it attaches to
running workers and runs the rules-mode part only (server CPU is then measured for the ``--pid``
given, if any).

Each shopper is a closed loop: a session of 1-3 turns from the fixed English and Chinese mix of
``benchmarks/turns.py`` (budgets, deals, excluded brands, follow-ups), the next turn sent as soon
as the last one is answered, every request to the next worker in turn (so sessions hop between
workers). Reported: throughput (turns/s), end-to-end latency p50/p95/p99, the pipeline's stage
timings p50/p95/p99 (``timings_ms`` of each ``/v1/chat`` response), server CPU-ms per turn (the
workers' utime + stime from ``/proc`` before and after, over the turns), errors; a sweep over
concurrency for the highest throughput with p95 <= 100 ms; and in embedded mode the LLM's
queueing delay (its per-turn time with 4 shoppers minus with 1: the one LLM server serves one
request at a time).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# Run as a script, this folder comes first on sys.path, where policy.py (the policy
# benchmark) would shadow the `policy` package: the repository root goes first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
import uvloop
from _load_topology import SMALL_LEAVES, Topology, cpu_seconds  # type: ignore[import-not-found]
from _report import save  # type: ignore[import-not-found]
from turns import sessions  # type: ignore[import-not-found]

from assistant.config import DEMO_JWT_SECRET
from assistant.world.catalog import CATEGORY_NAMES, LEAVES
from ui.api import mint_token
from ui.api._auth import LOAD_TIER

STAGES = (
    "understand",
    "load",
    "llm_understand",
    "retrieve",
    "price",
    "rank",
    "choose",
    "reply",
    "first_token",
    "store",
)
LLM_STAGES = ("llm_understand", "reply")
P95_TARGET_MS = 100.0
PROBE_EVERY_S = 5.0


@dataclass
class Sample:
    """One answered (or failed) turn."""

    ms: float
    status: int
    timings: dict[str, float] = field(default_factory=dict)
    error: str = ""
    llm: dict[str, str] = field(default_factory=dict)


@dataclass
class Phase:
    """What one load phase measured."""

    name: str
    shoppers: int
    seconds: float
    samples: list[Sample]
    server_cpu_s: float | None
    client_cpu_s: float
    llm_waits: list[float] = field(default_factory=list)

    @property
    def ok(self) -> list[Sample]:
        return [s for s in self.samples if s.status == 200]

    @property
    def errors(self) -> int:
        return len(self.samples) - len(self.ok)

    @property
    def rate(self) -> float:
        return len(self.ok) / self.seconds if self.seconds else 0.0

    def pct(self, q: float, stage: str | None = None) -> float:
        if stage is None:
            values = [s.ms for s in self.ok]
        else:
            values = [s.timings[stage] for s in self.ok if stage in s.timings]
        return float(np.percentile(values, q)) if values else float("nan")

    def error_counts(self) -> list[tuple[str, int]]:
        return Counter(s.error for s in self.samples if s.status != 200).most_common()

    def llm_ms(self) -> list[float]:
        return [sum(s.timings.get(k, 0.0) for k in LLM_STAGES) for s in self.ok]

    @property
    def cpu_ms_per_turn(self) -> float | None:
        if self.server_cpu_s is None or not self.ok:
            return None
        return self.server_cpu_s * 1000 / len(self.ok)


def session_pool(leaves: Sequence[str], seed: int, n: int = 3000) -> list[list[str]]:
    """``n`` sessions (lists of 1-3 messages) of the turn benchmark's English/Chinese mix."""
    brands = {leaf.path: [b.en for b in leaf.brands] for leaf in LEAVES}
    usable = sorted(set(leaves) & set(CATEGORY_NAMES))
    rng = random.Random(seed)
    return [[t.text for t in convo] for convo in sessions(rng, usable, brands, n)]


async def _shopper(
    client: aiohttp.ClientSession,
    secret: str,
    next_url: Callable[[], str],
    pool: list[list[str]],
    rng: random.Random,
    tag: str,
    stop_at: float,
    out: list[Sample],
) -> None:
    k = 0
    while time.perf_counter() < stop_at:
        k += 1
        user, session_id = f"{tag}-{k}", None
        # A load-tier token: the documented raised rate limit (all shoppers share one address).
        headers = {"Authorization": f"Bearer {mint_token(secret, user, shopassist_rate=LOAD_TIER)}"}
        for message in rng.choice(pool):
            if time.perf_counter() >= stop_at:
                return
            body = {"user_id": user, "message": message, "session_id": session_id}
            start = time.perf_counter()
            try:
                async with client.post(
                    next_url() + "/v1/chat", json=body, headers=headers
                ) as response:
                    status, payload = response.status, await response.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                ms = (time.perf_counter() - start) * 1000
                out.append(Sample(ms, 0, error=type(exc).__name__))
                break
            ms = (time.perf_counter() - start) * 1000
            if status != 200:
                try:
                    code = json.loads(payload)["error"]["code"]
                except (ValueError, KeyError, TypeError):
                    code = payload[:60].decode("utf-8", "replace")
                out.append(Sample(ms, status, error=f"{status} {code}"))
                break
            data = json.loads(payload)
            out.append(Sample(ms, 200, data.get("timings_ms", {}), llm=data.get("llm") or {}))
            session_id = data["session_id"]


async def _probe(
    client: aiohttp.ClientSession, base_url: str, stop_at: float, out: list[float]
) -> None:
    """Every few seconds a 1-token request straight to the LLM server: its wall time minus the
    compute the server reports (llama.cpp's ``timings``) is how long it waited for a slot."""
    body = {"messages": [{"role": "user", "content": "ok"}], "max_tokens": 1}
    while time.perf_counter() + PROBE_EVERY_S < stop_at:
        await asyncio.sleep(PROBE_EVERY_S)
        start = time.perf_counter()
        try:
            async with client.post(
                base_url.rstrip("/") + "/chat/completions", json=body
            ) as response:
                timings = json.loads(await response.read()).get("timings") or {}
        except (aiohttp.ClientError, TimeoutError, ValueError, AttributeError):
            continue
        if "prompt_ms" in timings:
            compute = float(timings["prompt_ms"]) + float(timings.get("predicted_ms", 0.0))
            out.append(max(0.0, (time.perf_counter() - start) * 1000 - compute))


async def _drive(
    secret: str,
    urls: Sequence[str],
    pool: list[list[str]],
    shoppers: int,
    seconds: float,
    tag: str,
    seed: int,
    probe: str | None,
) -> tuple[list[Sample], float, list[float]]:
    cycle = itertools.cycle(urls)
    # The client shares the machine's cores with the system under test: aiohttp on uvloop
    # spends about a third of what httpx on asyncio did per request.
    connector = aiohttp.TCPConnector(limit=shoppers + 4)
    timeout = aiohttp.ClientTimeout(total=120)
    out: list[Sample] = []
    waits: list[float] = []
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:
        start = time.perf_counter()
        stop_at = start + seconds
        await asyncio.gather(
            *([_probe(client, probe, stop_at, waits)] if probe else []),
            *(
                _shopper(
                    client,
                    secret,
                    lambda: next(cycle),
                    pool,
                    random.Random(seed * 1000 + i),
                    f"{tag}-{i}",
                    stop_at,
                    out,
                )
                for i in range(shoppers)
            ),
        )
        elapsed = time.perf_counter() - start
    return out, elapsed, waits


def run_phase(
    secret: str,
    name: str,
    urls: Sequence[str],
    pool: list[list[str]],
    shoppers: int,
    seconds: float,
    cpu: Callable[[], float] | None,
    seed: int,
    probe: str | None = None,
) -> Phase:
    """Drive ``shoppers`` closed-loop shoppers over ``urls`` for ``seconds`` (and probe the
    LLM server at ``probe``, its base URL, for its queueing delay)."""
    cpu_before = cpu() if cpu else None
    client_before = sum(os.times()[:2])
    samples, elapsed, waits = uvloop.run(
        _drive(secret, urls, pool, shoppers, seconds, name, seed, probe)
    )
    server = cpu() - cpu_before if cpu and cpu_before is not None else None
    phase = Phase(
        name, shoppers, elapsed, samples, server, sum(os.times()[:2]) - client_before, waits
    )
    print(
        f"  {name}: {shoppers} shoppers, {len(phase.ok)} turns in {elapsed:.1f} s "
        f"({phase.rate:.1f}/s), p95 {phase.pct(95):.0f} ms, errors {phase.errors}",
        file=sys.stderr,
    )
    return phase


# --- the report ---------------------------------------------------------------------------


def _p(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def _f(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None or value != value else f"{value:.{digits}f}"


def _summary_rows(phases: Sequence[Phase]) -> list[str]:
    rows = [
        "| shoppers | seconds | turns | turns/s | p50 ms | p95 ms | p99 ms | errors | "
        "server CPU-ms/turn |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for p in phases:
        rows.append(
            f"| {p.shoppers} | {p.seconds:.0f} | {len(p.ok)} | {p.rate:.1f} | {_f(p.pct(50))} | "
            f"{_f(p.pct(95))} | {_f(p.pct(99))} | {p.errors} | {_f(p.cpu_ms_per_turn)} |"
        )
    return rows


def _stage_rows(phase: Phase) -> list[str]:
    rows = ["| stage | p50 ms | p95 ms | p99 ms |", "| --- | ---: | ---: | ---: |"]
    for stage in STAGES:
        if any(stage in s.timings for s in phase.ok):
            rows.append(
                f"| {stage} | {_f(phase.pct(50, stage), 2)} | {_f(phase.pct(95, stage), 2)} | "
                f"{_f(phase.pct(99, stage), 2)} |"
            )
    rows.append(
        f"| **end to end (client)** | **{_f(phase.pct(50), 2)}** | **{_f(phase.pct(95), 2)}** | "
        f"**{_f(phase.pct(99), 2)}** |"
    )
    return rows


def report(
    args: argparse.Namespace,
    setup: dict[str, Any],
    sweep: list[Phase],
    main: Phase,
    embedded: list[Phase],
) -> str:
    """The markdown report."""
    quick = " --quick" if args.quick else ""
    total = len(main.samples)
    lines = [
        f"# Load test (`benchmarks/load.py{quick}`)",
        "",
        f"{setup['topology']}. Machine: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}; the load client runs on the "
        "same machine.",
        "",
        f"## Rules mode: {main.shoppers} concurrent shoppers for {main.seconds:.0f} s",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| turns answered | {len(main.ok)} |",
        f"| throughput | {main.rate:.1f} turns/s (target >= 100) |",
        f"| end-to-end latency p50 / p95 / p99 | {_f(main.pct(50))} / {_f(main.pct(95))} / "
        f"{_f(main.pct(99))} ms |",
        f"| errors | {main.errors} of {total} ({main.errors / max(total, 1):.2%}) |",
        *(f"| error `{code}` | {n} |" for code, n in main.error_counts()),
        f"| server CPU per turn (both workers, utime + stime) | {_f(main.cpu_ms_per_turn)} ms |",
        f"| load client CPU per turn | {_f(main.client_cpu_s * 1000 / max(len(main.ok), 1))} ms |",
        "",
        "Per stage (the pipeline's `timings_ms`; `load` reads the session from SQL, `store` "
        "writes the turn, its decision and impressions):",
        "",
        *_stage_rows(main),
    ]
    if sweep:
        within = [p for p in sweep if p.errors == 0 and p.pct(95) <= P95_TARGET_MS]
        best = max(within, key=lambda p: p.rate) if within else None
        lines += [
            "",
            "## Concurrency sweep (rules mode)",
            "",
            *_summary_rows(sweep),
            "",
            (
                f"Highest throughput with p95 <= {P95_TARGET_MS:.0f} ms and no errors: "
                f"**{best.rate:.1f} turns/s** at {best.shoppers} shoppers."
                if best
                else f"No concurrency of the sweep kept p95 <= {P95_TARGET_MS:.0f} ms."
            ),
        ]
    if embedded:
        one, four = embedded[0], embedded[-1]
        base = float(np.median(one.llm_ms())) if one.ok else float("nan")
        loaded = float(np.median(four.llm_ms())) if four.ok else float("nan")
        lines += [
            "",
            "## Embedded-LLM mode: one OpenAI-compatible LLM server (`shopassist llm serve`)",
            "",
            f"Workers on `SHOPASSIST_LLM_BACKEND=openai`, `SHOPASSIST_LLM_BASE_URL` = the embedded "
            f"server ({setup.get('llm', 'n/a')}).",
            "",
            *_summary_rows(embedded),
            "",
            "| measure | 1 shopper | "
            + " | ".join(f"{p.shoppers} shoppers" for p in embedded[1:])
            + " |",
            "| --- | ---: |" + " ---: |" * (len(embedded) - 1),
        ]
        for stage in ("llm_understand", "first_token", "reply"):
            lines.append(
                f"| {stage} p50 / p95 ms | "
                + " | ".join(
                    f"{_f(p.pct(50, stage), 0)} / {_f(p.pct(95, stage), 0)}" for p in embedded
                )
                + " |"
            )
        for part in ("understand", "reply"):
            lines.append(
                f"| LLM {part}: outcomes | "
                + " | ".join(
                    ", ".join(
                        f"{k} {n / max(len(p.ok), 1):.0%}"
                        for k, n in Counter(s.llm.get(part, "off") for s in p.ok).most_common()
                    )
                    for p in embedded
                )
                + " |"
            )
        lines.append(
            "| LLM time per turn p50 ms (llm_understand + reply) | "
            + " | ".join(_f(float(np.median(p.llm_ms())) if p.ok else None, 0) for p in embedded)
            + " |"
        )
        lines.append(
            f"| LLM slot wait (1-token probe every {PROBE_EVERY_S:.0f} s: wall time minus the "
            "server's compute) p50 / p95 ms, probes | "
            + " | ".join(
                f"{_f(_p(p.llm_waits, 50), 0)} / {_f(_p(p.llm_waits, 95), 0)}, {len(p.llm_waits)}"
                for p in embedded
            )
            + " |"
        )
        failed = sum(s.llm.get("reply") == "failed" for s in four.ok) / max(len(four.ok), 1)
        lines += [
            "",
            f"Queueing delay for the LLM at {four.shoppers} shoppers: a request waited "
            f"**{_f(_p(four.llm_waits, 50), 0)} ms** (p50; p95 "
            f"{_f(_p(four.llm_waits, 95), 0)} ms) for the server before its compute began "
            f"(the probe); the median LLM time per turn grew by {_f(loaded - base, 0)} ms from "
            f"1 shopper to {four.shoppers}. The embedded server runs one request at a time.",
        ]
        if failed > 0.2:
            lines.append(
                f"{failed:.0%} of the LLM replies failed (the pipeline's 8 s LLM timeout; the "
                "turn is answered from the template instead): both medians are capped by that "
                "timeout, so this difference does not measure the queueing delay."
            )
    return "\n".join(lines) + "\n"


# --- running --------------------------------------------------------------------------------


def _setup(args: argparse.Namespace, top: Topology) -> dict[str, Any]:
    start = time.perf_counter()
    print("setting up: PostgreSQL schema, demo world, Chroma server, index", file=sys.stderr)
    steps: list[tuple[str, Callable[[], object]]] = [
        ("schema", top.create_schema),
        ("world", lambda: top.build_world(products=args.products, small=args.quick)),
        ("chroma", top.start_chroma),
        ("index", top.index),
        ("workers", lambda: top.start_workers(args.workers)),
    ]
    took = []
    for name, step in steps:
        t0 = time.perf_counter()
        step()
        took.append(f"{name} {time.perf_counter() - t0:.0f} s")
    print("  setup: " + ", ".join(took), file=sys.stderr)
    world = (
        f"small demo world ({args.products} products over {len(SMALL_LEAVES)} leaves)"
        if args.quick
        else f"demo world (`shopassist data demo --products {args.products}`)"
    )
    return {
        "seconds": time.perf_counter() - start,
        "topology": f"{args.workers} `shopassist serve` workers on one fresh PostgreSQL schema "
        f"(127.0.0.1:5432, db `test`) and one `chroma run` server, {world}, index built "
        f"through the server by `shopassist index`; setup took "
        f"{time.perf_counter() - start:.0f} s ({', '.join(took)})",
    }


def run(args: argparse.Namespace) -> str:
    """Set up (or attach), run every phase, and return the report."""
    tmp = Path(tempfile.mkdtemp(prefix="load-bench-"))
    top = Topology(tmp)
    try:
        secret = top.jwt_secret
        if args.url:
            secret = args.jwt_secret
            urls = list(args.url)
            pids = list(args.pid)
            cpu = (lambda: sum(cpu_seconds(p) for p in pids)) if pids else None
            setup = {"topology": f"attached to {len(urls)} running workers: {', '.join(urls)}"}
            leaves = list(CATEGORY_NAMES)
        else:
            setup = _setup(args, top)
            urls = [w.url for w in top.workers]
            cpu = top.worker_cpu_s
            leaves = list(SMALL_LEAVES) if args.quick else list(CATEGORY_NAMES)
        pool = session_pool(leaves, args.seed)
        quick = args.quick
        run_phase(secret, "warmup", urls, pool, 8, 3 if quick else 15, None, args.seed)
        sweep = []
        if not quick:
            for n in (4, 8, 16):
                sweep.append(run_phase(secret, f"sweep{n}", urls, pool, n, 15, cpu, args.seed + n))
        main = run_phase(
            secret,
            "rules",
            urls,
            pool,
            8 if quick else args.shoppers,
            args.seconds,
            cpu,
            args.seed,
        )
        if sweep:
            sweep.append(main)
        embedded: list[Phase] = []
        if (args.embedded or not quick) and not args.url and not args.skip_embedded:
            print("embedded mode: starting the LLM server", file=sys.stderr)
            top.stop_workers()
            top.start_llm()
            setup["llm"] = top.llm_url
            top.start_workers(args.workers, llm_backend="openai")
            urls = [w.url for w in top.workers]
            llm_s = args.llm_seconds
            run_phase(secret, "llm-warmup", urls, pool, 1, min(10, llm_s / 4), None, args.seed)
            cpu = top.worker_cpu_s
            llm = top.llm_url
            embedded.append(
                run_phase(secret, "llm1", urls, pool, 1, llm_s / 2, cpu, args.seed, llm)
            )
            embedded.append(
                run_phase(secret, "llm4", urls, pool, 4, llm_s, cpu, args.seed + 1, llm)
            )
        return report(args, setup, sweep, main, embedded)
    finally:
        top.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="small world, 8 shoppers for 10 s, no LLM"
    )
    parser.add_argument("--url", action="append", default=[], help="a running worker (repeat)")
    parser.add_argument(
        "--pid", action="append", type=int, default=[], help="a worker's pid, for CPU (repeat)"
    )
    parser.add_argument(
        "--jwt-secret",
        default=os.environ.get("SHOPASSIST_JWT_SECRET", DEMO_JWT_SECRET),
        help="with --url: the workers' SHOPASSIST_JWT_SECRET, to sign load-tier tokens",
    )
    parser.add_argument("--workers", type=int, default=2, help="API workers to start (default 2)")
    parser.add_argument("--products", type=int, help="world size (default 2000; quick 160)")
    parser.add_argument("--shoppers", type=int, default=32, help="concurrent shoppers (32)")
    parser.add_argument("--seconds", type=float, help="main phase length (default 120; quick 10)")
    parser.add_argument("--skip-embedded", action="store_true", help="no embedded-LLM part")
    parser.add_argument(
        "--embedded", action="store_true", help="with --quick: run the embedded-LLM part too"
    )
    parser.add_argument(
        "--llm-seconds", type=float, help="embedded part: 4 shoppers this long, 1 half (90)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--output", help="also write the report to this markdown file")
    args = parser.parse_args()
    if args.products is None:
        args.products = 160 if args.quick else 2000
    if args.seconds is None:
        args.seconds = 10 if args.quick else 120
    if args.llm_seconds is None:
        args.llm_seconds = 20 if args.quick else 90
    table = run(args)
    print(table)
    if args.output:
        save(Path(args.output), table)
    errors = [line for line in table.splitlines() if line.startswith("| errors |")]
    return 0 if errors and errors[0].startswith("| errors | 0 of") else 1


if __name__ == "__main__":
    sys.exit(main())
