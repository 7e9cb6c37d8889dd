"""阵地需求 (issue 13, item 8): the activities members ask for, their Chinese labels, and which of a
venue's facilities (free-text labels, e.g. 乒乓球台) serve each. Codes are stored, labels shown.

A venue offers an activity when one of its facilities is the activity's code, its label, or one of
the facility names below (compared without spaces, case-insensitively), so a venue registered
with "乒乓球台" or "乒乓球室" serves table tennis and one with only "投影仪" serves none of these.
"""
FACILITY_ACTIVITIES: dict[str, str] = {
    "table_tennis": "乒乓球", "badminton": "羽毛球", "swimming": "游泳", "billiards": "台球",
    "gateball": "门球", "chess": "棋牌", "calligraphy": "书画", "choir": "合唱", "dance": "舞蹈",
    "taichi": "太极拳", "fitness": "健身", "reading": "阅览",
}
DEMAND_SOURCES: dict[str, str] = {"member": "党员本人提出", "survey": "问卷/会议汇总", "secretary": "支部书记反映"}
GAP_LABELS: dict[str, str] = {"people": "提出人数", "offered_by": "可提供的阵地", "gap": "无阵地提供",
                              "gaps": "阵地缺口", "offered": "已有阵地项目", "gap_totals": "缺口需求人数"}
# The facility names that serve an activity, besides its code and label.
SERVING_FACILITIES: dict[str, frozenset[str]] = {
    "table_tennis": frozenset({"乒乓球台", "乒乓球室", "乒乓球馆"}),
    "badminton": frozenset({"羽毛球场", "羽毛球馆", "羽毛球室"}),
    "swimming": frozenset({"游泳池", "泳池", "游泳馆"}),
    "billiards": frozenset({"台球桌", "台球室"}),
    "gateball": frozenset({"门球场"}),
    "chess": frozenset({"棋牌室", "象棋", "围棋", "麻将桌"}),
    "calligraphy": frozenset({"书画室", "书画桌", "书法室"}),
    "choir": frozenset({"合唱室", "钢琴", "音响"}),
    "dance": frozenset({"舞蹈室", "排练厅", "练功镜"}),
    "taichi": frozenset({"广场", "太极场地"}),
    "fitness": frozenset({"健身器材", "健身房", "健身室"}),
    "reading": frozenset({"阅览室", "图书角", "报刊架", "书架"}),
}


def _norm(s: str) -> str:
    return "".join(s.split()).lower()


_NAMES: dict[str, frozenset[str]] = {
    code: frozenset(_norm(x) for x in {code, label, *SERVING_FACILITIES.get(code, ())})
    for code, label in FACILITY_ACTIVITIES.items()}


def offered(facilities: list[str]) -> set[str]:
    """The activities (codes) a venue with these facilities offers."""
    have = {_norm(f) for f in facilities}
    return {code for code, names in _NAMES.items() if have & names}
