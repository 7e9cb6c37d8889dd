"""The branch committee (支部委员会) and its elections (换届选举, 补选). Pure.

A branch keeps the history of its posts (`committee_history`: who held which post from when to
when, and why they left it); the line-up on any day is derived from it, never stored beside it.
A branch with a committee fills the secretary's, organisation, propaganda and discipline
members' posts (a deputy secretary when it wants one); a branch without one (fewer than 7
members, domain.md) has a secretary, and may have a deputy.

Elections follow 《中国共产党基层组织选举工作条例》: valid only when more than four fifths of the
members entitled to vote are present, and a candidate is elected with more than half of the
votes of those present. A general election (换届) begins a new term (`term_years`, five by
default: the Party Constitution of 2022 sets five-year terms for branch committees) and elects
the whole committee; those not elected again leave their posts. A by-election (补选) fills
empty posts within the term.
"""
from dataclasses import dataclass
from datetime import date

from services.members.domain.organization import Organization
from shared.contracts.codes import COMMITTEE_POSTS
from shared.errors import Rejected, conflict, duplicate, invalid, not_allowed

SECRETARY = "secretary"
# Posts a branch with a committee must fill; a branch without one needs only its secretary.
REQUIRED_WITH_COMMITTEE = ("secretary", "organization_member", "propaganda_member", "discipline_member")
WITHOUT_COMMITTEE = ("secretary", "deputy_secretary")
# One member may hold several committee posts (兼任), but not both the secretary's and the deputy's.
EXCLUSIVE = frozenset({"secretary", "deputy_secretary"})


@dataclass(frozen=True)
class Holder:
    post: str
    member_id: str
    since: str | None  # None: held before the records (a secretary set before posts were kept)
    election_id: str | None = None


def line_up(branch: Organization, day: str | None = None) -> dict[str, Holder]:
    """Who holds each post on `day` (default: now, i.e. the open entries of the history)."""
    out: dict[str, Holder] = {}
    for h in branch.committee_history:
        if day is None and h["until"] is None or day is not None and h["from"] <= day and (
                h["until"] is None or day < h["until"]):
            out[h["post"]] = Holder(h["post"], h["member_id"], h["from"], h.get("election_id"))
    if branch.secretary_id and not any(h["post"] == SECRETARY for h in branch.committee_history):
        out[SECRETARY] = Holder(SECRETARY, branch.secretary_id, None)  # set before posts were kept
    return out


def posts_of(branch: Organization, member_id: str) -> list[str]:
    return sorted(p for p, h in line_up(branch).items() if h.member_id == member_id)


def allowed_posts(branch: Organization) -> tuple[str, ...]:
    return COMMITTEE_POSTS if branch.has_committee else WITHOUT_COMMITTEE


def required_posts(has_committee: bool) -> tuple[str, ...]:
    return REQUIRED_WITH_COMMITTEE if has_committee else (SECRETARY,)


def _check_post(branch: Organization, post: str, field_name: str) -> None:
    if post not in allowed_posts(branch):
        raise not_allowed(f"branch {branch.org_id} has no committee: it has a secretary and may have a deputy, "
                          f"not a {post}", field_name)


def _check_exclusive(branch: Organization, member_id: str, post: str, field_name: str,
                     leaving: set[str] = frozenset()) -> None:
    held = set(posts_of(branch, member_id)) - leaving
    if post in EXCLUSIVE and held & (EXCLUSIVE - {post}):
        raise conflict(f"member {member_id} is the {sorted(held & EXCLUSIVE)[0]} of branch {branch.org_id}, "
                       f"who cannot also be its {post}", field_name)


def _close(branch: Organization, post: str, on: str, reason: str) -> str | None:
    """End the open entry of a post on `on`; returns who held it."""
    for h in branch.committee_history:
        if h["post"] == post and h["until"] is None:
            h["until"], h["left_reason"] = on, reason
            return h["member_id"]
    if post == SECRETARY and branch.secretary_id:  # held from before the records
        return branch.secretary_id
    return None


def _open(branch: Organization, post: str, member_id: str, on: str, election_id: str | None) -> None:
    branch.committee_history.append({"post": post, "member_id": member_id, "from": on, "until": None,
                                     "election_id": election_id, "left_reason": None})
    if post == SECRETARY:
        branch.secretary_id = member_id


def _not_before_holder(branch: Organization, post: str, on: str, field_name: str) -> None:
    current = line_up(branch).get(post)
    if current is not None and current.since is not None and on < current.since:
        raise invalid(f"the {post} of branch {branch.org_id} has been held by {current.member_id} since "
                      f"{current.since}, after {on}", field_name)


def appoint(branch: Organization, member_id: str, *, post: str, on: str) -> str | None:
    """Appoint a member of the branch (checked by the caller) to a post; returns the previous holder."""
    _check_post(branch, post, "data.post")
    current = line_up(branch).get(post)
    if current is not None and current.member_id == member_id:
        raise duplicate(f"member {member_id} already holds the post of {post} in branch {branch.org_id}",
                        "data.member_id")
    _check_exclusive(branch, member_id, post, "data.member_id")
    _not_before_holder(branch, post, on, "data.on")
    previous = _close(branch, post, on, "replaced")
    _open(branch, post, member_id, on, None)
    return previous


def appoint_secretary(branch: Organization, member_id: str, *, on: str) -> bool:
    """AppointSecretary (the contract's older command): the secretary's post from `on`. False when
    the member held it already (nothing changes)."""
    current = line_up(branch).get(SECRETARY)
    if current is not None and current.member_id == member_id:
        branch.secretary_id = member_id
        return False
    _check_exclusive(branch, member_id, SECRETARY, "data.member_id")
    if current is not None and current.since is not None and on < current.since:
        on = current.since  # a secretary appointed with no date of its own starts no earlier
    _close(branch, SECRETARY, on, "replaced")
    _open(branch, SECRETARY, member_id, on, None)
    return True


def remove(branch: Organization, *, post: str, on: str, reason: str) -> str:
    """The holder of a post leaves it; returns who held it."""
    current = line_up(branch).get(post)
    if current is None:
        raise conflict(f"the post of {post} in branch {branch.org_id} is empty", "data.post")
    _not_before_holder(branch, post, on, "data.on")
    _close(branch, post, on, reason)
    if post == SECRETARY:
        branch.secretary_id = None
    return current.member_id


def vacate_member(branch: Organization, member_id: str, *, on: str, reason: str) -> list[str]:
    """A member leaves the branch (transfer, death, merge): every post they held is empty from
    `on`. Returns those posts."""
    posts = posts_of(branch, member_id)
    for post in posts:
        _close(branch, post, max(on, line_up(branch)[post].since or on), reason)
        if post == SECRETARY:
            branch.secretary_id = None
    return posts


def dissolve(branch: Organization, *, on: str) -> list[tuple[str, str]]:
    """The branch is merged away: every post is empty from `on`. Returns (post, member) left."""
    left = [(p, h.member_id) for p, h in sorted(line_up(branch).items())]
    for post, member_id in left:
        vacate_member(branch, member_id, on=on, reason="merged")
    return left


# ---- elections ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """An elected member as the election names them, with what the rules need of the member."""

    member_id: str
    post: str
    votes: int
    registered_on: str


@dataclass
class Outcome:
    term: dict | None
    left: list[tuple[str, str]]  # (post, member) who left their post (a general election's end of term)
    appointed: list[tuple[str, str, str | None]]  # (post, member, previous holder)


def add_years(day: str, years: int) -> str:
    d = date.fromisoformat(day)
    try:
        return d.replace(year=d.year + years).isoformat()
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28).isoformat()


def _check_ballot(eligible: int, present: int, elected: list[Candidate]) -> None:
    errors = []
    if present > eligible:
        errors.append({"field": "data.present", "message": f"{present} present of {eligible} entitled to vote"})
    elif present * 5 <= eligible * 4:
        errors.append({"field": "data.present", "message": (
            f"{present} of {eligible} entitled to vote were present: an election needs more than four fifths, "
            "or it is not valid (选举工作条例)")})
    seen_posts: set[str] = set()
    for i, c in enumerate(elected):
        if c.votes > present:
            errors.append({"field": f"data.elected.{i}.votes", "message": f"{c.votes} votes, more than the "
                                                                           f"{present} present"})
        elif c.votes * 2 <= present:
            errors.append({"field": f"data.elected.{i}.votes", "message": (
                f"{c.votes} votes of {present} present: a candidate is elected with more than half")})
        if c.post in seen_posts:
            errors.append({"field": f"data.elected.{i}.post", "message": f"{c.post} elected twice"})
        seen_posts.add(c.post)
    by_member: dict[str, set[str]] = {}
    for c in elected:
        by_member.setdefault(c.member_id, set()).add(c.post)
    for i, c in enumerate(elected):
        if len(by_member[c.member_id] & EXCLUSIVE) > 1 and c.post == "deputy_secretary":
            errors.append({"field": f"data.elected.{i}.member_id",
                           "message": f"member {c.member_id} cannot be both secretary and deputy secretary"})
    if errors:
        raise Rejected.many("invalid", errors)


def record_election(branch: Organization, *, election_id: str, held_on: str, kind: str, eligible: int,
                    present: int, elected: list[Candidate], term_years: int) -> Outcome:
    """Apply an election's result to the branch (its members are checked by the caller)."""
    if any(e["election_id"] == election_id for e in branch.elections):
        raise duplicate(f"election {election_id} is already recorded", "data.election_id")
    last = max((e["held_on"] for e in branch.elections), default=None)
    if last is not None and held_on < last:
        raise invalid(f"branch {branch.org_id} has an election recorded on {last}, after {held_on}", "data.held_on")
    for i, c in enumerate(elected):
        _check_post(branch, c.post, f"data.elected.{i}.post")
        if held_on < c.registered_on:
            raise invalid(f"member {c.member_id} was registered on {c.registered_on}, after the election",
                          f"data.elected.{i}.member_id")
    _check_ballot(eligible, present, elected)
    current = line_up(branch)
    for post, h in current.items():
        if h.since is not None and held_on < h.since:
            raise invalid(f"the {post} of branch {branch.org_id} has been held since {h.since}, after the "
                          f"election", "data.held_on")
    left: list[tuple[str, str]] = []
    if kind == "general":
        if not any(c.post == SECRETARY for c in elected):
            raise invalid("a general election elects the branch's secretary", "data.elected")
        term = {"election_id": election_id, "started_on": held_on, "ends_on": add_years(held_on, term_years),
                "years": term_years}
        # Everyone's term ends; those elected again begin the new one (a new entry of the history).
        for post, h in sorted(current.items()):
            _close(branch, post, held_on, "term_ended")
            if not any(c.post == post and c.member_id == h.member_id for c in elected):
                left.append((post, h.member_id))
        if SECRETARY in current:
            branch.secretary_id = None
        branch.term = term
    else:
        for i, c in enumerate(elected):
            if c.post in current:
                raise conflict(f"the post of {c.post} is held by {current[c.post].member_id}: a by-election fills "
                               "empty posts", f"data.elected.{i}.post")
        for i, c in enumerate(elected):
            _check_exclusive(branch, c.member_id, c.post, f"data.elected.{i}.member_id")
    appointed = []
    for c in elected:
        previous = current.get(c.post)
        _open(branch, c.post, c.member_id, held_on, election_id)
        appointed.append((c.post, c.member_id, previous.member_id if previous else None))
    branch.elections.append({"election_id": election_id, "held_on": held_on, "kind": kind, "eligible": eligible,
                             "present": present, "term_years": term_years if kind == "general" else None,
                             "elected": [{"member_id": c.member_id, "post": c.post, "votes": c.votes}
                                         for c in elected]})
    return Outcome(branch.term, left, appointed)


def overdue(branch: Organization, day: str) -> bool:
    """The term has ended and no general election began the next (换届逾期)."""
    return bool(branch.term) and branch.term["ends_on"] < day


def vacancies(branch: Organization, day: str) -> dict[str, str]:
    """The posts the branch must fill that are empty on `day`, each with the day it became empty
    (the last holder's leaving, or the branch's establishment for a post never filled)."""
    held = line_up(branch, day)
    out = {}
    for post in required_posts(branch.has_committee):
        if post in held:
            continue
        ended = [h["until"] for h in branch.committee_history if h["post"] == post and h["until"] and h["until"] <= day]
        out[post] = max(ended, default=branch.established_on or day)
    return out
