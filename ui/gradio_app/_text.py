"""The Shopper tab's words in English and Chinese, and the cards' CSS."""

from __future__ import annotations

from typing import Literal

__all__ = [
    "CLAIM_STATUS",
    "CSS",
    "DEAL_LABELS",
    "DEFAULT_USER",
    "LANGUAGES",
    "MAX_USER_CHARS",
    "REFUSALS",
    "SLOTS",
    "TEXT",
    "Lang",
    "lang_of",
    "t",
]

DEFAULT_USER = "demo-shopper"
SLOTS = 3
"""Card slots on the page: the policy shows k = 3."""
MAX_USER_CHARS = 128
LANGUAGES = {"English": "en", "中文": "zh"}
Lang = Literal["en", "zh"]

TEXT: dict[str, dict[Lang, str]] = {
    "tab": {"en": "Shopper", "zh": "购物助手"},
    "user": {"en": "User id", "zh": "用户 ID"},
    "language": {"en": "Language", "zh": "语言"},
    "hint": {
        "en": "Ask in English or Chinese: the assistant answers in the language of your message. "
        "Try *running shoes under $80* or *casual shoes under $70 with a coupon*.",
        "zh": "用中文或英文提问，助手按你的消息语言回答。试试“有没有打折的羽绒服”或"
        "“running shoes under $80”。",
    },
    "chat": {"en": "Chat", "zh": "对话"},
    "message": {"en": "Message", "zh": "消息"},
    "placeholder": {
        "en": "What are you looking for?",
        "zh": "想买点什么？",
    },
    "send": {"en": "Send", "zh": "发送"},
    "cards": {"en": "Recommendations", "zh": "为你推荐"},
    "claim": {"en": "Claim coupon", "zh": "领取优惠券"},
    "cart": {"en": "Add to cart", "zh": "加入购物车"},
    "in_cart": {"en": "✓ In cart", "zh": "✓ 已加入"},
    "dismiss": {"en": "Not interested", "zh": "不感兴趣"},
    "coupons": {"en": "My coupons", "zh": "我的优惠券"},
    "refresh": {"en": "Refresh", "zh": "刷新"},
    "no_coupons": {"en": "No coupons claimed yet.", "zh": "还没有领取优惠券。"},
    "code": {"en": "Your code", "zh": "券码"},
    "valid_until": {"en": "valid until", "zh": "有效期至"},
    "ends_in": {"en": "Flash sale ends in", "zh": "限时秒杀还剩"},
    "gap": {"en": "Add {add} more to save {unlocks} more", "zh": "再买 {add} 可再省 {unlocks}"},
    "added": {"en": "Added to your cart.", "zh": "已加入购物车。"},
    "needs_claim": {"en": "claim first", "zh": "需先领取"},
    "save": {"en": "Save", "zh": "省"},
    "col_code": {"en": "Code", "zh": "券码"},
    "col_coupon": {"en": "Coupon", "zh": "优惠券"},
    "col_amount": {"en": "Value", "zh": "面额"},
    "col_status": {"en": "Status", "zh": "状态"},
    "col_until": {"en": "Valid until", "zh": "有效期至"},
    "dev_only": {
        "en": "The shopper demo acts as the user typed in the box, so it runs in dev mode only "
        "(SHOPASSIST_ENV=dev); shops embed /widget.js with signed tokens instead.",
        "zh": "购物演示以输入框中的用户身份操作，仅在开发模式（SHOPASSIST_ENV=dev）可用；"
        "商店请嵌入 /widget.js 并使用签名令牌。",
    },
    "agent_says": {"en": "Customer service", "zh": "人工客服"},
    "agent_back": {
        "en": "The customer-service agent has left; the shopping assistant answers again.",
        "zh": "人工客服已离开，购物助手继续为你服务。",
    },
    "no_user": {
        "en": f"Type a user id (1-{MAX_USER_CHARS} characters) first.",
        "zh": f"请先输入用户 ID（1-{MAX_USER_CHARS} 个字符）。",
    },
}

REFUSALS: dict[str, dict[Lang, str]] = {
    "budget_exhausted": {
        "en": "This coupon has run out: its budget is used up.",
        "zh": "这张优惠券已被领完。",
    },
    "per_user_limit": {
        "en": "You already hold as many of this coupon as one shopper may.",
        "zh": "你已达到这张优惠券的领取上限。",
    },
    "not_eligible": {
        "en": "You are not eligible for this coupon, or it applies by itself with no claim.",
        "zh": "你不符合领取条件，或该优惠无需领取即可享受。",
    },
    "expired": {"en": "This coupon has ended.", "zh": "这张优惠券已过期。"},
}

DEAL_LABELS: dict[str, dict[Lang, str]] = {
    "flash_sale": {"en": "Flash sale", "zh": "限时秒杀"},
    "percent_off": {"en": "Sale", "zh": "折扣"},
    "member_day": {"en": "Member day", "zh": "会员日"},
    "threshold": {"en": "Spend & save", "zh": "满减"},
    "bundle": {"en": "Bundle", "zh": "组合优惠"},
    "coupon": {"en": "Coupon", "zh": "优惠券"},
    "new_user": {"en": "New-shopper coupon", "zh": "新人券"},
    "free_shipping": {"en": "Free shipping", "zh": "包邮"},
}

CLAIM_STATUS: dict[str, dict[Lang, str]] = {
    "reserved": {"en": "ready to use", "zh": "可使用"},
    "redeemed": {"en": "used", "zh": "已使用"},
    "released": {"en": "released", "zh": "已释放"},
}

# The cards use system fonts: Gradio's bundled Source Sans Pro lacks glyphs at weight 600.
CSS = """
.sa-card{display:flex;gap:12px;padding:12px;border:1px solid #d0d7de;border-radius:12px;
  background:#fff;color:#1d232b;font-size:14px;line-height:1.4;
  font-family:ui-sans-serif,system-ui,sans-serif}
.sa-img{position:relative;flex:none;width:88px;height:88px;border-radius:8px;overflow:hidden;
  background:linear-gradient(135deg,#dbeafe,#fce7f3);display:flex;align-items:center;
  justify-content:center;font-size:30px;font-weight:700;color:#1f6feb}
.sa-img img{position:absolute;inset:0;width:100%;height:100%;object-fit:cover}
.sa-body{flex:1;min-width:0}
.sa-title{font-weight:600;font-size:15px;margin:2px 0}
.sa-badge{display:inline-block;font-size:12px;font-weight:600;padding:1px 8px;border-radius:10px;
  background:#fff1e5;color:#bc4c00;margin-right:4px}
.sa-badge.sa-flash{background:#ffebe9;color:#cf222e}
.sa-badge.sa-claim{background:#dafbe1;color:#1a7f37}
.sa-price s{color:#656d76;margin-right:6px}
.sa-final{color:#cf222e;font-size:17px}
.sa-countdown{color:#cf222e;font-size:12px;font-weight:600}
.sa-why,.sa-until{color:#57606a;font-size:12px}
.sa-gap{color:#0969da;font-size:12px}
.sa-note{margin-top:6px;font-size:13px;padding:4px 8px;border-radius:6px;background:#f6f8fa}
.sa-code code{font-weight:700;color:#1a7f37;font-size:14px}
.sa-refused{background:#fff8c5;color:#7d4e00}
.sa-coupons{width:100%;border-collapse:collapse;font-size:13px}
.sa-coupons th,.sa-coupons td{text-align:left;padding:4px 8px;border-bottom:1px solid #d0d7de}
.sa-coupons code{font-weight:700;color:#1a7f37}
"""


def t(key: str, lang: Lang) -> str:
    """The label ``key`` in ``lang``."""
    return TEXT[key][lang]


def lang_of(choice: str | None) -> Lang:
    """The language of the toggle's choice (``English`` or ``中文``)."""
    return "zh" if LANGUAGES.get(choice or "") == "zh" else "en"
