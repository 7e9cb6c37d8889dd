"""End to end, issue 13's branch records: commands published to Kafka by a district system, the
members service's events, and reporting's figures and alerts read back over HTTP."""
import pytest

from tests.support import auth
from tests.support.messages import caused_by, envelope, eventually
from tests.support.scenario import register, tree, uid

pytestmark = pytest.mark.e2e


async def _tree(bus, n: int = 1) -> dict:
    ids, cmds = tree(n)
    for cmd in cmds:  # a parent before its child: each level waits for the one above
        await bus.send("members.commands", cmd)
        await bus.events("members.events", lambda es, c=cmd: bool(caused_by(es, c)), timeout=120)
    return ids


async def _answers(bus, topic: str, *cmds: dict) -> list[dict]:
    """The events each command caused, once every one of them is answered."""
    events = await bus.events(topic, lambda es: all(caused_by(es, c) for c in cmds), timeout=120)
    return [caused_by(events, c) for c in cmds]


async def test_funds_a_ledger_per_branch_with_the_cost_of_each_activity(platform, bus):
    ids = await _tree(bus)
    b = ids["branches"][0]
    act = uid("a")
    await bus.send("activities.commands", envelope("ScheduleActivity", {
        "activity_id": act, "kind": "themed_party_day", "title": "七一主题党日", "branch_ids": [b],
        "starts_at": "2026-07-01T09:00:00+08:00", "ends_at": "2026-07-01T11:00:00+08:00"}))
    day = "2026-07-02T10:00:00+08:00"
    returned = envelope("RecordBranchFunds", {"entry_id": uid("f"), "branch_id": b, "source": "dues_returned",
                                              "amount": "1000.00", "received_on": "2026-03-02", "for_year": 2025},
                        occurred_at=day)
    spent = envelope("RecordBranchSpending", {"entry_id": uid("s"), "branch_id": b, "amount": "300.50",
                                              "spent_on": "2026-07-01", "purpose": "学习资料与慰问品",
                                              "activity_id": act}, occurred_at=day)
    nothing = envelope("RecordBranchSpending", {"entry_id": uid("s"), "branch_id": b, "amount": "0.00",
                                                "spent_on": "2026-07-01", "purpose": "无"}, occurred_at=day)
    too_much = envelope("RecordBranchSpending", {"entry_id": uid("s"), "branch_id": b, "amount": "800.00",
                                                 "spent_on": "2026-07-02", "purpose": "文艺演出服装"}, occurred_at=day)
    await bus.send("members.commands", returned, spent, nothing, too_much)
    [r1], [r2], [r3], [r4] = await _answers(bus, "members.events", returned, spent, nothing, too_much)
    assert (r1["type"], r1["data"]["balance"]) == ("BranchFundsReceived", "1000.00")
    assert (r2["type"], r2["data"]["balance"], r2["data"]["overdrawn"]) == ("BranchSpendingRecorded", "699.50", False)
    assert (r3["type"], r3["data"]["reason"], r3["data"]["errors"][0]["field"]) == (
        "CommandRejected", "invalid", "data.amount")
    assert (r4["data"]["balance"], r4["data"]["overdrawn"]) == ("-100.50", True)

    async with auth.client(platform["reporting"].url) as http:
        async def ledger():
            r = await http.get(f"/api/v1/orgs/{b}/funds", params={"period": "2026", "as_of": "2026-07-31"})
            body = r.json() if r.status_code == 200 else {}
            known = body.get("activities") and body["activities"][0]["title"] and len(body.get("entries", [])) == 3
            return body if known else None
        body = await eventually(ledger, timeout=120)
        assert {k: body["totals"][k] for k in ("received", "dues_returned", "spent", "spent_on_activities", "balance")} == {
            "received": "1000.00", "dues_returned": "1000.00", "spent": "1100.50", "spent_on_activities": "300.50",
            "balance": "-100.50"}
        assert [(a["activity_id"], a["title"], a["spent"]) for a in body["activities"]] == [(act, "七一主题党日", "300.50")]
        district = (await http.get(f"/api/v1/orgs/{ids['district']}/funds", params={"period": "2026-Q3",
                                                                                    "as_of": "2026-07-31"})).json()
        assert (district["totals"]["opening"], district["overdrawn_branches"]) == ("1000.00", 1)
        alerts = (await http.get("/api/v1/alerts", params={"org_id": ids["district"], "as_of": "2026-07-31",
                                                           "kind": "funds_overdrawn"})).json()["alerts"]
        assert [(x["subject_id"], x["since"], x["details"]) for x in alerts] == [(b, "2026-07-02", {"balance": "-100.50"})]
        assert alerts[0]["subject_name"] == "天鹅湖社区退休党支部1"
        before = (await http.get("/api/v1/alerts", params={"org_id": b, "as_of": "2026-07-01"})).json()["alerts"]
        assert not [x for x in before if x["kind"] == "funds_overdrawn"]
        labels = (await http.get("/api/v1/labels")).json()
        assert labels["alerts"]["funds_overdrawn"] == "支部经费透支" and labels["funds"]["dues_returned"] == "返缴党费"

    def raised(es):
        return [e for e in es if e["type"] == "AlertRaised" and e["data"]["alert_id"] == f"funds_overdrawn:{b}:2026-07-02"]
    assert raised(await bus.events("reporting.events", raised, 120))


async def test_grades_with_the_move_from_the_year_before_beside_the_recommendation(platform, bus):
    ids = await _tree(bus)
    b = ids["branches"][0]
    last = envelope("GradeBranch", {"branch_id": b, "year": 2025, "stars": 3, "grade_class": 2},
                    occurred_at="2026-01-15T10:00:00+08:00")
    now = envelope("GradeBranch", {"branch_id": b, "year": 2026, "stars": 4, "grade_class": 1},
                   occurred_at="2026-11-20T10:00:00+08:00")
    again = envelope("GradeBranch", {"branch_id": b, "year": 2026, "stars": 4, "grade_class": 2},
                     occurred_at="2026-11-21T10:00:00+08:00")
    rate = envelope("RateBranch", {"branch_id": b, "year": 2026, "stars": 4}, occurred_at="2026-11-22T10:00:00+08:00")
    await bus.send("members.commands", last, now, again, rate)
    first, second, third, fourth = await _answers(bus, "members.events", last, now, again, rate)
    assert [e["type"] for e in first] == ["BranchGraded", "BranchRated"]
    assert (second[0]["data"]["label"], second[0]["data"]["move"], second[0]["data"]["previous"]["label"]) == (
        "四星一类", "up", "三星二类")
    assert (third[0]["data"]["reason"], third[0]["data"]["errors"][0]["field"]) == ("duplicate", "data.year")
    assert (fourth[0]["data"]["reason"], fourth[0]["data"]["errors"][0]["field"]) == ("duplicate", "data.year")

    async with auth.client(platform["reporting"].url) as http:
        async def graded():
            r = await http.get(f"/api/v1/orgs/{b}/report", params={"period": "2026", "as_of": "2026-11-30"})
            body = r.json() if r.status_code == 200 else {}
            return body if (body.get("grade") or {}).get("move") == "up" and body.get("stars") == 4 else None
        report = await eventually(graded, timeout=120)
        assert (report["grade"]["label"], report["grade"]["move_label"], report["grade"]["steps"]) == ("四星一类", "晋位升级", 4)
        assert "recommended_stars" in report and "score" in report  # beside the recommendation
        district = (await http.get(f"/api/v1/orgs/{ids['district']}/report", params={"period": "2026"})).json()
        assert {k: district["grades"][k] for k in ("branches", "graded", "up")} == {"branches": 1, "graded": 1, "up": 1}
        beside = (await http.get(f"/api/v1/orgs/{ids['district']}/grades", params={"year": 2026})).json()
        [row] = beside["branches"]
        assert (row["branch_id"], row["grade"]["label"], row["stars"]) == (b, "四星一类", 4)
        assert {"score", "recommended_stars"} <= set(row)
        assert (await http.get("/api/v1/labels")).json()["grade_moves"]["up"] == "晋位升级"


async def test_remote_study_coverage_use_modes_and_the_members_to_reach_at_home(platform, bus):
    ids = await _tree(bus)
    b = ids["branches"][0]
    m1, m2, m3 = uid("m"), uid("m"), uid("m")
    regs = [register(b, m1, name="王秀英"), register(b, m2, name="李建国"), register(b, m3, name="张桂兰", phone=None)]
    await bus.send("members.commands", *regs)
    await _answers(bus, "members.events", *regs)
    cmds = [envelope("RecordStudyAccount", {"member_id": m1, "platform": "xuexi", "has_account": True, "on": "2026-02-01"}),
            envelope("RecordStudyAccount", {"member_id": m2, "platform": "red_x", "has_account": True, "on": "2026-02-03"}),
            envelope("RecordStudyUse", {"member_id": m1, "platform": "xuexi", "month": "2026-03", "points": 450,
                                        "sessions": 15, "minutes": 375}),
            envelope("RecordStudyUse", {"member_id": m3, "platform": "xuexi", "month": "2026-03", "sessions": 1})]
    await bus.send("members.commands", *cmds)
    a1, a2, u1, u3 = await _answers(bus, "members.events", *cmds)
    assert (a1[0]["type"], a1[0]["data"]["branch_id"]) == ("StudyAccountRecorded", b)
    assert (u1[0]["type"], u1[0]["data"]["minutes"]) == ("StudyUseRecorded", 375)
    # m3 has no account known at all: held for its account as a reference, refused once the wait is over
    assert (u3[0]["type"], u3[0]["data"]["reason"], u3[0]["data"]["errors"][0]["field"]) == (
        "CommandRejected", "unknown_reference", "data.platform")
    act = uid("a")
    held = envelope("RecordActivityHeld", {"activity_id": act, "attendance": [
        {"member_id": m1, "status": "present", "mode": "remote"},
        {"member_id": m2, "status": "present", "mode": "in_person"},
        {"member_id": m3, "status": "present", "mode": "home_delivery"}]})
    await bus.send("activities.commands", envelope("ScheduleActivity", {
        "activity_id": act, "kind": "themed_party_day", "title": "三月主题党日", "branch_ids": [b],
        "starts_at": "2026-03-10T09:00:00+08:00", "ends_at": "2026-03-10T11:00:00+08:00"}), held)
    await _answers(bus, "activities.events", held)

    async with auth.client(platform["reporting"].url) as http:
        async def figures():
            r = await http.get(f"/api/v1/orgs/{b}/study", params={"period": "2026", "as_of": "2026-11-30"})
            t = r.json()["totals"] if r.status_code == 200 else {}
            done = t.get("registered") == 3 and t.get("users") == 1 and t.get("attendances_home_delivery") == 1
            return t if done else None
        t = await eventually(figures, timeout=120)
        assert {k: t[k] for k in ("with_xuexi", "with_red_x", "with_either", "with_neither", "points_xuexi", "minutes",
                                  "attendances_in_person", "attendances_remote", "coverage", "use_rate",
                                  "remote_share")} == {
            "with_xuexi": 1, "with_red_x": 1, "with_either": 2, "with_neither": 1, "points_xuexi": 450,
            "minutes": 375, "attendances_in_person": 1, "attendances_remote": 1, "coverage": 0.6667,
            "use_rate": 0.5, "remote_share": 0.3333}
        home = (await http.get(f"/api/v1/orgs/{ids['district']}/study/home-delivery",
                               params={"period": "2026", "as_of": "2026-11-30"})).json()
        assert (home["count"], home["reached"]) == (1, 1)
        assert [(x["member_id"], x["name"], x["home_deliveries"]) for x in home["members"]] == [(m3, "张桂兰", 1)]
        before = (await http.get(f"/api/v1/orgs/{b}/study", params={"period": "2026-01"})).json()["totals"]
        assert (before["with_either"], before["with_neither"]) == (0, 3)  # no account yet in January
        labels = (await http.get("/api/v1/labels")).json()
        assert labels["study"]["xuexi"] == "学习强国" and labels["attendance_modes"]["home_delivery"] == "送学上门"


async def test_the_way_into_the_party_its_overdue_probation_and_the_best_activist_candidates(platform, bus):
    ids = await _tree(bus)
    b = ids["branches"][0]
    contact = uid("m")
    reg = register(b, contact, name="刘振华", registered_on="2020-01-05")
    await bus.send("members.commands", reg)
    await _answers(bus, "members.events", reg)
    p1, p2 = uid("p"), uid("p")

    def apply(pid, name, on):
        return envelope("RecordPartyApplication", {"applicant_id": pid, "branch_id": b, "name": name, "gender": "female",
                                                   "birth_date": "1958-05-01", "applied_on": on})

    def step(pid, stage, on, **kw):
        return envelope("AdvanceApplicant", {"applicant_id": pid, "stage": stage, "on": on, **kw})
    cmds = [apply(p1, "赵玉梅", "2023-03-01"), step(p1, "activist", "2023-04-01", contact_ids=[contact]),
            step(p1, "development_target", "2024-05-01"), step(p1, "probationary", "2025-07-01"),
            apply(p2, "周文华", "2026-03-01"), step(p2, "development_target", "2026-04-01"),
            step(p2, "activist", "2026-04-01", contact_ids=[contact])]
    await bus.send("members.commands", *cmds)
    answers = await _answers(bus, "members.events", *cmds)
    assert [a[0]["type"] for a in answers] == ["PartyApplicationRecorded", "ApplicantAdvanced", "ApplicantAdvanced",
                                               "ApplicantAdvanced", "PartyApplicationRecorded", "CommandRejected",
                                               "ApplicantAdvanced"]
    assert (answers[5][0]["data"]["reason"], answers[5][0]["data"]["errors"][0]["field"]) == ("not_allowed", "data.stage")
    assert answers[3][0]["data"]["probation_ends_on"] == "2026-07-01"
    assert answers[1][0]["data"]["contacts"] == [{"member_id": contact, "member_name": "刘振华"}]

    async with auth.client(platform["reporting"].url) as http:
        async def pipeline():
            r = await http.get(f"/api/v1/orgs/{b}/activists", params={"period": "2026", "as_of": "2026-11-30"})
            body = r.json() if r.status_code == 200 else {}
            t = body.get("totals") or {}
            return body if t.get("probationary") == 1 and t.get("activist") == 1 else None
        body = await eventually(pipeline, timeout=120)
        assert {k: body["totals"][k] for k in ("applicant", "activist", "development_target", "probationary",
                                               "applied", "to_activist", "probation_overdue")} == {
            "applicant": 0, "activist": 1, "development_target": 0, "probationary": 1, "applied": 1, "to_activist": 1,
            "probation_overdue": 1}
        people = {x["applicant_id"]: x for x in body["people"]}
        assert (people[p1]["stage"], people[p1]["probation_overdue_since"]) == ("probationary", "2026-07-02")
        assert (people[p2]["next_from"], people[p2]["contacts"][0]["member_name"]) == ("2027-04-02", "刘振华")
        alerts = (await http.get("/api/v1/alerts", params={"org_id": ids["district"], "as_of": "2026-11-30",
                                                           "kind": "probation_overdue"})).json()["alerts"]
        assert [(x["subject_id"], x["subject_name"], x["org_id"], x["since_label"]) for x in alerts] == [
            (p1, "赵玉梅", b, "2026年7月2日起")]
        cands = (await http.get(f"/api/v1/orgs/{ids['district']}/candidates", params={"year": 2026,
                                                                                       "as_of": "2026-11-30"})).json()
        # activists in the year, not the best attending members; p1 was probationary all year: no longer an activist
        assert [x["applicant_id"] for x in cands["best_activist"]] == [p2]
        assert contact not in [x["member_id"] for x in cands["best_activist"]]
    grant = envelope("GrantAward", {"award_id": uid("aw"), "year": 2026, "category": "best_activist", "subject_id": p2})
    await bus.send("members.commands", grant)
    [[granted]] = await _answers(bus, "members.events", grant)
    assert (granted["type"], granted["data"]["subject_kind"], granted["data"]["subject_name"]) == (
        "AwardGranted", "applicant", "周文华")
