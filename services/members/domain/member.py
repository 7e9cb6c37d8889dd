"""A party member's record in the ledger (党员管理台账) and the rules of every change to it.

Dates are ISO strings (`YYYY-MM-DD`), which compare in calendar order. The status of a member
is never trusted from a stored flag alone: `status_on(day)` derives it from the dates recorded
(death, transfer out, away periods, exemptions), so it cannot go stale.
"""
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from services.members.domain.dues import dues_for_year
from services.members.domain.organization import Organization
from shared.errors import Rejected, conflict, duplicate, invalid, not_allowed

MOBILE = re.compile(r"1[3-9]\d{9}")
LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}")
# Profile fields a member cannot be without: an update may change them, not blank them.
REQUIRED_PROFILE = ("name", "gender", "birth_date", "joined_party_on", "registered_on", "monthly_pension")
FAR_FUTURE = "9999-12-31"
# Away at one place for longer than this, the Party relationship should follow (domain.md).
TRANSFER_SUGGESTED_AFTER_MONTHS = 6


@dataclass
class Member:
    member_id: str
    branch_id: str
    profile: dict[str, Any]  # the RegisterMember profile fields, codes and ISO dates
    registered_on: str
    status: str = "resident"  # as of the last change recorded; reads use status_on(day)
    specialist_id: str | None = None
    died_on: str | None = None
    transferred_on: str | None = None  # left the district
    history: list[dict] = field(default_factory=list)  # status changes: {on, change, status, ...}
    org_path: list[str] = field(default_factory=list)  # district … branch, for subtree queries
    destination: str | None = None
    specialist: dict | None = None  # {specialist_id, name, phone}
    pensions: list[dict] = field(default_factory=list)  # {from, amount}: the pension history
    away: list[dict] = field(default_factory=list)  # {from, until, location, reason, returned_on}
    exemptions: list[dict] = field(default_factory=list)  # {from, until, reason}
    paid_months: list[str] = field(default_factory=list)
    evaluations: list[dict] = field(default_factory=list)  # {year, result, on, current}
    awards: list[dict] = field(default_factory=list)  # {award_id, year, category}
    trainings: list[dict] = field(default_factory=list)  # {session_id, title, held_on, hours}: 培训 attended

    @property
    def alive_here(self) -> bool:
        return self.died_on is None and self.transferred_on is None

    def require_active(self) -> None:
        """A dead member, or one who left the district, takes no more commands."""
        if self.died_on is not None:
            raise not_allowed(f"member {self.member_id} died on {self.died_on}", "data.member_id")
        if self.transferred_on is not None:
            raise not_allowed(f"member {self.member_id} was transferred out of the district on "
                              f"{self.transferred_on}", "data.member_id")

    def status_on(self, day: str) -> str:
        if self.died_on and day >= self.died_on:
            return "deceased"
        if self.transferred_on and day >= self.transferred_on:
            return "transferred"
        if any(_away_start(a) <= day < _away_end(a) for a in self.away):
            return "away"
        if any(e["from"] <= day <= (e["until"] or FAR_FUTURE) for e in self.exemptions):
            return "exempt"
        return "resident"

    def transfer_suggested_on(self, day: str) -> bool:
        """Away at one place for more than six months on `day`: suggest moving the relationship."""
        return any(_away_start(a) <= day < _away_end(a)
                   and _add_months(_away_start(a), TRANSFER_SUGGESTED_AFTER_MONTHS) < day for a in self.away)

    def dues_for(self, year: int) -> Decimal | None:
        return dues_for_year(self.pensions, year)

    def _note(self, on: str, change: str, **detail: Any) -> None:
        self.status = self.status_on(on)
        self.history.append({"on": on, "change": change, "status": self.status, **detail})


def _away_start(a: dict) -> str:
    return a["from"]


def _away_end(a: dict) -> str:
    """The first day the member is back (exclusive end): the return, else the day after `until`."""
    if a.get("returned_on"):
        return a["returned_on"]
    if a.get("until"):
        return _next_day(a["until"])
    return FAR_FUTURE


def _add_months(day: str, months: int) -> str:
    d = date.fromisoformat(day)
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(d.day, last)).isoformat()


def _next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


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


def check_profile(profile: dict[str, Any], prefix: str = "data.") -> None:
    """Rules a person can get wrong when typing a profile. Raises `invalid` with every fault."""
    errors = []
    birth, joined = profile.get("birth_date"), profile.get("joined_party_on")
    if birth and joined and joined <= birth:
        errors.append({"field": f"{prefix}joined_party_on", "message": "joined the Party before being born"})
    elif birth and joined and _years(birth, joined) < 18:
        errors.append({"field": f"{prefix}joined_party_on", "message": "joined the Party before the age of 18"})
    retired = profile.get("retired_on")
    if birth and retired and retired <= birth:
        errors.append({"field": f"{prefix}retired_on", "message": "retired before being born"})
    registered = profile.get("registered_on")
    if birth and registered and registered < birth:
        errors.append({"field": f"{prefix}registered_on", "message": "registered before being born"})
    phone = profile.get("phone")
    if phone and not plausible_phone(phone):
        errors.append({"field": f"{prefix}phone", "message": f"{phone!r} is not a plausible phone number"})
    email = profile.get("email")
    if email and "@" not in email:
        errors.append({"field": f"{prefix}email", "message": f"{email!r} is not an email address"})
    pension = profile.get("monthly_pension")
    if pension is not None and Decimal(pension) < 0:
        errors.append({"field": f"{prefix}monthly_pension", "message": "the pension cannot be negative"})
    if errors:
        raise Rejected.many("invalid", errors)


def _years(a: str, b: str) -> int:
    da, db = date.fromisoformat(a), date.fromisoformat(b)
    return db.year - da.year - ((db.month, db.day) < (da.month, da.day))


def register(existing: Member | None, branch: Organization, *, member_id: str, profile: dict[str, Any],
             registered_on: str) -> Member:
    if existing is not None:
        raise duplicate(f"member {member_id} is already registered", "data.member_id")
    profile = {**profile, "registered_on": registered_on}
    check_profile(profile)
    profile["preferred_channel"] = channel_for(profile)
    member = Member(member_id=member_id, branch_id=branch.org_id, profile=profile, registered_on=registered_on,
                    org_path=branch.path, pensions=[{"from": registered_on, "amount": profile["monthly_pension"]}])
    member._note(registered_on, "registered", branch_id=branch.org_id)
    return member


def dues_of(member: Member, year: int) -> Decimal | None:
    return member.dues_for(year)


def update_profile(member: Member, changes: dict[str, Any], *, on: str) -> dict[str, Any]:
    """Apply validated profile changes (codes and ISO strings). Returns the values before."""
    member.require_active()
    blanked = [k for k in REQUIRED_PROFILE if k in changes and changes[k] is None]
    if blanked:
        raise Rejected.many("invalid", [{"field": f"data.changes.{k}", "message": "cannot be removed"}
                                        for k in blanked])
    before = {k: member.profile.get(k) for k in changes}
    profile = {**member.profile, **changes}
    check_profile(profile, "data.changes.")
    if "registered_on" in changes and any(h["on"] < changes["registered_on"] for h in member.history[1:]):
        raise invalid("registered after changes already recorded for the member", "data.changes.registered_on")
    profile["preferred_channel"] = channel_for(profile)
    member.profile = profile
    if "registered_on" in changes:
        member.registered_on = member.history[0]["on"] = changes["registered_on"]
        member.pensions[0]["from"] = min(member.pensions[0]["from"], changes["registered_on"])
    if "monthly_pension" in changes and changes["monthly_pension"] != before["monthly_pension"]:
        member.pensions = [p for p in member.pensions if p["from"] != on]
        member.pensions.append({"from": on, "amount": changes["monthly_pension"]})
        member.pensions.sort(key=lambda p: p["from"])
    return before


def _not_before_registration(member: Member, day: str, field_name: str) -> None:
    if day < member.registered_on:
        raise invalid(f"{day} is before the member was registered ({member.registered_on})", field_name)


def transfer(member: Member, *, on: str, to_branch: Organization | None, destination: str | None,
             merged: bool = False) -> str:
    """Move a member to another branch, or out of the district (the record is kept, marked
    transferred). Returns the branch left."""
    member.require_active()
    _not_before_registration(member, on, "data.on")
    left = member.branch_id
    if to_branch is None:
        if not destination:
            raise invalid("a transfer out of the district needs a destination", "data.destination")
        member.transferred_on, member.destination = on, destination
        member._note(on, "transferred_out", from_branch_id=left, destination=destination)
        return left
    if to_branch.org_id == left:
        raise invalid(f"member {member.member_id} is already in branch {left}", "data.to_branch_id")
    member.branch_id, member.org_path = to_branch.org_id, to_branch.path
    member._note(on, "merged" if merged else "transferred", from_branch_id=left, to_branch_id=to_branch.org_id)
    return left


def _overlaps(start_a: str, end_a: str, start_b: str, end_b: str) -> bool:
    """Half-open intervals [start, end)."""
    return start_a < end_b and start_b < end_a


def _span_end(member: Member, start: str, until: str | None) -> str:
    """Check a from/until span of an active member; its exclusive end (open-ended: far future)."""
    member.require_active()
    _not_before_registration(member, start, "data.from")
    if until is not None and until < start:
        raise invalid(f"until {until} is before from {start}", "data.until")
    return _next_day(until) if until else FAR_FUTURE


def mark_away(member: Member, *, start: str, until: str | None, location: str, reason: str) -> None:
    end = _span_end(member, start, until)
    for a in member.away:
        if _overlaps(start, end, _away_start(a), _away_end(a)):
            held = f"{a['from']}–{a.get('returned_on') or a.get('until') or '…'}"
            raise conflict(f"member {member.member_id} is already away at {a['location']} ({held})", "data.from")
    member.away.append({"from": start, "until": until, "location": location, "reason": reason, "returned_on": None})
    member.away.sort(key=_away_start)
    member._note(start, "away", location=location, until=until, reason=reason)


def mark_returned(member: Member, *, on: str) -> dict:
    """End the away period open on `on`. Returns that period."""
    member.require_active()
    open_periods = [a for a in member.away if not a.get("returned_on") and a["from"] <= on]
    if not open_periods:
        raise conflict(f"member {member.member_id} is not away on {on}", "data.on")
    period = open_periods[-1]
    if on == period["from"]:
        raise invalid(f"returned the day the absence began ({on})", "data.on")
    period["returned_on"] = on
    member._note(on, "returned", location=period["location"], away_from=period["from"])
    return period


def exempt(member: Member, *, start: str, until: str | None, reason: str) -> None:
    end = _span_end(member, start, until)
    for e in member.exemptions:
        if _overlaps(start, end, e["from"], _next_day(e["until"]) if e["until"] else FAR_FUTURE):
            raise conflict(f"member {member.member_id} is already exempt from {e['from']}", "data.from")
    member.exemptions.append({"from": start, "until": until, "reason": reason})
    member.exemptions.sort(key=lambda e: e["from"])
    member._note(start, "exempted", until=until, reason=reason)


def record_death(member: Member, *, on: str) -> None:
    member.require_active()
    _not_before_registration(member, on, "data.on")
    member.died_on = on
    member._note(on, "died")


def assign_specialist(member: Member, *, specialist_id: str, name: str, phone: str | None) -> str | None:
    member.require_active()
    if phone and not plausible_phone(phone):
        raise invalid(f"{phone!r} is not a plausible phone number", "data.specialist_phone")
    previous = member.specialist_id
    member.specialist_id = specialist_id
    member.specialist = {"specialist_id": specialist_id, "name": name, "phone": phone}
    return previous


def record_evaluation(member: Member, *, year: int, result: str, on: str) -> str | None:
    """民主评议: one result per member per year; a second replaces the first, which is kept as
    history. Returns the result replaced."""
    member.require_active()
    joined = member.profile.get("joined_party_on")
    if joined and year < int(joined[:4]):
        raise invalid(f"the member joined the Party in {joined[:4]}, after {year}", "data.year")
    replaced = None
    for e in member.evaluations:
        if e["year"] == year and e["current"]:
            e["current"], replaced = False, e["result"]
    member.evaluations.append({"year": year, "result": result, "on": on, "current": True})
    return replaced


def record_payment(member: Member, months: list[str]) -> None:
    member.require_active()
    member.paid_months = sorted(set(member.paid_months) | set(months))
