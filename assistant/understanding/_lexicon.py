"""Word lists of the rules extractor, as compiled patterns over lower-case text.

Each pattern covers English and Chinese. They run on cleaned, lower-case text whose Chinese
numerals are Arabic digits (so "满99减20" and "满九十九减二十" look the same).
"""

from __future__ import annotations

import re

__all__ = [
    "ASK_ITEM",
    "BRAND_CONFIRM_AFTER",
    "BRAND_CONFIRM_BEFORE",
    "BRAND_CONNECTOR",
    "CHEAP",
    "CHEAPER",
    "CLAIM",
    "COMPARE",
    "DEAL_TYPES",
    "EXPENSIVE",
    "FILLER_EN",
    "FILLER_ZH",
    "GENERIC_DEAL",
    "HANDOFF",
    "INJECTION",
    "MY_COUPONS",
    "NEGATION_AFTER",
    "NEGATION_BEFORE",
    "NEW_TOPIC",
    "NOT_INTERESTED",
    "OCCASIONS",
    "OFF_TOPIC",
    "ONLY",
    "ORDINALS",
    "PERSONALIZE_OFF",
    "PERSONALIZE_ON",
    "RECIPIENTS",
    "SMALL_TALK",
    "SORT_DISCOUNT",
    "SORT_ENDING",
    "WHY_INELIGIBLE",
]


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


INJECTION = _re(
    r"ignore (?:all |any |the |your )*(?:previous|prior|above|earlier|preceding|system)"
    r" (?:instructions?|prompts?|rules|messages?)|\byou are now\b|\bjailbreak|system prompt"
    r"|developer mode|\bpretend (?:to be|you are)|\bact as (?:a|an|my)\b|\bdan mode\b"
    r"|(?:create|generate|make|invent|fake|forge|write|print|code)(?: me| us)? (?:an? |some |\d+ )?"
    r"(?:\w+ ){0,3}(?:coupon|promo|discount|voucher|gift card|gift-card) codes?"
    r"|忽略(?:之前|以上|前面|上面|先前|所有)的?(?:所有)?(?:指令|指示|规则|提示|设定)"
    r"|你现在是|扮演|系统提示|越狱|(?:生成|创建|编造|伪造|编|造|写)(?:一|几|些)?(?:个|张|些)?"
    r".{0,6}(?:优惠码|券码|折扣码|兑换码|优惠券码|礼品卡)"
)
"""Prompt injection and requests to mint coupon codes: always out of scope."""

OFF_TOPIC = _re(
    r"\bweather\b(?![ -]?proof)|\bforecast\b|\bhomework\b|\bessay\b|\bmath\b|\bcalculus\b"
    r"|\bpython\b|\bjavascript\b|\bsql\b|\bscript\b|\bwrite (?:me )?(?:a |some )?(?:code|program|"
    r"function|poem|story|song)|\bcoding\b|\bprogramming\b|\bpolitics?\b|\bpolitical\b"
    r"|\belection\b|\bpresident\b|\bvote\b|\bjokes?\b|\bpoem\b|\blyrics\b|\bnews\b"
    r"|\bstock (?:price|market)\b|\bbitcoin\b|\bcrypto\b|\btranslate\b|\bcapital of\b"
    r"|\bmeaning of life\b|\bwho (?:is|was) (?:the )?(?:president|prime minister)"
    r"|天气|作业|写代码|编程|代码|政治|选举|总统|笑话|写诗|翻译|股票|新闻|比特币|讲个故事"
)
"""Topics a shopping assistant does not answer (only when no product is named)."""

HANDOFF = _re(
    r"\b(?:real|actual|live) (?:person|human|agent|people|support)\b|\bhuman(?: being)?s?\b"
    r"|\b(?:talk|speak|chat) (?:to|with) (?:someone|somebody|a person|a human|an agent|"
    r"support|staff|a representative|customer service|a manager|an? (?:real )?employee)"
    r"|\bcustomer (?:service|support|care)\b|\bagent\b|\brepresentative\b|\boperator\b"
    r"|\bcomplain(?:t|ts|ing)?\b|\bmanager\b|\bsupport team\b|\blive chat\b"
    r"|转人工|人工|真人|客服|投诉|找人|经理|举报"
)
"""Asking for a person, or complaining."""

WHY_INELIGIBLE = _re(
    r"\bwhy (?:can'?t|cannot|can not|couldn'?t|won'?t|doesn'?t|didn'?t|isn'?t|is not|does not"
    r"|not|am i not|is my|was my|is the|was the)\b"
    r"|(?:coupons?|codes?|vouchers?|discounts?|deals?|promos?|offers?)\s+(?:is |are |was |were )?"
    r"(?:not|isn'?t|doesn'?t|didn'?t|won'?t|aren'?t) (?:work|apply|applying|valid|count)"
    r"|(?:coupons?|codes?|vouchers?|discounts?) not working|not eligible|\bineligible\b"
    r"|can'?t (?:use|apply|redeem) (?:my|the|this|that|a) (?:coupon|code|voucher|discount)"
    r"|为什么(?:不能|用不了|没法|无法|不可以|不行|没有|不给|不让)|为啥(?:不能|用不了|不行)"
    r"|用不了|不能用|无法使用|没法用|不可用|怎么用不了|不能使用|不满足"
)
"""Asking why a deal or coupon does not apply."""

MY_COUPONS = _re(
    r"\bmy (?:coupons?|vouchers?|promo codes?|discount codes?|codes)\b"
    r"|(?:coupons?|vouchers?) (?:do |did )?i (?:have|own|got|hold)|coupons? i(?:'ve| have) "
    r"(?:got|claimed)|(?:what|which) coupons? (?:do|have|did) i"
    r"|我的(?:优惠)?券|我的红包|我(?:有|领了)(?:哪些|什么|几张|多少)(?:优惠)?券|我领的券"
)
"""Asking for the coupons the shopper holds."""

CLAIM = _re(
    r"\bclaim\b|\bredeem\b|\b(?:get|grab|take|save) (?:the|this|that|it|a|one)"
    r"(?: \w+)? (?:coupon|voucher)\b|\bclip (?:the|it)\b"
    r"|领券|领取|领一下|领个|帮我领|我要领|抢券|领一张|领了"
)
"""Wanting to claim a coupon."""

COMPARE = _re(
    r"\bcompare\b|\bcomparison\b|\bvs\.?\b|\bversus\b|difference between"
    r"|比较|对比|比一比|哪个好|哪个更"
)
"""Comparing items already shown."""

ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
    "fifth": 5, "5th": 5, "sixth": 6, "6th": 6,
}  # fmt: skip
"""English ordinal words and their positions."""

ASK_ITEM = _re(
    r"\b(?:the )?first (?P<firstn>two|three|four|2|3|4)\b"
    r"|\bthe (?P<ord>first|second|third|fourth|fifth|sixth|1st|2nd|3rd|4th|5th|6th)"
    r"(?: one| item| option| product| deal| pair)?\b"
    r"|\b(?P<ord2>first|second|third|fourth|fifth|sixth|1st|2nd|3rd|4th|5th|6th)"
    r" (?:one|item|option|product|deal|pair)\b"
    r"|(?:#|\bno\. ?|\bnumber |\bitem |\boption |\bproduct )(?P<num>\d{1,2})\b"
    r"|\b(?:about|on|more about|details (?:on|of|for)|compare) (?P<bare>[1-9])\b"
    r"(?! ?(?:\$|dollars?|bucks?))"
    r"|\b(?:and|&|vs\.?|with) (?P<and>[1-9])\b(?! ?(?:\$|dollars?|bucks?|[a-z]))"
    r"|第 ?(?P<zh>\d{1,2}|[一二三四五六七八九十]) ?(?:个|件|款|双|条|种|项|家)?(?!半价)"
    r"|前(?P<first>[两二三四五\d])(?:个|件|款)"
    r"|\b(?:the )?(?P<last>last) one\b"
)
"""References to items already shown ("the second one", "#2", "第二个", "前两个")."""

SMALL_TALK = _re(
    r"^(?:hi|hello|hey|heya|yo|hiya|good (?:morning|afternoon|evening|night)|thanks?(?: you)?"
    r"|thx|ty|cheers|bye|goodbye|see you|ok(?:ay)?|cool|great|nice|awesome|perfect|got it"
    r"|how are you|who are you|what can you do|你好|您好|嗨|哈喽|哈啰|谢谢|多谢|感谢|再见|拜拜"
    r"|好的|嗯|在吗|在么|你是谁|早上好|晚上好|辛苦了)\b"
    r"|\b(?:thanks|thank you|bye|goodbye)\b|谢谢|再见|拜拜|你好"
)
"""Greetings, thanks, goodbyes (small talk only when the message asks for nothing else)."""

CHEAPER = _re(
    r"\bcheaper\b|\bless expensive\b|\blower[- ]priced?\b|\bmore affordable\b|\bless pricey\b"
    r"|便宜点|便宜一点|便宜些|更便宜|再便宜|便宜一些|价格低一点|低一点|实惠一点|实惠点"
)
"""Wanting cheaper items than those shown."""

CHEAP = _re(
    r"\bcheap(?:est)?\b|\baffordable\b|\binexpensive\b|\bbudget[- ]friendly\b|\blow[- ]cost\b"
    r"|便宜|实惠|性价比|低价|平价"
)
"""Sort by price, lowest first (no bound)."""

EXPENSIVE = _re(
    r"\bpremium\b|\bhigh[- ]end\b|\bluxury\b|\bluxurious\b|\bmost expensive\b|\bexpensive\b"
    r"|\bpricier\b|贵一点|贵的|高端|奢华|奢侈"
)
"""Sort by price, highest first."""

SORT_DISCOUNT = _re(r"\bbiggest discounts?\b|\bbest discounts?\b|\bmost off\b|折扣最大|最划算")
"""Sort by discount."""

SORT_ENDING = _re(
    r"\bending soon\b|\blast chance\b|\bends? (?:today|tonight|soon)\b|快结束|即将结束|最后一天"
)
"""Sort by end time."""

GENERIC_DEAL = _re(
    r"\b(?:deals?|discount(?:s|ed)?|sales?|offers?|promos?|promotions?|bargains?|specials?"
    r"|clearance|savings?|markdowns?|reduced)\b|on sale"
    r"|优惠|打折|折扣|促销|特价|(?<!户外)(?<!运动)活动|特惠|减价|降价|划算|便宜货|捡漏"
)
"""Deal words that name no deal type."""

DEAL_TYPES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (
        _re(
            r"\b(?:coupons?|vouchers?|promo ?codes?|discount codes?|coupon codes?)\b"
            r"|优惠券|优惠卷|券|红包|折扣码|优惠码"
        ),
        ("coupon", "new_user"),
    ),
    (
        _re(
            r"\bnew (?:users?|customers?|members?|shoppers?|accounts?)\b|\bfirst[- ]time\b"
            r"|\bfirst (?:order|purchase)\b|\bnewcomers?\b|新人|新用户|新客|首单|新手"
        ),
        ("new_user",),
    ),
    (
        _re(
            r"\bfree (?:shipping|delivery|postage)\b|\bships? (?:for )?free\b"
            r"|\bno (?:shipping|delivery) (?:fee|cost|charge)s?\b"
            r"|包邮|免运费|免邮|免费配送|免配送费"
        ),
        ("free_shipping",),
    ),
    (
        _re(
            r"\bflash (?:sales?|deals?)\b|\blightning deals?\b|\blimited[- ]time\b"
            r"|\bdoorbusters?\b|\bdaily deals?\b|秒杀|限时|闪购|抢购"
        ),
        ("flash_sale",),
    ),
    (
        _re(
            r"\bspend (?:and|&|to) save\b|\bspend (?:over )?\$? ?\d+[^.,;]{0,12}\b(?:save|get)\b"
            r"|\bbuy more,? save more\b"
            r"|\d+ off (?:orders?|purchases?) (?:over|above|of)\b"
            r"|满减|满 ?\d+ ?(?:元|块)? ?减|每满|满额"
        ),
        ("threshold",),
    ),
    (
        _re(
            r"\bbundles?\b|\bcombos?\b|\bbogo\b|\bbuy (?:one|1|two|2) get\b|\bmulti-?buy\b"
            r"|套装|组合|搭配购|买一送一|买二送一|第二件半价|多件优惠"
        ),
        ("bundle",),
    ),
    (
        _re(
            r"\bmember(?:s|ship)?(?:'s)? (?:day|price|prices|deals?|discounts?|exclusives?|sale)\b"
            r"|\bmembers?[- ]only\b|\bmembership\b|会员日|会员价|会员专享|会员"
        ),
        ("member_day",),
    ),
    (
        _re(
            r"\d+(?:\.\d+)? ?(?:%|percent)(?: off)?|% off|\bpercent off\b"
            r"|(?:\d(?:\.\d)?|[一二三四五六七八九]) ?折(?!扣)|几折"
        ),
        ("percent_off",),
    ),
)
"""Deal-type words and the ``ActivityType`` values they ask for."""

RECIPIENTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (_re(r"\bgrand(?:ma|pa|mother|father|parents?|mom|dad)s?\b|\bgranny\b|\bnana\b"
         r"|奶奶|爷爷|外婆|外公|姥姥|姥爷|长辈|老人"), "grandparent"),
    (_re(r"\b(?:mom|mum|mother|mommy|mummy|mama)s?(?:'s)?\b|\bmother[- ]in[- ]law\b"
         r"|妈妈|母亲|老妈|我妈|婆婆|岳母|丈母娘|妈咪(?!宝贝)"), "mother"),
    (_re(r"\b(?:dad|father|daddy|papa|pops)s?(?:'s)?\b|\bfather[- ]in[- ]law\b"
         r"|爸爸|父亲|老爸|我爸|公公|岳父|老丈人"), "father"),
    (_re(r"\b(?:wife|husband|girlfriend|boyfriend|gf|bf|partner|spouse|fianc[eé]e?|hubby|wifey)"
         r"(?:'s)?\b|\bsignificant other\b"
         r"|老婆|老公|男朋友|女朋友|男友|女友|对象|媳妇|爱人|丈夫|妻子|太太"), "partner"),
    (_re(r"\b(?:kids?|sons?|daughters?|child|children|toddlers?|nephews?|nieces?|grandsons?"
         r"|granddaughters?|little ones?|boys?|girls?)(?:'s)?\b|\b(?:my|our|a|the) baby\b"
         r"|\d+ ?(?:year|yr)[- ]old"
         r"|孩子|儿子|女儿|宝宝|小孩|娃|小朋友|侄子|侄女|外甥"), "child"),
    (_re(r"\b(?:friend|bestie|bff|buddy|pal)s?(?:'s)?\b|朋友|闺蜜|好友|兄弟|哥们|基友"), "friend"),
    (_re(r"\b(?:colleague|coworker|co-worker|boss|teammate)s?(?:'s)?\b|同事|领导|老板|上司"),
     "colleague"),
    (_re(r"\b(?:sister|brother|sis|sibling)s?(?:'s)?\b|姐姐|妹妹|哥哥|弟弟|姐妹"), "sibling"),
    (_re(r"\bteachers?\b(?!'?s? day)|老师"), "teacher"),
    (_re(r"\bfor (?:me|myself)\b|\bmyself\b|给自己|自己用|我自己"), "self"),
)  # fmt: skip
"""Who it is for, normalized; the first mention in the message wins."""

OCCASIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (_re(r"\bbirthdays?\b|\bb-?day\b|\bb'day\b|生日"), "birthday"),
    (_re(r"\bchristmas\b|\bx-?mas\b|圣诞"), "christmas"),
    (_re(r"\bvalentine'?s?\b|情人节|七夕"), "valentines"),
    (_re(r"\banniversary\b|纪念日|周年"), "anniversary"),
    (_re(r"\bmother'?s'? day\b|\bmom'?s day\b|母亲节"), "mothers_day"),
    (_re(r"\bfather'?s'? day\b|\bdad'?s day\b|父亲节"), "fathers_day"),
    (_re(r"\b(?:lunar |chinese )?new year'?s?\b|\bcny\b|新年|春节|过年|元旦|年货"), "new_year"),
    (_re(r"\bweddings?\b|婚礼|结婚|新婚|婚庆"), "wedding"),
    (_re(r"\bgraduation\b|毕业"), "graduation"),
    (_re(r"\bhousewarming\b|乔迁|新居"), "housewarming"),
    (_re(r"\bhalloween\b|万圣节"), "halloween"),
    (_re(r"\bthanksgiving\b|感恩节"), "thanksgiving"),
    (_re(r"\bteacher'?s'? day\b|教师节"), "teachers_day"),
    (_re(r"\bchildren'?s day\b|儿童节"), "childrens_day"),
    (_re(r"\bbaby shower\b"), "baby_shower"),
)  # fmt: skip
"""Occasions, normalized; the longest mention wins ("结婚纪念日" is an anniversary)."""

NEGATION_BEFORE = _re(
    r"(?:(?<![a-z])(?:no|not|except|without|excluding|exclude|but not|anything but|other than"
    r"|nothing from|minus|nor|avoid|skip|hate|dislike|don'?t (?:want|like|need|show)"
    r"|do not (?:want|like|show)|not a fan of|no more|none of|instead of|rather than)"
    r"(?: (?:any|the|a|an))?"
    r"|不要|别要|不想|不想要|不用|别|除了|除|不含|排除|不喜欢|不考虑|不买|不是|非)"
    r" ?$"
)
"""A negation right before a brand ("no Adidas", "除了阿迪")."""

NEGATION_AFTER = _re(r"^ ?(?:的)? ?(?:不要|就算了|不考虑|除外|免了|pass|不行)")
"""A negation right after a brand ("耐克的不要")."""

BRAND_CONNECTOR = _re(r"^ ?(?:,|/|、|和|或者|或是|或|跟|及|以及|还有|and|or|nor|&) ?(?:the )?$")
"""What may stand between two brands of one list ("Nike, Adidas or Puma")."""

BRAND_CONFIRM_BEFORE = _re(r"(?:brand|品牌|牌子|by|from) ?$")
"""Words before an ambiguous alias that make it a brand ("from Global")."""

BRAND_CONFIRM_AFTER = _re(r"^ ?(?:的|牌|品牌|brand|'s\b)")
"""Words after an ambiguous alias that make it a brand ("好奇的纸尿裤")."""

ONLY = _re(r"\bonly\b|\bjust\b|只要|只看|只买")
"""Restricting to what follows ("only Samsung")."""

NOT_INTERESTED = _re(
    r"\bnot interested in (?P<en>[^,.!?;]+)|\b(?:don'?t|do not|stop) (?:show|recommend|suggest)"
    r"(?:ing)? (?:me )?(?:any )?(?:more )?(?P<en2>[^,.!?;]+)"
    r"|对(?P<zh>[^,，。!！?？]+?)不感兴趣|(?:不要|别)再(?:推荐|推|给我看)(?P<zh2>[^,，。!！?？]+)"
)
"""Things to stop recommending for good."""

PERSONALIZE_OFF = _re(
    r"\bdon'?t personali[sz]e|\bstop (?:using|tracking|personali[sz]ing)|\bno personali[sz]ation"
    r"|\bwithout personali[sz]ation|\b(?:turn|switch) off personali[sz]ation|\bdon'?t use my"
    r" (?:history|data)|不要个性化|关闭个性化|别用我的|不要根据我的|不要用我的(?:历史|记录|数据)"
)
"""Asking not to use the shopper's history."""

PERSONALIZE_ON = _re(
    r"\b(?:turn|switch) on personali[sz]ation|\benable personali[sz]ation|\bpersonali[sz]e again"
    r"|开启个性化|打开个性化|恢复个性化"
)
"""Asking to use the shopper's history again."""

NEW_TOPIC = _re(
    r"\bnew topic\b|\bsomething else\b|\bsomething different\b|\bstart over\b|\bnever ?mind\b"
    r"|\bforget (?:it|that|about)\b|\binstead\b|换个|换一个|算了|重新|别的|另外"
)
"""Explicitly starting a new request."""

FILLER_EN = _re(
    r"\b(?:i|i'?m|im|me|my|we|us|you|u|need|needs|want|wanna|would|like|looking|look|find"
    r"|for|some|any|a|an|the|show|get|gimme|give|please|pls|plz|can|could|recommend|suggest"
    r"|something|anything|got|have|has|do|does|is|are|there|what|which|on|with|of|to|in|yo"
    r"|hey|hi|rn|lol|buy|just|also|and|or|but|it|that|this|ones?|options?|ideas?|maybe|kind"
    r"|sort|good|nice|really|very|so|stuff|thing|things|price|priced|budget|dollars?|bucks?"
    r"|cheap|cheapest|cheaper|affordable|only|no|not|except|without|other|than|around|about"
    r"|under|over|below|above|between|from|tops|max|at|most|least|less|more|up|let'?s|see"
    r"|else|new|topic|instead|by|brand|brands|now|today|again|too|all|ok|okay|please"
    r"|interested|stop|showing|recommending)\b"
)
"""English words that carry no product meaning for search."""

FILLER_ZH = _re(
    r"我想要|我想买|我想|想要|想买|帮我找|帮我|给我|推荐一下|推荐|一下|有没有|有什么|有啥|有哪些"
    r"|什么|哪些|看看|找找|能不能|可以|请问|麻烦|吗|呢|吧|啊|呀|哦|了|的|要|买|个|一些|一款"
    r"|几款|点|我|对|不感兴趣|或者|还是|或|和|预算|价格|价位|左右|以内|以下|以上|之内|之间|不超过|不要|除了|便宜|算了|换个"
)
"""Chinese words that carry no product meaning for search."""
