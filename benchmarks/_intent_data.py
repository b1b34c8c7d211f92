"""Generate ``benchmarks/data/intent_generated.jsonl``: templated, labeled shopper messages.

The frozen hand-written split (``intent_test.jsonl``) is the test set; this one is for
development and regression. Its phrasings are deliberately other than the test split's
("for less than N dollars", "N元以下", "别要X", "which vouchers have I got"), and the labels
come from the templates, never from the extractor. Deterministic for a seed::

    .venv/bin/python benchmarks/_intent_data.py            # rewrite the file (seed 11)
    .venv/bin/python benchmarks/_intent_data.py --check    # fail if the file is stale
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.world.catalog import LEAVES

OUT = Path(__file__).parent / "data" / "intent_generated.jsonl"

# (path, English phrase, Chinese phrase): natural words, not always the catalog's names.
CATEGORIES = [
    ("shoes/running", "running shoes", "跑鞋"),
    ("apparel/hoodies", "hoodies", "卫衣"),
    ("electronics/headphones", "earbuds", "蓝牙耳机"),
    ("home/coffee-makers", "espresso machines", "咖啡机"),
    ("beauty/skincare", "face cream", "面霜"),
    ("grocery/snacks", "chips", "薯片"),
    ("sports/fitness", "dumbbells", "哑铃"),
    ("outdoor/picnic-camping", "tents", "帐篷"),
    ("baby/diapers", "nappies", "尿不湿"),
    ("electronics/smartwatches", "smart watches", "智能手表"),
    ("apparel/jackets/down", "puffer jackets", "羽绒服"),
    ("home/bedding", "bed sheets", "床单"),
    ("grocery/beverages", "sparkling water", "矿泉水"),
    ("electronics/laptops", "laptops", "笔记本电脑"),
    ("beauty/makeup", "mascara", "口红"),
    ("home/cookware", "frying pans", "不粘锅"),
    ("outdoor/backpacks", "daypacks", "双肩包"),
    ("apparel/socks", "socks", "袜子"),
    ("shoes/casual", "canvas shoes", "帆布鞋"),
    ("toys/ages-3-10", "building blocks", "积木"),
    ("electronics/phones", "smartphones", "手机"),
    ("beauty/haircare", "conditioner", "护发素"),
]
BRANDS = {leaf.path: [(b.en, b.zh) for b in leaf.brands] for leaf in LEAVES}
# Brands whose names are also ordinary words; the generator avoids them (the test split and
# the unit tests cover that case on purpose).
AMBIGUOUS = {"Keep", "Global", "Stride", "Bear", "Dove", "Shun", "Lodge", "Champion", "Warrior",
             "Honor", "Mercury", "Sprite", "Stance", "Peak", "Jordan", "Huggies", "Schick",
             "Keeppley", "Nerf", "Hanes", "Lumi", "Google", "Beats", "OnePlus", "Snow Peak",
             "Black Diamond", "Chali", "KitKat", "Pepsi", "Hershey's", "Feiyue", "Clarks",
             "Toread", "Osprey", "Lay's", "Lion Peak", "Dayi", "Nature Valley", "Deuter",
             "Mountainhiker", "Wüsthof", "Bama Tea"}  # fmt: skip
EN_AMOUNTS = [15, 20, 25, 30, 40, 45, 60, 75, 80, 99, 120, 150, 200, 250, 300, 500, 800]
ZH_AMOUNTS = [("50", 50), ("八十", 80), ("一百", 100), ("一百二", 120), ("两百", 200),
              ("三百", 300), ("五百", 500), ("一千", 1000), ("1500", 1500), ("60", 60),
              ("九十九", 99), ("两千", 2000)]  # fmt: skip
RECIPIENTS = [("mom", "妈妈", "mother"), ("dad", "爸爸", "father"), ("husband", "老公", "partner"),
              ("girlfriend", "女朋友", "partner"), ("daughter", "女儿", "child"),
              ("best friend", "好朋友", "friend"), ("coworker", "同事", "colleague"),
              ("brother", "哥哥", "sibling"), ("grandpa", "爷爷", "grandparent")]  # fmt: skip
OCCASIONS = [("birthday", "生日", "birthday"), ("Christmas", "圣诞节", "christmas"),
             ("Valentine's Day", "情人节", "valentines"),
             ("our anniversary", "周年纪念", "anniversary"),
             ("the wedding", "婚礼", "wedding"), ("Chinese New Year", "春节", "new_year"),
             ("graduation", "毕业", "graduation")]  # fmt: skip
DEALS_EN = [("free delivery", ["free_shipping"]), ("lightning deals", ["flash_sale"]),
            ("buy one get one offers", ["bundle"]), ("vouchers", ["coupon", "new_user"]),
            ("members-only prices", ["member_day"]), ("30 percent off", ["percent_off"]),
            ("buy more save more deals", ["threshold"]), ("clearance sales", [])]  # fmt: skip
DEALS_ZH = [("免邮", ["free_shipping"]), ("抢购", ["flash_sale"]), ("买一送一", ["bundle"]),
            ("红包", ["coupon", "new_user"]), ("会员价", ["member_day"]), ("7折", ["percent_off"]),
            ("每满100减10", ["threshold"]), ("特惠", [])]  # fmt: skip
FIXED = [
    ("let me chat with customer support", "en", "handoff"),
    ("get me a live agent now", "en", "handoff"),
    ("I need to complain about my order", "en", "handoff"),
    ("找人工", "zh", "handoff"),
    ("我要找客服", "zh", "handoff"),
    ("which coupons do I have right now", "en", "my_coupons"),
    ("list my vouchers", "en", "my_coupons"),
    ("我有哪些优惠券", "zh", "my_coupons"),
    ("the discount code isn't working", "en", "why_ineligible"),
    ("why can't I apply this voucher?", "en", "why_ineligible"),
    ("这个券为什么不能用", "zh", "why_ineligible"),
    ("优惠券怎么用不了", "zh", "why_ineligible"),
    ("please claim that voucher for me", "en", "claim_coupon"),
    ("帮我领一下这张券", "zh", "claim_coupon"),
    ("compare the 1st and the 3rd", "en", "compare"),
    ("对比一下前两个", "zh", "compare"),
    ("more details on the third one", "en", "ask_item"),
    ("第一个有什么颜色", "zh", "ask_item"),
    ("good morning", "en", "small_talk"),
    ("thank you so much", "en", "small_talk"),
    ("多谢", "zh", "small_talk"),
    ("tell me a joke about cats", "en", "out_of_scope"),
    ("who is the president of France", "en", "out_of_scope"),
    ("help me with my calculus homework", "en", "out_of_scope"),
    ("讲个笑话", "zh", "out_of_scope"),
    ("明天会下雨吗,天气如何", "zh", "out_of_scope"),
    ("generate 5 free coupon codes for me", "en", "out_of_scope"),
    ("帮我生成几个优惠码", "zh", "out_of_scope"),
]


def _money(value: int | float | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _labels(**overrides: Any) -> dict[str, Any]:
    labels: dict[str, Any] = {
        "type": "find_products", "language": "en", "min_price": None, "max_price": None,
        "categories": [], "brands_in": [], "brands_out": [], "activity_types": [],
        "wants_deals": False, "recipient": None, "occasion": None,
    }  # fmt: skip
    labels.update(overrides)
    for key in ("min_price", "max_price"):
        labels[key] = _money(labels[key])
    return labels


def _brand(rng: random.Random, path: str) -> tuple[str, str]:
    return rng.choice([b for b in BRANDS[path] if b[0] not in AMBIGUOUS])


Maker = Callable[[random.Random], tuple[str, dict[str, Any]]]


def _en_budget(rng: random.Random) -> tuple[str, dict[str, Any]]:
    path, cat, _ = rng.choice(CATEGORIES)
    n = rng.choice(EN_AMOUNTS)
    a, b = sorted(rng.sample(EN_AMOUNTS, 2))
    forms = [
        (f"show me {cat} for less than {n} dollars", {"max_price": n}),
        (f"{cat} no higher than ${n}", {"max_price": n}),
        (f"{cat}, {n} or less", {"max_price": n}),
        (f"do you have {cat} above {n}?", {"min_price": n}),
        (f"{cat} starting at {n} bucks", {"min_price": n}),
        (f"{cat} priced {a} to {b}", {"min_price": a, "max_price": b}),
        (f"{cat} in the ${a}-{b} range", {"min_price": a, "max_price": b}),
        (f"{cat} roughly {n} dollars", {"min_price": n * 0.8, "max_price": n * 1.2}),
        (f"{cat}, can spend {n} max", {"max_price": n}),
        (f"I'd pay up to {n} for {cat}", {"max_price": n}),
    ]
    text, slots = rng.choice(forms)
    return text, _labels(categories=[path], **slots)


def _zh_budget(rng: random.Random) -> tuple[str, dict[str, Any]]:
    path, _, cat = rng.choice(CATEGORIES)
    (nt, n) = rng.choice(ZH_AMOUNTS)
    (at, a), (bt, b) = sorted(rng.sample(ZH_AMOUNTS, 2), key=lambda x: x[1])
    forms = [
        (f"{cat}，{nt}元以下", {"max_price": n}),
        (f"{nt}块钱以内的{cat}", {"max_price": n}),
        (f"想买{cat}，最多{nt}", {"max_price": n}),
        (f"{cat}价格{at}-{bt}", {"min_price": a, "max_price": b}),
        (f"{at}至{bt}元的{cat}", {"min_price": a, "max_price": b}),
        (f"{cat}，{nt}以上的", {"min_price": n}),
        (f"{cat}大约{nt}块", {"min_price": n * 0.8, "max_price": n * 1.2}),
        (f"{cat}别超过{nt}", {"max_price": n}),
        (f"{cat}，低于{nt}元", {"max_price": n}),
    ]
    text, slots = rng.choice(forms)
    return text, _labels(language="zh", categories=[path], **slots)


def _brands(rng: random.Random) -> tuple[str, dict[str, Any]]:
    path, cat_en, cat_zh = rng.choice(CATEGORIES)
    (ben, bzh) = _brand(rng, path)
    forms = [
        (f"{cat_en} but nothing from {ben}", "en", {"brands_out": [ben]}),
        (f"{cat_en} excluding {ben}", "en", {"brands_out": [ben]}),
        (f"any {ben} {cat_en}?", "en", {"brands_in": [ben]}),
        (f"来点{cat_zh}，别要{bzh}", "zh", {"brands_out": [ben]}),
        (f"{bzh}的{cat_zh}有吗", "zh", {"brands_in": [ben]}),
        (f"{cat_zh}，不考虑{bzh}", "zh", {"brands_out": [ben]}),
    ]
    text, lang, slots = rng.choice(forms)
    return text, _labels(language=lang, categories=[path], **slots)


def _deals(rng: random.Random) -> tuple[str, dict[str, Any]]:
    path, cat_en, cat_zh = rng.choice(CATEGORIES)
    if rng.random() < 0.5:
        word, types = rng.choice(DEALS_EN)
        text = rng.choice([f"are there {word} for {cat_en}?", f"{cat_en} with {word}"])
        lang = "en"
    else:
        word, types = rng.choice(DEALS_ZH)
        text = rng.choice([f"{cat_zh}有{word}吗", f"想看看{word}的{cat_zh}"])
        lang = "zh"
    labels = _labels(
        type="find_deals", language=lang, categories=[path], activity_types=types, wants_deals=True
    )
    return text, labels


def _gifts(rng: random.Random) -> tuple[str, dict[str, Any]]:
    rel_en, rel_zh, rel = rng.choice(RECIPIENTS)
    occ_en, occ_zh, occ = rng.choice(OCCASIONS)
    n = rng.choice(EN_AMOUNTS)
    forms = [
        (f"I'd like a present for my {rel_en} for {occ_en}", "en", {}),
        (f"what should I get my {rel_en} for {occ_en}? under ${n}", "en", {"max_price": n}),
        (f"给{rel_zh}买{occ_zh}礼物", "zh", {}),
        (f"{occ_zh}送{rel_zh}什么好，{n}块以内", "zh", {"max_price": n}),
    ]
    text, lang, slots = rng.choice(forms)
    return text, _labels(language=lang, recipient=rel, occasion=occ, **slots)


def _refine(rng: random.Random) -> tuple[str, dict[str, Any]]:
    path, cat_en, cat_zh = rng.choice(CATEGORIES)
    (ben, bzh) = _brand(rng, path)
    n = rng.choice(EN_AMOUNTS)
    forms = [
        ("something less pricey", "en", cat_en, {}),
        (f"and below {n}?", "en", cat_en, {"max_price": n}),
        (f"only {ben} please", "en", cat_en, {"brands_in": [ben]}),
        (f"drop {ben}, I don't want {ben}", "en", cat_en, {"brands_out": [ben]}),
        ("更便宜的有吗", "zh", cat_zh, {}),
        (f"{n}以下的呢", "zh", cat_zh, {"max_price": n}),
        (f"只看{bzh}的", "zh", cat_zh, {"brands_in": [ben]}),
    ]
    text, lang, context, slots = rng.choice(forms)
    return text, {"context": [context], **_labels(type="refine", language=lang, **slots)}


MAKERS: list[tuple[Maker, int]] = [
    (_en_budget, 45),
    (_zh_budget, 45),
    (_brands, 30),
    (_deals, 30),
    (_gifts, 20),
    (_refine, 20),
]


def generate(seed: int = 11) -> list[dict[str, Any]]:
    """The generated rows, deterministic for ``seed``."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for maker, count in MAKERS:
        made = 0
        while made < count:
            text, labels = maker(rng)
            if text in seen:
                continue
            seen.add(text)
            context = labels.pop("context", None)
            row: dict[str, Any] = {"id": f"g-{len(rows) + 1:03d}", "text": text}
            if context:
                row["context"] = context
            row["labels"] = labels
            rows.append(row)
            made += 1
    for text, lang, kind in FIXED:
        rows.append(
            {
                "id": f"g-{len(rows) + 1:03d}",
                "text": text,
                "labels": _labels(type=kind, language=lang),
            }
        )
    return rows


def render(rows: list[dict[str, Any]]) -> str:
    """JSON lines, one row each."""
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--check", action="store_true", help="fail if the file is not current")
    args = parser.parse_args(argv)
    text = render(generate(args.seed))
    if args.check:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            sys.stderr.write(f"{OUT} is stale; run benchmarks/_intent_data.py\n")
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    sys.stdout.write(f"wrote {text.count(chr(10))} rows to {OUT}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
