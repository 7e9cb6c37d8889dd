"""How many members an organisation's subtree holds: one query for the branches under it."""
from services.members.adapters.documents import ORGS, org_from_doc
from services.members.domain.organization import subtree_member_counts


async def member_counts(db, org_id: str, org_ids: list[str]) -> dict[str, int]:
    """`member_count` of each of `org_ids`, all within the subtree of `org_id`."""
    docs = await db[ORGS].find({"kind": "branch", "$or": [{"_id": org_id}, {"ancestors": org_id}]}).to_list(None)
    return subtree_member_counts([org_from_doc(d) for d in docs], org_ids)
