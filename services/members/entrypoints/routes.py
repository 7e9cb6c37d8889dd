"""HTTP queries of the members service."""
from fastapi import APIRouter, Request

from services.members.adapters.documents import MEMBERS, ORGS
from shared.http.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["members"])


def _db(request: Request):
    return request.app.state.runtime.db


@router.get("/orgs/{org_id}", summary="An organisation with its children")
async def get_org(org_id: str, request: Request) -> dict:
    db = _db(request)
    org = await db[ORGS].find_one({"_id": org_id})
    if org is None:
        raise NotFound("organisation", org_id)
    children = await db[ORGS].find({"parent_id": org_id}).sort("_id", 1).to_list(None)
    org["org_id"] = org.pop("_id")
    org["children"] = [{"org_id": ch["_id"], "name": ch["name"], "kind": ch["kind"]} for ch in children]
    return org


@router.get("/members/{member_id}", summary="One member's record")
async def get_member(member_id: str, request: Request) -> dict:
    doc = await _db(request)[MEMBERS].find_one({"_id": member_id})
    if doc is None:
        raise NotFound("member", member_id)
    doc["member_id"] = doc.pop("_id")
    return doc
