"""A report's sums are not personal data, but for a sum that is one person's money (issue 12)."""
import pytest

from services.reporting.domain.disclosure import FEWEST, masked_report, masked_series_row
from shared.auth.masking import CATEGORIES

pytestmark = pytest.mark.unit

OFFICIAL = frozenset(CATEGORIES)  # a district official who asked for nothing
REVEALED = frozenset(CATEGORIES) - {"pension", "allowance"}


def report(registered: int, branches: int) -> dict:
    return {"org_id": "b1", "kind": "branch" if branches == 1 else "community", "members": {"registered": registered},
            "dues": {"member_months_due": 3 * registered, "amount_paid": "72.00"},
            "allowance": {"months_due": 3, "amount_due": "900.00", "amount_paid": "600.00", "amount_unpaid": "300.00",
                          "branches": branches, **({"months": [{"month": "2026-01", "member_id": "m1", "due": "300.00",
                                                                "paid": True}]} if branches == 1 else {})}}


def test_one_branch_s_allowance_is_its_secretary_s_pay():
    a = masked_report(report(25, 1), OFFICIAL)["allowance"]
    assert (a["amount_due"], a["amount_paid"], a["amount_unpaid"], a["months"][0]["due"]) == ("****",) * 4
    assert a["months_due"] == 3 and a["months"][0]["paid"] is True
    assert masked_report(report(25, 1), REVEALED)["allowance"]["amount_due"] == "900.00"


def test_several_branches_allowance_and_dues_are_totals_that_stay():
    out = masked_report(report(25, 4), OFFICIAL)
    assert out["allowance"]["amount_due"] == "900.00" and out["dues"]["amount_paid"] == "72.00"


@pytest.mark.parametrize("registered, masked", [(0, True), (1, True), (FEWEST - 1, True), (FEWEST, False)])
def test_the_dues_of_a_branch_too_small_are_its_members_dues(registered, masked):
    out = masked_report(report(registered, 1), OFFICIAL)
    assert (out["dues"]["amount_paid"] == "****") == masked
    assert out["dues"]["member_months_due"] == 3 * registered  # counts tell no money
    assert masked_report(report(registered, 1), REVEALED)["dues"]["amount_paid"] == "72.00"


def test_the_series_masks_month_by_month():
    row = {"branch_id": "b1", "months": [{"month": "2026-01", "registered": 2, "amount_paid": "24.00"},
                                         {"month": "2026-02", "registered": 3, "amount_paid": "48.00"}],
           "report": report(3, 1)}
    out = masked_series_row(row, OFFICIAL)
    assert [m["amount_paid"] for m in out["months"]] == ["****", "48.00"]
    assert out["report"]["allowance"]["amount_due"] == "****" and out["report"]["dues"]["amount_paid"] == "72.00"
    assert row["months"][0]["amount_paid"] == "24.00"  # a copy
