"""Template phrasings, as data: sentences with slots, by language, role and tone.

Every phrase states facts only through slots (see :mod:`~growthkit.campaigns.copy.slots`),
so a template copy is grounded by construction; the tests run every phrase through the
checker. A phrase is used only when the record has a value for each of its slots.
Roles keyed by tone have one pool per tone; the others have one pool (``"*"``).
"""

from __future__ import annotations

Pools = dict[str, tuple[str, ...]]

ZH: dict[str, Pools] = {
    "title": {
        "friendly": ("{product}好价来了", "{shop}给你的小惊喜", "{product}{discount}优惠中", "你关注的好物有优惠"),
        "urgent": ("{product}{discount}进行中", "优惠{valid_until}截止", "{discount}好价，抓紧", "别错过{product}"),
        "premium": ("{brand}·{product}", "{shop}甄选推荐", "{product}，值得拥有", "精选好物推荐"),
        "playful": ("叮～{product}{discount}啦", "{product}喊你来抢🎉", "好价上线～", "心动价来袭"),
    },
    "subject": {
        "*": (
            "{product}{discount}，到手{sale_price}",
            "送你{coupon}优惠券",
            "{product}优惠{valid_until}截止",
            "{shop}为你精选{product}",
            "{product}好物推荐",
            "{product}现{discount}",
            "原价{price}，现{sale_price}",
            "{shop}的{product}在等你",
            "{product}，给你的好价",
        ),
    },
    "hook": {
        "friendly": (
            "好物分享：{product}。",
            "把{product}带回家吧。",
            "{shop}为你挑了{product}。",
            "你关注的{product}有新消息。",
        ),
        "urgent": (
            "抓紧时间，{product}优惠别错过！",
            "别等了，{product}现在入手正合适！",
            "{product}优惠进行中！",
            "心动就别犹豫，{product}等你带走！",
        ),
        "premium": (
            "为懂生活的你，精选{product}。",
            "{brand}{product}，品质之选。",
            "{product}，细节见真章。",
            "{shop}甄选：{product}。",
        ),
        "playful": (
            "叮！{product}向你发来邀请🎉",
            "{product}在购物车里等你哦～",
            "心动不如行动，{product}安排上！",
            "报告！{product}有好消息～",
        ),
    },
    "offer_discount": {
        "*": (
            "{product}现{discount}，到手价{sale_price}。",
            "{product}原价{price}，现在只要{sale_price}。",
            "{product}直降{saving}，到手仅{sale_price}。",
            "{product}{discount}优惠中，立省{saving}。",
        ),
    },
    "offer_discount_it": {
        "*": (
            "现{discount}，到手价{sale_price}。",
            "原价{price}，现在只要{sale_price}。",
            "直降{saving}，到手仅{sale_price}。",
            "{discount}优惠中，立省{saving}。",
        ),
    },
    "offer_price_it": {"*": ("售价{price}。", "{price}即可带回家。", "仅需{price}。")},
    "offer_coupon": {
        "*": (
            "领{coupon}优惠券，{coupon_rule}。",
            "下单可用{coupon_rule}优惠券。",
            "送你一张{coupon}券，{coupon_rule}。",
        ),
    },
    "offer_price": {
        "*": ("{product}，售价{price}。", "{product}，{price}即可带回家。", "{product}等你来选，仅需{price}。"),
    },
    "offer_plain": {"*": ("{product}等你来发现。", "来看看{product}吧。")},
    "deadline": {"*": ("活动截止{valid_until}。", "优惠{valid_until}结束。", "限时优惠，{valid_until}截止。")},
    "deadline_range": {"*": ("活动时间：{valid_from}至{valid_until}。",)},
    "code": {"*": ("结算时输入优惠码{code}。", "下单使用优惠码{code}。")},
    "shipping": {"*": ("本商品包邮。", "下单即享包邮。")},
    "specs": {"*": ("{specs}。",)},
    "cta": {
        "friendly": ("快来看看吧。", "点击了解详情。", "欢迎来{shop}逛逛。", "喜欢就带走吧。"),
        "urgent": ("立即抢购！", "马上下单！", "现在就去抢！", "赶快行动！"),
        "premium": ("即刻探索。", "敬请选购。", "点击了解更多。", "静候您的光临。"),
        "playful": ("冲呀！", "快去看看吧～", "戳我去看看～", "买它！"),
    },
    "greeting:general": {"*": ("你好！",)},
    "greeting:new": {"*": ("欢迎来到{shop}！", "欢迎你的到来！")},
    "greeting:vip": {"*": ("亲爱的会员，感谢一路相伴。",)},
    "greeting:lapsed": {"*": ("好久不见，我们想你了。",)},
    "ref_hook": {
        "*": (
            "我在{shop}发现了{product}，推荐给你！",
            "好东西要分享：{shop}的{product}。",
            "{product}用着不错，分享给你。",
            "给你种草{shop}的{product}～",
        ),
    },
    "ref_offer": {"*": ("现在{discount}，到手价{sale_price}。", "原价{price}，现在只要{sale_price}。")},
    "ref_code": {"*": ("用我的邀请码{code}下单，{coupon_rule}。", "填写邀请码{code}，领{coupon}券。")},
    "hashtag": {"*": ("#好物分享#", "#{shop}#")},
}

EN: dict[str, Pools] = {
    "title": {
        "friendly": ("A little something: {product}", "{shop} picked this for you", "Good news about {product}"),
        "urgent": ("{product}: {discount} now", "Ends {valid_until}: {product}", "Don't miss {product}"),
        "premium": ("{brand} {product}", "Curated for you: {product}", "{product}, selected for you"),
        "playful": ("Psst… {product} is calling 🎉", "Treat yourself: {product}", "Guess what? {discount}!"),
    },
    "subject": {
        "*": (
            "{discount} on {product}",
            "{product}, now {sale_price}",
            "Your {coupon} coupon is here",
            "{product}: offer ends {valid_until}",
            "{shop}: something for you",
            "A closer look at {product}",
            "{product} for {sale_price}",
            "{product} is {discount}",
            "Something good from {shop}",
            "{product} is waiting for you",
        ),
    },
    "hook": {
        "friendly": (
            "We think you'll love {product}.",
            "{product} is waiting for you.",
            "Here's something nice for you: {product}.",
            "{shop} has picked {product} for you.",
        ),
        "urgent": (
            "Don't wait on {product}.",
            "Now is the time to grab {product}!",
            "Move fast on {product}!",
            "Your chance to get {product} is here!",
        ),
        "premium": (
            "Discover {product}.",
            "{brand} {product}, selected with care.",
            "For those who appreciate quality: {product}.",
            "A refined choice: {product}.",
        ),
        "playful": (
            "Your cart called, it wants {product}! 🛒",
            "Treat yourself to {product} 🎉",
            "Knock knock! {product} is here.",
            "Plot twist: {product} is on your wish list now.",
        ),
    },
    "offer_discount": {
        "*": (
            "{product} is now {discount}, just {sale_price}.",
            "Get {product} for {sale_price} instead of {price}.",
            "Save {saving} on {product}: now {sale_price}.",
            "{discount} on {product}, down to {sale_price}.",
        ),
    },
    "offer_discount_it": {
        "*": (
            "It's now {discount}, just {sale_price}.",
            "Get it for {sale_price} instead of {price}.",
            "Save {saving}: now {sale_price}.",
            "{discount} right now, down to {sale_price}.",
        ),
    },
    "offer_price_it": {"*": ("Yours for {price}.", "Just {price}.", "Bring it home for {price}.")},
    "offer_coupon": {
        "*": (
            "Grab a {coupon} coupon: {coupon_rule}.",
            "Your coupon: {coupon_rule}.",
            "Use your {coupon} coupon for {coupon_rule}.",
        ),
    },
    "offer_price": {
        "*": ("{product} is yours for {price}.", "{product}, just {price}.", "Bring home {product} for {price}.")
    },
    "offer_plain": {"*": ("Come and see {product}.", "Take a look at {product}.")},
    "deadline": {"*": ("Offer ends {valid_until}.", "Valid until {valid_until}.", "Limited time: ends {valid_until}.")},
    "deadline_range": {"*": ("Valid {valid_from} to {valid_until}.",)},
    "code": {"*": ("Use code {code} at checkout.", "Enter {code} at checkout.")},
    "shipping": {"*": ("Free shipping included.",)},
    "specs": {"*": ("{specs}.",)},
    "cta": {
        "friendly": ("Take a look.", "Tap to see more.", "Come say hi at {shop}.", "See it for yourself."),
        "urgent": ("Shop now!", "Order now!", "Grab yours now!", "Don't miss out!"),
        "premium": ("Explore now.", "Discover more.", "View the collection.", "Find out more."),
        "playful": ("Go go go! 🚀", "Tap, tap! 👆", "Your cart is waiting 😉", "Let's go shopping! 🛍️"),
    },
    "greeting:general": {"*": ("Hi there,",)},
    "greeting:new": {"*": ("Welcome to {shop}!", "Welcome aboard!")},
    "greeting:vip": {"*": ("Thank you for being one of our regulars.",)},
    "greeting:lapsed": {"*": ("It's been a while, and we've missed you.",)},
    "ref_hook": {
        "*": (
            "I found {product} at {shop} and thought of you!",
            "Sharing a good find: {product} from {shop}.",
            "You might like {product} from {shop}.",
            "Been enjoying {product} from {shop}, take a look!",
        ),
    },
    "ref_offer": {
        "*": ("It's {discount} right now, just {sale_price}.", "Right now it's {sale_price} instead of {price}.")
    },
    "ref_code": {"*": ("Use my code {code} for {coupon_rule}.", "Sign up with my code {code} for a {coupon} coupon.")},
    "hashtag": {"*": ("#goodfinds", "#shopping")},
}

PHRASES: dict[str, dict[str, Pools]] = {"zh": ZH, "en": EN}
"""All template phrasings: ``PHRASES[lang][role][tone or "*"]``."""

PERSONA_KEYWORDS: dict[str, tuple[str, ...]] = {
    "lapsed": (
        "churn",
        "lapsed",
        "inactive",
        "dormant",
        "win-back",
        "winback",
        "at risk",
        "at-risk",
        "流失",
        "沉睡",
        "回流",
    ),
    "new": ("new", "first", "welcome", "signup", "新客", "新人", "新用户", "首单", "注册"),
    "vip": ("vip", "loyal", "champion", "high value", "high-value", "member", "会员", "高价值", "忠诚", "老客"),
}
"""Words in a persona that pick the e-mail greeting (first match wins, in this order)."""
