"""How many members an organisation's subtree holds: one query for the branches under it."""
from services.members.adapters.documents import ORGS, org_from_doc
from services.members.domain.organization import subtree_member_counts


async def member_counts(db, org_id: str, org_ids: list[str]) -> dict[str, int]:
    """`member_count` of each of `org_ids`, all within the subtree of `org_id`."""
    # a branch's rosters and place alone: not its committee, elections, allowance… (a district: 2,000 branches)
    docs = await db[ORGS].find({"kind": "branch", "$or": [{"_id": org_id}, {"ancestors": org_id}]},
                               {f: 1 for f in ("name", "kind", "parent_id", "ancestors", "member_ids")}).to_list(None)
    return subtree_member_counts([org_from_doc(d) for d in docs], org_ids)
