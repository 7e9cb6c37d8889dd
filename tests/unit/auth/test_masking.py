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
    assert found == set(CATEGORIES)
    assert RECORD["profile"]["phone"] == "13812340000"  # a copy: the record itself is untouched


def test_a_secretary_sees_the_phones_of_their_own_branch_only():
    secretary = caller("secretary", org_ids=("b1",))
    assert shown_to(secretary, member_id="m1", path=BRANCH_PATH, specialist_id=None) == {"phone"}
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
