"""Demo catalog vocabulary: toys and gift sets."""

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

TOYS = Leaf(
    path="toys/ages-3-10",
    names=("Toys for ages 3-10", "3-10岁玩具"),
    share=4.5,
    price=Price(22, 0.22, 5, 200),
    brands=(
        brand(
            "LEGO",
            "乐高",
            1.0,
            ("Classic Creative Brick Box", "经典创意积木盒", 1.6),
            ("City Fire Station", "城市消防局", 3.0),
            ("Friends Heartlake City Café", "好朋友心湖城咖啡馆", 1.2),
            ("Technic Race Car", "机械组赛车", 2.0),
        ),
        brand(
            "Barbie",
            "芭比",
            1.0,
            ("Dreamhouse", "梦想豪宅", 6.0),
            ("Fashionista Doll", "时尚达人娃娃", 0.6),
        ),
        brand(
            "Hot Wheels",
            "风火轮",
            1.0,
            ("Track Builder Set", "轨道套装", 1.3),
            ("5-Car Gift Pack", "5辆车礼盒", 0.35),
        ),
        brand(
            "Play-Doh",
            "培乐多",
            1.0,
            ("Kitchen Creations Set", "厨房创意套装", 0.7),
            ("10-Color Modeling Compound", "10色彩泥套装", 0.4),
        ),
        brand(
            "Melissa & Doug",
            "Melissa & Doug",
            1.0,
            ("Wooden Puzzle Set", "木质拼图套装", 0.7),
            ("Pretend Play Kitchen", "过家家厨房", 3.5),
        ),
        brand(
            "Hape",
            "Hape",
            1.0,
            ("Wooden Railway Set", "木质轨道火车套装", 1.8),
            ("100-Piece Building Blocks", "百粒积木", 1.2),
        ),
        brand("Keeppley", "奇妙", 1.0, ("Doraemon Building Set", "哆啦A梦积木", 0.9)),
        brand("Nerf", "热火", 1.0, ("Elite 2.0 Blaster", "精英2.0发射器", 1.0)),
        brand("Magformers", "麦格弗", 1.0, ("Magnetic Tiles, 62 Pieces", "磁力片62片", 2.6)),
        brand("Crayola", "绘儿乐", 1.0, ("Inspiration Art Case", "创意艺术绘画套装", 1.0)),
    ),
    axes=(
        Axis(
            "age_range",
            (
                opt("Ages 3+", "3岁+", value="3-5"),
                opt("Ages 5+", "5岁+", value="5-8"),
                opt("Ages 6+", "6岁+", value="6-10"),
                opt("Ages 8+", "8岁+", value="8-10"),
            ),
        ),
        Axis(
            "edition",
            (
                opt("", "", value="standard"),
                opt("Gift Edition", "礼盒版", 1.15),
                opt("Deluxe Edition", "豪华版", 1.4),
            ),
        ),
    ),
    title=("{brand} {line} {edition}, {age_range}", "{brand} {line} {edition} {age_range}"),
    intro=("{brand} {line} for kids, {age_range_lc}.", "{brand} {line}，适合{age_range}儿童。"),
    blurbs=(
        (
            "Builds creativity, fine motor skills and problem solving.",
            "培养创造力、精细动作与解决问题的能力。",
        ),
        ("Made from child-safe, non-toxic materials.", "采用儿童安全无毒材料。"),
        ("A great birthday or holiday gift.", "生日、节日送礼佳选。"),
        ("Encourages imaginative play with friends and family.", "鼓励与家人朋友一起发挥想象力。"),
    ),
    closers=GOODS_CLOSERS[:3],
)

GIFT_SETS = Leaf(
    path="gifts/gift-sets",
    names=("Gift sets", "礼盒"),
    share=3.0,
    price=Price(30, 0.2, 10, 250),
    brands=(
        brand(
            "L'Occitane",
            "欧舒丹",
            1.0,
            ("Shea Butter Hand Cream Trio", "乳木果护手霜三件套", 1.1),
            ("Almond Shower & Body Set", "杏仁沐浴身体护理礼盒", 1.6),
        ),
        brand("Godiva", "歌帝梵", 1.0, ("Gold Collection Chocolate Box", "金装巧克力礼盒", 1.3)),
        brand("Ferrero", "费列罗", 1.0, ("Rocher 24-Piece Box", "榛果威化巧克力24粒礼盒", 0.7)),
        brand("Lancôme", "兰蔻", 1.0, ("Advanced Génifique Serum Set", "小黑瓶精华礼盒", 3.8)),
        brand(
            "Estée Lauder", "雅诗兰黛", 1.0, ("Advanced Night Repair Set", "小棕瓶精华礼盒", 3.8)
        ),
        brand("Jo Malone London", "祖玛珑", 1.0, ("Cologne Collection", "香水礼盒", 3.5)),
        brand("Twinings", "川宁", 1.0, ("Tea Discovery Collection", "茶饮臻选礼盒", 0.6)),
        brand("Daoxiangcun", "稻香村", 1.0, ("Traditional Pastry Box", "传统糕点礼盒", 0.8)),
        brand("Wuyutai", "吴裕泰", 1.0, ("Jasmine Tea Gift Tin", "茉莉花茶礼罐", 1.0)),
        brand("Swarovski", "施华洛世奇", 1.0, ("Crystal Pendant Set", "水晶吊坠礼盒", 2.8)),
    ),
    axes=(
        Axis(
            "occasion",
            (
                opt("Birthday", "生日"),
                opt("Holiday", "节日"),
                opt("Anniversary", "纪念日"),
                opt("Thank-You", "感恩"),
                opt("Mother's Day", "母亲节"),
                opt("Valentine's Day", "情人节"),
                opt("Mid-Autumn", "中秋"),
                opt("New Year", "新年"),
            ),
        ),
        Axis("edition", (opt("", "", value="standard"), opt("Deluxe", "豪华版", 1.4))),
    ),
    title=(
        "{brand} {line} {edition}, {occasion} Gift Wrap",
        "{brand} {line} {edition} {occasion}礼品包装",
    ),
    intro=(
        "{brand} {line}, wrapped for a {occasion_lc} surprise.",
        "{brand} {line}，{occasion}惊喜之选。",
    ),
    blurbs=(
        ("Arrives beautifully wrapped with a greeting card.", "精美包装，附赠贺卡。"),
        ("A thoughtful gift for family, friends and colleagues.", "送家人、朋友、同事都体面。"),
        ("Add a personal message at checkout.", "结账时可添加专属祝福语。"),
        ("Ready to give, no wrapping needed.", "开箱即送，无需另行包装。"),
    ),
    closers=CONSUMABLE_CLOSERS,
)

LEAVES = (TOYS, GIFT_SETS)
