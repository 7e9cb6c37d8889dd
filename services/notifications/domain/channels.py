"""Which channel reaches which member, and what comes next when one fails.

The preferred channel is used when it works for the member (a phone for SMS and calls, an
openid for WeChat, an address for email, being at home for a visit). A member with no phone
gets a visit (送学上门). Electronic channels fall back to one another and end at the door; a
member who is away is never sent a visit, so their chain ends with a specialist's phone call.
"""
from dataclasses import dataclass

ELECTRONIC = ("wechat", "sms", "email")
# Carried out by a person (the member's one-to-one specialist), not by a gateway.
BY_SPECIALIST = ("door", "phone_call")


@dataclass(frozen=True)
class Reach:
    phone: str | None = None
    wechat_openid: str | None = None
    email: str | None = None
    preferred: str = "door"
    away: bool = False


def works(channel: str, r: Reach) -> bool:
    return {
        "sms": bool(r.phone), "phone_call": bool(r.phone), "wechat": bool(r.wechat_openid),
        "email": bool(r.email), "door": not r.away,
    }[channel]


def plan(r: Reach) -> list[str]:
    """The channels to try in order; empty when nothing can reach the member."""
    if works(r.preferred, r):
        first = r.preferred
    elif not r.phone and not r.away:
        first = "door"
    else:
        first = next((c for c in (*ELECTRONIC, "phone_call") if works(c, r)), None)
    if first is None:
        return []
    if first in BY_SPECIALIST:
        return [first]
    chain = [first] + [c for c in ELECTRONIC if c != first and works(c, r)]
    last = "door" if works("door", r) else "phone_call" if works("phone_call", r) else None
    return chain + ([last] if last else [])
