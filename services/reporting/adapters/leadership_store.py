"""Reporting's documents of a branch's leadership (issue 13).

`trainees`, one document per member who attended a training session: `sessions`
{session_id: {held_on, hours, title}}.

`leadership`, one document per branch: the posts' history (`posts`), the terms (`terms`), the
elections (`elections`), the secretaries' assessments (`assessments` {"<year>|<member>": …}), the
allowance's rates and payments (`allowance_rates`, `allowance_payments` {payment_id: …}), its open leadership alerts (`open_alerts`, apart from the branch's
other alerts in `orgs`, which are evaluated elsewhere) and the days it was asked about and
evaluated on. What the rules need of the branch itself (established, committee, merged,
secretary) is read from its `orgs` document.
"""
from services.reporting.domain.leadership import Leadership

LEADERSHIP = "leadership"
TRAINEES = "trainees"


def new_doc(branch_id: str) -> dict:
    return {"_id": branch_id, "posts": [], "terms": [], "elections": [], "open_alerts": []}


def leadership_of(doc: dict | None, org: dict) -> Leadership:
    doc = doc or {}
    return Leadership(branch_id=org["_id"], established_on=org.get("established_on") or "0000-01-01",
                      has_committee=bool(org.get("has_committee")), merged_on=org.get("merged_on"),
                      org_secretary=org.get("secretary_id"), org_secretary_name=org.get("secretary_name"),
                      posts=doc.get("posts", []),
                      terms=doc.get("terms", []), elections=doc.get("elections", []),
                      assessments=list((doc.get("assessments") or {}).values()),
                      allowance_rates=doc.get("allowance_rates", []),
                      allowance_payments=list((doc.get("allowance_payments") or {}).values()))


def training_days(doc: dict | None) -> list[str]:
    """The days of the sessions a member attended, from their `trainees` document."""
    return sorted(x["held_on"] for x in ((doc or {}).get("sessions") or {}).values())
