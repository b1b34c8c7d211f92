"""Demo catalog vocabulary: beauty."""

from __future__ import annotations

from assistant.world._vocab import (
    BEAUTY_EDITIONS,
    CONSUMABLE_CLOSERS,
    GOODS_CLOSERS,
    Axis,
    Leaf,
    Price,
    brand,
    opt,
)

__all__ = ["LEAVES"]

_ML = (opt("30 ml", "30毫升"), opt("50 ml", "50毫升", 1.4), opt("100 ml", "100毫升", 2.1))

SKINCARE = Leaf(
    path="beauty/skincare",
    names=("Skincare", "护肤"),
    share=6.0,
    price=Price(22, 0.22, 5, 400),
    brands=(
        brand(
            "La Roche-Posay",
            "理肤泉",
            1.0,
            ("Toleriane Double Repair Moisturizer", "特安修护保湿乳", 0.9),
            ("Cicaplast Baume B5", "B5修复霜", 0.7),
            ("Anthelios SPF 50 Sunscreen", "特护清爽防晒乳SPF50", 1.1),
        ),
        brand(
            "CeraVe",
            "适乐肤",
            1.0,
            ("Hydrating Facial Cleanser", "保湿洁面乳", 0.6),
            ("Moisturizing Cream", "修护保湿润肤霜", 0.7),
            ("PM Facial Moisturizing Lotion", "夜间保湿乳", 0.7),
        ),
        brand(
            "The Ordinary",
            "The Ordinary",
            1.0,
            ("Niacinamide 10% + Zinc 1% Serum", "10%烟酰胺+1%锌精华", 0.35),
            ("Hyaluronic Acid 2% + B5 Serum", "2%玻尿酸+B5精华", 0.35),
        ),
        brand(
            "Estée Lauder",
            "雅诗兰黛",
            1.0,
            ("Advanced Night Repair Serum", "特润修护肌活精华露（小棕瓶）", 3.8),
        ),
        brand("Lancôme", "兰蔻", 1.0, ("Advanced Génifique Serum", "精华肌底液（小黑瓶）", 3.8)),
        brand("SK-II", "SK-II", 1.0, ("Facial Treatment Essence", "护肤精华露（神仙水）", 5.0)),
        brand(
            "Shiseido",
            "资生堂",
            1.0,
            ("Ultimune Power Infusing Serum", "红妍肌活精华露（红腰子）", 4.0),
        ),
        brand(
            "Kiehl's",
            "科颜氏",
            1.0,
            ("Ultra Facial Cream", "高保湿面霜", 1.4),
            ("Calendula Herbal-Extract Toner", "金盏花植物精华爽肤水", 1.5),
        ),
        brand(
            "Proya",
            "珀莱雅",
            1.0,
            ("Ruby Serum", "红宝石精华", 1.2),
            ("Double Anti-Aging Serum", "双抗精华", 1.2),
        ),
        brand("Winona", "薇诺娜", 1.0, ("Soothing Repair Cream", "舒敏保湿特护霜", 1.0)),
        brand(
            "Lumi",
            "Lumi",
            1.0,
            ("Vitamin C Serum", "维生素C精华液", 1.2),
            ("Gentle Foaming Cleanser", "温和泡沫洁面", 0.6),
        ),
    ),
    axes=(
        Axis("size", _ML),
        Axis("edition", BEAUTY_EDITIONS),
        Axis(
            "skin_type",
            (
                opt("all skin types", "所有肤质"),
                opt("dry skin", "干性肌肤"),
                opt("sensitive skin", "敏感肌"),
                opt("oily and combination skin", "油性及混合性肌肤"),
            ),
            in_title=False,
        ),
    ),
    title=("{brand} {line} {edition}, {size}", "{brand} {line} {edition} {size}"),
    intro=(
        "{brand} {line} ({size}), suitable for {skin_type}.",
        "{brand} {line}（{size}），适合{skin_type}。",
    ),
    blurbs=(
        ("Dermatologist-tested.", "经皮肤科医生测试。"),
        ("Absorbs quickly without a greasy feel.", "吸收迅速，不油腻。"),
        ("Use morning and evening after cleansing.", "早晚洁面后使用。"),
        ("Supports the skin barrier for lasting hydration.", "强健肌肤屏障，持久保湿。"),
    ),
    closers=CONSUMABLE_CLOSERS,
)

MAKEUP = Leaf(
    path="beauty/makeup",
    names=("Makeup", "彩妆"),
    share=5.0,
    price=Price(14, 0.2, 4, 80),
    brands=(
        brand(
            "Maybelline",
            "美宝莲",
            1.0,
            ("Fit Me Foundation", "Fit Me 粉底液", 0.8),
            ("Sky High Mascara", "飞箭睫毛膏", 0.8),
            ("SuperStay Matte Ink Lip Color", "超持久哑光唇釉", 0.8),
        ),
        brand(
            "L'Oréal Paris",
            "巴黎欧莱雅",
            1.0,
            ("True Match Foundation", "恒放溢彩粉底液", 1.0),
            ("Color Riche Lipstick", "纷泽滋润口红", 0.8),
        ),
        brand(
            "MAC",
            "魅可",
            1.0,
            ("Retro Matte Lipstick", "子弹头哑光口红", 1.6),
            ("Studio Fix Fluid Foundation", "定制无瑕粉底液", 2.6),
        ),
        brand(
            "Dior",
            "迪奥",
            1.0,
            ("Rouge Dior Lipstick", "烈艳蓝金唇膏", 3.0),
            ("Forever Skin Glow Foundation", "锁妆粉底液", 3.9),
        ),
        brand("YSL", "圣罗兰", 1.0, ("Rouge Pur Couture Lipstick", "方管口红", 3.0)),
        brand(
            "Florasis",
            "花西子",
            1.0,
            ("Air Loose Powder", "空气蜜粉", 1.4),
            ("Carved Lipstick", "雕花口红", 1.4),
        ),
        brand(
            "Perfect Diary",
            "完美日记",
            1.0,
            ("Eyeshadow Palette", "眼影盘", 0.9),
            ("Velvet Lip Glaze", "丝绒唇釉", 0.6),
        ),
        brand(
            "NARS",
            "NARS",
            1.0,
            ("Radiant Creamy Concealer", "妆点甜心遮瑕蜜", 2.2),
            ("Blush", "腮红", 2.4),
        ),
        brand(
            "Fenty Beauty", "Fenty Beauty", 1.0, ("Pro Filt'r Foundation", "柔哑持妆粉底液", 2.8)
        ),
    ),
    axes=(
        Axis(
            "shade",
            tuple(opt(f"Shade {n:02d}", f"{n:02d}号", value=f"{n:02d}") for n in range(1, 17)),
        ),
        Axis(
            "edition",
            (
                opt("", "", value="standard"),
                opt("Limited Edition", "限量版", 1.1),
                opt("Mini", "迷你装", 0.6),
            ),
        ),
        Axis(
            "finish",
            (opt("matte", "哑光"), opt("satin", "缎光"), opt("natural", "自然")),
            in_title=False,
        ),
    ),
    title=("{brand} {line} {edition}, {shade}", "{brand} {line} {edition} {shade}"),
    intro=(
        "{brand} {line} in {shade_lc} with a {finish} finish.",
        "{brand} {line} {shade}，{finish}妆效。",
    ),
    blurbs=(
        ("A long-wearing formula that resists transfer.", "持久配方，不易沾杯脱妆。"),
        ("Buildable from sheer to full coverage.", "可叠加，轻薄到饱满随心调整。"),
        ("Comfortable on the skin all day.", "上脸舒适，全天不负担。"),
        ("Small enough for touch-ups on the go.", "小巧便携，随时补妆。"),
    ),
    closers=CONSUMABLE_CLOSERS,
)

SHAVERS = Leaf(
    path="beauty/shavers-razors",
    names=("Shavers & razors", "剃须刀"),
    share=2.5,
    price=Price(22, 0.2, 3, 350),
    brands=(
        brand(
            "Philips",
            "飞利浦",
            1.0,
            ("Series 9000 Electric Shaver", "9000系列电动剃须刀", 8.0),
            ("Series 5000 Electric Shaver", "5000系列电动剃须刀", 4.0),
            ("OneBlade Trimmer and Shaver", "OneBlade 剃须修容刀", 2.0),
        ),
        brand(
            "Braun",
            "博朗",
            1.0,
            ("Series 9 Pro Electric Shaver", "9系Pro电动剃须刀", 10.0),
            ("Series 5 Electric Shaver", "5系电动剃须刀", 3.5),
        ),
        brand(
            "Panasonic",
            "松下",
            1.0,
            ("Arc5 Electric Shaver", "Arc5 五刀头电动剃须刀", 6.0),
            ("Arc3 Electric Shaver", "Arc3 三刀头电动剃须刀", 3.0),
        ),
        brand(
            "Gillette",
            "吉列",
            1.0,
            ("Fusion5 ProGlide Razor", "锋隐致顺剃须刀", 0.6),
            ("Mach3 Razor", "锋速3剃须刀", 0.4),
            ("Fusion5 Refill Blades, 4 Count", "锋隐替换刀头4只装", 0.8),
        ),
        brand(
            "Schick",
            "舒适",
            1.0,
            ("Hydro 5 Razor", "水次元5剃须刀", 0.5),
            ("Intuition Women's Razor", "女士剃毛刀", 0.5),
        ),
        brand("Xiaomi", "小米", 1.0, ("Mijia S500 Electric Shaver", "米家S500电动剃须刀", 2.0)),
        brand("Flyco", "飞科", 1.0, ("FS901 Electric Shaver", "FS901电动剃须刀", 1.5)),
        brand("Harry's", "Harry's", 1.0, ("Truman Razor Set", "Truman剃须套装", 0.6)),
    ),
    axes=(
        Axis(
            "edition",
            (
                opt("", "", value="standard"),
                opt("with Travel Case", "附旅行收纳盒", 1.1),
                opt("Gift Set", "礼盒装", 1.2),
            ),
        ),
        Axis("color", (opt("Black", "黑色"), opt("Silver", "银色"), opt("Blue", "蓝色"))),
    ),
    title=("{brand} {line} {edition}, {color}", "{brand} {line} {edition} {color}"),
    intro=(
        "The {brand} {line} for a close, comfortable shave.",
        "{brand} {line}，剃得干净又舒适。",
    ),
    blurbs=(
        ("Less pulling and less irritation.", "减少拉扯，减少刺激。"),
        ("An ergonomic grip gives control around the jawline.", "人体工学握柄，下颌线处也好掌控。"),
        ("Rinses clean under the tap.", "可直接水洗，清洁方便。"),
        ("A travel-friendly size for the gym bag.", "便携尺寸，健身包里也放得下。"),
    ),
    closers=GOODS_CLOSERS,
)

HAIRCARE = Leaf(
    path="beauty/haircare",
    names=("Hair care", "洗护发"),
    share=3.0,
    price=Price(9, 0.2, 3, 80),
    brands=(
        brand(
            "Pantene",
            "潘婷",
            1.0,
            ("Repair & Protect Shampoo", "深层修护洗发水", 1.0),
            ("Miracle Conditioner", "3分钟奇迹护发素", 1.1),
        ),
        brand("Head & Shoulders", "海飞丝", 1.0, ("Anti-Dandruff Shampoo", "去屑洗发水", 1.0)),
        brand("Dove", "多芬", 1.0, ("Intense Repair Shampoo", "密集修护洗发乳", 0.9)),
        brand("L'Oréal Paris", "巴黎欧莱雅", 1.0, ("Elvive Extraordinary Oil", "奇焕精油", 1.8)),
        brand(
            "Kérastase",
            "卡诗",
            1.0,
            ("Elixir Ultime Hair Oil", "双重菁纯修护液", 5.0),
            ("Bain Satin Shampoo", "滋养洗发水", 3.8),
        ),
        brand("Schwarzkopf", "施华蔻", 1.0, ("Gliss Hair Repair Shampoo", "斐丝丽修护洗发露", 1.0)),
        brand("Tsubaki", "丝蓓绮", 1.0, ("Premium Moist Shampoo", "奢耀润泽洗发露", 1.3)),
        brand("Adolph", "阿道夫", 1.0, ("Ginger Shampoo", "生姜洗发水", 1.1)),
        brand("Moroccanoil", "Moroccanoil", 1.0, ("Treatment Oil", "经典护发精油", 4.5)),
    ),
    axes=(
        Axis(
            "size",
            (
                opt("250 ml", "250毫升", 0.8),
                opt("400 ml", "400毫升"),
                opt("750 ml", "750毫升", 1.5),
            ),
        ),
        Axis("edition", BEAUTY_EDITIONS),
        Axis(
            "hair_type",
            (
                opt("all hair types", "所有发质"),
                opt("dry, damaged hair", "干枯受损发质"),
                opt("oily scalps", "油性头皮"),
                opt("color-treated hair", "染后发质"),
            ),
            in_title=False,
        ),
    ),
    title=("{brand} {line} {edition}, {size}", "{brand} {line} {edition} {size}"),
    intro=("{brand} {line}, formulated for {hair_type}.", "{brand} {line}，适合{hair_type}。"),
    blurbs=(
        ("Leaves hair soft, smooth and easy to comb.", "令秀发柔顺易梳。"),
        ("A fresh, light fragrance.", "清新淡雅香气。"),
        ("Gentle enough for daily use.", "温和配方，可每日使用。"),
        ("A little goes a long way.", "用量省，一瓶用很久。"),
    ),
    closers=CONSUMABLE_CLOSERS,
)

LEAVES = (SKINCARE, MAKEUP, SHAVERS, HAIRCARE)
