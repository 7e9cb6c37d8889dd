"""Service requests and difficulties (服务 and 困难帮扶, issue 13) as reporting sees them: one
document per request, from its events (all keyed by the request, so in order); the
`request_overdue` alert; the report's section `services`.

A request is *open* on a day when it was opened by then and not resolved by then; *overdue*
when open after its due date. The alert is raised from the day after the due date (not before
`RECORDS_START`) at level `warning`, `alert` once more than `ALERT_AFTER_DAYS` past it; it clears
with the resolution (or a later due date).
"""
from collections import Counter

from services.reporting.domain import days as d
from services.reporting.domain.alerts import Alert
from shared.periods import Period

KIND = "request_overdue"
ALERT_AFTER_DAYS = 30
COUNTS = ("opened", "resolved", "resolved_late", "open", "overdue")


def new_doc(request_id: str) -> dict:
    return {"_id": request_id, "open_alerts": []}


def opened(doc: dict, e) -> None:
    doc.update(member_id=e.member_id, branch_id=e.branch_id or doc.get("branch_id"), kind=e.kind, service=e.service,
               description=e.description, source=e.source, visit_id=e.visit_id, opened_on=e.opened_on.isoformat(),
               responsible_id=e.responsible_id, responsible_name=e.responsible_name, due_on=e.due_on.isoformat())
    doc.setdefault("resolved_on", None)


def assigned(doc: dict, e) -> None:
    doc.update(responsible_id=e.responsible_id, responsible_name=e.responsible_name, due_on=e.due_on.isoformat())


def resolved(doc: dict, e) -> None:
    doc.update(resolved_on=e.on.isoformat(), outcome=e.outcome, resolution=e.resolution, late=e.late)


def open_on(r: dict, day: str) -> bool:
    return bool(r.get("opened_on")) and r["opened_on"] <= day and not (r.get("resolved_on") and r["resolved_on"] <= day)


def overdue_on(r: dict, day: str) -> bool:
    return open_on(r, day) and r["due_on"] < day


def alerts(r: dict, day: str, *, records_start: str | None = None) -> list[Alert]:
    if not r.get("branch_id") or not overdue_on(r, day) or (records_start and day < records_start):
        return []
    level = "alert" if day > d.add_days(r["due_on"], ALERT_AFTER_DAYS) else "warning"
    since = d.later(d.add_days(r["due_on"], 1), records_start)
    return [Alert(KIND, level, r["_id"], r["branch_id"], since, details={
        "member_id": r["member_id"], "kind": r["kind"], "service": r["service"], "description": r.get("description"),
        "source": r["source"], "responsible_id": r["responsible_id"], "responsible_name": r.get("responsible_name"),
        "opened_on": r["opened_on"], "due_on": r["due_on"]})]


def figures(requests: list[dict], period: Period, day: str) -> dict:
    """The report's `services` of these requests: opened and resolved within the period (up to the
    reading day), open and overdue on the reading day, and what was opened by kind, service and source."""
    start, end = period.start.isoformat(), min(period.end.isoformat(), day)
    out = dict.fromkeys(COUNTS, 0)
    by_kind, by_service, by_source = Counter(), Counter(), Counter()
    for r in requests:
        if not r.get("opened_on"):
            continue
        if start <= r["opened_on"] <= end:
            out["opened"] += 1
            by_kind[r["kind"]] += 1
            by_service[r["service"]] += 1
            by_source[r["source"]] += 1
        if r.get("resolved_on") and start <= r["resolved_on"] <= end:
            out["resolved"] += 1
            out["resolved_late"] += r["resolved_on"] > r["due_on"]
        out["open"] += open_on(r, end)
        out["overdue"] += overdue_on(r, end)
    return out | {"by_kind": dict(sorted(by_kind.items())), "by_service": dict(sorted(by_service.items())),
                  "by_source": dict(sorted(by_source.items()))}


def row(r: dict, day: str, names: dict) -> dict:
    """A request as a list shows it, with its status on the day."""
    status = "resolved" if not open_on(r, day) else "overdue" if overdue_on(r, day) else "open"
    keep = ("member_id", "branch_id", "kind", "service", "description", "source", "visit_id", "opened_on",
            "responsible_id", "responsible_name", "due_on", "resolved_on", "outcome", "resolution")
    return {"request_id": r["_id"], **{k: r.get(k) for k in keep}, "member_name": names.get(r.get("member_id")),
            "status": status}
