"""Chinese reply templates (see :class:`assistant.conversation._templates_base.Templates`).

Amounts stay bare decimals: no "元" / "块" after a number, so only fact values read as money.
"""

from __future__ import annotations

from assistant.conversation._templates_base import Span

__all__ = ["CHINESE", "Chinese"]

_DEAL_NAMES = {
    "flash_sale": "限时秒杀",
    "percent_off": "限时折扣",
    "member_day": "会员日",
    "threshold": "满减活动",
    "bundle": "组合优惠",
    "coupon": "优惠券",
    "new_user": "新人券",
    "free_shipping": "包邮",
}

_RELAXED = {
    "budget": "放宽了预算",
    "category": "扩大了品类范围",
    "brand": "加入了其他品牌",
    "deals": "加入了暂无优惠的商品",
    "other": "放宽了部分条件",
}

_INELIGIBLE = {
    "min_spend_not_met": "「{title}」需要订单金额更高才能使用。",
    "expired": "「{title}」已经结束了。",
    "not_started": "「{title}」还没开始。",
    "audience": "「{title}」仅限特定用户（如会员或新用户）参加。",
    "per_user_limit": "「{title}」你已达到每人可领取或使用的次数上限。",
    "budget_exhausted": "「{title}」的优惠券已经被领完了。",
    "out_of_scope": "「{title}」不适用于你购物车里的商品。",
    "sold_out": "「{title}」已售罄。",
}

_CLARIFY = {
    "category": "你想买点什么？比如鞋子、数码、家居……",
    "budget": "你的预算大概是多少？",
    "recipient": "是买给谁的呢？自己、朋友还是家人？",
}

_HANDOFF = {
    "complaint": "很抱歉给你带来不便，正在为你转接人工客服处理。",
    "dispute": "正在为你转接人工客服核实订单问题，请稍候。",
    "repeated_failure": "抱歉没能帮到你，正在为你转接人工客服。",
}


class Chinese:
    """Chinese phrasing; bare decimal amounts."""

    separator = "；"

    def deal(self, type_: str, saving: str | None, min_spend: str | None, needs_claim: bool) -> str:
        if type_ == "threshold":
            if min_spend and saving:
                text = f"满{min_spend}减{saving}"
            elif min_spend:
                text = f"满{min_spend}可享满减"
            else:
                text = f"满减立省{saving}" if saving else "满减活动"
        elif type_ in ("coupon", "new_user"):
            name = _DEAL_NAMES[type_]
            if min_spend and saving:
                text = f"{name}满{min_spend}减{saving}"
            elif saving:
                text = f"{name}减{saving}"
            elif min_spend:
                text = f"{name}满{min_spend}可用"
            else:
                text = f"可用{name}"
        elif type_ == "free_shipping":
            text = f"满{min_spend}包邮" if min_spend else "包邮"
        else:
            name = _DEAL_NAMES.get(type_, "优惠")
            text = f"{name}，省{saving}" if saving else name
        if needs_claim:
            text = self.with_claim(text)
        return text

    def claim_also(self, saving: str | None) -> str:
        coupon = f"减{saving}的优惠券" if saving else "优惠券"
        return self.with_claim(f"+ {coupon}")

    def ends(self, span: Span) -> str:
        if span.unit == "min":
            return f"{span.value}分钟后结束"
        if span.unit == "h":
            return f"{span.value}小时后结束"
        if span.unit == "today":
            return "今天结束"
        if span.unit == "tomorrow":
            return "明天结束"
        if span.unit == "days":
            return f"{span.value}天后结束"
        return f"截至{span.date}"

    def gap(self, add: str, unlocks: str, free_shipping: bool) -> str:
        if free_shipping:
            return f"再买{add}即可包邮"
        return f"再买{add}可再减{unlocks}"

    def bought_brand(self, brand: str) -> str:
        return f"你买过{brand}"

    def within_budget(self) -> str:
        return "在你的预算内"

    def in_category(self, category: str) -> str:
        return f"来自{category.replace('/', ' > ')}类目"

    def plain_why(self) -> str:
        return "符合你的要求"

    def activity_kind(self, type_: str) -> str:
        return _DEAL_NAMES.get(type_, "促销活动")

    def with_claim(self, text: str) -> str:
        return f"{text}（需先领取）"

    def intro(self, count: int, min_price: str | None, max_price: str | None) -> str:
        if min_price and max_price:
            return f"为你挑了{count}个{min_price}到{max_price}之间的："
        if max_price:
            return f"为你挑了{count}个{max_price}以内的："
        if min_price:
            return f"为你挑了{count}个{min_price}以上的："
        return f"为你挑了{count}个："

    def relaxed(self, what: list[str]) -> str:
        return "没有完全符合条件的结果，所以我" + "、".join(_RELAXED[w] for w in what) + "。"

    def no_results(self) -> str:
        return "抱歉，没有找到符合条件的结果。换个品类或调整一下预算试试？"

    def item_line(
        self, number: int, title: str, final_price: str | None, was: str | None, why: str
    ) -> str:
        head = f"{number}. {title}"
        if final_price is not None:
            head += f" — {final_price}"
            if was is not None:
                head += f"（原价{was}）"
        return f"{head} · {why}" if why else head

    def offer_intro(self, count: int) -> str:
        return "这些优惠可以领取：" if count > 1 else "这个优惠可以领取："

    def no_offers(self) -> str:
        return "目前没有可领取的优惠券。"

    def offer_outro(self) -> str:
        return "下单前记得先领取，优惠才会生效。"

    def coupons_intro(self, count: int) -> str:
        return f"你有{count}张优惠券："

    def coupon_line(
        self, title: str, code: str, amount: str, valid_until: str, state: str | None
    ) -> str:
        line = f"- {title}（券码{code}）：减{amount}，有效期至{valid_until}"
        if state == "used":
            line += "（已使用）"
        elif state == "expired":
            line += "（已过期）"
        return line

    def no_coupons(self) -> str:
        return "你还没有优惠券。想要的话，我可以帮你找找能领的券。"

    def ineligible(
        self,
        reason: str,
        title: str,
        min_spend: str | None,
        missing: str | None,
        date: str | None,
    ) -> str:
        if reason == "min_spend_not_met" and min_spend:
            text = f"「{title}」需满{min_spend}才能使用"
            return f"{text}，还差{missing}。" if missing else f"{text}。"
        if reason == "min_spend_not_met" and missing:
            return f"「{title}」还差{missing}才能使用。"
        if reason == "expired" and date:
            return f"「{title}」已于{date}结束。"
        if reason == "not_started" and date:
            return f"「{title}」{date}才开始。"
        template = _INELIGIBLE.get(reason, "「{title}」目前不适用于你的订单。")
        return template.format(title=title)

    def no_ineligible(self) -> str:
        return "我没有发现对你不适用的优惠券或活动；人工客服可以帮你查一下订单。"

    def clarify(self, question: str | None) -> str:
        return _CLARIFY.get(question or "", "能再多说说你想找什么吗？")

    def handoff(self, reason: str | None) -> str:
        return _HANDOFF.get(reason or "", "正在为你转接人工客服，请稍候。")

    def out_of_scope(self) -> str:
        return "我可以帮你找本店的商品、活动和优惠券。你想买点什么？"

    def small_talk(self) -> str:
        return "你好！我可以帮你找商品、活动和优惠券。今天想买点什么？"


CHINESE = Chinese()
"""The Chinese templates."""
