"""Venues: registration and bookings that never overlap."""
from datetime import datetime

import pytest

from services.activities.domain import venue as v
from services.activities.domain.activity import utc
from shared.errors import Rejected

pytestmark = pytest.mark.unit


def _day(bookings=()):
    return v.DayBookings("v1", "2026-03-05", list(bookings))


def _book(days, aid, starts, ends):
    v.book(days, activity_id=aid, kind="study", starts_utc=utc(datetime.fromisoformat(starts)),
           ends_utc=utc(datetime.fromisoformat(ends)))


def test_register_refuses_a_second_registration():
    venue = v.register(None, venue_id="v1", name="阅览室", org_id="c1", capacity=30, facilities=["投影", "投影"])
    assert venue.facilities == ["投影"]
    with pytest.raises(Rejected) as e:
        v.register(venue, venue_id="v1", name="阅览室", org_id="c1", capacity=30, facilities=[])
    assert e.value.reason == "duplicate"


def test_overlap_is_a_conflict_but_back_to_back_is_fine():
    day = _day()
    _book([day], "a1", "2026-03-05T09:00:00+08:00", "2026-03-05T11:00:00+08:00")
    _book([day], "a2", "2026-03-05T11:00:00+08:00", "2026-03-05T12:00:00+08:00")  # starts as a1 ends
    _book([day], "a0", "2026-03-05T08:00:00+08:00", "2026-03-05T09:00:00+08:00")
    for starts, ends in [("2026-03-05T10:59:00+08:00", "2026-03-05T13:00:00+08:00"),
                         ("2026-03-05T09:30:00+08:00", "2026-03-05T10:00:00+08:00"),
                         ("2026-03-05T07:00:00+08:00", "2026-03-05T15:00:00+08:00"),
                         # the same instant written in UTC still collides
                         ("2026-03-05T01:30:00+00:00", "2026-03-05T02:00:00+00:00")]:
        with pytest.raises(Rejected) as e:
            _book([day], "x", starts, ends)
        assert (e.value.reason, e.value.errors[0]["field"]) == ("conflict", "data.venue_id")
    assert [b["activity_id"] for b in day.bookings] == ["a0", "a1", "a2"]


def test_release_frees_the_slot():
    day = _day()
    _book([day], "a1", "2026-03-05T09:00:00+08:00", "2026-03-05T11:00:00+08:00")
    v.release([day], "a1")
    _book([day], "a2", "2026-03-05T09:00:00+08:00", "2026-03-05T11:00:00+08:00")
    assert [b["activity_id"] for b in day.bookings] == ["a2"]


def test_days_touched_in_shanghai_time():
    at = datetime.fromisoformat
    assert v.days_touched(at("2026-03-05T22:00:00+08:00"), at("2026-03-06T00:00:00+08:00")) == ["2026-03-05"]
    assert v.days_touched(at("2026-03-05T22:00:00+08:00"), at("2026-03-06T01:00:00+08:00")) == [
        "2026-03-05", "2026-03-06"]
    assert v.days_touched(at("2026-03-05T17:00:00+00:00"), at("2026-03-05T18:00:00+00:00")) == ["2026-03-06"]


def test_a_booking_spans_at_most_a_month():
    at = datetime.fromisoformat
    v.check_span(at("2026-03-01T09:00:00+08:00"), at("2026-03-31T17:00:00+08:00"))
    with pytest.raises(Rejected) as e:
        v.check_span(at("2026-03-01T09:00:00+08:00"), at("2026-04-01T17:00:00+08:00"))
    assert (e.value.reason, e.value.errors[0]["field"]) == ("invalid", "data.ends_at")
