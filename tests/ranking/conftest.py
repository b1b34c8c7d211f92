"""Session fixtures: one synthetic world and one ranker trained on it.

Everything here runs on one torch thread: on a busy 2-core machine two OpenMP threads contend
and a training step takes 20x longer; serving is measured on one thread anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import torch

from ranking.train import TrainConfig, TrainResult, train_ranker
from tests.ranking._synthetic import World, make_world


@contextmanager
def one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    with one_thread():
        yield


@pytest.fixture(scope="session")
def world() -> World:
    return make_world()


@pytest.fixture(scope="session")
def trained(world: World) -> TrainResult:
    with one_thread():
        return train_ranker(
            world.train.batch,
            world.train.labels,
            world.valid.batch,
            world.valid.labels,
            world.vocab,
            TrainConfig(seed=0, max_epochs=10, patience=2, progress=False),
        )
