"""End to end, issue 13's items 1, 2 and 4: a branch's committee and its election (支委会, 换届), the
secretary's assessment and allowance (书记考核, 每月补助), and training (培训) — commands published
to Kafka by a district system, the members service's events, and reporting's figures and alerts
read back over HTTP, the way a department official reads them."""
import pytest

from tests.support import auth
from tests.support.messages import caused_by, envelope, eventually
from tests.support.scenario import register, uid

pytestmark = pytest.mark.e2e
SINCE = "2019-05-06T09:00:00+08:00"  # when the tree was set up in the ledger


async def _answered(bus, *cmds: dict, until: str | None = None) -> list[list[dict]]:
    """Send the commands to members and return the events each caused, once each is answered (with
    `until`: once each has caused an event of that type, its last)."""
    await bus.send("members.commands", *cmds)

    def done(es):
        return all(caused_by(es, c) and (until is None or until in {e["type"] for e in caused_by(es, c)}) for c in cmds)
    events = await bus.events("members.events", done, timeout=120)
    return [caused_by(events, c) for c in cmds]


async def _branch_with_committee(bus) -> tuple[dict, list[str]]:
    """District → subdistrict → community → a branch with a committee, and its four members."""
    ids = {"district": uid("d"), "subdistrict": uid("s"), "community": uid("c"), "branch": uid("b")}
    levels = [("district", "X区", None), ("subdistrict", "湖滨街道", "district"),
              ("community", "怡园社区", "subdistrict"), ("branch", "怡园社区退休党支部", "community")]
    for kind, name, parent in levels:
        data = {"org_id": ids[kind], "name": name, "kind": kind, **({"parent_id": ids[parent]} if parent else {}),
                **({"has_committee": True} if kind == "branch" else {})}
        [[ev]] = await _answered(bus, envelope("EstablishOrganization", data, occurred_at=SINCE))
        assert ev["type"] == "OrganizationEstablished", ev
    regs = [register(ids["branch"], name=n, registered_on="2019-06-03")
            for n in ("王秀英", "李建国", "张桂兰", "刘振华")]
    answers = await _answered(bus, *regs)
    assert [a[0]["type"] for a in answers] == ["MemberRegistered"] * 4, answers
    return ids, [r["data"]["member_id"] for r in regs]


async def test_the_committee_the_secretary_and_training_from_the_ledger_to_the_report(platform, bus):
    ids, (m1, m2, m3, m4) = await _branch_with_committee(bus)
    b = ids["branch"]
    # 2020's election: a five-year term, so overdue from March 2025; nobody elected discipline member
    election = envelope("RecordElection", {
        "election_id": uid("e"), "branch_id": b, "held_on": "2020-03-01", "kind": "general", "eligible": 4,
        "present": 4, "elected": [{"member_id": m1, "post": "secretary", "votes": 4},
                                  {"member_id": m2, "post": "organization_member", "votes": 4},
                                  {"member_id": m3, "post": "propaganda_member", "votes": 3}]})
    [events] = await _answered(bus, election, until="SecretaryAppointed")
    assert events[0]["type"] == "ElectionRecorded" and events[0]["data"]["term_ends_on"] == "2025-03-01"
    # a district training session the secretary missed; the allowance, paid for the first quarter
    training = envelope("RecordTrainingSession", {
        "session_id": uid("t"), "title": "2025年支部书记培训班", "held_on": "2025-03-18", "org_id": ids["district"],
        "hours": "6", "attendee_ids": [m2]})
    rate = envelope("SetSecretaryAllowance", {"branch_id": b, "from_month": "2025-01", "monthly_amount": "300.00"})
    paid = envelope("RecordAllowancePayment", {
        "payment_id": uid("ap"), "branch_id": b, "member_id": m1, "from_month": "2025-01", "to_month": "2025-03",
        "amount": "900.00", "paid_on": "2025-04-08"})
    assessed = envelope("RecordSecretaryAssessment", {"branch_id": b, "member_id": m1, "year": 2025,
                                                      "result": "competent"})
    [t], [r], [p], [a] = await _answered(bus, training, rate, paid, assessed)
    assert [x["type"] for x in (t, r, p, a)] == [
        "TrainingSessionRecorded", "SecretaryAllowanceSet", "AllowancePaid", "SecretaryAssessed"]
    not_theirs = envelope("RecordAllowancePayment", {**paid["data"], "payment_id": uid("ap"), "member_id": m4,
                                                     "from_month": "2025-04", "to_month": "2025-04", "amount": "300.00"})
    [[refused]] = await _answered(bus, not_theirs)
    assert (refused["type"], refused["data"]["reason"]) == ("CommandRejected", "not_allowed")

    async with auth.client(platform["reporting"].url, timeout=30) as http:
        async def branch_report():
            # a branch's allowance is its secretary's pay: shown to an official who says why (issue 12)
            r = await http.get(f"/api/v1/orgs/{b}/report", params={"period": "2025", "as_of": "2025-12-31",
                                                                    "reveal": "allowance", "reason": "核对书记补助"})
            body = r.json() if r.status_code == 200 else {}
            done = ((body.get("committee") or {}).get("line_up") and (body.get("allowance") or {}).get("months_paid") == 3
                    and (body.get("assessments") or {}).get("assessed") == 1
                    and (body.get("training") or {}).get("secretary"))
            return body if done else None
        mine = await eventually(branch_report, timeout=120, interval=1)
        committee = mine["committee"]
        assert [x["name"] for x in committee["line_up"]] == ["王秀英", "李建国", "张桂兰"]
        assert [x["post"] for x in committee["vacant_posts"]] == ["discipline_member"]
        assert committee["term"]["overdue"] is True
        assert {k: mine["allowance"][k] for k in ("months_due", "amount_due", "amount_paid", "amount_unpaid")} == {
            "months_due": 12, "amount_due": "3600.00", "amount_paid": "900.00", "amount_unpaid": "2700.00"}
        assert (mine["assessments"]["year"], mine["assessments"]["competent"]) == (2025, 1)
        assert mine["training"]["secretary"] == {"member_id": m1, "name": "王秀英", "trained": False,
                                                 "last_training": None}

        district = (await http.get(f"/api/v1/orgs/{ids['district']}/report",
                                   params={"period": "2025", "as_of": "2025-12-31"})).json()
        assert {k: district["training"][k] for k in ("secretaries", "trained", "untrained", "coverage")} == {
            "secretaries": 1, "trained": 0, "untrained": 1, "coverage": 0.0}
        assert {k: district["committee"][k] for k in ("branches", "posts_required", "posts_filled", "terms_overdue")} == {
            "branches": 1, "posts_required": 4, "posts_filled": 3, "terms_overdue": 1}

        alerts = {x["kind"]: x for x in (await http.get("/api/v1/alerts", params={
            "org_id": ids["district"], "as_of": "2025-12-31"})).json()["alerts"]}
        assert alerts["term_overdue"]["since"] == "2025-03-02" and alerts["term_overdue"]["subject_id"] == b
        assert list(alerts["post_vacant"]["details"]["posts"]) == ["discipline_member"]
        assert (alerts["secretary_untrained"]["subject_id"], alerts["secretary_untrained"]["since"]) == (m1, "2025-10-01")
        labels = (await http.get("/api/v1/labels")).json()["alerts"]
        assert [labels[k] for k in ("term_overdue", "post_vacant", "secretary_untrained")] == [
            "支委会换届逾期", "支委职务空缺超期", "书记年度未参加培训"]
