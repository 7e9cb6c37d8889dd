"""The member ledger's rules: profile checks, channel, status from dates, away, exemptions,
transfers, death, evaluations, awards, the audit diff."""
import pytest

from services.members.domain import member as rules
from services.members.domain.audit import diff
from services.members.domain.awards import grant, subject_kind
from services.members.domain.organization import Organization
from shared.errors import Rejected

pytestmark = pytest.mark.unit

BRANCH = Organization(org_id="b1", name="天鹅湖", kind="branch", parent_id="c", ancestors=["d", "s", "c"])
OTHER = Organization(org_id="b2", name="怡园", kind="branch", parent_id="c", ancestors=["d", "s", "c"])


def profile(**over):
    p = {"name": "王秀英", "gender": "female", "birth_date": "1948-03-02", "joined_party_on": "1972-07-01",
         "phone": "13912345678", "preferred_channel": "wechat", "wechat_openid": "o-1", "lives_alone": False,
         "health": "fair", "monthly_pension": "4800.00", "retired_on": "2008-03-31"}
    p.update(over)
    return p


def new(**over) -> rules.Member:
    return rules.register(None, BRANCH, member_id="m1", profile=profile(**over), registered_on="2026-01-05")


def refused(fn):
    with pytest.raises(Rejected) as exc:
        fn()
    return exc.value.reason, [e["field"] for e in exc.value.errors]


# ---- registration and profile ---------------------------------------------------------------

def test_register_keeps_path_pension_and_history():
    m = new()
    assert (m.org_path, m.pensions, m.status) == (["d", "s", "c", "b1"], [{"from": "2026-01-05", "amount": "4800.00"}],
                                                  "resident")
    assert m.history == [{"on": "2026-01-05", "change": "registered", "status": "resident", "branch_id": "b1"}]
    assert str(m.dues_for(2026)) == "24.00"


def test_register_twice_is_a_duplicate():
    assert refused(lambda: rules.register(new(), BRANCH, member_id="m1", profile=profile(),
                                          registered_on="2026-01-05")) == ("duplicate", ["data.member_id"])


@pytest.mark.parametrize("over,field", [
    ({"joined_party_on": "1940-01-01"}, "data.joined_party_on"),  # before birth
    ({"joined_party_on": "1960-01-01"}, "data.joined_party_on"),  # aged 11
    ({"retired_on": "1940-01-01"}, "data.retired_on"),
    ({"phone": "12345"}, "data.phone"),
    ({"email": "nobody"}, "data.email"),
    ({"monthly_pension": "-1.00"}, "data.monthly_pension"),
    ({"birth_date": "2026-02-01", "joined_party_on": None, "retired_on": None}, "data.registered_on"),
])
def test_profile_mistakes_are_invalid(over, field):
    reason, fields = refused(lambda: new(**over))
    assert reason == "invalid" and field in fields


@pytest.mark.parametrize("phone", ["13912345678", "+86 139 1234 5678", "021-62345678", "05718888888"])
def test_plausible_phones(phone):
    assert rules.plausible_phone(phone)


def test_channel_falls_back_to_door_without_a_phone_and_to_sms_when_unreachable():
    assert new(phone=None).profile["preferred_channel"] == "door"
    assert new().profile["preferred_channel"] == "wechat"
    assert new(wechat_openid=None).profile["preferred_channel"] == "sms"


def test_update_profile_returns_before_and_keeps_pension_history():
    m = new()
    before = rules.update_profile(m, {"phone": None, "monthly_pension": "6000.00"}, on="2026-05-01")
    assert before == {"phone": "13912345678", "monthly_pension": "4800.00"}
    assert m.profile["preferred_channel"] == "door"
    assert [p["amount"] for p in m.pensions] == ["4800.00", "6000.00"]
    assert str(m.dues_for(2026)) == "24.00" and str(m.dues_for(2027)) == "60.00"


def test_update_profile_refusals():
    m = new()
    assert refused(lambda: rules.update_profile(m, {"name": None}, on="2026-02-01")) == (
        "invalid", ["data.changes.name"])
    assert refused(lambda: rules.update_profile(m, {"phone": "999"}, on="2026-02-01")) == (
        "invalid", ["data.changes.phone"])


# ---- status, away, exemptions ---------------------------------------------------------------

def test_away_periods_never_overlap_and_returning_ends_the_open_one():
    m = new()
    rules.mark_away(m, start="2026-11-01", until=None, location="三亚", reason="seasonal")
    assert m.status_on("2026-10-31") == "resident" and m.status_on("2027-02-01") == "away"
    assert refused(lambda: rules.mark_away(m, start="2027-01-01", until="2027-01-10", location="北京",
                                           reason="family")) == ("conflict", ["data.from"])
    period = rules.mark_returned(m, on="2027-03-15")
    assert period["returned_on"] == "2027-03-15"
    assert m.status_on("2027-03-14") == "away" and m.status_on("2027-03-15") == "resident"
    rules.mark_away(m, start="2027-03-15", until="2027-03-20", location="北京", reason="family")  # after the return
    assert m.status_on("2027-03-20") == "away" and m.status_on("2027-03-21") == "resident"
    assert refused(lambda: rules.mark_away(m, start="2027-03-18", until=None, location="上海",
                                           reason="other")) == ("conflict", ["data.from"])


def test_return_without_being_away_is_a_conflict():
    m = new()
    assert refused(lambda: rules.mark_returned(m, on="2026-03-01")) == ("conflict", ["data.on"])


def test_away_dates_must_make_sense():
    m = new()
    assert refused(lambda: rules.mark_away(m, start="2026-05-01", until="2026-04-01", location="三亚",
                                           reason="seasonal")) == ("invalid", ["data.until"])
    assert refused(lambda: rules.mark_away(m, start="2025-05-01", until=None, location="三亚",
                                           reason="seasonal")) == ("invalid", ["data.from"])


def test_exemptions_never_overlap():
    m = new()
    rules.exempt(m, start="2026-03-01", until="2026-12-31", reason="年老体弱")
    assert m.status_on("2026-06-01") == "exempt" and m.status_on("2027-01-01") == "resident"
    assert refused(lambda: rules.exempt(m, start="2026-12-31", until=None, reason="卧床")) == ("conflict", ["data.from"])
    rules.exempt(m, start="2027-01-01", until=None, reason="卧床")
    assert m.status_on("2030-01-01") == "exempt"


# ---- transfers and death --------------------------------------------------------------------

def test_transfer_within_the_district_moves_the_member():
    m = new()
    assert rules.transfer(m, on="2026-04-01", to_branch=OTHER, destination=None) == "b1"
    assert (m.branch_id, m.org_path, m.status_on("2026-05-01")) == ("b2", ["d", "s", "c", "b2"], "resident")
    assert refused(lambda: rules.transfer(m, on="2026-05-01", to_branch=OTHER, destination=None)) == (
        "invalid", ["data.to_branch_id"])


def test_transfer_out_keeps_the_record_marked_transferred():
    m = new()
    assert refused(lambda: rules.transfer(m, on="2026-04-01", to_branch=None, destination=None)) == (
        "invalid", ["data.destination"])
    rules.transfer(m, on="2026-04-01", to_branch=None, destination="海南省三亚市")
    assert (m.branch_id, m.transferred_on, m.destination) == ("b1", "2026-04-01", "海南省三亚市")
    assert m.status_on("2026-03-31") == "resident" and m.status_on("2026-04-01") == "transferred"
    assert refused(lambda: rules.mark_away(m, start="2026-05-01", until=None, location="x", reason="other")) == (
        "not_allowed", ["data.member_id"])


def test_a_dead_member_takes_no_more_commands():
    m = new()
    rules.record_death(m, on="2026-08-01")
    assert m.status_on("2026-08-01") == "deceased" and m.history[-1]["change"] == "died"
    for attempt in (lambda: rules.record_death(m, on="2026-08-02"),
                    lambda: rules.update_profile(m, {"health": "poor"}, on="2026-08-02"),
                    lambda: rules.mark_away(m, start="2026-09-01", until=None, location="x", reason="other"),
                    lambda: rules.mark_returned(m, on="2026-09-01"),
                    lambda: rules.exempt(m, start="2026-09-01", until=None, reason="x"),
                    lambda: rules.transfer(m, on="2026-09-01", to_branch=OTHER, destination=None),
                    lambda: rules.assign_specialist(m, specialist_id="s", name="李", phone=None),
                    lambda: rules.record_evaluation(m, year=2026, result="qualified", on="2026-12-01"),
                    lambda: rules.record_payment(m, ["2026-08"])):
        assert refused(attempt) == ("not_allowed", ["data.member_id"])


def test_death_before_registration_is_invalid():
    assert refused(lambda: rules.record_death(new(), on="2025-12-31")) == ("invalid", ["data.on"])


# ---- specialists, evaluations, awards --------------------------------------------------------

def test_specialist_assignment_returns_the_previous_one():
    m = new()
    assert rules.assign_specialist(m, specialist_id="s1", name="李专员", phone="13800000000") is None
    assert rules.assign_specialist(m, specialist_id="s2", name="赵专员", phone=None) == "s1"
    assert m.specialist == {"specialist_id": "s2", "name": "赵专员", "phone": None}
    assert refused(lambda: rules.assign_specialist(m, specialist_id="s3", name="x", phone="1")) == (
        "invalid", ["data.specialist_phone"])


def test_one_evaluation_per_year_the_second_replaces_and_history_is_kept():
    m = new()
    assert rules.record_evaluation(m, year=2026, result="qualified", on="2026-12-01") is None
    assert rules.record_evaluation(m, year=2026, result="excellent", on="2026-12-20") == "qualified"
    assert [(e["result"], e["current"]) for e in m.evaluations] == [("qualified", False), ("excellent", True)]
    assert refused(lambda: rules.record_evaluation(m, year=1960, result="qualified", on="2026-12-01")) == (
        "invalid", ["data.year"])


def test_awards_by_category_and_once_a_year():
    assert subject_kind("five_good_branch") == "branch" and subject_kind("best_volunteer") == "member"
    awards: list = []
    grant(awards, award_id="a1", year=2026, category="best_volunteer", subject_id="m1")
    grant(awards, award_id="a2", year=2027, category="best_volunteer", subject_id="m1")
    with pytest.raises(Rejected) as exc:
        grant(awards, award_id="a3", year=2026, category="best_volunteer", subject_id="m1")
    assert exc.value.reason == "duplicate"


def test_audit_diff_keeps_only_what_changed():
    before = {"status": "resident", "profile": {"phone": "1", "name": "王"}, "away": [{"from": "a"}], "x": 1}
    after = {"status": "away", "profile": {"phone": "2", "name": "王"}, "away": [{"from": "a"}, {"from": "b"}], "x": 1}
    assert diff(before, after) == ({"status": "resident", "profile": {"phone": "1"}, "away": []},
                                   {"status": "away", "profile": {"phone": "2"}, "away": [{"from": "b"}]})
    assert diff(None, {"a": 1}) == ({"a": None}, {"a": 1})


def test_away_more_than_six_months_at_one_place_suggests_a_transfer():
    m = new()
    rules.mark_away(m, start="2026-08-31", until=None, location="三亚", reason="seasonal")
    assert not m.transfer_suggested_on("2027-02-28")  # six months to the day (end of February)
    assert m.transfer_suggested_on("2027-03-01")
    rules.mark_returned(m, on="2027-03-10")
    assert not m.transfer_suggested_on("2027-03-10")
