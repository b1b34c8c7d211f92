"""Demo catalog vocabulary: home and kitchen."""

from __future__ import annotations

from assistant.world._vocab import (
    CONSUMABLE_CLOSERS,
    GOODS_CLOSERS,
    Axis,
    Leaf,
    Price,
    brand,
    opt,
)

__all__ = ["LEAVES"]


COOKWARE = Leaf(
    path="home/cookware",
    names=("Cookware", "锅具"),
    share=3.5,
    price=Price(45, 0.3, 12, 450),
    brands=(
        brand("Tefal", "特福", 1.0, "Ingenio", "Unlimited"),
        brand("Le Creuset", "酷彩", 3.5, "Signature"),
        brand("Staub", "珐宝", 3.2),
        brand("Lodge", "Lodge", 0.8),
        brand("All-Clad", "All-Clad", 2.5, "D3"),
        brand("Zwilling", "双立人", 1.6, "Madura Plus", "Vitality"),
        brand("Supor", "苏泊尔", 0.55),
        brand("Cuisinart", "美膳雅", 1.1, "Chef's Classic"),
    ),
    axes=(
        Axis(
            "size",
            (
                opt("20 cm", "20cm", factor=0.8),
                opt("24 cm", "24cm"),
                opt("28 cm", "28cm", factor=1.2),
                opt("30 cm", "30cm", factor=1.3),
            ),
        ),
        Axis(
            "material",
            (
                opt("Nonstick", "不粘"),
                opt("Stainless Steel", "不锈钢", 1.2),
                opt("Cast Iron", "铸铁", 1.2),
                opt("Enameled Cast Iron", "珐琅铸铁", 1.8),
            ),
        ),
        Axis(
            "item",
            (
                opt("Frying Pan", "煎锅"),
                opt("Wok", "炒锅", 1.1),
                opt("Stockpot", "汤锅", 1.2),
                opt("Saucepan", "奶锅", 0.8),
                opt("Casserole", "炖锅", 1.3),
                opt("Grill Pan", "烤盘"),
            ),
        ),
    ),
    title=("{brand} {line} {size} {material} {item}", "{brand} {line} {size}{material}{item}"),
    intro=(
        "A {size} {material_lc} {item_lc} from {brand} for everyday cooking.",
        "{brand} {size}{material}{item}，日常烹饪好帮手。",
    ),
    blurbs=(
        ("Works on gas, electric and induction hobs.", "适用于燃气灶、电陶炉和电磁炉。"),
        ("Heats evenly, without hot spots.", "受热均匀，不易局部过热。"),
        ("An ergonomic handle that stays cool.", "人体工学隔热手柄，握持不烫手。"),
        ("Oven-safe up to 260°C.", "可入烤箱，耐温260°C。"),
        ("Dishwasher safe for easy cleanup.", "可用洗碗机清洗，打理方便。"),
    ),
    closers=GOODS_CLOSERS,
)

KNIVES = Leaf(
    path="home/kitchen-knives",
    names=("Kitchen knives", "厨房刀具"),
    share=2.5,
    price=Price(40, 0.3, 8, 400),
    brands=(
        brand("Zwilling", "双立人", 1.4, "Four Star", "Pro", "Twin Signature"),
        brand("Wüsthof", "三叉", 1.6, "Classic", "Gourmet"),
        brand("Victorinox", "维氏", 0.6, "Fibrox Pro", "Swiss Classic"),
        brand("Shun", "旬", 2.2, "Classic", "Premier"),
        brand("Global", "具良治", 1.7),
        brand("Tojiro", "藤次郎", 1.1, "DP"),
        brand("Zhang Xiaoquan", "张小泉", 0.45),
        brand("Shibazi", "十八子作", 0.45),
    ),
    axes=(
        Axis(
            "steel",
            (
                opt("German Stainless Steel", "德国不锈钢"),
                opt("VG-10 Damascus", "VG10大马士革钢", 1.8),
                opt("High-Carbon Steel", "高碳钢", 1.1),
            ),
        ),
        Axis(
            "item",
            (
                opt("8-inch Chef's Knife", "8英寸主厨刀", value="chef's knife"),
                opt("7-inch Santoku Knife", "7英寸三德刀", value="santoku knife"),
                opt("Chinese Cleaver", "中式菜刀", value="cleaver"),
                opt("3.5-inch Paring Knife", "3.5英寸水果刀", 0.5, "paring knife"),
                opt("9-inch Bread Knife", "9英寸面包刀", value="bread knife"),
                opt("7-Piece Knife Block Set", "七件套刀座组合", 3.0, "knife block set"),
                opt("Steak Knife Set of 4", "牛排刀四件套", 1.2, "steak knife set"),
            ),
        ),
        Axis(
            "hardness", (opt("56 HRC"), opt("58 HRC"), opt("60 HRC"), opt("61 HRC")), in_title=False
        ),
    ),
    title=("{brand} {line} {steel} {item}", "{brand} {line} {steel}{item}"),
    intro=(
        "A {steel} {item_lc} from {brand}, hardened to {hardness}.",
        "{brand} {steel}{item}，硬度{hardness}。",
    ),
    blurbs=(
        ("The precision-forged blade holds a razor-sharp edge.", "精密锻造刀身，锋利持久。"),
        (
            "A full tang and riveted handle give balance and control.",
            "全龙骨结构配铆钉手柄，平衡好、控刀稳。",
        ),
        ("Hand wash and dry to keep the edge.", "建议手洗并擦干，保持刃口锋利。"),
        ("Comes in a gift-ready box.", "附精美礼盒，送礼自用两相宜。"),
    ),
    closers=GOODS_CLOSERS,
)

COFFEE_MAKERS = Leaf(
    path="home/coffee-makers",
    names=("Coffee makers", "咖啡机"),
    share=2.5,
    price=Price(100, 0.18, 15, 1200),
    brands=(
        brand(
            "De'Longhi",
            "德龙",
            1.0,
            ("Dedica Espresso Machine", "Dedica 意式咖啡机", 2.2),
            ("Magnifica Evo Bean-to-Cup Coffee Machine", "Magnifica Evo 全自动咖啡机", 5.0),
            ("Stilosa Espresso Machine", "Stilosa 意式咖啡机", 1.1),
            ("Drip Coffee Maker", "滴滤咖啡机", 0.6),
        ),
        brand(
            "Breville",
            "铂富",
            1.0,
            ("Barista Express Espresso Machine", "Barista Express 意式咖啡机", 6.0),
            ("Bambino Plus Espresso Machine", "Bambino Plus 意式咖啡机", 4.0),
            ("Precision Brewer Drip Coffee Maker", "Precision Brewer 滴滤咖啡机", 2.5),
        ),
        brand(
            "Nespresso",
            "Nespresso",
            1.0,
            ("Vertuo Pop Capsule Coffee Machine", "Vertuo Pop 胶囊咖啡机", 0.9),
            ("Essenza Mini Capsule Coffee Machine", "Essenza Mini 胶囊咖啡机", 1.3),
            ("Vertuo Next Capsule Coffee Machine", "Vertuo Next 胶囊咖啡机", 1.5),
        ),
        brand(
            "Philips",
            "飞利浦",
            1.0,
            ("3200 Series Fully Automatic Espresso Machine", "3200系列全自动咖啡机", 5.5),
            ("Café Gourmet Drip Coffee Maker", "Café Gourmet 滴滤咖啡机", 1.0),
        ),
        brand(
            "Bialetti",
            "比乐蒂",
            1.0,
            ("Moka Express 6-Cup Moka Pot", "Moka Express 6杯份摩卡壶", 0.38),
            ("Brikka Moka Pot", "Brikka 摩卡壶", 0.5),
            ("French Press", "法压壶", 0.3),
        ),
        brand(
            "Hario",
            "HARIO",
            1.0,
            ("V60 Pour-Over Kettle", "V60 手冲壶", 0.45),
            ("V60 Coffee Dripper Set", "V60 滤杯套装", 0.22),
            ("Mizudashi Cold Brew Pot", "冷萃咖啡壶", 0.25),
        ),
        brand(
            "Bodum",
            "波顿",
            1.0,
            ("Chambord French Press", "Chambord 法压壶", 0.4),
            ("Brazil French Press", "Brazil 法压壶", 0.22),
        ),
        brand(
            "Bear",
            "小熊",
            1.0,
            ("Drip Coffee Maker", "滴滤咖啡机", 0.32),
            ("Espresso Machine", "意式咖啡机", 0.9),
        ),
        brand(
            "Krups",
            "克鲁伯",
            1.0,
            ("Essential Drip Coffee Maker", "Essential 滴滤咖啡机", 0.55),
            ("Evidence Bean-to-Cup Coffee Machine", "Evidence 全自动咖啡机", 4.5),
        ),
    ),
    axes=(
        Axis(
            "color",
            (
                opt("Black", "黑色"),
                opt("Silver", "银色"),
                opt("White", "白色"),
                opt("Red", "红色"),
                opt("Cream", "奶油白"),
            ),
        ),
    ),
    title=("{brand} {line}, {color}", "{brand} {line} {color}"),
    intro=("The {brand} {line} in {color_lc}.", "{brand} {line}，{color}。"),
    blurbs=(
        ("Brews cafe-quality coffee at home.", "在家也能做出咖啡馆品质的咖啡。"),
        ("Removable parts are easy to clean.", "可拆卸部件，清洗方便。"),
        ("A compact footprint fits small kitchens.", "小巧机身，小厨房也放得下。"),
        ("Pairs well with our freshly roasted beans.", "搭配新鲜烘焙的咖啡豆风味更佳。"),
    ),
    closers=GOODS_CLOSERS,
)

BEDDING = Leaf(
    path="home/bedding",
    names=("Bedding", "床上用品"),
    share=3.0,
    price=Price(55, 0.3, 15, 400),
    brands=(
        brand("Brooklinen", "Brooklinen", 1.4, "Luxe", "Classic"),
        brand("Luolai", "罗莱家纺", 1.2),
        brand("Fuanna", "富安娜", 1.0),
        brand("Mercury", "水星家纺", 0.9),
        brand("Muji", "无印良品", 1.0),
        brand("IKEA", "宜家", 0.5, "DVALA", "ÄNGSLILJA"),
        brand("Parachute", "Parachute", 1.5),
        brand("Boll & Branch", "Boll & Branch", 1.7),
    ),
    axes=(
        Axis(
            "material",
            (
                opt("Egyptian Cotton", "埃及棉", 1.4),
                opt("Bamboo", "竹纤维", 1.1),
                opt("Linen", "亚麻", 1.5),
                opt("Microfiber", "超细纤维", 0.6),
                opt("Cotton Sateen", "纯棉贡缎"),
            ),
        ),
        Axis(
            "item",
            (
                opt("Duvet Cover Set", "被套套装"),
                opt("Fitted Sheet", "床笠", 0.6),
                opt("Bed Sheet Set", "床单四件套", 1.1),
                opt("Pillowcases, Set of 2", "枕套两只装", 0.4, "pillowcases"),
                opt("Comforter", "夏凉被", 1.3),
            ),
        ),
        Axis(
            "size",
            (
                opt("Twin", "单人1.2米", 0.8),
                opt("Queen", "双人1.5米"),
                opt("King", "双人1.8米", 1.2),
            ),
        ),
        Axis(
            "color",
            (
                opt("White", "白色"),
                opt("Ivory", "象牙白"),
                opt("Grey", "灰色"),
                opt("Sage Green", "鼠尾草绿"),
                opt("Navy", "藏青色"),
                opt("Blush Pink", "浅粉色"),
            ),
        ),
    ),
    title=(
        "{brand} {line} {material} {item}, {size}, {color}",
        "{brand} {line} {material}{item} {size} {color}",
    ),
    intro=(
        "A {material_lc} {item_lc} from {brand} in a calm {color_lc}.",
        "{brand} {material}{item}，{color}，温柔耐看。",
    ),
    blurbs=(
        ("The breathable weave keeps you cool at night.", "透气织法，夜间睡眠更凉爽。"),
        ("Pre-washed for a soft, lived-in feel.", "预水洗工艺，柔软亲肤。"),
        ("Machine washable.", "可机洗。"),
        ("OEKO-TEX certified: free from harmful substances.", "通过OEKO-TEX认证，不含有害物质。"),
    ),
    closers=CONSUMABLE_CLOSERS,
)

LEAVES = (COOKWARE, KNIVES, COFFEE_MAKERS, BEDDING)
