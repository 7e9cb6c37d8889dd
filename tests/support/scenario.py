"""Small builders of command envelopes for the tests."""
import uuid

from tests.support.messages import envelope


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def tree(n_branches: int = 1) -> tuple[dict, list[dict]]:
    """A district → subdistrict → community → branches tree: (ids, commands in order)."""
    ids = {"district": uid("d"), "subdistrict": uid("s"), "community": uid("c"),
           "branches": [uid("b") for _ in range(n_branches)]}
    cmds = [
        envelope("EstablishOrganization", {"org_id": ids["district"], "name": "X区", "kind": "district"}),
        envelope("EstablishOrganization", {"org_id": ids["subdistrict"], "name": "湖滨街道", "kind": "subdistrict",
                                           "parent_id": ids["district"]}),
        envelope("EstablishOrganization", {"org_id": ids["community"], "name": "天鹅湖社区", "kind": "community",
                                           "parent_id": ids["subdistrict"]}),
    ]
    for i, b in enumerate(ids["branches"]):
        cmds.append(envelope("EstablishOrganization", {"org_id": b, "name": f"天鹅湖社区退休党支部{i + 1}",
                                                       "kind": "branch", "parent_id": ids["community"]}))
    return ids, cmds


def register(branch_id: str, member_id: str | None = None, **over) -> dict:
    data = {"member_id": member_id or uid("m"), "name": "王秀英", "gender": "female", "birth_date": "1948-03-02",
            "branch_id": branch_id, "joined_party_on": "1972-07-01", "registered_on": "2026-01-05",
            "phone": "13912345678", "monthly_pension": "4800.00", "health": "fair"}
    data.update(over)
    return envelope("RegisterMember", data)
