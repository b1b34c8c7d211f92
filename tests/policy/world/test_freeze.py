"""The world is frozen (docs/world.md): its parameters hash to a pinned value.

If this fails, you changed the demo world. That needs a new WORLD_VERSION, a note in
docs/world.md saying what changed and why, and every reported number regenerated; it must never
be a retune that favours one policy or ranker.
"""

from __future__ import annotations

import doctest

import pytest

import policy
from policy import world
from policy.world import _choice, _env, _items, _params, _session, _shoppers

PINNED = "3fc53cf90980609fd362162285e62d0522c41841cdd9e6603f6179fef87b7702"


def test_world_parameters_are_frozen() -> None:
    assert world.WORLD_VERSION == "world-v1"
    assert world.world_fingerprint() == PINNED


def test_policy_package_exports_the_world() -> None:
    exported = set(policy.__all__) & set(world.__all__)
    assert {"UserChoiceModel", "ShoppingEnv", "simulate_sessions", "WORLD_VERSION"} <= exported
    assert all(getattr(policy, name) is getattr(world, name) for name in exported)
    assert all(hasattr(policy, name) for name in policy.__all__)


@pytest.mark.parametrize("module", [_params, _items, _shoppers, _choice, _session, _env])
def test_docstring_examples_run(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)  # type: ignore[arg-type]
    assert result.failed == 0
    assert result.attempted > 0
