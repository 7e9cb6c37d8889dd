"""Quiet hours, backoff and SMS segments."""
from datetime import datetime, timedelta, timezone

import pytest

from services.notifications.domain.backoff import delay
from services.notifications.domain.quiet_hours import QuietHours
from services.notifications.domain.texts import meeting_notice, segments, sms_text
from shared.periods import SHANGHAI

pytestmark = pytest.mark.unit
Q = QuietHours()


def sh(h, m=0, day=10):
    return datetime(2026, 3, day, h, m, tzinfo=SHANGHAI)


@pytest.mark.parametrize("moment, quiet", [(sh(20, 59), False), (sh(21, 0), True), (sh(23, 30), True),
                                           (sh(0, 5), True), (sh(7, 59), True), (sh(8, 0), False),
                                           (sh(12), False)])
def test_quiet_window_wraps_midnight(moment, quiet):
    assert Q.contains(moment) is quiet


def test_sms_at_night_waits_until_eight_next_morning_but_email_goes():
    at = sh(22, 30).astimezone(timezone.utc)
    assert Q.release("sms", at) == sh(8, 0, day=11)
    assert Q.release("phone_call", sh(3)) == sh(8, 0)
    assert Q.release("email", at) == at and Q.release("wechat", at) == at
    assert Q.release("sms", sh(9)) == sh(9)


def test_configured_window():
    q = QuietHours.parse("13:00-14:00")
    assert q.contains(sh(13, 30)) and not q.contains(sh(22))
    assert q.release("sms", sh(13, 30)) == sh(14)


def test_backoff_doubles_and_is_capped():
    assert [delay(n, 60) for n in (1, 2, 3, 4)] == [timedelta(seconds=s) for s in (60, 120, 240, 480)]
    assert delay(30, 60) == timedelta(hours=1)


def test_short_sms_is_one_segment():
    assert segments("会议通知：周五上午九点") == ["会议通知：周五上午九点"]
    assert segments("字" * 70) == ["字" * 70]


@pytest.mark.parametrize("length", [71, 140, 500])
def test_long_sms_segments_fit_70_and_keep_the_text(length):
    text = "".join(chr(0x4E00 + i % 500) for i in range(length))
    parts = segments(text)
    assert len(parts) > 1 and all(len(p) <= 70 for p in parts)
    n = len(parts)
    assert "".join(p.removeprefix(f"({i}/{n})") for i, p in enumerate(parts, 1)) == text


def test_chinese_texts():
    title, body = meeting_notice("party_lecture", "学习二十大精神", datetime(2026, 3, 10, 1, 30, tzinfo=timezone.utc), None)
    assert title == "党课通知：学习二十大精神"
    assert "2026年3月10日 09:30" in body
    assert sms_text("通知", "正文").startswith("【夕阳红】")
