"""The ledger as a secretary reads it: labels, statuses as of a day, dues months paid and unpaid."""
import pytest

from services.members.domain import member as rules
from services.members.domain.ledger import dues_year, ledger, summary
from services.members.domain.organization import Organization

pytestmark = pytest.mark.unit

BRANCH = Organization(org_id="b1", name="天鹅湖", kind="branch", parent_id="c", ancestors=["d", "s", "c"])


def member():
    m = rules.register(None, BRANCH, member_id="m1", registered_on="2026-03-05",
                       profile={"name": "王秀英", "gender": "female", "birth_date": "1948-03-02",
                                "joined_party_on": "1972-07-01", "phone": None, "lives_alone": True,
                                "health": "poor", "monthly_pension": "4800.00"})
    rules.record_payment(m, ["2026-03", "2026-04"])
    return m


def test_summary_labels_and_status_as_of():
    m = member()
    rules.mark_away(m, start="2026-11-01", until=None, location="三亚", reason="seasonal")
    row = summary(m, "2026-06-01")
    assert (row["gender_label"], row["health_label"], row["status_label"], row["age"]) == ("女", "较差", "在居住地", 78)
    assert row["preferred_channel_label"] == "送学上门" and row["monthly_dues"] == "24.00"
    assert summary(m, "2026-12-01")["status"] == "away"


def test_dues_months_from_registration_to_the_end_of_the_year_or_death():
    m = member()
    d = dues_year(m, 2026, [])
    assert d["paid_months"] == ["2026-03", "2026-04"]
    assert d["unpaid_months"][0] == "2026-05" and d["unpaid_months"][-1] == "2026-12"
    rules.record_death(m, on="2026-07-20")
    assert dues_year(m, 2026, [])["unpaid_months"] == ["2026-05", "2026-06", "2026-07"]
    assert dues_year(m, 2025, [])["months"] == []


def test_ledger_tells_the_whole_story():
    m = member()
    rules.record_evaluation(m, year=2026, result="qualified", on="2026-12-01")
    rules.record_evaluation(m, year=2026, result="excellent", on="2026-12-02")
    m.awards.append({"award_id": "a1", "year": 2026, "category": "best_old_member"})
    view = ledger(m, as_of="2026-12-31", year=2026, branch_name="天鹅湖",
                  payments=[{"payment_id": "p1", "months": ["2026-03", "2026-04"], "comparison": "exact",
                             "paid_on": "2026-04-01"}])
    assert view["status_history"][0]["change_label"] == "登记入册"
    assert [e["result_label"] for e in view["evaluations"]] == ["合格", "优秀"]
    assert view["awards"][0]["category_label"] == "最美老党员"
    assert view["dues"]["payments"][0]["comparison_label"] == "足额"
    assert view["pension_history"] == [{"from": "2026-03-05", "amount": "4800.00"}]
