"""Remote study in reporting (issue 13, item 6): coverage, use, attendance by mode and the members
with neither account (domain/study.py); attendance keeps its mode (handlers.py)."""
import asyncio

import pytest

from services.reporting.adapters.documents import MEMBERS, facts_from_doc
from services.reporting.domain import study as dom
from services.reporting.domain.facts import USUAL_ATTENDANCE, MemberFacts
from services.reporting.handlers import build_handlers
from shared.contracts import activities as a
from shared.contracts.parsing import parse_object
from shared.periods import parse_period
from tests.integration.reporting.support import event
from tests.unit.reporting.memory import Store

pytestmark = pytest.mark.unit
YEAR = parse_period("2026")


def member(*attendance) -> MemberFacts:
    f = MemberFacts("m")
    f.attendance = {f"a{i}": {"held_on": on, "kind": kind, "status": "present", "mode": mode}
                    for i, (on, kind, mode) in enumerate(attendance)}
    return f


def test_a_member_with_an_account_who_studied_and_attended_remotely():
    doc = {"accounts": {"xuexi|2026-02-01": {"platform": "xuexi", "has_account": True, "on": "2026-02-01"},
                        "red_x|2026-01-01": {"platform": "red_x", "has_account": True, "on": "2026-01-01"},
                        "red_x|2026-05-01": {"platform": "red_x", "has_account": False, "on": "2026-05-01"}},
           "use": {"xuexi|2026-03": {"platform": "xuexi", "month": "2026-03", "points": 200, "sessions": 10,
                                     "minutes": 300},
                   "xuexi|2027-01": {"platform": "xuexi", "month": "2027-01", "points": 9, "sessions": 1, "minutes": 1}}}
    f = member(("2026-03-10", "themed_party_day", "remote"), ("2026-04-06", "study", "in_person"),
               ("2026-05-06", "cultural", "remote"))  # not organisational life nor study: not counted
    c = dom.member_figures(f, doc, YEAR, "2026-12-31")
    assert {k: c[k] for k in ("with_xuexi", "with_red_x", "with_either", "with_neither", "users_xuexi", "users",
                              "points_xuexi", "minutes", "attendances_remote", "attendances_in_person",
                              "members_remote")} == {
        "with_xuexi": 1, "with_red_x": 0, "with_either": 1, "with_neither": 0, "users_xuexi": 1, "users": 1,
        "points_xuexi": 200, "minutes": 300, "attendances_remote": 1, "attendances_in_person": 1, "members_remote": 1}
    assert dom.member_figures(f, doc, YEAR, "2026-04-30")["with_red_x"] == 1  # as of a day: the account was open


def test_neither_account_and_reached_by_home_delivery_and_the_rates():
    f = member(("2026-03-10", "party_lecture", "home_delivery"))
    c = dom.member_figures(f, None, YEAR, "2026-12-31")
    assert (c["with_neither"], c["neither_reached_at_home"], c["attendances_home_delivery"]) == (1, 1, 1)
    total = dom.add(dom.add(dict.fromkeys(dom.COUNTS, 0), c), dom.member_figures(member(), None, YEAR, "2026-12-31"))
    r = dom.with_rates(total)
    assert (r["registered"], r["with_neither"], r["coverage"], r["use_rate"], r["remote_share"]) == (2, 2, 0.0, 0.0, 0.0)


def test_attendance_keeps_its_mode():
    store, handlers = Store(), build_handlers()

    def run(env):
        parsed = parse_object(env)

        async def go():
            await store.uow.prefetch(handlers[parsed.envelope.type].wants(parsed.message))
            await handlers[parsed.envelope.type].handle(parsed.message, store.context(parsed.envelope))
        asyncio.run(go())
        store.commit()
    run(event(a.ActivityHeld, "2026-03-10", activity_id="a1", kind="themed_party_day", title="主题党日",
              branch_ids=["b"], held_on="2026-03-10",
              attendance=[{"member_id": "m1", "status": "present", "mode": "remote"},
                          {"member_id": "m2", "status": "present", "mode": "home_delivery"}]))
    run(event(a.AttendanceRecorded, "2026-03-11", activity_id="a1", kind="themed_party_day", branch_ids=["b"],
              held_on="2026-03-10", member_id="m1", status="present", mode="in_person", previous_status="present",
              previous_mode="remote"))
    modes = {m: facts_from_doc(store.doc(MEMBERS, m), m).attendance["a1"].get("mode", USUAL_ATTENDANCE["mode"])
             for m in ("m1", "m2")}
    assert modes == {"m1": "in_person", "m2": "home_delivery"}
