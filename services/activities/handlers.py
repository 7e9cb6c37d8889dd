"""The activities service layer: one handler per command, and the one table of them."""
from services.activities.adapters.documents import ACTIVITIES, activity_from_doc, activity_to_doc
from services.activities.domain import activity as act
from shared.contracts import activities as c
from shared.errors import unknown_reference
from shared.messaging.pipeline import Context, Handler


async def _activity(ctx: Context, activity_id: str):
    return activity_from_doc(await ctx.get(ACTIVITIES, activity_id))


async def schedule_activity(cmd: c.ScheduleActivity, ctx: Context) -> None:
    a = act.schedule(await _activity(ctx, cmd.activity_id), activity_id=cmd.activity_id, kind=cmd.kind,
                     title=cmd.title, branch_ids=cmd.branch_ids, starts_at=cmd.starts_at, ends_at=cmd.ends_at,
                     venue_id=cmd.venue_id, organizer_id=cmd.organizer_id)
    ctx.put(ACTIVITIES, activity_to_doc(a))
    ctx.emit(c.ActivityScheduled(activity_id=a.activity_id, kind=a.kind, title=a.title, branch_ids=a.branch_ids,
                                 starts_at=cmd.starts_at, ends_at=cmd.ends_at, held_on=a.held_on,
                                 venue_id=a.venue_id, organizer_id=a.organizer_id))


async def record_activity_held(cmd: c.RecordActivityHeld, ctx: Context) -> None:
    a = await _activity(ctx, cmd.activity_id)
    if a is None:
        raise unknown_reference(f"activity {cmd.activity_id} was never scheduled", "data.activity_id")
    a = act.record_held(a, minutes=cmd.minutes, attendance=[x.model_dump() for x in cmd.attendance])
    ctx.put(ACTIVITIES, activity_to_doc(a))
    ctx.emit(c.ActivityHeld(activity_id=a.activity_id, kind=a.kind, title=a.title, branch_ids=a.branch_ids,
                            held_on=a.held_on, venue_id=a.venue_id, minutes=a.minutes,
                            attendance=[c.AttendanceEntry(**x) for x in a.attendance]))


HANDLERS: dict[str, Handler] = {
    "ScheduleActivity": Handler(schedule_activity, lambda m: [(ACTIVITIES, m.activity_id)]),
    "RecordActivityHeld": Handler(record_activity_held, lambda m: [(ACTIVITIES, m.activity_id)]),
}
