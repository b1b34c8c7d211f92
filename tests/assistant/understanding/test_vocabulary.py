"""Category and brand dictionaries, and the embedder fallback with the real USE model."""

from __future__ import annotations

import pytest

from assistant.understanding import Vocabulary, extract


@pytest.mark.parametrize(
    ("message", "categories"),
    [
        ("running shoes", ["shoes/running"]),
        ("trail running shoes", ["shoes/trail-running"]),
        ("sneakers", ["shoes/casual"]),
        ("bball kicks", ["shoes/basketball"]),
        ("shoes", ["shoes"]),
        ("kitchen knives", ["home/kitchen-knives"]),
        ("刀具", ["home/kitchen-knives"]),
        ("剃须刀", ["beauty/shavers-razors"]),
        ("羽绒服", ["apparel/jackets/down"]),
        ("手机", ["electronics/phones"]),
        ("iPhone手机壳", ["electronics/phone-cases"]),
        ("phone case for iphone 15", ["electronics/phone-cases"]),
        ("yoga mat", ["sports/yoga-mats"]),
        ("t-shirts", ["apparel/t-shirts"]),
        ("tshirt", ["apparel/t-shirts"]),
        ("tea gift box", ["gifts/gift-sets"]),
        ("runing shoes", ["shoes/running"]),
        ("a gift for mom", []),
    ],
)
def test_dictionary_categories(vocab: Vocabulary, message: str, categories: list[str]) -> None:
    result = extract(message, vocab)
    assert result.intent.categories == categories
    if categories:
        assert "categories" in result.sure


def test_from_catalog_adds_ancestors_and_aliases() -> None:
    vocab = Vocabulary.from_catalog(
        ["shoes/running"],
        ["Nike"],
        {"shoes/running": ("Running shoes", "跑鞋")},
        {"Nike": ["耐克"]},
    )
    assert vocab.paths == ("shoes", "shoes/running")
    assert [m.key for m in vocab.find_categories("耐克跑鞋")] == ["shoes/running"]
    assert [m.key for m in vocab.find_brands("耐克跑鞋")] == ["Nike"]


def test_no_embedder_no_guess(vocab: Vocabulary) -> None:
    assert vocab.nearest_category("lip gloss") is None
    assert extract("lip gloss", vocab).intent.categories == []


@pytest.mark.parametrize(
    ("message", "category"),
    [
        ("lip gloss", "beauty/makeup"),
        ("hair dryer", "beauty/haircare"),
        ("口香糖", "grocery/snacks"),
    ],
)
def test_embedder_fallback_maps_unknown_words(
    use_vocab: Vocabulary, message: str, category: str
) -> None:
    result = extract(message, use_vocab)
    assert result.intent.categories == [category]
    assert "categories" not in result.sure


@pytest.mark.parametrize("message", ["sunglasses", "air fryer"])
def test_embedder_fallback_leaves_far_words_alone(use_vocab: Vocabulary, message: str) -> None:
    assert extract(message, use_vocab).intent.categories == []


def test_dictionary_beats_embedder(use_vocab: Vocabulary) -> None:
    result = extract("running shoes", use_vocab)
    assert result.intent.categories == ["shoes/running"]
    assert "categories" in result.sure
