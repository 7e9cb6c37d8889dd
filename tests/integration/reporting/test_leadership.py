"""A branch's leadership in reporting, on real Kafka and MongoDB: the committee in the reports, its
alerts over HTTP as of any day, and AlertRaised on Kafka from the periodic check."""
import pytest

from shared.contracts import leadership as c
from shared.contracts import members as m
from tests.integration.reporting.support import event, publish, tree_events, uid
from tests.support import auth
from tests.support.messages import eventually

pytestmark = pytest.mark.integration


async def test_committee_figures_and_alerts(reporting, rbus):
    b = uid("b")
    ids, tree = tree_events([(b, True, 0)], at="2020-01-06")
    members = {p: uid("m") for p in ("secretary", "organization_member", "propaganda_member")}
    await publish(rbus, *tree,
                  event(c.ElectionRecorded, "2021-03-15", election_id=uid("e"), branch_id=b, held_on="2021-03-15",
                        kind="general", eligible=9, present=9, term_started_on="2021-03-15", term_ends_on="2026-03-15",
                        elected=[{"member_id": mm, "post": p, "votes": 9} for p, mm in members.items()]),
                  *[event(c.CommitteeMemberAppointed, "2021-03-15", branch_id=b, post=p, member_id=mm,
                          member_name="王秀英" if p == "secretary" else None, on="2021-03-15")
                    for p, mm in members.items()],
                  event(m.SecretaryAppointed, "2021-03-15", branch_id=b, member_id=members["secretary"]),
                  event(c.CommitteeMemberRemoved, "2026-05-20", branch_id=b, post="propaganda_member",
                        member_id=members["propaganda_member"], on="2026-05-20", reason="resigned"))
    async with auth.client(reporting.url, timeout=30) as http:
        async def committee(org_id):
            r = await http.get(f"/api/v1/orgs/{org_id}/report", params={"period": "2026", "as_of": "2026-06-30"})
            body = r.json() if r.status_code == 200 else {}
            return body.get("committee") if body.get("committee", {}).get("posts_vacant") == 2 else None

        async def settled():
            # the events are on several keys (partitions): wait for the last of them, not for the first
            # moment two posts look empty (the removal may be handled before its appointment)
            c_ = await committee(b)
            return c_ if c_ and c_["vacant_posts"] == [{"post": "propaganda_member", "since": "2026-05-20"},
                                                       {"post": "discipline_member", "since": "2020-01-06"}] else None

        mine = await eventually(settled, timeout=90)
        assert [x["name"] for x in mine["line_up"]] == ["王秀英", None]
        assert mine["vacant_posts"] == [{"post": "propaganda_member", "since": "2026-05-20"},
                                        {"post": "discipline_member", "since": "2020-01-06"}]
        assert mine["term"]["overdue"] is True and mine["posts_vacant_too_long"] == 1
        district = await committee(ids["district"])
        assert {k: district[k] for k in ("branches", "posts_required", "posts_filled", "terms_overdue")} == {
            "branches": 1, "posts_required": 4, "posts_filled": 2, "terms_overdue": 1}
        assert "line_up" not in district

        async def alerts(as_of):
            r = await http.get("/api/v1/alerts", params={"org_id": b, "as_of": as_of})
            return {x["kind"]: x for x in r.json()["alerts"]}
        june = await alerts("2026-06-30")
        assert (june["term_overdue"]["level"], june["term_overdue"]["since"]) == ("warning", "2026-03-16")
        assert june["post_vacant"]["details"]["posts"] == {"discipline_member": "2020-01-06"}
        assert june["post_vacant"]["subject_name"] == "天鹅湖社区退休党支部1"
        assert (await alerts("2026-09-30"))["term_overdue"]["level"] == "alert"

        # the secretary leaves: the branch has no secretary from then on
        await publish(rbus, event(c.CommitteeMemberRemoved, "2026-07-01", branch_id=b, post="secretary",
                                  member_id=members["secretary"], on="2026-07-01", reason="resigned"))

        async def no_secretary():
            return "no_secretary" in await alerts("2026-07-02")
        await eventually(no_secretary, timeout=60)
        assert (await alerts("2026-07-02"))["post_vacant"]["level"] == "warning"  # the secretary: not 90 days yet
        assert (await alerts("2026-10-01"))["post_vacant"]["level"] == "alert"

    # the periodic check evaluates every branch as of today: the overdue term is announced on Kafka
    def announced(es):
        return [e for e in es if e["type"] == "AlertRaised" and e["data"]["subject_id"] == b
                and e["data"]["kind"] == "term_overdue"]
    raised = announced(await rbus.events("reporting.events", announced, 90))
    assert raised and raised[-1]["data"]["alert_id"] == f"term_overdue:{b}:2026-03-16"


async def test_training_coverage_and_the_untrained_secretary(reporting, rbus):
    trained, untrained = uid("b"), uid("b")
    ids, tree = tree_events([(trained, False, 0), (untrained, False, 0)], at="2020-01-06")
    s1, s2 = uid("m"), uid("m")
    await publish(rbus, *tree,
                  event(c.CommitteeMemberAppointed, "2025-01-05", branch_id=trained, post="secretary", member_id=s1,
                        member_name="王秀英", on="2025-01-05"),
                  event(c.CommitteeMemberAppointed, "2025-01-05", branch_id=untrained, post="secretary", member_id=s2,
                        member_name="李建国", on="2025-01-05"),
                  event(c.TrainingSessionRecorded, "2025-03-18", session_id=uid("t"), title="支部书记培训班",
                        held_on="2025-03-18", org_id=ids["district"], hours="6",
                        attendees=[{"member_id": s1, "branch_id": trained, "posts": ["secretary"]}]))
    async with auth.client(reporting.url, timeout=30) as http:
        async def training():
            r = await http.get(f"/api/v1/orgs/{ids['district']}/report", params={"period": "2025", "as_of": "2025-12-31"})
            t = r.json().get("training") if r.status_code == 200 else None
            return t if t and t["secretaries"] == 2 and t["trained"] == 1 else None
        assert await eventually(training, timeout=90) == {"secretaries": 2, "trained": 1, "secretary_sessions": 1,
                                                          "untrained": 1, "coverage": 0.5}
        mine = (await http.get(f"/api/v1/orgs/{untrained}/report", params={"period": "2025",
                                                                           "as_of": "2025-12-31"})).json()
        assert mine["training"]["secretary"] == {"member_id": s2, "name": "李建国", "trained": False,
                                                 "last_training": None}
        late = (await http.get("/api/v1/alerts", params={"org_id": ids["district"], "as_of": "2025-10-01"})).json()
        [x] = [a for a in late["alerts"] if a["kind"] == "secretary_untrained"]
        assert (x["subject_id"], x["subject_name"], x["org_id"], x["since"]) == (s2, "李建国", untrained, "2025-10-01")
        early = (await http.get("/api/v1/alerts", params={"org_id": ids["district"], "as_of": "2025-09-30"})).json()
        assert not [a for a in early["alerts"] if a["kind"] == "secretary_untrained"]


async def test_allowances_due_and_paid_and_assessments_in_the_report(reporting, rbus):
    b = uid("b")
    ids, tree = tree_events([(b, False, 0)], at="2020-01-06")
    s = uid("m")
    await publish(rbus, *tree,
                  event(c.CommitteeMemberAppointed, "2024-10-28", branch_id=b, post="secretary", member_id=s,
                        member_name="王秀英", on="2024-10-28"),
                  event(c.SecretaryAllowanceSet, "2025-01-02", branch_id=b, from_month="2025-01",
                        monthly_amount="300.00"),
                  event(c.AllowancePaid, "2025-04-08", payment_id=uid("ap"), branch_id=b, member_id=s,
                        from_month="2025-01", to_month="2025-03", amount="900.00", paid_on="2025-04-08",
                        months=[{"month": f"2025-0{k}", "amount": "300.00"} for k in (1, 2, 3)]),
                  event(c.SecretaryAssessed, "2025-12-20", branch_id=b, member_id=s, year=2025, result="excellent"))
    # the district holds one branch: its allowance is one secretary's pay (issue 12), shown when asked
    asked = {"period": "2025", "as_of": "2025-06-30", "reveal": "allowance", "reason": "核对书记补助发放"}
    async with auth.client(reporting.url, timeout=30) as http:
        async def sections():
            r = await http.get(f"/api/v1/orgs/{ids['district']}/report", params=asked)
            body = r.json() if r.status_code == 200 else {}
            done = body.get("allowance", {}).get("months_paid") == 3 and body.get("assessments", {}).get("assessed")
            return body if done else None
        body = await eventually(sections, timeout=90)
        assert {k: body["allowance"][k] for k in ("months_due", "amount_due", "amount_paid", "amount_unpaid")} == {
            "months_due": 6, "amount_due": "1800.00", "amount_paid": "900.00", "amount_unpaid": "900.00"}
        masked = (await http.get(f"/api/v1/orgs/{ids['district']}/report", params={"period": "2025",
                                                                                   "as_of": "2025-06-30"})).json()
        assert (masked["allowance"]["branches"], masked["allowance"]["amount_due"]) == (1, "****")
        assert body["assessments"] == {"year": 2025, "assessed": 1, "excellent": 1, "competent": 0,
                                       "basically_competent": 0, "incompetent": 0}
        mine = (await http.get(f"/api/v1/orgs/{b}/report", params={"period": "2025-Q1", "as_of": "2025-03-31"})).json()
        assert [(x["month"], x["paid"]) for x in mine["allowance"]["months"]] == [
            ("2025-01", False), ("2025-02", False), ("2025-03", False)]  # paid on 8 April


async def test_a_district_report_kept_between_changes_shows_the_next_one(reporting, rbus):
    """The district's sums over its branches are kept while nothing they read changes
    (section_cache.py): a change after they were kept is in the next report."""
    b = uid("b")
    ids, tree = tree_events([(b, True, 0)], at="2020-01-06")
    await publish(rbus, *tree, event(c.CommitteeMemberAppointed, "2025-01-05", branch_id=b, post="secretary",
                                     member_id=uid("m"), member_name="王秀英", on="2025-01-05"))
    async with auth.client(reporting.url, timeout=30) as http:
        async def filled(n):
            r = await http.get(f"/api/v1/orgs/{ids['district']}/report", params={"period": "2025",
                                                                                 "as_of": "2025-12-31"})
            body = r.json() if r.status_code == 200 else {}
            # the tree projected too (its events are on other partitions than the appointment's):
            # a branch with a committee owes one committee meeting a month
            tree_in = body.get("organisational_life", {}).get("committee_meeting", {}).get("required") == 12
            return body if tree_in and body.get("committee", {}).get("posts_filled") == n else None
        kept = await eventually(lambda: filled(1), timeout=90)
        assert await filled(1) == kept  # asked again: the same sums
        await publish(rbus, event(c.CommitteeMemberAppointed, "2025-03-01", branch_id=b, post="organization_member",
                                  member_id=uid("m"), member_name="李建国", on="2025-03-01"))
        later = await eventually(lambda: filled(2), timeout=90)
        assert later["committee"]["posts_vacant"] == kept["committee"]["posts_vacant"] - 1


async def metric(http, name: str, labels: str = "") -> float:
    """A counter's value on the service's /metrics (0 before it was first counted)."""
    for line in (await http.get("/metrics")).text.splitlines():
        if line.startswith(f"{name}_total{labels} ") or line.startswith(f"{name}_total{{{labels}}} "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_after_a_change_the_district_report_finds_its_sections_computed_ahead(reporting, rbus):
    """The first district report after a change used to compute its sums over every branch again
    (most of a second at 2,000 branches). The sections a report asked for are now computed again
    in the background soon after what they read changes (sections_refresh.py), so the next report
    finds them kept: here the report after an appointment computes nothing."""
    b = uid("b")
    ids, tree = tree_events([(b, True, 0)], at="2020-01-06")
    await publish(rbus, *tree, event(c.CommitteeMemberAppointed, "2025-01-05", branch_id=b, post="secretary",
                                     member_id=uid("m"), member_name="王秀英", on="2025-01-05"))
    params = {"period": "2025", "as_of": "2025-12-31"}
    async with auth.client(reporting.url, timeout=30) as http:
        async def filled(org_id, n):
            r = await http.get(f"/api/v1/orgs/{org_id}/report", params=params)
            body = r.json() if r.status_code == 200 else {}
            tree_in = body.get("organisational_life", {}).get("committee_meeting", {}).get("required") == 12
            return body if tree_in and body.get("committee", {}).get("posts_filled") == n else None

        await eventually(lambda: filled(ids["district"], 1), timeout=90)  # asked: to be kept fresh
        await publish(rbus, event(c.CommitteeMemberAppointed, "2025-03-01", branch_id=b, post="organization_member",
                                  member_id=uid("m"), member_name="李建国", on="2025-03-01"))
        await eventually(lambda: filled(b, 2), timeout=90)  # projected (a branch's report keeps nothing)
        # A round under way may have read the checksums before the change; the one after it began after.
        rounds = await metric(http, "sunsetred_report_sections_refresh_rounds")

        async def two_rounds_later():
            return await metric(http, "sunsetred_report_sections_refresh_rounds") >= rounds + 2 or None
        await eventually(two_rounds_later, timeout=60)
        computed = await metric(http, "sunsetred_report_sections", 'how="computed"')
        assert await filled(ids["district"], 2)
        assert await metric(http, "sunsetred_report_sections", 'how="computed"') == computed
