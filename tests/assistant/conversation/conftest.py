"""A small served demo world (catalog, activities and their index) shared by the turn tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from assistant.app import Shop
from assistant.config import Settings
from assistant.indexing import sync_catalog_index
from assistant.store import make_engine
from assistant.world import STEPS, build_demo

NOW = datetime(2030, 6, 15, 12, tzinfo=UTC)
LEAVES = [
    "shoes/running",
    "shoes/casual",
    "home/kitchen-knives",
    "home/cookware",
    "home/coffee-makers",
    "sports/yoga-mats",
    "electronics/headphones",
    "apparel/jackets/down",
]


def served_shop(var: Path) -> Shop:
    """A rules-mode shop on ``var``'s SQLite store and index."""
    settings = Settings(_env_file=None, var_dir=var, embedder="use", llm_backend="rules")
    return Shop(settings, make_engine(settings.sqlalchemy_url))


@pytest.fixture(scope="session")
def served_var(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo world of 480 products over 8 leaves (no logs) and its index, built at NOW."""
    var = tmp_path_factory.mktemp("served")
    shop = served_shop(var)
    steps = [s for s in STEPS if s.name != "logs"]
    build_demo(shop, now=NOW, products=480, categories=LEAVES, steps=steps, progress=False)
    sync_catalog_index(shop, progress=False, now=NOW)
    shop.engine.dispose()
    return var
