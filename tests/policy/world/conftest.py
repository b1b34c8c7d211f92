"""A shared toy catalog and population (fixed seeds) for the world tests."""

from __future__ import annotations

import numpy as np
import pytest

from policy.world import ItemBatch, ShopperLatents, sample_items, sample_shoppers

N_CATEGORIES = 8
N_BRANDS = 20


@pytest.fixture(scope="session")
def catalog() -> ItemBatch:
    return sample_items(400, N_CATEGORIES, N_BRANDS, np.random.default_rng(11))


@pytest.fixture(scope="session")
def population() -> ShopperLatents:
    return sample_shoppers(2000, N_CATEGORIES, N_BRANDS, np.random.default_rng(12))
