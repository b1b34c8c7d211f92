"""``python -m ranking.train``: a loadable artifact that beats random, clear errors, torchrun."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ranking.artifact import load_artifact, score_candidates
from ranking.features import CandidateTable, HistoryEvent, UserContext
from ranking.metrics import ndcg_at_k
from ranking.snapshot import read_snapshot
from ranking.tasks import build_task
from ranking.train import main
from tests.ranking._synthetic import make_snapshot

ROOT = Path(__file__).resolve().parents[2]
ARGS = ["--epochs", "3", "--negatives", "4", "--max-eval-groups", "150", "--threads", "1"]


@pytest.fixture(scope="module")
def snapshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("snapshot")
    make_snapshot(n_users=80, n_items=240, n_requests=1200, days=40, seed=2).write(path)
    return path


def _cli(*args: str | Path, torchrun: bool = False) -> subprocess.CompletedProcess[str]:
    head = [sys.executable, "-m"]
    if torchrun:
        head += ["torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [*head, *(["-m"] if torchrun else []), "ranking.train", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=env,
        check=False,
    )


@pytest.fixture(scope="module")
def trained_dir(snapshot_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("artifact")
    done = _cli(snapshot_dir, "--out", out, "--quiet", *ARGS)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["artifact"] == str(out)
    assert summary["rows"]["test"] > 0 and summary["train_rows_per_s"] > 0
    assert "Traceback" not in done.stderr and "RuntimeWarning" not in done.stderr
    return out


def test_cli_writes_an_artifact_that_beats_a_shuffled_ranking(
    trained_dir: Path, snapshot_dir: Path
) -> None:
    artifact = load_artifact(trained_dir)
    manifest = artifact.manifest
    assert manifest["snapshot"]["source"] == "tests.ranking._synthetic.make_snapshot"
    assert manifest["snapshot"]["counts"]["events"] > 0
    assert manifest["train"]["rows_per_s"] > 0 and manifest["train"]["world_size"] == 1
    # The same test split, rebuilt here (popularity over 30 days, the CLI's default): the
    # model's NDCG against a shuffled ranking.
    snapshot = read_snapshot(snapshot_dir)
    data = build_task(snapshot, negatives=4, max_eval_groups=150, seed=0, popularity_days=30)
    test = data.test
    scores = artifact.model.score(test.batch, "click")
    model_ndcg = ndcg_at_k(test.labels[:, 0], scores, test.groups, 10)
    shuffled = np.random.default_rng(0).permutation(len(test))
    random_ndcg = ndcg_at_k(test.labels[:, 0], scores[shuffled], test.groups, 10)
    assert model_ndcg == pytest.approx(artifact.metrics["click_ndcg@10"], abs=1e-6)
    assert model_ndcg > 2 * random_ndcg + 0.1, (model_ndcg, random_ndcg)
    assert artifact.metrics["click_auc"] > 0.7


def test_score_candidates_serves_one_request(trained_dir: Path) -> None:
    artifact = load_artifact(trained_dir)
    n = 5
    cands = CandidateTable(
        item_ids=["i1", "i2", "i3", "i4", "never-seen"],
        categories=["c1", "c2", "c3", "c4", "c5"],
        brands=["b1"] * n,
        similarity=np.zeros(n),
        price=np.full(n, 1000),
        final_price=np.full(n, 1000),
        has_deal=np.zeros(n, dtype=bool),
        needs_claim=np.zeros(n, dtype=bool),
        hours_left=np.zeros(n),
        popularity=np.ones(n),
        freshness_days=np.full(n, 10.0),
    )
    user = UserContext(hour=10, weekday=2, history=(HistoryEvent("i1", "c1", "b1", 2.0),))
    probs = score_candidates(artifact, cands, user)
    assert probs.shape == (n,) and ((probs > 0) & (probs < 1)).all()
    conversion = score_candidates(artifact, cands, user, head="conversion")
    assert not np.array_equal(probs, conversion)
    empty = CandidateTable([], [], [], *(np.zeros(0) for _ in range(8)))
    with pytest.raises(ValueError, match="no candidates to score"):
        score_candidates(artifact, empty, user)


def test_bad_snapshot_dir_exits_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(tmp_path / "missing"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        f"error: {tmp_path / 'missing'} is not a ranking snapshot: no manifest.json"
    ]
    assert not (tmp_path / "out").exists()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "manifest.json").write_text('{"format": "something/9"}')
    assert main([str(tmp_path / "other"), "--out", str(tmp_path / "out")]) == 2
    assert "holds snapshot format 'something/9'" in capsys.readouterr().err


def test_cuda_asked_for_without_cuda_is_a_clear_error(
    snapshot_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    assert main([str(snapshot_dir), "--out", str(tmp_path / "o"), "--device", "cuda"]) == 2
    assert "CUDA is not available" in capsys.readouterr().err


def test_help_lists_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in (
        "--out",
        "--epochs",
        "--device",
        "--max-train-positives",
        "--batch-size",
        "--history-negatives",
        "--department-share",
        "--recent-share",
        "--listwise",
        "--ema-decay",
    ):
        assert option in out


def test_an_ema_decay_outside_zero_to_one_exits_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main([str(tmp_path / "missing"), "--out", str(out), "--ema-decay", "1"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: --ema-decay must lie in [0, 1), got 1.0"
    ]
    assert not out.exists()


def test_torchrun_two_ranks_on_gloo(snapshot_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "ddp"
    args = ["--epochs", "2", "--negatives", "4", "--max-eval-groups", "150"]
    done = _cli(snapshot_dir, "--out", out, "--quiet", "--device", "cpu", *args, torchrun=True)
    assert done.returncode == 0, done.stderr[-3000:]
    summaries = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(summaries) == 1  # rank 0 alone reports and writes
    artifact = load_artifact(out)
    assert artifact.manifest["train"]["world_size"] == 2
    assert artifact.metrics["click_auc"] > 0.6


def test_department_groups_of_recent_requests_train_from_the_command_line(
    snapshot_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Complete Journey's benchmark recipe through ``python -m ranking.train``: the
    artifact records it, and a share outside its range is one line, not a traceback."""
    out = tmp_path / "dept"
    args = ["--quiet", "--epochs", "1", "--max-eval-groups", "50", "--threads", "1"]
    recipe = ["--department-share", "0.2", "--recent-share", "0.5"]
    assert main([str(snapshot_dir), "--out", str(out), *args, *recipe]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    train = load_artifact(out).manifest["train"]
    assert (train["department_share"], train["recent_share"]) == (0.2, 0.5)
    assert train["popularity_days"] == 30.0  # as serving counts popularity
    expected = build_task(
        read_snapshot(snapshot_dir),
        department_share=0.2,
        recent_train_share=0.5,
        max_eval_groups=50,
        progress=False,
    )
    assert summary["rows"]["train"] == len(expected.train)
    bad = tmp_path / "bad"
    assert main([str(snapshot_dir), "--out", str(bad), *args, "--recent-share", "0"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: recent_train_share must lie in (0, 1], got 0.0"
    ]
    assert main([str(snapshot_dir), "--out", str(bad), *args, "--popularity-days", "-1"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: popularity_days must be > 0 or None, got -1.0"
    ]
    assert not bad.exists()
