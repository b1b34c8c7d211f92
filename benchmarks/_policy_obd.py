"""Policy benchmark sections: the Open Bandit Dataset protocol, and agreement with obp.

Called by ``benchmarks/policy.py`` (each returns markdown):

* :func:`obd_section`: for each campaign of the Open Bandit Dataset sample (obp 0.5.7), learn
  the candidate declared in ``docs/policy.md`` ("Open Bandit Dataset candidates": ``ItemCTR``,
  position-based click model, prior 200, served ``EpsilonGreedy(0.1)`` for a top-3 slate) on
  the first 70% by time of the Bernoulli TS log, and estimate its click rate off-policy (IPS,
  SNIPS, DM, DR with 95% bootstrap intervals) on the same campaign's uniformly random log,
  against the logging policies' on-policy click rates.
* :func:`obp_agreement_section`: our estimators against obp's on the same logs (the OBD random
  log with that candidate, and a synthetic top-3 slate log for slate IPS).

    .venv/bin/python -c "import sys; sys.path[:0] = ['benchmarks', '.']; \\
        import _policy_obd as m; print(m.obd_section(quick=True, seed=0))"
"""

from __future__ import annotations

import importlib
import sys
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from policy._ope_data import OBD_CAMPAIGNS, load_obd, synthetic_slate_log  # noqa: E402
from policy.item_ctr import ItemCTR  # noqa: E402
from policy.ope import (  # noqa: E402
    BanditLogs,
    bootstrap_interval,
    dm,
    dr,
    evaluate,
    fit_reward_model,
    ips,
    sips,
    snips,
)

# The declared candidate (docs/policy.md, "Open Bandit Dataset candidates"): do not tune.
PRIOR_STRENGTH = 200.0
EPSILON = 0.1
TRAIN_FRACTION = 0.7
N_FOLDS = 3
PAPER_CTR = {"random": 0.0035, "bts": 0.0050}
"""Full-data click rates of the `all` campaign in the dataset paper (Saito et al. 2020)."""


@lru_cache(maxsize=4)
def _case(campaign: str, seed: int) -> tuple[BanditLogs, np.ndarray, np.ndarray, dict[str, Any]]:
    """The random log, the candidate's action_dist, the cross-fitted q-hat, and facts."""
    bts = load_obd("bts", campaign)
    train = bts.head(TRAIN_FRACTION)
    test = bts.tail(1.0 - TRAIN_FRACTION)
    logs = load_obd("random", campaign).logs
    model = ItemCTR.fit(
        train.action,
        train.position,
        train.reward,
        n_actions=train.n_actions,
        len_list=train.len_list,
        prior_strength=PRIOR_STRENGTH,
    )
    dist = np.ascontiguousarray(model.action_dist(logs.n_rounds, EPSILON))
    q_hat = fit_reward_model(logs, n_folds=N_FOLDS, seed=seed)
    facts = {
        "train": train,
        "test": test,
        "top": [int(i) for i in np.argsort(-model.theta)[: train.len_list]],
        "kappa": model.kappa,
        "model_value": model.value(EPSILON),
    }
    return logs, dist, q_hat, facts


def _pct(value: float) -> str:
    return f"{100 * value:.3f}%"


def _interval(low: float, high: float) -> str:
    return f"[{_pct(low)}, {_pct(high)}]"


def obd_section(*, quick: bool, seed: int) -> str:
    """The Open Bandit Dataset table: candidate estimates vs the logging policies.

    Args:
        quick: One campaign (``all``) and 200 bootstrap resamples instead of three and 1,000.
        seed: Seeds the bootstrap and the reward model's folds.

    Returns:
        Markdown: protocol, one table, and a verdict line per campaign.
    """
    started = time.perf_counter()
    campaigns = ("all",) if quick else OBD_CAMPAIGNS
    n_bootstrap = 200 if quick else 1000
    lines = [
        "## Open Bandit Dataset (obp 0.5.7 sample, ZOZOTOWN)",
        "",
        "Candidate declared in `docs/policy.md` before the run: `ItemCTR` (position-based click "
        f"model, prior {PRIOR_STRENGTH:g} examinations) learned on the first "
        f"{TRAIN_FRACTION:.0%} by time of the Bernoulli TS log, served as "
        f"`EpsilonGreedy(epsilon={EPSILON})` top-3; evaluated off-policy on the same campaign's "
        "uniformly random log (10,000 rows). Values are clicks per shown position; intervals "
        f"are 95% percentile bootstrap ({n_bootstrap:,} resamples, seed {seed}); DM/DR use a "
        f"{N_FOLDS}-fold cross-fitted logistic reward model. Dataset paper, full data, `all` "
        f"campaign: random {_pct(PAPER_CTR['random'])}, Bernoulli TS {_pct(PAPER_CTR['bts'])}.",
        "",
        "| campaign | items | policy | estimator | CTR | 95% interval | rows |",
        "| --- | ---: | --- | --- | ---: | --- | ---: |",
    ]
    verdicts = []
    for campaign in campaigns:
        logs, dist, q_hat, facts = _case(campaign, seed)
        estimates = evaluate(
            logs, dist, estimated_rewards=q_hat, n_bootstrap=n_bootstrap, seed=seed
        )
        head = f"| {campaign} | {logs.n_actions} "
        for e in estimates:
            lines.append(
                f"{head}| candidate | {e.name} | {_pct(e.value)} | "
                f"{_interval(e.low, e.high)} | {e.n:,} |"
            )
        random_mean = float(logs.reward.mean())
        random_ci = bootstrap_interval(
            logs.reward, np.ones(logs.n_rounds), n_bootstrap=n_bootstrap, seed=seed
        )
        lines.append(
            f"{head}| random (logging) | on-policy mean | {_pct(random_mean)} | "
            f"{_interval(*random_ci)} | {logs.n_rounds:,} |"
        )
        test: BanditLogs = facts["test"]
        bts_ci = bootstrap_interval(
            test.reward, np.ones(test.n_rounds), n_bootstrap=n_bootstrap, seed=seed
        )
        lines.append(
            f"{head}| Bernoulli TS, last 30% | on-policy mean | {_pct(float(test.reward.mean()))}"
            f" | {_interval(*bts_ci)} | {test.n_rounds:,} |"
        )
        by_name = {e.name: e for e in estimates}
        dr_e = by_name["DR"]
        if dr_e.low > random_mean:
            verdict = "DR's lower bound beats the random log's click rate"
        elif dr_e.high < random_mean:
            verdict = "DR's upper bound is below the random log's click rate"
        else:
            verdict = "DR's interval contains the random log's click rate (no clear difference)"
        train: BanditLogs = facts["train"]
        verdicts.append(
            f"- `{campaign}`: {verdict}. Candidate's top-3 items {facts['top']}, learned from "
            f"{int(train.reward.sum())} clicks in {train.n_rounds:,} BTS rows; position "
            f"examination kappa = {np.round(facts['kappa'], 2).tolist()}; the model's own "
            f"estimate of its click rate {_pct(facts['model_value'])}."
        )
    lines += ["", *verdicts]
    lines += [
        "",
        "Slate IPS (SIPS) needs whole logged slates; the OBD sample holds one row per "
        "impression (no two rows share a slate), so SIPS is shown on a synthetic top-3 log in "
        "the agreement section only.",
        "",
        f"Section time: {time.perf_counter() - started:.1f} s.",
    ]
    return "\n".join(lines) + "\n"


def _obp_ope() -> Any:
    # obp is installed with --no-deps (DESIGN.md); its plots need seaborn, a dev dependency.
    return importlib.import_module("obp.ope")


def _obp_values(
    ope: Any, logs: BanditLogs, dist: np.ndarray, q_hat: np.ndarray
) -> dict[str, float]:
    common = {
        "reward": logs.reward,
        "action": logs.action,
        "position": logs.position,
        "pscore": logs.pscore,
        "action_dist": dist,
    }
    return {
        "IPS": float(ope.InverseProbabilityWeighting().estimate_policy_value(**common)),
        "SNIPS": float(
            ope.SelfNormalizedInverseProbabilityWeighting().estimate_policy_value(**common)
        ),
        "DM": float(
            ope.DirectMethod().estimate_policy_value(
                action_dist=dist, estimated_rewards_by_reg_model=q_hat, position=logs.position
            )
        ),
        "DR": float(
            ope.DoublyRobust().estimate_policy_value(**common, estimated_rewards_by_reg_model=q_hat)
        ),
    }


def _ours(logs: BanditLogs, dist: np.ndarray, q_hat: np.ndarray) -> dict[str, float]:
    return {
        "IPS": ips(logs, dist),
        "SNIPS": snips(logs, dist),
        "DM": dm(logs, dist, q_hat),
        "DR": dr(logs, dist, q_hat),
    }


def obp_agreement_section(*, quick: bool, seed: int) -> str:
    """Our estimators against obp 0.5.7's on the same logs, with the max abs difference.

    Args:
        quick: The OBD `all` campaign only and a smaller synthetic log (1,000 slates, not 5,000).
        seed: Seeds the reward model's folds and the synthetic log.

    Returns:
        Markdown: one table (logs, estimator, ours, obp, |difference|) and the maximum.
    """
    try:
        ope = _obp_ope()
    except ImportError as exc:
        return f"## Agreement with obp\n\nobp.ope could not be imported ({exc}); skipped.\n"
    rows: list[tuple[str, str, float, float]] = []
    for campaign in ("all",) if quick else OBD_CAMPAIGNS:
        logs, dist, q_hat, _ = _case(campaign, seed)
        ours, theirs = _ours(logs, dist, q_hat), _obp_values(ope, logs, dist, q_hat)
        rows += [(f"OBD random `{campaign}`", k, ours[k], theirs[k]) for k in ours]
    synth = synthetic_slate_log(1000 if quick else 5000, seed=seed)
    q_synth = fit_reward_model(synth.logs, n_folds=N_FOLDS, seed=seed)
    ours = _ours(synth.logs, synth.action_dist, q_synth)
    theirs = _obp_values(ope, synth.logs, synth.action_dist, q_synth)
    name = f"synthetic top-3 ({synth.logs.n_rounds // 3:,} slates)"
    rows += [(name, k, ours[k], theirs[k]) for k in ours]
    obp_sips = ope.SlateStandardIPS(len_list=synth.logs.len_list).estimate_policy_value(
        slate_id=synth.logs.slate_id,
        reward=synth.logs.reward,
        position=synth.logs.position,
        pscore=synth.logs.slate_pscore,
        evaluation_policy_pscore=synth.candidate_slate_pscore,
    )
    rows.append(
        (
            name,
            "SIPS (obp / len_list)",
            sips(synth.logs, synth.candidate_slate_pscore),
            float(obp_sips) / synth.logs.len_list,
        )
    )
    lines = [
        "## Agreement with obp 0.5.7",
        "",
        "Same logs, same candidate `action_dist`, same cross-fitted q-hat for DM/DR. obp's "
        "`SlateStandardIPS` reports clicks per slate; ours per shown position (obp / 3). "
        f"Synthetic log: true candidate value {synth.true_value:.4f}, logging policy "
        f"{synth.logging_value:.4f}.",
        "",
        "| logs | estimator | ours | obp | abs difference |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    lines += [f"| {a} | {b} | {c:.10f} | {d:.10f} | {abs(c - d):.1e} |" for a, b, c, d in rows]
    worst = max(abs(c - d) for _, _, c, d in rows)
    lines += ["", f"Max abs difference: {worst:.1e} (tolerance 1e-9)."]
    return "\n".join(lines) + "\n"
