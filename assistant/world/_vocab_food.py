"""Demo catalog vocabulary: grocery."""

from __future__ import annotations

from assistant.world._vocab import (
    FOOD_CLOSERS,
    FOOD_EDITIONS,
    Axis,
    Leaf,
    Price,
    brand,
    opt,
)

__all__ = ["LEAVES"]

SNACKS = Leaf(
    path="grocery/snacks",
    names=("Snacks", "零食"),
    share=6.0,
    price=Price(3.5, 0.25, 1, 20),
    brands=(
        brand(
            "Lay's",
            "乐事",
            1.0,
            ("Classic Potato Chips", "经典原味薯片"),
            ("Sour Cream & Onion Potato Chips", "酸奶洋葱味薯片"),
            ("Cucumber Potato Chips", "黄瓜味薯片"),
            ("Spicy Crayfish Potato Chips", "香辣小龙虾味薯片"),
        ),
        brand(
            "Pringles",
            "品客",
            1.1,
            ("Original Crisps", "原味薯片"),
            ("Sour Cream & Onion Crisps", "洋葱味薯片"),
        ),
        brand(
            "Oreo",
            "奥利奥",
            1.0,
            ("Original Sandwich Cookies", "原味夹心饼干"),
            ("Matcha Sandwich Cookies", "抹茶味夹心饼干"),
        ),
        brand(
            "Three Squirrels",
            "三只松鼠",
            1.0,
            ("Mixed Daily Nuts", "每日坚果", 1.6),
            ("Roasted Cashews", "炭烧腰果", 1.4),
            ("Hand-Peeled Pecans", "手剥碧根果", 1.5),
        ),
        brand(
            "Bestore",
            "良品铺子",
            1.0,
            ("Beef Jerky", "牛肉干", 1.6),
            ("Pork Floss Cakes", "肉松饼"),
            ("Dried Mango", "芒果干", 1.1),
        ),
        brand(
            "Want Want", "旺旺", 0.9, ("Rice Crackers", "仙贝"), ("Senbei Snow Crackers", "雪饼")
        ),
        brand(
            "Haribo",
            "哈瑞宝",
            0.9,
            ("Goldbears Gummies", "金熊软糖"),
            ("Starmix Gummies", "什锦软糖"),
        ),
        brand(
            "KitKat",
            "奇巧",
            1.0,
            ("Milk Chocolate Wafers", "牛奶巧克力威化"),
            ("Matcha Wafers", "抹茶威化"),
        ),
        brand(
            "Hershey's",
            "好时",
            1.1,
            ("Milk Chocolate Bar", "牛奶巧克力排块"),
            ("Kisses Milk Chocolates", "好时之吻牛奶巧克力"),
        ),
        brand("Weilong", "卫龙", 0.7, ("Spicy Gluten Strips", "辣条"), ("Konjac Snack", "魔芋爽")),
        brand(
            "Calbee",
            "卡乐比",
            1.0,
            ("Fruit Granola", "水果麦片", 2.0),
            ("Jagarico Potato Sticks", "呀！土豆薯条"),
        ),
        brand("Nature Valley", "天谷", 1.0, ("Crunchy Granola Bars", "脆燕麦棒")),
    ),
    axes=(
        Axis(
            "pack",
            (
                opt("Single Pack", "单袋装"),
                opt("Share Size", "分享装", 1.7),
                opt("Family Size", "家庭装", 2.4),
                opt("Pack of 6", "6袋装", 4.0),
            ),
        ),
        Axis("edition", FOOD_EDITIONS),
    ),
    title=("{brand} {line} {edition}, {pack}", "{brand} {line} {edition} {pack}"),
    intro=("{brand} {line}, {pack_lc}.", "{brand} {line}，{pack}。"),
    blurbs=(
        ("A crowd-pleaser for movie nights and road trips.", "追剧、出游必备的人气零食。"),
        ("Sealed to stay fresh.", "密封包装，保持新鲜。"),
        ("Great for sharing at the office.", "适合办公室分享。"),
        ("A sweet or savoury treat for any time of day.", "随时来一口，解馋好伴侣。"),
    ),
    closers=FOOD_CLOSERS,
)

COFFEE_TEA = Leaf(
    path="grocery/coffee-tea",
    names=("Coffee & tea", "咖啡茶饮"),
    share=4.5,
    price=Price(10, 0.22, 3, 60),
    brands=(
        brand(
            "Starbucks",
            "星巴克",
            1.0,
            ("Pike Place Roast Ground Coffee", "派克市场中度烘焙咖啡粉", 1.2),
            ("Espresso Roast Whole Bean Coffee", "浓缩烘焙咖啡豆", 1.4),
            ("VIA Instant Coffee", "VIA免煮速溶咖啡", 1.0),
        ),
        brand(
            "Nescafé",
            "雀巢咖啡",
            1.0,
            ("Gold Blend Instant Coffee", "金牌冻干速溶咖啡", 0.9),
            ("1+2 Original Coffee Mix", "1+2原味三合一咖啡", 0.6),
        ),
        brand(
            "Lavazza",
            "乐维萨",
            1.0,
            ("Qualità Oro Whole Bean Coffee", "金牌咖啡豆", 1.3),
            ("Crema e Gusto Ground Coffee", "醇香咖啡粉", 0.9),
        ),
        brand(
            "illy", "意利", 1.0, ("Classico Medium Roast Ground Coffee", "经典中度烘焙咖啡粉", 1.6)
        ),
        brand("Saturnbird", "三顿半", 1.0, ("Super Instant Coffee", "超即溶精品咖啡", 1.3)),
        brand(
            "Lipton",
            "立顿",
            1.0,
            ("Yellow Label Black Tea Bags", "黄牌精选红茶", 0.45),
            ("Green Tea Bags", "绿茶茶包", 0.45),
        ),
        brand(
            "Twinings",
            "川宁",
            1.0,
            ("English Breakfast Tea", "英式早餐红茶", 0.6),
            ("Earl Grey Tea", "豪门伯爵红茶", 0.6),
        ),
        brand("Chali", "茶里", 1.0, ("Peach Oolong Tea Bags", "蜜桃乌龙茶包", 0.7)),
        brand("Lion Peak", "狮峰", 1.0, ("West Lake Longjing Green Tea", "西湖龙井", 2.6)),
        brand("Bama Tea", "八马茶业", 1.0, ("Anxi Tieguanyin Oolong Tea", "安溪铁观音", 1.6)),
        brand("Dayi", "大益", 1.0, ("Pu'er Tea Cake 357 g", "普洱茶饼357克", 2.0)),
        brand(
            "Maxwell House",
            "麦斯威尔",
            1.0,
            ("Original Roast Ground Coffee", "经典原味咖啡粉", 0.8),
        ),
        brand(
            "Peet's Coffee",
            "皮爷咖啡",
            1.0,
            ("Major Dickason's Blend Whole Bean Coffee", "迪克森大师综合咖啡豆", 1.5),
        ),
        brand("UCC", "悠诗诗", 1.0, ("117 Instant Coffee", "117速溶咖啡", 0.8)),
    ),
    axes=(
        Axis(
            "pack",
            (
                opt("Single Pack", "单盒装"),
                opt("Twin Pack", "两盒装", 1.9),
                opt("Value Pack of 4", "4盒超值装", 3.5),
            ),
        ),
        Axis("edition", FOOD_EDITIONS),
    ),
    title=("{brand} {line} {edition}, {pack}", "{brand} {line} {edition} {pack}"),
    intro=("{brand} {line}, {pack_lc}.", "{brand} {line}，{pack}。"),
    blurbs=(
        ("Carefully sourced and packed for freshness.", "精选原料，密封包装锁住新鲜。"),
        ("For a morning pick-me-up or an afternoon break.", "清晨提神、午后小憩都适合。"),
        ("Enjoy hot or iced.", "冷热皆宜。"),
        ("A thoughtful gift for coffee and tea lovers.", "送给爱喝咖啡和茶的朋友也很合适。"),
    ),
    closers=FOOD_CLOSERS,
)

BEVERAGES = Leaf(
    path="grocery/beverages",
    names=("Beverages", "饮料"),
    share=4.5,
    price=Price(5, 0.2, 1, 40),
    brands=(
        brand(
            "Coca-Cola",
            "可口可乐",
            1.0,
            ("Original, 500 ml Bottles", "经典原味 500ml"),
            ("Zero Sugar, 500 ml Bottles", "零度 500ml"),
        ),
        brand("Pepsi", "百事", 0.95, ("Cola, 500 ml Bottles", "百事可乐 500ml")),
        brand("Sprite", "雪碧", 0.95, ("Lemon-Lime Soda, 500 ml Bottles", "柠檬味汽水 500ml")),
        brand("Fanta", "芬达", 0.95, ("Orange Soda, 500 ml Bottles", "橙味汽水 500ml")),
        brand(
            "Evian", "依云", 1.0, ("Natural Mineral Water, 500 ml Bottles", "天然矿泉水 500ml", 1.6)
        ),
        brand(
            "Perrier",
            "巴黎水",
            1.0,
            ("Sparkling Water, 330 ml Bottles", "含气天然矿泉水 330ml", 1.8),
        ),
        brand("C'estbon", "怡宝", 1.0, ("Purified Water, 555 ml Bottles", "纯净水 555ml", 0.45)),
        brand(
            "Nongfu Spring",
            "农夫山泉",
            1.0,
            ("Natural Water, 550 ml Bottles", "饮用天然水 550ml", 0.5),
            ("Oriental Leaf Jasmine Tea, 500 ml Bottles", "东方树叶茉莉花茶 500ml", 1.2),
        ),
        brand(
            "Genki Forest",
            "元气森林",
            1.0,
            ("White Peach Sparkling Water, 480 ml Bottles", "白桃味苏打气泡水 480ml", 1.1),
            ("Lime Sparkling Water, 480 ml Bottles", "青柠味苏打气泡水 480ml", 1.1),
        ),
        brand(
            "Gatorade",
            "佳得乐",
            1.0,
            ("Orange Sports Drink, 600 ml Bottles", "橙味运动饮料 600ml", 1.1),
        ),
        brand("Tropicana", "纯果乐", 1.0, ("100% Orange Juice, 1 L Bottles", "100%橙汁 1L", 2.0)),
        brand(
            "Master Kong", "康师傅", 1.0, ("Iced Black Tea, 500 ml Bottles", "冰红茶 500ml", 0.7)
        ),
        brand("Suntory", "三得利", 1.0, ("Oolong Tea, 500 ml Bottles", "乌龙茶 500ml", 1.0)),
        brand(
            "Yakult",
            "养乐多",
            1.0,
            ("Probiotic Drink, 100 ml Bottles", "活菌型乳酸菌乳饮品 100ml", 0.6),
        ),
    ),
    axes=(
        Axis(
            "pack",
            (
                opt("Single", "单瓶装", 0.3),
                opt("4-Pack", "4瓶装", 0.75),
                opt("6-Pack", "6瓶装"),
                opt("12-Pack", "12瓶装", 1.8),
                opt("24-Pack Case", "24瓶整箱", 3.2),
            ),
        ),
    ),
    title=("{brand} {line}, {pack}", "{brand} {line} {pack}"),
    intro=("{brand} {line}, {pack_lc}.", "{brand} {line}，{pack}。"),
    blurbs=(
        ("Best served chilled.", "冰镇后饮用口感更佳。"),
        ("Stock up for the week or a party.", "囤货或聚会都合适。"),
        ("Recyclable packaging.", "包装可回收。"),
        ("See the label for ingredients and allergens.", "配料及过敏原信息请见包装标签。"),
    ),
    closers=FOOD_CLOSERS,
)

LEAVES = (SNACKS, COFFEE_TEA, BEVERAGES)
