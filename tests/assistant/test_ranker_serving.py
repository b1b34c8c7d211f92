"""The trained ranker in the assistant: training from the logs, the gate, serving, the CLI.

One small demo world per module, on SQLite: the log tests' catalog (300 products in six leaves,
a dozen hand-written activities), 600 users and 20,000 logged impressions, indexed; its logs are
exported once and a small DIN ranker is trained once (seed 0, two epochs, 2,000 positives, four
negatives each). With these seeds it beats the heuristic on all 297 test groups with the 95%
interval of the NDCG@10 difference at about [+0.05, +0.12], so the gate promotes it and the
serving tests run on it. Tests that need a store without a promoted ranker (or with a broken
one) get a fresh ``var_dir`` over the same SQL store, holding a copy of the trained artifact.

Torch runs on one thread in this module: on a busy two-core machine two threads make the
training several times slower, and the seeded results are the same.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import torch
from sqlalchemy import select

from assistant.app import Shop
from assistant.config import Settings, get_settings
from assistant.conversation import Assistant
from assistant.conversation.ranking import (
    Candidate,
    HeuristicRanker,
    PastEvent,
    RankingContext,
    ShopperProfile,
)
from assistant.errors import InputError
from assistant.indexing import sync_catalog_index
from assistant.ranker_data import export_snapshot
from assistant.ranker_serving import (
    POPULARITY_DAYS,
    PROMOTED_FILE,
    GateReport,
    NeuralRanker,
    RankerInfo,
    heuristic_split_scores,
    list_rankers,
    load_serving_ranker,
    promote_ranker,
    promoted_ranker,
    train_ranker_from_logs,
)
from assistant.store import DecisionRecord, ProductRecord, make_engine, upgrade
from assistant.world.logs import generate_logs
from ranking import (
    FEATURE_SCHEMA_VERSION,
    DINConfig,
    DINRanker,
    Split,
    Vocabularies,
    build_task,
    load_artifact,
    ndcg_at_k,
    save_artifact,
)
from ranking.snapshot import Snapshot, read_snapshot
from tests.assistant.world.test_logs import NOW, _import_catalog
from ui.cli import main

TRAIN = {"seed": 0, "max_epochs": 2, "negatives": 4, "max_train_positives": 2000}
TRAIN_EVAL_GROUPS = 100
GATE_EVAL_GROUPS = 1000  # every test group of this world (297): the widest margin it offers
VERSION = re.compile(r"din-\d{8}T\d{6}Z-[0-9a-f]{4}")


@dataclass(frozen=True)
class World:
    """The module's demo world: its shop (``var_dir`` holds the index and the rankers), the
    export of its logs and the ranker trained on it."""

    shop: Shop
    snap: Snapshot
    info: RankerInfo

    @property
    def var(self) -> Path:
        return Path(self.shop.settings.var_dir)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    var = tmp_path_factory.mktemp("ranker-serving-var")
    settings = Settings(
        _env_file=None,
        var_dir=var,
        embedder="use",
        llm_backend="rules",
        currency="USD",
        shop_tz="UTC",
    )
    upgrade(settings.sqlalchemy_url)
    engine = make_engine(settings.sqlalchemy_url)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _import_catalog(engine, settings, tmp_path_factory.mktemp("ranker-serving-catalog"))
        shop = Shop(settings, engine)
        generate_logs(shop, users=600, min_impressions=20_000, seed=11, now=NOW, progress=False)
        sync_catalog_index(shop, progress=False, now=NOW)
        snap = export_snapshot(shop, progress=False)
        info = train_ranker_from_logs(
            shop, snapshot=snap, max_eval_groups=TRAIN_EVAL_GROUPS, progress=False, **TRAIN
        )
        yield World(shop, snap, info)
    finally:
        torch.set_num_threads(threads)
        engine.dispose()


@pytest.fixture(scope="module")
def gate(world: World) -> GateReport:
    """The trained ranker through the gate against the heuristic (it wins: module docs)."""
    return promote_ranker(
        world.shop,
        world.info.version,
        snapshot=world.snap,
        max_eval_groups=GATE_EVAL_GROUPS,
        progress=False,
    )


@pytest.fixture(scope="module")
def held_out(world: World) -> Split:
    """The gate's test split, under the trained ranker's vocabularies."""
    vocab = load_artifact(world.info.path).vocab
    data = build_task(
        world.snap, vocab=vocab, max_eval_groups=GATE_EVAL_GROUPS, seed=0, progress=False
    )
    return data.test


@pytest.fixture
def fresh(world: World, tmp_path: Path) -> Shop:
    """The world's SQL store with a new ``var_dir`` holding only a copy of the trained ranker
    (nothing promoted)."""
    var = tmp_path / "var"
    shutil.copytree(world.info.path, var / "rankers" / world.info.version)
    settings = world.shop.settings.model_copy(
        update={"var_dir": var, "database_url": world.shop.settings.sqlalchemy_url}
    )
    return Shop(settings, world.shop.engine)


def _pointer(shop: Shop) -> Path:
    return Path(shop.settings.var_dir) / "rankers" / PROMOTED_FILE


# --- training ----------------------------------------------------------------------------------


def test_training_writes_a_versioned_artifact_that_does_not_serve_yet(
    world: World, fresh: Shop
) -> None:
    info = world.info
    assert VERSION.fullmatch(info.version)
    assert info.path == world.var / "rankers" / info.version
    assert (info.path / "model.pt").is_file()
    manifest = json.loads((info.path / "manifest.json").read_text())
    assert manifest["schema_version"] == FEATURE_SCHEMA_VERSION
    assert manifest["feature_spec"]["version"] == FEATURE_SCHEMA_VERSION
    assert (manifest["version"], manifest["created_at"]) == (info.version, info.created_at)
    metrics = manifest["metrics"]
    assert info.metrics == metrics
    for key in ("click_ndcg@10", "click_hr@10", "click_auc", "click_logloss"):
        assert np.isfinite(metrics[key]), key
    assert 0 < metrics["click_ndcg@10"] <= metrics["click_hr@10"] <= 1
    assert 0.5 < metrics["click_auc"] <= 1
    assert manifest["snapshot"] == json.loads(json.dumps(dict(world.snap.manifest)))
    train = manifest["train"]
    assert train["seed"] == 0 and 1 <= train["epochs"] <= TRAIN["max_epochs"]
    assert train["rows"] > 0 and train["seconds"] >= 0 and train["rows_per_s"] > 0
    # Popularity counted as serving counts it: the 30 days before each request.
    assert train["popularity_days"] == POPULARITY_DAYS == 30
    assert set(manifest["valid_metrics"]) >= {"click_ndcg@10", "click_auc"}
    assert [i.version for i in list_rankers(world.shop)] == [info.version]

    # The same artifact where nothing was promoted: listed, not serving.
    assert list_rankers(fresh) == [
        RankerInfo(
            info.version,
            Path(fresh.settings.var_dir) / "rankers" / info.version,
            info.metrics,
            info.created_at,
        )
    ]
    assert promoted_ranker(fresh) is None
    assert not _pointer(fresh).exists()
    serving = load_serving_ranker(fresh)
    assert isinstance(serving, HeuristicRanker) and serving.version == "heuristic-1"


# --- the gate ----------------------------------------------------------------------------------


def test_the_gate_promotes_a_ranker_that_beats_the_heuristic(
    world: World, gate: GateReport, held_out: Split
) -> None:
    assert (gate.candidate, gate.serving) == (world.info.version, "heuristic-1")
    assert 0 < gate.groups <= GATE_EVAL_GROUPS
    assert 0 <= gate.serving_ndcg <= 1 and 0 <= gate.candidate_ndcg <= 1
    diff = gate.candidate_ndcg - gate.serving_ndcg
    assert gate.diff_low - 1e-9 <= diff <= gate.diff_high + 1e-9
    assert gate.diff_low < gate.diff_high
    assert gate.promoted == (gate.diff_low > 0)
    assert gate.promoted, f"the seeded world's ranker should win (module docs): {gate.reason}"
    assert "is above zero" in gate.reason
    # The serving side is the heuristic's formula on the same held-out groups.
    labels = held_out.labels[:, 0]
    heuristic = ndcg_at_k(labels, heuristic_split_scores(held_out), held_out.groups, 10)
    assert gate.serving_ndcg == pytest.approx(heuristic, abs=1e-12)

    pointer = json.loads(_pointer(world.shop).read_text())
    assert pointer["version"] == world.info.version
    assert pointer["gate"] == gate.to_json()
    serving = promoted_ranker(world.shop)
    assert serving is not None and serving.version == world.info.version
    with pytest.raises(InputError, match=f"ranker {world.info.version} already serves"):
        promote_ranker(world.shop, world.info.version, snapshot=world.snap, progress=False)


def _zero_weights(model: DINRanker) -> None:
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.zero_()


def _flat_calibration(model: DINRanker) -> None:
    model.calibration[:, 0] = 0.0  # every logit maps to the same probability


@pytest.mark.parametrize("serving", ["heuristic", "promoted"])
@pytest.mark.parametrize(
    "spoil",
    [pytest.param(_zero_weights, id="zeroed-weights"), pytest.param(_flat_calibration, id="flat")],
)
def test_the_gate_refuses_a_degenerate_candidate(
    spoil: Callable[[DINRanker], None],
    serving: str,
    world: World,
    fresh: Shop,
    held_out: Split,
    request: pytest.FixtureRequest,
) -> None:
    if serving == "promoted":
        request.getfixturevalue("gate")
        shutil.copyfile(_pointer(world.shop), _pointer(fresh))
    before = _pointer(fresh).read_bytes() if _pointer(fresh).exists() else None
    artifact = load_artifact(world.info.path)
    spoil(artifact.model)
    assert np.ptp(artifact.model.score(held_out.batch, "click")) == 0  # constant scores
    version = "din-20300615T120000Z-bad0"
    save_artifact(
        Path(fresh.settings.var_dir) / "rankers" / version,
        artifact.model,
        artifact.vocab,
        artifact.metrics,
        extra={"version": version, "created_at": "2030-06-15T12:00:00+00:00"},
    )

    report = promote_ranker(
        fresh, version, snapshot=world.snap, max_eval_groups=GATE_EVAL_GROUPS, progress=False
    )

    expected = world.info.version if serving == "promoted" else "heuristic-1"
    assert (report.candidate, report.serving) == (version, expected)
    assert not report.promoted and report.diff_low <= 0
    assert report.candidate_ndcg < report.serving_ndcg
    assert report.reason.startswith("refused: ")
    assert (_pointer(fresh).read_bytes() if _pointer(fresh).exists() else None) == before
    current = promoted_ranker(fresh)
    assert (current.version if current else "heuristic-1") == expected


def test_the_gate_refuses_an_unknown_version(world: World) -> None:
    with pytest.raises(InputError, match=r"unknown ranker 'nope' \(trained: din-"):
        promote_ranker(world.shop, "nope", snapshot=world.snap, progress=False)


# --- serving -----------------------------------------------------------------------------------


def test_a_promoted_ranker_ranks_the_turns(world: World, gate: GateReport) -> None:
    assistant = Assistant.from_shop(world.shop, seed=1)
    assert isinstance(assistant.ranker, NeuralRanker)
    assert assistant.ranker.version == world.info.version

    result = assistant.turn("ranker-shopper-1", "running shoes under $80", now=NOW)

    assert result.versions["ranker"] == world.info.version
    assert result.recommendations
    for rec in result.recommendations:
        assert rec.item.kind == "product"
        assert rec.item.final_price is not None and rec.item.final_price <= 8000
    with world.shop.sessions() as session:
        decision = session.get(DecisionRecord, result.decision_id)
        assert decision is not None and decision.ranker_version == world.info.version


def test_the_heuristic_setting_overrides_a_promoted_ranker(world: World, gate: GateReport) -> None:
    settings = world.shop.settings.model_copy(update={"ranker": "heuristic"})
    assert isinstance(load_serving_ranker(Shop(settings, world.shop.engine)), HeuristicRanker)


@pytest.fixture(scope="module")
def neural(world: World, gate: GateReport) -> NeuralRanker:
    ranker = load_serving_ranker(world.shop)
    assert isinstance(ranker, NeuralRanker)
    return ranker


@pytest.fixture(scope="module")
def shoes(world: World) -> list[Candidate]:
    """Twenty running shoes, every fourth on a deal ending in ten hours."""
    with world.shop.sessions() as session:
        rows = session.execute(
            select(
                ProductRecord.id, ProductRecord.price, ProductRecord.brand, ProductRecord.category
            )
            .where(ProductRecord.category == "shoes/running")
            .order_by(ProductRecord.id)
            .limit(20)
        ).all()
    rng = np.random.default_rng(0)
    out = []
    for n, (pid, price, brand, category) in enumerate(rows):
        assert price is not None
        deal = n % 4 == 0
        out.append(
            Candidate(
                kind="product",
                id=pid,
                similarity=float(rng.uniform(0.2, 0.7)),
                price=price,
                final_price=price * 4 // 5 if deal else price,
                has_deal=deal,
                brand=brand,
                category=category,
                ends_at=NOW + timedelta(hours=10) if deal else None,
            )
        )
    assert len(out) == 20 and len({c.final_price for c in out}) > 5
    return out


@pytest.mark.parametrize(
    "profile",
    [None, ShopperProfile(), ShopperProfile(member=True, new_user=False, segment="runners")],
    ids=["unknown", "empty", "member"],
)
def test_neural_scores_are_finite_one_per_candidate(
    neural: NeuralRanker, shoes: list[Candidate], profile: ShopperProfile | None
) -> None:
    scores = neural.score(shoes, RankingContext(now=NOW, profile=profile))
    assert scores.shape == (len(shoes),) and scores.dtype == np.float64
    assert np.isfinite(scores).all() and (scores >= 0).all()
    assert np.ptp(scores) > 0
    assert neural.score(shoes[:1], RankingContext(now=NOW)).shape == (1,)


def test_no_candidates_no_scores(neural: NeuralRanker) -> None:
    assert neural.score([], RankingContext(now=NOW)).shape == (0,)


@pytest.mark.parametrize("which", ["activities", "mixed", "unpriced"])
def test_what_the_ranker_was_not_trained_on_gets_the_heuristics_scores(
    neural: NeuralRanker, shoes: list[Candidate], which: str
) -> None:
    activities = [
        Candidate(kind="activity", id="A-coupon", similarity=0.6, has_deal=True, needs_claim=True),
        Candidate(kind="activity", id="A-runners", similarity=0.4, has_deal=True),
    ]
    unpriced = Candidate(kind="product", id=shoes[0].id, similarity=0.5, brand=shoes[0].brand)
    candidates = {
        "activities": activities,
        "mixed": [*shoes[:5], activities[0]],
        "unpriced": [*shoes[:5], unpriced],
    }[which]
    for ctx in (
        RankingContext(now=NOW),
        RankingContext(
            now=NOW,
            wants_deals=True,
            sort="price_asc",
            bought_brands=frozenset({shoes[1].brand.casefold()}),
        ),
    ):
        np.testing.assert_array_equal(
            neural.score(candidates, ctx), HeuristicRanker().score(candidates, ctx)
        )


def _top_mean_price(scores: np.ndarray, candidates: list[Candidate], k: int = 5) -> float:
    return float(np.mean([candidates[i].final_price for i in np.argsort(-scores)[:k]]))


def test_cheapest_first_lifts_the_cheaper_items(
    neural: NeuralRanker, shoes: list[Candidate]
) -> None:
    relevance = neural.score(shoes, RankingContext(now=NOW))
    cheapest = neural.score(shoes, RankingContext(now=NOW, sort="price_asc"))
    priciest = neural.score(shoes, RankingContext(now=NOW, sort="price_desc"))
    finals = np.array([c.final_price for c in shoes], dtype=np.float64)
    # The sort term is monotone in the final price: each cheaper item gains on each dearer one.
    lift = cheapest - relevance
    cheaper = finals[:, None] < finals[None, :]
    assert (lift[:, None] > lift[None, :])[cheaper].all()
    assert ((priciest - relevance)[:, None] < (priciest - relevance)[None, :])[cheaper].all()
    assert _top_mean_price(cheapest, shoes) < _top_mean_price(relevance, shoes)
    assert _top_mean_price(priciest, shoes) > _top_mean_price(relevance, shoes)
    low = int(np.argmin(finals))
    assert (cheapest > cheapest[low]).sum() <= (relevance > relevance[low]).sum()


def test_asking_for_deals_lifts_only_the_deals(
    neural: NeuralRanker, shoes: list[Candidate]
) -> None:
    plain = neural.score(shoes, RankingContext(now=NOW))
    deals = neural.score(shoes, RankingContext(now=NOW, wants_deals=True))
    on_deal = np.array([c.has_deal for c in shoes])
    assert (deals[on_deal] > plain[on_deal]).all()
    np.testing.assert_array_equal(deals[~on_deal], plain[~on_deal])


def test_the_shoppers_history_of_an_item_raises_its_score(
    neural: NeuralRanker, shoes: list[Candidate]
) -> None:
    """The user-item features (count, recency, category and brand shares) and DIN's attention
    read the history; for this trained ranker, having clicked an item lifts it."""
    base = RankingContext(now=NOW, profile=ShopperProfile(new_user=False))
    before = neural.score(shoes, base)
    target = int(np.argmin(before))
    item = shoes[target]
    history = tuple(
        PastEvent(item.id, item.category, item.brand, NOW - timedelta(days=days))
        for days in (1, 3, 7)
    )
    profile = ShopperProfile(new_user=False, history=history)
    after = neural.score(shoes, RankingContext(now=NOW, profile=profile))
    assert after[target] > before[target]
    assert (after > after[target]).sum() < (before > before[target]).sum()


# --- a broken promoted artifact ------------------------------------------------------------


def _other_schema(path: Path) -> None:
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["schema_version"] = "ranking-features/0"
    (path / "manifest.json").write_text(json.dumps(manifest))


def _truncated_weights(path: Path) -> None:
    weights = (path / "model.pt").read_bytes()
    (path / "model.pt").write_bytes(weights[: len(weights) // 2])


def _garbage_weights(path: Path) -> None:
    (path / "model.pt").write_bytes(b"not a torch file at all")


def _weights_of_another_model(path: Path) -> None:
    vocab = Vocabularies.fit(items=["a"], categories=["c"], brands=["b"], segments=["s"])
    torch.save(DINRanker(DINConfig.for_vocab(vocab)).state_dict(), path / "model.pt")


def _corrupt_manifest(path: Path) -> None:
    (path / "manifest.json").write_text('{"schema_version": ')


def _missing(path: Path) -> None:
    shutil.rmtree(path)


@pytest.mark.parametrize(
    "breakage",
    [
        pytest.param(_other_schema, id="other-schema"),
        pytest.param(_truncated_weights, id="truncated-weights"),
        pytest.param(_missing, id="missing"),
        pytest.param(_garbage_weights, id="garbage-weights"),
        pytest.param(_weights_of_another_model, id="weights-of-another-model"),
        pytest.param(_corrupt_manifest, id="corrupt-manifest"),
    ],
)
def test_a_broken_promoted_ranker_falls_back_to_the_heuristic(
    breakage: Callable[[Path], None], world: World, fresh: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    version = world.info.version
    _pointer(fresh).write_text(json.dumps({"version": version}))
    breakage(Path(fresh.settings.var_dir) / "rankers" / version)

    with caplog.at_level(logging.WARNING, logger="assistant.ranker_serving"):
        ranker = load_serving_ranker(fresh)

    assert isinstance(ranker, HeuristicRanker)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert version in warnings[0].getMessage()
    assert warnings[0].getMessage().endswith("the heuristic serves")


# --- the command line --------------------------------------------------------------------------


@pytest.fixture
def cli(
    world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Callable[..., tuple[int, str, str]]]:
    """Runs ``shopassist ...`` on the world's ``var_dir`` (configured through the environment);
    returns the exit status, stdout and stderr."""
    for name in [n for n in os.environ if n.startswith("SHOPASSIST_")]:
        monkeypatch.delenv(name)
    env = {
        "VAR_DIR": str(world.var),
        "EMBEDDER": "use",
        "LLM_BACKEND": "rules",
        "CURRENCY": "USD",
        "SHOP_TZ": "UTC",
    }
    for name, value in env.items():
        monkeypatch.setenv(f"SHOPASSIST_{name}", value)
    monkeypatch.chdir(tmp_path)  # no stray .env
    get_settings.cache_clear()
    capsys.readouterr()

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    yield run
    get_settings.cache_clear()


def test_cli_exports_a_training_snapshot(
    cli: Callable[..., tuple[int, str, str]], world: World, tmp_path: Path
) -> None:
    before = list_rankers(world.shop)
    code, out, err = cli("train", "ranker", "--export", str(tmp_path / "snap"), "--quiet")
    assert (code, err) == (0, "")
    assert out.startswith(f"training snapshot written to {tmp_path / 'snap'} (")
    back = read_snapshot(tmp_path / "snap")
    # Turns served by other tests log more events: compare with an export made now.
    expected = export_snapshot(world.shop, progress=False)
    assert back.manifest["counts"] == expected.manifest["counts"]
    assert back.manifest["counts"]["events"] >= world.snap.manifest["counts"]["events"]
    for name in ("items", "users", "events", "prices", "queries"):
        assert getattr(back, name).equals(getattr(expected, name)), name
    assert list_rankers(world.shop) == before  # exporting trains nothing


def test_cli_lists_the_rankers(
    cli: Callable[..., tuple[int, str, str]], world: World, gate: GateReport
) -> None:
    code, out, _ = cli("ranker", "list", "--json")
    listed = json.loads(out)
    assert code == 0 and listed["serving"] == world.info.version
    assert [r["version"] for r in listed["rankers"]] == [
        i.version for i in list_rankers(world.shop)
    ]
    (mine,) = [r for r in listed["rankers"] if r["version"] == world.info.version]
    assert mine["metrics"] == world.info.metrics
    code, out, _ = cli("ranker", "list")
    lines = out.splitlines()
    assert code == 0 and lines[0] == f"serving: {world.info.version}"
    assert any(line.startswith(f"* {world.info.version}  trained ") for line in lines[1:])


def test_cli_refuses_to_promote_an_unknown_version(
    cli: Callable[..., tuple[int, str, str]], world: World
) -> None:
    code, out, err = cli("ranker", "promote", "nope", "--quiet")
    assert (code, out) == (2, "")
    assert err.startswith("shopassist: error: unknown ranker 'nope' (trained: ")
    assert world.info.version in err and err.count("\n") == 1


def test_cli_if_missing_trains_nothing_while_a_ranker_serves(
    cli: Callable[..., tuple[int, str, str]], world: World, gate: GateReport
) -> None:
    before = (list_rankers(world.shop), _pointer(world.shop).read_bytes())
    code, out, err = cli("train", "ranker", "--if-missing", "--quiet")
    assert (code, err) == (0, "")
    assert out == (
        f"ranker {world.info.version} already serves; nothing to train (drop --if-missing)\n"
    )
    assert (list_rankers(world.shop), _pointer(world.shop).read_bytes()) == before


def test_cli_if_missing_replaces_a_promoted_ranker_of_an_older_schema(
    cli: Callable[..., tuple[int, str, str]],
    world: World,
    fresh: Shop,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """After a feature-schema bump the promoted artifact cannot load and the heuristic serves:
    ``--if-missing`` (what ``make run`` calls) must go on to train, not report it as serving.
    ``--export`` stops right after the check, so no training is needed to see it."""
    version = world.info.version
    _pointer(fresh).write_text(json.dumps({"version": version}))
    _other_schema(Path(fresh.settings.var_dir) / "rankers" / version)
    monkeypatch.setenv("SHOPASSIST_VAR_DIR", str(fresh.settings.var_dir))
    monkeypatch.setenv("SHOPASSIST_DATABASE_URL", fresh.settings.sqlalchemy_url)
    get_settings.cache_clear()
    code, out, err = cli(
        "train", "ranker", "--if-missing", "--quiet", "--export", str(tmp_path / "snap")
    )
    assert (code, err) == (0, "")
    first, *rest = out.splitlines()
    assert first.startswith(f"ranker {version} is promoted but cannot serve (")
    assert "ranking-features/0" in first and first.endswith("; training a new one")
    assert rest[0].startswith(f"training snapshot written to {tmp_path / 'snap'}")


def test_the_gate_compares_against_the_heuristic_when_the_promoted_ranker_cannot_load(
    world: World, fresh: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    rankers = Path(fresh.settings.var_dir) / "rankers"
    shutil.copytree(rankers / world.info.version, rankers / "old-schema")
    _other_schema(rankers / "old-schema")
    _pointer(fresh).write_text(json.dumps({"version": "old-schema"}))
    with caplog.at_level(logging.WARNING, logger="assistant.ranker_serving"):
        report = promote_ranker(
            fresh,
            world.info.version,
            snapshot=world.snap,
            max_eval_groups=GATE_EVAL_GROUPS,
            progress=False,
        )
    assert report.serving == HeuristicRanker.version
    assert report.promoted
    assert json.loads(_pointer(fresh).read_text())["version"] == world.info.version
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.startswith("promoted ranker old-schema cannot load (")
