"""A party member's record in the ledger (党员管理台账) and the rules of registering one."""
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from services.members.domain.dues import monthly_dues
from services.members.domain.organization import Organization
from shared.errors import Rejected, duplicate, invalid

MOBILE = re.compile(r"1[3-9]\d{9}")
LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}")


@dataclass
class Member:
    member_id: str
    branch_id: str
    profile: dict[str, Any]  # the RegisterMember profile fields, codes and ISO dates
    registered_on: str
    status: str = "resident"
    specialist_id: str | None = None
    died_on: str | None = None
    transferred_on: str | None = None
    history: list[dict] = field(default_factory=list)

    @property
    def alive_here(self) -> bool:
        return self.died_on is None and self.transferred_on is None


def plausible_phone(phone: str) -> bool:
    digits = phone.replace(" ", "").removeprefix("+86")
    return bool(MOBILE.fullmatch(digits) or LANDLINE.fullmatch(digits))


def channel_for(profile: dict[str, Any]) -> str:
    """The preferred channel, if the member can be reached by it; `door` for a member without a phone."""
    preferred = profile.get("preferred_channel")
    reachable = {
        "sms": bool(profile.get("phone")), "phone_call": bool(profile.get("phone")),
        "wechat": bool(profile.get("wechat_openid")), "email": bool(profile.get("email")), "door": True,
    }
    if not profile.get("phone"):
        return "door"
    if preferred and reachable[preferred]:
        return preferred
    return "sms"


def check_profile(profile: dict[str, Any]) -> None:
    """Rules a person can get wrong when typing a profile. Raises `invalid` with every fault."""
    errors = []
    birth, joined = profile.get("birth_date"), profile.get("joined_party_on")
    if birth and joined and joined <= birth:
        errors.append({"field": "data.joined_party_on", "message": "joined the Party before being born"})
    if birth and joined and _years(birth, joined) < 18:
        errors.append({"field": "data.joined_party_on", "message": "joined the Party before the age of 18"})
    retired = profile.get("retired_on")
    if birth and retired and retired <= birth:
        errors.append({"field": "data.retired_on", "message": "retired before being born"})
    phone = profile.get("phone")
    if phone and not plausible_phone(phone):
        errors.append({"field": "data.phone", "message": f"{phone!r} is not a plausible phone number"})
    email = profile.get("email")
    if email and "@" not in email:
        errors.append({"field": "data.email", "message": f"{email!r} is not an email address"})
    pension = profile.get("monthly_pension")
    if pension is not None and Decimal(pension) < 0:
        errors.append({"field": "data.monthly_pension", "message": "the pension cannot be negative"})
    if errors:
        raise Rejected.many("invalid", errors)


def _years(a: str, b: str) -> int:
    da, db = date.fromisoformat(a), date.fromisoformat(b)
    return db.year - da.year - ((db.month, db.day) < (da.month, da.day))


def register(existing: Member | None, branch: Organization, *, member_id: str, profile: dict[str, Any],
             registered_on: str) -> Member:
    if existing is not None:
        raise duplicate(f"member {member_id} is already registered", "data.member_id")
    check_profile(profile)
    if profile.get("birth_date") and registered_on < profile["birth_date"]:
        raise invalid("registered before being born", "data.registered_on")
    profile = {**profile, "preferred_channel": channel_for(profile), "registered_on": registered_on}
    return Member(member_id=member_id, branch_id=branch.org_id, profile=profile, registered_on=registered_on)


def dues_of(member: Member, year: int) -> Decimal | None:
    pension = member.profile.get("monthly_pension")
    return monthly_dues(Decimal(pension)) if pension is not None else None
