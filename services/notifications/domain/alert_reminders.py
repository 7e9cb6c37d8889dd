"""What notifications knows of reporting's alerts, so that a reminder goes only for an alert that
stood (docs/reliability.md, finding 29).

Reporting evaluates alerts as of the day of each event, as events arrive; when a fact from another
topic (a payment, a meeting) is handled after a later-dated one, an alert is raised and then
cleared a moment later. A member must not be reminded of an arrear they had already paid, so a
reminder waits: it is noted when its alert is raised and created only once the alert has stood
for the settling time (the setting NOTIFY_REMINDER_SETTLE_SECONDS). An AlertCleared in the
meantime drops it.

One document per alert: {_id: alert_id, open, as_of (the day reporting last said something of it),
pending: {reminder name: what the reminder needs, and `remind_at`}, reminded: [names],
remind_at: the earliest pending `remind_at`, absent when nothing is pending (the index the delivery
worker polls)}. Raise and clear of one alert share a key, so they come in order; but two instances
of reporting each publish what they commit, so they may not: the day decides (a raise dated no
later than a clear already recorded is an older word, and is ignored).
"""
from datetime import datetime

from services.notifications.domain.delivery import stamp

WARNING, ALERT = "warning", "alert"


def reminder_name(alert_id: str, level: str, months: int | None) -> str:
    """`reminder:<alert_id>:warning:<months>` (one a month while the run grows), or
    `reminder:<alert_id>:alert` (once)."""
    return f"reminder:{alert_id}:alert" if level == ALERT else f"reminder:{alert_id}:{level}:{months}"


def _new(alert_id: str) -> dict:
    return {"_id": alert_id, "open": False, "as_of": "", "pending": {}, "reminded": []}


def raised(doc: dict | None, alert_id: str, as_of: str, name: str, reminder: dict, remind_at: datetime) -> dict:
    """The alert stands as of `as_of`; the reminder `name` (`reminder`: the AlertRaised's fields,
    with the instant it happened and its correlation) goes at `remind_at` unless the alert clears
    before. A reminder already noted or sent is not noted again."""
    doc = doc or _new(alert_id)
    if not doc["open"] and doc["as_of"] and doc["as_of"] >= as_of:
        return doc  # cleared as of that day or later: an older word
    doc["open"], doc["as_of"] = True, max(doc["as_of"], as_of)
    if name not in doc["pending"] and name not in doc["reminded"]:
        doc["pending"][name] = {**reminder, "remind_at": stamp(remind_at)}
    return _next(doc)


def cleared(doc: dict | None, alert_id: str, as_of: str) -> dict:
    """The alert is gone as of `as_of`: what it was to remind of is dropped."""
    doc = doc or _new(alert_id)
    if doc["open"] and doc["as_of"] > as_of:
        return doc  # raised again since (a later day): this clear is older
    doc["open"], doc["as_of"], doc["pending"] = False, max(doc["as_of"], as_of), {}
    return _next(doc)


def due(doc: dict, now: datetime) -> list[tuple[str, dict]]:
    """The reminders to create now: noted for an alert still open, their settling time over."""
    if not doc["open"]:
        return []
    return sorted((name, p) for name, p in doc["pending"].items() if p["remind_at"] <= stamp(now))


def reminded(doc: dict, names: list[str]) -> dict:
    for name in names:
        doc["pending"].pop(name, None)
        if name not in doc["reminded"]:
            doc["reminded"].append(name)
    return _next(doc)


def _next(doc: dict) -> dict:
    """`remind_at`: the earliest pending reminder's, absent when none is (the worker's index)."""
    doc.pop("remind_at", None)
    if doc["pending"]:
        doc["remind_at"] = min(p["remind_at"] for p in doc["pending"].values())
    return doc
