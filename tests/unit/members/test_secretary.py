"""The secretary's assessment and allowance, as pure rules (services/members/domain/secretary.py and
shared/rules/allowance.py)."""
from decimal import Decimal

import pytest

from services.members.domain import committee as cm
from services.members.domain import secretary as sec
from services.members.domain.organization import Organization
from shared.errors import Rejected
from shared.rules import allowance

pytestmark = pytest.mark.unit


def branch() -> Organization:
    """m1 secretary from 10 Jan 2025, m2 from 15 May (m1 left on 20 April: the post empty between)."""
    b = Organization(org_id="b", name="怡园社区退休党支部", kind="branch", parent_id="c")
    cm.appoint(b, "m1", post="secretary", on="2025-01-10")
    cm.remove(b, post="secretary", on="2025-04-20", reason="resigned")
    cm.appoint(b, "m2", post="secretary", on="2025-05-15")
    return b


def refusal(fn, *args, **kw) -> tuple[str, list[str]]:
    with pytest.raises(Rejected) as r:
        fn(*args, **kw)
    return r.value.reason, [e["field"] for e in r.value.errors]


def test_a_month_is_due_to_the_secretary_of_its_first_day_or_the_first_appointed_in_it():
    spans = sec.secretary_spans(branch())
    assert [allowance.holder_of_month(spans, m) for m in ("2024-12", "2025-01", "2025-04", "2025-05", "2025-06")] == [
        None, "m1", "m1", "m2", "m2"]  # January: appointed on the 10th; April: m1 held it on the 1st
    assert allowance.holder_of_month([("m9", None, None)], "1999-01") == "m9"  # held before the records


def test_the_rate_in_effect_and_the_ledger_of_a_year():
    b = branch()
    assert sec.set_rate(b, from_month="2025-01", amount=Decimal("300.00")) is None
    assert sec.set_rate(b, from_month="2025-07", amount=Decimal("400.00")) == Decimal("300.00")
    rows = sec.ledger(b, year=2025, as_of="2025-08-15")
    assert [(r["month"], r["member_id"], r["due"]) for r in rows] == [
        ("2025-01", "m1", "300.00"), ("2025-02", "m1", "300.00"), ("2025-03", "m1", "300.00"),
        ("2025-04", "m1", "300.00"), ("2025-05", "m2", "300.00"), ("2025-06", "m2", "300.00"),
        ("2025-07", "m2", "400.00"), ("2025-08", "m2", "400.00")]
    assert refusal(sec.set_rate, b, from_month="2025-09", amount=Decimal("-1")) == ("invalid", ["data.monthly_amount"])


def test_a_payment_is_the_sum_due_to_that_member_for_months_begun_and_not_paid():
    b = branch()
    sec.set_rate(b, from_month="2025-01", amount=Decimal("300.00"))
    pay = dict(payment_id="p1", member_id="m1", from_month="2025-01", to_month="2025-03", paid_on="2025-04-08")
    assert refusal(sec.pay, b, **pay, amount=Decimal("600.00")) == ("invalid", ["data.amount"])
    lines = sec.pay(b, **pay, amount=Decimal("900.00"))
    assert lines == [{"month": m, "amount": "300.00"} for m in ("2025-01", "2025-02", "2025-03")]
    assert refusal(sec.pay, b, **{**pay, "payment_id": "p2", "from_month": "2025-03", "to_month": "2025-04"},
                   amount=Decimal("600.00")) == ("conflict", ["data.from_month"])  # March paid
    assert refusal(sec.pay, b, **{**pay, "payment_id": "p2", "from_month": "2025-04", "to_month": "2025-05",
                                  "paid_on": "2025-06-08"}, amount=Decimal("600.00")) == ("not_allowed", ["data.member_id"])  # May is m2's
    assert refusal(sec.pay, b, **{**pay, "member_id": "m2", "payment_id": "p2", "from_month": "2025-05",
                                  "to_month": "2025-06", "paid_on": "2025-05-30"},
                   amount=Decimal("600.00")) == ("invalid", ["data.to_month"])  # June has not begun
    assert refusal(sec.pay, b, **{**pay, "payment_id": "p2", "from_month": "2024-12", "to_month": "2024-12"},
                   amount=Decimal("300.00")) == ("not_allowed", ["data.from_month"])  # no allowance set then
    assert refusal(sec.pay, b, **{**pay, "payment_id": "p2", "from_month": "2025-01", "to_month": "2026-01",
                                  "paid_on": "2026-02-01"}, amount=Decimal("0")) == ("invalid", ["data.to_month"])
    # a rate cannot change under months already paid
    assert refusal(sec.set_rate, b, from_month="2025-02", amount=Decimal("350.00")) == ("conflict", ["data.from_month"])
    assert [r["paid"] for r in sec.ledger(b, year=2025, as_of="2025-05-31")] == [True, True, True, False, False]


def test_an_assessment_of_a_year_the_member_was_secretary_and_a_second_replaces_it():
    b = branch()
    assert sec.assess(b, member_id="m1", year=2025, result="competent", on="2025-12-20", comment=None) is None
    assert sec.assess(b, member_id="m1", year=2025, result="excellent", on="2026-01-08", comment="表现突出") == (
        "competent")
    assert [(a["result"], a["current"]) for a in b.assessments] == [("competent", False), ("excellent", True)]
    assert sec.assess(b, member_id="m2", year=2025, result="competent", on="2026-01-08", comment=None) is None
    assert refusal(sec.assess, b, member_id="m2", year=2024, result="competent", on="2026-01-08", comment=None) == (
        "not_allowed", ["data.member_id"])
    assert refusal(sec.assess, b, member_id="m2", year=2027, result="competent", on="2026-01-08", comment=None) == (
        "invalid", ["data.year"])


def test_the_secretary_view_of_a_year():
    from services.members.domain.leadership_view import member_ids, secretary_on, secretary_view

    b = branch()
    sec.set_rate(b, from_month="2025-01", amount=Decimal("300.00"))
    sec.pay(b, payment_id="p1", member_id="m1", from_month="2025-01", to_month="2025-03", amount=Decimal("900.00"),
            paid_on="2025-04-08")
    sec.assess(b, member_id="m2", year=2025, result="excellent", on="2025-12-20", comment=None)
    assert member_ids(b) == {"m1", "m2"} and secretary_on(b, "2025-04-30") is None
    v = secretary_view(b, year=2025, day="2025-06-30", names={"m1": "王秀英", "m2": "李建国"},
                       trainings=[{"session_id": "t1", "held_on": "2025-03-18"}, {"session_id": "t0",
                                                                               "held_on": "2024-09-16"}])
    assert v["secretary"] == {"member_id": "m2", "name": "李建国", "since": "2025-05-15"}
    assert [t["session_id"] for t in v["trainings"]] == ["t1"]
    assert (v["allowance"]["due"], v["allowance"]["paid"], v["allowance"]["unpaid"]) == ("1800.00", "900.00", "900.00")
    assert [(r["month"], r["name"], r["paid"]) for r in v["allowance"]["months"]][3:5] == [
        ("2025-04", "王秀英", False), ("2025-05", "李建国", False)]
    assert v["assessments"][0]["result_label"] == "优秀"


def test_the_months_due_at_once_are_each_months_due():
    """`dues` (a report's months, over hundreds of branches) says what `due` says of each month."""
    spans = [("m1", "2025-01-10", "2025-04-20"), ("m2", "2025-05-15", "2025-05-15"), ("m3", "2025-05-15", None)]
    rates = [{"from_month": "2025-03", "amount": "300.00"}, {"from_month": "2025-01", "amount": "200.00"},
             {"from_month": "2025-03", "amount": "900.00"},  # a second rate of a month: the first listed holds
             {"from_month": "2025-08", "amount": "0"}, {"from_month": "2025-10", "amount": "250.50"}]
    for s, r in ((spans, rates), ([("m9", None, None)], rates), ([], rates), (spans, []),
                 ([("m9", None, "2025-06-01")], [{"from_month": "2024-12", "amount": "100"}])):
        for first, last in (("2024-11", "2026-02"), ("2025-05", "2025-05"), ("2025-12", "2026-01"), ("2025-06", "2025-05")):
            expected = [(m, *found) for m in allowance.months_between(first, last)
                        if (found := allowance.due(s, r, m))]
            assert allowance.dues(s, r, first, last) == expected
