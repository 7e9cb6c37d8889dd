"""The organisation tree for queries, read whole and kept for a couple of seconds.

Every report needs its organisation and the settings of the branches below it (what each must
hold); a district has hundreds of organisations, not members, so one read of them all serves
every report of the next seconds instead of a scan per report (FerretDB scans for any filter).
Projections are eventually consistent anyway: a change shows at most `TTL_S` later.
"""
import time

from services.reporting.adapters.documents import ORGS

TTL_S = 2.0


class OrgTree:
    def __init__(self, ttl_s: float = TTL_S):
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[float, dict[str, dict]]] = {}

    async def all(self, db) -> dict[str, dict]:
        read_at, orgs = self._cache.get(db.name, (float("-inf"), {}))
        if time.monotonic() - read_at > self.ttl_s:
            orgs = {o["_id"]: o async for o in db[ORGS].find({})}
            self._cache[db.name] = (time.monotonic(), orgs)
        return orgs

    async def get(self, db, org_id: str) -> dict | None:
        return (await self.all(db)).get(org_id)

    async def branches_under(self, db, org: dict) -> list[dict]:
        if org["kind"] == "branch":
            return [org]
        found = [o for o in (await self.all(db)).values() if o.get("kind") == "branch" and org["_id"] in o.get("ancestors", [])]
        return sorted(found, key=lambda b: (b["name"], b["_id"]))


TREE = OrgTree()
