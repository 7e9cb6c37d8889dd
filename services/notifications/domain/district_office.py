"""The district's organisation department as a recipient of reminders (domain.md: at six months,
"an alert to the branch secretary and the district").

The department is no member of a branch, but the delivery machinery (channels, retries, proof of
delivery) works on members: so it is kept as one recipient of its own, `district-office`,
reachable by the contacts the deployment configures (NOTIFY_DISTRICT_OFFICE) and never by a
specialist's visit, placed at the district (the deployment's district code, the envelopes'
`district`) and registered since the beginning. It is in no
branch's roster, so no notice to an organisation's members reaches it; only reminders name it.
"""
from services.notifications.domain.recipients import Member

OFFICE_ID = "district-office"
SINCE = "1921-07-01"  # before any day a notice can be addressed on


def office(current: Member | None, district: str, contact: dict) -> Member | None:
    """The recipient as configured now, or None when `current` already is (so that reminders do
    not all write it). A change of the setting replaces its contacts: they are configuration, not
    a member's history."""
    mb = Member(OFFICE_ID, name=contact.get("name") or "区委组织部", registered=[{"recorded": SINCE, "on": SINCE}],
                branch={"branch_id": district, "path": [district]},
                # no home a specialist could visit: like a member away, it is never sent a visit
                away=[{"recorded": SINCE, "from": SINCE, "until": None}],
                contacts=[{"recorded": SINCE, "phone": contact.get("phone"), "wechat_openid": contact.get("wechat_openid"),
                           "email": contact.get("email"), "preferred_channel": contact.get("preferred_channel") or "email"}])
    if current is not None and not current.named and (
            current.name, current.registered, current.branch, current.away, current.contacts) == (
            mb.name, mb.registered, mb.branch, mb.away, mb.contacts):
        return None
    # No notice is indexed under it (handlers._index): what versions before 5 December 2026 indexed
    # there (a reminder each, the document growing with the district's alerts) is dropped.
    mb.refresh()
    return mb
