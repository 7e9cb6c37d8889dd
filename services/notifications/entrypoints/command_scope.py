"""Where each command of notifications.commands writes, for `POST /api/v1/commands` (shared.auth.command_scope).

A notice is placed by its audience (each organisation by its path, each named member by their
branch's), as `GET /api/v1/audience` places it; an acknowledgement and feedback by their member; a
door delivery by the member's branch and the specialist it was assigned to, so a specialist
completes only their own.
"""
from services.notifications.adapters.documents import DELIVERIES, MEMBERS, delivery_id, member_from_doc
from services.notifications.adapters.queries import org_path
from shared.auth.command_scope import Place, Scope, unknown


async def _org(db, org_id: str) -> Place:
    path = await org_path(db, org_id)
    return Place("organisation", org_id, tuple(path)) if path else unknown("organisation", org_id)


async def _member(db, member_id: str) -> Place:
    m = member_from_doc(await db[MEMBERS].find_one({"_id": member_id}))
    if m is None or not m.known:
        return unknown("member", member_id)
    return Place("member", member_id, (*m.ancestors, m.branch_id), member_id, m.specialist_id)


async def _notice(db, m) -> list[Place]:
    return [*[await _org(db, o) for o in m.audience.org_ids], *[await _member(db, i) for i in m.audience.member_ids]]


async def _member_of(db, m) -> list[Place]:
    return [await _member(db, m.member_id)]


async def _door_delivery(db, m) -> list[Place]:
    d = await db[DELIVERIES].find_one({"_id": delivery_id(m.notice_id, m.member_id)},
                                      {"branch_id": 1, "specialist_id": 1})
    if d is None or not d.get("branch_id"):
        return [unknown("member", m.member_id)]
    branch = await _org(db, d["branch_id"])
    return [Place("member", m.member_id, branch.path, m.member_id, d.get("specialist_id"))]


COMMAND_SCOPES: dict[str, Scope] = {
    "SendNotice": _notice,
    "AcknowledgeNotice": _member_of,
    "RecordFeedback": _member_of,
    "CompleteDoorDelivery": _door_delivery,  # a specialist: only a delivery assigned to them
}
