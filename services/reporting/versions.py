"""Which database holds the projections queries read: a pointer document, so that a rebuild can
fill a fresh database and then switch queries over without stopping them.

Version 0 is the service's own database (`<prefix>reporting`); version N is
`<prefix>reporting_v<N>`. The pointer lives in `<prefix>reporting_control.pointer`.
"""
import time

from shared.settings import Settings

CONTROL = "control"
POINTER_ID = "projections"
CACHE_S = 2.0


def control_db(client, settings: Settings):
    return client[f"{settings.database_name('reporting')}_{CONTROL}"]


def database_for(settings: Settings, version: int) -> str:
    base = settings.database_name("reporting")
    return base if version == 0 else f"{base}_v{version}"


def subscription_for(version: int) -> str:
    """Each version consumes with its own consumer group, from the start of the topics."""
    return "projections" if version == 0 else f"projections_v{version}"


def read_version_sync(settings: Settings) -> int:
    """At start-up (bootstrap is synchronous): the version the pointer names, 0 if none."""
    from pymongo import MongoClient

    with MongoClient(settings.mongodb_url, serverSelectionTimeoutMS=5000) as client:
        doc = control_db(client, settings)["pointer"].find_one({"_id": POINTER_ID})
    return int(doc["version"]) if doc else 0


class Pointer:
    """The query side's view of the pointer, re-read at most every CACHE_S seconds."""

    def __init__(self, client, settings: Settings):
        self.client, self.settings = client, settings
        self._version, self._read_at = 0, float("-inf")

    async def version(self) -> int:
        if time.monotonic() - self._read_at > CACHE_S:
            doc = await control_db(self.client, self.settings)["pointer"].find_one({"_id": POINTER_ID})
            self._version, self._read_at = (int(doc["version"]) if doc else 0), time.monotonic()
        return self._version

    async def db(self):
        return self.client[database_for(self.settings, await self.version())]


async def switch(client, settings: Settings, version: int) -> None:
    from datetime import datetime, timezone

    await control_db(client, settings)["pointer"].replace_one(
        {"_id": POINTER_ID}, {"_id": POINTER_ID, "version": version, "switched_at": datetime.now(timezone.utc)},
        upsert=True)
