"""The delivery record: attempts, retries with backoff, fallback, quiet hours, unknown outcomes."""
from datetime import datetime, timedelta, timezone

import pytest

from services.notifications.domain import delivery as dl
from services.notifications.domain.delivery import Delivery, stamp
from services.notifications.domain.quiet_hours import QuietHours
from shared.periods import SHANGHAI

pytestmark = pytest.mark.unit
Q = QuietHours()
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=SHANGHAI)


def new(plan):
    d = Delivery("n1", "m1", "b1", "2026-03-10", plan, specialist_id="s1")
    dl.address(d, NOON, False)
    return d


def test_success_is_recorded_with_its_attempt():
    d = new(["sms", "door"])
    assert dl.claim(d, NOON, Q) == "send" and d.state == "sending" and d.attempts[0].state == "sending"
    dl.succeeded(d, NOON, "http")
    assert d.state == "delivered" and d.attempts[0].state == "delivered" and d.attempts[0].transport == "http"
    assert dl.claim(d, NOON, Q) == "skip"  # never sent again


def test_retries_back_off_then_fall_back_to_the_next_channel_ending_at_door():
    d = new(["wechat", "sms", "door"])
    now = NOON
    for n in (1, 2):
        assert dl.claim(d, now, Q) == "send"
        f = dl.failed(d, now, "503", Q, max_attempts=3, base_seconds=10)
        assert f.retry_at == now + timedelta(seconds=10 * 2 ** (n - 1)) and d.state == "pending"
        now = f.retry_at
    dl.claim(d, now, Q)
    f = dl.failed(d, now, "503", Q, max_attempts=3, base_seconds=10)
    assert f.retry_at is None and f.next_channel == "sms" and not f.door
    assert d.channel == "sms" and d.attempt == 0 and d.state == "pending"
    for _ in range(3):
        dl.claim(d, now, Q)
        f = dl.failed(d, now, "down", Q, max_attempts=3, base_seconds=0)
    assert f.next_channel == "door" and f.door and d.state == "door_assigned"
    assert d.door["specialist_id"] == "s1"
    assert [(a.channel, a.attempt, a.state) for a in d.attempts] == [
        ("wechat", 1, "failed"), ("wechat", 2, "failed"), ("wechat", 3, "failed"),
        ("sms", 1, "failed"), ("sms", 2, "failed"), ("sms", 3, "failed")]


def test_a_retry_falling_into_quiet_hours_waits_for_morning():
    d = new(["sms", "door"])
    evening = datetime(2026, 3, 10, 20, 59, tzinfo=SHANGHAI)
    dl.claim(d, evening, Q)
    f = dl.failed(d, evening, "busy", Q, max_attempts=3, base_seconds=120)
    assert f.retry_at == datetime(2026, 3, 11, 8, 0, tzinfo=SHANGHAI)


def test_sms_due_at_night_is_held_not_sent():
    d = new(["sms", "door"])
    night = datetime(2026, 3, 10, 23, 0, tzinfo=SHANGHAI)
    assert dl.claim(d, night, Q) == "held"
    assert d.state == "pending" and d.held == "quiet_hours" and not d.attempts
    assert d.next_at == stamp(datetime(2026, 3, 11, 8, 0, tzinfo=SHANGHAI))


def test_door_first_goes_to_the_specialist_when_due():
    d = new(["door"])
    assert d.state == "pending" and d.door is None and dl.untouched(d)  # nothing handed over yet
    assert dl.claim(d, NOON, Q) == "door" and d.state == "door_assigned" and not dl.untouched(d)
    assert d.door["specialist_id"] == "s1"
    dl.complete_door(d, NOON.date(), "s1")
    assert d.state == "door_done" and d.door["completed_by"] == "s1"


def test_an_attempt_left_sending_is_never_resent_on_that_channel():
    d = new(["email", "door"])
    dl.claim(d, NOON, Q)
    f = dl.orphaned(d, NOON + timedelta(minutes=5), Q)
    assert d.attempts[0].state == "unknown" and d.channel == "door" and f.door
    assert dl.claim(d, NOON, Q) == "skip"


def test_a_visit_is_handed_over_even_if_acknowledged_meanwhile():
    d = new(["door"])
    dl.acknowledge(d, NOON.date(), "wechat")
    assert dl.claim(d, NOON, Q) == "door" and d.state == "door_assigned"


def test_acknowledged_before_sending_stops_the_delivery():
    d = new(["sms"])
    assert dl.acknowledge(d, NOON.date(), "door") and not dl.acknowledge(d, NOON.date(), None)
    assert dl.claim(d, NOON, Q) == "skip" and d.state == "acknowledged" and not d.attempts


def test_nothing_works_is_unreachable_when_due():
    d = new([])
    assert d.state == "pending" and dl.untouched(d)
    assert dl.claim(d, NOON, Q) == "unreachable" and d.state == "unreachable" and not dl.untouched(d)
    assert dl.claim(d, NOON, Q) == "skip"


def test_a_scheduled_delivery_is_held_until_due():
    d = Delivery("n1", "m1", "b1", "2026-03-10", ["sms"])
    dl.address(d, NOON, True)
    assert (d.state, d.held, d.next_at) == ("pending", "scheduled", stamp(NOON)) and dl.untouched(d)


def test_untouched_only_until_something_is_done_or_said():
    d = new(["sms", "door"])
    assert dl.untouched(d)
    dl.claim(d, datetime(2026, 3, 10, 23, 0, tzinfo=SHANGHAI), Q)  # held for quiet hours: still untouched
    assert dl.untouched(d)
    dl.claim(d, NOON, Q)
    assert not dl.untouched(d)
    acked = new(["sms"])
    dl.acknowledge(acked, NOON.date(), None)
    assert not dl.untouched(acked)


def test_stamps_compare_as_text():
    a = datetime(2026, 3, 10, 4, 0, tzinfo=timezone.utc)
    assert stamp(a) < stamp(a + timedelta(microseconds=1)) < stamp(a + timedelta(seconds=1))


def test_an_unanswered_attempt_is_sent_again_as_itself_then_left_unknown_for_the_next_channel():
    """The gateway took the request and did not answer in time: it may have sent it. A new attempt
    would carry a new idempotency key and reach the member twice, so the same attempt goes again
    (its key unchanged), at most MAX_RESENDS times; still unanswered, its outcome is unknown and,
    as an orphan's, it is never sent again on that channel."""
    d = new(["sms", "door"])
    now = NOON
    assert dl.claim(d, now, Q) == "send"
    for n in range(dl.MAX_RESENDS):
        f = dl.failed(d, now, "gateway: ReadTimeout", Q, max_attempts=3, base_seconds=10, unanswered=True)
        assert f.retry_at == now + timedelta(seconds=10) and d.state == "pending" and d.attempt == 1
        now = f.retry_at
        assert dl.claim(d, now, Q) == "resend" and d.attempt == 1 and d.state == "sending"
    f = dl.failed(d, now, "gateway: ReadTimeout", Q, max_attempts=3, base_seconds=10, unanswered=True)
    assert f.retry_at is None and f.next_channel == "door" and f.door and d.state == "door_assigned"
    assert [(a.attempt, a.state) for a in d.attempts] == [(1, "unanswered"), (1, "unanswered"), (1, "unknown")]
    assert d.attempts[-1].error.startswith(dl.UNANSWERED)


def test_an_unanswered_attempt_that_went_through_is_delivered_as_that_attempt():
    d = new(["wechat", "door"])
    dl.claim(d, NOON, Q)
    f = dl.failed(d, NOON, "gateway: ReadTimeout", Q, max_attempts=3, base_seconds=10, unanswered=True)
    assert dl.claim(d, f.retry_at, Q) == "resend"
    dl.succeeded(d, f.retry_at, "http")  # the gateway already had it: it answers at once
    assert d.state == "delivered" and d.attempt == 1 and [a.state for a in d.attempts] == ["unanswered", "delivered"]
