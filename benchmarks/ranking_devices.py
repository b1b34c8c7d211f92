"""Ranker training speed by device: ``python -m ranking.train`` on the CPU and, where present, CUDA.

    .venv/bin/python benchmarks/ranking_devices.py --quick      # smoke run (make test), CPU
    .venv/bin/python benchmarks/ranking_devices.py --output docs/ranking-devices.md
    python3 benchmarks/ranking_devices.py --snapshot demo=SNAP_DIR --snapshot cj=SNAP_DIR

Each run trains an exported snapshot (``shopassist train ranker --export DIR``) through the
standalone trainer in a fresh process, exactly as a user would on another machine, and reads
the artifact's per-epoch timings: ``loop`` is the optimisation steps alone, ``valid`` the
validation pass that early stopping reads, ``total`` everything ``ranking.train`` times
(moving the data to the device, the epochs, calibration). The speed-up column compares the
loop with the CPU run of the same snapshot and batch size. With ``--snapshot`` the script needs
only torch, numpy, pyarrow and tqdm (what ``ranking.train`` needs), so it runs on a GPU machine
that has no project install; without it, the demo world and The Complete Journey snapshots are
built here first (that needs the project's venv).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(1, str(REPO / "benchmarks"))

import torch  # noqa: E402


@dataclass(frozen=True)
class Run:
    """One training run's settings."""

    snapshot: str
    path: Path
    device: str
    batch_size: int


def _build_snapshots(quick: bool, where: Path) -> dict[str, Path]:
    """Export the demo world (built here, seeded) and The Complete Journey as snapshots."""
    from _ranking_data import complete_journey_snapshot

    from assistant.app import Shop
    from assistant.config import Settings
    from assistant.ranker_data import export_snapshot
    from assistant.world.demo import build_demo

    out: dict[str, Path] = {}
    out["complete-journey"] = Path(
        complete_journey_snapshot(
            min_item_purchases=400 if quick else 20, progress=not quick
        ).write(where / "complete-journey")
    )
    if quick:  # the smoke run needs one snapshot; the small CJ one builds in seconds
        return out
    settings = Settings(_env_file=None, var_dir=where / "var", embedder="use")  # type: ignore[call-arg]
    shop = Shop.from_settings(settings)
    try:
        build_demo(shop, products=5000, progress=True)
        out["demo"] = Path(export_snapshot(shop, progress=True).write(where / "demo"))
    finally:
        shop.engine.dispose()
    return out


def _train(run: Run, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """Train once in a fresh ``python -m ranking.train`` process; its summary and timings."""
    artifact = out / f"{run.snapshot}-{run.device}-{run.batch_size}"
    command = [
        sys.executable,
        "-m",
        "ranking.train",
        str(run.path),
        "--out",
        str(artifact),
        "--device",
        run.device,
        "--batch-size",
        str(run.batch_size),
        "--epochs",
        str(args.epochs),
        "--seed",
        "0",
        "--max-eval-groups",
        str(args.max_eval_groups),
        "--quiet",
    ]
    if args.max_train_positives:
        command += ["--max-train-positives", str(args.max_train_positives)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["(no output)"]
        raise SystemExit(f"error: {run} failed with exit status {done.returncode}: {tail[0]}")
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    history = json.loads((artifact / "manifest.json").read_text())["train"]["history"]
    loop = sum(epoch.get("train_s", float("nan")) for epoch in history)
    return {
        "rows": summary["rows"]["train"],
        "epochs": summary["epochs"],
        "loop_s": loop,
        "valid_s": sum(epoch.get("valid_s", float("nan")) for epoch in history),
        "total_s": summary["train_seconds"],
        "wall_s": wall,
        "ndcg": summary["test"].get("click_ndcg@10", float("nan")),
    }


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA device"
    return (
        f"CPU {cpu}, {os.cpu_count()} cores; GPU: {gpu}; torch {torch.__version__}, "
        f"Python {platform.python_version()}"
    )


def report(results: list[tuple[Run, dict[str, Any]]], args: argparse.Namespace) -> str:
    """The markdown report: one row per run."""
    cpu_loop = {
        (run.snapshot, run.batch_size): result["loop_s"]
        for run, result in results
        if run.device == "cpu"
    }
    lines = [
        "# Ranker training speed by device",
        "",
        f"{time.strftime('%Y-%m-%d')}, {_machine()}. `python -m ranking.train SNAPSHOT --device D "
        f"--batch-size B --epochs {args.epochs} --max-eval-groups {args.max_eval_groups}"
        + (f" --max-train-positives {args.max_train_positives}" if args.max_train_positives else "")
        + "`, seed 0, one fresh process per run; loop = optimisation steps, valid = the "
        "validation pass per epoch, total = what the trainer times (data to the device, "
        "epochs, calibration).",
        "",
        "| snapshot | device | batch | train rows | loop s | loop rows/s | valid s | total s "
        "| test NDCG@10 | loop speed-up vs CPU |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run, result in results:
        base = cpu_loop.get((run.snapshot, run.batch_size))
        speedup = f"{base / result['loop_s']:.2f}x" if base and result["loop_s"] > 0 else "n/a"
        rate = result["rows"] * result["epochs"] / result["loop_s"] if result["loop_s"] else 0
        lines.append(
            f"| {run.snapshot} | {run.device} | {run.batch_size} | {result['rows']:,} | "
            f"{result['loop_s']:.2f} | {rate:,.0f} | {result['valid_s']:.2f} | "
            f"{result['total_s']:.2f} | {result['ndcg']:.4f} | {speedup} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Ranker training speed on the CPU and, where present, CUDA.",
        epilog="Without --snapshot it builds the demo world's and The Complete Journey's "
        "snapshots first (needs the project's venv).",
    )
    parser.add_argument("--quick", action="store_true", help="small snapshot, CPU, batch 512")
    parser.add_argument(
        "--snapshot",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="an exported snapshot to train (repeatable); default: build demo and CJ",
    )
    parser.add_argument(
        "--devices",
        nargs="+",
        choices=("cpu", "cuda"),
        default=None,
        help="default: cpu, and cuda where torch sees a GPU",
    )
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=None, help="(512 4096)")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per run (1)")
    parser.add_argument(
        "--max-train-positives", type=int, default=None, metavar="N", help="(all; quick: 300)"
    )
    parser.add_argument(
        "--max-eval-groups", type=int, default=None, metavar="N", help="(300; quick: 30)"
    )
    parser.add_argument("--output", type=Path, default=None, help="write the report here")
    args = parser.parse_args(argv)
    devices = args.devices or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    if "cuda" in devices and not torch.cuda.is_available():
        parser.error("--devices cuda: torch sees no CUDA device here")
    batch_sizes = args.batch_sizes or ([512] if args.quick else [512, 4096])
    if args.quick:
        args.max_train_positives = args.max_train_positives or 300
    args.max_eval_groups = args.max_eval_groups or (30 if args.quick else 300)
    with tempfile.TemporaryDirectory(prefix="shopassist-devices-") as tmp:
        work = Path(tmp)
        snapshots: dict[str, Path] = {}
        for item in args.snapshot:
            name, sep, path = item.partition("=")
            if not sep or not Path(path).is_dir():
                parser.error(f"--snapshot {item!r}: expected NAME=DIR with an existing DIR")
            snapshots[name] = Path(path)
        if not snapshots:
            snapshots = _build_snapshots(args.quick, work)
        runs = [
            Run(name, path, device, batch)
            for name, path in snapshots.items()
            for batch in batch_sizes
            for device in devices
        ]
        results = []
        for number, run in enumerate(runs, 1):
            print(f"[{number}/{len(runs)}] {run.snapshot} on {run.device}, batch {run.batch_size}")
            results.append((run, _train(run, args, work)))
    text = report(results, args)
    print(text)
    if args.output is not None:
        from _report import save

        save(args.output, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
