"""The turn pipeline serves through the promoted policy and logs what off-policy evaluation needs;
a shadow policy's choice and the A/B arm are logged with every decision; the no-promotion
holdout never hides deals from a shopper who asked for them.

Each test works on its own copy of the served demo world, since promoting a policy changes what
every later turn of that world would choose.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from assistant.app import Shop
from assistant.conversation import Assistant
from assistant.errors import InputError
from assistant.policy_serving import (
    DEFAULT_POLICY as DEFAULT,
)
from assistant.policy_serving import (
    FEATURES,
    ab_readout_now,
    create_policy,
    load_rounds,
    logged_version,
    policy_snapshot,
    set_shadow,
    start_ab,
    stop_ab,
)
from assistant.store import DecisionRecord, ImpressionRecord
from assistant.store.policies import promote_policy_snapshot, save_policy_snapshot
from policy import ControlArm, PromotionArm
from policy.linear import LinUCB

from .conftest import NOW, served_shop


@pytest.fixture
def own_shop(served_var: Path, tmp_path: Path) -> Iterator[Shop]:
    var = tmp_path / "var"
    shutil.copytree(served_var, var)
    shop = served_shop(var)
    yield shop
    shop.engine.dispose()


def _learned_linucb() -> LinUCB:
    rng = np.random.default_rng(0)
    x = rng.random((300, len(FEATURES)))
    x[:, 0] = 1.0
    rewards = (x[:, 2] > 0.5).astype(float)  # the best-ranked get the clicks
    return LinUCB(len(FEATURES), alpha=0.2, epsilon=0.2, top=100).fold(
        x, np.zeros(300, dtype=np.int64), rewards
    )


def test_turns_serve_the_promoted_policy_and_log_exact_propensities(own_shop: Shop) -> None:
    policy = _learned_linucb()
    version = logged_version(policy)
    with own_shop.sessions.begin() as session:
        save_policy_snapshot(session, "linucb", policy_snapshot(policy), version=version, now=NOW)
        promote_policy_snapshot(session, version, now=NOW)
    assistant = Assistant.from_shop(own_shop, seed=5)
    results = [
        assistant.turn("u-policy", text, now=NOW)
        for text in ("running shoes", "a coffee maker", "yoga mat please")
    ]
    assert all(r.versions["policy"] == version for r in results)
    with own_shop.sessions() as session:
        decisions = session.scalars(
            select(DecisionRecord).where(DecisionRecord.user_id == "u-policy")
        ).all()
        impressions = session.scalars(
            select(ImpressionRecord).where(
                ImpressionRecord.decision_id.in_([d.id for d in decisions])
            )
        ).all()
    assert len(decisions) == 3 and {d.policy_version for d in decisions} == {version}
    assert all(d.context["constraints"]["arm"] for d in decisions)
    # Rebuilt from SQL alone, the policy gives each shown card the propensity that was logged.
    rounds = load_rounds(own_shop)
    logged = {(i.decision_id, i.position): i.propensity for i in impressions}
    checked = 0
    mine = {d.id for d in decisions}  # the copied world may hold other tests' decisions
    for row in range(rounds.row_reward.size):
        d = int(rounds.row_decision[row])
        if rounds.decision_ids[d] not in mine:
            continue
        probs = policy.position_probabilities(
            rounds.scores[d], 3, features=rounds.features[d], allow_short=True
        )
        pos = int(rounds.row_position[row])
        key = (rounds.decision_ids[d], pos)
        assert probs[pos, rounds.row_action[row]] == pytest.approx(logged[key], abs=1e-6)
        checked += 1
    assert checked == len(impressions) == 9


def _control_user() -> str:
    arm = ControlArm()
    return next(
        f"u-holdout-{i}"
        for i in range(10_000)
        if arm.arm(f"u-holdout-{i}", wants_deals=False) is PromotionArm.CONTROL
    )


def test_the_holdout_sees_no_promotion_unless_it_asks_for_deals(own_shop: Shop) -> None:
    assistant = Assistant.from_shop(own_shop, seed=2)
    user = _control_user()
    plain = assistant.turn(user, "running shoes", now=NOW)
    assert plain.recommendations
    assert all(r.item.kind == "product" for r in plain.recommendations)
    asked = assistant.turn(user, "any coupons or deals for running shoes?", now=NOW)
    assert asked.recommendations
    with own_shop.sessions() as session:
        arms = [
            session.get_one(DecisionRecord, r.decision_id).context["constraints"]["arm"]
            for r in (plain, asked)
        ]
    assert arms == ["control", "control_asked_for_deals"]


def test_shadow_and_ab_are_logged_and_sticky(own_shop: Shop) -> None:
    candidate = create_policy(own_shop, "greedy", top=100)
    shadow = create_policy(own_shop, "epsilon_greedy", epsilon=1.0, top=100)
    set_shadow(own_shop, shadow)
    salt = start_ab(own_shop, candidate, share=0.5, salt="exp-test")
    assistant = Assistant.from_shop(own_shop, seed=4)
    users = [f"u-ab-{i}" for i in range(6)]
    results = {
        user: [assistant.turn(user, text, now=NOW) for text in ("running shoes", "a yoga mat")]
        for user in users
    }
    arms: dict[str, set[str]] = {}
    with own_shop.sessions() as session:
        for user, turns in results.items():
            for r in turns:
                decision = session.get_one(DecisionRecord, r.decision_id)
                ab = decision.context["ab"]
                assert ab["salt"] == salt
                arms.setdefault(user, set()).add(ab["arm"])
                expected = candidate if ab["arm"] == "candidate" else logged_version(DEFAULT)
                assert decision.policy_version == expected == r.versions["policy"]
                logged_shadow = decision.context["shadow"]
                assert logged_shadow["version"] == shadow
                assert len(logged_shadow["chosen_ids"]) == 3
                assert set(logged_shadow["chosen_ids"]) <= set(decision.candidate_ids)
    assert all(len(a) == 1 for a in arms.values())  # sticky: one arm per user
    assert {a for (a,) in arms.values()} == {"serving", "candidate"}
    readout = ab_readout_now(own_shop)
    assert {a.name for a in readout.arms} == {"serving", "candidate"}
    assert sum(a.trials for a in readout.arms) == len(users)
    set_shadow(own_shop, None)
    assert stop_ab(own_shop)
    with pytest.raises(InputError, match="no A/B test runs"):
        ab_readout_now(own_shop)
    with pytest.raises(InputError, match="strictly between 0 and 1"):
        start_ab(own_shop, candidate, share=1.0)
