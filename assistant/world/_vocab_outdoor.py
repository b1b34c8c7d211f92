"""Demo catalog vocabulary: sports and outdoor."""

from __future__ import annotations

from assistant.world._vocab import (
    GENDER_UNISEX,
    GOODS_CLOSERS,
    Axis,
    Leaf,
    Price,
    brand,
    opt,
)

__all__ = ["LEAVES"]

_OUTDOOR_COLORS = (
    opt("Green", "绿色"),
    opt("Khaki", "卡其色"),
    opt("Grey", "灰色"),
    opt("Orange", "橙色"),
    opt("Black", "黑色"),
)

YOGA_MATS = Leaf(
    path="sports/yoga-mats",
    names=("Yoga mats", "瑜伽垫"),
    share=2.5,
    price=Price(28, 0.3, 10, 160),
    brands=(
        brand("Lululemon", "露露乐蒙", 2.8, "The Mat"),
        brand("Manduka", "Manduka", 2.6, "PRO", "PROlite", "eKO"),
        brand("Gaiam", "Gaiam", 0.8, "Premium", "Essentials"),
        brand("Liforme", "Liforme", 4.0),
        brand("Keep", "Keep", 0.6),
        brand("Decathlon", "迪卡侬", 0.5),
        brand("Alo Yoga", "Alo Yoga", 2.8, "Warrior"),
    ),
    axes=(
        Axis(
            "thickness",
            (
                opt("4 mm", "4毫米", 0.9),
                opt("6 mm", "6毫米"),
                opt("8 mm", "8毫米", 1.1),
                opt("10 mm", "10毫米", 1.15),
            ),
        ),
        Axis(
            "material",
            (
                opt("TPE"),
                opt("Natural Rubber", "天然橡胶", 1.5),
                opt("NBR Foam", "NBR", 0.7),
                opt("PU-Top Rubber", "PU天然橡胶", 1.8),
                opt("Cork", "软木", 1.5),
            ),
        ),
        Axis(
            "color",
            (
                opt("Purple", "紫色"),
                opt("Black", "黑色"),
                opt("Blue", "蓝色"),
                opt("Pink", "粉色"),
                opt("Sage Green", "鼠尾草绿"),
            ),
        ),
    ),
    title=(
        "{brand} {line} {thickness} {material} Yoga Mat, {color}",
        "{brand} {line} {thickness}{material}瑜伽垫 {color}",
    ),
    intro=(
        "A {thickness} {material} yoga mat from {brand} for yoga, pilates and stretching.",
        "{brand} {thickness}{material}瑜伽垫，瑜伽、普拉提和拉伸都适用。",
    ),
    blurbs=(
        ("A non-slip surface holds firm in sweaty sessions.", "防滑表面，出汗也不打滑。"),
        ("Cushioning protects knees and wrists.", "缓冲减压，保护膝盖与手腕。"),
        ("Alignment lines help you set up your poses.", "体位线设计，帮助摆正姿势。"),
        ("Comes with a carrying strap.", "附赠收纳背带。"),
    ),
    closers=GOODS_CLOSERS[:3],
)

FITNESS = Leaf(
    path="sports/fitness",
    names=("Fitness equipment", "健身器材"),
    share=2.5,
    price=Price(35, 0.25, 8, 450),
    brands=(
        brand(
            "Bowflex",
            "Bowflex",
            1.0,
            ("SelectTech 552 Adjustable Dumbbells", "SelectTech 552 可调节哑铃", 9.0),
        ),
        brand(
            "Keep",
            "Keep",
            1.0,
            ("Smart Jump Rope", "智能跳绳", 0.6),
            ("Resistance Band Set", "弹力带套装", 0.5),
            ("Hex Dumbbells 5 kg Pair", "六角哑铃5公斤一对", 1.2),
        ),
        brand(
            "Decathlon",
            "迪卡侬",
            1.0,
            ("Hex Dumbbell 10 kg", "六角哑铃 10公斤", 1.1),
            ("Kettlebell 12 kg", "壶铃 12公斤", 1.3),
            ("Foam Roller", "泡沫轴", 0.5),
        ),
        brand(
            "Xiaomi", "小米", 1.0, ("Walking Pad", "走步机", 9.5), ("Smart Scale", "体脂秤", 0.8)
        ),
        brand(
            "Reebok", "锐步", 1.0, ("Aerobic Step", "有氧踏板", 1.6), ("Ab Wheel", "健腹轮", 0.45)
        ),
        brand(
            "Gaiam",
            "Gaiam",
            1.0,
            ("Resistance Band Kit", "弹力带套装", 0.55),
            ("Balance Ball", "平衡球", 0.7),
        ),
        brand("Trigger Point", "Trigger Point", 1.0, ("GRID Foam Roller", "GRID 泡沫轴", 1.0)),
        brand(
            "Lifepro",
            "Lifepro",
            1.0,
            ("Massage Gun", "筋膜枪", 2.5),
            ("Vibration Plate", "律动健身板", 5.0),
        ),
    ),
    axes=(
        Axis(
            "color",
            (
                opt("Black", "黑色"),
                opt("Grey", "灰色"),
                opt("Blue", "蓝色"),
                opt("Pink", "粉色"),
                opt("Green", "绿色"),
            ),
        ),
    ),
    title=("{brand} {line}, {color}", "{brand} {line} {color}"),
    intro=(
        "The {brand} {line} for training at home or in the gym.",
        "{brand} {line}，居家或健身房训练都适用。",
    ),
    blurbs=(
        ("Compact enough for home workouts.", "小巧不占地，适合居家锻炼。"),
        ("Built from durable, gym-grade materials.", "健身房级耐用材质。"),
        ("Suits beginners and seasoned athletes alike.", "新手和资深健身者都适用。"),
        ("Great for strength and conditioning routines.", "适合力量与体能训练。"),
    ),
    closers=GOODS_CLOSERS,
)

CAMPING = Leaf(
    path="outdoor/picnic-camping",
    names=("Picnic & camping", "野餐露营"),
    share=3.0,
    price=Price(40, 0.25, 8, 450),
    brands=(
        brand(
            "Coleman",
            "科勒曼",
            1.0,
            ("Sundome 4-Person Tent", "Sundome 四人帐篷", 2.6),
            ("Camping Chair", "露营椅", 0.8),
            ("28-Quart Cooler", "28夸脱保温箱", 1.2),
        ),
        brand(
            "Naturehike",
            "挪客",
            1.0,
            ("Cloud Up 2 Ultralight Tent", "云尚2超轻帐篷", 3.0),
            ("Folding Picnic Table", "折叠野餐桌", 1.2),
            ("Envelope Sleeping Bag", "信封睡袋", 1.1),
        ),
        brand(
            "Mobi Garden",
            "牧高笛",
            1.0,
            ("Picnic Blanket", "野餐垫", 0.5),
            ("Canopy Tarp", "天幕", 2.2),
        ),
        brand(
            "Snow Peak",
            "雪峰",
            1.0,
            ("Titanium Mug 450 ml", "钛杯450ml", 1.0),
            ("Home & Camp Burner", "卡式炉", 3.0),
        ),
        brand("Helinox", "Helinox", 1.0, ("Chair One", "Chair One 月亮椅", 3.0)),
        brand(
            "YETI",
            "YETI",
            1.0,
            ("Rambler 20 oz Tumbler", "Rambler 20盎司保温杯", 0.9),
            ("Tundra 45 Cooler", "Tundra 45 保温箱", 8.0),
        ),
        brand(
            "Stanley",
            "史丹利",
            1.0,
            ("Quencher 40 oz Tumbler", "Quencher 40盎司保温杯", 1.1),
            ("Classic Vacuum Bottle 1 L", "经典真空保温壶 1L", 1.2),
        ),
        brand(
            "Mountainhiker",
            "山之客",
            1.0,
            ("LED Camping Lantern", "LED营地灯", 0.6),
            ("Folding Camp Wagon", "折叠营地车", 2.0),
            ("Self-Inflating Sleeping Pad", "自动充气防潮垫", 1.0),
        ),
        brand("Black Diamond", "黑钻", 1.0, ("Spot 400 Headlamp", "Spot 400 头灯", 1.0)),
    ),
    axes=(Axis("color", _OUTDOOR_COLORS),),
    title=("{brand} {line}, {color}", "{brand} {line} {color}"),
    intro=(
        "The {brand} {line}, made for weekend camping and picnics in the park.",
        "{brand} {line}，周末露营、公园野餐都好用。",
    ),
    blurbs=(
        ("Durable and weather-ready.", "经久耐用，无惧风雨。"),
        ("Light and easy to carry.", "轻便易携带。"),
        ("Easy to clean after a day outdoors.", "户外归来清洁方便。"),
        ("Packs down small in the car boot.", "收纳体积小，后备箱轻松放下。"),
    ),
    closers=GOODS_CLOSERS,
)

BACKPACKS = Leaf(
    path="outdoor/backpacks",
    names=("Hiking backpacks", "登山背包"),
    noun=("Hiking Backpack", "登山背包"),
    share=2.5,
    price=Price(70, 0.25, 20, 450),
    brands=(
        brand("Osprey", "小鹰", 1.9, "Talon 22", "Atmos AG 65", "Stratos 34"),
        brand("Deuter", "多特", 1.4, "Futura 27", "Aircontact Core 50+10"),
        brand("Gregory", "格里高利", 1.9, "Zulu 30", "Baltoro 65"),
        brand("The North Face", "北面", 1.3, "Borealis", "Terra 55"),
        brand("Arc'teryx", "始祖鸟", 2.6, "Mantis 26", "Bora 65"),
        brand("Kailas", "凯乐石", 1.0, "Wind Fly 30"),
        brand("Decathlon", "迪卡侬", 0.45, ("MH500 20L", "MH500 20升")),
    ),
    axes=(Axis("gender", GENDER_UNISEX), Axis("color", _OUTDOOR_COLORS)),
    title=("{brand} {line} {gender} {noun}, {color}", "{brand} {line} {gender}{noun} {color}"),
    intro=(
        "The {brand} {line}, a hiking pack for day trips and overnights.",
        "{brand} {line}登山背包，一日徒步或过夜行程都合适。",
    ),
    blurbs=(
        ("A ventilated back panel keeps you cool on the trail.", "透气背板，徒步途中保持凉爽。"),
        (
            "An adjustable torso and padded hip belt carry loads comfortably.",
            "背长可调，加厚腰带，负重更舒适。",
        ),
        ("An integrated rain cover.", "自带防雨罩。"),
        ("A hydration sleeve and trekking pole loops.", "配水袋仓和登山杖挂环。"),
    ),
    closers=GOODS_CLOSERS,
)

LEAVES = (YOGA_MATS, FITNESS, CAMPING, BACKPACKS)
