"""HTTP queries of the activities service."""
from fastapi import APIRouter, Request

from services.activities.adapters.documents import ACTIVITIES
from shared.http.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["activities"])


@router.get("/activities/{activity_id}", summary="One activity with its attendance and minutes")
async def get_activity(activity_id: str, request: Request) -> dict:
    doc = await request.app.state.runtime.db[ACTIVITIES].find_one({"_id": activity_id})
    if doc is None:
        raise NotFound("activity", activity_id)
    doc["activity_id"] = doc.pop("_id")
    return doc
