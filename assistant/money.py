"""Money: integer minor units inside, decimal strings at the edges, never float.

Example:
    >>> usd = Currency.of("USD")
    >>> usd.parse("19.99"), usd.format(1999)
    (1999, '19.99')
    >>> percent_of(1999 * 3, 15)  # 15% of 59.97, rounded half up per line
    900
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import get_currency_precision, is_currency

from assistant.errors import ValidationError

__all__ = ["MAX_MINOR", "Currency", "percent_of"]

MAX_MINOR = 10**15 - 1
"""The largest amount in minor units (9,999,999,999,999.99 USD): a cart of 999 of each line
still sums far inside a 64-bit ``BIGINT`` column."""

_MAX_TEXT = 64  # characters; no real amount is longer


@dataclass(frozen=True, slots=True)
class Currency:
    """An ISO 4217 currency and its number of minor digits (USD 2, JPY 0)."""

    code: str
    exponent: int

    @classmethod
    def of(cls, code: str) -> Currency:
        """The currency for an ISO 4217 code; raises :class:`ValidationError` if unknown."""
        upper = str(code).strip().upper()
        if len(upper) != 3 or not is_currency(upper):
            raise ValidationError(f"unknown currency {code!r}; use an ISO 4217 code such as USD")
        return cls(upper, int(get_currency_precision(upper)))

    def parse(self, amount: str | int | Decimal, *, allow_negative: bool = False) -> int:
        """A decimal amount (``"19.99"``, ``19``) in minor units; float is refused.

        The conversion is exact integer arithmetic, never the decimal context's: ``"1e999999999"``
        or 40 nines are refused as too large rather than overflowing or being rounded.

        Raises:
            ValidationError: not a number, more decimals than the currency has, negative, or
                beyond :data:`MAX_MINOR`.
        """
        if isinstance(amount, (bool, float)):
            raise ValidationError(f"amount {amount!r} must be a decimal string, not a float")
        try:
            text = str(amount).strip()
        except ValueError:  # an int too long for str() (Python's 4,300-digit limit)
            raise ValidationError("amount is too large") from None
        shown = repr(text) if len(text) <= 40 else repr(text[:20] + "...")
        if len(text) > _MAX_TEXT:
            raise ValidationError(f"amount {shown} is too long to be an amount")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValidationError(f"amount {shown} is not a number") from None
        if not value.is_finite():
            raise ValidationError(f"amount {shown} is not a finite number")
        sign, digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)  # finite
        if sign and any(digits) and not allow_negative:
            raise ValidationError(f"amount {shown} is negative")
        coefficient = int("".join(map(str, digits)))
        shift = exponent + self.exponent  # minor = coefficient * 10**shift
        if coefficient == 0:
            return 0
        minor: int
        if shift < 0:
            if -shift > len(digits) or coefficient % 10**-shift:
                raise ValidationError(
                    f"amount {shown} has more than {self.exponent} decimals for {self.code}"
                )
            minor = coefficient // 10**-shift
        elif len(str(coefficient)) + shift > len(str(MAX_MINOR)):
            minor = MAX_MINOR + 1  # never build 10**999999999
        else:
            minor = coefficient * 10**shift
        if minor > MAX_MINOR:
            raise ValidationError(
                f"amount {shown} is too large; the most is {self.format(MAX_MINOR)} {self.code}"
            )
        return -minor if sign else minor

    def format(self, minor: int) -> str:
        """Minor units as a decimal string with the currency's digits (``1999`` -> ``"19.99"``)."""
        if self.exponent == 0:
            return str(minor)
        return str(
            Decimal(minor).scaleb(-self.exponent).quantize(Decimal(1).scaleb(-self.exponent))
        )


def percent_of(minor: int, percent: int | Decimal) -> int:
    """``percent`` % of an amount in minor units, rounded half up (DESIGN.md "Deal model")."""
    exact = Decimal(minor) * Decimal(percent) / Decimal(100)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
