"""Quiet hours hold, send_at waits, a send cut short by a crash is never repeated, and the
automatic notices (meetings from activities, reminders from reporting's warnings)."""
import signal
from datetime import date, datetime, timedelta, timezone

import pytest

from shared.periods import SHANGHAI
from tests.integration.notifications.conftest import (
    World, by_member, quiet_window, send_notice, settled, start_notifier, status_when, stop_notifier,
)
from tests.support.messages import envelope, eventually
from tests.support.scenario import uid

pytestmark = pytest.mark.integration


def phone() -> str:
    return "138" + uid("x")[-8:]


async def test_quiet_hours_hold_sms_but_not_email(infra, smtp, gateway):
    window = quiet_window(-1, 3)  # once: under load the test outlasts a minute, and the window moves with the clock
    n = await start_notifier(infra, smtp, gateway, NOTIFY_QUIET_HOURS=window)
    try:
        w, p, mail = World(), phone(), f"{uid('u')}@example.cn"
        m_sms = w.member("sms", phone=p, preferred_channel="sms")
        m_email = w.member("email", email=mail, preferred_channel="email")
        await w.publish(n)
        notice_id = uid("notice")
        await n.bus.send("notifications.commands", send_notice(notice_id, org_ids=[w.branches[0]]))
        rows = by_member(await status_when(n, notice_id, lambda s: by_member(s)[m_email]["state"] == "delivered"
                                           and by_member(s)[m_sms]["held"] == "quiet_hours"))
        assert rows[m_sms]["state"] == "pending" and rows[m_sms]["attempts"] == []
        end = datetime.fromisoformat(rows[m_sms]["next_at"]).astimezone(SHANGHAI)
        assert f"{end:%H:%M}" == window.split("-")[1] and end > datetime.now(timezone.utc)
        assert gateway.to(p) == [] and len(smtp.to(mail)) == 1
    finally:
        await stop_notifier(n)


async def test_send_at_waits_for_its_time(notifier, gateway):
    n, w, p = notifier, World(), phone()
    m = w.member("a", phone=p, preferred_channel="sms")
    await w.publish(n)
    notice_id = uid("notice")
    send_at = datetime.now(timezone.utc) + timedelta(seconds=15)  # room for a busy machine
    await n.bus.send("notifications.commands", send_notice(notice_id, member_ids=[m], send_at=send_at.isoformat()))
    first = by_member(await status_when(n, notice_id, lambda s: bool(s["recipients"])))[m]
    assert first["held"] == "scheduled" and first["attempts"] == [] and gateway.to(p) == []
    row = by_member(await status_when(n, notice_id, settled))[m]
    assert row["state"] == "delivered"
    assert datetime.fromisoformat(row["attempts"][0]["started_at"]) >= send_at


async def test_a_send_cut_short_by_a_crash_is_not_repeated_on_that_channel(infra, smtp, gateway):
    # The attempt the killed process left `sending` is taken over once it is older than any send
    # could take; the test shortens that limit (its gateway hangs, so no live send is cut short).
    n = await start_notifier(infra, smtp, gateway, NOTIFY_ORPHAN_AFTER_SECONDS="3")
    try:
        w, p, openid = World(), phone(), uid("o")
        gateway.hang.add(openid)
        m = w.member("a", phone=p, wechat_openid=openid, preferred_channel="wechat")
        await w.publish(n)
        notice_id = uid("notice")
        await n.bus.send("notifications.commands", send_notice(notice_id, member_ids=[m]))
        await eventually(lambda: _async(bool(gateway.to(openid))), timeout=60)
        n.proc.kill(signal.SIGKILL)  # the gateway has the request; its outcome is never seen
        await n.restart()
        row = by_member(await status_when(n, notice_id, settled))[m]
        assert [(a["channel"], a["state"]) for a in row["attempts"]] == [("wechat", "unknown"), ("sms", "delivered")]
        assert len(gateway.to(openid)) == 1 and len(gateway.to(p, "/sms")) == 1
    finally:
        await stop_notifier(n)


async def _async(value):
    return value


async def test_a_scheduled_activity_sends_a_meeting_notice_to_its_branches(notifier, gateway):
    n, w = notifier, World()
    p0, p1 = phone(), phone()
    m0 = w.member("a", phone=p0, preferred_channel="sms")
    m1 = w.member("b", branch=1, phone=p1, preferred_channel="sms")
    await w.publish(n)
    activity_id = uid("act")
    starts = datetime(2026, 12, 1, 1, 30, tzinfo=timezone.utc)
    await n.bus.send("activities.events", envelope("ActivityScheduled", {
        "activity_id": activity_id, "kind": "party_lecture", "title": "学习全会精神", "branch_ids": w.branches,
        "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=2)).isoformat(),
        "held_on": "2026-12-01"}, source="sunsetred-activities"))
    status = await status_when(n, f"activity:{activity_id}", settled)
    assert status["category"] == "meeting" and set(by_member(status)) == {m0, m1}
    [sms] = gateway.to(p0, "/sms")
    assert "党课通知：学习全会精神" in sms.body["segments"][0] and "2026年12月1日 09:30" in "".join(sms.body["segments"])


async def test_a_warning_reminds_member_and_secretary_once_until_the_facts_change(notifier, gateway):
    n, w = notifier, World()
    p_member, p_secretary = phone(), phone()
    m = w.member("late", name="张建国", phone=p_member, preferred_channel="sms")
    s = w.member("secretary", name="李书记", phone=p_secretary, preferred_channel="sms")
    w.events.append(envelope("SecretaryAppointed", {"branch_id": w.branches[0], "member_id": s},
                             source="sunsetred-members"))
    await w.publish(n, secretary=s)

    def alert(months: int, since: str) -> dict:  # reporting names an alert (kind, subject, since)
        return envelope("AlertRaised", {"alert_id": f"dues_arrears:{m}:{since}", "kind": "dues_arrears", "level": "warning",
                                        "subject_id": m, "org_id": w.branches[0], "since": since, "months": months,
                                        "as_of": date.today().isoformat()}, source="sunsetred-reporting")

    first = f"reminder:dues_arrears:{m}:2026-01:warning:3"
    await n.bus.send("reporting.events", alert(3, "2026-01"))
    await status_when(n, f"{first}:member", settled)
    await status_when(n, f"{first}:secretary", settled)
    assert "张建国同志" in "".join(gateway.to(p_member, "/sms")[0].body["segments"])
    assert "党员张建国" in "".join(gateway.to(p_secretary, "/sms")[0].body["segments"])

    # the same alert again (another message): nothing new; more months: a new reminder
    await n.bus.send("reporting.events", alert(3, "2026-01"), alert(4, "2026-01"))
    for who in ("member", "secretary"):
        await status_when(n, f"reminder:dues_arrears:{m}:2026-01:warning:4:{who}", settled)
    assert len(gateway.to(p_member, "/sms")) == 2 and len(gateway.to(p_secretary, "/sms")) == 2


async def test_an_alert_cleared_before_it_stood_reminds_nobody(notifier, gateway):
    """Finding 29 of docs/reliability.md: reporting raised an alert for a moment (a meeting handled
    before an earlier payment) and cleared it. Nobody is reminded of it, whether the clear comes
    right after the raise or (two instances of reporting) before it; an alert that stands is."""
    n, w = notifier, World()
    p_member = phone()
    m = w.member("paid", name="王淑芬", phone=p_member, preferred_channel="sms")
    await w.publish(n)
    today = date.today().isoformat()

    def alert(kind: str, since: str, cleared: bool = False) -> dict:
        data = {"alert_id": f"{kind}:{m}:{since}", "kind": kind, "subject_id": m, "org_id": w.branches[0],
                "as_of": today}
        if cleared:
            return envelope("AlertCleared", data, source="sunsetred-reporting")
        return envelope("AlertRaised", {**data, "level": "warning", "since": since, "months": 3},
                        source="sunsetred-reporting")

    # One key (the member), so in this order; the last alert stands, and by the time its reminder
    # is settled the others' settling time is long over.
    await n.bus.send("reporting.events", alert("dues_arrears", "2026-01"),
                     alert("dues_arrears", "2026-01", cleared=True), alert("dues_arrears", "2026-02", cleared=True),
                     alert("dues_arrears", "2026-02"), alert("no_participation", "2026-01"))
    await status_when(n, f"reminder:no_participation:{m}:2026-01:warning:3:member", settled)
    for since in ("2026-01", "2026-02"):
        r = await n.http.get(f"/api/v1/notices/reminder:dues_arrears:{m}:{since}:warning:3:member/status")
        assert r.status_code == 404
    [sms] = gateway.to(p_member, "/sms")
    assert "未参加组织生活" in "".join(sms.body["segments"])  # the standing alert's reminder, the only one
