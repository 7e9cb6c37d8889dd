"""The way into the Party (issue 13, item 5): the rules (domain/activists.py, shared/rules/activists.py)
and the handlers over the in-memory unit of work, with the 最美入党积极分子 award to an activist."""
import pytest

from services.members.domain import activists as dom
from services.members.handlers import HANDLERS
from shared.errors import Rejected
from shared.rules import activists as rule
from tests.support.fake_uow import FakeUnitOfWork, handle, refusal
from tests.support.messages import envelope
from tests.support.scenario import register, tree

pytestmark = pytest.mark.unit
TODAY = "2026-12-01"


def applicant(**kw) -> dom.Applicant:
    return dom.apply(applicant_id="p", branch_id="b", name="赵玉梅", gender="female", birth_date="1958-05-01",
                     applied_on="2024-03-01", today=TODAY, **kw)


def refused(fn, **kw) -> tuple[str, str]:
    with pytest.raises(Rejected) as r:
        fn(**kw)
    return r.value.reason, r.value.errors[0]["field"]


def test_the_stages_in_order_with_their_waits():
    a = applicant()
    assert refused(dom.advance, a=a, stage="development_target", on="2024-04-01", today=TODAY,
                   contact_ids=[]) == ("not_allowed", "data.stage")  # no stage skipped
    assert refused(dom.advance, a=a, stage="activist", on="2024-04-01", today=TODAY,
                   contact_ids=[]) == ("invalid", "data.contact_ids")  # an activist needs a responsible member
    assert refused(dom.advance, a=a, stage="activist", on="2024-02-01", today=TODAY,
                   contact_ids=["m1"]) == ("invalid", "data.on")  # not before the application
    assert dom.advance(a, stage="activist", on="2024-04-01", today=TODAY, contact_ids=["m1", "m2"]) == "applicant"
    assert refused(dom.advance, a=a, stage="development_target", on="2025-04-01", today=TODAY,
                   contact_ids=[]) == ("invalid", "data.on")  # more than a year as an activist
    dom.advance(a, stage="development_target", on="2025-04-02", today=TODAY, contact_ids=[])
    dom.advance(a, stage="probationary", on="2025-07-01", today=TODAY, contact_ids=[])
    assert a.probation_ends_on == "2026-07-01" and a.contacts == ["m1", "m2"]
    assert refused(dom.advance, a=a, stage="full_member", on="2026-06-30", today=TODAY,
                   contact_ids=[]) == ("invalid", "data.on")  # not before the probation ends
    assert rule.probation_overdue_since(a.history, "2026-07-01") is None
    assert rule.probation_overdue_since(a.history, "2026-08-01") == "2026-07-02"
    dom.advance(a, stage="full_member", on="2026-08-15", today=TODAY, contact_ids=[])
    assert rule.probation_overdue_since(a.history, "2026-09-01") is None
    assert refused(dom.set_back, a=a, stage="activist", on="2026-09-01", today=TODAY, reason="x理由") == (
        "not_allowed", "data.stage")


def test_going_back_needs_an_earlier_stage_and_an_applicant_is_an_adult():
    a = applicant()
    dom.advance(a, stage="activist", on="2024-04-01", today=TODAY, contact_ids=["m1"])
    assert refused(dom.set_back, a=a, stage="development_target", on="2024-05-01", today=TODAY,
                   reason="考察期表现") == ("invalid", "data.stage")
    assert dom.set_back(a, stage="applicant", on="2024-05-01", today=TODAY, reason="学习不够主动") == "activist"
    assert a.stage_on("2024-04-15") == "activist" and a.stage_on("2024-05-01") == "applicant"
    assert a.was_activist_in(2024) and not a.was_activist_in(2025)
    dom.set_back(a, stage="withdrawn", on="2024-06-01", today=TODAY, reason="本人撤回申请")
    assert refused(dom.advance, a=a, stage="activist", on="2024-07-01", today=TODAY,
                   contact_ids=["m1"]) == ("not_allowed", "data.stage")
    assert refused(dom.apply, applicant_id="q", branch_id="b", name="小王", gender="male", birth_date="2008-06-01",
                   applied_on="2026-05-31", today=TODAY) == ("invalid", "data.birth_date")


async def test_handlers_the_way_in_with_contacts_and_the_award_to_an_activist():
    ids, cmds = tree(1)
    b = ids["branches"][0]
    uow = FakeUnitOfWork()
    for cmd in [*cmds, register(b, member_id="c1", name="刘振华", registered_on="2020-01-05")]:
        await handle(HANDLERS, cmd, uow)
    apply = envelope("RecordPartyApplication", {"applicant_id": "p1", "branch_id": b, "name": "赵玉梅",
                                                "gender": "female", "birth_date": "1958-05-01",
                                                "applied_on": "2025-03-01"})
    [e] = await handle(HANDLERS, apply, uow)
    assert (e["type"], e["data"]["seq"]) == ("PartyApplicationRecorded", 1)
    step = {"applicant_id": "p1", "stage": "activist", "on": "2025-04-01", "contact_ids": ["c1"]}
    [e] = await handle(HANDLERS, envelope("AdvanceApplicant", step), uow)
    assert (e["type"], e["data"]["previous_stage"], e["data"]["contacts"]) == (
        "ApplicantAdvanced", "applicant", [{"member_id": "c1", "member_name": "刘振华"}])
    assert await refusal(HANDLERS, apply, uow) == ("duplicate", ["data.applicant_id"])
    assert await refusal(HANDLERS, envelope("AdvanceApplicant", step | {"applicant_id": "p2"}), uow) == (
        "unknown_reference", ["data.applicant_id"])
    assert await refusal(HANDLERS, envelope("AdvanceApplicant", step | {"stage": "development_target",
                                                                        "on": "2026-05-01", "contact_ids": ["x"]}),
                         uow) == ("unknown_reference", ["data.contact_ids.0"])
    grant = envelope("GrantAward", {"award_id": "aw1", "year": 2025, "category": "best_activist", "subject_id": "p1"})
    [e] = await handle(HANDLERS, grant, uow)
    assert (e["data"]["subject_kind"], e["data"]["subject_name"]) == ("applicant", "赵玉梅")
    assert await refusal(HANDLERS, envelope("GrantAward", {"award_id": "aw2", "year": 2024, "category": "best_activist",
                                                           "subject_id": "p1"}), uow) == (
        "not_allowed", ["data.subject_id"])
    [e] = await handle(HANDLERS, envelope("SetBackApplicant", {"applicant_id": "p1", "stage": "withdrawn",
                                                               "on": "2025-09-01", "reason": "本人撤回申请"}), uow)
    assert (e["type"], e["data"]["previous_stage"], e["data"]["seq"]) == ("ApplicantSetBack", "activist", 3)
