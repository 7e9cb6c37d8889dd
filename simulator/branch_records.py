"""Issue 13's branch records in the simulated district: each branch's funds (经费), its yearly
grade (星级类别, 晋位升级), the members' remote study (红色X and 学习强国), …

Funds: in January the district returns part of last year's dues to each branch (返缴党费: 30% of
a year of its members' dues), in March the community supports each branch (1,000 yuan); every
month the branch spends on its convenience service (便民服务: haircuts, health checks) and, in
July, on the themed party day of 七一. 北岸明珠 holds a 重阳 performance in October that costs more
than it has: its balance is negative from then on (支部经费透支, `funds_overdrawn`).

Grades: in January the department grades each branch for the year before, at the year's end for
the year, with the stars it rates them (`RateBranch`, year.py) and a class: the branches with gaps
fall from 三星二类 to 二星三类 (降级), the two best rise from 四星一类 to 五星一类 and the next two
from 四星二类 to 四星一类 (晋位升级), the others stay 四星二类 (持平).

Remote study: members with a phone mostly have a 学习强国 account (about two in three) and about
half a "红色X" account, opened before the year (recorded in January); a few open 学习强国 in June.
Members without a phone have neither: they are the ones 送学上门 reaches (the bedridden ones are
already on the attendance lists as home delivery). Each platform reports every account's use of
the month at its end (the winter birds in Sanya study more on 学习强国; those who dropped out, none).

The way into the Party: every branch has a few retired residents on the way (recorded in January
with their past stages): a development target who becomes probationary on 1 July, an activist of
more than a year who becomes a development target in June, and a newcomer who applies in March and
becomes an activist in September, each with one or two responsible members (培养联系人). 天鹅湖's
probationary member of last May is made a full member (转正) in late May; 军安's probation ended on
10 April and no decision follows (`probation_overdue`); 世纪花园's newcomer is set back to applicant
in November (with the reason). The department grants 最美入党积极分子 to 天鹅湖's development target.
"""
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from simulator.world import Branch, World

OVERDRAWN = "北岸明珠"
DEPARTMENT, TREASURER = "district-org-department", "branch-treasurer"
COMMUNITY_SUPPORT = Decimal("1000.00")
SERVICE_COST = {0: Decimal("60.00"), 1: Decimal("80.00"), 2: Decimal("120.00")}  # by month % 3
JULY_FIRST = Decimal("260.00")
RETURNED_SHARE = Decimal("0.30")


def _money(x: Decimal) -> str:
    return f"{x.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):.2f}"


def dues_returned(world: World, b: Branch) -> Decimal:
    """30% of a year of the dues of the branch's members registered before the year."""
    from simulator.year import _monthly_dues

    start = date(world.year, 1, 1)
    total = sum((_monthly_dues(world.member(mid).monthly_pension) * 12 for mid in b.member_ids
                 if world.member(mid).registered_on < start), Decimal("0"))
    return (total * RETURNED_SHARE).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _activity_id(world: World, b: Branch, kind: str, mo: int) -> str:
    return world.ids.of("a", f"{b.org_id}/{kind}/{mo}/0")  # as Year._activity names it


def _base_plan(world: World, b: Branch) -> list[tuple[date, str, dict]]:
    y = world.year
    out = [(date(y, 1, 12), "RecordBranchFunds", {"source": "dues_returned", "amount": _money(dues_returned(world, b)),
                                                 "received_on": date(y, 1, 12).isoformat(), "for_year": y - 1,
                                                 "note": f"{y - 1}年度党费返还"}),
           (date(y, 3, 2), "RecordBranchFunds", {"source": "community", "amount": _money(COMMUNITY_SUPPORT),
                                                "received_on": date(y, 3, 2).isoformat(), "note": "社区党建经费支持"})]
    for mo in range(1, 13):
        day = date(y, mo, 27)
        out.append((day, "RecordBranchSpending", {
            "amount": _money(SERVICE_COST[mo % 3]), "spent_on": day.isoformat(), "purpose": "便民服务耗材（义剪、血压测量）",
            "activity_id": _activity_id(world, b, "convenience_service", mo)}))
        if mo == 7:
            out.append((date(y, 7, 11), "RecordBranchSpending", {
                "amount": _money(JULY_FIRST), "spent_on": date(y, 7, 11).isoformat(), "purpose": "七一主题党日学习资料与慰问品",
                "activity_id": _activity_id(world, b, "themed_party_day", 7)}))
    return out


def balance(plan: list[tuple[date, str, dict]], day: date) -> Decimal:
    return sum((Decimal(d["amount"]) * (1 if t == "RecordBranchFunds" else -1) for on, t, d in plan if on <= day),
               Decimal("0"))


def funds_plan(world: World, b: Branch) -> list[tuple[date, str, dict]]:
    """(day, command type, data without entry_id/branch_id) of the branch's year, in order."""
    plan = _base_plan(world, b)
    if b.short == OVERDRAWN:
        day = date(world.year, 10, 28)
        plan.append((day, "RecordBranchSpending", {
            "amount": _money(balance(plan, day) + Decimal("500.00")), "spent_on": day.isoformat(),
            "purpose": "重阳节文艺演出（服装、音响租赁）", "activity_id": None}))
    return sorted(plan, key=lambda x: x[0])


def funds_commands(y, mo: int) -> list:
    """The month's funds entries of every branch."""
    from simulator.commands import at

    out = []
    for b in y.w.branches:
        for n, (day, type_, data) in enumerate(funds_plan(y.w, b)):
            if (day.year, day.month) != (y.y, mo):
                continue
            entry_id = y.w.ids.of("fund", f"{b.org_id}/{day}/{n}")
            source = DEPARTMENT if data.get("source") == "dues_returned" else TREASURER
            out.append(y.cmd(type_, entry_id, {"entry_id": entry_id, "branch_id": b.org_id, **data}, at(day, 16), source))
    return out


def summary(world: World) -> dict:
    """What the dashboard's funds section should show at the year's end."""
    end = date(world.year, 12, 31)
    out = {}
    for b in world.branches:
        plan = funds_plan(world, b)
        received = sum((Decimal(d["amount"]) for _, t, d in plan if t == "RecordBranchFunds"), Decimal("0"))
        spent = sum((Decimal(d["amount"]) for _, t, d in plan if t == "RecordBranchSpending"), Decimal("0"))
        out[b.name] = {"received": _money(received), "spent": _money(spent), "balance": _money(received - spent)}
    from shared.rules import grading as rule

    moves = {}
    for b in world.branches:
        before, now = grades(world)[b.org_id]
        move, _steps = rule.move(before, now)
        moves[b.name] = f"{rule.label(*before)} → {rule.label(*now)}（{rule.MOVE_LABELS[move]}）"
    return {"funds": out, "funds_overdrawn": [b.name for b in world.branches if balance(funds_plan(world, b), end) < 0],
            "grades": moves, "study": study_summary(world), "applicants": applicants_summary(world)}


# ---- grades -------------------------------------------------------------------------------------

def ranked(world: World) -> list[Branch]:
    """The department's order of the branches at the year's end (as Year.year_end ranks them)."""
    return sorted(world.branches, key=lambda b: (len(b.gaps), -b.size, b.name))


def grades(world: World) -> dict[str, tuple[tuple[int, int], tuple[int, int]]]:
    """branch id → ((stars, class) the year before, (stars, class) of the year)."""
    out = {}
    for i, b in enumerate(ranked(world)):
        stars = 2 if len(b.gaps) else 5 if i < 2 else 4  # the stars Year.year_end rates
        if b.gaps:
            out[b.org_id] = ((3, 2), (stars, 3))
        elif i < 2:
            out[b.org_id] = ((4, 1), (stars, 1))
        elif i < 4:
            out[b.org_id] = ((4, 2), (stars, 1))
        else:
            out[b.org_id] = ((4, 2), (stars, 2))
    return out


def grade_commands(y, year: int, on: date) -> list:
    from simulator.commands import at

    out = []
    for b in y.w.branches:
        before, now = grades(y.w)[b.org_id]
        stars, cls = before if year < y.y else now
        out.append(y.cmd("GradeBranch", f"{b.org_id}/{year}", {
            "branch_id": b.org_id, "year": year, "stars": stars, "grade_class": cls}, at(on, 10, 30), DEPARTMENT))
    return out


# ---- remote study -------------------------------------------------------------------------------

OPENED_IN_JUNE = date(2000, 6, 12)  # the day of June (of the simulated year) some open 学习强国


def accounts(world: World, m) -> dict[str, date]:
    """platform → the day the member's account was opened (none for a member without a phone)."""
    y = world.year
    if not m.phone or m.registered_on.year >= y:
        return {}
    out = {}
    roll = _roll(world, "study", m.index)
    opened = max(m.registered_on, date(y - 1, 1 + m.index % 12, 10))
    if roll < 0.65:
        out["xuexi"] = opened
    elif roll < 0.72:
        out["xuexi"] = OPENED_IN_JUNE.replace(year=y)
    if _roll(world, "red_x", m.index) < 0.5:
        out["red_x"] = opened
    return out


def _roll(world: World, *parts) -> float:
    import hashlib

    digest = hashlib.blake2b("/".join(map(str, (world.seed, *parts))).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def use(world: World, m, platform: str, mo: int) -> dict:
    """The month's use the platform reports for the member."""
    if m.disengaged:
        return {"points": 0, "sessions": 0, "minutes": 0}
    r = _roll(world, "use", platform, m.index, mo)
    day = date(world.year, mo, 15)
    if platform == "xuexi":
        sessions = 6 + int(r * 20) + (10 if m.away_on(day) else 0)
        return {"points": sessions * 30, "sessions": sessions, "minutes": sessions * 25}
    sessions = 1 + int(r * 6)
    return {"points": sessions * 10, "sessions": sessions, "minutes": sessions * 40}


def study_commands(y, mo: int) -> list:
    from simulator.commands import at

    out = []
    for m in y.w.members:
        held = accounts(y.w, m)
        for platform, opened in held.items():
            tell = date(y.y, 1, 8) if opened.year < y.y else opened
            if (tell.year, tell.month) == (y.y, mo) and m.registered(tell):
                out.append(y.cmd("RecordStudyAccount", f"{m.member_id}/{platform}/{opened}", {
                    "member_id": m.member_id, "platform": platform, "has_account": True, "on": opened.isoformat()},
                    at(tell, 9), STUDY_SOURCE[platform]))
            day = date(y.y, mo, 28)
            if opened <= day and m.registered(day):
                month = f"{y.y}-{mo:02d}"
                out.append(y.cmd("RecordStudyUse", f"{m.member_id}/{platform}/{month}", {
                    "member_id": m.member_id, "platform": platform, "month": month, **use(y.w, m, platform, mo)},
                    at(day, 22), STUDY_SOURCE[platform]))
    return out


STUDY_SOURCE = {"xuexi": "xuexi-qiangguo", "red_x": "red-x-platform"}


def study_summary(world: World) -> dict:
    end = date(world.year, 12, 31)
    ms = [m for m in world.members if m.registered(end)]
    held = {m.member_id: accounts(world, m) for m in ms}
    return {"registered": len(ms), "with_xuexi": sum("xuexi" in h for h in held.values()),
            "with_red_x": sum("red_x" in h for h in held.values()),
            "with_either": sum(bool(h) for h in held.values()), "with_neither": sum(not h for h in held.values())}


# ---- the way into the Party ---------------------------------------------------------------------

NAMES = ["周文华", "吴建平", "郑丽娟", "孙志强", "马秀兰", "胡国庆", "朱红梅", "高德胜", "林淑芬", "何永明",
         "罗桂香", "梁振国", "宋玉兰", "谢长青", "唐美华", "韩立新", "冯素珍", "邓建华", "曹金凤", "彭光明",
         "曾秀云", "萧国华", "田凤英", "董世杰"]
PROMOTED, OVERDUE, SET_BACK = "天鹅湖", "军安", "世纪花园"


def applicants(world: World) -> list[dict]:
    """Each applicant: {ref, branch, name, gender, birth, steps [(day, kind, stage, reason)]}."""
    y, out = world.year, []
    for i, b in enumerate(world.branches):
        stories = [
            ("target", [(date(y - 3, 3, 5), "apply", "applicant"), (date(y - 3, 5, 10), "advance", "activist"),
                        (date(y - 1, 6, 18), "advance", "development_target"), (date(y, 7, 1), "advance", "probationary")]),
            ("activist", [(date(y - 2, 9, 1), "apply", "applicant"), (date(y - 1, 3, 15), "advance", "activist"),
                          (date(y, 6, 20), "advance", "development_target")]),
            ("new", [(date(y, 3, 6), "apply", "applicant"), (date(y, 9, 12), "advance", "activist")]),
        ]
        if b.short == SET_BACK:
            stories[2][1].append((date(y, 11, 18), "set_back", "applicant"))
        if b.short == PROMOTED:
            stories.append(("probationary", [(date(y - 3, 4, 2), "apply", "applicant"), (date(y - 3, 6, 1), "advance", "activist"),
                                             (date(y - 2, 7, 2), "advance", "development_target"),
                                             (date(y - 1, 5, 20), "advance", "probationary"),
                                             (date(y, 5, 26), "advance", "full_member")]))
        if b.short == OVERDUE:
            stories.append(("probationary", [(date(y - 3, 2, 2), "apply", "applicant"), (date(y - 3, 4, 1), "advance", "activist"),
                                             (date(y - 2, 5, 8), "advance", "development_target"),
                                             (date(y - 1, 4, 10), "advance", "probationary")]))
        for n, (ref, steps) in enumerate(stories):
            k = (i * 3 + n) % len(NAMES)
            out.append({"ref": f"{b.org_id}/{ref}", "branch": b, "story": ref, "name": NAMES[k],
                        "gender": "female" if k % 2 else "male", "birth": date(1956 + k % 7, 1 + k % 12, 3 + k % 20),
                        "steps": steps})
    return out


def _contacts(world: World, b: Branch, day: date) -> list[str]:
    """One or two members of the branch registered by `day` who stay all year."""
    ok = [world.member(mid) for mid in b.member_ids]
    ok = [m for m in ok if m.registered_on <= day and m.died_on is None and m.transferred_on is None]
    return [m.member_id for m in ok[:2]]


def applicant_commands(y, mo: int) -> list:
    from datetime import timedelta

    from simulator.commands import at

    out = []
    for a in applicants(y.w):
        aid = y.w.ids.of("ap", a["ref"])
        for n, (on, kind, stage) in enumerate(a["steps"]):
            tell = on if on.year == y.y else date(y.y, 1, 6)
            if (tell.year, tell.month) != (y.y, mo):
                continue
            when = at(tell, 14) + timedelta(minutes=n)
            if kind == "apply":
                out.append(y.cmd("RecordPartyApplication", aid, {
                    "applicant_id": aid, "branch_id": a["branch"].org_id, "name": a["name"], "gender": a["gender"],
                    "birth_date": a["birth"].isoformat(), "applied_on": on.isoformat()}, when, REGISTRY))
            elif kind == "advance":
                data = {"applicant_id": aid, "stage": stage, "on": on.isoformat()}
                if stage == "activist":
                    data["contact_ids"] = _contacts(y.w, a["branch"], on)
                out.append(y.cmd("AdvanceApplicant", f"{aid}/{stage}/{on}", data, when, REGISTRY))
            else:
                out.append(y.cmd("SetBackApplicant", f"{aid}/{stage}/{on}", {
                    "applicant_id": aid, "stage": stage, "on": on.isoformat(),
                    "reason": "考察期间参加组织活动较少，支委会研究决定继续培养"}, when, REGISTRY))
    return out


REGISTRY = "community-registry"


def activist_award(y) -> list:
    from simulator.commands import at

    best = next((a for a in applicants(y.w) if a["story"] == "target" and a["branch"].short == PROMOTED),
                next((a for a in applicants(y.w) if a["story"] == "target"), None))
    if best is None or not _contacts(y.w, best["branch"], best["steps"][1][0]):
        return []
    aid = y.w.ids.of("aw", f"{y.y}/best_activist")
    return [y.cmd("GrantAward", aid, {"award_id": aid, "year": y.y, "category": "best_activist",
                                      "subject_id": y.w.ids.of("ap", best["ref"])}, at(date(y.y, 12, 28), 11, 30), DEPARTMENT)]


def applicants_summary(world: World) -> dict:
    end, out = date(world.year, 12, 31), {}
    for a in applicants(world):
        stage = [s for on, _k, s in a["steps"] if on <= end][-1]
        out[stage] = out.get(stage, 0) + 1
    return {"by_stage_at_year_end": out,
            "probation_overdue": [b.name for b in world.branches if b.short == OVERDUE],
            "full_members": [b.name for b in world.branches if b.short == PROMOTED]}


def month_commands(y, mo: int) -> list:
    """Every branch record of the month."""
    out = funds_commands(y, mo) + study_commands(y, mo) + applicant_commands(y, mo)
    if mo == 1:
        out += grade_commands(y, y.y - 1, date(y.y, 1, 18))
    return out


def year_end_commands(y) -> list:
    """The year's grades, after the year's ratings (same key, later in the day), and 最美入党积极分子."""
    return grade_commands(y, y.y, date(y.y, 12, 28)) + activist_award(y)
