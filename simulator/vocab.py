"""Chinese words the district is made of: names, places, units, specialties, needs, texts."""

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
# Given names common for people born 1930–1960, by gender.
GIVEN_MALE = (
    "建国", "建华", "国庆", "志强", "志刚", "德明", "振华", "卫东", "解放", "援朝", "胜利", "长林", "保国",
    "永昌", "文斌", "家和", "树森", "宝山", "庆丰", "学军", "春生", "福海", "光明", "立新", "占奎", "汉民",
)
GIVEN_FEMALE = (
    "秀英", "桂兰", "淑珍", "玉兰", "凤英", "秀兰", "桂英", "淑华", "素梅", "丽华", "秀珍", "慧敏", "美华",
    "玉珍", "红梅", "建英", "爱华", "春燕", "文静", "淑英", "翠兰", "金凤", "月娥", "巧云", "冬梅", "海燕",
)

DISTRICT_NAME = "X区"
# (name, kind) of the subdistricts and towns; the first ones hold the report's eight communities.
SUBDISTRICTS = (
    ("湖滨街道", "subdistrict"), ("滨江街道", "subdistrict"), ("新城街道", "subdistrict"), ("临湖镇", "town"),
    ("东湖街道", "subdistrict"), ("金桥镇", "town"), ("南苑街道", "subdistrict"), ("西岭镇", "town"),
)
# The report's eight communities, each with one retired-cadre branch, and where they sit.
REPORT_COMMUNITIES = (
    ("天鹅湖", 0), ("怡园", 0), ("欧美亚", 1), ("军安", 1), ("世茂滨江", 1), ("世纪花园", 2), ("宜和园", 2),
    ("北岸明珠", 3),
)
# Names for the further communities a larger district needs (suffixed with a number when reused).
MORE_COMMUNITIES = (
    "翠湖", "金色家园", "锦绣苑", "阳光城", "幸福里", "和平里", "长青", "康乐", "书香苑", "春晖", "梧桐", "紫荆",
    "桃源", "晨曦", "绿洲", "碧水湾", "枫林", "向阳", "丽景", "嘉和",
)

FORMER_UNITS = (
    "区教育局", "区人民医院", "市第一中学", "区财政局", "市机械厂", "区供销社", "市纺织公司", "区人民法院",
    "区公安分局", "市电力公司", "区卫生局", "市建筑设计院", "区文化馆", "市邮电局", "区粮食局", "市化工厂",
)
FORMER_RANKS = ("局级", "副局级", "处级", "副处级", "科级", "副科级", "科员", "高级工程师", "高级教师", "主任医师")

SPECIALTIES = ("书法", "绘画", "摄影", "太极拳", "合唱", "京剧", "象棋", "诗词", "理发", "医疗保健", "法律咨询",
               "剪纸", "舞蹈", "乐器演奏", "园艺")
NEEDS = ("送学上门", "代购药品", "健康体检", "陪同就医", "家政服务", "心理慰藉", "法律援助", "助餐服务")

WINTER_PLACE = "海南三亚"
FAMILY_PLACES = ("上海", "北京", "深圳", "杭州", "南京", "成都")
TRANSFER_PLACES = ("随子女迁往上海", "随子女迁往深圳", "迁回原籍山东", "入住市养老院")

VOLUNTEER_TEAMS = ("义务血压站", "爱心义剪", "治安巡逻")

SPECIALIST_NAMES = ("周晓燕", "李敏", "王婷", "张伟", "刘洋", "陈静", "杨帆", "赵丽", "黄磊", "吴倩", "孙悦", "马俊")

ACTIVITY_TITLES = {
    "branch_assembly": "第{q}季度支部党员大会",
    "committee_meeting": "{m}月支部委员会会议",
    "group_meeting": "{m}月第{g}党小组会",
    "party_lecture": "第{q}季度党课：学习党的创新理论",
    "themed_party_day": "{m}月主题党日",
    "org_life_meeting": "年度组织生活会",
    "democratic_evaluation": "年度民主评议党员",
    "study": "{m}月集中学习",
    "volunteer_service": "{team}志愿服务",
    "cultural": "{title}",
    "convenience_service": "爱心义剪便民服务",
}
MINUTES = {
    "branch_assembly": "传达上级文件精神，通报支部工作，讨论本季度活动安排。",
    "committee_meeting": "研究本月支部工作，安排走访慰问和党费收缴。",
    "group_meeting": "党小组学习文件，交流心得体会。",
    "party_lecture": "支部书记讲党课，党员交流学习体会。",
    "themed_party_day": "重温入党誓词，开展志愿服务，集中学习。",
    "org_life_meeting": "开展批评与自我批评，查摆问题，明确整改措施。",
    "democratic_evaluation": "党员个人总结，互评，支部综合评定。",
    "study": "集中学习时事政策。",
}
CULTURAL = (("07-01", "庆祝建党节文艺汇演"), ("06-10", "端午节包粽子联谊活动"), ("10-01", "国庆节歌咏会"))

NOTICES = (
    ("document", "关于学习贯彻上级会议精神的通知", "请各支部组织党员认真学习会议精神，并反馈学习情况。", True),
    ("study", "本月学习材料", "本月学习材料已发放，行动不便的同志由专员送学上门。", True),
    ("meeting", "主题党日活动通知", "本月主题党日活动请按时参加，在外地的同志可线上参加。", False),
    ("reminder", "党费收缴提醒", "请按时交纳党费，如有困难请联系支部书记。", False),
    ("greeting", "节日问候", "值此佳节，向全体老党员致以诚挚问候，祝您健康长寿！", False),
)
FEEDBACK = ("学习材料已收到，谢谢组织关心。", "希望多组织健康讲座。", "在三亚参加了当地临时党小组活动。",
            "腿脚不便，希望继续送学上门。", "建议活动室增加报刊。")
VISIT_NOTES = ("身体状况稳定，精神良好。", "血压偏高，已提醒按时服药。", "反映楼道照明问题，已转社区。",
               "独居，子女每周探望。", "需要代购药品。")
