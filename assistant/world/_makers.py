"""One maker per activity type: scope, terms, amounts and schedule of one demo activity.

Each maker takes a :class:`~assistant.world._targets.Target` (``None``: draw one by the type's
weights) and returns a catalog row without its id.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from assistant.domain import ActivityType
from assistant.world._drafting import Drafting
from assistant.world._phrases import ordinal, weekday_names, zh_discount
from assistant.world._targets import Target

__all__ = ["DAYS", "Makers"]

# Scope kinds per type; whole-shop offers are rare, as in a real shop.
_WEIGHTS: dict[ActivityType, dict[str, float]] = {
    ActivityType.FLASH_SALE: {"products": 0.6, "brand_leaf": 0.25, "leaf": 0.15},
    ActivityType.PERCENT_OFF: {
        "leaf": 3,
        "brand_leaf": 3,
        "brand": 1.5,
        "department": 1.5,
        "products": 1,
    },
    ActivityType.MEMBER_DAY: {
        "department": 3,
        "leaf": 3,
        "brand": 2,
        "brand_leaf": 2,
        "everything": 0.2,
    },
    ActivityType.THRESHOLD: {
        "leaf": 3,
        "brand_leaf": 2,
        "department": 2,
        "brand": 1,
        "everything": 0.5,
        "pair": 1,
    },
    ActivityType.BUNDLE: {"leaf": 3.5, "brand_leaf": 2.5, "products": 2, "pair": 2},
    ActivityType.COUPON: {
        "leaf": 3,
        "brand_leaf": 2.5,
        "brand": 1.5,
        "department": 1.5,
        "everything": 0.4,
    },
    ActivityType.NEW_USER: {"everything": 0.6, "department": 3.5, "leaf": 3, "brand": 1},
    ActivityType.FREE_SHIPPING: {"everything": 0.3, "department": 3.5, "leaf": 3, "brand": 2.5},
}
_SHIPPING_MINIMUMS = (9, 19, 29, 39, 49, 59, 79, 99)
_EVENTS = (
    ("Season sale", "换季特惠"),
    ("Clearance", "清仓特惠"),
    ("Price drop", "限时降价"),
    ("Anniversary sale", "周年庆"),
    ("New season", "新品季"),
    ("Brand days", "品牌日"),
)
_MONTHLY = {
    1: ("Month-opening sale", "月初开门红"),
    8: ("Lucky 8 sale", "幸运8日大促"),
    15: ("Mid-month sale", "月中大促"),
    18: ("Shop anniversary day", "18日店庆"),
    25: ("Month-end sale", "月末狂欢"),
}
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class Makers(Drafting):
    """The eight activity makers."""

    def flash_sale(self, target: Target | None, hour: int | None = None) -> dict[str, Any]:
        rng, say = self.rng, self.say
        target = target or self.targets.pick(rng, _WEIGHTS[ActivityType.FLASH_SALE])
        weekend = hour is None and rng.random() < 0.2
        if hour is None:
            hour = rng.choice((0, 8, 10, 12, 14, 16, 18, 20, 21, 22))
        minutes = rng.choice((60, 120) if hour == 0 else (60, 90, 120, 180))
        # Anchored five weeks back so the 30 days of logged history see these slots too.
        start = self.local(-41 if weekend else -35, hour)
        begins, ends = (
            start.strftime("%H:%M"),
            (start + timedelta(minutes=minutes)).strftime("%H:%M"),
        )
        percent = rng.choice((20, 25, 30, 35, 40, 45, 50))
        units = rng.choice((30, 50, 100, 200, 300, 500))
        per_user = rng.choice((None, 1, 2))
        when_en, when_zh = (
            ("every Saturday and Sunday", "每周六、日") if weekend else ("every day", "每天")
        )
        limit_en = [f"Limit {per_user} per customer."] if per_user else []
        limit_zh = [f"每人限购{per_user}件。"] if per_user else []
        terms = (
            [
                f"Live {when_en} {begins}-{ends} shop time.",
                f"{units} units at the flash price, while they last.",
                *limit_en,
            ],
            [
                f"{when_zh}{begins}-{ends}（店铺时间）开抢。",
                f"秒杀价限量{units}件，售完即止。",
                *limit_zh,
            ],
        )
        rule = "FREQ=WEEKLY;BYDAY=SA,SU" if weekend else "FREQ=DAILY"
        return {
            **self.with_audience(
                "all", say.flash(target.label, begins, ends, percent, weekend), terms
            ),
            "scope": target.scope,
            **self.recurring(start, rule, minutes, rng.randint(30, 90)),
            "percent": percent,
            "per_user_limit": per_user,
            "quantity_limit": units,
        }

    def percent_off(self, target: Target | None, backbone: bool = False) -> dict[str, Any]:
        rng, say = self.rng, self.say
        target = target or self.targets.pick(rng, _WEIGHTS[ActivityType.PERCENT_OFF])
        percent = rng.choice((5, 10, 15, 20, 25, 30))
        cap = (
            self.nice(self.major(target.ref) * rng.uniform(0.1, 0.3), at_least=2)
            if rng.random() < 0.3
            else None
        )
        event = None if backbone or rng.random() < 0.5 else rng.choice(_EVENTS)
        cap_en = f", up to {say.money(cap)} off per item" if cap else ""
        cap_zh = f"，每件最高减{say.number(cap)}元" if cap else ""
        terms = (
            [
                f"{percent}% off the list price of eligible {target.label.items}{cap_en}.",
                "Applied automatically; each item gets its single best item-level offer.",
            ],
            [
                f"{target.label.zh}按原价{zh_discount(percent)}{cap_zh}，自动生效。",
                "每件商品仅享一个单品级最优优惠。",
            ],
        )
        audience = "all" if backbone else self.audience(target, 0.15)
        return {
            **self.with_audience(
                audience, say.percent_off(target.label, percent, cap, event), terms
            ),
            "scope": target.scope,
            **self.window(backbone),
            "percent": percent,
            "max_discount": self.money(cap),
        }

    def member_day(self, target: Target | None, weekday: str | None = None) -> dict[str, Any]:
        rng, say = self.rng, self.say
        target = target or self.targets.pick(rng, _WEIGHTS[ActivityType.MEMBER_DAY])
        percent = rng.choice((5, 8, 10, 12, 15, 20))
        if weekday is None and rng.random() < 0.2:
            day = rng.choice((8, 18, 28))
            when = (f"the {ordinal(day)} of every month", f"每月{day}日")
            schedule = self.recurring(self.local(-62), f"FREQ=MONTHLY;BYMONTHDAY={day}", 1440, None)
        else:
            weekday = weekday or rng.choice(DAYS)
            name_en, name_zh = weekday_names(weekday)
            when = (f"every {name_en}", f"每周{name_zh}")
            until = None if rng.random() < 0.3 else rng.randint(60, 180)
            schedule = self.recurring(self.local(-35), f"FREQ=WEEKLY;BYDAY={weekday}", 1440, until)
        terms = (
            [
                f"For members only, all day {when[0]} (shop time).",
                f"Members save {percent}% on eligible {target.label.items}.",
            ],
            [
                f"仅限会员，{when[1]}全天（店铺时间）。",
                f"{target.label.zh}会员享{zh_discount(percent)}。",
            ],
        )
        row = self.with_audience("all", say.member_day(target.label, percent, when), terms)
        return {**row, "audience": "members", "scope": target.scope, **schedule, "percent": percent}

    def tiers(self, ref: int) -> list[tuple[int, int]]:
        rng = self.rng
        first = self.nice(self.major(ref) * rng.uniform(1.0, 1.6), at_least=10)
        thresholds = [first]
        for _ in range(rng.choice((0, 1, 1, 2))):
            thresholds.append(
                max(self.nice(self.major(thresholds[-1]) * 2), thresholds[-1] + self.unit)
            )
        rate = rng.uniform(0.06, 0.12)
        tiers: list[tuple[int, int]] = []
        for threshold in thresholds:
            discount = self.nice(self.major(threshold) * rate)
            if tiers and discount <= tiers[-1][1]:
                discount = tiers[-1][1] + self.unit
            tiers.append((threshold, min(discount, threshold)))
            rate += rng.uniform(0.02, 0.04)
        return tiers

    def threshold(self, target: Target | None, backbone: bool = False) -> dict[str, Any]:
        rng, say = self.rng, self.say
        target = target or self.targets.pick(rng, _WEIGHTS[ActivityType.THRESHOLD])
        tiers = self.tiers(target.ref)
        event: tuple[str, str] | None = None
        if not backbone and rng.random() < 0.5:
            day = rng.choice(sorted(_MONTHLY))
            days = rng.choice((2, 3))
            name_en, name_zh = _MONTHLY[day]
            span_en = f"{ordinal(day)}-{ordinal(day + days - 1)} of every month"
            event = (f"{name_en} ({span_en})", f"{name_zh}（每月{day}-{day + days - 1}日）")
            schedule = self.recurring(
                self.local(-62), f"FREQ=MONTHLY;BYMONTHDAY={day}", days * 1440, None
            )
        else:
            schedule = self.window(backbone)
        tiers_en, tiers_zh = say.tiers(tiers)
        terms = (
            [
                f"In one order: {tiers_en} on eligible {target.label.items}.",
                "The highest tier reached applies; one order-level offer per order.",
            ],
            [
                f"单笔订单{target.label.zh}{tiers_zh}。",
                "按达到的最高档计算，每单限享一个订单级优惠。",
            ],
        )
        audience = "all" if backbone else self.audience(target, 0.0, 0.05)
        return {
            **self.with_audience(audience, say.threshold(target.label, tiers, event), terms),
            "scope": target.scope,
            **schedule,
            "tiers": [[self.money(t), self.money(d)] for t, d in tiers],
        }

    def bundle(self, target: Target | None) -> dict[str, Any]:
        rng, say = self.rng, self.say
        target = target or self.targets.pick(rng, _WEIGHTS[ActivityType.BUNDLE], cheap=True)
        quantity = rng.choice((2, 3, 3, 4)) if target.ref < 50 * self.unit else 2
        percent: int | None = rng.choice((5, 8, 10, 12, 15, 20))
        amount = None
        if rng.random() < 0.4:
            # Never more than 30% of the cheapest qualifying set, so nothing becomes free.
            ceiling = target.low * quantity * 0.3
            wanted = self.nice(self.major(target.ref) * quantity * rng.uniform(0.05, 0.12))
            if wanted <= ceiling:
                percent, amount = None, wanted
        gain_en = f"save {percent}%" if percent else f"get {say.money(amount or 0)} off"
        gain_zh = f"享{zh_discount(percent)}" if percent else f"立减{say.number(amount or 0)}元"
        terms = (
            [
                f"Buy {quantity} or more eligible {target.label.items} in one order to {gain_en}.",
                "One order-level offer per order.",
            ],
            [f"单笔订单购买{target.label.zh}满{quantity}件{gain_zh}。", "每单限享一个订单级优惠。"],
        )
        return {
            **self.with_audience("all", say.bundle(target.label, quantity, percent, amount), terms),
            "scope": target.scope,
            **self.window(False),
            "percent": percent,
            "amount": self.money(amount),
            "min_quantity": quantity,
        }

    def coupon_terms(self, target: Target, minimum: int | None) -> tuple[list[str], list[str]]:
        if minimum:
            spend = self.say.money(minimum)
            return [f"Valid on eligible {target.label.items} of {spend} or more."], [
                f"{target.label.zh}满{self.say.number(minimum)}元可用。"
            ]
        return ["No minimum spend."], ["无门槛使用。"]

    def coupon(self, target: Target | None, backbone: bool = False) -> dict[str, Any]:
        rng, say = self.rng, self.say
        target = target or self.targets.pick(rng, _WEIGHTS[ActivityType.COUPON])
        ref = self.major(target.ref)
        percent = amount = cap = minimum = None
        if backbone or rng.random() < 0.7:
            amount = self.nice(ref * rng.uniform(0.05, 0.12))
            if backbone or rng.random() >= 0.15 or not self.small(amount, target):
                minimum = self.nice(ref * rng.uniform(0.8, 2.0), at_least=10)
                amount = self.nice(self.major(minimum) * rng.uniform(0.06, 0.18))
            full = amount
        else:
            percent = rng.choice((5, 8, 10, 12, 15, 20))
            cap = self.nice(ref * rng.uniform(0.1, 0.3), at_least=3)
            minimum = (
                self.nice(ref * rng.uniform(0.5, 1.2), at_least=10) if rng.random() < 0.5 else None
            )
            full = cap
        per_user = rng.choice((1, 1, 2, 3))
        budget = full * rng.choice((200, 500, 1000, 2000, 5000))
        spend_en, spend_zh = self.coupon_terms(target, minimum)
        terms = (
            [
                "Claim the coupon before checkout.",
                *spend_en,
                f"Limit {per_user} per customer.",
                "While the campaign budget lasts.",
            ],
            ["下单前需先领券。", *spend_zh, f"每人限领{per_user}张。", "总量有限，领完即止。"],
        )
        audience = "all" if backbone else self.audience(target, 0.12, 0.08)
        return {
            **self.with_audience(
                audience, say.coupon(target.label, percent, amount, cap, minimum), terms
            ),
            "scope": target.scope,
            **self.window(backbone),
            "percent": percent,
            "amount": self.money(amount),
            "max_discount": self.money(cap),
            "min_spend": self.money(minimum),
            "budget": self.money(budget),
            "per_user_limit": per_user,
        }

    def new_user(self, target: Target | None) -> dict[str, Any]:
        rng, say = self.rng, self.say
        target = target or self.targets.pick(rng, _WEIGHTS[ActivityType.NEW_USER])
        percent = amount = cap = minimum = None
        if rng.random() < 0.7:
            amount = self.nice(rng.uniform(3, 20))
            if rng.random() < 0.8 or not self.small(amount, target):
                minimum = self.nice(self.major(amount) * rng.uniform(3, 6), at_least=10)
            full = amount
        else:
            percent = rng.choice((10, 15, 20, 25, 30))
            cap = self.nice(rng.uniform(5, 30))
            full = cap
        spend_en, spend_zh = self.coupon_terms(target, minimum)
        terms = (
            [
                "For new customers only, once per customer.",
                "Claim it before your first checkout.",
                *spend_en,
            ],
            ["仅限新用户，每人限用1次。", "首次下单前领取。", *spend_zh],
        )
        row = self.with_audience(
            "all", say.new_user(target.label, percent, amount, cap, minimum), terms
        )
        return {
            **row,
            "audience": "new_users",
            "scope": target.scope,
            **self.window(False),
            "percent": percent,
            "amount": self.money(amount),
            "max_discount": self.money(cap),
            "min_spend": self.money(minimum),
            "budget": self.money(full * rng.choice((500, 1000, 3000))),
            "per_user_limit": 1,
        }

    def free_shipping(self, target: Target | None, backbone: bool = False) -> dict[str, Any]:
        rng, say = self.rng, self.say
        target = target or self.targets.pick(rng, _WEIGHTS[ActivityType.FREE_SHIPPING])
        if rng.random() < 0.2:
            minimum = 0
        else:
            wanted = self.major(target.ref) * rng.uniform(0.5, 2.0)
            minimum = min(_SHIPPING_MINIMUMS, key=lambda m: abs(m - wanted)) * self.unit
        if minimum:
            terms = (
                [f"Shipping is free once the goods total after discounts is {say.money(minimum)}."],
                [f"优惠后商品金额满{say.number(minimum)}元免标准运费。"],
            )
        else:
            terms = (
                ["Standard shipping is free on every eligible order."],
                ["符合条件的订单免标准运费。"],
            )
        audience = "all" if backbone else self.audience(target, 0.05, 0.25)
        return {
            **self.with_audience(audience, say.free_shipping(target.label, minimum), terms),
            "scope": target.scope,
            **self.window(backbone),
            "min_spend": self.money(minimum),
        }
