"""Remote study (issue 13, item 6): the rules (domain/study.py) and the handlers over the in-memory
unit of work."""
import pytest

from services.members.domain import study
from services.members.handlers import HANDLERS
from shared.errors import Rejected
from tests.support.fake_uow import FakeUnitOfWork, handle, refusal
from tests.support.messages import envelope
from tests.support.scenario import register, tree

pytestmark = pytest.mark.unit
AT = "2026-06-10T10:00:00+08:00"


def test_accounts_over_time_and_use_only_with_an_account():
    s = study.MemberStudy("m")
    assert study.record_account(s, platform="xuexi", has_account=True, on="2026-02-10", today="2026-06-10",
                                registered_on="2026-01-05") is False
    assert s.has_account("xuexi", "2026-02-10") and not s.has_account("xuexi", "2026-02-09")
    assert not s.has_account("red_x", "2026-06-01")
    assert study.record_use(s, platform="xuexi", month="2026-02", points=120, sessions=8, minutes=240,
                            today="2026-06-10", registered_on="2026-01-05") is None
    assert study.record_use(s, platform="xuexi", month="2026-02", points=130, sessions=9, minutes=250,
                            today="2026-06-10", registered_on="2026-01-05") == {"points": 120, "sessions": 8,
                                                                                "minutes": 240}
    assert len(s.use) == 1
    study.record_account(s, platform="xuexi", has_account=False, on="2026-04-15", today="2026-06-10",
                         registered_on="2026-01-05")
    study.record_use(s, platform="xuexi", month="2026-04", points=1, sessions=1, minutes=1, today="2026-06-10",
                     registered_on="2026-01-05")  # closed within April: it had one in April
    cases = [
        (dict(platform="xuexi", month="2026-05"), "not_allowed", "data.platform"),  # closed since April
        # nothing known of a red_x account: waited for (its command may not have arrived yet)
        (dict(platform="red_x", month="2026-03"), "unknown_reference", "data.platform"),
        (dict(platform="xuexi", month="2026-07"), "invalid", "data.month"),
        (dict(platform="xuexi", month="2025-12"), "invalid", "data.month"),
    ]
    for kw, reason, field in cases:
        with pytest.raises(Rejected) as r:
            study.record_use(s, points=0, sessions=0, minutes=0, today="2026-06-10", registered_on="2026-01-05", **kw)
        assert (r.value.reason, r.value.errors[0]["field"]) == (reason, field), kw


def test_an_account_change_is_dated_within_the_record_and_is_a_change():
    s = study.MemberStudy("m")
    for kw, reason, field in ((dict(has_account=False, on="2026-03-01"), "duplicate", "data.has_account"),
                              (dict(has_account=True, on="2026-07-01"), "invalid", "data.on"),
                              (dict(has_account=True, on="2025-12-31"), "invalid", "data.on")):
        with pytest.raises(Rejected) as r:
            study.record_account(s, platform="red_x", today="2026-06-10", registered_on="2026-01-05", **kw)
        assert (r.value.reason, r.value.errors[0]["field"]) == (reason, field)


async def test_handlers_announce_accounts_and_use_with_the_member_s_branch():
    ids, cmds = tree(1)
    b = ids["branches"][0]
    uow = FakeUnitOfWork()
    for cmd in [*cmds, register(b, member_id="m1")]:
        await handle(HANDLERS, cmd, uow)
    [e] = await handle(HANDLERS, envelope("RecordStudyAccount", {"member_id": "m1", "platform": "xuexi",
                                                                 "has_account": True, "on": "2026-02-01"},
                                          occurred_at=AT), uow)
    assert (e["type"], e["data"]["branch_id"], e["data"]["previous"], e["key"] if "key" in e else "m1") == (
        "StudyAccountRecorded", b, False, "m1")
    use = {"member_id": "m1", "platform": "xuexi", "month": "2026-05", "points": 300, "sessions": 20, "minutes": 600}
    [e] = await handle(HANDLERS, envelope("RecordStudyUse", use, occurred_at=AT), uow)
    assert (e["type"], e["data"]["replaces"]) == ("StudyUseRecorded", None)
    [e] = await handle(HANDLERS, envelope("RecordStudyUse", use | {"points": 310}, occurred_at=AT), uow)
    assert e["data"]["replaces"] == {"points": 300, "sessions": 20, "minutes": 600}
    assert await refusal(HANDLERS, envelope("RecordStudyUse", use | {"platform": "red_x"}, occurred_at=AT), uow) == (
        "unknown_reference", ["data.platform"])  # no red_x account known yet: held, waited for
    assert await refusal(HANDLERS, envelope("RecordStudyUse", use | {"month": "2026-01"}, occurred_at=AT), uow) == (
        "not_allowed", ["data.platform"])  # the xuexi account was opened in February
    assert await refusal(HANDLERS, envelope("RecordStudyUse", use | {"member_id": "nobody"}, occurred_at=AT), uow) == (
        "unknown_reference", ["data.member_id"])
