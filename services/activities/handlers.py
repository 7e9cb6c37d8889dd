"""The activities service layer: one handler per command, and the one table of them."""
from datetime import datetime

from services.activities import facility_demand, service_requests, teams
from services.activities.adapters.documents import (
    ACTIVITIES, ACTIVITY, VENUE, VENUE_DAY, VENUE_DAYS, VENUES, VISIT, VISITS, VOLUNTEER_ENTRIES,
    VOLUNTEER_ENTRY,
)
from services.activities.domain import teams as team_rules
from services.activities.domain import activity as act
from services.activities.domain import service_log
from services.activities.domain import venue as venues
from services.activities.domain.activity import Activity
from services.activities.domain.venue import DayBookings
from shared.contracts import activities as c
from shared.errors import unknown_reference
from shared.messaging.pipeline import Context, Handler


async def _activity(ctx: Context, activity_id: str) -> Activity | None:
    return await ctx.repo(ACTIVITY).get(activity_id)


async def _known_activity(ctx: Context, activity_id: str) -> Activity:
    a = await _activity(ctx, activity_id)
    if a is None:
        raise unknown_reference(f"activity {activity_id} was never scheduled", "data.activity_id")
    return a


async def _venue_days(ctx: Context, venue_id: str, starts_at: datetime, ends_at: datetime) -> list[DayBookings]:
    days = ctx.repo(VENUE_DAY)
    return [await days.get(venues.day_key(venue_id, d)) or DayBookings(venue_id, d)
            for d in venues.days_touched(starts_at, ends_at)]


async def _capacity(ctx: Context, venue_id: str | None) -> int | None:
    venue = await ctx.repo(VENUE).get(venue_id) if venue_id else None
    return venue.capacity if venue else None


def _entries(a: Activity) -> list[c.AttendanceEntry]:
    return [c.AttendanceEntry(**x) for x in a.attendance]


async def register_venue(cmd: c.RegisterVenue, ctx: Context) -> None:
    v = venues.register(await ctx.repo(VENUE).get(cmd.venue_id), venue_id=cmd.venue_id,
                        name=cmd.name, org_id=cmd.org_id, capacity=cmd.capacity, facilities=cmd.facilities)
    ctx.repo(VENUE).add(v)
    ctx.emit(c.VenueRegistered(venue_id=v.venue_id, name=v.name, org_id=v.org_id, capacity=v.capacity,
                               facilities=v.facilities))


async def schedule_activity(cmd: c.ScheduleActivity, ctx: Context) -> None:
    a = act.schedule(await _activity(ctx, cmd.activity_id), activity_id=cmd.activity_id, kind=cmd.kind,
                     title=cmd.title, branch_ids=cmd.branch_ids, starts_at=cmd.starts_at, ends_at=cmd.ends_at,
                     venue_id=cmd.venue_id, organizer_id=cmd.organizer_id)
    if cmd.venue_id:
        if await ctx.repo(VENUE).get(cmd.venue_id) is None:
            raise unknown_reference(f"venue {cmd.venue_id} is not registered", "data.venue_id")
        venues.check_span(cmd.starts_at, cmd.ends_at)
        days = await _venue_days(ctx, cmd.venue_id, cmd.starts_at, cmd.ends_at)
        venues.book(days, activity_id=a.activity_id, kind=a.kind, starts_utc=a.starts_utc, ends_utc=a.ends_utc)
        for d in days:
            ctx.repo(VENUE_DAY).add(d)
    ctx.repo(ACTIVITY).add(a)
    ctx.emit(c.ActivityScheduled(activity_id=a.activity_id, kind=a.kind, title=a.title, branch_ids=a.branch_ids,
                                 starts_at=cmd.starts_at, ends_at=cmd.ends_at, held_on=a.held_on,
                                 venue_id=a.venue_id, organizer_id=a.organizer_id))


async def record_activity_held(cmd: c.RecordActivityHeld, ctx: Context) -> None:
    a = await _known_activity(ctx, cmd.activity_id)
    a = act.record_held(a, minutes=cmd.minutes, attendance=[x.model_dump() for x in cmd.attendance],
                        capacity=await _capacity(ctx, a.venue_id))
    ctx.repo(ACTIVITY).add(a)
    ctx.emit(c.ActivityHeld(activity_id=a.activity_id, kind=a.kind, title=a.title, branch_ids=a.branch_ids,
                            held_on=a.held_on, venue_id=a.venue_id, starts_at=datetime.fromisoformat(a.starts_at),
                            ends_at=datetime.fromisoformat(a.ends_at), minutes=a.minutes,
                            attendance=_entries(a), capacity=a.capacity, over_capacity=a.over_capacity))


async def record_attendance(cmd: c.RecordAttendance, ctx: Context) -> None:
    a = await _known_activity(ctx, cmd.activity_id)
    previous = act.record_attendance(a, member_id=cmd.member_id, status=cmd.status, mode=cmd.mode)
    ctx.repo(ACTIVITY).add(a)
    ctx.emit(c.AttendanceRecorded(activity_id=a.activity_id, kind=a.kind, branch_ids=a.branch_ids,
                                  held_on=a.held_on, member_id=cmd.member_id, status=cmd.status, mode=cmd.mode,
                                  previous_status=previous["status"] if previous else None,
                                  previous_mode=previous.get("mode", "in_person") if previous else None,
                                  title=a.title, venue_id=a.venue_id, capacity=a.capacity,
                                  over_capacity=a.over_capacity))


async def cancel_activity(cmd: c.CancelActivity, ctx: Context) -> None:
    a = act.cancel(await _known_activity(ctx, cmd.activity_id), reason=cmd.reason)
    if a.venue_id:  # free the venue for others
        days = await _venue_days(ctx, a.venue_id, datetime.fromisoformat(a.starts_at),
                                 datetime.fromisoformat(a.ends_at))
        venues.release(days, a.activity_id)
        for d in days:
            ctx.repo(VENUE_DAY).add(d)
    ctx.repo(ACTIVITY).add(a)
    ctx.emit(c.ActivityCancelled(activity_id=a.activity_id, kind=a.kind, branch_ids=a.branch_ids,
                                 held_on=a.held_on, reason=cmd.reason, title=a.title, venue_id=a.venue_id))


async def log_volunteer_hours(cmd: c.LogVolunteerHours, ctx: Context) -> None:
    status = None
    if cmd.activity_id:
        status = (await _known_activity(ctx, cmd.activity_id)).status
    label = cmd.team
    if cmd.team_id:  # a registered team (issue 13): its name, and only for its roster
        team = await teams.known_team(ctx, cmd.team_id)
        team_rules.check_hours(team, await teams.membership(ctx, cmd.team_id, cmd.member_id), cmd.member_id,
                               cmd.on.isoformat())
        label = team.name
    e = service_log.log_hours(await ctx.repo(VOLUNTEER_ENTRY).get(cmd.entry_id),
                              entry_id=cmd.entry_id, member_id=cmd.member_id, team=label, hours=cmd.hours,
                              on=cmd.on.isoformat(), activity_id=cmd.activity_id, activity_status=status,
                              team_id=cmd.team_id)
    ctx.repo(VOLUNTEER_ENTRY).add(e)
    ctx.emit(c.VolunteerHoursLogged(entry_id=e.entry_id, member_id=e.member_id, team=e.team, hours=cmd.hours,
                                    on=cmd.on, activity_id=e.activity_id, team_id=e.team_id))


async def record_visit(cmd: c.RecordVisit, ctx: Context) -> None:
    v = service_log.record_visit(await ctx.repo(VISIT).get(cmd.visit_id), visit_id=cmd.visit_id,
                                 member_id=cmd.member_id, specialist_id=cmd.specialist_id, on=cmd.on.isoformat(),
                                 kind=cmd.kind, health=cmd.health, needs=cmd.needs, notes=cmd.notes)
    ctx.repo(VISIT).add(v)
    ctx.emit(c.VisitRecorded(visit_id=v.visit_id, member_id=v.member_id, specialist_id=v.specialist_id, on=cmd.on,
                             kind=v.kind, health=v.health, needs=v.needs, notes=v.notes))
    # its needs become service requests (issue 13)
    await service_requests.from_visit(ctx, visit_id=v.visit_id, member_id=v.member_id,
                                      specialist_id=v.specialist_id, on=v.on, needs=v.needs)


def _venue_day_keys(venue_id: str, starts_at: datetime, ends_at: datetime) -> list:
    """The venue's day documents a booking from `starts_at` to `ends_at` touches (none for a span
    longer than a booking may be: `check_span` refuses it, so there is nothing to read)."""
    days = venues.days_touched(starts_at, ends_at)
    return [(VENUE_DAYS, venues.day_key(venue_id, d)) for d in days] if len(days) <= venues.MAX_BOOKING_DAYS else []


def _schedule_wants(m: c.ScheduleActivity):
    keys = [(ACTIVITIES, m.activity_id)]
    if m.venue_id:
        keys += [(VENUES, m.venue_id), *_venue_day_keys(m.venue_id, m.starts_at, m.ends_at)]
    return keys


def _held_then(m: c.RecordActivityHeld, _envelope, read) -> list:
    """The venue the activity was scheduled at (its capacity), named once the activity is read: a
    batch of meetings held reads their venues in one query, not one each (at 100,000 members,
    13,662 single reads of `venues` in four minutes of January, a third of the service's time in
    the database)."""
    a = read(ACTIVITIES, m.activity_id)
    return [(VENUES, a["venue_id"])] if a and a.get("venue_id") else []


def _cancel_then(m: c.CancelActivity, _envelope, read) -> list:
    """The venue's days the activity booked, freed by its cancellation."""
    a = read(ACTIVITIES, m.activity_id)
    if not a or not a.get("venue_id"):
        return []
    return _venue_day_keys(a["venue_id"], datetime.fromisoformat(a["starts_at"]), datetime.fromisoformat(a["ends_at"]))


HANDLERS: dict[str, Handler] = {
    "RegisterVenue": Handler(register_venue, lambda m: [(VENUES, m.venue_id)]),
    "ScheduleActivity": Handler(schedule_activity, _schedule_wants),
    "RecordActivityHeld": Handler(record_activity_held, lambda m: [(ACTIVITIES, m.activity_id)], _held_then),
    "RecordAttendance": Handler(record_attendance, lambda m: [(ACTIVITIES, m.activity_id)]),
    "CancelActivity": Handler(cancel_activity, lambda m: [(ACTIVITIES, m.activity_id)], _cancel_then),
    "LogVolunteerHours": Handler(
        log_volunteer_hours,
        lambda m: [(VOLUNTEER_ENTRIES, m.entry_id)] + ([(ACTIVITIES, m.activity_id)] if m.activity_id else [])
        + (teams.wants(m.team_id, m.member_id) if m.team_id else [])),
    "RecordVisit": Handler(record_visit, lambda m: [(VISITS, m.visit_id), *service_requests.visit_wants(m)]),
    **teams.HANDLERS,  # volunteer service teams (issue 13)
    **service_requests.HANDLERS,  # service requests and difficulties (issue 13)
    **facility_demand.HANDLERS,  # 阵地需求: what members ask for (issue 13)
}
