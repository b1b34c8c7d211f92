"""Bilingual titles and terms of demo activities.

For example ``"Running shoes: spend $100, save $15"`` and ``"跑鞋满100减15"``.

Amounts are minor units of the shop currency; English shows them with the currency symbol and
no needless decimals (``$15``, ``$7.50``), Chinese as a bare number (``满100减15``, ``15元``), as
Chinese shops write them.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.money import Currency

__all__ = ["Label", "Phrases", "lower_first", "zh_discount"]

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CNY": "¥", "JPY": "¥", "CAD": "C$", "AUD": "A$"}
_WEEKDAYS = {
    "MO": ("Monday", "一"),
    "TU": ("Tuesday", "二"),
    "WE": ("Wednesday", "三"),
    "TH": ("Thursday", "四"),
    "FR": ("Friday", "五"),
    "SA": ("Saturday", "六"),
    "SU": ("Sunday", "日"),
}


def lower_first(text: str) -> str:
    """``"Running shoes"`` -> ``"running shoes"``; acronyms and ``"T-shirts"`` stay as they are."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def zh_discount(percent: int) -> str:
    """A percent off the Chinese way: 20 -> ``"8折"``, 15 -> ``"85折"``, 5 -> ``"95折"``."""
    pay = 100 - percent
    return f"{pay // 10}折" if pay % 10 == 0 else f"{pay}折"


@dataclass(frozen=True, slots=True)
class Label:
    """How an activity's scope is named.

    Attributes:
        en: Mid-sentence English (``"running shoes"``, ``"all Nike products"``).
        head: English at the start of a title (``"Running shoes"``, ``"Sitewide"``).
        zh: Chinese (``"跑鞋"``, ``"耐克全品"``, ``"全场"``).
        items: English after "eligible" in terms (``"Nike products"``, ``"beauty items"``).
        everything: Whether the scope is the whole shop.
    """

    en: str
    head: str
    zh: str
    items: str
    everything: bool = False


def weekday_names(code: str) -> tuple[str, str]:
    """``"WE"`` -> ``("Wednesday", "三")``."""
    return _WEEKDAYS[code]


def ordinal(day: int) -> str:
    """``1`` -> ``"1st"``, ``15`` -> ``"15th"``."""
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


class Phrases:
    """Titles and terms in one shop currency."""

    def __init__(self, currency: Currency) -> None:
        self.currency = currency
        self.symbol = _SYMBOLS.get(currency.code, f"{currency.code} ")

    def number(self, minor: int) -> str:
        """``1500`` -> ``"15"``, ``750`` -> ``"7.5"``."""
        text = self.currency.format(minor)
        return text.rstrip("0").rstrip(".") if "." in text else text

    def money(self, minor: int) -> str:
        """``1500`` -> ``"$15"``; ``750`` -> ``"$7.50"``."""
        text = self.currency.format(minor)
        return f"{self.symbol}{text[:-3] if text.endswith('.00') else text}"

    # --- titles ---------------------------------------------------------------------------

    def flash(
        self, label: Label, start: str, end: str, percent: int, weekend: bool
    ) -> tuple[str, str]:
        """``"Flash sale 20:00-22:00: 30% off 5 selected running shoes"``."""
        if weekend:
            en, zh = "Weekend flash sale", f"周末{start}-{end}限时秒杀"
        elif start == "00:00":
            en, zh = "Midnight flash sale", f"{start}-{end}零点秒杀"
        else:
            en, zh = "Flash sale", f"{start}-{end}限时秒杀"
        return (
            f"{en} {start}-{end}: {percent}% off {label.en}",
            f"{zh}：{label.zh}{zh_discount(percent)}",
        )

    def percent_off(
        self, label: Label, percent: int, cap: int | None, event: tuple[str, str] | None
    ) -> tuple[str, str]:
        """``"Spring sale: 20% off running shoes (up to $30 off per item)"``."""
        en = f"{percent}% off {label.en}"
        zh = f"{label.zh}{zh_discount(percent)}"
        if cap is not None:
            en += f" (up to {self.money(cap)} off per item)"
            zh += f"（每件最高减{self.number(cap)}元）"
        if event is not None:
            en, zh = f"{event[0]}: {en}", f"{event[1]}：{zh}"
        return en, zh

    def member_day(self, label: Label, percent: int, when: tuple[str, str]) -> tuple[str, str]:
        """``"Member day (every Wednesday): members save 15% on beauty"``."""
        return (
            f"Member day ({when[0]}): members save {percent}% on {label.en}",
            f"会员日（{when[1]}）：{label.zh}会员专享{zh_discount(percent)}",
        )

    def tiers(self, tiers: list[tuple[int, int]]) -> tuple[str, str]:
        """``("spend $100, save $15; spend $200, save $35", "满100减15，满200减35")``."""
        en = "; ".join(f"spend {self.money(t)}, save {self.money(d)}" for t, d in tiers)
        zh = "，".join(f"满{self.number(t)}减{self.number(d)}" for t, d in tiers)
        return en, zh

    def threshold(
        self, label: Label, tiers: list[tuple[int, int]], event: tuple[str, str] | None
    ) -> tuple[str, str]:
        """``"Running shoes: spend $100, save $15"`` / ``"跑鞋满100减15"``."""
        en, zh = self.tiers(tiers)
        if event is None:
            return f"{label.head}: {en}", f"{label.zh}{zh}"
        return f"{event[0]}: {en} on {label.en}", f"{event[1]}：{label.zh}{zh}"

    def bundle(
        self, label: Label, quantity: int, percent: int | None, amount: int | None
    ) -> tuple[str, str]:
        """``"Socks: buy 3, save 15%"`` / ``"袜子任选3件85折"``."""
        if percent is not None:
            return (
                f"{label.head}: buy {quantity}, save {percent}%",
                f"{label.zh}任选{quantity}件{zh_discount(percent)}",
            )
        assert amount is not None
        return (
            f"{label.head}: buy any {quantity}, get {self.money(amount)} off",
            f"{label.zh}任选{quantity}件立减{self.number(amount)}元",
        )

    def coupon(
        self,
        label: Label,
        percent: int | None,
        amount: int | None,
        cap: int | None,
        minimum: int | None,
    ) -> tuple[str, str]:
        """``"$10 off running shoes over $80"`` / ``"跑鞋满80减10元券"``."""
        what = "orders" if label.everything else label.en
        if percent is not None:
            en = f"{percent}% off coupon for {what}"
            zh = f"{label.zh}{zh_discount(percent)}券"
            if cap is not None:
                en += f" (up to {self.money(cap)} off)"
                zh += f"（最高减{self.number(cap)}元）"
            if minimum:
                en += f", on {self.money(minimum)} or more"
                zh = f"{zh}，满{self.number(minimum)}可用"
            return en, zh
        assert amount is not None
        if not minimum:
            return (
                f"{self.money(amount)} coupon for {what}, no minimum spend",
                f"{label.zh}无门槛{self.number(amount)}元券",
            )
        return (
            f"{self.money(amount)} off {what} over {self.money(minimum)}",
            f"{label.zh}满{self.number(minimum)}减{self.number(amount)}元券",
        )

    def new_user(
        self,
        label: Label,
        percent: int | None,
        amount: int | None,
        cap: int | None,
        minimum: int | None,
    ) -> tuple[str, str]:
        """``"New customers: $10 off your first order over $50"`` / ``"新人专享：首单满50减10元"``.

        An ``everything`` label reads as the first order.
        """
        what_en = "your first order" if label.everything else label.en
        what_zh = "首单" if label.everything else label.zh
        if percent is not None:
            en = f"New customers: {percent}% off {what_en}"
            zh = f"新人专享：{what_zh}{zh_discount(percent)}"
            if cap is not None:
                en += f" (up to {self.money(cap)} off)"
                zh += f"（最高减{self.number(cap)}元）"
            return en, zh
        assert amount is not None
        if not minimum:
            return (
                f"New customers: {self.money(amount)} off {what_en}, no minimum spend",
                f"新人专享：{what_zh}无门槛立减{self.number(amount)}元",
            )
        return (
            f"New customers: {self.money(amount)} off {what_en} over {self.money(minimum)}",
            f"新人专享：{what_zh}满{self.number(minimum)}减{self.number(amount)}元",
        )

    def free_shipping(self, label: Label, minimum: int) -> tuple[str, str]:
        """``"Free shipping on orders over $49"`` / ``"全场满49元包邮"``."""
        if not minimum:
            en = (
                "Free shipping on every order"
                if label.everything
                else f"Free shipping on {label.en}"
            )
            return en, f"{label.zh}包邮"
        what = "orders" if label.everything else f"{label.en} orders"
        return (
            f"Free shipping on {what} over {self.money(minimum)}",
            f"{label.zh}满{self.number(minimum)}元包邮",
        )

    # --- terms ----------------------------------------------------------------------------

    def terms(self, en: list[str], zh: list[str]) -> str:
        """English sentences on one line, Chinese on the next."""
        return " ".join(en) + "\n" + "".join(zh)
