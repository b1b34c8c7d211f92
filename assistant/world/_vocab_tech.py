"""Demo catalog vocabulary: headphones, phones and phone cases."""

from __future__ import annotations

from assistant.world._vocab import GOODS_CLOSERS, TECH_COLORS, Axis, Leaf, Price, brand, opt

__all__ = ["LEAVES"]

_BATTERY = Axis(
    "battery",
    (
        opt("24 hours", "24小时"),
        opt("30 hours", "30小时"),
        opt("40 hours", "40小时"),
        opt("60 hours", "60小时"),
    ),
    in_title=False,
)

HEADPHONES = Leaf(
    path="electronics/headphones",
    names=("Headphones", "耳机"),
    noun=("Headphones", "耳机"),
    share=4.0,
    price=Price(40, 0.25, 12, 550),
    brands=(
        brand(
            "Sony",
            "索尼",
            1.0,
            ("WH-1000XM5 Over-Ear", "WH-1000XM5 头戴式", 8.0),
            ("WF-1000XM5 In-Ear", "WF-1000XM5 入耳式", 6.5),
            ("WH-CH720N Over-Ear", "WH-CH720N 头戴式", 2.8),
            ("WF-C700N In-Ear", "WF-C700N 入耳式", 2.2),
        ),
        brand(
            "Apple",
            "苹果",
            1.0,
            ("AirPods 4 In-Ear", "AirPods 4 入耳式", 3.2),
            ("AirPods Pro 2 In-Ear", "AirPods Pro 2 入耳式", 5.5),
            ("AirPods Max Over-Ear", "AirPods Max 头戴式", 12.0),
        ),
        brand(
            "Bose",
            "Bose",
            1.0,
            ("QuietComfort Ultra Over-Ear", "QuietComfort Ultra 头戴式", 9.0),
            ("QuietComfort Earbuds II In-Ear", "QuietComfort Earbuds II 入耳式", 6.5),
        ),
        brand(
            "Sennheiser",
            "森海塞尔",
            1.0,
            ("Momentum 4 Over-Ear", "Momentum 4 头戴式", 7.5),
            ("Accentum Over-Ear", "Accentum 头戴式", 3.8),
            ("CX Plus In-Ear", "CX Plus 入耳式", 3.0),
        ),
        brand(
            "JBL",
            "JBL",
            1.0,
            ("Tune 520BT On-Ear", "Tune 520BT 头戴式", 1.2),
            ("Live 770NC Over-Ear", "Live 770NC 头戴式", 3.5),
            ("Tune Flex In-Ear", "Tune Flex 入耳式", 1.8),
        ),
        brand(
            "Beats",
            "Beats",
            1.0,
            ("Studio Pro Over-Ear", "Studio Pro 头戴式", 7.5),
            ("Solo 4 On-Ear", "Solo 4 头戴式", 5.0),
            ("Powerbeats Pro 2 In-Ear", "Powerbeats Pro 2 入耳式", 6.2),
            ("Flex In-Ear", "Flex 入耳式", 1.6),
        ),
        brand(
            "Huawei",
            "华为",
            1.0,
            ("FreeBuds Pro 4 In-Ear", "FreeBuds Pro 4 入耳式", 4.5),
            ("FreeBuds 6i In-Ear", "FreeBuds 6i 入耳式", 2.0),
        ),
        brand(
            "Xiaomi",
            "小米",
            1.0,
            ("Redmi Buds 6 In-Ear", "Redmi Buds 6 入耳式", 0.7),
            ("Buds 5 In-Ear", "Buds 5 入耳式", 2.2),
        ),
        brand(
            "Soundcore",
            "声阔",
            1.0,
            ("Liberty 4 NC In-Ear", "Liberty 4 NC 入耳式", 2.0),
            ("Space Q45 Over-Ear", "Space Q45 头戴式", 3.0),
            ("Life Q30 Over-Ear", "Life Q30 头戴式", 2.0),
        ),
    ),
    axes=(
        Axis(
            "feature",
            (
                opt("Wireless Noise Cancelling", "无线降噪", 1.1),
                opt("Bluetooth", "蓝牙"),
                opt("Wireless Sport", "无线运动"),
                opt("Low-Latency Bluetooth Gaming", "低延迟蓝牙游戏"),
            ),
        ),
        _BATTERY,
        Axis("color", TECH_COLORS[:5]),
    ),
    title=("{brand} {line} {feature} {noun}, {color}", "{brand} {line} {feature}{noun} {color}"),
    intro=(
        "{brand} {line} {feature_lc} headphones with up to {battery} of battery life.",
        "{brand} {line} {feature}耳机，续航长达{battery}。",
    ),
    blurbs=(
        ("Bluetooth 5.3 gives a stable, low-latency connection.", "蓝牙5.3，连接稳定、延迟低。"),
        ("Built-in microphones make calls clear.", "内置麦克风，通话清晰。"),
        ("Ten minutes of fast charging gives hours of playback.", "快充10分钟即可播放数小时。"),
        (
            "Multipoint pairing switches between your phone and laptop.",
            "支持多设备连接，手机和电脑间轻松切换。",
        ),
    ),
    closers=GOODS_CLOSERS,
)

PHONES = Leaf(
    path="electronics/phones",
    names=("Phones", "手机"),
    noun=("Smartphone", "智能手机"),
    share=3.0,
    price=Price(500, 0.18, 120, 1800),
    brands=(
        brand(
            "Apple",
            "苹果",
            1.0,
            opt("iPhone 16 Pro Max", factor=2.4),
            opt("iPhone 16 Pro", factor=2.0),
            opt("iPhone 16", factor=1.6),
            opt("iPhone 16e", factor=1.2),
        ),
        brand(
            "Samsung",
            "三星",
            1.0,
            opt("Galaxy S25 Ultra", factor=2.6),
            opt("Galaxy S25", factor=1.6),
            opt("Galaxy A56", factor=0.9),
            opt("Galaxy A16", factor=0.4),
        ),
        brand(
            "Xiaomi",
            "小米",
            1.0,
            opt("Xiaomi 15 Pro", factor=1.8),
            opt("Xiaomi 15", factor=1.4),
            opt("Redmi Note 14 Pro", factor=0.6),
            opt("Redmi 14C", factor=0.28),
        ),
        brand(
            "Huawei",
            "华为",
            1.0,
            opt("Mate 70 Pro", factor=2.0),
            opt("Pura 70", factor=1.6),
            opt("nova 13", factor=0.9),
        ),
        brand(
            "Google",
            "谷歌",
            1.0,
            opt("Pixel 9 Pro", factor=2.0),
            opt("Pixel 9", factor=1.6),
            opt("Pixel 9a", factor=1.0),
        ),
        brand(
            "OPPO",
            "OPPO",
            1.0,
            opt("Find X8", factor=1.6),
            opt("Reno 13", factor=0.9),
            opt("A5 Pro", factor=0.5),
        ),
        brand(
            "vivo",
            "vivo",
            1.0,
            opt("X200 Pro", factor=1.9),
            opt("S20", factor=0.8),
            opt("Y300", factor=0.5),
        ),
        brand("OnePlus", "一加", 1.0, opt("OnePlus 13", factor=1.8), opt("Nord 4", factor=0.8)),
        brand("Honor", "荣耀", 1.0, opt("Magic7 Pro", factor=1.8), opt("Honor 200", factor=0.8)),
    ),
    axes=(
        Axis(
            "storage",
            (
                opt("128GB"),
                opt("256GB", factor=1.12),
                opt("512GB", factor=1.35),
                opt("1TB", factor=1.6),
            ),
        ),
        Axis("color", TECH_COLORS),
    ),
    title=(
        "{brand} {line} 5G {noun}, {storage}, {color}",
        "{brand} {line} 5G{noun} {storage} {color}",
    ),
    intro=(
        "The {brand} {line} 5G smartphone with {storage} of storage.",
        "{brand} {line} 5G手机，{storage}大存储。",
    ),
    blurbs=(
        (
            "A bright OLED display with a smooth 120 Hz refresh rate.",
            "明亮OLED屏幕，120Hz高刷顺滑流畅。",
        ),
        (
            "The multi-lens camera shoots sharp photos day and night.",
            "多摄影像系统，白天夜晚都能拍得清晰。",
        ),
        (
            "An all-day battery with fast wired and wireless charging.",
            "大电池全天续航，支持有线与无线快充。",
        ),
        ("IP68 water and dust resistance.", "IP68级防水防尘。"),
        ("Dual SIM with 5G support.", "支持双卡双待与5G网络。"),
    ),
    closers=GOODS_CLOSERS,
)

CASES = Leaf(
    path="electronics/phone-cases",
    names=("Phone cases", "手机壳"),
    noun=("Phone Case", "手机壳"),
    share=4.0,
    price=Price(18, 0.3, 5, 70),
    brands=(
        brand("Spigen", "Spigen", 1.0, "Ultra Hybrid", "Tough Armor", "Liquid Air"),
        brand("OtterBox", "OtterBox", 1.8, "Defender", "Symmetry", "Commuter"),
        brand("CASETiFY", "CASETiFY", 2.5, "Impact", "Mirror"),
        brand("ESR", "亿色", 0.8, "Classic Hybrid", "Cloud Soft"),
        brand("Nillkin", "耐尔金", 0.9, "CamShield Pro", "Frosted Shield"),
        brand("PITAKA", "PITAKA", 2.4, "MagEZ Case 5"),
        brand("Baseus", "倍思", 0.7),
        brand("UGREEN", "绿联", 0.7),
    ),
    axes=(
        Axis(
            "material",
            (
                opt("Clear", "透明", 0.9),
                opt("Silicone", "硅胶"),
                opt("Rugged", "军工防摔", 1.3),
                opt("Leather", "真皮", 1.8),
                opt("Aramid Fiber", "芳纶纤维", 2.0),
            ),
        ),
        Axis(
            "model",
            (
                opt("for iPhone 16 Pro", "适用iPhone 16 Pro", value="iphone 16 pro"),
                opt("for iPhone 16", "适用iPhone 16", value="iphone 16"),
                opt("for Galaxy S25", "适用Galaxy S25", value="galaxy s25"),
                opt("for Pixel 9", "适用Pixel 9", value="pixel 9"),
                opt("for Xiaomi 15", "适用小米15", value="xiaomi 15"),
                opt("for Huawei Mate 70", "适用华为Mate 70", value="huawei mate 70"),
            ),
        ),
        Axis("drop", (opt("1.2 m", "1.2米"), opt("2 m", "2米"), opt("3 m", "3米")), in_title=False),
    ),
    title=("{brand} {line} {material} {noun} {model}", "{brand} {line} {model} {material}{noun}"),
    intro=(
        "A {material_lc} case from {brand}, drop-tested to {drop}.",
        "{brand} {material}手机壳，通过{drop}跌落测试。",
    ),
    blurbs=(
        ("Raised edges protect the screen and camera.", "边框加高，保护屏幕与镜头。"),
        ("Precise cutouts for buttons and ports.", "按键与接口精准开孔。"),
        ("The slim profile slips easily into a pocket.", "纤薄机身，轻松放入口袋。"),
        ("Works with wireless charging.", "支持无线充电。"),
    ),
    closers=GOODS_CLOSERS[:3],
)

LEAVES = (HEADPHONES, PHONES, CASES)
