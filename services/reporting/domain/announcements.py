"""When a change of an alert is announced: only once it has stood for the settling time
(docs/reliability.md, finding 29).

Reporting evaluates a subject's alerts as of the day of each event, as events arrive. When a fact
of another key or topic (a payment, a meeting) is handled after a later-dated event of the same
subject, an alert is raised and cleared a moment later. Announcing each change at once put those
pairs on `reporting.events`, and runs of the same scenario differed in their alert events. So a
change waits: it is staged in the alert's announcement, and announced once it has stood for the
settling time; if the alert goes back to what was last announced meanwhile, nothing is said.

One document per alert with a change waiting, and only then:
  {_id: alert_id,
   announced: {level, months} (what the last AlertRaised said) or None (cleared, or never raised),
   current: {open, alert (the alert as `Alert.to_dict()`: as evaluated when open, as last open when
             cleared), day (the evaluation's day: the event's `as_of`), cause (the envelope fields
             of the evaluation's cause, so the event is the one an immediate announcement made)},
   announce_at: the instant the current state will have stood for the settling time,
   staged_at: the instant it was staged (the causal fence's moment: the facts published before it
              are awaited too, below)}.
No document means that what was last announced is what the subject's document holds (its
`open_alerts`): true once a change is announced (the document is then deleted), once it went back
to what was announced (likewise), after a rebuild (services/reporting/rebuild.py announces nothing
and leaves no announcements), and for the alerts announced at once before announcements waited.
The collection so holds what waits (and, rarely, a document without `announce_at`: a change
staged and undone in the same batch, kept rather than deleted before it was ever written).

`announce_at` is set again at every change: what is announced is a state that stood for the
whole settling time, and a level that changes during it announces only the latest.

The settling time covers facts that drift apart by less than it. A fact held up longer upstream
(members or activities down, a rebalance, a backlog: the change evaluated from an attendance while
the payment published before it still waits in `members.commands`) would still be announced, and
undone once the fact arrives. So a change is also held until every member or activity fact
published before `staged_at` has come through its service and reporting's projection (the causal
fence, shared/messaging/causal_fence.py; setting REPORTING_ALERT_FENCE_MAX_WAIT_SECONDS).
"""

from collections.abc import Callable
from datetime import datetime, timezone

ANNOUNCED, CURRENT = "announced", "current"


def stamp(moment: datetime) -> str:
    """Instants are stored as fixed-width UTC ISO strings, so they compare as text."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def said(entry: dict | None) -> dict | None:
    """What an announcement says of an alert, from its `open_alerts` entry (None: not open)."""
    return None if entry is None else {"level": entry["level"], "months": entry.get("months")}


def staged(doc: dict | None, alert_id: str, before: dict | None, now: dict | None, day: str, cause: dict,
           announce_at: str, *, staged_at: str) -> dict:
    """The announcement once the alert changed from `before` to `now` (entries as `open_alerts`
    holds them, None when not open) as of `day`: `announce_at` set when what stands differs from
    what was last announced, absent when they agree (nothing waits: see `waits`)."""
    doc = doc or {"_id": alert_id, ANNOUNCED: said(before)}
    doc[CURRENT] = {"open": now is not None, "alert": now if now is not None else before, "day": day,
                    "cause": cause}
    doc.pop("announce_at", None)
    doc.pop("staged_at", None)
    if to_announce(doc):
        doc["announce_at"], doc["staged_at"] = announce_at, staged_at
    return doc


def waits(doc: dict) -> bool:
    """Whether something is to be announced (else the document is not needed)."""
    return "announce_at" in doc


def to_announce(doc: dict) -> list[tuple[str, dict, str]]:
    """What tells the difference between what was announced and what stands: ("raised", alert,
    day) for an alert opened or changed in level or months, ("cleared", alert, day) for one gone,
    or nothing."""
    current, announced = doc[CURRENT], doc[ANNOUNCED]
    if current["open"]:
        return [] if said(current["alert"]) == announced else [("raised", current["alert"], current["day"])]
    return [("cleared", current["alert"], current["day"])] if announced is not None else []


def due(doc: dict | None, now: str, fence_passed: Callable[[str], bool] = lambda _staged_at: True) -> bool:
    """Whether the change has stood for its settling time at `now` (instants as `stamp` writes them)
    and `fence_passed(staged_at)`: the facts published before it was staged have arrived. A change
    staged before announcements recorded `staged_at` is not held."""
    return (bool(doc) and "announce_at" in doc and doc["announce_at"] <= now
            and ("staged_at" not in doc or fence_passed(doc["staged_at"])))
