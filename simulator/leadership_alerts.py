"""The leadership alerts (issue 13) the simulated district should show on a day — `post_vacant`,
`term_overdue`, `secretary_untrained` — from the elections, appointments, removals and training sessions
the simulator sent, by the rule text of docs/contract-additions.md ("reporting: a branch's leadership"),
not from reporting's code, so a test comparing the two finds a mistake in either.

`start` is RECORDS_START: no alert's `since` is earlier, and a post is empty from it at the earliest (the
contract says so of a post never filled, the branches being established long before the records began;
a post emptied before the records began is read alike, as the `not_visited` clock starts on it).
"""
from dataclasses import dataclass
from datetime import date, timedelta

from simulator.days import add_months
from simulator.leadership import COMMITTEE, TERM_YEARS, appointed_secretary
from simulator.world import Branch, World

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Rules:
    """reporting's settings for these alerts, at their defaults (the simulator's e2e overrides none)."""
    post_vacant_days: int = 90  # REPORTING_POST_VACANT_DAYS
    term_overdue_alert_months: int = 6  # REPORTING_TERM_OVERDUE_ALERT_MONTHS
    training_alert_from_month: int = 10  # REPORTING_TRAINING_ALERT_FROM_MONTH
    training_grace_days: int = 90  # REPORTING_TRAINING_GRACE_DAYS


def line_up(world: World, b: Branch, day: date) -> dict[str, str]:
    """post → member at the end of `day`. A holder who dies or leaves empties their posts that day
    (members emits CommitteeMemberRemoved, `died` / `left_branch`)."""
    held = world.leadership.branches[b.org_id].line_up(day)
    if (appointed := appointed_secretary(world, b)) and appointed[0] <= day:
        held["secretary"] = appointed[1]
    return {post: m for post, m in held.items() if world.member(m).registered(day)}


def _changes(world: World, b: Branch, day: date) -> list[date]:
    """The days up to `day` on which the branch's line-up may have changed, latest first."""
    plan = world.leadership.branches[b.org_id]
    days = {e.held_on for e in plan.elections} | {on for on, _, _ in [*plan.appointments, *plan.removals]}
    if appointed := appointed_secretary(world, b):
        days.add(appointed[0])
    for mid in b.member_ids:
        m = world.member(mid)
        days.update(d for d in (m.died_on, m.transferred_on) if d)
    return sorted((d for d in days if d <= day), reverse=True)


def empty_since(world: World, b: Branch, post: str, day: date, start: date) -> date | None:
    """The day the post became empty (None while held): the latest change it was held the day before,
    not before `start`."""
    if post in line_up(world, b, day):
        return None
    return max(next((c for c in _changes(world, b, day) if post in line_up(world, b, c - DAY)), start), start)


def took_post(world: World, b: Branch, member_id: str, day: date) -> date:
    """The day the member began holding the secretary's post they hold on `day` (re-elected: still the first)."""
    return next(c for c in _changes(world, b, day) if line_up(world, b, c - DAY).get("secretary") != member_id)


def _alert(kind: str, subject_id: str, level: str, since: date) -> dict:
    return {"kind": kind, "subject_id": subject_id, "level": level, "months": None, "since": since.isoformat()}


def post_vacant(world: World, b: Branch, day: date, start: date, rules: Rules) -> list[dict]:
    """A required post (the secretary; with a committee the organisation, propaganda and discipline members
    too) empty for more than the limit; an alert when the secretary's is among those, `since` the first day
    past the limit of the longest-empty one."""
    limit = timedelta(days=rules.post_vacant_days)
    required = COMMITTEE if b.has_committee else COMMITTEE[:1]
    empty = {p: s for p in required if (s := empty_since(world, b, p, day, start)) is not None}
    late = {p: s for p, s in empty.items() if day - s > limit}
    if not late:
        return []
    level = "alert" if "secretary" in late else "warning"
    return [_alert("post_vacant", b.org_id, level, min(late.values()) + limit + DAY)]


def term_overdue(world: World, b: Branch, day: date, start: date, rules: Rules) -> list[dict]:
    """The latest general election's term has ended and none followed: overdue from the day after its end,
    an alert once overdue for the months the rule gives. No general election recorded: no known term."""
    general = [e.held_on for e in world.leadership.branches[b.org_id].elections if e.kind == "general"
               and e.held_on <= day]
    if not general:
        return []
    overdue = add_months(max(general), 12 * TERM_YEARS) + DAY
    if day < overdue:
        return []
    level = "alert" if day >= add_months(overdue, rules.term_overdue_alert_months) else "warning"
    return [_alert("term_overdue", b.org_id, level, max(overdue, start))]


def secretary_untrained(world: World, b: Branch, day: date, start: date, rules: Rules) -> list[dict]:
    """The day's secretary attended no session in the calendar year so far: raised from the first day of
    the rule's month, and for one who took the post during the year not before the grace days after."""
    secretary = line_up(world, b, day).get("secretary")
    if secretary is None:
        return []
    new_year = date(day.year, 1, 1)
    if any(new_year <= s.held_on <= day and secretary in (*s.attendees, *s.late) for s in world.leadership.sessions):
        return []
    raised = date(day.year, rules.training_alert_from_month, 1)
    if (took := took_post(world, b, secretary, day)) >= new_year:
        raised = max(raised, took + timedelta(days=rules.training_grace_days))
    if day < raised:
        return []
    return [_alert("secretary_untrained", secretary, "warning", max(raised, start))]


def leadership_alerts(world: World, day: date, start: date, rules: Rules = Rules()) -> list[dict]:
    """Every leadership alert of the district open on `day`."""
    return [a for b in world.branches for rule in (post_vacant, term_overdue, secretary_untrained)
            for a in rule(world, b, day, start, rules)]
