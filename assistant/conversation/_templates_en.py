"""English reply templates (see :class:`assistant.conversation._templates_base.Templates`)."""

from __future__ import annotations

from assistant.conversation._templates_base import Span

__all__ = ["ENGLISH", "English"]

_DEAL_NAMES = {
    "flash_sale": "flash sale",
    "percent_off": "on sale",
    "member_day": "member day",
    "threshold": "spend-more deal",
    "bundle": "bundle deal",
    "coupon": "coupon",
    "new_user": "new-user coupon",
    "free_shipping": "free shipping",
}

_RELAXED = {
    "budget": "widened the budget",
    "category": "looked beyond the category",
    "brand": "included other brands",
    "deals": "included items without a deal",
    "other": "relaxed some filters",
}

_INELIGIBLE = {
    "min_spend_not_met": "'{title}' needs a bigger order.",
    "expired": "'{title}' has ended.",
    "not_started": "'{title}' hasn't started yet.",
    "audience": "'{title}' is limited to certain shoppers (e.g. members or new users).",
    "per_user_limit": "You've already claimed or used '{title}' as many times as allowed.",
    "budget_exhausted": "All of the coupons for '{title}' have been claimed.",
    "out_of_scope": "'{title}' does not cover the items in your cart.",
    "sold_out": "'{title}' is sold out.",
}

_CLARIFY = {
    "category": "What are you shopping for — shoes, electronics, home...?",
    "budget": "What's your budget?",
    "recipient": "Who is it for — yourself, a friend, a family member?",
}

_HANDOFF = {
    "complaint": (
        "I'm sorry about the trouble. I'm connecting you with a customer-service agent "
        "who can sort this out."
    ),
    "dispute": (
        "I'm connecting you with a customer-service agent who can look into your order. "
        "Please wait a moment."
    ),
    "repeated_failure": (
        "Sorry I couldn't help with that. I'm connecting you with a customer-service agent."
    ),
}


class English:
    """English phrasing; no Chinese characters, bare decimal amounts."""

    separator = "; "

    def deal(self, type_: str, saving: str | None, min_spend: str | None, needs_claim: bool) -> str:
        if type_ == "threshold":
            if min_spend and saving:
                text = f"spend {min_spend}, save {saving}"
            elif min_spend:
                text = f"save when you spend {min_spend}"
            else:
                text = f"spend-more deal, save {saving}" if saving else "spend-more deal"
        elif type_ in ("coupon", "new_user"):
            name = _DEAL_NAMES[type_]
            text = f"{name}: {saving} off" if saving else f"{name} available"
            if min_spend:
                text += f" on {min_spend} or more"
        elif type_ == "free_shipping":
            text = f"free shipping on {min_spend} or more" if min_spend else "free shipping"
        else:
            name = _DEAL_NAMES.get(type_, "deal")
            text = f"{name}, save {saving}" if saving else name
        if needs_claim:
            text = self.with_claim(text)
        return text

    def claim_also(self, saving: str | None) -> str:
        coupon = f"a {saving} coupon" if saving else "a coupon"
        return self.with_claim(f"+ {coupon}")

    def ends(self, span: Span) -> str:
        if span.unit == "min":
            return f"ends in {span.value} min"
        if span.unit == "h":
            return f"ends in {span.value} h"
        if span.unit == "today":
            return "ends today"
        if span.unit == "tomorrow":
            return "ends tomorrow"
        if span.unit == "days":
            return f"ends in {span.value} days"
        return f"until {span.date}"

    def gap(self, add: str, unlocks: str, free_shipping: bool) -> str:
        if free_shipping:
            return f"add {add} more for free shipping"
        return f"add {add} more to unlock {unlocks} off"

    def bought_brand(self, brand: str) -> str:
        return f"you bought {brand} before"

    def within_budget(self) -> str:
        return "within your budget"

    def in_category(self, category: str) -> str:
        return f"in {category.replace('/', ' > ')}"

    def plain_why(self) -> str:
        return "matches your search"

    def activity_kind(self, type_: str) -> str:
        return _DEAL_NAMES.get(type_, "promotion")

    def with_claim(self, text: str) -> str:
        return f"{text} (claim it first)"

    def intro(self, count: int, min_price: str | None, max_price: str | None) -> str:
        picks = "1 pick" if count == 1 else f"{count} picks"
        verb = "is" if count == 1 else "are"
        if min_price and max_price:
            return f"Here {verb} {picks} between {min_price} and {max_price}:"
        if max_price:
            return f"Here {verb} {picks} under {max_price}:"
        if min_price:
            return f"Here {verb} {picks} from {min_price} up:"
        return f"Here {verb} {picks} for you:"

    def relaxed(self, what: list[str]) -> str:
        done = [_RELAXED[w] for w in what]
        joined = done[0] if len(done) == 1 else ", ".join(done[:-1]) + " and " + done[-1]
        return f"Nothing matched all your filters, so I {joined}."

    def no_results(self) -> str:
        return (
            "Sorry, nothing matched your search. Try another category or a different budget, "
            "or tell me more about what you need."
        )

    def item_line(
        self, number: int, title: str, final_price: str | None, was: str | None, why: str
    ) -> str:
        head = f"{number}. {title}"
        if final_price is not None:
            head += f" — {final_price}"
            if was is not None:
                head += f" (was {was})"
        return f"{head} · {why}" if why else head

    def offer_intro(self, count: int) -> str:
        return "Here is a deal you can claim:" if count == 1 else "Here are deals you can claim:"

    def no_offers(self) -> str:
        return "There are no coupons to claim for this right now."

    def offer_outro(self) -> str:
        return "Claim before you check out so the discount applies."

    def coupons_intro(self, count: int) -> str:
        return "Your coupon:" if count == 1 else f"Your {count} coupons:"

    def coupon_line(
        self, title: str, code: str, amount: str, valid_until: str, state: str | None
    ) -> str:
        line = f"- {title} (code {code}): {amount} off, valid until {valid_until}"
        if state == "used":
            line += " (used)"
        elif state == "expired":
            line += " (expired)"
        return line

    def no_coupons(self) -> str:
        return "You have no coupons yet. Ask me for deals and I'll find some to claim."

    def ineligible(
        self,
        reason: str,
        title: str,
        min_spend: str | None,
        missing: str | None,
        date: str | None,
    ) -> str:
        if reason == "min_spend_not_met" and min_spend:
            text = f"'{title}' needs a minimum spend of {min_spend}"
            return f"{text}; add {missing} more." if missing else f"{text}."
        if reason == "min_spend_not_met" and missing:
            return f"'{title}' needs a bigger order; add {missing} more."
        if reason == "expired" and date:
            return f"'{title}' ended on {date}."
        if reason == "not_started" and date:
            return f"'{title}' starts on {date}."
        template = _INELIGIBLE.get(reason, "'{title}' doesn't apply to your order right now.")
        return template.format(title=title)

    def no_ineligible(self) -> str:
        return (
            "I couldn't find a coupon or deal that fails for you; "
            "a customer-service agent can check your order."
        )

    def clarify(self, question: str | None) -> str:
        return _CLARIFY.get(
            question or "", "Could you tell me a bit more about what you're looking for?"
        )

    def handoff(self, reason: str | None) -> str:
        return _HANDOFF.get(
            reason or "",
            "I'm connecting you with a customer-service agent. They'll be with you shortly.",
        )

    def out_of_scope(self) -> str:
        return (
            "I can help with products, deals and coupons in this shop. What are you shopping for?"
        )

    def small_talk(self) -> str:
        return (
            "Hi! I can help you find products, deals and coupons. What are you shopping for today?"
        )


ENGLISH = English()
"""The English templates."""
