"""SearchIndex on a small hand-made catalog: bad input, expansion, activity filters, reload."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval import (
    ActivityMeta,
    ChromaIndex,
    Filters,
    IndexItem,
    ProductMeta,
    ReloadingIndex,
    SearchIndex,
    load_search_index,
    make_client,
)

NOW = 1_700_000_000


def unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


PRODUCTS = [
    IndexItem(
        "run-1",
        "Stride running shoes 跑步鞋",
        ProductMeta("shoes/running", "Stride", 6000, 5000).to_metadata(),
    ),
    IndexItem(
        "run-2",
        "Peak running shoes 跑步鞋",
        ProductMeta("shoes/running", "Peak", 9000).to_metadata(),
    ),
    IndexItem(
        "trail-1",
        "Peak trail shoes 越野跑鞋",
        ProductMeta("shoes/trail", "Peak", 12000).to_metadata(),
    ),
    IndexItem(
        "knife-1",
        "Hearth chef knife 厨房刀具",
        ProductMeta("home/knives", "Hearth", 4000, in_stock=False).to_metadata(),
    ),
    IndexItem(
        "pan-1", "Hearth frying pan 煎锅", ProductMeta("home/cookware", "Hearth").to_metadata()
    ),
    IndexItem(
        "mug-1", "Cup coffee mug 马克杯", ProductMeta("home/mugs", "Cup", 1500).to_metadata()
    ),
]
VECTORS = np.stack(
    [
        unit(1, 0.1, 0),
        unit(1, 0.2, 0),
        unit(0.8, 0.5, 0),
        unit(0, 0.1, 1),
        unit(0, 0.3, 1),
        unit(0, 0.2, 1),
    ]
)
ACTIVITIES = [
    IndexItem(
        "flash-run",
        "flash sale on two running shoes",
        ActivityMeta(
            "flash_sale", "item", NOW - 10, NOW + 3600, products=("run-1", "run-2")
        ).to_metadata(),
    ),
    IndexItem(
        "shoes-coupon",
        "coupon for all shoes",
        ActivityMeta("coupon", "coupon", NOW - 10, None, categories=("shoes",)).to_metadata(),
    ),
    IndexItem(
        "hearth-members",
        "members save on Hearth",
        ActivityMeta(
            "member_day", "item", NOW - 10, NOW + 10, "members", brands=("Hearth",)
        ).to_metadata(),
    ),
    IndexItem(
        "expired",
        "expired storewide sale",
        ActivityMeta("percent_off", "item", NOW - 100, NOW - 50, scope_all=True).to_metadata(),
    ),
]
A_VECTORS = np.stack([unit(1, 0, 0.1), unit(0.9, 0, 0.3), unit(0, 0, 1), unit(0.5, 0.5, 0.5)])


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex.from_items(PRODUCTS, VECTORS, ACTIVITIES, A_VECTORS)


def ids(hits: tuple) -> list[str]:  # type: ignore[type-arg]
    return [h.id for h in hits]


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_blank_query_is_refused(index: SearchIndex, query: str) -> None:
    with pytest.raises(ValueError, match="empty query"):
        index.search(query, vector=VECTORS[0])


def test_no_query_and_no_vector_is_an_empty_query(index: SearchIndex) -> None:
    with pytest.raises(ValueError, match="empty query"):
        index.search()


def test_min_above_max_is_refused() -> None:
    with pytest.raises(ValueError, match=r"min_price \(500\) is greater than max_price \(100\)"):
        Filters(min_price=500, max_price=100)


def test_unknown_category_is_named(index: SearchIndex) -> None:
    with pytest.raises(ValueError, match="unknown category 'shoes/hiking'"):
        index.search(vector=VECTORS[0], filters=Filters(categories=["shoes/hiking"]))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"categories": "shoes"}, "not a bare str"),
        ({"min_price": -1}, "must not be negative"),
        ({"max_price": 9.99}, "int in minor units"),
        ({"max_price": True}, "int in minor units"),
        ({"categories": ["shoes//x"]}, "non-empty names"),
        ({"brands_in": [""]}, "non-empty str"),
        ({"valid_at": -5}, "valid_at must not be negative"),
        ({"in_stock": "yes"}, "in_stock must be a bool"),
    ],
)
def test_bad_filters_are_refused(kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=message):
        Filters(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"vector": np.ones(4)}, r"shape \(3,\)"),
        ({"vector": np.zeros(3)}, "non-zero"),
        ({"vector": np.array([np.nan, 1, 0])}, "finite"),
        ({"vector": VECTORS[0], "k_products": -1}, "k_products must be a non-negative int"),
        ({"vector": VECTORS[0], "mode": "fuzzy"}, "mode must be"),
        ({"vector": VECTORS[0], "mode": "lexical"}, "needs a query text"),
    ],
)
def test_bad_search_arguments_are_refused(
    index: SearchIndex,
    kwargs: dict,
    message: str,  # type: ignore[type-arg]
) -> None:
    with pytest.raises(ValueError, match=message):
        index.search(**kwargs)


def test_filters_that_nothing_passes_give_empty_lists(index: SearchIndex) -> None:
    result = index.search(vector=VECTORS[0], filters=Filters(max_price=1, valid_at=NOW))
    assert result.products == () and result.activities == ()


def test_subtree_price_and_stock_filters(index: SearchIndex) -> None:
    result = index.search(vector=VECTORS[0], filters=Filters(categories=["shoes"], max_price=9000))
    assert set(ids(result.products)) == {"run-1", "run-2"}
    result = index.search(vector=VECTORS[3], filters=Filters(categories=["home"], in_stock=True))
    assert set(ids(result.products)) == {"pan-1", "mug-1"}  # the knife is out of stock
    result = index.search(vector=VECTORS[3], filters=Filters(categories=["home"], max_price=10**6))
    assert set(ids(result.products)) == {"knife-1", "mug-1"}  # the pan is unpriced
    result = index.search(vector=VECTORS[3], filters=Filters(categories=["home"]))
    assert ids(result.products)[0] == "knife-1"
    result = index.search(vector=VECTORS[3], filters=Filters(brands_out=["hearth"]), expand=False)
    assert ids(result.products) == ["mug-1", "trail-1", "run-2", "run-1"]


def test_activity_filters_apply_validity_audience_and_coverage(index: SearchIndex) -> None:
    live = index.search(vector=VECTORS[0], filters=Filters(valid_at=NOW))
    assert "expired" not in ids(live.activities)
    assert "hearth-members" in ids(live.activities)  # no audience filter: every audience
    shopper = index.search(vector=VECTORS[0], filters=Filters(valid_at=NOW, audience=frozenset()))
    assert "hearth-members" not in ids(shopper.activities)
    # an activity must cover a product that passes the product filters
    pricey = index.search(vector=VECTORS[0], filters=Filters(min_price=10_000, valid_at=NOW))
    assert ids(pricey.activities) == ["shoes-coupon"]


def test_activity_types_restrict_products_to_those_on_such_a_deal(index: SearchIndex) -> None:
    result = index.search(
        vector=VECTORS[2], filters=Filters(activity_types=["flash_sale"], valid_at=NOW)
    )
    assert set(ids(result.products)) == {"run-1", "run-2"}
    assert ids(result.activities) == ["flash-run"]
    later = index.search(
        vector=VECTORS[2], filters=Filters(activity_types=["flash_sale"], valid_at=NOW + 7200)
    )
    assert later.products == () and later.activities == ()


def test_expansion_links_both_ways(index: SearchIndex) -> None:
    result = index.search(vector=VECTORS[0], filters=Filters(valid_at=NOW), k_products=2)
    by_id = {h.id: h for h in result.products}
    assert set(by_id) == {"run-1", "run-2"}
    assert set(by_id["run-1"].related) == {"flash-run", "shoes-coupon"}
    activities = {h.id: h for h in result.activities}
    assert activities["flash-run"].related == ("run-1", "run-2")  # best product first
    plain = index.search(vector=VECTORS[0], filters=Filters(valid_at=NOW), expand=False)
    assert all(h.related == () and h.source == "query" for h in plain.products)


def test_narrow_activities_bring_their_products(index: SearchIndex) -> None:
    # the query matches the Hearth members' day best; the mug is nearer than the pan, but the
    # activity brings the pan (a Hearth product) in, displacing the weakest direct match
    direct = index.search(vector=unit(0, 0, 1), k_products=2, k_activities=1, expand=False)
    assert ids(direct.products) == ["knife-1", "mug-1"]
    result = index.search(vector=unit(0, 0, 1), k_products=2, k_activities=1)
    assert ids(result.activities) == ["hearth-members"]
    assert ids(result.products) == ["knife-1", "pan-1"]
    assert [h.source for h in result.products] == ["query", "expansion"]
    assert result.activities[0].related == ("knife-1", "pan-1")
    # an activity weaker than the weakest product returned brings nothing
    shoes = index.search(vector=VECTORS[0], k_products=2, filters=Filters(valid_at=NOW))
    assert set(ids(shoes.products)) == {"run-1", "run-2"}


def test_lexical_and_hybrid_modes_match_chinese_and_english(index: SearchIndex) -> None:
    assert ids(index.search("厨房刀具", mode="lexical").products)[0] == "knife-1"
    assert ids(index.search("frying pan", mode="lexical").products)[0] == "pan-1"
    hybrid = index.search("跑步鞋", vector=VECTORS[0], mode="hybrid")
    assert set(ids(hybrid.products)[:2]) == {"run-1", "run-2"}


def test_revision_change_reloads_the_index(tmp_path: Path) -> None:
    client = make_client(tmp_path / "chroma")
    products = ChromaIndex.open(client, "products", dim=3, embedder_name="toy")
    activities = ChromaIndex.open(client, "activities", dim=3, embedder_name="toy")
    products.upsert(PRODUCTS[:2], VECTORS[:2])
    activities.upsert(ACTIVITIES[:1], A_VECTORS[:1])
    texts = {item.id: item.text for item in [*PRODUCTS, *ACTIVITIES]}
    live = ReloadingIndex(
        lambda: load_search_index(products, activities, texts=texts),
        lambda: (products.revision, activities.revision),
        check_every_s=0.0,
    )
    first = live.current()
    assert first.sizes == (2, 1)
    assert live.current() is first  # nothing changed: no reload
    products.bump_revision()
    products.upsert(PRODUCTS[2:], VECTORS[2:])
    products.bump_revision()
    second = live.current()
    assert second is not first and second.sizes == (6, 1) and live.reloads == 1
    assert second.revision > first.revision
    assert ids(second.search("厨房刀具", mode="lexical").products)[0] == "knife-1"
