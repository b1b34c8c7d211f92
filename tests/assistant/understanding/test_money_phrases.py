"""Budget phrases in English and Chinese, and Chinese numerals."""

from __future__ import annotations

import pytest

from assistant.money import Currency
from assistant.understanding import Vocabulary, extract
from assistant.understanding._text import arabic_numerals

USD = Currency.of("USD")


def _d(amount: str | None) -> int | None:
    return None if amount is None else USD.parse(amount)


@pytest.mark.parametrize(
    ("message", "low", "high"),
    [
        ("running shoes under $35", None, "35"),
        ("socks less than 35 dollars", None, "35"),
        ("hoodie tops 15 bucks", None, "15"),
        ("laptop from 40 to 90", "40", "90"),
        ("headphones between 20 and 50", "20", "50"),
        ("rain jacket 40-90", "40", "90"),
        ("laptop bag $30-$60", "30", "60"),
        ("at least 30 bucks", "30", None),
        ("more than 1200", "1200", None),
        ("phones, 1.5k max", None, "1500"),
        ("phones 1k or less", None, "1000"),
        ("nothing over 90", None, "90"),
        ("no more than 25 dollars", None, "25"),
        ("up to $250", None, "250"),
        ("around $100", "80", "120"),
        ("hoodie around 25 bucks", "20", "30"),
        ("my budget is 800", None, "800"),
        ("$50 headphones", None, "50"),
        ("12.50 dollars max", None, "12.50"),
        ("50块以内的袜子", None, "50"),
        ("不要超过两百的跑鞋", None, "200"),
        ("预算150左右", "120", "180"),
        ("大概300的锅", "240", "360"),
        ("一百五以内的瑜伽垫", None, "150"),
        ("笔记本电脑,三千以下", None, "3000"),
        ("200元以上的咖啡机", "200", None),
        ("羽绒服 500到1000", "500", "1000"),
        ("华为手机 三千到五千", "3000", "5000"),
        ("二三十块的礼物", "20", "30"),
        ("跑鞋 1k以内", None, "1000"),
        ("预算500的运动鞋", None, "500"),
        ("价格在100以下", None, "100"),
    ],
)
def test_budget_phrases(vocab: Vocabulary, message: str, low: str | None, high: str | None) -> None:
    intent = extract(message, vocab).intent
    assert (intent.min_price, intent.max_price) == (_d(low), _d(high))


@pytest.mark.parametrize(
    "message",
    [
        "phone case for iphone 15",
        "toys for my son, he's 5",
        "toys for ages 3-10",
        "零食满99减20",
        "20% off headphones",
        "$10 off orders over $50",
        "耳机有打八折的吗",
        "compare 1 and 3",
        "tell me more about 2",
        "一口锅",
    ],
)
def test_numbers_that_are_not_budgets(vocab: Vocabulary, message: str) -> None:
    intent = extract(message, vocab).intent
    assert (intent.min_price, intent.max_price) == (None, None)


@pytest.mark.parametrize(
    "message",
    [
        "shoes under 99999999999999999999999999999999 dollars",
        pytest.param("shoes under $" + "9" * 1900, id="1900-nines"),
        "about 10000000000000000 bucks",
        "between 5 and 99999999999999999999999999999999",
    ],
)
def test_amounts_beyond_any_price_are_not_budgets(vocab: Vocabulary, message: str) -> None:
    # Regression: the decimal context raised InvalidOperation out of the turn.
    intent = extract(message, vocab).intent
    assert intent.max_price is None


def test_a_later_bound_replaces_an_earlier_one(vocab: Vocabulary) -> None:
    assert extract("under 100, no wait, under 80", vocab).intent.max_price == 8000


def test_amounts_follow_the_shop_currency(vocab: Vocabulary) -> None:
    jpy = Currency.of("JPY")
    assert extract("under 3000", vocab, currency=jpy).intent.max_price == 3000


def test_price_slots_are_sure_when_found_or_clearly_absent(vocab: Vocabulary) -> None:
    assert {"min_price", "max_price"} <= extract("shoes under 50", vocab).sure
    assert {"min_price", "max_price"} <= extract("running shoes", vocab).sure
    assert "max_price" not in extract("running shoes, budget is tight", vocab).sure


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("两百", "200"),
        ("一百五", "150"),
        ("三千", "3000"),
        ("两千五", "2500"),
        ("十五", "15"),
        ("一万五", "15000"),
        ("三四百", "300-400"),
        ("1.5k", "1500"),
        ("2万", "20000"),
        ("三只松鼠", "三只松鼠"),
        ("千万别买", "千万别买"),
    ],
)
def test_arabic_numerals(text: str, want: str) -> None:
    assert arabic_numerals(text) == want
