"""The way into the Party (发展党员, issue 13, item 5): 入党申请人 → 入党积极分子 → 发展对象 → 预备党员
→ 正式党员, by the rules of 《中国共产党发展党员工作细则》 (2014). Pure.

- An applicant is at least 18 years old on the day of the application (`invalid`, `data.birth_date`).
- Every day (application, each stage) is not after the command's day and not before the day of the
  stage before (`invalid`, `data.on` / `data.applied_on`).
- Stages go forward one at a time: no stage is skipped (`not_allowed`, `data.stage`); a withdrawn
  applicant or a full member takes no further stage (`not_allowed`).
- An activist has one or two responsible members (培养联系人, 第十二条), full members of the branch
  (`invalid`, `data.contact_ids`, when none is named on becoming an activist; the members themselves
  are checked by the service layer).
- A development target has been an activist for more than a year (第十四条: 一年以上培养教育和考察):
  its day is after the anniversary of the activist's day (`invalid`, `data.on`).
- A probationary member's probation is one year (第三十条): `probation_ends_on` = the anniversary;
  becoming a full member (转正) comes not before it (`invalid`, `data.on`).
- Going back — to an earlier stage, or out of the way (`withdrawn`) — needs a reason (the schema) and
  must really go back (`invalid`, `data.stage`); a full member is not set back (`not_allowed`).
"""
from dataclasses import dataclass, field

from shared.errors import invalid, not_allowed
from shared.rules.activists import ORDER, anniversary

MIN_AGE = 18


@dataclass
class Applicant:
    applicant_id: str
    branch_id: str
    name: str
    gender: str
    birth_date: str
    applied_on: str
    stage: str = "applicant"
    contacts: list[str] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)  # {stage, on, kind: applied|advanced|set_back, reason}
    probation_ends_on: str | None = None
    awards: list[dict] = field(default_factory=list)  # {award_id, year, category}

    @property
    def since(self) -> str:
        return self.history[-1]["on"] if self.history else self.applied_on

    def stage_on(self, day: str) -> str | None:
        last = None
        for h in self.history:
            if h["on"] <= day:
                last = h["stage"]
        return last

    def was_activist_in(self, year: int) -> bool:
        """An activist or development target at some time in the year."""
        first, last = f"{year:04d}-01-01", f"{year:04d}-12-31"
        stage_at_start = self.stage_on(first)
        within = [h["stage"] for h in self.history if first <= h["on"] <= last]
        return any(s in ("activist", "development_target") for s in [stage_at_start, *within])


def apply(*, applicant_id: str, branch_id: str, name: str, gender: str, birth_date: str, applied_on: str,
          today: str) -> Applicant:
    if applied_on > today:
        raise invalid(f"{applied_on} is after the day it was recorded ({today})", "data.applied_on")
    if anniversary(birth_date, MIN_AGE) > applied_on:
        raise invalid(f"an applicant must be at least {MIN_AGE} on the day of the application", "data.birth_date")
    a = Applicant(applicant_id, branch_id, name, gender, birth_date, applied_on)
    a.history.append({"stage": "applicant", "on": applied_on, "kind": "applied", "reason": None})
    return a


def _dated(a: Applicant, on: str, today: str) -> None:
    if on > today:
        raise invalid(f"{on} is after the day it was recorded ({today})", "data.on")
    if on < a.since:
        raise invalid(f"{on} is before the applicant's last stage ({a.since})", "data.on")


def advance(a: Applicant, *, stage: str, on: str, today: str, contact_ids: list[str]) -> str:
    """Move to the next stage. Returns the stage left."""
    if a.stage in ("withdrawn", "full_member"):
        raise not_allowed(f"applicant {a.applicant_id} is {a.stage}: no further stage", "data.stage")
    expected = ORDER[ORDER.index(a.stage) + 1]
    if stage != expected:
        raise not_allowed(f"the stage after {a.stage} is {expected}, not {stage}: no stage is skipped", "data.stage")
    _dated(a, on, today)
    if stage == "activist" and not contact_ids and not a.contacts:
        raise invalid("an activist needs one or two responsible members (培养联系人)", "data.contact_ids")
    if len(set(contact_ids)) != len(contact_ids):
        raise invalid("a responsible member is named twice", "data.contact_ids")
    if stage == "development_target":
        became = max(h["on"] for h in a.history if h["stage"] == "activist")
        if on <= anniversary(became):
            raise invalid(f"a development target has been an activist for more than a year (since {became})",
                          "data.on")
    if stage == "full_member" and a.probation_ends_on and on < a.probation_ends_on:
        raise invalid(f"the probation ends on {a.probation_ends_on}", "data.on")
    previous, a.stage = a.stage, stage
    if contact_ids:
        a.contacts = list(contact_ids)
    a.probation_ends_on = anniversary(on) if stage == "probationary" else a.probation_ends_on
    a.history.append({"stage": stage, "on": on, "kind": "advanced", "reason": None})
    return previous


def set_back(a: Applicant, *, stage: str, on: str, today: str, reason: str) -> str:
    """Back to an earlier stage, or out of the way. Returns the stage left."""
    if a.stage == "full_member":
        raise not_allowed(f"applicant {a.applicant_id} is a full member: the member ledger keeps them now",
                          "data.stage")
    if a.stage == "withdrawn":
        raise not_allowed(f"applicant {a.applicant_id} is withdrawn already", "data.stage")
    if stage != "withdrawn" and ORDER.index(stage) >= ORDER.index(a.stage):
        raise invalid(f"{stage} is not a stage before {a.stage}", "data.stage")
    _dated(a, on, today)
    previous, a.stage = a.stage, stage
    a.probation_ends_on = None  # back before probation, or out: no probation runs
    a.history.append({"stage": stage, "on": on, "kind": "set_back", "reason": reason})
    return previous
