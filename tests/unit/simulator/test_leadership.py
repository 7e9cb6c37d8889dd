"""The simulated district's leadership (simulator/leadership.py): its stories, and every command of
the year accepted by the members service's own handlers (in memory, no Kafka)."""
import asyncio
from datetime import date

import pytest

from services.members.adapters.documents import ORGS, org_from_doc
from services.members.domain import committee
from services.members.handlers import HANDLERS
from shared.errors import Rejected
from simulator.sources import Generated
from tests.support.fake_uow import FakeUnitOfWork, handle

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def played():
    """The year's members.commands through the members handlers: (source, stored orgs, refusals)."""
    source = Generated(11, 120, 2025)
    uow, refused = FakeUnitOfWork(), []

    async def run():
        nonlocal uow
        for phase in source.phases():
            for c in phase.commands:
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
    orgs = {k: org_from_doc(v) for k, v in uow.docs[ORGS].items() if v["kind"] == "branch"}
    return source, orgs, refused


def by_name(source, orgs, short: str):
    b = next(b for b in source.world.branches if b.short == short)
    return b, orgs[b.org_id]


def test_the_members_service_accepts_every_command_of_the_year(played):
    _, _, refused = played
    assert refused == []


def test_the_committees_tell_the_report_s_stories(played):
    source, orgs, _ = played
    _, swan = by_name(source, orgs, "天鹅湖")
    assert [(e["held_on"], e["kind"]) for e in swan.elections] == [("2020-03-18", "general"), ("2025-04-16", "general")]
    assert swan.term["ends_on"] == "2030-04-16" and not committee.overdue(swan, "2025-12-31")
    _, junan = by_name(source, orgs, "军安")
    assert junan.term["ends_on"] == "2024-11-12" and committee.overdue(junan, "2025-01-01")
    _, garden = by_name(source, orgs, "世纪花园")
    assert committee.vacancies(garden, "2025-12-31") == {"propaganda_member": "2025-05-20"}
    b, ouya = by_name(source, orgs, "欧美亚")
    assert ouya.secretary_id is None and ouya.elections == []
    assert set(committee.vacancies(ouya, "2025-12-31")) == {"secretary"}
    for b in source.world.branches:  # every secretary the world drew is the one the ledger holds
        assert orgs[b.org_id].secretary_id == b.secretary_id, b.name
        plan = source.world.leadership.branches[b.org_id]
        if b.has_committee:
            assert set(committee.line_up(orgs[b.org_id], "2025-12-31")) == set(plan.line_up(date(2025, 12, 31)))


def test_secretaries_are_trained_but_one(played):
    source, orgs, _ = played
    b, yiyuan = by_name(source, orgs, "怡园")
    summary = source.outcome()["summary"]["leadership"]
    assert summary["secretaries_untrained"] == [b.name]
    assert summary["secretaries_trained"] == sum(1 for x in source.world.branches if x.secretary_id) - 1
    assert summary["training_sessions"] == 2
    by_type = source.outcome()["summary"]["commands"]["by_type"]
    assert by_type["RecordTrainingSession"] == 2 and by_type["RecordTrainingAttendance"] == 1


def test_allowances_are_paid_by_the_quarter_but_one_and_secretaries_assessed(played):
    source, orgs, _ = played
    from services.members.domain import secretary

    by_type = source.outcome()["summary"]["commands"]["by_type"]
    with_secretary = [b for b in source.world.branches if b.secretary_id]
    assert by_type["SetSecretaryAllowance"] == len(source.world.branches)
    assert by_type["RecordAllowancePayment"] == 4 * len(with_secretary) - 1
    assert by_type["RecordSecretaryAssessment"] == 2 * len(with_secretary)  # the year before, and the year
    b, heyuan = by_name(source, orgs, "宜和园")
    unpaid = [r["month"] for r in secretary.ledger(heyuan, year=2025, as_of="2025-12-31") if not r["paid"]]
    assert unpaid == ["2025-07", "2025-08", "2025-09"]
    _, yiyuan = by_name(source, orgs, "怡园")
    assert {(a["year"], a["result"]) for a in yiyuan.assessments} == {(2024, "basically_competent"),
                                                                     (2025, "basically_competent")}
    assert source.outcome()["summary"]["leadership"]["allowance_unpaid"] == {b.name: "900.00"}
