"""The way into the Party (发展党员, issue 13, item 5) as reporting shows it: who is at which stage on
a day, the changes of a period, the `probation_overdue` alert, and the 最美入党积极分子 candidates,
drawn from the activists on the way (not from the best-attending members). Pure.

An applicant's document: `branch_id`, `name`, `applied_on`, `history` {"<seq>": {stage, on, seq,
reason}}, `contacts` [{member_id, member_name}] (the latest named).
"""
from services.reporting.domain import days as d
from services.reporting.domain.alerts import Alert
from shared.periods import Period
from shared.rules import activists as rule

STAGES = rule.PIPELINE  # applicant, activist, development_target, probationary
CHANGES = ("applied", "to_activist", "to_development_target", "to_probationary", "to_full_member", "withdrawn",
           "set_back")
TOP = 10


def history(doc: dict) -> list[dict]:
    return sorted((doc.get("history") or {}).values(), key=lambda h: (h["on"], h["seq"]))


def figures(docs: list[dict], period: Period, day: str) -> dict:
    """Counts by stage on `day`, the period's changes up to `day`, and the overdue probations."""
    start, end = period.start.isoformat(), min(period.end.isoformat(), day)
    out = {**dict.fromkeys(STAGES, 0), **dict.fromkeys(CHANGES, 0), "probation_overdue": 0}
    for doc in docs:
        h = history(doc)
        stage = rule.stage_on(h, day)
        if stage in STAGES:
            out[stage] += 1
        for prev, x in zip([None, *h], h):
            if not start <= x["on"] <= end:
                continue
            if prev is None:
                out["applied"] += 1
            elif x["stage"] == "withdrawn":
                out["withdrawn"] += 1
            elif rule.ORDER.index(x["stage"]) > rule.ORDER.index(prev["stage"]):
                out[f"to_{x['stage']}"] += 1
            else:
                out["set_back"] += 1
        out["probation_overdue"] += int(rule.probation_overdue_since(h, day) is not None)
    return out


def person(doc: dict, day: str) -> dict | None:
    """One applicant as a branch's list shows them on `day` (None before the application)."""
    h = [x for x in history(doc) if x["on"] <= day]
    if not h:
        return None
    stage = h[-1]["stage"]
    out = {"applicant_id": doc["_id"], "name": doc.get("name"), "branch_id": doc.get("branch_id"), "stage": stage,
           "since": h[-1]["on"], "applied_on": h[0]["on"], "contacts": doc.get("contacts", []),
           "probation_overdue_since": rule.probation_overdue_since(h, day)}
    if stage == "activist":  # 第十四条: a development target after more than a year as an activist
        out["next_from"] = _day_after(rule.anniversary(h[-1]["on"]))
    elif stage == "probationary":
        out["next_from"] = rule.anniversary(h[-1]["on"])
    return out


def _day_after(day: str) -> str:
    from datetime import date, timedelta
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def overdue_alert(doc: dict, day: str, *, records_start: str | None = None) -> Alert | None:
    """`probation_overdue` as of `day`: not dated before the records began (RECORDS_START)."""
    since = rule.probation_overdue_since(history(doc), day)
    if since is None or (records_start and day < records_start):
        return None
    return Alert(kind="probation_overdue", level="warning", subject_id=doc["_id"], org_id=doc["branch_id"],
                 since=d.later(since, records_start), details={"probation_ends_on": rule.anniversary(
                     max(h["on"] for h in history(doc) if h["stage"] == "probationary" and h["on"] < since))})


def rank_activists(docs: list[dict], year: int, day: str, branch_names: dict[str, str]) -> list[dict]:
    """最美入党积极分子: the applicants who were activists or development targets in the year (up to
    `day`), ranked by how far they came (a development target before an activist) and how long they
    have been trained (days since becoming an activist); the evidence says both."""
    first, last = f"{year:04d}-01-01", min(f"{year:04d}-12-31", day)
    rows = []
    for doc in docs:
        if doc.get("branch_id") not in branch_names:
            continue
        h = [x for x in history(doc) if x["on"] <= last]
        stages = {rule.stage_on(h, first)} | {x["stage"] for x in h if x["on"] >= first}
        if not stages & {"activist", "development_target"}:
            continue
        reached = max((rule.ORDER.index(s) for s in stages if s in rule.ORDER), default=0)
        became = min((x["on"] for x in h if x["stage"] == "activist"), default=last)
        from datetime import date
        days = (date.fromisoformat(last) - date.fromisoformat(became)).days
        rows.append({"member_id": doc["_id"], "applicant_id": doc["_id"], "name": doc.get("name"),
                     "branch_id": doc["branch_id"], "branch_name": branch_names[doc["branch_id"]],
                     "score": reached * 1000 + min(days, 999),
                     "evidence": {"stage": rule.stage_on(h, last), "activist_since": became,
                                  "contacts": [c.get("member_name") or c["member_id"] for c in doc.get("contacts", [])]}})
    rows.sort(key=lambda r: (-r["score"], r["applicant_id"]))
    return [{"rank": i + 1, **r} for i, r in enumerate(rows[:TOP])]
