"""Masking rules: one pure module decides what each role sees of a member's personal data."""
import pytest

from shared.auth.claims import Caller
from shared.auth.masking import (
    CATEGORIES, REVEALABLE, Viewer, mask, mask_address, mask_email, mask_id_number, mask_phone, mask_wechat,
    reveal_refusal, shown_to,
)

BRANCH_PATH = ["d", "s1", "c1", "b1"]
RECORD = {
    "member_id": "m1", "name": "王秀英", "phone": "13812340000", "lives_alone": True,
    "profile": {"phone": "13812340000", "wechat_openid": "o6_bmjrPTlm6_2sgVt7hMZOPfL2M", "email": "wxy@example.cn",
                "monthly_pension": "4800.00", "health": "poor", "health_label": "较差", "service_needs": ["送医"],
                "id_number": "110101194803021234", "address": "北京市东城区东华门街道1号"},
    "pension_history": [{"from": "2020-01-01", "amount": "4800.00"}],
    "specialist": {"specialist_id": "s9", "name": "李专员", "phone": "13900000000"},
}


def caller(role, **scope) -> Caller:
    return Caller(subject="t", role=role, **scope)


def test_each_kind_is_masked_recognisably():
    assert mask_phone("13812340000") == "138****0000"
    assert mask_phone("057188881234") == "057****1234"
    assert mask_phone("12345") == "****"
    assert mask_id_number("110101194803021234") == "110***********1234"
    assert mask_wechat("o6_bmjrPTlm6_2sgVt7hMZOPfL2M") == "o6****2M"
    assert mask_email("wxy@example.cn") == "w***@example.cn"
    assert mask_address("北京市东城区东华门街道1号") == "北京市东城区****"


def test_an_official_sees_nothing_personal_in_clear_nested_or_not():
    masked, found = mask(RECORD, Viewer(caller("district")).hidden(member_id="m1", path=BRANCH_PATH,
                                                                   specialist_id="s9"))
    p = masked["profile"]
    assert masked["phone"] == p["phone"] == "138****0000"
    assert (p["wechat_openid"], p["email"], p["id_number"]) == ("o6****2M", "w***@example.cn", "110***********1234")
    assert p["address"] == "北京市东城区****" and p["monthly_pension"] == "****"
    assert p["health"] is p["health_label"] is p["service_needs"] is masked["pension_history"] is None
    assert masked["specialist"]["phone"] == "13900000000"  # the specialist's work phone is not the member's data
    assert masked["name"] == "王秀英" and masked["lives_alone"] is True
    assert found == set(CATEGORIES) - {"allowance"}  # a member's record holds no secretary's allowance
    assert RECORD["profile"]["phone"] == "13812340000"  # a copy: the record itself is untouched


def test_a_secretary_sees_the_phones_and_the_allowance_of_their_own_branch_only():
    secretary = caller("secretary", org_ids=("b1",))
    assert shown_to(secretary, member_id="m1", path=BRANCH_PATH, specialist_id=None) == {"phone", "allowance"}
    assert shown_to(secretary, member_id="m2", path=["d", "s1", "c1", "b2"], specialist_id=None) == set()
    out = Viewer(secretary).record(RECORD, member_id="m1", path=BRANCH_PATH, specialist_id="s9")
    assert out["profile"]["phone"] == "13812340000" and out["profile"]["health"] is None


def test_a_specialist_sees_health_needs_and_phone_of_their_own_members():
    specialist = caller("specialist", specialist_id="s9")
    out = Viewer(specialist).record(RECORD, member_id="m1", path=BRANCH_PATH, specialist_id="s9")
    assert out["profile"]["health"] == "poor" and out["profile"]["service_needs"] == ["送医"]
    assert out["profile"]["phone"] == "13812340000" and out["profile"]["monthly_pension"] == "****"
    other = Viewer(specialist).record(RECORD, member_id="m1", path=BRANCH_PATH, specialist_id="s8")
    assert other["profile"]["health"] is None and other["profile"]["phone"] == "138****0000"


def test_a_member_sees_all_of_their_own_record_and_nobody_elses():
    me = caller("member", member_id="m1")
    assert shown_to(me, member_id="m1", path=BRANCH_PATH, specialist_id=None) == set(CATEGORIES)
    assert shown_to(me, member_id="m2", path=BRANCH_PATH, specialist_id=None) == set()


def test_revealed_categories_show_in_clear_and_only_those():
    out = Viewer(caller("district"), frozenset({"phone"})).record(RECORD, member_id="m1", path=BRANCH_PATH,
                                                                  specialist_id=None)
    assert out["profile"]["phone"] == "13812340000" and out["profile"]["health"] is None


@pytest.mark.parametrize("role, category, allowed", [
    ("district", "health", True), ("district", "pension", True), ("subdistrict", "phone", True),
    ("subdistrict", "health", False), ("community", "id_number", False), ("secretary", "wechat", True),
    ("secretary", "pension", False), ("specialist", "phone", False), ("member", "phone", False),
    ("subdistrict", "allowance", True), ("community", "allowance", True), ("subdistrict", "pension", False),
    ("district", "allowance", True), ("secretary", "allowance", False), ("specialist", "allowance", False),
    ("operator", "phone", False),
])
def test_who_may_unmask_what(role, category, allowed):
    refusal = reveal_refusal(role, {category})
    assert (refusal is None) == allowed
    assert (category in REVEALABLE[role]) == allowed
    if not allowed:
        assert refusal.startswith("无权查看完整的")


def test_an_operator_sees_nothing():
    assert shown_to(caller("operator"), member_id="m1", path=BRANCH_PATH, specialist_id="s9") == set()


def test_a_service_requests_description_is_masked_as_health_is():
    # issue 13: a request's words often tell of an illness (老伴住院); in lists, ledgers and alerts alike
    ledger = {"member_id": "m1", "service_requests": [{"request_id": "r1", "service": "other", "kind": "difficulty",
                                                       "description": "老伴住院，生活无人照料", "status": "open"}]}
    alert = {"member_id": "m1", "kind": "difficulty", "description": "老伴住院，生活无人照料", "due_on": "2025-03-12"}
    for who in (Viewer(caller("district")), Viewer(caller("secretary", org_ids=("b1",))),
                Viewer(caller("specialist", specialist_id="s8"))):
        out = who.record(ledger, member_id="m1", path=BRANCH_PATH, specialist_id="s9")
        assert out["service_requests"][0]["description"] is None
        assert out["service_requests"][0]["status"] == "open"
        assert who.record(alert, member_id="m1", path=BRANCH_PATH, specialist_id=None)["description"] is None
    for who in (Viewer(caller("specialist", specialist_id="s9")), Viewer(caller("member", member_id="m1")),
                Viewer(caller("district"), frozenset({"health"}))):
        assert who.record(ledger, member_id="m1", path=BRANCH_PATH,
                          specialist_id="s9")["service_requests"][0]["description"] == "老伴住院，生活无人照料"


# ---- dues tell the pension; the allowance is the secretary's pay (issue 12) ----------------------

LEDGER = {
    "member_id": "m1", "monthly_dues": "24.00", "profile": {"monthly_pension": "4800.00"},
    "pensions": [{"from": "2020-01-01", "amount": "4800.00"}],  # the audit trail's before/after
    "dues": {"year": 2026, "monthly_dues": "24.00",
             "months": [{"month": "2026-01", "due": "24.00", "paid": True}, {"month": "2026-02", "due": "24.00",
                                                                              "paid": False}],
             "paid_months": ["2026-01"], "unpaid_months": ["2026-02"],
             "payments": [{"payment_id": "p1", "months": ["2026-01"], "amount": 24, "expected_amount": "24.00",
                           "comparison": "exact", "paid_on": "2026-01-15"}]},
}


def test_dues_are_masked_wherever_the_pension_is_and_paid_months_stay():
    for who in (Viewer(caller("district")), Viewer(caller("community", org_ids=("c1",))),
                Viewer(caller("secretary", org_ids=("b1",))), Viewer(caller("specialist", specialist_id="s9"))):
        out = who.record(LEDGER, member_id="m1", path=BRANCH_PATH, specialist_id="s9")
        d = out["dues"]
        assert out["monthly_dues"] == d["monthly_dues"] == out["profile"]["monthly_pension"] == "****"
        assert [m["due"] for m in d["months"]] == ["****", "****"]
        assert [m["paid"] for m in d["months"]] == [True, False]  # whether a month is paid is what a secretary chases
        assert d["payments"][0]["amount"] == d["payments"][0]["expected_amount"] == "****"  # a number masked alike
        assert d["payments"][0]["months"] == ["2026-01"] and d["unpaid_months"] == ["2026-02"]
        assert out["pensions"] is None


def test_revealing_the_pension_reveals_the_dues_and_the_member_sees_their_own():
    for who in (Viewer(caller("district"), frozenset({"pension"})), Viewer(caller("member", member_id="m1"))):
        out = who.record(LEDGER, member_id="m1", path=BRANCH_PATH, specialist_id=None)
        assert (out["monthly_dues"], out["dues"]["months"][0]["due"], out["dues"]["payments"][0]["amount"]) == (
            "24.00", "24.00", 24)


ALLOWANCE = {"org_id": "b1", "name": "一支部", "trainings": [{"session_id": "t1"}],
             "allowance": {"rates": [{"from_month": "2026-01", "amount": "300.00"}],
                           "months": [{"month": "2026-01", "member_id": "m1", "name": "王秀英", "due": "300.00",
                                       "paid": True}],
                           "due": "300.00", "paid": "300.00", "unpaid": "0.00",
                           "payments": [{"payment_id": "a1", "member_id": "m1", "amount": "300.00",
                                         "months": [{"month": "2026-01", "amount": "300.00"}], "paid_on": "2026-02-01"}]}}


def test_the_secretary_s_allowance_is_masked_for_officials_who_do_not_ask():
    hidden = Viewer(caller("community", org_ids=("c1",))).hidden(member_id=None, path=BRANCH_PATH, specialist_id=None)
    out, found = mask(ALLOWANCE, hidden)
    a = out["allowance"]
    assert found == {"allowance"}
    assert a["rates"][0]["amount"] == a["months"][0]["due"] == a["payments"][0]["amount"] == "****"
    assert a["payments"][0]["months"][0]["amount"] == "****" and (a["due"], a["paid"], a["unpaid"]) == ("****",) * 3
    assert a["months"][0]["paid"] is True and a["months"][0]["name"] == "王秀英"  # who and when stay


def test_the_allowance_is_shown_to_its_branch_s_secretary_and_to_an_official_who_asks():
    for who in (Viewer(caller("secretary", org_ids=("b1",))), Viewer(caller("community", org_ids=("c1",)),
                                                                       frozenset({"allowance"}))):
        a = who.record(ALLOWANCE, member_id=None, path=BRANCH_PATH, specialist_id=None)["allowance"]
        assert (a["rates"][0]["amount"], a["due"], a["payments"][0]["amount"]) == ("300.00", "300.00", "300.00")
    other = Viewer(caller("secretary", org_ids=("b2",))).record(ALLOWANCE, member_id=None, path=BRANCH_PATH,
                                                                  specialist_id=None)
    assert other["allowance"]["due"] == "****"


def test_an_organisation_s_audit_trail_masks_its_allowance_fields_only():
    trail = {"items": [{"before": {"allowance_rates": []}, "after": {
        "allowance_rates": [{"from_month": "2026-01", "amount": "300.00"}],
        "allowance_payments": [{"payment_id": "a1", "amount": "300.00", "months": [{"month": "2026-01",
                                                                                     "amount": "300.00"}]}]}}]}
    out = Viewer(caller("district")).record(trail, member_id=None, path=BRANCH_PATH, specialist_id=None)
    after = out["items"][0]["after"]
    assert after["allowance_rates"][0] == {"from_month": "2026-01", "amount": "****"}
    assert after["allowance_payments"][0]["amount"] == after["allowance_payments"][0]["months"][0]["amount"] == "****"


def test_amounts_with_plain_names_elsewhere_stay():
    funds = {"funds": {"balance": "1200.00", "entries": [{"amount": "300.00", "due": "2026-03-01"}]}}
    assert Viewer(caller("district")).record(funds, member_id=None, path=BRANCH_PATH, specialist_id=None) == funds
