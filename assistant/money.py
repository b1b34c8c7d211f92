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

__all__ = ["Currency", "percent_of"]


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

        Raises:
            ValidationError: not a number, more decimals than the currency has, or negative.
        """
        if isinstance(amount, (bool, float)):
            raise ValidationError(f"amount {amount!r} must be a decimal string, not a float")
        try:
            value = Decimal(str(amount).strip())
        except InvalidOperation:
            raise ValidationError(f"amount {amount!r} is not a number") from None
        if not value.is_finite():
            raise ValidationError(f"amount {amount!r} is not a finite number")
        scaled = value.scaleb(self.exponent)
        if scaled != scaled.to_integral_value():
            raise ValidationError(
                f"amount {amount!r} has more than {self.exponent} decimals for {self.code}"
            )
        if value < 0 and not allow_negative:
            raise ValidationError(f"amount {amount!r} is negative")
        return int(scaled)

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
