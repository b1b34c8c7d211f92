"""Demo catalog vocabulary: baby."""

from __future__ import annotations

from assistant.world._vocab import (
    CONSUMABLE_CLOSERS,
    Axis,
    Leaf,
    Price,
    brand,
    opt,
)

__all__ = ["LEAVES"]

DIAPERS = Leaf(
    path="baby/diapers",
    names=("Diapers", "纸尿裤"),
    share=3.0,
    price=Price(28, 0.2, 10, 80),
    brands=(
        brand(
            "Pampers",
            "帮宝适",
            1.1,
            ("Swaddlers", "一级帮"),
            ("Baby-Dry", "超薄干爽"),
            ("Pure Protection", "清新帮"),
        ),
        brand(
            "Huggies",
            "好奇",
            1.05,
            ("Little Snugglers", "心钻装"),
            ("Little Movers", "铂金装"),
            ("Natural Care", "小森林"),
        ),
        brand("Merries", "花王妙而舒", 1.2, ("Classic", "经典系列")),
        brand("MamyPoko", "妈咪宝贝", 0.8, ("Air Fit", "云柔干爽")),
        brand("Moony", "尤妮佳moony", 1.15, ("Natural", "皇家系列")),
        brand("Babycare", "babycare", 1.0, "Air Pro"),
    ),
    axes=(
        Axis("type", (opt("Tape Diapers", "纸尿裤"), opt("Pull-Up Pants", "拉拉裤", 1.1))),
        Axis(
            "size",
            (
                opt("Newborn", "NB码", 0.9, "nb"),
                opt("Size 1 (S)", "S码", value="s"),
                opt("Size 2 (M)", "M码", value="m"),
                opt("Size 3 (L)", "L码", value="l"),
                opt("Size 4 (XL)", "XL码", value="xl"),
                opt("Size 5 (XXL)", "XXL码", value="xxl"),
            ),
        ),
        Axis("pack", (opt("Value Pack", "超值装"), opt("Jumbo Box", "大箱装", 1.7))),
    ),
    title=("{brand} {line} {type}, {size}, {pack}", "{brand} {line} {type} {size} {pack}"),
    intro=(
        "{brand} {line} {type_lc} in {size_lc}, {pack_lc}.",
        "{brand} {line} {type}，{size}，{pack}。",
    ),
    blurbs=(
        ("Soft, breathable layers keep skin dry for up to 12 hours.", "柔软透气，长达12小时干爽。"),
        ("A wetness indicator shows when it is time to change.", "湿显线提醒及时更换。"),
        ("Stretchy sides give a snug, leak-proof fit.", "弹力腰围，贴合防漏。"),
        ("Free from fragrance and latex.", "无香精、无乳胶。"),
    ),
    closers=CONSUMABLE_CLOSERS,
)

BABY_CARE = Leaf(
    path="baby/care",
    names=("Baby care", "婴童护理"),
    share=3.0,
    price=Price(10, 0.2, 3, 45),
    brands=(
        brand(
            "Johnson's Baby",
            "强生婴儿",
            1.0,
            ("Baby Shampoo", "婴儿洗发露", 0.7),
            ("Baby Lotion", "婴儿润肤露", 0.7),
            ("Baby Oil", "婴儿润肤油", 0.7),
        ),
        brand(
            "Aveeno Baby",
            "艾惟诺",
            1.0,
            ("Daily Moisture Lotion", "每日倍护润肤乳", 1.1),
            ("Wash & Shampoo", "洗发沐浴二合一", 1.0),
        ),
        brand(
            "Cetaphil Baby",
            "丝塔芙",
            1.0,
            ("Daily Lotion", "婴儿润肤乳", 1.1),
            ("Wash & Shampoo", "婴儿洗发沐浴露", 1.0),
        ),
        brand(
            "Frog Prince",
            "青蛙王子",
            1.0,
            ("Kids' Face Cream", "儿童面霜", 0.6),
            ("Kids' Toothpaste", "儿童牙膏", 0.4),
        ),
        brand(
            "Babycare",
            "babycare",
            1.0,
            ("Baby Wipes, 80 Count", "婴儿湿巾80抽", 0.45),
            ("Cotton Soft Towels", "婴儿棉柔巾", 0.5),
            ("Baby Laundry Detergent", "婴儿洗衣液", 0.9),
        ),
        brand(
            "Pigeon",
            "贝亲",
            1.0,
            ("Baby Wipes, 80 Count", "婴儿湿巾80抽", 0.5),
            ("Nipple Cream", "乳头霜", 1.0),
            ("Baby Powder", "爽身粉", 0.6),
        ),
        brand(
            "Mustela",
            "妙思乐",
            1.0,
            ("Hydra Bébé Body Lotion", "贝贝润肤乳", 1.6),
            ("Soothing Repair Cream", "舒缓修护霜", 1.8),
        ),
        brand(
            "Dr. Brown's",
            "布朗博士",
            1.0,
            ("Anti-Colic Baby Bottle 270 ml", "防胀气奶瓶 270ml", 1.3),
        ),
        brand(
            "Philips Avent",
            "新安怡",
            1.0,
            ("Natural Baby Bottle 260 ml", "自然原生奶瓶 260ml", 1.4),
            ("Soothie Pacifier", "安抚奶嘴", 0.8),
        ),
    ),
    axes=(
        Axis(
            "pack",
            (
                opt("Single", "单件装", 1.0),
                opt("Twin Pack", "两件装", 1.8),
                opt("Pack of 3", "三件装", 2.5),
                opt("Pack of 6", "六件装", 4.5),
            ),
        ),
    ),
    title=("{brand} {line}, {pack}", "{brand} {line} {pack}"),
    intro=(
        "{brand} {line}, {pack_lc}, for everyday baby care.",
        "{brand} {line}，{pack}，宝宝日常护理必备。",
    ),
    blurbs=(
        ("Tested with pediatricians and gentle on babies.", "经儿科医生测试，温和呵护宝宝。"),
        ("Made without harsh chemicals.", "不含刺激性化学成分。"),
        ("Suitable from newborn.", "新生儿即可使用。"),
        ("A travel-friendly size for the diaper bag.", "便携尺寸，方便放进妈咪包。"),
    ),
    closers=CONSUMABLE_CLOSERS,
)

LEAVES = (DIAPERS, BABY_CARE)
