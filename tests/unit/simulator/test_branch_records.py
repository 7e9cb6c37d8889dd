"""Issue 13's branch records in the simulated district (simulator/branch_records.py): their stories,
and every command of the year accepted by the members service's own handlers (in memory)."""
import asyncio
from decimal import Decimal

import pytest

from services.members.adapters.records import BRANCH_FUNDS
from services.members.handlers import HANDLERS
from shared.errors import Rejected
from simulator import branch_records
from simulator.sources import Generated
from tests.support.fake_uow import FakeUnitOfWork, handle

pytestmark = pytest.mark.unit
MINE = {"RecordBranchFunds", "RecordBranchSpending", "GradeBranch", "RecordStudyAccount", "RecordStudyUse",
        "RecordPartyApplication", "AdvanceApplicant", "SetBackApplicant", "GrantAward"}


@pytest.fixture(scope="module")
def played():
    """The year's members.commands through the members handlers: (source, stored docs, refusals, sent)."""
    source = Generated(11, 120, 2025)
    uow, refused, sent = FakeUnitOfWork(), [], []

    async def run():
        nonlocal uow
        for phase in source.phases():
            for c in phase.commands:
                sent.append(c)
                if c.topic != "members.commands":
                    continue
                try:
                    await handle(HANDLERS, c.envelope, uow)
                except Rejected as r:
                    uow.rollback_message()
                    refused.append((c.type, r.reason, r.errors))
            uow.commit()
            uow = FakeUnitOfWork(uow.docs)
    asyncio.run(run())
    return source, uow.docs, refused, sent


def test_every_branch_record_is_accepted(played):
    _source, _docs, refused, _sent = played
    assert [r for r in refused if r[0] in MINE] == []


def test_funds_dues_returned_spending_per_held_activity_and_one_branch_overdrawn(played):
    source, docs, _refused, sent = played
    w = source.world
    held = {c.envelope["data"]["activity_id"] for c in sent if c.type == "RecordActivityHeld"}
    summary = branch_records.summary(w)
    assert [n[:4] for n in summary["funds_overdrawn"]] == ["北岸明珠"]
    for b in w.branches:
        entries = docs[BRANCH_FUNDS][b.org_id]["entries"]
        assert all(e["fen"] > 0 for e in entries)
        assert {e["activity_id"] for e in entries if e["kind"] == "out" and e.get("activity_id")} <= held
        returned = [e for e in entries if e.get("source") == "dues_returned"]
        assert len(returned) == 1 and returned[0]["for_year"] == 2024
        balance = sum(e["fen"] if e["kind"] == "in" else -e["fen"] for e in entries)
        assert f"{Decimal(balance) / 100:.2f}" == summary["funds"][b.name]["balance"]
        assert (balance < 0) == (b.name in summary["funds_overdrawn"])


def test_grades_of_the_year_before_and_of_the_year_with_the_stars_rated(played):
    source, docs, _refused, sent = played
    rated = {(c.envelope["data"]["branch_id"], c.envelope["data"]["year"]): c.envelope["data"]["stars"]
             for c in sent if c.type == "RateBranch"}
    graded = [c.envelope["data"] for c in sent if c.type == "GradeBranch"]
    assert len(graded) == 2 * len(source.world.branches)
    for g in graded:
        assert rated.get((g["branch_id"], g["year"]), g["stars"]) == g["stars"]
    moves = branch_records.summary(source.world)["grades"]
    assert any("降级" in m for m in moves.values()) and any("晋位升级" in m for m in moves.values())


def test_remote_study_accounts_and_use_and_those_with_neither(played):
    source, docs, _refused, sent = played
    summary = branch_records.summary(source.world)["study"]
    assert 0 < summary["with_neither"] < summary["registered"] and summary["with_xuexi"] > summary["with_red_x"] > 0
    no_phone = {m.member_id for m in source.world.members if not m.phone}
    opened = {c.envelope["data"]["member_id"] for c in sent if c.type == "RecordStudyAccount"}
    assert opened and not opened & no_phone
    used = [c.envelope["data"] for c in sent if c.type == "RecordStudyUse"]
    assert {u["member_id"] for u in used} <= opened and all(u["minutes"] >= 0 for u in used)


def test_the_way_into_the_party_every_stage_accepted_and_one_probation_overdue(played):
    source, docs, _refused, sent = played
    from services.members.adapters.records import APPLICANTS
    from shared.rules.activists import probation_overdue_since

    stored = list(docs[APPLICANTS].values())
    assert len(stored) == len(branch_records.applicants(source.world))
    overdue = [a for a in stored if probation_overdue_since(
        [{"stage": h["stage"], "on": h["on"], "seq": i} for i, h in enumerate(a["history"])], "2025-12-31")]
    assert [a["branch_id"] for a in overdue] == [b.org_id for b in source.world.branches if b.short == "军安"]
    assert all(a["contacts"] for a in stored if a["stage"] != "applicant" or len(a["history"]) > 1)
    assert any(a["awards"] for a in stored)


def test_every_source_the_simulator_sends_as_is_a_principal_granted_its_topics(played):
    """On the secured broker a command is answered `not_allowed` unless its source is a registered
    district system that may write that topic (shared/infra/kafka_acls.py): a new source in the
    simulator needs its principal, or the demo's commands of that source are all refused."""
    from shared.infra.kafka_acls import DISTRICT_SYSTEMS

    _source, _docs, _refused, sent = played
    used = {(c.envelope["source"], c.topic) for c in sent}
    assert {(s, t) for s, t in used if t not in DISTRICT_SYSTEMS.get(s, ())} == set()
