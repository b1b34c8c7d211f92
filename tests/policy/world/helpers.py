"""Hand-built shoppers and items for tests that change one trait at a time."""

from __future__ import annotations

from typing import Any

import numpy as np

from policy.world import N_DEAL_TYPES, DealType, ItemBatch, ShopperLatents

C = 4  # categories
B = 5  # brands


def shopper(**overrides: Any) -> ShopperLatents:
    """One average shopper: uniform interests, budget 100 everywhere, no favourite brand."""
    fields: dict[str, Any] = {
        "category_interest": np.full((1, C), 1.0 / C),
        "budget": np.full((1, C), 100.0),
        "price_sensitivity": [1.0],
        "deal_proneness": [0.5],
        "deal_type_preference": np.full((1, N_DEAL_TYPES), 0.3),
        "favourite_brands": [[-1]],
        "loyalty": [0.0],
        "is_member": [False],
        "is_new": [False],
        "patience": [2],
        "segment": [0],
        "n_brands": B,
    }
    fields.update(overrides)
    return ShopperLatents(**fields)


def items(n: int = 1, **overrides: Any) -> ItemBatch:
    """n identical plain items at 80 in category 0, brand 0, no deal, unless overridden."""
    fields: dict[str, Any] = {
        "category": np.zeros(n, dtype=np.int64),
        "brand": np.zeros(n, dtype=np.int64),
        "list_price": np.full(n, 80.0),
        "final_price": np.full(n, 80.0),
        "discount": np.zeros(n),
        "deal_type": np.full(n, int(DealType.NONE)),
        "needs_claim": np.zeros(n, dtype=np.bool_),
        "is_flash_sale": np.zeros(n, dtype=np.bool_),
        "hours_left": np.full(n, np.inf),
        "popularity": np.full(n, 0.5),
        "n_categories": C,
        "n_brands": B,
    }
    fields.update(overrides)
    return ItemBatch(**fields)
