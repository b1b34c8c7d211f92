"""Money is integer minor units; parsing refuses what would lose or invent a cent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from assistant.errors import ValidationError
from assistant.money import MAX_MINOR, Currency, percent_of


def test_parse_and_format_round_trip() -> None:
    usd = Currency.of("usd")
    assert usd.parse("19.99") == 1999
    assert usd.parse(" 60 ") == 6000
    assert usd.parse(Decimal("0.5")) == 50
    assert usd.format(1999) == "19.99"
    assert usd.format(6000) == "60.00"
    assert Currency.of("JPY").format(500) == "500"


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("19.999", "more than 2 decimals for USD"),
        ("-1.00", "is negative"),
        ("abc", "is not a number"),
        ("NaN", "not a finite number"),
        (19.99, "not a float"),
        # Regressions: these raised decimal.Overflow / InvalidOperation / ValueError, or were
        # silently rounded by the 28-digit decimal context.
        ("1e999999999", r"'1e999999999' is too large; the most is 9999999999999\.99 USD"),
        ("Infinity", "not a finite number"),
        ("-Infinity", "not a finite number"),
        ("sNaN", "not a finite number"),
        ("9" * 30, "is too large"),
        (10**20, "is too large"),
        pytest.param(10**5000, "is too large", id="int-of-5000-digits"),
        pytest.param("1" * 5000, r"'1{20}\.\.\.' is too long to be an amount", id="5000-ones"),
        ("1e-999999999", "more than 2 decimals for USD"),
        ("10000000000000", "is too large"),
    ],
)
def test_parse_refuses(amount: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Currency.of("USD").parse(amount)  # type: ignore[arg-type]


def test_parse_is_exact_up_to_the_largest_amount() -> None:
    usd = Currency.of("USD")
    assert usd.parse("9999999999999.99") == MAX_MINOR
    assert usd.parse("1E+2") == 10000
    assert usd.parse("1.000") == 100
    assert usd.parse("0E-999999999") == 0
    assert usd.parse("-2.50", allow_negative=True) == -250
    assert Currency.of("JPY").parse("999999999999999") == MAX_MINOR


def test_unknown_currency() -> None:
    with pytest.raises(ValidationError, match="unknown currency 'EURO'"):
        Currency.of("EURO")


def test_percent_rounds_half_up() -> None:
    assert percent_of(5997, 15) == 900  # 8.9955 -> 9.00
    assert percent_of(1, 50) == 1  # 0.5 cent -> 1
    assert percent_of(3, 50) == 2  # 1.5 -> 2
    assert percent_of(5, 50) == 3  # 2.5 -> 3, not banker's 2
