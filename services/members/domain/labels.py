"""Chinese labels of the codes the ledger stores, for what a secretary reads."""

KIND = {"district": "区", "subdistrict": "街道", "town": "镇", "community": "社区党组织", "branch": "离退休干部党支部"}
GENDER = {"male": "男", "female": "女"}
HEALTH = {"good": "良好", "fair": "一般", "poor": "较差", "bedridden": "卧床"}
STATUS = {"resident": "在居住地", "away": "外出", "exempt": "免于参加组织生活", "transferred": "已转出",
          "deceased": "已故"}
CHANNEL = {"sms": "短信", "wechat": "微信", "email": "电子邮件", "phone_call": "电话", "door": "送学上门"}
AWAY_REASON = {"seasonal": "季节性外出（候鸟）", "family": "探亲", "medical": "就医", "work": "工作", "other": "其他"}
EVALUATION = {"excellent": "优秀", "qualified": "合格", "basically_qualified": "基本合格", "unqualified": "不合格"}
AWARD = {"five_good_branch": "五好支部", "model_branch": "示范支部", "best_old_member": "最美老党员",
         "best_activist": "最美党员积极分子", "best_secretary": "最美支部书记", "best_volunteer": "最美志愿者"}
CHANGE = {"registered": "登记入册", "transferred": "组织关系转接", "merged": "支部合并转入",
          "transferred_out": "转出本区", "away": "外出", "returned": "返回", "exempted": "免于参加组织生活",
          "died": "去世"}
POST = {"secretary": "书记", "deputy_secretary": "副书记", "organization_member": "组织委员",
        "propaganda_member": "宣传委员", "discipline_member": "纪检委员"}
ELECTION_KIND = {"general": "换届选举", "by_election": "补选"}
POST_LEFT = {"resigned": "辞职", "dismissed": "免职", "other": "其他", "left_branch": "离开本支部", "died": "去世",
             "merged": "支部合并", "term_ended": "任期届满", "replaced": "由他人接任"}
ASSESSMENT = {"excellent": "优秀", "competent": "称职", "basically_competent": "基本称职", "incompetent": "不称职"}
COMPARISON = {"under": "少缴", "exact": "足额", "over": "多缴"}


def label(table: dict[str, str], code: str | None) -> str | None:
    return table.get(code, code) if code is not None else None
