"""Who a notice reaches: the members registered at sending time in the audience, each once."""
from dataclasses import dataclass, field
from datetime import date

from services.notifications.domain.channels import Reach

GONE = ("transferred", "deceased")


@dataclass
class Member:
    """What this service knows of a member, projected from members.events."""

    member_id: str
    name: str = ""
    branch_id: str | None = None
    ancestors: list[str] = field(default_factory=list)
    registered_on: str | None = None
    status: str = "resident"  # resident · transferred · deceased (away and exempt are dated below)
    away_from: str | None = None
    away_until: str | None = None
    phone: str | None = None
    wechat_openid: str | None = None
    email: str | None = None
    preferred_channel: str = "door"
    lives_alone: bool = False
    health: str = "good"
    specialist_id: str | None = None
    specialist_name: str | None = None

    def registered(self, on: date) -> bool:
        if self.status in GONE or self.branch_id is None:
            return False
        return self.registered_on is None or self.registered_on <= on.isoformat()

    def away(self, on: date) -> bool:
        day = on.isoformat()
        return bool(self.away_from and self.away_from <= day and (self.away_until is None or day <= self.away_until))

    def reach(self, on: date) -> Reach:
        return Reach(phone=self.phone, wechat_openid=self.wechat_openid, email=self.email,
                     preferred=self.preferred_channel, away=self.away(on))


def audience(members_of_orgs: list[str], named: list[str]) -> list[str]:
    """Org subtrees first, then named members; each member once, order kept."""
    return list(dict.fromkeys([*members_of_orgs, *named]))
