"""Demo catalog vocabulary: laptops, laptop bags and smartwatches."""

from __future__ import annotations

from assistant.world._vocab import GOODS_CLOSERS, Axis, Leaf, Price, brand, opt

__all__ = ["LEAVES"]

LAPTOPS = Leaf(
    path="electronics/laptops",
    names=("Laptops", "笔记本电脑"),
    noun=("Laptop", "笔记本电脑"),
    share=3.0,
    price=Price(850, 0.15, 350, 2500),
    brands=(
        brand(
            "Apple",
            "苹果",
            1.0,
            opt("MacBook Air 13 M4", factor=1.15),
            opt("MacBook Air 15 M4", factor=1.35),
            opt("MacBook Pro 14 M4", factor=1.85),
            opt("MacBook Pro 16 M4 Pro", factor=2.6),
        ),
        brand(
            "Lenovo",
            "联想",
            1.0,
            opt("ThinkPad X1 Carbon Gen 13", factor=1.9),
            opt("ThinkPad E14", factor=0.8),
            opt("Yoga Slim 7", factor=1.1),
            opt("IdeaPad Slim 5", factor=0.7),
            opt("Legion 5", factor=1.3),
        ),
        brand(
            "Dell",
            "戴尔",
            1.0,
            opt("XPS 13", factor=1.3),
            opt("Inspiron 15", factor=0.6),
            opt("Latitude 7450", factor=1.5),
        ),
        brand(
            "HP",
            "惠普",
            1.0,
            opt("Spectre x360 14", factor=1.5),
            opt("Pavilion 15", factor=0.7),
            opt("EliteBook 840", factor=1.4),
            opt("OMEN 16", factor=1.5),
        ),
        brand(
            "ASUS",
            "华硕",
            1.0,
            opt("Zenbook 14 OLED", factor=1.0),
            opt("Vivobook 15", factor=0.55),
            opt("ROG Zephyrus G14", factor=1.8),
            opt("TUF Gaming A15", factor=1.0),
        ),
        brand(
            "Acer",
            "宏碁",
            1.0,
            opt("Swift Go 14", factor=0.8),
            opt("Aspire 5", factor=0.55),
            opt("Predator Helios 16", factor=1.6),
        ),
        brand(
            "Huawei",
            "华为",
            1.0,
            opt("MateBook X Pro", factor=1.8),
            opt("MateBook D 16", factor=0.7),
        ),
        brand("Microsoft", "微软", 1.0, opt("Surface Laptop 7", factor=1.3)),
    ),
    axes=(
        Axis(
            "memory",
            (
                opt("8GB RAM, 256GB SSD", "8GB内存 256GB固态", 0.85),
                opt("16GB RAM, 512GB SSD", "16GB内存 512GB固态"),
                opt("32GB RAM, 1TB SSD", "32GB内存 1TB固态", 1.35),
            ),
        ),
        Axis(
            "battery",
            (opt("10 hours", "10小时"), opt("14 hours", "14小时"), opt("18 hours", "18小时")),
            in_title=False,
        ),
        Axis(
            "color",
            (
                opt("Silver", "银色"),
                opt("Space Grey", "深空灰"),
                opt("Black", "黑色"),
                opt("Blue", "蓝色"),
            ),
        ),
    ),
    title=("{brand} {line} {noun}, {memory}, {color}", "{brand} {line} {noun} {memory} {color}"),
    intro=(
        "The {brand} {line} with {memory}, ready for work, study and play.",
        "{brand} {line}，{memory}，办公、学习、娱乐都能胜任。",
    ),
    blurbs=(
        ("A backlit keyboard and a precise glass touchpad.", "背光键盘，配精准玻璃触控板。"),
        ("USB-C ports with fast charging.", "配备USB-C接口，支持快充。"),
        ("A full HD webcam with noise-cancelling microphones.", "全高清摄像头，配降噪麦克风。"),
        ("A high-resolution display that is easy on the eyes.", "高分辨率护眼屏幕。"),
    ),
    closers=GOODS_CLOSERS,
)

LAPTOP_BAGS = Leaf(
    path="electronics/laptop-bags",
    names=("Laptop bags", "电脑包"),
    noun=("Laptop Bag", "电脑包"),
    share=2.5,
    price=Price(45, 0.3, 15, 300),
    brands=(
        brand("Samsonite", "新秀丽", 1.6, "Pro-DLX 6", "Xenon 3.0"),
        brand("Targus", "泰格斯", 0.9, "CitySmart", "Groove X2"),
        brand("Incase", "Incase", 1.5, "Icon", "City Compact"),
        brand("Tumi", "途明", 4.5, "Alpha 3"),
        brand("Herschel", "Herschel", 1.3, "Little America", "Heritage"),
        brand("tomtoc", "tomtoc", 0.8, "Voyage", "Explorer"),
        brand("Xiaomi", "小米", 0.6, ("Commuter", "通勤")),
        brand("Lenovo", "联想", 0.7, "ThinkPad Essential"),
    ),
    axes=(
        Axis(
            "size",
            (
                opt("13-14 inch", "13-14英寸"),
                opt("15.6 inch", "15.6英寸", 1.1),
                opt("16-17 inch", "16-17英寸", 1.2),
            ),
        ),
        Axis(
            "style",
            (
                opt("Backpack", "双肩包"),
                opt("Sleeve", "内胆包", 0.55),
                opt("Messenger Bag", "单肩包", 0.9),
                opt("Briefcase", "公文包", 1.2),
            ),
        ),
        Axis(
            "color",
            (
                opt("Black", "黑色"),
                opt("Grey", "灰色"),
                opt("Navy", "藏青色"),
                opt("Khaki", "卡其色"),
            ),
        ),
    ),
    title=(
        "{brand} {line} {size} Laptop {style}, {color}",
        "{brand} {line} {size}电脑{style} {color}",
    ),
    intro=(
        "A {size} laptop {style_lc} from {brand} for commuting and travel.",
        "{brand} {size}电脑{style}，通勤出差都合适。",
    ),
    blurbs=(
        ("A padded laptop compartment with a suspended floor.", "加厚电脑隔层，悬浮式底部防撞。"),
        ("Water-resistant fabric protects your gear.", "防泼水面料，保护随身设备。"),
        (
            "Organizer pockets for chargers, pens and cables.",
            "多个收纳袋，充电器、笔和数据线各归其位。",
        ),
        ("Light and comfortable to carry all day.", "轻便舒适，全天携带不累。"),
    ),
    closers=GOODS_CLOSERS,
)

WATCHES = Leaf(
    path="electronics/smartwatches",
    names=("Smartwatches", "智能手表"),
    noun=("Smartwatch", "智能手表"),
    share=2.5,
    price=Price(200, 0.2, 40, 1000),
    brands=(
        brand(
            "Apple",
            "苹果",
            1.0,
            opt("Watch Series 10", factor=2.0),
            opt("Watch Ultra 2", factor=4.0),
            opt("Watch SE", factor=1.25),
        ),
        brand(
            "Samsung",
            "三星",
            1.0,
            opt("Galaxy Watch7", factor=1.5),
            opt("Galaxy Watch Ultra", factor=3.2),
        ),
        brand(
            "Huawei",
            "华为",
            1.0,
            opt("Watch GT 5", factor=1.2),
            opt("Watch 5", factor=2.0),
            opt("Watch Fit 3", factor=0.75),
        ),
        brand("Xiaomi", "小米", 1.0, opt("Watch S4", factor=0.7), opt("Redmi Watch 5", factor=0.4)),
        brand(
            "Garmin",
            "佳明",
            1.0,
            opt("Forerunner 265", factor=2.2),
            opt("Fenix 8", factor=4.5),
            opt("Venu 3", factor=2.2),
            opt("Instinct 2", factor=1.5),
        ),
        brand(
            "Amazfit",
            "华米",
            1.0,
            opt("GTR 4", factor=0.9),
            opt("Balance", factor=1.1),
            opt("Bip 5", factor=0.45),
        ),
        brand("Google", "谷歌", 1.0, opt("Pixel Watch 3", factor=1.8)),
    ),
    axes=(
        Axis(
            "size",
            (opt("41 mm", "41毫米"), opt("45 mm", "45毫米", 1.08), opt("46 mm", "46毫米", 1.1)),
        ),
        Axis("connectivity", (opt("GPS"), opt("GPS + Cellular", "GPS+蜂窝网络", 1.2))),
        Axis(
            "band",
            (
                opt("Sport Band", "运动表带"),
                opt("Leather Band", "皮表带", 1.1),
                opt("Metal Link Band", "金属表带", 1.15),
            ),
        ),
        Axis(
            "battery",
            (opt("2 days", "2天"), opt("7 days", "7天"), opt("14 days", "14天")),
            in_title=False,
        ),
    ),
    title=(
        "{brand} {line} {connectivity} {noun}, {size}, {band}",
        "{brand} {line} {connectivity}{noun} {size} {band}",
    ),
    intro=(
        "{brand} {line} {connectivity} smartwatch with up to {battery} of battery life.",
        "{brand} {line} {connectivity}智能手表，续航最长{battery}。",
    ),
    blurbs=(
        ("Tracks heart rate, blood oxygen and sleep.", "监测心率、血氧与睡眠。"),
        ("Built-in GPS maps your runs and rides.", "内置GPS，记录跑步与骑行轨迹。"),
        ("Water resistant to 50 m for swimming.", "50米防水，可佩戴游泳。"),
        ("Calls and notifications arrive on your wrist.", "来电与消息提醒，抬腕即看。"),
    ),
    closers=GOODS_CLOSERS,
)

LEAVES = (LAPTOPS, LAPTOP_BAGS, WATCHES)
