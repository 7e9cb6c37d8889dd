"""Read views of a branch's leadership, in the words and labels a secretary uses. Pure."""
from decimal import Decimal
from typing import Any

from services.members.domain import committee, secretary
from services.members.domain import labels as L
from services.members.domain.organization import Organization
from shared.contracts.codes import COMMITTEE_POSTS


def member_ids(branch: Organization) -> set[str]:
    """Everyone the views name, so the caller can look their names up at once."""
    ids = {h["member_id"] for h in branch.committee_history}
    ids |= {x["member_id"] for e in branch.elections for x in e["elected"]}
    ids |= {a["member_id"] for a in branch.assessments} | {p["member_id"] for p in branch.allowance_payments}
    return ids | ({branch.secretary_id} if branch.secretary_id else set())


def committee_view(branch: Organization, *, day: str, names: dict[str, str]) -> dict[str, Any]:
    """The line-up on `day`, the empty posts, the term, the elections and the posts' history."""
    order = {p: i for i, p in enumerate(COMMITTEE_POSTS)}
    held = committee.line_up(branch, day)
    term = branch.term
    return {
        "org_id": branch.org_id, "name": branch.name, "as_of": day, "has_committee": branch.has_committee,
        "line_up": [{"post": p, "post_label": L.POST[p], "member_id": h.member_id, "name": names.get(h.member_id),
                     "since": h.since, "election_id": h.election_id}
                    for p, h in sorted(held.items(), key=lambda x: order[x[0]])],
        "required_posts": [{"post": p, "post_label": L.POST[p]} for p in committee.required_posts(branch.has_committee)],
        "vacant_posts": [{"post": p, "post_label": L.POST[p], "since": since}
                         for p, since in sorted(committee.vacancies(branch, day).items(), key=lambda x: order[x[0]])],
        "term": term and {**term, "overdue": term["ends_on"] < day,
                          "status_label": "换届逾期" if term["ends_on"] < day else "任期内"},
        "elections": [{**e, "kind_label": L.ELECTION_KIND[e["kind"]],
                       "elected": [{**x, "name": names.get(x["member_id"]), "post_label": L.POST[x["post"]]}
                                   for x in e["elected"]]}
                      for e in sorted(branch.elections, key=lambda e: e["held_on"], reverse=True)],
        "history": [{**h, "post_label": L.POST[h["post"]], "name": names.get(h["member_id"]),
                     "left_reason_label": L.label(L.POST_LEFT, h.get("left_reason"))}
                    for h in sorted(branch.committee_history, key=lambda h: (h["from"], order[h["post"]]))],
    }


def secretary_on(branch: Organization, day: str) -> str | None:
    holder = committee.line_up(branch, day).get(committee.SECRETARY)
    return holder.member_id if holder else None


def secretary_view(branch: Organization, *, year: int, day: str, names: dict[str, str],
                   trainings: list[dict]) -> dict[str, Any]:
    """The secretary on `day`, their training in `year` (`trainings`: the sessions they attended),
    the branch's assessments, and the allowance ledger of `year` up to `day`."""
    holder = committee.line_up(branch, day).get(committee.SECRETARY)
    months = secretary.ledger(branch, year=year, as_of=day)
    due = [r for r in months if r["member_id"]]
    total = lambda rows: f"{sum((Decimal(r['due']) for r in rows), Decimal('0.00')):.2f}"  # noqa: E731
    return {
        "org_id": branch.org_id, "name": branch.name, "year": year, "as_of": day,
        "secretary": holder and {"member_id": holder.member_id, "name": names.get(holder.member_id),
                                 "since": holder.since},
        "trainings": [t for t in trainings if t["held_on"][:4] == f"{year:04d}" and t["held_on"] <= day],
        "assessments": [{**a, "name": names.get(a["member_id"]), "result_label": L.ASSESSMENT[a["result"]]}
                        for a in sorted(branch.assessments, key=lambda a: (-a["year"], a["on"]))],
        "allowance": {
            "rates": branch.allowance_rates,
            "months": [{**r, "name": names.get(r["member_id"])} for r in months],
            "due": total(due), "paid": total([r for r in due if r["paid"]]),
            "unpaid": total([r for r in due if not r["paid"]]),
            "payments": sorted(branch.allowance_payments, key=lambda p: (p["paid_on"], p["payment_id"])),
        },
    }
