"""Recommendation cards and the "My coupons" table as HTML, from the ``/v1/chat`` JSON."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel.numbers import get_currency_symbol

from ui.gradio_app._text import CLAIM_STATUS, DEAL_LABELS, REFUSALS, Lang, t

__all__ = ["CouponRow", "card_html", "claimable_activity", "coupons_html", "esc", "money"]


def esc(value: object) -> str:
    """``value`` as HTML text (quotes escaped too)."""
    return html.escape(str(value), quote=True)


def money(amount: str | None, currency: str | None) -> str:
    """A decimal string with its currency's symbol (``$59.90``), or the code after it."""
    if amount is None:
        return ""
    if not currency:
        return amount
    symbol = get_currency_symbol(currency, locale="en_US")
    return f"{amount} {currency}" if symbol == currency else f"{symbol}{amount}"


def _parse_utc(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _countdown(ends_at: datetime, now: datetime, lang: Lang) -> str:
    minutes = max(0, int((ends_at - now).total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    # Two units at most: "2 d 5 h", "1 h 30 min", "12 min".
    units = [(days, "d", "天"), (hours, "h", "小时"), (mins, "min", "分")]
    first = next((i for i, (n, _, _) in enumerate(units) if n), 2)
    shown = [u for u in units[first : first + 2] if u[0] or u is units[first]]
    if lang == "zh":
        return "".join(f"{n}{zh}" for n, _, zh in shown)
    return " ".join(f"{n} {en}" for n, en, _ in shown)


def claimable_activity(rec: dict[str, Any]) -> str | None:
    """The coupon a card's claim button claims: its first deal that needs a claim (an activity
    card's deals hold itself), or ``None``."""
    for deal in rec.get("deals") or []:
        if deal.get("needs_claim"):
            activity: str = deal["activity_id"]
            return activity
    if rec.get("kind") == "activity" and rec.get("needs_claim"):
        own: str = rec["id"]
        return own
    return None


def card_html(
    rec: dict[str, Any],
    *,
    lang: Lang,
    now: datetime,
    note: dict[str, Any] | None = None,
    currency: str | None = None,
) -> str:
    """One recommendation card as HTML (everything from the ``/v1/chat`` recommendation).

    Args:
        rec: A recommendation of the ``/v1/chat`` response.
        lang: The labels' language.
        now: The current time, for a flash sale's countdown.
        note: What the shopper did with the card (``claim``, ``refused``, ``add_to_cart``).
        currency: The shop currency, for cards that carry none (an activity's savings).
    """
    currency = rec.get("currency") or currency
    deals: list[dict[str, Any]] = rec.get("deals") or []
    title = rec.get("title") or rec.get("id", "")
    # Shown under the image, and instead of it when it cannot load.
    initial = "%" if rec.get("kind") == "activity" else esc(title.strip()[:1].upper() or "?")
    image = rec.get("image_url")
    img = (
        f'<img src="{esc(image)}" alt="" loading="lazy" referrerpolicy="no-referrer" '
        "onerror=\"this.style.display='none'\">"
        if image
        else ""
    )
    badges = []
    for deal in deals[:2]:
        label = DEAL_LABELS.get(deal.get("type", ""), {}).get(lang) or deal.get("title", "")
        saving = deal.get("saving")
        amount = f" −{money(saving, currency)}" if saving and saving.strip("0.") else ""
        cls = " sa-flash" if deal.get("type") == "flash_sale" else ""
        badges.append(
            f'<span class="sa-badge{cls}" title="{esc(deal.get("title", ""))}">'
            f"{esc(label)}{esc(amount)}</span>"
        )
    if rec.get("needs_claim") and "claim" not in (note or {}):
        badges.append(f'<span class="sa-badge sa-claim">{esc(t("needs_claim", lang))}</span>')
    lines = [f'<div class="sa-badges">{"".join(badges)}</div>'] if badges else []
    lines.append(f'<div class="sa-title">{esc(title)}</div>')
    price, final = rec.get("price"), rec.get("final_price")
    if price or final:
        was = f"<s>{esc(money(price, currency))}</s>" if price and final and price != final else ""
        shown = money(final or price, currency)
        lines.append(f'<div class="sa-price">{was}<b class="sa-final">{esc(shown)}</b></div>')
    elif deals and deals[0].get("saving"):
        save = f"{t('save', lang)} {money(deals[0]['saving'], currency)}"
        lines.append(f'<div class="sa-price"><b class="sa-final">{esc(save)}</b></div>')
    flash_end = min(
        (
            end
            for d in deals
            if d.get("type") == "flash_sale" and (end := _parse_utc(d.get("ends_at"))) is not None
        ),
        default=None,
    )
    if flash_end is not None and flash_end > now:
        left = _countdown(flash_end, now, lang)
        lines.append(
            f'<div class="sa-countdown" data-ends="{esc(flash_end.isoformat())}">'
            f"{esc(t('ends_in', lang))} {esc(left)}</div>"
        )
    elif (until := _parse_utc(rec.get("valid_until"))) is not None:
        lines.append(
            f'<div class="sa-until">{esc(t("valid_until", lang))} '
            f"{esc(until.strftime('%Y-%m-%d %H:%M'))} UTC</div>"
        )
    if rec.get("reason"):
        lines.append(f'<div class="sa-why">{esc(rec["reason"])}</div>')
    gap = rec.get("cart_gap")
    if gap:
        text = t("gap", lang).format(
            add=money(gap["add"], currency), unlocks=money(gap["unlocks"], currency)
        )
        lines.append(f'<div class="sa-gap">{esc(text)}</div>')
    note = note or {}
    if "claim" in note:
        claim = note["claim"]
        until = _parse_utc(claim["valid_until"])
        until_text = "" if until is None else until.strftime("%Y-%m-%d %H:%M UTC")
        lines.append(
            f'<div class="sa-note sa-code" data-claim="{esc(claim["claim_id"])}">'
            f"{esc(t('code', lang))}: <code>{esc(claim['code'])}</code> "
            f"({esc(t('valid_until', lang))} {esc(until_text)})</div>"
        )
    elif "refused" in note:
        reason = note["refused"]
        text = REFUSALS.get(reason, {}).get(lang) or note.get("message", reason)
        lines.append(
            f'<div class="sa-note sa-refused" data-reason="{esc(reason)}">{esc(text)}</div>'
        )
    if note.get("add_to_cart"):
        lines.append(f'<div class="sa-note">{esc(t("added", lang))}</div>')
    return (
        f'<div class="sa-card" data-impression="{esc(rec.get("impression_id", ""))}" '
        f'data-kind="{esc(rec.get("kind", ""))}">'
        f'<div class="sa-img">{initial}{img}</div>'
        f'<div class="sa-body">{"".join(lines)}</div></div>'
    )


@dataclass(frozen=True, slots=True)
class CouponRow:
    """One of the user's claims, for "My coupons"."""

    code: str
    title: str
    amount: str
    status: str
    valid_until: datetime
    created_at: datetime


def coupons_html(rows: Sequence[CouponRow], lang: Lang) -> str:
    """The user's claims as an HTML table (newest first)."""
    if not rows:
        return f'<p class="sa-no-coupons">{esc(t("no_coupons", lang))}</p>'
    head = "".join(
        f"<th>{esc(t(k, lang))}</th>"
        for k in ("col_code", "col_coupon", "col_amount", "col_status", "col_until")
    )
    body = "".join(
        f"<tr><td><code>{esc(r.code)}</code></td><td>{esc(r.title)}</td>"
        f"<td>{esc(r.amount)}</td>"
        f"<td>{esc(CLAIM_STATUS.get(r.status, {}).get(lang, r.status))}</td>"
        f"<td>{esc(r.valid_until.strftime('%Y-%m-%d %H:%M'))} UTC</td></tr>"
        for r in rows
    )
    return f'<table class="sa-coupons"><tr>{head}</tr>{body}</table>'
