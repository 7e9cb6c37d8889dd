"""Who a notice reaches, and how: each member as of the notice's day, from their dated facts.

The projection of members.events keeps the facts of each member's history, not a status: the
registration (its branch and date), transfers, the death, away periods and returns, contacts and
specialists. Each fact carries the day it was recorded (the date of its event). A notice is
addressed as of its day (`addressed_on`), from the facts recorded by its `open_until` day: so the
same facts give the same recipients and channels whatever order the events and the notice arrive
in (see the README, "Late facts").
"""
from dataclasses import dataclass, field
from datetime import date, timedelta

from services.notifications.domain.channels import Reach

# How long after its day a notice is still worth delivering to someone a late fact adds (and
# takes late facts into account at all). A meeting notice stays open until the meeting's day.
OPEN_DAYS = 30
NEVER = "9999-12-31"


def open_until(addressed_on: str, meeting_on: str | None = None) -> str:
    """The last day on which a recorded fact still changes how the notice is addressed."""
    if meeting_on is not None:
        return max(addressed_on, meeting_on)
    return (date.fromisoformat(addressed_on) + timedelta(days=OPEN_DAYS)).isoformat()


def branch_path(branch_id: str, ancestors: list[str]) -> list[str]:
    """District … branch, the branch last (events carry it with or without the branch itself)."""
    return [a for a in ancestors if a != branch_id] + [branch_id]


@dataclass(frozen=True)
class Standing:
    """A member as of one day: where they belong and how they can be reached."""

    member_id: str
    branch_id: str
    path: tuple[str, ...]
    away: bool
    phone: str | None
    wechat_openid: str | None
    email: str | None
    preferred_channel: str
    specialist_id: str | None

    def reach(self) -> Reach:
        return Reach(phone=self.phone, wechat_openid=self.wechat_openid, email=self.email,
                     preferred=self.preferred_channel, away=self.away)

    @property
    def contacts(self) -> dict:
        return {"phone": self.phone, "email": self.email, "wechat_openid": self.wechat_openid}


@dataclass
class Member:
    """What this service knows of a member, projected from members.events. Every dated fact is a
    dict with `recorded` (the day its event occurred)."""

    member_id: str
    name: str = ""
    lives_alone: bool = False
    health: str = "good"
    registered: list[dict] = field(default_factory=list)  # {recorded, on}: a profile update may correct it
    branch: dict | None = None  # {branch_id, path}: the branch of the registration
    transfers: list[dict] = field(default_factory=list)  # {recorded, on, to_branch_id (None: left), path}
    died: dict | None = None  # {recorded, on}
    away: list[dict] = field(default_factory=list)  # {recorded, from, until}
    returns: list[dict] = field(default_factory=list)  # {recorded, on}
    contacts: list[dict] = field(default_factory=list)  # {recorded, phone, wechat_openid, email, preferred_channel}
    specialists: list[dict] = field(default_factory=list)  # {recorded, specialist_id, specialist_name}
    named: dict[str, dict] = field(default_factory=dict)  # notice_id → {day, until}: notices naming the member
    # The latest of the facts, for queries and routes (never for addressing).
    branch_id: str | None = None
    ancestors: list[str] = field(default_factory=list)
    specialist_id: str | None = None
    specialist_name: str | None = None

    @property
    def known(self) -> bool:
        """Registered (a member only named by a notice so far is not)."""
        return bool(self.registered) and self.branch is not None

    def placements(self) -> list[tuple[str, list[str]]]:
        """Every branch the member has belonged to, with its path (for the org tree)."""
        out = [(self.branch["branch_id"], self.branch["path"])] if self.branch else []
        return out + [(t["to_branch_id"], t["path"]) for t in self.transfers if t["to_branch_id"]]

    def refresh(self) -> None:
        """The latest branch and specialist (for queries, feedback and the door-work list)."""
        places = self.placements()[:1] + [(t["to_branch_id"], t["path"]) for t in _ordered(self.transfers)
                                          if t["to_branch_id"]]
        if places:
            self.branch_id, self.ancestors = places[-1][0], list(places[-1][1])
        specialist = _latest(self.specialists, NEVER)
        if specialist:
            self.specialist_id, self.specialist_name = specialist["specialist_id"], specialist.get("specialist_name")

    def standing(self, day: str, known_by: str) -> Standing | None:
        """The member on `day` from the facts recorded by `known_by`: None when not a registered
        member of a branch in the district that day (not yet registered, dead, transferred out)."""
        def known(facts: list[dict]) -> list[dict]:
            return [f for f in facts if f["recorded"] <= known_by]

        registered = _ordered_recorded(known(self.registered))
        if not registered or self.branch is None or registered[-1]["on"] > day:
            return None
        if self.died and self.died["recorded"] <= known_by and self.died["on"] <= day:
            return None
        branch_id, path = self.branch["branch_id"], self.branch["path"]
        for t in _ordered(known(self.transfers)):
            if t["on"] > day:
                break
            if t["to_branch_id"] is None:
                return None
            branch_id, path = t["to_branch_id"], t["path"]
        contacts = _latest(known(self.contacts), day) or {}
        specialist = _latest(known(self.specialists), day) or {}
        return Standing(self.member_id, branch_id, tuple(path), self._away(day, known(self.away), known(self.returns)),
                        contacts.get("phone"), contacts.get("wechat_openid"), contacts.get("email"),
                        contacts.get("preferred_channel") or "door", specialist.get("specialist_id"))

    @staticmethod
    def _away(day: str, away: list[dict], returns: list[dict]) -> bool:
        """Away from `from` to `until` (inclusive), or until the first return after `from`."""
        for a in away:
            back = min((r["on"] for r in returns if r["on"] > a["from"]), default=None)
            if a["from"] <= day and (a["until"] is None or day <= a["until"]) and (back is None or day < back):
                return True
        return False


def in_audience(s: Standing, audience: tuple[frozenset[str], frozenset[str]]) -> bool:
    """Named, or in the subtree of one of the audience's orgs that day. `audience`: the members and
    the orgs it names, as sets (`Notice.audience_sets`)."""
    members, orgs = audience
    return s.member_id in members or not orgs.isdisjoint(s.path)


def _ordered(transfers: list[dict]) -> list[dict]:
    return sorted(transfers, key=lambda t: (t["on"], t["to_branch_id"] or ""))


def _ordered_recorded(facts: list[dict]) -> list[dict]:
    """By the day recorded; facts of one day keep the order they came in (one member's events
    come in order: they share a key)."""
    return sorted(facts, key=lambda f: f["recorded"])


def _latest(facts: list[dict], day: str) -> dict | None:
    """The fact in force on `day`: the last recorded on or before it, else the first of all (the
    registration's contacts hold for days before it was recorded, e.g. a backdated registration)."""
    ordered = _ordered_recorded(facts)
    before = [f for f in ordered if f["recorded"] <= day]
    return before[-1] if before else (ordered[0] if ordered else None)

