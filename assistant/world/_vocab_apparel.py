"""Demo catalog vocabulary: jackets, t-shirts and hoodies."""

from __future__ import annotations

from assistant.world._vocab import (
    APPAREL_COLORS,
    GENDER,
    GENDER_UNISEX,
    GOODS_CLOSERS,
    Axis,
    Leaf,
    Price,
    brand,
    opt,
)

__all__ = ["LEAVES"]

DOWN = Leaf(
    path="apparel/jackets/down",
    names=("Down jackets", "羽绒服"),
    noun=("Down Jacket", "羽绒服"),
    share=3.0,
    price=Price(150, 0.35, 50, 1200),
    brands=(
        brand("The North Face", "北面", 1.5, "Nuptse 1996", "Summit Breithorn", "Himalayan"),
        brand("Canada Goose", "加拿大鹅", 5.5, "Expedition", "Chilliwack", "Crofton"),
        brand("Bosideng", "波司登", 1.0, ("Classic", "经典系列"), ("Extreme Cold", "极寒系列")),
        brand("Uniqlo", "优衣库", 0.45, ("Ultra Light Down", "高级轻型羽绒")),
        brand("Columbia", "哥伦比亚", 0.9, "Omni-Heat", "Delta Ridge"),
        brand("Patagonia", "巴塔哥尼亚", 1.4, "Down Sweater", "Fitz Roy"),
        brand("Mountain Hardwear", "山浩", 1.3, "Ghost Whisperer", "Stretchdown"),
    ),
    axes=(
        Axis("gender", GENDER),
        Axis(
            "length",
            (opt("Short", "短款"), opt("Mid-Length", "中长款", 1.15), opt("Long", "长款", 1.3)),
        ),
        Axis("collar", (opt("Hooded", "连帽"), opt("Stand-Collar", "立领"))),
        Axis(
            "fill",
            (
                opt("90% white duck down", "90%白鸭绒", 0.9),
                opt("650-fill goose down", "650蓬松度鹅绒"),
                opt("800-fill goose down", "800蓬松度鹅绒", 1.3),
            ),
            in_title=False,
        ),
        Axis("color", APPAREL_COLORS),
    ),
    title=(
        "{brand} {line} {gender} {length} {collar} {noun}, {color}",
        "{brand} {line} {gender}{length}{collar}{noun} {color}",
    ),
    intro=(
        "A {length_lc} down jacket from {brand}, filled with {fill}.",
        "{brand} {length}羽绒服，填充{fill}。",
    ),
    blurbs=(
        ("Serious warmth without the bulk.", "保暖而不臃肿。"),
        (
            "The water-repellent shell sheds light snow and drizzle.",
            "防泼水面料，小雪细雨轻松应对。",
        ),
        ("Adjustable hem and cuffs seal in the heat.", "下摆与袖口可调节，锁住温暖。"),
        ("Packs into its own pocket for travel.", "可收纳进自身口袋，出行方便携带。"),
        ("Rated warm to about -20°C.", "适用温度低至约零下20°C。"),
    ),
    closers=GOODS_CLOSERS[:3],
)

RAIN = Leaf(
    path="apparel/jackets/rain",
    names=("Rain jackets", "防雨夹克"),
    noun=("Rain Jacket", "防雨夹克"),
    share=2.5,
    price=Price(90, 0.35, 30, 600),
    brands=(
        brand("Arc'teryx", "始祖鸟", 3.5, "Beta LT", "Zeta SL", "Beta AR"),
        brand("The North Face", "北面", 1.1, "Antora", "Dryzzle FUTURELIGHT", "Venture 2"),
        brand("Columbia", "哥伦比亚", 0.75, "Watertight II", "Arcadia II", "OutDry Extreme"),
        brand("Patagonia", "巴塔哥尼亚", 1.5, "Torrentshell 3L"),
        brand("Jack Wolfskin", "狼爪", 1.0, "Stormy Point"),
        brand("Kailas", "凯乐石", 1.1, "Mont-X"),
        brand("Toread", "探路者", 0.6),
    ),
    axes=(
        Axis("gender", GENDER),
        Axis(
            "build",
            (
                opt("Packable", "可收纳"),
                opt("3-Layer Hardshell", "三层硬壳", 1.5),
                opt("2.5-Layer Lightweight", "2.5层轻量"),
                opt("Fleece-Lined", "加绒", 1.2),
            ),
        ),
        Axis(
            "waterproof",
            (
                opt("10,000 mm", "10000mm"),
                opt("20,000 mm", "20000mm", 1.1),
                opt("28,000 mm", "28000mm", 1.2),
            ),
            in_title=False,
        ),
        Axis("color", APPAREL_COLORS),
    ),
    title=(
        "{brand} {line} {gender} {build} {noun}, {color}",
        "{brand} {line} {gender}{build}{noun} {color}",
    ),
    intro=(
        "A {build_lc} rain jacket from {brand} with a {waterproof} waterproof rating.",
        "{brand} {build}防雨夹克，防水指数{waterproof}。",
    ),
    blurbs=(
        (
            "A fully seam-taped, waterproof-breathable shell keeps the rain out.",
            "全压胶防水透气面料，把雨水挡在外面。",
        ),
        ("The adjustable storm hood has a stiffened brim.", "可调节防风雨帽，帽檐硬挺不塌。"),
        ("Pit zips dump heat on steep climbs.", "腋下透气拉链，爬坡时快速散热。"),
        ("Zippered hand pockets keep essentials dry.", "拉链手插袋，随身物品不怕淋湿。"),
    ),
    closers=GOODS_CLOSERS[:3],
)

TSHIRTS = Leaf(
    path="apparel/t-shirts",
    names=("T-shirts", "T恤"),
    noun=("T-Shirt", "T恤"),
    share=4.5,
    price=Price(20, 0.35, 6, 70),
    brands=(
        brand(
            "Uniqlo",
            "优衣库",
            0.7,
            ("U Crew Neck", "U系列"),
            "AIRism",
            ("Supima Cotton", "Supima棉"),
        ),
        brand("Nike", "耐克", 1.3, "Dri-FIT", "Sportswear Club"),
        brand("Adidas", "阿迪达斯", 1.2, "Essentials", "Own the Run"),
        brand("Champion", "冠军", 1.1, "Heritage", "Script Logo"),
        brand("Lululemon", "露露乐蒙", 2.5, "Metal Vent Tech", "Fundamental"),
        brand("Hanes", "恒适", 0.5, "Beefy-T", "ComfortSoft"),
        brand("Li-Ning", "李宁", 0.9),
        brand("Muji", "无印良品", 0.8),
    ),
    axes=(
        Axis("gender", GENDER_UNISEX),
        Axis(
            "fit",
            (opt("Regular-Fit", "常规版型"), opt("Slim-Fit", "修身"), opt("Oversized", "宽松")),
        ),
        Axis(
            "material",
            (
                opt("Cotton", "纯棉"),
                opt("Quick-Dry", "速干", 1.15),
                opt("Linen-Blend", "亚麻混纺", 1.3),
            ),
        ),
        Axis("neck", (opt("Crew-Neck", "圆领"), opt("V-Neck", "V领"))),
        Axis("color", APPAREL_COLORS),
    ),
    title=(
        "{brand} {line} {gender} {fit} {material} {neck} {noun}, {color}",
        "{brand} {line} {gender}{fit}{material}{neck}{noun} {color}",
    ),
    intro=(
        "A {fit_lc} {material_lc} tee from {brand} for every day.",
        "{brand} {fit}{material}T恤，日常百搭。",
    ),
    blurbs=(
        ("Soft, breathable fabric for hot days.", "面料柔软透气，炎热天气也清爽。"),
        ("A tag-free neck label prevents itching.", "无标签领口，不刺痒。"),
        ("Keeps its shape wash after wash.", "多次洗涤不易变形。"),
        ("Easy to layer under a shirt or jacket.", "适合叠穿在衬衫或外套里。"),
    ),
    closers=GOODS_CLOSERS[:3],
)

HOODIES = Leaf(
    path="apparel/hoodies",
    names=("Hoodies", "卫衣"),
    noun=("Hoodie", "连帽卫衣"),
    share=3.0,
    price=Price(45, 0.3, 18, 160),
    brands=(
        brand("Champion", "冠军", 1.0, "Reverse Weave", "Powerblend"),
        brand("Nike", "耐克", 1.2, "Club Fleece", opt("Tech Fleece", factor=1.6)),
        brand("Adidas", "阿迪达斯", 1.1, "Trefoil", "Essentials Fleece"),
        brand("Carhartt", "卡哈特", 1.2, "Midweight"),
        brand("Uniqlo", "优衣库", 0.6, ("Sweat Pullover", "运动卫衣")),
        brand("Li-Ning", "李宁", 0.9, ("China Li-Ning", "中国李宁")),
        brand("Anta", "安踏", 0.7),
        brand("The North Face", "北面", 1.3, "Drew Peak"),
    ),
    axes=(
        Axis("gender", GENDER_UNISEX),
        Axis(
            "weight",
            (
                opt("Lightweight", "薄款", 0.9),
                opt("Heavyweight", "加厚", 1.2),
                opt("Fleece-Lined", "加绒", 1.15),
            ),
        ),
        Axis("style", (opt("Pullover", "套头"), opt("Full-Zip", "拉链开衫", 1.1))),
        Axis("color", APPAREL_COLORS),
    ),
    title=(
        "{brand} {line} {gender} {weight} {style} {noun}, {color}",
        "{brand} {line} {gender}{weight}{style}{noun} {color}",
    ),
    intro=(
        "A {weight_lc} {style_lc} hoodie from {brand} for cool mornings and lazy weekends.",
        "{brand} {weight}{style}连帽卫衣，清晨微凉和悠闲周末都合适。",
    ),
    blurbs=(
        ("Brushed-back fleece feels soft against the skin.", "内里磨毛抓绒，亲肤柔软。"),
        ("A kangaroo pocket keeps your hands warm.", "袋鼠兜设计，暖手又实用。"),
        ("Ribbed cuffs and hem hold their shape.", "罗纹袖口与下摆，不易变形。"),
        ("A double-layer hood with drawcords.", "双层帽子，配可调节抽绳。"),
    ),
    closers=GOODS_CLOSERS[:3],
)

LEAVES = (DOWN, RAIN, TSHIRTS, HOODIES)
