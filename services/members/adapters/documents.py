"""Mapping between domain objects and MongoDB documents.

Collections: `orgs`, `members`, `payments` (one per payment_id, so a repeated payment id is
caught across members), `awards` (one per award_id) and `audit` (one entry per command and
record changed, for the history of every change).

`ORGANIZATION` and `MEMBER` are the typed collections handlers use (`ctx.repo(MEMBER).get(id)`);
the names (`ORGS`, `MEMBERS`…) serve queries, HTTP routes and the handlers' `wants`. Documents
read from the database carry the unit of work's version `_v`: the mappings ignore it.
"""
from dataclasses import asdict

from services.members.domain.member import Member
from services.members.domain.organization import Organization
from shared.messaging.repository import Collection

ORGS = "orgs"
MEMBERS = "members"
PAYMENTS = "payments"
AWARDS = "awards"
ELECTIONS = "elections"  # one per election_id, so a repeated election id is caught across branches
TRAININGS = "trainings"  # one per training session: its title, day, hours and attendees
ALLOWANCE_PAYMENTS = "allowance_payments"  # one per payment_id of a secretary's allowance, across branches
AUDIT = "audit"
VISIT_LOG = "visit_log"  # one per member: what the specialists' visits found (visit_findings.py)


def org_to_doc(org: Organization) -> dict:
    d = asdict(org)
    d["_id"] = d.pop("org_id")
    return d


def org_from_doc(doc: dict | None) -> Organization | None:
    if doc is None:
        return None
    d = {k: v for k, v in doc.items() if k not in ("_id", "_v")}
    return Organization(org_id=doc["_id"], **d)


def member_to_doc(m: Member) -> dict:
    d = asdict(m)
    d["_id"] = d.pop("member_id")
    d["name"] = m.profile.get("name")  # top level, for search by name
    return d


def member_from_doc(doc: dict | None) -> Member | None:
    if doc is None:
        return None
    d = {k: v for k, v in doc.items() if k not in ("_id", "name", "_v")}
    return Member(member_id=doc["_id"], **d)


ORGANIZATION: Collection[Organization] = Collection(ORGS, org_to_doc, org_from_doc)
MEMBER: Collection[Member] = Collection(MEMBERS, member_to_doc, member_from_doc)


async def setup(db) -> None:
    await db[ORGS].create_index("parent_id")
    await db[ORGS].create_index("ancestors")  # a subtree's branches (member counts)
    await db[MEMBERS].create_index("branch_id")
    # a subtree's members, a page at a time in list order (adapters/queries.py `members_page`)
    await db[MEMBERS].create_index([("org_path", 1), ("name", 1), ("_id", 1)])
    await db[MEMBERS].create_index("name")
    await db[PAYMENTS].create_index("member_id")
    await db[AUDIT].create_index([("subject_id", 1), ("at", 1)])
