"""A notice to a branch reaches each member by the right channel, through a real SMTP server
and HTTP gateway; failures retry then fall back; nothing is sent twice on replay; the status
endpoint shows the proof."""
import json
from collections import Counter

import pytest

from tests.integration.notifications.conftest import World, by_member, send_notice, settled, status_when
from tests.support.messages import caused_by, envelope, eventually
from tests.support.scenario import uid

pytestmark = pytest.mark.integration
EVENTS = "notifications.events"


def phone() -> str:
    return "139" + uid("x")[-8:]


async def _events_of(n, notice_id: str, until) -> list[dict]:
    mine = lambda es: [e for e in es if e["data"].get("notice_id") == notice_id]  # noqa: E731
    return mine(await n.bus.events(EVENTS, lambda es: until(mine(es)), timeout=60))


async def test_a_branch_notice_reaches_each_member_by_the_right_channel(notifier, smtp, gateway):
    n, w = notifier, World()
    p_wechat, p_sms, p_away = phone(), phone(), phone()
    openid, mail = uid("o"), f"{uid('u')}@example.cn"
    m_wechat = w.member("wechat", phone=p_wechat, wechat_openid=openid, preferred_channel="wechat")
    m_sms = w.member("sms", phone=p_sms, preferred_channel="sms")
    m_email = w.member("email", email=mail, phone=phone(), preferred_channel="email")
    m_nophone = w.member("nophone", preferred_channel="sms", lives_alone=True)
    m_away = w.member("away", phone=p_away, preferred_channel="door")
    w.then("MemberMarkedAway", "away", **{"from": "2026-01-10", "until": None, "location": "三亚", "reason": "seasonal"})
    w.member("dead", phone=phone(), preferred_channel="sms")
    w.then("MemberDied", "dead", on="2026-02-01")
    w.member("gone", phone=phone(), preferred_channel="sms")
    w.then("MemberTransferred", "gone", on="2026-02-01", from_branch_id=w.branches[0], left_district=True)
    m_other = w.member("other", branch=1, email=f"{uid('u')}@example.cn", preferred_channel="email")
    await w.publish(n)

    notice_id = uid("notice")
    cmd = send_notice(notice_id, org_ids=[w.branches[0]], member_ids=[m_sms, m_other],
                      body="请各位老党员认真学习全会精神，" * 6)  # long enough for several SMS segments
    await n.bus.send("notifications.commands", cmd)
    status = await status_when(n, notice_id, settled)
    rows = by_member(status)

    # the audience: the branch's registered members plus the named one, each once; never the dead or gone
    assert set(rows) == {m_wechat, m_sms, m_email, m_nophone, m_away, m_other}
    assert status["summary"]["recipients"] == 6
    created = [e for e in caused_by(await _events_of(n, notice_id, lambda es: bool(es)), cmd)
               if e["type"] == "NoticeCreated"]
    assert created[0]["data"]["recipient_count"] == 6

    # the channels, and the proof
    assert {m: rows[m]["delivery"]["channel"] for m in (m_wechat, m_sms, m_email, m_away, m_other)} == {
        m_wechat: "wechat", m_sms: "sms", m_email: "email", m_away: "sms", m_other: "email"}
    assert rows[m_email]["delivery"]["transport"] == "smtp" and rows[m_sms]["delivery"]["transport"] == "http"
    assert rows[m_nophone]["state"] == "door_assigned" and rows[m_nophone]["door"]["specialist_id"] == w.specialist
    assert "door" not in rows[m_away]["plan"]
    for m in (m_wechat, m_sms, m_email, m_away, m_other):
        [attempt] = rows[m]["attempts"]
        assert attempt["state"] == "delivered" and attempt["attempt"] == 1 and attempt["finished_at"]

    # what the real SMTP server and HTTP gateway received
    [email] = smtp.to(mail)
    assert email.subject == "关于学习贯彻全会精神的通知" and "全会精神" in email.body
    [wx] = gateway.to(openid, "/wechat")
    assert wx.body["title"] == "关于学习贯彻全会精神的通知" and wx.body["idempotency_key"] == f"{notice_id}|{m_wechat}|wechat|1"
    [sms] = gateway.to(p_sms, "/sms")
    assert len(sms.body["segments"]) > 1 and all(len(s) <= 70 for s in sms.body["segments"])
    assert len(gateway.to(p_away, "/sms")) == 1

    # every addressed recipient has an event saying so, with branch and date
    events = await _events_of(n, notice_id, lambda es: sum(e["type"] == "NotificationDelivered" for e in es) >= 5)
    addressed = {e["data"]["member_id"]: e for e in events if e["type"] in ("NotificationDispatched", "DoorDeliveryAssigned")}
    assert set(addressed) == set(rows)
    assert all(e["data"]["branch_id"] and e["data"]["addressed_on"] == status["addressed_on"] for e in addressed.values())
    assert addressed[m_nophone]["type"] == "DoorDeliveryAssigned"

    # the specialist's door work, then the member's acknowledgement and feedback
    door_work = (await n.http.get(f"/api/v1/specialists/{w.specialist}/door-deliveries")).json()
    pending = door_work["pending"]
    assert [(p["notice_id"], p["member_id"], p["channel"]) for p in pending] == [(notice_id, m_nophone, "door")]
    assert (door_work["total"], door_work["has_more"]) == (1, False)  # a page at a time (issue 12)
    done = envelope("CompleteDoorDelivery", {"notice_id": notice_id, "member_id": m_nophone,
                                             "specialist_id": w.specialist, "on": status["addressed_on"]})
    ack = envelope("AcknowledgeNotice", {"notice_id": notice_id, "member_id": m_nophone, "channel": "door"})
    words = envelope("RecordFeedback", {"feedback_id": uid("f"), "member_id": m_nophone, "notice_id": notice_id,
                                        "text": "学习了，很受教育，希望多组织送学上门。"})
    await n.bus.send("notifications.commands", done, ack, words)
    events = await n.bus.events(EVENTS, lambda es: all(caused_by(es, c) for c in (done, ack, words)), timeout=60)
    assert [caused_by(events, c)[0]["type"] for c in (done, ack, words)] == [
        "DoorDeliveryCompleted", "NoticeAcknowledged", "FeedbackReceived"]
    status = await status_when(n, notice_id, lambda s: by_member(s)[m_nophone]["acknowledged"] is not None)
    row = by_member(status)[m_nophone]
    assert row["state"] == "door_done" and row["delivery"]["reached"] and row["acknowledged"]["channel"] == "door"
    assert (await n.http.get(f"/api/v1/specialists/{w.specialist}/door-deliveries")).json()["pending"] == []
    fb = (await n.http.get("/api/v1/feedback", params={"org_id": w.ids["community"],
                                                       "period": status["addressed_on"][:7]})).json()
    assert [f["member_id"] for f in fb["feedback"]] == [m_nophone] and fb["feedback"][0]["branch_id"] == w.branches[0]
    assert (fb["total"], fb["page"], fb["has_more"]) == (1, 1, False)
    assert (await n.http.get("/api/v1/feedback", params={"org_id": w.ids["community"], "period": "2026",
                                                         "page_size": 501})).status_code == 422

    # a page at a time (a district-wide notice reaches tens of thousands); the summary counts them all
    url = f"/api/v1/notices/{notice_id}/status"
    whole = (await n.http.get(url)).json()
    assert whole["page"]["next_after"] is None and whole["summary"]["recipients"] == len(whole["recipients"]) >= 2
    ids, after = [], ""
    while after is not None:
        page = (await n.http.get(url, params={"limit": 1, **({"after": after} if after else {})})).json()
        assert len(page["recipients"]) == 1 and page["summary"] == whole["summary"]
        ids.append(page["recipients"][0]["member_id"])
        after = page["page"]["next_after"]
    # branch by branch, by member id within a branch, each once
    assert ids == [r["member_id"] for r in sorted(whole["recipients"], key=lambda r: (r["branch_id"] or "", r["member_id"]))]
    assert [r["member_id"] for r in whole["recipients"]] == ids
    door = (await n.http.get(url, params={"state": "door_done"})).json()
    assert [r["member_id"] for r in door["recipients"]] == [m_nophone] and door["summary"]["door_done"] == 1
    assert whole["summary"]["reached"] == sum(r["delivery"]["reached"] for r in whole["recipients"])

    # errors a person can act on
    assert (await n.http.get(url, params={"state": "lost"})).status_code == 422
    assert (await n.http.get(url, params={"after": "no-cursor"})).status_code == 422
    assert (await n.http.get("/api/v1/feedback", params={"org_id": w.ids["community"], "period": "2026-13"})).status_code == 422
    assert (await n.http.get(f"/api/v1/notices/{uid('none')}/status")).status_code == 404
    assert (await n.http.get(f"/api/v1/specialists/{uid('none')}/door-deliveries")).status_code == 404


async def test_failures_retry_with_backoff_then_fall_back(notifier, gateway):
    n, w = notifier, World()
    p_flaky, p_down, p_dead_wx = phone(), phone(), phone()
    wx_down, wx_dead = uid("o"), uid("o")
    gateway.failures.update({p_flaky: 2, wx_down: 10**9, wx_dead: 10**9, p_dead_wx: 10**9})
    m_flaky = w.member("flaky", phone=p_flaky, preferred_channel="sms")
    m_wx = w.member("wx", phone=p_down, wechat_openid=wx_down, preferred_channel="wechat")
    m_all = w.member("all", phone=p_dead_wx, wechat_openid=wx_dead, preferred_channel="wechat")
    await w.publish(n)

    notice_id = uid("notice")
    await n.bus.send("notifications.commands", send_notice(notice_id, org_ids=[w.branches[0]]))
    rows = by_member(await status_when(n, notice_id, settled))

    # two failures, then the third attempt on the same channel goes through
    assert [(a["channel"], a["attempt"], a["state"]) for a in rows[m_flaky]["attempts"]] == [
        ("sms", 1, "failed"), ("sms", 2, "failed"), ("sms", 3, "delivered")]
    # WeChat down: three attempts, then SMS
    assert [(a["channel"], a["state"]) for a in rows[m_wx]["attempts"]] == [
        ("wechat", "failed")] * 3 + [("sms", "delivered")]
    # everything electronic down: ends at the door, with the specialist
    assert [a["channel"] for a in rows[m_all]["attempts"]] == ["wechat"] * 3 + ["sms"] * 3
    assert rows[m_all]["state"] == "door_assigned" and rows[m_all]["door"]["specialist_id"] == w.specialist
    started = [a["started_at"] for a in rows[m_flaky]["attempts"]]
    assert started == sorted(started)

    events = await _events_of(n, notice_id, lambda es: sum(e["type"] == "NotificationFailed" for e in es) >= 3)
    failed = [(e["data"]["member_id"], e["data"]["channel"], e["data"]["next_channel"])
              for e in events if e["type"] == "NotificationFailed"]
    assert sorted(failed) == sorted([(m_wx, "wechat", "sms"), (m_all, "wechat", "sms"), (m_all, "sms", "door")])
    assert any(e["type"] == "DoorDeliveryAssigned" and e["data"]["member_id"] == m_all for e in events)
    assert len(gateway.to(p_flaky, "/sms")) == 3 and len(gateway.to(wx_down, "/wechat")) == 3


async def test_a_replayed_stream_never_sends_twice(notifier, smtp, gateway):
    n, w = notifier, World()
    p1, mail = phone(), f"{uid('u')}@example.cn"
    w.member("a", phone=p1, preferred_channel="sms")
    w.member("b", email=mail, preferred_channel="email")
    await w.publish(n)
    notice_id = uid("notice")
    cmd = send_notice(notice_id, org_ids=[w.branches[0]])
    await n.bus.send("notifications.commands", cmd)
    await status_when(n, notice_id, settled)

    # the same records again (a consumer replay), and the same notice under a new message id
    records = await n.bus.read("notifications.commands", lambda rs: any(json.loads(r.value)["id"] == cmd["id"] for r in rs))
    for r in records:
        await n.bus.send_raw("notifications.commands", r.value, key=r.key)
    again = send_notice(notice_id, org_ids=[w.branches[0]])
    marker_id = uid("notice")
    marker = send_notice(marker_id, member_ids=[w.members["a"]])
    await n.bus.send("notifications.commands", again, marker)
    await status_when(n, marker_id, settled)

    events = await n.bus.events(EVENTS, lambda es: bool(caused_by(es, again)))
    [rejected] = caused_by(events, again)
    assert rejected["type"] == "CommandRejected" and rejected["data"]["reason"] == "duplicate"
    assert len([r for r in gateway.to(p1, "/sms") if r.body["notice_id"] == notice_id]) == 1
    assert len(smtp.to(mail)) == 1
    created = Counter(e["id"] for e in events if e["type"] == "NoticeCreated" and e["data"]["notice_id"] == notice_id)
    assert list(created.values()) == [1]
