"""What the specialists find reaches the member's ledger (issue 13): the members service reads
activities.events for the visits (`VisitRecorded`: health and needs) and the service requests they
and others open (`ServiceRequestOpened`, `…Resolved`), into one document per member (`visit_log`),
apart from the member's own record: no command contends with it, and a visit of a member not
registered here yet is kept until they are.

The profile's `health` stays what the registry says (UpdateMemberProfile); the ledger shows beside it
the health the latest visit found (`health_found`) and the needs found (`needs_found`).
"""
from services.members.adapters.documents import VISIT_LOG
from shared.contracts import activities as a
from shared.contracts import service_requests as sr
from shared.messaging.pipeline import Context, Handler

RECENT = 12  # visits listed in the ledger


async def _doc(ctx: Context, member_id: str) -> dict:
    return await ctx.get(VISIT_LOG, member_id) or {"_id": member_id, "visits": {}, "requests": {}}


async def visit_recorded(e: a.VisitRecorded, ctx: Context) -> None:
    doc = await _doc(ctx, e.member_id)
    doc["visits"][e.visit_id] = {"on": e.on.isoformat(), "kind": e.kind, "specialist_id": e.specialist_id,
                                 "health": e.health, "needs": list(e.needs), "notes": e.notes}
    ctx.put(VISIT_LOG, doc)


async def request_opened(e: sr.ServiceRequestOpened, ctx: Context) -> None:
    doc = await _doc(ctx, e.member_id)
    doc["requests"].setdefault(e.request_id, {}).update(
        kind=e.kind, service=e.service, description=e.description, source=e.source, opened_on=e.opened_on.isoformat(),
        due_on=e.due_on.isoformat(), responsible_id=e.responsible_id)
    ctx.put(VISIT_LOG, doc)


async def request_resolved(e: sr.ServiceRequestResolved, ctx: Context) -> None:
    doc = await _doc(ctx, e.member_id)
    doc["requests"].setdefault(e.request_id, {}).update(resolved_on=e.on.isoformat(), outcome=e.outcome)
    ctx.put(VISIT_LOG, doc)


def _member(e) -> list:
    return [(VISIT_LOG, e.member_id)]


HANDLERS: dict[str, Handler] = {
    "VisitRecorded": Handler(visit_recorded, _member),
    "ServiceRequestOpened": Handler(request_opened, _member),
    "ServiceRequestResolved": Handler(request_resolved, _member),
}


def ledger_part(doc: dict | None, day: str) -> dict:
    """The ledger's `visits` (latest first), `health_found`, `needs_found` and `service_requests` on a day."""
    from shared.rules import labels
    from shared.rules.service_labels import SERVICES

    doc = doc or {}
    visits = sorted(({"visit_id": k, **v} for k, v in (doc.get("visits") or {}).items() if v["on"] <= day),
                    key=lambda v: (v["on"], v["visit_id"]), reverse=True)
    with_health = next((v for v in visits if v.get("health")), None)
    requests = sorted(({"request_id": k, **v, "service_label": SERVICES.get(v.get("service"), v.get("service")),
                        "open": not (v.get("resolved_on") and v["resolved_on"] <= day)}
                       for k, v in (doc.get("requests") or {}).items() if v.get("opened_on", day) <= day),
                      key=lambda r: (r.get("opened_on") or "", r["request_id"]), reverse=True)
    return {
        "visits": [v | {"kind_label": labels.VISIT_KINDS.get(v["kind"]), "health_label": labels.HEALTH.get(v.get("health"))}
                   for v in visits[:RECENT]],
        "visits_total": len(visits),
        "health_found": {"health": with_health["health"], "health_label": labels.HEALTH.get(with_health["health"]),
                         "on": with_health["on"], "visit_id": with_health["visit_id"]} if with_health else None,
        "needs_found": visits[0]["needs"] if visits else [],
        "service_requests": requests,
    }
