"""Alerts with worked examples: runs of months, exemptions, visits, transfers, branch rules."""
import pytest

from services.reporting.domain.alerts import Alert, BranchState, branch_alerts, last_complete_quarter, member_alerts
from services.reporting.domain.facts import MemberFacts

pytestmark = pytest.mark.unit


def member(**kw) -> MemberFacts:
    return MemberFacts("m", name="李建国", branch_id="b", registered_on="2026-01-05", visits={"v": "2026-06-01"}, **kw)


def kinds(alerts):
    return {a.kind: a for a in alerts}


def test_dues_arrears_runs_from_the_month_of_as_of_back_to_registration():
    m = member(payments={"p": {"months": ["2026-01", "2026-02"], "cents": 4800, "paid_on": "2026-01-10"}})
    # as of 15 May: May, Apr, Mar unpaid → 3 months, a warning since March
    a = kinds(member_alerts(m, "2026-05-15"))["dues_arrears"]
    assert (a.level, a.months, a.since, a.alert_id) == ("warning", 3, "2026-03", "dues_arrears:m:2026-03")
    assert "dues_arrears" not in kinds(member_alerts(m, "2026-04-30"))  # 2 months: nothing yet
    a = kinds(member_alerts(m, "2026-08-01"))["dues_arrears"]
    assert (a.level, a.months) == ("alert", 6)
    # never paid: the run stops at the registration month (Jan–Mar = 3)
    assert kinds(member_alerts(member(), "2026-03-31"))["dues_arrears"].months == 3


def test_a_payment_made_after_as_of_does_not_count_yet():
    m = member(payments={"p": {"months": ["2026-03", "2026-04", "2026-05"], "cents": 7200, "paid_on": "2026-06-01"}})
    assert kinds(member_alerts(m, "2026-05-31"))["dues_arrears"].months == 5
    assert "dues_arrears" not in kinds(member_alerts(m, "2026-06-01"))  # June unpaid: a run of 1


def test_no_participation_skips_exempt_months():
    m = member(attendance={"a": {"held_on": "2026-01-20", "kind": "study", "status": "present"}},
               exempt=[{"from": "2026-03-10", "until": "2026-04-30"}])
    # as of June: Jun, May counted; Apr, Mar skipped (exempt); Feb counted; Jan present → 3
    a = kinds(member_alerts(m, "2026-06-10"))["no_participation"]
    assert (a.level, a.months, a.since) == ("warning", 3, "2026-02")


def test_attending_in_an_exempt_month_ends_the_run():
    # exempt March–April (bedridden), but studied at home in April: the run is May–August only
    m = member(attendance={"a": {"held_on": "2026-04-15", "kind": "study", "status": "present",
                                 "mode": "home_delivery"}},
               exempt=[{"from": "2026-03-01", "until": "2026-04-30"}])
    a = kinds(member_alerts(m, "2026-08-10"))["no_participation"]
    assert (a.level, a.months, a.since) == ("warning", 4, "2026-05")
    # without that attendance the exempt months are skipped and January–February count: 6 months
    a = kinds(member_alerts(member(exempt=m.exempt), "2026-08-10"))["no_participation"]
    assert (a.level, a.months, a.since) == ("alert", 6, "2026-01")


def test_not_visited_after_the_limit_and_sooner_for_the_frail():
    assert "not_visited" not in kinds(member_alerts(member(), "2026-07-31"))  # 60 days after 1 June
    a = kinds(member_alerts(member(), "2026-08-01"))["not_visited"]
    assert (a.since, a.details["last_visit"]) == ("2026-08-01", "2026-06-01")
    frail = member(lives_alone=True)
    assert kinds(member_alerts(frail, "2026-07-02"))["not_visited"].since == "2026-07-02"


def test_transfer_suggested_after_six_months_away():
    m = member(away=[{"from": "2026-01-10", "until": None, "location": "海南三亚"}])
    assert "transfer_suggested" not in kinds(member_alerts(m, "2026-07-10"))
    a = kinds(member_alerts(m, "2026-07-11"))["transfer_suggested"]
    assert (a.level, a.since, a.details["location"]) == ("info", "2026-01-10", "海南三亚")
    back = member(away=m.away, returns=["2026-05-01"])
    assert "transfer_suggested" not in kinds(member_alerts(back, "2026-08-01"))


def test_no_alerts_for_members_who_left_or_died():
    assert member_alerts(member(died_on="2026-02-01"), "2026-09-01") == []
    gone = member(transfers=[{"on": "2026-02-01", "from_branch_id": "b", "to_branch_id": None}])
    assert member_alerts(gone, "2026-09-01") == []


def test_branch_rules():
    b = BranchState("b", "2025-12-01", has_committee=True, registered=2, small_since="2026-02-15",
                    held_last_quarter={"branch_assembly": 1, "committee_meeting": 3, "party_lecture": 1,
                                       "themed_party_day": 2})
    alerts = kinds(branch_alerts(b, "2026-04-10"))
    assert alerts["branch_too_small"].since == "2026-02-15"
    assert alerts["no_secretary"].level == "warning"
    missed = alerts["missed_meetings"]
    assert (missed.since, missed.details["kinds"]) == ("2026-Q1", ["themed_party_day"])
    ok = BranchState("b", "2025-12-01", secretary_id="m1", registered=3,
                     held_last_quarter={"branch_assembly": 1, "party_lecture": 1, "themed_party_day": 3})
    assert branch_alerts(ok, "2026-04-10") == []


def test_last_complete_quarter():
    assert last_complete_quarter("2026-03-31") == "2026-Q1"
    assert last_complete_quarter("2026-03-30") == "2025-Q4"
    assert last_complete_quarter("2026-08-01") == "2026-Q2"


class _Unread:
    """A fact a query does not read: touching it in any way fails the test."""

    def __getattr__(self, name):
        raise AssertionError(f"member_alerts read a fact outside MEMBER_ALERT_FACTS ({name})")

    def __iter__(self):
        raise AssertionError("member_alerts read a fact outside MEMBER_ALERT_FACTS")

    def __bool__(self):
        raise AssertionError("member_alerts read a fact outside MEMBER_ALERT_FACTS")


def test_member_alerts_weigh_only_the_facts_a_query_reads():
    """The alert list reads `MEMBER_ALERT_FACTS` alone (queries.alerts: not a year of notices and
    hours); a fact member_alerts weighs beyond them would be missing there and the alert wrong."""
    from dataclasses import fields

    from services.reporting.domain.alerts import MEMBER_ALERT_FACTS

    rich = member(lives_alone=True, health="poor", died_on="2027-03-01",
                  transfers=[{"on": "2026-09-01", "from_branch_id": "b", "to_branch_id": "b2"}],
                  away=[{"from": "2026-02-01", "until": None, "location": "三亚"}], returns=[],
                  exempt=[{"from": "2026-03-01", "until": "2026-03-31"}],
                  attendance={"a": {"held_on": "2026-01-20", "kind": "study", "status": "present"}},
                  payments={"p": {"months": ["2026-01"], "cents": 2400, "paid_on": "2026-01-10"}},
                  dues_paid_through="2025-12", specialist_id="s", notices={"n": {"addressed_on": "2026-01-01"}},
                  hours={"h": {"on": "2026-01-02", "hundredths": 100}}, evaluations={"2026": "excellent"})
    narrowed = member(**{k: getattr(rich, k) for k in MEMBER_ALERT_FACTS if k not in ("branch_id", "registered_on",
                                                                                     "visits")})
    for f in fields(MemberFacts):
        if f.name not in (*MEMBER_ALERT_FACTS, "member_id", "name"):
            setattr(narrowed, f.name, _Unread())
    for day in ("2026-01-31", "2026-05-15", "2026-08-20", "2026-10-01", "2027-06-01"):
        assert member_alerts(narrowed, day, records_start="2026-01-01") == member_alerts(rich, day, records_start="2026-01-01")


def test_an_alert_as_a_dict_has_every_field_and_copies_of_its_details():
    from dataclasses import asdict

    x = Alert("missed_meetings", "warning", "b-1", "b-1", "2026-Q1",
              details={"kinds": ["branch_assembly"], "held": {"branch_assembly": 0}})
    d = x.to_dict()
    assert d == {"alert_id": "missed_meetings:b-1:2026-Q1", **asdict(x)}
    d["details"]["kinds"].append("party_lecture")
    d["details"]["held"]["branch_assembly"] = 1
    assert x.details == {"kinds": ["branch_assembly"], "held": {"branch_assembly": 0}}
