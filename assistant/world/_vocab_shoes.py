"""Demo catalog vocabulary: shoes and socks."""

from __future__ import annotations

from assistant.world._vocab import (
    GENDER,
    GENDER_UNISEX,
    GOODS_CLOSERS,
    SHOE_COLORS,
    Axis,
    Leaf,
    Price,
    brand,
    opt,
)

__all__ = ["LEAVES"]

_SHOE_TITLE = (
    "{brand} {line} {gender} {feature} {noun}, {color}",
    "{brand} {line} {gender}{feature}{noun} {color}",
)

RUNNING = Leaf(
    path="shoes/running",
    names=("Running shoes", "跑鞋"),
    noun=("Running Shoes", "跑步鞋"),
    share=6.0,
    price=Price(95, 0.3, 40, 220),
    brands=(
        brand("Nike", "耐克", 1.1, "Pegasus 41", "Vomero 18", "Invincible 3", "Structure 25"),
        brand("Adidas", "阿迪达斯", 1.1, "Ultraboost 5", "Adizero SL2", "Supernova Rise"),
        brand("ASICS", "亚瑟士", 1.1, "Gel-Kayano 31", "Gel-Nimbus 26", "Novablast 5"),
        brand("New Balance", "新百伦", 1.05, "Fresh Foam X 1080v14", "FuelCell Rebel v4", "880v14"),
        brand("Brooks", "布鲁克斯", 1.1, "Ghost 16", "Glycerin 21", "Adrenaline GTS 24"),
        brand("Hoka", "HOKA", 1.15, "Clifton 9", "Bondi 8", "Mach 6"),
        brand("Saucony", "索康尼", 1.0, "Ride 17", "Endorphin Speed 4", "Kinvara 15"),
        brand("Li-Ning", "李宁", 0.7, ("Chitu 7", "赤兔7"), ("Feidian 4", "飞电4")),
        brand("Anta", "安踏", 0.6, "C37", ("Mach 4", "马赫4")),
        brand("Xtep", "特步", 0.65, "160X 5.0", ("Dynamic Foam", "动力巢")),
        brand("Stride", "Stride", 0.55, "Run 2", "Tempo"),
    ),
    axes=(
        Axis("gender", GENDER),
        Axis(
            "feature",
            (
                opt("Lightweight Cushioned", "轻量缓震"),
                opt("Stability", "稳定支撑", 1.05),
                opt("Carbon-Plated Racing", "碳板竞速", 1.6),
                opt("Breathable Mesh", "透气网面", 0.9),
                opt("Max-Cushion", "高缓震", 1.15),
                opt("Wide-Fit", "宽楦"),
            ),
        ),
        Axis(
            "use",
            (
                opt("daily training", "日常训练"),
                opt("long easy runs", "长距离慢跑"),
                opt("race day", "比赛竞速"),
                opt("tempo sessions", "节奏跑训练"),
            ),
            in_title=False,
        ),
        Axis("color", SHOE_COLORS),
    ),
    title=_SHOE_TITLE,
    intro=(
        "The {brand} {line} is a {feature_lc} running shoe made for {use}.",
        "{brand} {line} {feature}跑鞋，专为{use}打造。",
    ),
    blurbs=(
        (
            "An engineered mesh upper keeps your feet cool on long runs.",
            "工程网布鞋面，长距离跑步也能保持双脚干爽。",
        ),
        (
            "A responsive foam midsole returns energy with every stride.",
            "回弹泡棉中底，每一步都有能量反馈。",
        ),
        ("The rubber outsole grips on wet and dry roads.", "耐磨橡胶外底，干湿路面都抓地稳定。"),
        ("A padded collar and tongue give a locked-in fit.", "加厚鞋领与鞋舌，包裹稳定又舒适。"),
        (
            "Reflective details help you stay visible at dawn and dusk.",
            "反光细节设计，晨跑夜跑更安全。",
        ),
    ),
    closers=GOODS_CLOSERS,
)

TRAIL = Leaf(
    path="shoes/trail-running",
    names=("Trail running shoes", "越野跑鞋"),
    noun=("Trail Running Shoes", "越野跑鞋"),
    share=3.0,
    price=Price(120, 0.28, 55, 240),
    brands=(
        brand("Salomon", "萨洛蒙", 1.1, "Speedcross 6", "Sense Ride 5", "XA Pro 3D V9"),
        brand("Hoka", "HOKA", 1.15, "Speedgoat 6", "Challenger 7", "Mafate Speed 4"),
        brand("Merrell", "迈乐", 0.95, "Moab Flight", "Agility Peak 5", "MTL Long Sky 2"),
        brand("The North Face", "北面", 1.1, "Vectiv Enduris 3", "Summit Vectiv Pro"),
        brand("La Sportiva", "拉思珀蒂瓦", 1.15, "Bushido III", "Akasha II"),
        brand("ASICS", "亚瑟士", 1.0, "Gel-Trabuco 12", "Trail Scout 3"),
        brand("Altra", "Altra", 1.05, "Lone Peak 8", "Olympus 6"),
        brand("Kailas", "凯乐石", 0.8, "Fuga Pro 3", "Fuga EX 2"),
    ),
    axes=(
        Axis("gender", GENDER),
        Axis(
            "feature",
            (
                opt("Aggressive-Grip", "强抓地"),
                opt("Waterproof GTX", "防水GTX", 1.2),
                opt("Rock-Plate", "防石板", 1.05),
                opt("Lightweight Speed", "轻量竞速"),
                opt("Max-Cushion", "高缓震", 1.1),
            ),
        ),
        Axis(
            "terrain",
            (
                opt("mountain trails", "山地越野"),
                opt("muddy ground", "泥泞路段"),
                opt("ultra races", "超长距离越野赛"),
                opt("weekend hikes", "周末徒步"),
            ),
            in_title=False,
        ),
        Axis("color", SHOE_COLORS),
    ),
    title=_SHOE_TITLE,
    intro=(
        "The {brand} {line} is a {feature_lc} trail shoe at home on {terrain}.",
        "{brand} {line} {feature}越野跑鞋，轻松应对{terrain}。",
    ),
    blurbs=(
        (
            "Deep multidirectional lugs bite into mud, gravel and loose rock.",
            "多向深齿大底，泥地、碎石和松软岩面都能稳稳抓地。",
        ),
        (
            "A protective toe cap shields against roots and rocks.",
            "防撞鞋头，有效抵御树根与岩石的磕碰。",
        ),
        (
            "A quick-lace system adjusts in seconds on the go.",
            "快速系带系统，途中也能迅速调整松紧。",
        ),
        ("A gusseted tongue keeps grit and debris out.", "一体式鞋舌设计，防止砂石进入。"),
    ),
    closers=GOODS_CLOSERS,
)

CASUAL = Leaf(
    path="shoes/casual",
    names=("Casual shoes", "休闲鞋"),
    noun=("Sneakers", "休闲鞋"),
    share=5.0,
    price=Price(70, 0.35, 25, 180),
    brands=(
        brand("Converse", "匡威", 0.9, "Chuck Taylor All Star", "Chuck 70", "Run Star Hike"),
        brand("Vans", "范斯", 0.9, "Old Skool", "Sk8-Hi", "Authentic"),
        brand("Skechers", "斯凯奇", 0.9, "Go Walk 7", "D'Lites", "Uno"),
        brand("Puma", "彪马", 0.9, "Suede Classic", "Palermo", "Smash v2"),
        brand("Adidas", "阿迪达斯", 1.05, "Stan Smith", "Samba OG", "Gazelle", "Superstar"),
        brand("New Balance", "新百伦", 1.15, "574", "530", "9060", "327"),
        brand("Feiyue", "飞跃", 0.4, ("Classic", "经典款")),
        brand("Warrior", "回力", 0.35, ("Classic Canvas", "经典帆布")),
        brand("Clarks", "其乐", 1.4, "Wallabee", "Desert Boot"),
    ),
    axes=(
        Axis("gender", GENDER_UNISEX),
        Axis(
            "feature",
            (
                opt("Canvas", "帆布", 0.8),
                opt("Leather", "皮革", 1.3),
                opt("Suede", "翻毛皮", 1.2),
                opt("Slip-On", "一脚蹬"),
                opt("Platform", "厚底", 1.1),
                opt("Memory-Foam", "记忆棉"),
            ),
        ),
        Axis(
            "occasion",
            (
                opt("everyday wear", "日常通勤"),
                opt("weekend outings", "周末出游"),
                opt("campus life", "校园穿搭"),
            ),
            in_title=False,
        ),
        Axis("color", SHOE_COLORS),
    ),
    title=_SHOE_TITLE,
    intro=(
        "The {brand} {line} is an easy-going {feature_lc} sneaker for {occasion}.",
        "{brand} {line} {feature}休闲鞋，适合{occasion}。",
    ),
    blurbs=(
        (
            "A classic low-profile silhouette goes with jeans, chinos or shorts.",
            "经典低帮轮廓，搭配牛仔裤、休闲裤或短裤都好看。",
        ),
        ("A cushioned insole keeps you comfortable all day.", "缓震鞋垫，全天穿着依旧舒适。"),
        ("The vulcanized rubber sole is durable and grippy.", "硫化橡胶鞋底，耐磨防滑。"),
        ("Easy to clean: wipe with a damp cloth.", "易于打理，用湿布擦拭即可。"),
    ),
    closers=GOODS_CLOSERS,
)

BASKETBALL = Leaf(
    path="shoes/basketball",
    names=("Basketball shoes", "篮球鞋"),
    noun=("Basketball Shoes", "篮球鞋"),
    share=3.0,
    price=Price(110, 0.3, 45, 240),
    brands=(
        brand("Nike", "耐克", 1.15, "LeBron 22", "G.T. Cut 3", "Sabrina 2"),
        brand("Jordan", "Jordan", 1.2, "Air Jordan 39", "Luka 3", "Tatum 3"),
        brand("Adidas", "阿迪达斯", 1.0, "Dame 9", "Harden Vol. 9", "Anthony Edwards 1"),
        brand("Under Armour", "安德玛", 1.05, "Curry 12", "Curry Flow 10"),
        brand("Li-Ning", "李宁", 0.8, ("Way of Wade 11", "韦德之道11"), ("Yushuai 18", "驭帅18")),
        brand("Anta", "安踏", 0.75, "KT10", "KAI 1"),
        brand("Puma", "彪马", 0.95, "MB.04", "All-Pro Nitro"),
        brand("Peak", "匹克", 0.6, ("Big Triangle 5", "大三角5")),
    ),
    axes=(
        Axis("gender", GENDER),
        Axis(
            "feature",
            (
                opt("High-Top", "高帮护踝", 1.05),
                opt("Low-Top", "低帮灵活"),
                opt("Responsive-Cushion", "回弹缓震", 1.1),
                opt("Outdoor-Durable", "耐磨外场", 0.9),
            ),
        ),
        Axis("color", SHOE_COLORS),
    ),
    title=_SHOE_TITLE,
    intro=(
        "The {brand} {line} is a {feature_lc} basketball shoe built for sharp cuts and landings.",
        "{brand} {line} {feature}篮球鞋，急停变向、起跳落地都稳。",
    ),
    blurbs=(
        ("A herringbone traction pattern bites on hardwood.", "人字纹大底，木地板急停变向更敏捷。"),
        ("A forefoot cushioning unit softens every landing.", "前掌缓震单元，有效吸收落地冲击。"),
        ("An internal heel counter locks the foot in place.", "内置后跟稳定片，稳固锁定双脚。"),
        ("A wide, stable base supports lateral moves.", "宽大稳定的底座，横向移动更有支撑。"),
    ),
    closers=GOODS_CLOSERS,
)

SOCKS = Leaf(
    path="apparel/socks",
    names=("Socks", "袜子"),
    noun=("Socks", "袜"),
    share=4.0,
    price=Price(10, 0.3, 3, 25),
    brands=(
        brand("Stance", "Stance", 1.3),
        brand("Bombas", "Bombas", 1.4),
        brand("Nike", "耐克", 1.0, "Everyday Cushioned", "Spark Lightweight"),
        brand("Adidas", "阿迪达斯", 0.95, "Cushioned Sportswear"),
        brand("Uniqlo", "优衣库", 0.6),
        brand("Darn Tough", "Darn Tough", 1.6),
        brand("Smartwool", "Smartwool", 1.5),
        brand("Muji", "无印良品", 0.7),
        brand("Stride", "Stride", 0.6),
    ),
    axes=(
        Axis("gender", GENDER_UNISEX),
        Axis(
            "material",
            (
                opt("Cotton", "棉质"),
                opt("Merino Wool", "美利奴羊毛", 1.5),
                opt("Bamboo", "竹纤维", 1.1),
                opt("Quick-Dry", "速干", 1.1),
            ),
        ),
        Axis(
            "style",
            (
                opt("Ankle", "短袜"),
                opt("Crew", "中筒袜"),
                opt("No-Show", "隐形袜", 0.9),
                opt("Quarter", "中短筒袜"),
                opt("Knee-High", "及膝袜", 1.2),
            ),
        ),
        Axis(
            "pack",
            (
                opt("1 Pair", "1双", 0.4),
                opt("3 Pairs", "3双装"),
                opt("6 Pairs", "6双装", 1.7),
                opt("10 Pairs", "10双装", 2.3),
            ),
        ),
    ),
    title=(
        "{brand} {line} {gender} {material} {style} Socks, {pack}",
        "{brand} {line} {gender}{material}{style} {pack}",
    ),
    intro=(
        "{brand} {style_lc} socks knitted from {material_lc} yarn, {pack_lc}.",
        "{brand} {material}{style}，{pack}。",
    ),
    blurbs=(
        ("A reinforced heel and toe make them last longer.", "脚跟与脚尖加固，更耐穿。"),
        ("An arch support band keeps them from slipping.", "足弓支撑带，袜子不易滑落。"),
        ("The breathable knit wicks moisture away.", "透气针织，吸湿排汗。"),
        ("A seamless toe closure prevents rubbing.", "无缝袜头，不磨脚。"),
    ),
    closers=GOODS_CLOSERS[:3],
)

LEAVES = (RUNNING, TRAIL, CASUAL, BASKETBALL, SOCKS)
