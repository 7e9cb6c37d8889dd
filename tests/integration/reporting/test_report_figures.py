"""Every figure of the report on a whole quarter, from events published to the events topics.

The worked example (2026-Q1, read as of 31 March unless said otherwise):
branch 1 (with a committee) has m1 (resident, secretary), m2 (away in Sanya from 10 Jan),
m3 (exempt, poor health), m4 (died 20 Feb), m5 (until transferred to branch 2 on 15 Feb);
branch 2 has m7 (since 5 Jan), m5 (from 15 Feb) and m6 (registered 20 Mar).
"""
import pytest
from tests.support import auth


pytestmark = pytest.mark.integration


async def get_report(reporting, org_id, period="2026-Q1", **params):
    async with auth.client(reporting.url, timeout=30) as http:
        r = await http.get(f"/api/v1/orgs/{org_id}/report", params={"period": period, **params})
        assert r.status_code == 200, r.text
        return r.json()


async def test_district_quarter(reporting, scenario):
    r = await get_report(reporting, scenario["district"])
    assert r["kind"] == "district" and r["as_of"] == "2026-03-31"
    # registered on 31 Mar: m1 m2 m3 (b1), m5 m6 m7 (b2); m4 died within the quarter
    assert r["members"] == {"registered": 6, "resident": 5, "away": 1, "exempt": 1, "deceased": 1}
    # active: m1 (5 Mar), m2 (20 Jan, remote), m5 and m6 (alliance lecture); not m3 (leave; cancelled
    # meeting), not m7 (a cultural event is not organisational life)
    assert r["participation"] == {"active": 4, "rate": 0.8, "resident_rate": 0.75}  # 4/(6-1), 3/(5-1)
    life = r["organisational_life"]
    assert life["branch_assembly"] == {"required": 2, "held": 1}
    assert life["committee_meeting"] == {"required": 3, "held": 1}  # the cancelled one does not count
    assert life["party_lecture"] == {"required": 2, "held": 2}  # the alliance lecture counts for both
    assert life["themed_party_day"] == {"required": 6, "held": 2}
    assert life["group_meeting"] == {"required": 0, "held": 0}
    assert life["org_life_meeting"] == {"required": 0, "held": 0}
    assert life["compliance"] == 0.4615  # (b1: 1+1+1+1, b2: 1+1) / 13
    # due: 3 months × 5 members + 1 month for m6; paid: m1 3, m2 3 (advance), m3 1 (partial),
    # m5 1 (paid twice); amounts of members registered on the day: 72 + 144 + 24 + 48
    assert r["dues"] == {"member_months_due": 16, "member_months_paid": 8, "rate": 0.5, "amount_paid": "288.00"}
    assert r["volunteer_hours"] == "4"
    assert r["notices"] == {"sent": 3, "acknowledged": 1, "ack_rate": 0.3333}
    # overdue: m2, m5, m7 (60 days since registration), m3 (30 days: poor health)
    assert r["visits"] == {"members_visited": 1, "overdue": 4}
    # 40×0.4615 + 20×0.8 + 20×0.5 + 10×(1/6) + 10×(1/3)
    assert r["score"] == 49.46 and r["recommended_stars"] == 1 and r["stars"] is None


async def test_each_branch(reporting, scenario):
    b1 = await get_report(reporting, scenario["b1"])
    assert b1["members"] == {"registered": 3, "resident": 2, "away": 1, "exempt": 1, "deceased": 1}
    assert b1["participation"] == {"active": 2, "rate": 1.0, "resident_rate": 1.0}
    assert b1["organisational_life"]["compliance"] == 0.5
    assert b1["dues"] == {"member_months_due": 9, "member_months_paid": 7, "rate": 0.7778, "amount_paid": "240.00"}
    assert b1["volunteer_hours"] == "4"  # m5 logged hours while still in branch 1
    assert b1["notices"] == {"sent": 3, "acknowledged": 1, "ack_rate": 0.3333}
    assert b1["visits"] == {"members_visited": 1, "overdue": 2}
    assert b1["score"] == 62.22 and b1["recommended_stars"] == 2 and b1["stars"] == 3
    b2 = await get_report(reporting, scenario["b2"])
    assert b2["members"] == {"registered": 3, "resident": 3, "away": 0, "exempt": 0, "deceased": 0}
    assert b2["participation"] == {"active": 2, "rate": 0.6667, "resident_rate": 0.6667}
    assert b2["organisational_life"]["compliance"] == 0.4
    assert b2["dues"] == {"member_months_due": 7, "member_months_paid": 1, "rate": 0.1429, "amount_paid": "48.00"}
    assert b2["notices"] == {"sent": 0, "acknowledged": 0, "ack_rate": 0.0}
    community = await get_report(reporting, scenario["community"])
    assert community["members"]["registered"] == 6 and community["dues"]["amount_paid"] == "288.00"


async def test_as_of_inside_the_quarter(reporting, scenario):
    r = await get_report(reporting, scenario["district"], as_of="2026-02-16")
    assert r["as_of"] == "2026-02-16"
    # m4 still alive, m5 already in branch 2, m6 not yet registered
    assert r["members"] == {"registered": 6, "resident": 5, "away": 1, "exempt": 1, "deceased": 0}
    assert r["participation"]["active"] == 2  # m2 and m4 on 20 Jan
    # Jan and Feb are due for six members; paid by 16 Feb: m1 2, m2 2, m3 1, m4 1, m5 1
    assert r["dues"]["member_months_due"] == 12 and r["dues"]["member_months_paid"] == 7


async def test_month_and_year_periods(reporting, scenario):
    march = await get_report(reporting, scenario["district"], period="2026-03")
    assert march["members"]["deceased"] == 0 and march["participation"]["active"] == 3  # m1, m5, m6
    assert march["organisational_life"]["themed_party_day"] == {"required": 2, "held": 0}
    assert march["organisational_life"]["branch_assembly"]["required"] == 0  # no whole quarter in a month
    year = await get_report(reporting, scenario["district"], period="2026", as_of="2026-03-31")
    assert year["organisational_life"]["org_life_meeting"] == {"required": 2, "held": 0}
    assert year["organisational_life"]["branch_assembly"]["required"] == 8
    assert year["dues"]["member_months_due"] == 16


async def test_the_series_months_are_the_branch_reports_of_each_month(reporting, scenario):
    """The dashboard's series computes a month's row without the report's other sections: its
    figures must still be those of the branch's report of that month."""
    async with auth.client(reporting.url, timeout=30) as http:
        r = await http.get(f"/api/v1/orgs/{scenario['district']}/series", params={"year": 2026, "as_of": "2026-03-31"})
        assert r.status_code == 200, r.text
        rows = r.json()["branches"]
    assert len(rows) == 2 and all(len(row["months"]) == 3 for row in rows)
    for row in rows:
        for m in row["months"]:
            mine = await get_report(reporting, row["branch_id"], period=m["month"], as_of="2026-03-31")
            assert m == {"month": m["month"], "participation_rate": mine["participation"]["rate"],
                         "dues_rate": mine["dues"]["rate"], "amount_paid": mine["dues"]["amount_paid"],
                         "away": mine["members"]["away"], "registered": mine["members"]["registered"]}
    assert any(m["away"] for row in rows for m in row["months"])  # m2, away from 10 January


async def test_the_series_by_organisation_below_is_each_ones_own_figures(reporting, scenario):
    """`rows=children`: a row per organisation directly below (a large district's subdistricts), its
    months and its report those of the organisation itself."""
    async with auth.client(reporting.url, timeout=30) as http:
        r = await http.get(f"/api/v1/orgs/{scenario['district']}/series",
                           params={"year": 2026, "period": "2026-Q1", "as_of": "2026-03-31", "rows": "children"})
        assert r.status_code == 200, r.text
        body = r.json()
        bad = await http.get(f"/api/v1/orgs/{scenario['district']}/series", params={"year": 2026, "rows": "members"})
    assert "branches" not in body and bad.status_code == 422
    [row] = body["children"]
    assert (row["name"], row["kind"]) == ("湖滨街道", "subdistrict")
    own = await get_report(reporting, row["org_id"], period="2026-Q1", as_of="2026-03-31")
    assert {k: row["report"][k] for k in ("members", "participation", "dues", "organisational_life", "committee")} == {
        k: own[k] for k in ("members", "participation", "dues", "organisational_life", "committee")}
    assert row["report"]["members"]["registered"] == 6  # the district's six: it has one subdistrict
    for m in row["months"]:
        mine = await get_report(reporting, row["org_id"], period=m["month"], as_of="2026-03-31")
        assert (m["participation_rate"], m["dues_rate"], m["registered"]) == (
            mine["participation"]["rate"], mine["dues"]["rate"], mine["members"]["registered"])


async def test_unknown_org_and_bad_period(reporting, scenario):
    async with auth.client(reporting.url) as http:
        r = await http.get(f"/api/v1/orgs/{scenario['district']}/report", params={"period": "2026-13"})
        assert r.status_code == 422 and "period" in r.text
        r = await http.get("/api/v1/orgs/nowhere/report", params={"period": "2026"})
        assert r.status_code == 404
