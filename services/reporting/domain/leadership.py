"""A branch's leadership as reporting sees it (issue 13): who held which committee post when,
the terms begun by general elections, the secretaries' training, assessments and allowance,
and from them the alerts and the report's figures. Pure.

Everything is derived as of a day from dated facts (posts held from/until, terms), so a report
or an alert as of any day is reproducible and never stale.

Rules (district settings, `LeadershipRules`; the defaults are documented in
docs/contract-additions.md):
- `post_vacant`: a post the branch must fill (its secretary; with a committee also the
  organisation, propaganda and discipline members) has been empty for more than
  `post_vacant_days` (default 90). A post never filled is empty since the branch was
  established (or since the records began). Level `alert` when the secretary's post is among
  them, else `warning`. `since`: the first day past the limit of the longest-empty post.
- `term_overdue` (换届逾期): the term begun by the latest general election ended before the day
  and no general election followed. `warning` from the day after the term's end, `alert` once
  it is overdue by more than `term_overdue_alert_months` (default 6). A branch with no general
  election recorded has no known term, and no alert: what came before the records is unknown.
- `secretary_untrained` (subject: the secretary): the branch's secretary on the day attended no
  training session in the calendar year so far. Raised only once the year is far enough on to
  matter: from the first day of `training_alert_from_month` (default October, leaving the
  year's last quarter to catch up), and for a secretary appointed during the year not before
  `training_grace_days` (default 90) after taking the post. `warning`; it clears with a
  session, or with the new year.
"""
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from services.reporting.domain import days as d
from services.reporting.domain.alerts import Alert
from shared.contracts.codes import COMMITTEE_POSTS
from shared.periods import Period
from shared.rules import allowance

SECRETARY = "secretary"
REQUIRED_WITH_COMMITTEE = ("secretary", "organization_member", "propaganda_member", "discipline_member")


@dataclass(frozen=True)
class LeadershipRules:
    post_vacant_days: int = 90
    term_overdue_alert_months: int = 6
    training_alert_from_month: int = 10
    training_grace_days: int = 90

    def __post_init__(self) -> None:
        if min(self.post_vacant_days, self.term_overdue_alert_months, self.training_grace_days) < 0:
            raise ValueError("the leadership rules' days and months cannot be negative")
        if not 1 <= self.training_alert_from_month <= 12:
            raise ValueError("training_alert_from_month is a month, 1 to 12")


def required_posts(has_committee: bool) -> tuple[str, ...]:
    return REQUIRED_WITH_COMMITTEE if has_committee else (SECRETARY,)


# ---- the facts, as events bring them ----------------------------------------------------------

def appointed(posts: list[dict], *, post: str, member_id: str, name: str | None, on: str) -> None:
    """A member holds `post` from `on`: whoever held it leaves it that day."""
    for p in posts:
        if p["post"] == post and p["until"] is None:
            p["until"] = on
    posts.append({"post": post, "member_id": member_id, "name": name, "from": on, "until": None})


def removed(posts: list[dict], *, post: str, member_id: str, on: str) -> None:
    for p in posts:
        if p["post"] == post and p["member_id"] == member_id and p["until"] is None:
            p["until"] = on


def term_begun(terms: list[dict], *, election_id: str, started_on: str, ends_on: str) -> None:
    if not any(t["election_id"] == election_id for t in terms):
        terms.append({"election_id": election_id, "started_on": started_on, "ends_on": ends_on})
        terms.sort(key=lambda t: (t["started_on"], t["election_id"]))


# ---- derived as of a day ----------------------------------------------------------------------

@dataclass
class Leadership:
    branch_id: str
    established_on: str
    has_committee: bool = False
    merged_on: str | None = None
    # The branch's secretary as the org knows it, for a branch whose posts' history names none
    # (a secretary appointed before posts were kept).
    org_secretary: str | None = None
    org_secretary_name: str | None = None
    posts: list[dict] = field(default_factory=list)  # {post, member_id, name, from, until}
    terms: list[dict] = field(default_factory=list)  # {election_id, started_on, ends_on}
    elections: list[dict] = field(default_factory=list)  # {election_id, held_on, kind}
    assessments: list[dict] = field(default_factory=list)  # the current {year, member_id, name, result}
    allowance_rates: list[dict] = field(default_factory=list)  # {from_month, amount}
    allowance_payments: list[dict] = field(default_factory=list)  # {member_id, months: [{month, amount}], paid_on}

    def exists_on(self, day: str) -> bool:
        return self.established_on <= day and not (self.merged_on and self.merged_on <= day)

    def holders(self, day: str) -> dict[str, dict]:
        out = {p["post"]: p for p in self.posts if p["from"] <= day and (p["until"] is None or day < p["until"])}
        if self.org_secretary and not any(p["post"] == SECRETARY for p in self.posts):
            out[SECRETARY] = {"post": SECRETARY, "member_id": self.org_secretary, "name": self.org_secretary_name,
                              "from": None, "until": None}
        return out

    def secretary_on(self, day: str) -> str | None:
        return (self.holders(day).get(SECRETARY) or {}).get("member_id")

    def vacancies(self, day: str, records_start: str | None = None) -> dict[str, str]:
        """Required posts empty on `day`, each with the day it became empty (not before the records)."""
        held = self.holders(day)
        out = {}
        for post in required_posts(self.has_committee):
            if post not in held:
                left = [p["until"] for p in self.posts if p["post"] == post and p["until"] and p["until"] <= day]
                out[post] = d.later(max(left, default=self.established_on), records_start)
        return out

    def term_on(self, day: str) -> dict | None:
        """The term of the latest general election held by `day`."""
        return next((t for t in reversed(self.terms) if t["started_on"] <= day), None)


def trained_this_year(trainings: list[str], day: str) -> list[str]:
    """The days of the sessions attended in `day`'s year, up to `day`."""
    return sorted(t for t in trainings if f"{day[:4]}-01-01" <= t <= day)


def untrained(b: Leadership, day: str, rules: LeadershipRules, trainings: list[str], *,
              records_start: str | None = None) -> Alert | None:
    """`secretary_untrained` for the branch's secretary on `day`; `trainings`: the days of the
    sessions they attended."""
    secretary = b.holders(day).get(SECRETARY)
    if secretary is None or trained_this_year(trainings, day):
        return None
    since = f"{day[:4]}-{rules.training_alert_from_month:02d}-01"
    if secretary["from"]:
        since = max(since, d.add_days(secretary["from"], rules.training_grace_days))
    since = d.later(since, records_start)
    if day < since:
        return None
    return Alert("secretary_untrained", "warning", secretary["member_id"], b.branch_id, since,
                 details={"year": int(day[:4]), "last_training": max((t for t in trainings if t <= day), default=None)})


def alerts(b: Leadership, day: str, rules: LeadershipRules, *, records_start: str | None = None,
           trainings: dict[str, list[str]] | None = None) -> list[Alert]:
    """`trainings`: the days of the sessions each member attended (at least the secretary's)."""
    if not b.exists_on(day) or (records_start and day < records_start):
        return []
    out = []
    overdue = {post: since for post, since in b.vacancies(day, records_start).items()
               if d.add_days(since, rules.post_vacant_days) < day}
    if overdue:
        first = min(overdue.values())
        out.append(Alert("post_vacant", "alert" if SECRETARY in overdue else "warning", b.branch_id, b.branch_id,
                         d.add_days(first, rules.post_vacant_days + 1),
                         details={"posts": dict(sorted(overdue.items())), "limit_days": rules.post_vacant_days}))
    term = b.term_on(day)
    if term and term["ends_on"] < day:
        late = d.add_months(term["ends_on"], rules.term_overdue_alert_months) < day
        out.append(Alert("term_overdue", "alert" if late else "warning", b.branch_id, b.branch_id,
                         d.later(d.add_days(term["ends_on"], 1), records_start),
                         details={"term_started_on": term["started_on"], "term_ends_on": term["ends_on"],
                                  "election_id": term["election_id"]}))
    secretary = b.secretary_on(day)
    alert = untrained(b, day, rules, (trainings or {}).get(secretary, []), records_start=records_start)
    return out + ([alert] if alert else [])


# ---- the report's figures ---------------------------------------------------------------------

COUNTS = ("branches", "posts_required", "posts_filled", "posts_vacant", "posts_vacant_too_long", "terms_known",
          "terms_overdue", "elections_held")


def committee_figures(b: Leadership, period: Period, day: str, rules: LeadershipRules, *,
                      records_start: str | None = None, detail: bool = False) -> dict:
    """The branch's committee on the reading day, and its elections within the period up to it.
    `detail`: also the line-up, the empty posts and the term (a branch's own report)."""
    if not b.exists_on(day):
        return dict.fromkeys(COUNTS, 0)
    required = required_posts(b.has_committee)
    held = b.holders(day)
    vacant = b.vacancies(day, records_start)
    term = b.term_on(day)
    start = period.start.isoformat()
    out = {
        "branches": 1, "posts_required": len(required), "posts_filled": sum(p in held for p in required),
        "posts_vacant": len(vacant),
        "posts_vacant_too_long": sum(d.add_days(s, rules.post_vacant_days) < day for s in vacant.values()),
        "terms_known": int(term is not None), "terms_overdue": int(bool(term) and term["ends_on"] < day),
        "elections_held": sum(start <= e["held_on"] <= day for e in b.elections),
    }
    if detail:
        out |= {"line_up": [{"post": p, "member_id": h["member_id"], "name": h["name"], "since": h["from"]}
                            for p, h in sorted(held.items(), key=lambda x: _order(x[0]))],
                "vacant_posts": [{"post": p, "since": s} for p, s in sorted(vacant.items(), key=lambda x: _order(x[0]))],
                "term": term and {**term, "overdue": term["ends_on"] < day}}
    return out


def add_counts(total: dict, part: dict, counts: tuple[str, ...] = COUNTS) -> dict:
    return {k: total.get(k, 0) + part.get(k, 0) for k in counts}


TRAINING_COUNTS = ("secretaries", "trained", "secretary_sessions")


def training_figures(b: Leadership, period: Period, day: str, trainings: list[str], *, detail: bool = False) -> dict:
    """Whether the branch's secretary on the reading day was trained in that day's year so far
    (`trainings`: the days of their sessions), and their sessions within the period."""
    secretary = b.holders(day).get(SECRETARY) if b.exists_on(day) else None
    if secretary is None:
        return dict.fromkeys(TRAINING_COUNTS, 0) | ({"secretary": None} if detail else {})
    this_year = trained_this_year(trainings, day)
    out = {"secretaries": 1, "trained": int(bool(this_year)),
           "secretary_sessions": sum(period.start.isoformat() <= t <= day for t in trainings)}
    if detail:
        out["secretary"] = {"member_id": secretary["member_id"], "name": secretary["name"],
                            "trained": bool(this_year), "last_training": this_year[-1] if this_year else None}
    return out


def with_coverage(training: dict) -> dict:
    """The share of secretaries trained this year, from the sums (never averaged; 0 when there is none)."""
    n = training["secretaries"]
    return training | {"untrained": n - training["trained"],
                       "coverage": round(training["trained"] / n, 4) if n else 0.0}


def _order(post: str) -> int:
    return COMMITTEE_POSTS.index(post)


# ---- the secretary's allowance and assessments -------------------------------------------------

ALLOWANCE_COUNTS = ("months_due", "due_cents", "months_paid", "paid_cents")
RESULTS = ("excellent", "competent", "basically_competent", "incompetent")


def secretary_spans(b: Leadership, day: str) -> list[allowance.Span]:
    """Who held the secretary's post when, as known on `day`."""
    spans = [(p["member_id"], p["from"], p["until"]) for p in b.posts if p["post"] == SECRETARY and p["from"] <= day]
    if b.org_secretary and not any(p["post"] == SECRETARY for p in b.posts):
        spans = [(b.org_secretary, None, None)]
    return spans


def _dues(b: Leadership, period: Period, day: str, records_start: str | None) -> list[tuple[str, str, Decimal, bool]]:
    """(month, member, amount, paid) of each month `allowance_months` lists."""
    first = max(period.start.isoformat()[:7], (records_start or "")[:7])
    last = min(day[:7], period.end.isoformat()[:7])
    due = allowance.dues(secretary_spans(b, day), b.allowance_rates, first, last) if first <= last else []
    if not due:
        return []
    paid = {x["month"] for p in b.allowance_payments if p["paid_on"] <= day for x in p["months"]}
    return [(month, member_id, amount, month in paid) for month, member_id, amount in due]


def allowance_months(b: Leadership, period: Period, day: str, records_start: str | None = None) -> list[dict]:
    """Each month of the period up to the reading day's month (none before the records) whose
    allowance is due: to whom, how much, paid by the reading day or not (shared.rules.allowance;
    a month the post is empty, before the first secretary or after a merger, is due to nobody)."""
    return _listed(_dues(b, period, day, records_start))


def _listed(dues: list[tuple[str, str, Decimal, bool]]) -> list[dict]:
    return [{"month": month, "member_id": member_id, "due": f"{amount:.2f}", "paid": paid}
            for month, member_id, amount, paid in dues]


def allowance_figures(b: Leadership, period: Period, day: str, *, records_start: str | None = None,
                      detail: bool = False) -> dict:
    dues = _dues(b, period, day, records_start)
    cents = [(_cents(amount), paid) for _month, _member, amount, paid in dues]
    out = {"months_due": len(cents), "due_cents": sum(c for c, _ in cents),
           "months_paid": sum(1 for _, p in cents if p), "paid_cents": sum(c for c, p in cents if p)}
    return out | ({"months": _listed(dues)} if detail else {})


@lru_cache(maxsize=256)
def _cents(amount: Decimal) -> int:
    """A month's allowance in cents, as the months list shows it (to the cent)."""
    return int(Decimal(f"{amount:.2f}") * 100)


def with_amounts(figures: dict) -> dict:
    """Money as decimal strings (never a float): due, paid, and what is left to pay."""
    out = {k: v for k, v in figures.items() if k not in ("due_cents", "paid_cents")}
    due, paid = figures["due_cents"], figures["paid_cents"]
    return out | {"amount_due": _money(due), "amount_paid": _money(paid), "amount_unpaid": _money(due - paid)}


def _money(cents: int) -> str:
    return f"{Decimal(cents) / 100:.2f}"


def assessment_figures(b: Leadership, year: int, *, detail: bool = False) -> dict:
    """The year's assessments of the branch's secretaries, by result (as recorded when read)."""
    of_year = [a for a in b.assessments if a["year"] == year]
    out = {"assessed": len(of_year), **{r: sum(a["result"] == r for a in of_year) for r in RESULTS}}
    return out | ({"results": sorted(of_year, key=lambda a: a["member_id"])} if detail else {})
