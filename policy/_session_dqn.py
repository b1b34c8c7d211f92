"""Deep Q-network session policy: training in the env (DQN) and from logged sessions (FQI).

Private to `policy.session`; see that module for the model and the public API.
"""

from __future__ import annotations

import base64
import hashlib
import io
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ._session_env import (
    N_ACTIONS,
    STATE_WIDTH,
    ActionChoice,
    BoolArray,
    FloatArray,
    SessionRunner,
    action_mask,
    check_snapshot,
    check_state,
    choose,
    encode_state,
    epsilon_greedy_probabilities,
    snapshot_header,
)
from ._session_tabular import TrainingReport, check_epsilon, epsilon_schedule
from .world import ShoppingEnv

__all__ = ["DQNConfig", "DQNPolicy", "Transitions", "fitted_q_iteration", "train_dqn"]

_ALGORITHM = "1"
"""Bumped whenever the network's input encoding or architecture rule changes."""


@dataclass(frozen=True, slots=True)
class DQNConfig:
    """Hyper-parameters of `train_dqn` (and the network of `fitted_q_iteration`).

    Attributes:
        hidden: widths of the ReLU hidden layers.
        lr: Adam learning rate.
        gamma: discount in [0, 1]. The table reports the undiscounted return, but with
            sampled clicks gamma = 1 let the bootstrapped values of zero-reward CLARIFY turns
            drift up (the DQN learned to ask twice: -0.09 clicks per session against the
            rules, paired over 800 sessions); 0.9 with 3-step returns measured +0.04 +- 0.08.
        batch_size: transitions per gradient step.
        replay_capacity: the replay buffer keeps this many latest transitions.
        learning_starts: env steps before the first gradient step.
        target_update: gradient steps between copies of the online network to the target.
        train_every: env steps per gradient step (each step samples `batch_size` transitions).
        n_step: steps of observed reward before bootstrapping (n-step returns, as in Rainbow,
            Hessel et al. 2018); more steps mean fewer max operators per target, so less of
            Q-learning's overestimation compounds along a session.
        epsilon_start: exploration at the first session.
        epsilon_end: exploration after the decay.
        explore_fraction: share of the sessions the linear decay takes.
        grad_clip: max gradient norm.
        epsilon: the returned policy's exploring-mode epsilon.
    """

    hidden: tuple[int, ...] = (64, 64)
    lr: float = 1e-3
    gamma: float = 0.9
    batch_size: int = 64
    replay_capacity: int = 20_000
    learning_starts: int = 256
    target_update: int = 200
    train_every: int = 2
    n_step: int = 3
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    explore_fraction: float = 0.5
    grad_clip: float = 10.0
    epsilon: float = 0.1

    def __post_init__(self) -> None:
        owner = "DQNConfig"
        if not self.hidden or any(not isinstance(h, int) or h < 1 for h in self.hidden):
            raise ValueError(f"{owner}: `hidden` must be positive ints; got {self.hidden!r}")
        if not (self.lr > 0 and 0.0 <= self.gamma <= 1.0 and self.grad_clip > 0):
            raise ValueError(
                f"{owner}: need lr > 0, 0 <= gamma <= 1 and grad_clip > 0; got {self.lr}, "
                f"{self.gamma}, {self.grad_clip}"
            )
        sizes = (
            self.batch_size,
            self.replay_capacity,
            self.target_update,
            self.train_every,
            self.n_step,
        )
        if min(sizes) < 1:
            raise ValueError(
                f"{owner}: batch_size, replay_capacity, target_update, train_every and n_step "
                f"must be all >= 1; got {sizes}"
            )
        if self.learning_starts < 0 or not 0.0 < self.explore_fraction <= 1.0:
            raise ValueError(f"{owner}: need learning_starts >= 0 and 0 < explore_fraction <= 1")
        for name in ("epsilon_start", "epsilon_end", "epsilon"):
            check_epsilon(owner, getattr(self, name))


@contextmanager
def _one_thread() -> Iterator[None]:
    """Run torch on one intra-op thread: for a network this small, more threads only add
    synchronization (five times the CPU time on two shared cores, measured). Restored after;
    torch's thread count is process-wide, so do not train concurrently with other torch work."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _network(hidden: Sequence[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = STATE_WIDTH
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, N_ACTIONS))
    return nn.Sequential(*layers)


def _seeded_network(hidden: Sequence[int], seed: int) -> nn.Sequential:
    """A network initialized from `seed` without touching torch's global generator."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _network(hidden)


class DQNPolicy:
    """Greedy (or epsilon-greedy) on a Q-network over the encoded session state.

    The network is an MLP from `encode_state(state)` (width STATE_WIDTH) through ReLU layers
    `hidden` to one Q-value per `SessionAction`; impossible actions are masked. Serving runs the
    forward pass in numpy (float64 on the float32 weights), so acting needs no torch call.

    Args:
        state_dict: the network's torch `state_dict` (float32 tensors).
        hidden: the hidden widths the state_dict was built with.
        epsilon: exploration probability of the exploring mode.
        allowed: the actions it may choose (`SessionAction` values); default all. A policy
            learned from logs is limited to the actions the logs hold, since it has no
            evidence about the others.
    """

    def __init__(
        self,
        state_dict: dict[str, torch.Tensor],
        *,
        hidden: Sequence[int],
        epsilon: float = 0.1,
        allowed: Sequence[int] | None = None,
    ) -> None:
        self.hidden = tuple(int(h) for h in hidden)
        self.allowed = _check_allowed(allowed)
        self._allowed_mask = np.isin(np.arange(N_ACTIONS), self.allowed)
        net = _network(self.hidden)
        try:
            net.load_state_dict(state_dict)
        except (RuntimeError, KeyError) as exc:
            raise ValueError(
                f"DQNPolicy: the state_dict does not fit hidden={self.hidden}: {exc}"
            ) from exc
        if not all(torch.isfinite(p).all() for p in net.parameters()):
            raise ValueError("DQNPolicy: the network's weights must be finite")
        self.epsilon = check_epsilon("DQNPolicy", epsilon)
        self._state_dict = {k: v.detach().clone().float() for k, v in net.state_dict().items()}
        linears = [m for m in net if isinstance(m, nn.Linear)]
        self._layers = [
            (m.weight.detach().double().numpy().T.copy(), m.bias.detach().double().numpy().copy())
            for m in linears
        ]
        digest = hashlib.sha256(repr(self.allowed).encode())
        for key in sorted(self._state_dict):
            digest.update(key.encode() + self._state_dict[key].numpy().tobytes())
        self._version = f"dqn-{_ALGORITHM}:{digest.hexdigest()[:12]}"

    @property
    def name(self) -> str:
        """``"dqn"``."""
        return "dqn"

    @property
    def version(self) -> str:
        """``"dqn-1:<12 hex digits of the weights' sha256>"``."""
        return self._version

    def state_dict(self) -> dict[str, torch.Tensor]:
        """A copy of the network's torch state_dict."""
        return {k: v.clone() for k, v in self._state_dict.items()}

    def _forward(self, encoded: FloatArray) -> FloatArray:
        h = encoded
        for i, (w, b) in enumerate(self._layers):
            h = h @ w + b
            if i < len(self._layers) - 1:
                h = np.maximum(h, 0.0)
        return h

    def q_values(self, state: FloatArray) -> FloatArray:
        """Q(state, a) for every action, shape (N_ACTIONS,); -inf for impossible actions."""
        arr = check_state("DQNPolicy", state)
        mask = action_mask(arr) & self._allowed_mask
        if not mask.any():
            mask = action_mask(arr)
        out: FloatArray = np.where(mask, self._forward(encode_state(arr)), -np.inf)
        return out

    def action_probabilities(self, state: FloatArray, *, explore: bool = True) -> FloatArray:
        """P(a | state) of the exploring (or greedy) mode, shape (N_ACTIONS,)."""
        q = self.q_values(state)
        eps = self.epsilon if explore else 0.0
        return epsilon_greedy_probabilities(int(np.argmax(q)), np.isfinite(q), eps)

    def act(self, state: FloatArray, *, rng: np.random.Generator | None = None) -> ActionChoice:
        """Greedy when `rng` is None; otherwise epsilon-greedy with the propensity."""
        q = self.q_values(state)
        best = int(np.argmax(q))
        return choose(epsilon_greedy_probabilities(best, np.isfinite(q), self.epsilon), best, rng)

    def to_snapshot(self) -> dict[str, object]:
        """A JSON-safe snapshot: the header, ``hidden``, and ``state_dict`` as base64 text.

        ``state_dict`` is the base64 of `torch.save` of the float32 state_dict; loading uses
        `torch.load(..., weights_only=True)`, so a snapshot cannot run code.
        """
        buf = io.BytesIO()
        torch.save(self._state_dict, buf)
        snap = snapshot_header("dqn", self.version, self.epsilon)
        snap["hidden"] = list(self.hidden)
        snap["allowed"] = list(self.allowed)
        snap["state_dict"] = base64.b64encode(buf.getvalue()).decode("ascii")
        return snap

    @classmethod
    def from_snapshot(cls, snapshot: object) -> DQNPolicy:
        """The policy of `to_snapshot`; refuses weights that do not match its version."""
        snap = check_snapshot("DQNPolicy", snapshot, "dqn")
        hidden, blob = snap.get("hidden"), snap.get("state_dict")
        if not isinstance(hidden, list) or not isinstance(blob, str):
            raise ValueError("DQNPolicy: snapshot needs `hidden` (list) and `state_dict` (base64)")
        try:
            state = torch.load(io.BytesIO(base64.b64decode(blob)), weights_only=True)
        except Exception as exc:  # torch raises several types for a bad payload
            raise ValueError(f"DQNPolicy: snapshot `state_dict` cannot be read: {exc}") from exc
        allowed = snap.get("allowed")
        if not isinstance(allowed, list):
            raise ValueError("DQNPolicy: snapshot needs `allowed` (a list of action values)")
        out = cls(
            state,
            hidden=hidden,
            epsilon=check_epsilon("DQNPolicy", snap.get("epsilon")),
            allowed=allowed,
        )
        if out.version != snap.get("version"):
            raise ValueError(
                f"DQNPolicy: snapshot says version {snap.get('version')!r} but its weights hash "
                f"to {out.version!r}; the snapshot is corrupt"
            )
        return out


def _check_allowed(allowed: Sequence[int] | None) -> tuple[int, ...]:
    if allowed is None:
        return tuple(range(N_ACTIONS))
    out = tuple(sorted({int(a) for a in allowed}))
    if not out or out[0] < 0 or out[-1] >= N_ACTIONS:
        raise ValueError(
            f"DQNPolicy: `allowed` must name at least one action in [0, {N_ACTIONS}); got "
            f"{list(allowed)!r}"
        )
    return out


@dataclass(frozen=True, slots=True)
class _Step:
    enc: FloatArray
    action: int
    reward: float
    next_enc: FloatArray
    next_mask: BoolArray
    done: bool


class _Replay:
    """A ring buffer of transitions (encoded states, masks of the next state)."""

    def __init__(self, capacity: int) -> None:
        self.s = np.zeros((capacity, STATE_WIDTH), dtype=np.float32)
        self.a = np.zeros(capacity, dtype=np.int64)
        self.r = np.zeros(capacity, dtype=np.float32)
        self.s2 = np.zeros((capacity, STATE_WIDTH), dtype=np.float32)
        self.m2 = np.zeros((capacity, N_ACTIONS), dtype=np.bool_)
        self.done = np.zeros(capacity, dtype=np.float32)
        self.disc = np.zeros(capacity, dtype=np.float32)
        self.size = 0
        self._next = 0

    def add(
        self,
        s: FloatArray,
        a: int,
        r: float,
        s2: FloatArray,
        m2: BoolArray,
        done: bool,
        disc: float,
    ) -> None:
        i = self._next
        self.s[i], self.a[i], self.r[i], self.s2[i], self.m2[i] = s, a, r, s2, m2
        self.done[i], self.disc[i] = done, disc
        self._next = (i + 1) % len(self.a)
        self.size = min(self.size + 1, len(self.a))

    def add_n_step(self, pending: list[_Step], gamma: float) -> None:
        """Store the oldest pending step with its return over all of `pending`."""
        first, last = pending[0], pending[-1]
        ret = sum(gamma**k * step.reward for k, step in enumerate(pending))
        self.add(
            first.enc,
            first.action,
            ret,
            last.next_enc,
            last.next_mask,
            last.done,
            gamma ** len(pending),
        )

    def sample(self, n: int, rng: np.random.Generator) -> tuple[torch.Tensor, ...]:
        idx = rng.integers(0, self.size, n)
        return (
            torch.from_numpy(self.s[idx]),
            torch.from_numpy(self.a[idx]),
            torch.from_numpy(self.r[idx]),
            torch.from_numpy(self.s2[idx]),
            torch.from_numpy(self.m2[idx]),
            torch.from_numpy(self.done[idx]),
            torch.from_numpy(self.disc[idx]),
        )


def _double_q_target(
    online: nn.Module,
    target: nn.Module,
    r: torch.Tensor,
    s2: torch.Tensor,
    m2: torch.Tensor,
    done: torch.Tensor,
    disc: torch.Tensor,
) -> torch.Tensor:
    """r + disc Q_target(s', argmax_a' Q_online(s', a')) over possible a' (van Hasselt 2016)."""
    with torch.no_grad():
        best = online(s2).masked_fill(~m2, -torch.inf).argmax(dim=1, keepdim=True)
        nxt = target(s2).gather(1, best).squeeze(1)
        out: torch.Tensor = r + disc * (1.0 - done) * nxt
        return out


def _gradient_step(
    online: nn.Module,
    target: nn.Module,
    opt: torch.optim.Optimizer,
    batch: tuple[torch.Tensor, ...],
    cfg: DQNConfig,
) -> float:
    s, a, r, s2, m2, done, disc = batch
    y = _double_q_target(online, target, r, s2, m2, done, disc)
    q = online(s).gather(1, a[:, None]).squeeze(1)
    loss = nn.functional.smooth_l1_loss(q, y)
    opt.zero_grad()
    loss.backward()  # type: ignore[no-untyped-call]
    nn.utils.clip_grad_norm_(online.parameters(), cfg.grad_clip)
    opt.step()
    return float(loss.detach())


def train_dqn(
    env: ShoppingEnv,
    sessions: int,
    *,
    seed: int = 0,
    config: DQNConfig | None = None,
) -> tuple[DQNPolicy, TrainingReport]:
    """Deep Q-learning (Mnih et al. 2015) with a double-DQN target (van Hasselt et al. 2016).

    Each env step stores an n-step transition (s_t, a_t, sum_k gamma^k r_{t+k}, s_{t+n},
    mask(s_{t+n}), done) in a replay buffer (cut short at the session's end) and, after
    `learning_starts` steps, every `train_every` steps takes one Adam step on a Huber loss
    against R + gamma^n Q_target(s', argmax_a' Q_online(s', a')); the target network copies
    the online one every `target_update` gradient steps. Behaviour is epsilon-greedy with a
    linear decay (`DQNConfig`). Session i is reset with seed ``seed + i``; the network's
    initialization and the replay sampling are seeded too, so a run is reproducible on one
    machine.

    Args:
        env: the environment.
        sessions: training sessions, >= 1.
        seed: seeds the sessions, the initialization, exploration and replay sampling.
        config: hyper-parameters; default `DQNConfig()`.

    Returns:
        The greedy policy (exploring mode with `config.epsilon`) and how it was trained.
    """
    cfg = config or DQNConfig()
    if sessions < 1:
        raise ValueError(f"train_dqn: `sessions` must be >= 1; got {sessions}")
    with _one_thread():
        return _train_dqn(env, sessions, seed, cfg)


def _train_dqn(
    env: ShoppingEnv, sessions: int, seed: int, cfg: DQNConfig
) -> tuple[DQNPolicy, TrainingReport]:
    online = _seeded_network(cfg.hidden, seed)
    target = _network(cfg.hidden)
    target.load_state_dict(online.state_dict())
    opt = torch.optim.Adam(online.parameters(), lr=cfg.lr)
    replay = _Replay(cfg.replay_capacity)
    rng = np.random.default_rng([seed, 3])
    runner = SessionRunner(env)
    returns = np.zeros(sessions)
    steps = updates = 0
    start = time.perf_counter()
    for i in range(sessions):
        eps = epsilon_schedule(
            i, sessions, cfg.epsilon_start, cfg.epsilon_end, cfg.explore_fraction
        )
        state = runner.reset(seed + i)
        enc = encode_state(state)
        pending: list[_Step] = []
        done = False
        while not done:
            mask = action_mask(state)
            with torch.no_grad():
                q = online(torch.from_numpy(enc.astype(np.float32))).numpy()
            best = int(np.argmax(np.where(mask, q, -np.inf)))
            action = choose(epsilon_greedy_probabilities(best, mask, eps), best, rng).action
            nxt, reward, done = runner.step(action)
            nenc = encode_state(nxt)
            pending.append(_Step(enc, int(action), reward, nenc, action_mask(nxt), done))
            if len(pending) == cfg.n_step:
                replay.add_n_step(pending, cfg.gamma)
                pending.pop(0)
            while done and pending:
                replay.add_n_step(pending, cfg.gamma)
                pending.pop(0)
            returns[i] += reward
            state, enc = nxt, nenc
            steps += 1
            ready = steps >= cfg.learning_starts and replay.size >= cfg.batch_size
            if ready and steps % cfg.train_every == 0:
                _gradient_step(online, target, opt, replay.sample(cfg.batch_size, rng), cfg)
                updates += 1
                if updates % cfg.target_update == 0:
                    target.load_state_dict(online.state_dict())
    report = TrainingReport(sessions, steps, time.perf_counter() - start, returns)
    return DQNPolicy(online.state_dict(), hidden=cfg.hidden, epsilon=cfg.epsilon), report


@dataclass(frozen=True, eq=False)
class Transitions:
    """Logged transitions for offline learning, one row each (m rows).

    Attributes:
        states: raw states before each action, shape (m, STATE_WIDTH).
        actions: `SessionAction` values, shape (m,).
        rewards: shape (m,).
        next_states: raw states after, shape (m, STATE_WIDTH) (ignored where `done`).
        done: whether the session ended with this step, shape (m,).
        sessions: how many sessions the rows come from.
    """

    states: FloatArray
    actions: np.ndarray
    rewards: FloatArray
    next_states: FloatArray
    done: np.ndarray
    sessions: int

    def __post_init__(self) -> None:
        owner = "Transitions"
        m = len(self.actions)
        if m == 0:
            raise ValueError(f"{owner}: needs at least one transition; got none")
        for name in ("states", "next_states"):
            arr = np.asarray(getattr(self, name))
            if arr.shape != (m, STATE_WIDTH) or not np.isfinite(arr).all():
                raise ValueError(
                    f"{owner}: `{name}` must be finite with shape ({m}, {STATE_WIDTH}); got "
                    f"{arr.shape}"
                )
        acts = np.asarray(self.actions)
        if acts.min() < 0 or acts.max() >= N_ACTIONS:
            raise ValueError(f"{owner}: `actions` must lie in [0, {N_ACTIONS}); got {acts.min()}..")
        if np.asarray(self.rewards).shape != (m,) or np.asarray(self.done).shape != (m,):
            raise ValueError(f"{owner}: `rewards` and `done` must have shape ({m},)")


def fitted_q_iteration(
    data: Transitions,
    *,
    iterations: int = 20,
    epochs: int = 4,
    seed: int = 0,
    config: DQNConfig | None = None,
) -> tuple[DQNPolicy, TrainingReport]:
    """Neural fitted-Q iteration (Ernst et al. 2005; Riedmiller 2005) on logged transitions.

    Each iteration freezes the current network as the target, computes
    y = r + gamma max_a' Q_target(s', a') over the possible a' (0 where done), and fits a
    network (warm-started) to y on the logged (s, a) pairs for `epochs` passes of Adam
    minibatches. No env is touched: the policy is learned from the logs alone, so it can only
    value actions the logging policy took.

    Args:
        data: the logged transitions.
        iterations: Bellman backups, >= 1.
        epochs: passes over the data per backup, >= 1.
        seed: seeds the initialization and the minibatch order.
        config: network width, learning rate, gamma, batch size; default `DQNConfig()`.

    Returns:
        The greedy policy and a report (sessions = logged sessions, steps = transitions).
    """
    cfg = config or DQNConfig()
    if iterations < 1 or epochs < 1:
        raise ValueError(
            f"fitted_q_iteration: `iterations` and `epochs` must be >= 1; got {iterations}, "
            f"{epochs}"
        )
    with _one_thread():
        return _fitted_q(data, iterations, epochs, seed, cfg)


def _fitted_q(
    data: Transitions, iterations: int, epochs: int, seed: int, cfg: DQNConfig
) -> tuple[DQNPolicy, TrainingReport]:
    start = time.perf_counter()
    s = torch.from_numpy(encode_state(data.states).astype(np.float32))
    s2 = torch.from_numpy(encode_state(data.next_states).astype(np.float32))
    m2 = torch.from_numpy(action_mask(data.next_states))
    a = torch.from_numpy(np.asarray(data.actions, dtype=np.int64))
    r = torch.from_numpy(np.asarray(data.rewards, dtype=np.float32))
    done = torch.from_numpy(np.asarray(data.done, dtype=np.float32))
    allowed = tuple(int(x) for x in np.unique(np.asarray(data.actions)))
    # The max in the backup ranges over actions the logs hold: the others have no evidence and
    # their extrapolated values would only be overestimated (Fujimoto et al. 2019, BCQ).
    m2 = m2 & torch.from_numpy(np.isin(np.arange(N_ACTIONS), allowed))
    m2[~m2.any(dim=1)] = True
    net = _seeded_network(cfg.hidden, seed)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    rng = np.random.default_rng([seed, 4])
    m = len(a)
    for _ in range(iterations):
        with torch.no_grad():
            nxt = net(s2).masked_fill(~m2, -torch.inf).max(dim=1).values
            y = r + cfg.gamma * torch.where(done > 0, 0.0, nxt)
        for _ in range(epochs):
            order = torch.from_numpy(rng.permutation(m))
            for lo in range(0, m, cfg.batch_size):
                idx = order[lo : lo + cfg.batch_size]
                q = net(s[idx]).gather(1, a[idx][:, None]).squeeze(1)
                loss = nn.functional.smooth_l1_loss(q, y[idx])
                opt.zero_grad()
                loss.backward()  # type: ignore[no-untyped-call]
                nn.utils.clip_grad_norm_(net.parameters(), cfg.grad_clip)
                opt.step()
    report = TrainingReport(data.sessions, m, time.perf_counter() - start, np.zeros(0))
    policy = DQNPolicy(net.state_dict(), hidden=cfg.hidden, epsilon=cfg.epsilon, allowed=allowed)
    return policy, report
