"""The session policy: which dialogue action to take next, learned by Q-learning and DQN.

A shopping session is a finite-horizon Markov decision process in the user-choice model
(`policy.world.ShoppingEnv`, docs/world.md eq. 9-12). Each turn the assistant picks one
`SessionAction` (the assistant's `ActionKind` names): RECOMMEND the best cards by its match
estimate, CLARIFY (a question: costs a turn and some patience, sharpens the estimate and the
shopper), OFFER_COUPON (one claimable card, alone and salient) or HANDOFF (ends the session with
no reward). The reward is the env's (clicks by default); the return per session is what the
policies are compared on (benchmarks/_policy_session.py). The concrete cards behind an action
come from `SessionRunner`, the same for every policy, so policies differ only in the dialogue
decision. This package imports nothing from the assistant: `SessionAction.kind` is the string
the assistant's `ActionKind` uses, and the assistant maps at its seam.

State. `SessionRunner.state(observation)` builds the raw state, a float vector of shape
(STATE_WIDTH,) = (14,) named by `SESSION_STATE_NAMES`: the env's 11 observations (turn
fraction, known slot fraction, last slate's best estimate, last slate clicked, clicks, claims,
add-to-carts, purchases, poor streak, member, new) and three views of the candidates from the
assistant's own estimates (mean estimate of the slate RECOMMEND would show, the estimate of the
card OFFER_COUPON would show, whether a claimable card exists). `encode_state` maps it to the
network's bounded features (same width: counts as log1p, the poor streak capped at 4 and
scaled to [0, 1]). Every `act` validates the state once: wrong width or a non-finite value is a
`ValueError` that names the column.

Policies (all with `act(state, rng=None) -> ActionChoice`: greedy for serving when `rng` is
None, with propensity 1; epsilon-greedy over the possible actions when `rng` is given, with the
exact probability of the action drawn, for logging and off-policy evaluation):

* `RandomSessionPolicy`: uniform over the possible actions (exploring mode only).
* `RulesSessionPolicy`: the assistant's `RulesActionPolicy` mirrored in the env (the mapping
  is in its docstring): RECOMMEND every turn.
* `TabularQPolicy` from `train_tabular_q`: Q-learning (Watkins & Dayan 1992) over a discretized
  state (turn, known slots, poor streak, last click, coupon available).
* `DQNPolicy` from `train_dqn`: a deep Q-network (Mnih et al. 2015) with a replay buffer, a
  target network, a linear epsilon schedule, 3-step returns and the double-DQN target (van
  Hasselt, Guez & Silver 2016), seeded, trained on one torch thread; or from
  `fitted_q_iteration` on logged transitions (Ernst, Geurts & Wehenkel 2005; Riedmiller 2005),
  offline, restricted to the actions the logs hold.

Snapshots. `to_snapshot()` returns a JSON-safe dict: ``format`` ("shopassist.session_policy"),
``schema`` (1), ``kind`` ("random" | "rules" | "tabular_q" | "dqn"), ``version`` (for learned
policies a sha256 prefix of the parameters, checked on load), ``epsilon``, ``state_names``
(refused on load if the code's state differs), and per kind: ``turn_bins`` and ``q`` (nested
lists) for the table; ``hidden``, ``allowed`` and ``state_dict`` (base64 of `torch.save` of the
float32 state_dict, read back with ``weights_only=True``) for the network.
`policy_from_snapshot` loads any of them.

Example:
    >>> import numpy as np
    >>> from policy.world import ShoppingEnv, sample_items, sample_shoppers
    >>> from policy.session import (
    ...     DQNConfig, RulesSessionPolicy, SessionRunner, evaluate_policy, train_dqn)
    >>> rng = np.random.default_rng(0)
    >>> env = ShoppingEnv(sample_items(100, 6, 10, rng), sample_shoppers(200, 6, 10, rng))
    >>> dqn, report = train_dqn(env, 60, seed=1, config=DQNConfig(learning_starts=64))
    >>> state = SessionRunner(env).reset(seed=5)
    >>> state.shape
    (14,)
    >>> choice = dqn.act(state, rng=np.random.default_rng(0))
    >>> round(sum(choice.probabilities), 6), 0.0 < choice.propensity <= 1.0
    (1.0, True)
    >>> evaluate_policy(env, RulesSessionPolicy(), 5, seed=100).shape
    (5,)
"""

from __future__ import annotations

import numpy as np

from ._session_dqn import DQNConfig, DQNPolicy, Transitions, fitted_q_iteration, train_dqn
from ._session_env import (
    N_ACTIONS,
    SESSION_STATE_NAMES,
    SNAPSHOT_FORMAT,
    STATE_WIDTH,
    ActionChoice,
    SessionAction,
    SessionPolicy,
    SessionRun,
    SessionRunner,
    action_mask,
    encode_state,
    evaluate_policy,
)
from ._session_tabular import (
    RandomSessionPolicy,
    RulesSessionPolicy,
    TabularQPolicy,
    TrainingReport,
    train_tabular_q,
)
from .world import ShoppingEnv

__all__ = [
    "N_ACTIONS",
    "SESSION_STATE_NAMES",
    "STATE_WIDTH",
    "ActionChoice",
    "DQNConfig",
    "DQNPolicy",
    "RandomSessionPolicy",
    "RulesSessionPolicy",
    "SessionAction",
    "SessionPolicy",
    "SessionRun",
    "SessionRunner",
    "TabularQPolicy",
    "TrainingReport",
    "Transitions",
    "action_mask",
    "encode_state",
    "evaluate_policy",
    "fitted_q_iteration",
    "log_sessions",
    "policy_from_snapshot",
    "train_dqn",
    "train_tabular_q",
]

_KINDS: dict[
    str,
    type[RandomSessionPolicy] | type[RulesSessionPolicy] | type[TabularQPolicy] | type[DQNPolicy],
] = {
    "random": RandomSessionPolicy,
    "rules": RulesSessionPolicy,
    "tabular_q": TabularQPolicy,
    "dqn": DQNPolicy,
}


def policy_from_snapshot(
    snapshot: object,
) -> RandomSessionPolicy | RulesSessionPolicy | TabularQPolicy | DQNPolicy:
    """Load any session policy from its `to_snapshot()` dict.

    Raises:
        ValueError: If `snapshot` is not a session-policy snapshot of a known kind, or is
            corrupt (see each class's `from_snapshot`).
    """
    if not isinstance(snapshot, dict) or snapshot.get("format") != SNAPSHOT_FORMAT:
        raise ValueError(
            f"policy_from_snapshot: expected a dict with format {SNAPSHOT_FORMAT!r}; got "
            f"{type(snapshot).__name__}"
        )
    kind = snapshot.get("kind")
    if kind not in _KINDS:
        raise ValueError(
            f"policy_from_snapshot: unknown policy kind {kind!r}; known: {sorted(_KINDS)}"
        )
    return _KINDS[str(kind)].from_snapshot(snapshot)


def log_sessions(
    env: ShoppingEnv, policy: SessionPolicy, sessions: int, *, seed: int = 0
) -> tuple[Transitions, np.ndarray]:
    """Run `policy`'s exploring mode for `sessions` sessions and keep what a log would hold.

    This is the decision log the assistant writes (state, action, propensity, reward), for
    `fitted_q_iteration` and off-policy evaluation. Session i is reset with seed ``seed + i``.

    Returns:
        The transitions and each logged action's propensity, shape (m,).
    """
    if sessions < 1:
        raise ValueError(f"log_sessions: `sessions` must be >= 1; got {sessions}")
    runner = SessionRunner(env)
    rng = np.random.default_rng([seed, 5])
    runs = [runner.run(policy, seed=seed + i, rng=rng) for i in range(sessions)]
    data = Transitions(
        states=np.concatenate([r.states for r in runs]),
        actions=np.concatenate([r.actions for r in runs]),
        rewards=np.concatenate([r.rewards for r in runs]),
        next_states=np.concatenate([r.next_states for r in runs]),
        done=np.concatenate([r.done for r in runs]),
        sessions=sessions,
    )
    return data, np.concatenate([r.propensities for r in runs])
