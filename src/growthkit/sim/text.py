"""Word and phrase banks of the simulator: catalog nouns, brands, places, names, reviews.

All text is written for the simulator (no external corpus). Chinese and English
come in pairs so titles and descriptions can be bilingual.
"""

from __future__ import annotations

# (top category zh, top category en, ((sub en, median price CNY, ((noun zh, noun en), ...)), ...))
CATEGORIES: tuple[tuple[str, str, tuple[tuple[str, float, tuple[tuple[str, str], ...]], ...]], ...] = (
    ("数码电子", "Electronics", (
        ("Audio", 199.0, (("无线蓝牙耳机", "Wireless Bluetooth Earbuds"),
                          ("降噪耳机", "Noise-Cancelling Headphones"), ("便携音箱", "Portable Speaker"))),
        ("Phone Accessories", 59.0, (("手机壳", "Phone Case"), ("快充充电器", "Fast Charger"),
                                     ("充电宝", "Power Bank"))),
        ("Wearables", 399.0, (("智能手表", "Smart Watch"), ("运动手环", "Fitness Band"))),
    )),
    ("家用电器", "Home Appliances", (
        ("Kitchen Appliances", 259.0, (("电饭煲", "Rice Cooker"), ("空气炸锅", "Air Fryer"),
                                       ("电热水壶", "Electric Kettle"))),
        ("Cleaning", 899.0, (("扫地机器人", "Robot Vacuum"), ("无线吸尘器", "Cordless Vacuum"))),
    )),
    ("美妆护肤", "Beauty", (
        ("Skincare", 149.0, (("保湿面霜", "Moisturizing Cream"), ("洁面乳", "Facial Cleanser"), ("精华液", "Serum"))),
        ("Makeup", 129.0, (("口红", "Lipstick"), ("粉底液", "Liquid Foundation"), ("眼影盘", "Eyeshadow Palette"))),
    )),
    ("服饰", "Fashion", (
        ("Women's Clothing", 169.0, (("连衣裙", "Dress"), ("针织开衫", "Knit Cardigan"), ("羽绒服", "Down Jacket"))),
        ("Men's Clothing", 129.0, (("纯棉T恤", "Cotton T-Shirt"), ("牛仔裤", "Jeans"), ("衬衫", "Shirt"))),
    )),
    ("鞋包", "Shoes & Bags", (
        ("Sneakers", 329.0, (("跑步鞋", "Running Shoes"), ("板鞋", "Skate Shoes"))),
        ("Bags", 199.0, (("双肩包", "Backpack"), ("手提包", "Handbag"), ("行李箱", "Suitcase"))),
    )),
    ("食品零食", "Food & Snacks", (
        ("Snacks", 49.0, (("坚果礼盒", "Mixed Nuts Gift Box"), ("牛肉干", "Beef Jerky"), ("饼干", "Biscuits"))),
        ("Beverages", 59.0, (("绿茶", "Green Tea"), ("挂耳咖啡", "Drip Coffee"), ("燕麦奶", "Oat Milk"))),
    )),
    ("母婴", "Mother & Baby", (
        ("Diapers", 119.0, (("纸尿裤", "Diapers"), ("婴儿湿巾", "Baby Wipes"))),
        ("Baby Food", 239.0, (("婴儿奶粉", "Infant Formula"), ("米粉", "Baby Rice Cereal"))),
    )),
    ("运动户外", "Sports & Outdoors", (
        ("Fitness", 89.0, (("瑜伽垫", "Yoga Mat"), ("哑铃", "Dumbbells"), ("跳绳", "Jump Rope"))),
        ("Outdoor", 299.0, (("露营帐篷", "Camping Tent"), ("登山杖", "Trekking Poles"), ("睡袋", "Sleeping Bag"))),
    )),
    ("家居生活", "Home & Living", (
        ("Bedding", 259.0, (("床上四件套", "Bedding Set"), ("乳胶枕", "Latex Pillow"), ("蚕丝被", "Silk Duvet"))),
        ("Storage", 39.0, (("收纳盒", "Storage Box"), ("衣架", "Clothes Hangers"))),
    )),
    ("图书", "Books", (
        ("Fiction", 39.0, (("长篇小说", "Novel"), ("科幻小说", "Science Fiction Novel"))),
        ("Education", 59.0, (("英语学习书", "English Learning Book"), ("编程入门", "Programming Primer"))),
        ("Children's Books", 45.0, (("儿童绘本", "Picture Book"), ("科普百科", "Science Encyclopedia"))),
    )),
    ("宠物用品", "Pet Supplies", (
        ("Pet Food", 129.0, (("猫粮", "Cat Food"), ("狗粮", "Dog Food"), ("冻干零食", "Freeze-Dried Treats"))),
        ("Pet Toys", 35.0, (("猫抓板", "Cat Scratcher"), ("逗猫棒", "Cat Teaser Wand"))),
    )),
    ("医药保健", "Health", (
        ("Supplements", 119.0, (("维生素C", "Vitamin C"), ("深海鱼油", "Fish Oil"), ("益生菌", "Probiotics"))),
        ("Medical Devices", 229.0, (("电子血压计", "Blood Pressure Monitor"), ("额温枪", "Forehead Thermometer"))),
    )),
    ("玩具乐器", "Toys & Games", (
        ("Building Blocks", 199.0, (("拼装积木", "Building Blocks"), ("磁力片", "Magnetic Tiles"))),
        ("Board Games", 89.0, (("桌游", "Board Game"), ("拼图", "Jigsaw Puzzle"))),
    )),
    ("汽车用品", "Automotive", (
        ("Car Accessories", 99.0, (("车载手机支架", "Car Phone Mount"), ("行车记录仪", "Dash Cam"),
                                   ("汽车香薰", "Car Air Freshener"))),
    )),
)
"""14 top categories with bilingual product nouns and a median price per subcategory."""

BRANDS: tuple[tuple[str, ...], ...] = (
    ("悦声 JoySound", "极客 Geekor", "星河 Galaxa", "锐能 Voltra"),
    ("厨乐 ChefJoy", "净界 PureZone", "美居 HomeMei", "小熊工坊 BearWorks"),
    ("花漾 Floria", "水润 AquaDew", "素颜 BareSkin", "兰蔻思 Lancosi"),
    ("简衣 SimpleWear", "城裳 UrbanThread", "暖阳 SunKnit", "墨白 InkWhite"),
    ("疾风 Gale", "行者 Wanderer", "轻步 LightStep", "都市包 CityPack"),
    ("三只鼠 ThreeMice", "山野 WildHill", "茶语 TeaTalk", "醇香 RichBrew"),
    ("贝乐 BabyJoy", "小星星 Twinkle", "暖宝 WarmBao", "初心 FirstLove"),
    ("动力 PowerFit", "远山 FarPeak", "迈步 StrideOn", "野趣 OutBound"),
    ("棉语 CottonTalk", "梦乡 DreamLand", "整理家 TidyHome", "木森 Woodsen"),
    ("书香 InkScent", "学而 LearnWell", "童趣 KidJoy", "知行 KnowGo"),
    ("喵星 MeowStar", "汪汪 WoofWoof", "萌宠 CutePet", "宠爱 PetLove"),
    ("康源 VitaSource", "健安 HealthSafe", "益生 ProLife", "守护 Guardian"),
    ("积木王 BrickKing", "乐玩 PlayFun", "智趣 SmartFun", "童年 Childhood"),
    ("驰途 DriveOn", "车友 CarPal", "安行 SafeRide", "途乐 RoadJoy"),
)
"""Fictional bilingual brands, one row per top category (same order as CATEGORIES)."""

ADJECTIVES: tuple[tuple[str, str], ...] = (
    ("经典款", "Classic"), ("升级版", "Upgraded"), ("轻薄", "Slim"), ("高端", "Premium"), ("便携", "Portable"),
    ("新款", "New"), ("大容量", "Large"), ("多功能", "Multi-Function"), ("迷你", "Mini"), ("家用", "Home"),
    ("专业", "Pro"), ("环保", "Eco"),
)
VARIANTS: tuple[tuple[str, str], ...] = (
    ("黑色", "Black"), ("白色", "White"), ("灰色", "Grey"), ("蓝色", "Blue"), ("粉色", "Pink"), ("绿色", "Green"),
    ("标准装", "Standard"), ("加大号", "XL"), ("礼盒装", "Gift Box"), ("两件套", "2-Pack"),
)
FEATURES: tuple[tuple[str, str], ...] = (
    ("官方正品", "100% authentic"), ("全国包邮", "free shipping nationwide"), ("七天无理由退换", "7-day free returns"),
    ("人气爆款", "a bestseller"), ("简约设计", "minimalist design"), ("耐用材质", "durable materials"),
    ("送礼佳选", "a great gift"), ("性价比高", "great value for money"), ("品质保证", "quality guaranteed"),
    ("安全无害", "safe materials"), ("轻巧方便", "light and handy"), ("一年质保", "one-year warranty"),
)
QUERY_TEMPLATES_ZH: tuple[str, ...] = ("{noun}", "{noun} 推荐", "{adj}{noun}", "便宜{noun}", "{noun} 正品")
QUERY_TEMPLATES_EN: tuple[str, ...] = ("{noun}", "best {noun}", "{adj} {noun}", "cheap {noun}", "{noun} sale")

# (city, English name, tier, weight)
CN_CITIES: tuple[tuple[str, str, int, float], ...] = (
    ("上海", "Shanghai", 1, 9.0), ("北京", "Beijing", 1, 8.0), ("广州", "Guangzhou", 1, 6.0),
    ("深圳", "Shenzhen", 1, 6.0), ("成都", "Chengdu", 2, 4.0), ("杭州", "Hangzhou", 2, 4.0),
    ("重庆", "Chongqing", 2, 3.5), ("武汉", "Wuhan", 2, 3.0), ("西安", "Xi'an", 2, 2.5),
    ("苏州", "Suzhou", 2, 2.5), ("南京", "Nanjing", 2, 2.5), ("天津", "Tianjin", 2, 2.0),
    ("长沙", "Changsha", 2, 2.0), ("郑州", "Zhengzhou", 2, 2.0), ("厦门", "Xiamen", 3, 1.2),
    ("洛阳", "Luoyang", 3, 1.0), ("桂林", "Guilin", 3, 0.8), ("绵阳", "Mianyang", 3, 0.8),
    ("扬州", "Yangzhou", 3, 0.8), ("湛江", "Zhanjiang", 3, 0.7), ("襄阳", "Xiangyang", 3, 0.7),
    ("芜湖", "Wuhu", 3, 0.7),
    ("丽江", "Lijiang", 4, 0.4), ("景德镇", "Jingdezhen", 4, 0.4), ("安顺", "Anshun", 4, 0.3),
    ("张家界", "Zhangjiajie", 4, 0.3), ("延安", "Yan'an", 4, 0.3), ("天水", "Tianshui", 4, 0.3),
)
"""Real Chinese cities with a conventional tier (1 = largest) and a sampling weight."""

# (country ISO code, city, phone prefix, weight)
OTHER_CITIES: tuple[tuple[str, str, str, float], ...] = (
    ("US", "New York", "+1 555", 2.0), ("US", "San Francisco", "+1 555", 1.0), ("SG", "Singapore", "+65 5550", 2.0),
    ("MY", "Kuala Lumpur", "+60 555", 1.0), ("JP", "Tokyo", "+81 555", 1.5), ("GB", "London", "+44 7700", 1.0),
    ("AU", "Sydney", "+61 555", 0.8), ("CA", "Toronto", "+1 555", 0.8),
)

SURNAMES_ZH: tuple[str, ...] = (
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
    "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "高", "罗",
)
GIVEN_ZH: tuple[str, ...] = (
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英",
    "霞", "平", "刚", "浩", "宇", "欣怡", "子涵", "梓轩", "雨桐", "一诺",
)
FIRST_EN: tuple[str, ...] = (
    "Alex", "Sam", "Jordan", "Taylor", "Chris", "Morgan", "Jamie", "Casey", "Riley", "Avery", "Quinn", "Drew",
)
LAST_EN: tuple[str, ...] = ("Smith", "Lee", "Tan", "Brown", "Wong", "Garcia", "Kim", "Nguyen", "Wilson", "Lim")

# Review phrases by rating (index 0 = 1 star). Positive phrases avoid every negative marker
# below and negative phrases contain at least one, so a lexicon can check sentiment.
REVIEW_PHRASES_ZH: tuple[tuple[str, ...], ...] = (
    ("质量太差了", "非常失望", "用了两天就坏了", "和描述完全不符，差评", "客服态度很差，已退货"),
    ("质量一般偏差", "有点失望", "做工粗糙，不推荐", "物流太慢，体验差", "实物有色差，不太满意"),
    ("中规中矩", "还行吧", "价格一般，质量一般", "凑合能用", "和预期一致"),
    ("质量不错", "挺满意的", "物流很快", "性价比很好", "包装很好，值得购买"),
    ("质量很好，物流很快", "非常满意，推荐购买", "超级喜欢，会回购", "完美，五星好评", "做工精致，物超所值"),
)
REVIEW_PHRASES_EN: tuple[tuple[str, ...], ...] = (
    ("Terrible quality", "Very disappointed", "Broke after two days", "Nothing like the description, awful",
     "Poor service, I returned it"),
    ("Quality is poor", "A bit disappointed", "Cheap build, would not recommend", "Shipping was slow and bad",
     "Color is off, not satisfied"),
    ("It is okay", "Average product", "Does the job", "Fair price, fair quality", "About what I expected"),
    ("Good quality", "Pretty happy with it", "Fast delivery", "Good value for money", "Nice packaging, good buy"),
    ("Great quality, fast delivery", "Excellent, highly recommend", "Love it, will buy again", "Perfect, five stars",
     "Well made and great value"),
)
NEGATIVE_MARKERS_ZH: tuple[str, ...] = ("差", "失望", "坏", "退货", "不推荐", "不符", "不太满意", "慢")
NEGATIVE_MARKERS_EN: tuple[str, ...] = (
    "terrible", "disappointed", "broke", "awful", "poor", "returned", "not recommend", "bad", "not satisfied", "cheap",
)
POSITIVE_MARKERS_ZH: tuple[str, ...] = ("好", "满意", "喜欢", "推荐", "值", "快", "完美", "不错")
POSITIVE_MARKERS_EN: tuple[str, ...] = ("great", "good", "love", "excellent", "recommend", "perfect", "happy", "fast")

REFUND_REASONS: tuple[str, ...] = ("quality", "damaged", "not_as_described", "changed_mind")
SHARE_PLATFORMS: tuple[str, ...] = ("wechat", "weibo", "xiaohongshu", "link")


def review_texts(lang: str) -> tuple[tuple[str, ...], ...]:
    """All review texts per rating (index 0 = 1 star): every ordered pair of distinct phrases.

    Parameters
    ----------
    lang : {"zh", "en"}
        Language of the texts.
    """
    bank, sep, end = (REVIEW_PHRASES_ZH, "，", "。") if lang == "zh" else (REVIEW_PHRASES_EN, ". ", ".")
    out: list[tuple[str, ...]] = []
    for phrases in bank:
        texts = [a + end for a in phrases]
        texts += [a + sep + b + end for a in phrases for b in phrases if a != b]
        out.append(tuple(texts))
    return tuple(out)
