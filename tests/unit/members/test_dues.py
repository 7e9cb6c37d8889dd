"""Dues rules: the bracket, the pension as of January, at most six months, under/exact/over, double payment."""
from decimal import Decimal

import pytest

from services.members.domain.dues import assess_payment, dues_for_year, months_between, pension_for_year
from shared.errors import Rejected

pytestmark = pytest.mark.unit

PENSIONS = [{"from": "2025-03-10", "amount": "4800.00"}, {"from": "2026-05-01", "amount": "6000.00"}]


@pytest.mark.parametrize("pension,dues", [("4800.00", "24.00"), ("5000.00", "25.00"), ("5000.01", "50.00"),
                                          ("4999.99", "25.00"), ("3333.30", "16.67"), ("0.00", "0.00")])
def test_bracket_rounded_half_up_to_the_cent(pension, dues):
    assert dues_for_year([{"from": "2026-01-01", "amount": pension}], 2026) == Decimal(dues)


def test_the_pension_of_january_fixes_the_year():
    assert pension_for_year(PENSIONS, 2026) == Decimal("4800.00")  # the May raise does not count in 2026
    assert pension_for_year(PENSIONS, 2027) == Decimal("6000.00")
    assert dues_for_year(PENSIONS, 2027) == Decimal("60.00")
    # registered mid-year: the first pension known that year
    assert pension_for_year(PENSIONS, 2025) == Decimal("4800.00")


def test_months_between_crosses_the_year():
    assert months_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]


def test_exact_under_over():
    a = assess_payment(PENSIONS, [], from_month="2026-01", to_month="2026-03", amount=Decimal("72.00"))
    assert (a.months, a.expected_amount, a.comparison, a.already_paid) == (
        ["2026-01", "2026-02", "2026-03"], Decimal("72.00"), "exact", [])
    assert assess_payment(PENSIONS, [], from_month="2026-01", to_month="2026-03",
                          amount=Decimal("70.00")).comparison == "under"
    assert assess_payment(PENSIONS, [], from_month="2026-01", to_month="2026-03",
                          amount=Decimal("80.00")).comparison == "over"


def test_a_payment_across_years_uses_each_years_dues():
    a = assess_payment(PENSIONS, [], from_month="2026-12", to_month="2027-01", amount=Decimal("84.00"))
    assert (a.expected_amount, a.comparison) == (Decimal("84.00"), "exact")  # 24 + 60


def test_months_already_paid_are_reported_as_double_payment():
    a = assess_payment(PENSIONS, ["2026-01", "2026-02"], from_month="2026-02", to_month="2026-03",
                       amount=Decimal("48.00"))
    assert a.already_paid == ["2026-02"]
    assert a.expected_amount == Decimal("24.00") and a.comparison == "over"


@pytest.mark.parametrize("from_month,to_month,amount,field", [
    ("2026-01", "2026-07", "168.00", "data.to_month"),  # seven months
    ("2026-03", "2026-01", "24.00", "data.to_month"),  # backwards
    ("2026-01", "2026-01", "0.00", "data.amount"),
    ("2026-01", "2026-01", "-1.00", "data.amount"),
])
def test_invalid_payments(from_month, to_month, amount, field):
    with pytest.raises(Rejected) as exc:
        assess_payment(PENSIONS, [], from_month=from_month, to_month=to_month, amount=Decimal(amount))
    assert exc.value.reason == "invalid" and exc.value.errors[0]["field"] == field


def test_six_months_is_allowed():
    assert len(assess_payment(PENSIONS, [], from_month="2026-01", to_month="2026-06",
                              amount=Decimal("144.00")).months) == 6
