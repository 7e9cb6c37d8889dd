"""HTTP queries of the notifications service."""
from fastapi import APIRouter, Request

from services.notifications.adapters.documents import NOTICES
from shared.http.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["notices"])


@router.get("/notices/{notice_id}", summary="One notice")
async def get_notice(notice_id: str, request: Request) -> dict:
    doc = await request.app.state.runtime.db[NOTICES].find_one({"_id": notice_id})
    if doc is None:
        raise NotFound("notice", notice_id)
    doc["notice_id"] = doc.pop("_id")
    return doc
