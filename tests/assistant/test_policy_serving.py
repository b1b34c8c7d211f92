"""Serving policies from SQL: snapshots, the updater, off-policy evaluation and the gate, on
logged decisions written to SQLite and PostgreSQL.

The logs are simulated so the truth is known: each decision shows 3 of 10 products chosen by
epsilon-greedy (epsilon 0.5) over the ranker's scores, and a shopper clicks the best-scored
product far more often than the others, the more so the higher it is shown. So a greedy
candidate truly beats what served, a uniform one truly loses, and a LinUCB that learns from the
logged feedback should find the greedy rule.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from assistant.app import Shop
from assistant.config import Settings
from assistant.errors import InputError, PromotionRefused
from assistant.policy_serving import (
    FEATURES,
    PolicyServer,
    candidate_features,
    create_policy,
    evaluate_policy,
    fairness_from_logs,
    list_policies,
    load_rounds,
    logged_version,
    promote_policy,
    serving_policy,
    set_shadow,
    start_ab,
    stop_ab,
    update_policy,
)
from assistant.store import (
    DecisionRecord,
    FeedbackRecord,
    ImpressionRecord,
    ProductData,
    get_or_create_user,
    make_engine,
    upsert_products,
)
from assistant.store.policies import latest_policy_evaluation, promote_policy_snapshot
from policy import EpsilonGreedy
from ui.policy_cli import FAMILIES as CLI_FAMILIES
from ui.policy_cli import REWARDS as CLI_REWARDS

START = datetime(2026, 11, 1, tzinfo=UTC)
N_ITEMS = 10
LOGGING = EpsilonGreedy(epsilon=0.5, top=N_ITEMS)
EXAMINATION = (1.0, 0.5, 0.25)  # shoppers look at the first card most (position bias)


def _log(shop: Shop, n_decisions: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    with shop.sessions.begin() as session:
        get_or_create_user(session, "U1", now=START)
        get_or_create_user(session, "U2", now=START).member = True
        upsert_products(
            session,
            [
                ProductData(f"P{i}", f"Item {i}", "home", "Acme", 1000 + 250 * i, "USD")
                for i in range(N_ITEMS)
            ],
            now=START,
        )
        for d in range(n_decisions):
            at = START + timedelta(minutes=d)
            scores = rng.random(N_ITEMS)
            slate = LOGGING.select(scores, 3, rng)
            best = int(np.argmax(scores))
            chosen = [f"P{i}" for i in slate.indices]
            session.add(
                DecisionRecord(
                    id=f"d{d}",
                    turn_id=f"t{d}",
                    user_id="U2" if d % 4 == 0 else "U1",
                    created_at=at,
                    candidate_ids=[f"P{i}" for i in range(N_ITEMS)],
                    scores=scores.round(6).tolist(),
                    propensities=list(slate.propensities),
                    chosen_ids=chosen,
                    positions=[0, 1, 2],
                    ranker_version="r1",
                    policy_version=logged_version(LOGGING),
                    params_version="-",
                    context={"final_prices": [1000 + 250 * i for i in slate.indices]},
                )
            )
            session.flush()
            for pos, (i, p) in enumerate(zip(slate.indices, slate.propensities, strict=True)):
                imp = f"d{d}-{pos}"
                session.add(
                    ImpressionRecord(
                        id=imp,
                        decision_id=f"d{d}",
                        position=pos,
                        kind="product",
                        item_id=f"P{i}",
                        propensity=p,
                        created_at=at,
                    )
                )
                session.flush()
                if rng.random() < (0.7 if i == best else 0.03) * EXAMINATION[pos]:
                    session.add(
                        FeedbackRecord(
                            event_id=f"{imp}-click",
                            impression_id=imp,
                            type="click",
                            created_at=at + timedelta(seconds=5),
                        )
                    )


@pytest.fixture
def shop(db_url: str, tmp_path: Path) -> Shop:
    settings = Settings(  # type: ignore[call-arg]
        currency="USD", shop_tz="UTC", database_url=db_url, var_dir=tmp_path, _env_file=None
    )
    return Shop(settings, make_engine(settings.sqlalchemy_url))


@pytest.fixture
def logged(shop: Shop) -> Shop:
    _log(shop, 400)
    return shop


def test_the_cli_offers_exactly_the_families_and_rewards_the_assistant_knows() -> None:
    from assistant.policy_serving import FAMILIES, REWARDS

    assert (CLI_FAMILIES, CLI_REWARDS) == (FAMILIES, REWARDS)


def test_features_describe_score_rank_kind_and_relative_price() -> None:
    x = candidate_features(np.array([0.2, 0.9, 0.5]), [False, False, True], [1000, 4000, None])
    assert x.shape == (3, len(FEATURES))
    assert x[:, 0].tolist() == [1.0, 1.0, 1.0]
    assert x[:, 1].tolist() == pytest.approx([0.0, 1.0, 3 / 7])
    assert x[:, 2].tolist() == pytest.approx([1 / 3, 1.0, 1 / 2])
    assert x[:, 3].tolist() == [0.0, 0.0, 1.0]
    assert x[2, 4] == 0.0 and x[0, 4] < 0.0 < x[1, 4]


def test_the_default_serves_until_a_policy_is_promoted(shop: Shop) -> None:
    version, policy = serving_policy(shop)
    assert version == "epsilon_greedy:1:epsilon=0.1:top=100" == logged_version(policy)
    created = create_policy(shop, "linucb", alpha=0.5)
    assert serving_policy(shop)[0] == version
    rows = list_policies(shop)
    assert [(r["version"], r["serving"]) for r in rows] == [(created, False)]
    assert create_policy(shop, "linucb", alpha=0.5) == created  # same policy, same version


def test_logged_rounds_carry_rewards_and_propensities(logged: Shop) -> None:
    rounds = load_rounds(logged)
    assert len(rounds) == 400 and rounds.row_reward.size == 1200
    assert 0.0 < rounds.row_pscore.min() <= rounds.row_pscore.max() <= 1.0
    assert 0.03 < rounds.row_reward.mean() < 0.4
    assert rounds.features[0].shape == (N_ITEMS, len(FEATURES))
    assert load_rounds(logged, reward="purchase").row_reward.sum() == 0


def test_a_truly_better_candidate_is_promoted_and_workers_reload_it(logged: Shop) -> None:
    server = PolicyServer(logged, reload_s=0.0)
    assert server.current().version == "1:epsilon=0.1:top=100"
    greedy = create_policy(logged, "greedy", top=N_ITEMS)
    result = promote_policy(logged, greedy, n_bootstrap=300)
    assert result.gate.promote and result.gate.low > 0
    ips = next(e for e in result.estimates if e["name"] == "IPS")
    assert float(ips["value"]) > result.logged  # greedy truly clicks more than epsilon 0.5
    assert {e["name"] for e in result.estimates} == {"IPS", "SNIPS", "DM", "DR"}
    assert serving_policy(logged)[0] == greedy
    assert logged_version(server.current()) == greedy
    with logged.sessions() as session:
        evaluation = latest_policy_evaluation(session)
        assert evaluation is not None and evaluation.promoted
        assert evaluation.candidate_version == greedy


def test_a_worse_candidate_is_refused_and_nothing_changes(logged: Shop) -> None:
    uniform = create_policy(logged, "epsilon_greedy", epsilon=1.0, top=N_ITEMS)
    with pytest.raises(PromotionRefused, match="refused: click per position: candidate"):
        promote_policy(logged, uniform, n_bootstrap=300)
    assert serving_policy(logged)[0] == "epsilon_greedy:1:epsilon=0.1:top=100"
    with logged.sessions() as session:
        evaluation = latest_policy_evaluation(session)
        assert evaluation is not None and not evaluation.promoted
        assert evaluation.report["gate"]["high"] < 0


def test_the_updater_folds_feedback_into_a_new_serving_version_that_learns(logged: Shop) -> None:
    fresh = create_policy(logged, "linucb", alpha=0.1, epsilon=0.05, top=N_ITEMS)
    promote_policy(logged, fresh, n_bootstrap=200, force=True)
    learned = update_policy(logged)
    assert learned != fresh and serving_policy(logged)[0] == learned
    rows = {r["version"]: r for r in list_policies(logged)}
    assert rows[learned]["parent"] == fresh and rows[learned]["n_folded"] == 1200
    assert update_policy(logged) == learned  # nothing new to fold
    with pytest.raises(InputError, match=f"policy {learned} already serves"):
        promote_policy(logged, learned)
    # It learned that the best-ranked item gets the clicks: it now beats what served.
    assert evaluate_policy(logged, learned, n_bootstrap=300).gate.promote
    _, policy = serving_policy(logged)
    theta = policy.mean  # type: ignore[attr-defined]
    assert theta[FEATURES.index("score_reciprocal_rank")] > 0.2


def test_bad_requests_are_refused_with_what_to_do(shop: Shop) -> None:
    with pytest.raises(InputError, match="unknown policy family 'bandit'"):
        create_policy(shop, "bandit")
    with pytest.raises(InputError, match="bad parameters for linucb"):
        create_policy(shop, "linucb", alpha=-1.0)
    with pytest.raises(InputError, match="unknown policy version 'nope'"):
        evaluate_policy(shop, "nope")
    with pytest.raises(InputError, match="no policy is promoted yet"):
        update_policy(shop)
    version = create_policy(shop, "greedy")
    with pytest.raises(InputError, match="only 0 logged decisions with propensities"):
        evaluate_policy(shop, version)
    with pytest.raises(InputError, match="unknown reward 'likes'"):
        load_rounds(shop, reward="likes")


def test_roles_need_a_stored_policy_and_an_experiment_needs_two_policies(shop: Shop) -> None:
    with pytest.raises(InputError, match="unknown policy version 'nope'"):
        set_shadow(shop, "nope")
    with pytest.raises(InputError, match="unknown policy version 'nope'"):
        start_ab(shop, "nope", share=0.2)
    greedy = create_policy(shop, "greedy")
    with shop.sessions.begin() as session:
        promote_policy_snapshot(session, greedy, now=START)
    with pytest.raises(InputError, match="already serves everyone"):
        start_ab(shop, greedy)
    server = PolicyServer(shop, reload_s=0.0)
    uniform = create_policy(shop, "epsilon_greedy", epsilon=1.0)
    set_shadow(shop, uniform)
    assert server.shadow() is not None and logged_version(server.shadow()) == uniform  # type: ignore[arg-type]
    start_ab(shop, uniform, share=0.3, salt="s1")
    arms = [server.for_user(f"user-{i}")[1] for i in range(400)]
    assert arms == [server.for_user(f"user-{i}")[1] for i in range(400)]  # sticky
    assert 0.22 < arms.count("candidate") / 400 < 0.38
    assert stop_ab(shop) and not stop_ab(shop)
    assert server.for_user("user-1") == (server.current(), None)


def test_fairness_reports_exposure_and_prices_per_segment(logged: Shop) -> None:
    report = fairness_from_logs(logged)
    stats = {s.segment: s for s in report.segments}
    assert set(stats) == {"member", "new"}
    assert (stats["member"].impressions, stats["new"].impressions) == (300, 900)
    assert stats["member"].impression_share == pytest.approx(0.25)
    assert all(s.priced == s.impressions for s in stats.values())
    assert 1000 <= (stats["new"].mean_final_price or 0) <= 1000 + 250 * (N_ITEMS - 1)
    assert "member" in report.to_markdown()
    with pytest.raises(InputError, match="no impressions were logged"):
        fairness_from_logs(logged, since=START + timedelta(days=30))
