"""The simulator against the whole platform: the reports show every figure the simulator intended —
each org's report for January, July and the year (notices included), volunteer hours by team,
and the alerts open at the year's end."""
import json
from decimal import Decimal, InvalidOperation

import pytest

from chaos.compare import lookup_path
from simulator.publisher import Target, publish
from simulator.sources import Generated
from tests.support import auth
from tests.support.messages import eventually
from tests.e2e.simulator.conftest import YEAR
from tests.support.services import ARTIFACTS

pytestmark = pytest.mark.e2e

SEED, MEMBERS = 20250, 40
_REGISTERED = {"RegisterMember", "RecordMemberDeath", "TransferMember"}
# The commands each report figure is made of: a figure is compared once its services handle them all.
DEPENDS = {
    "members.registered": _REGISTERED,
    "members.away": _REGISTERED | {"MarkMemberAway", "MarkMemberReturned"},
    "members.resident": _REGISTERED | {"MarkMemberAway", "MarkMemberReturned"},
    "members.exempt": _REGISTERED | {"ExemptMember"},
    "members.deceased": {"RecordMemberDeath"},
    "participation.active": _REGISTERED | {"ScheduleActivity", "RecordActivityHeld"},
    "organisational_life.*.required": {"EstablishOrganization"},
    "organisational_life.*.held": {"ScheduleActivity", "RecordActivityHeld", "CancelActivity"},
    "dues.*": _REGISTERED | {"RecordDuesPayment"},
    "volunteer_hours": _REGISTERED | {"LogVolunteerHours"},
    "visits.members_visited": _REGISTERED | {"RecordVisit"},
    # a branch's leadership (issue 13)
    "committee.*": {"RecordElection", "AppointCommitteeMember", "RemoveCommitteeMember", "AppointSecretary"},
    "training.*": {"RecordTrainingSession", "RecordTrainingAttendance", "RecordElection", "AppointSecretary"},
    "allowance.*": {"SetSecretaryAllowance", "RecordAllowancePayment", "RecordElection", "AppointSecretary"},
    # service requests and difficulties (issue 13)
    "services.*": {"RecordVisit", "OpenServiceRequest", "AssignServiceRequest", "ResolveServiceRequest"},
    "notices.*": _REGISTERED | {"SendNotice", "AcknowledgeNotice", "MarkMemberAway", "MarkMemberReturned"},
}


def depends_on(path: str) -> set[str]:
    parts = path.split(".")
    for pattern, types in DEPENDS.items():
        p = pattern.split(".")
        if len(p) == len(parts) and all(a in ("*", b) for a, b in zip(p, parts)) or pattern == f"{parts[0]}.*":
            return types
    raise KeyError(path)


def _same_records(expected, actual) -> bool:
    """Nested figures, money compared as numbers."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and set(expected) == set(actual) and all(
            _same_records(v, actual[k]) for k, v in expected.items())
    return same(expected, actual)


def same(expected, actual) -> bool:
    if isinstance(expected, str):  # money and hours: decimal strings, compared as numbers
        try:
            return Decimal(expected) == Decimal(str(actual))
        except InvalidOperation:
            return False
    return expected == actual


async def test_reports_show_what_the_simulator_intended(platform, bus):
    source = Generated(SEED, MEMBERS, YEAR)
    run = await publish(source, Target(bus.bootstrap, bus.prefix, stall_timeout=240))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "simulator-e2e-run.json").write_text(json.dumps(run, ensure_ascii=False, indent=1))
    # Every command was answered; none was refused except types a service does not handle yet,
    # and none for a missing reference: the phases kept their order.
    assert run["rejected"] == {}, run["rejected"]
    outcome = source.outcome()
    # A figure is compared when every command type it is made of, among those sent up to the end
    # of its period, is handled (deaths, say, only matter to a period that has one).
    sent_until = {e["period"]: set() for e in outcome["expectations"]}
    for phase in Generated(SEED, MEMBERS, YEAR).phases():
        for c in phase.commands:
            for period in sent_until:
                if c.occurred_at[:len(period)] <= period:
                    sent_until[period].add(c.type)
    unhandled = set(run["unhandled_types"])
    handled = lambda path, period: not depends_on(path) & sent_until[period] & unhandled
    district = next(e for e in outcome["expectations"] if e["kind"] == "district" and e["period"] == str(YEAR))

    async with auth.client(platform["reporting"].url, timeout=120) as http:
        async def report(e):
            async def get():
                # a branch's allowance and a small branch's dues are one person's money (issue 12): asked for
                r = await http.get(f"/api/v1/orgs/{e['org_id']}/report", params={
                    "period": e["period"], "reveal": "pension,allowance", "reason": "核对模拟数据"})
                assert r.status_code == 200, r.text
                return r.json()
            return await eventually(get, timeout=180, interval=3)

        def mismatches(e, rep):
            return {path: (want, lookup_path(rep, path)) for path, want in e["figures"].items()
                    if lookup_path(rep, path) is not None and handled(path, e["period"])
                    and not same(want, lookup_path(rep, path))}

        async def district_caught_up():
            return not mismatches(district, await report(district))

        try:
            await eventually(district_caught_up, timeout=600, interval=5)
        except AssertionError:
            pass  # the comparison below says which figures differ

        compared, unchecked, wrong = set(), set(), {}
        for e in outcome["expectations"]:
            rep = await report(e)
            for path in e["figures"]:
                key = f"{path} ({e['period']})"
                (compared if lookup_path(rep, path) is not None and handled(path, e["period"]) else unchecked).add(key)
            if bad := mismatches(e, rep):
                wrong[f"{e['name']} {e['period']}"] = bad
            teams = (await http.get(f"/api/v1/orgs/{e['org_id']}/volunteer-hours", params={"period": e["period"]})).json()
            compared.add(f"volunteer_hours_by_team ({e['period']})")
            if teams["by_team"] != e["volunteer_hours_by_team"]:
                wrong[f"{e['name']} {e['period']} volunteer hours by team"] = (e["volunteer_hours_by_team"],
                                                                               teams["by_team"])
        # issue 13's branch records at the year's end: each branch's funds, the activists' pipeline, and the
        # gaps between what members ask for and what the venues offer (the summary's figures)
        records, end = outcome["summary"]["branch_records"], {"period": str(YEAR), "as_of": f"{YEAR}-12-31"}
        stages = ("applicant", "activist", "development_target", "probationary")
        want_records = {
            "funds": {name: {k: f[k] for k in ("received", "spent", "balance")} for name, f in records["funds"].items()},
            "activists": {**{s: records["applicants"]["by_stage_at_year_end"].get(s, 0) for s in stages},
                          "probation_overdue": len(records["applicants"]["probation_overdue"])},
            "facility_gaps": outcome["summary"]["facility_demand"]}
        depends = {"funds": {"RecordBranchFunds", "RecordBranchSpending"},
                   "activists": {"RecordPartyApplication", "AdvanceApplicant", "SetBackApplicant"},
                   "facility_gaps": {"RegisterVenue", "RecordFacilityDemand"}}

        async def shown_records() -> dict:
            base = f"/api/v1/orgs/{district['org_id']}"
            funds = (await http.get(f"{base}/funds", params=end)).json()
            pipeline = (await http.get(f"{base}/activists", params=end)).json()
            gaps = (await http.get(f"{base}/facility-gaps", params={"as_of": end["as_of"]})).json()
            return {"funds": {b["name"]: {k: b[k] for k in ("received", "spent", "balance")} for b in funds["branches"]},
                    "activists": {k: pipeline["totals"][k] for k in want_records["activists"]},
                    "facility_gaps": {k: gaps[k] for k in ("gap_totals", "communities_with_gaps")}}

        def records_wrong(got: dict) -> dict:
            return {k: (want, got[k]) for k, want in want_records.items()
                    if not depends[k] & unhandled and not _same_records(want, got[k])}

        async def records_caught_up():
            return not records_wrong(await shown_records())

        try:
            await eventually(records_caught_up, timeout=180, interval=5)
        except AssertionError:
            pass  # the comparison below says which differ
        for k, bad in records_wrong(await shown_records()).items():
            wrong[f"{k} ({YEAR}-12-31)"] = bad
        compared.update(f"{k} ({YEAR}-12-31)" for k in want_records if not depends[k] & unhandled)
        intended = outcome["alerts"]
        shown = (await http.get("/api/v1/alerts", params={"org_id": district["org_id"],
                                                          "as_of": intended["as_of"]})).json()["alerts"]
        as_tuple = lambda a: (a["kind"], a["subject_id"], a["level"], a["months"], a["since"])  # noqa: E731
        want, got = {as_tuple(a) for a in intended["alerts"]}, {as_tuple(a) for a in shown}
        compared.add(f"alerts ({intended['as_of']})")
        if want != got:
            wrong["alerts"] = {"intended, not shown": sorted(want - got, key=str),
                               "shown, not intended": sorted(got - want, key=str)}
    print(f"\ncompared: {sorted(compared)}\nnot checked (not reported or not handled yet): {sorted(unchecked)}"
          f"\nunhandled command types: {run['unhandled_types']}")
    assert f"members.registered ({YEAR}-01)" in compared and f"notices.acknowledged ({YEAR})" in compared
    assert len(want) >= 5  # the district's gaps, arrears and visits: the comparison is not vacuous
    assert wrong == {}, json.dumps(wrong, ensure_ascii=False, default=str)  # every item, not pytest's first few
