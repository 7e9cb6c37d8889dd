"""Reporting's projections (collections `orgs` and `members`) and their mapping."""
from services.reporting.domain.roster import MemberFacts, Stint

ORGS = "orgs"
MEMBERS = "members"


def facts_from_doc(doc: dict | None, member_id: str) -> MemberFacts:
    if doc is None:
        return MemberFacts(member_id)
    return MemberFacts(doc["_id"], [Stint(**s) for s in doc.get("stints", [])], doc.get("died_on"))


def facts_to_doc(m: MemberFacts) -> dict:
    stints = [vars(s) | {} for s in m.stints]
    # `orgs` lists every org any stint ran under: an indexed filter before the exact check.
    orgs = sorted({o for s in m.stints for o in s.path})
    return {"_id": m.member_id, "stints": stints, "died_on": m.died_on, "orgs": orgs}


async def setup(db) -> None:
    await db[MEMBERS].create_index("orgs")
    await db[ORGS].create_index("ancestors")
