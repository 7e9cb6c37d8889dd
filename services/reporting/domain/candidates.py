"""Annual selection (选树评比): candidates ranked from the record, with the evidence behind each.

五好支部 ranks branches by the year's five-star score; 四个最美 ranks members: the most
beautiful old party member by participation and evaluation, the volunteer by hours, the secretary
by the score of the branch they lead. The most beautiful party activist (最美入党积极分子) is not a
member: the candidates are the activists on the way into the Party (domain/activists.py).
"""
from services.reporting.domain.facts import MemberFacts

EVALUATION_POINTS = {"excellent": 3, "qualified": 1, "basically_qualified": 0, "unqualified": -3}
TOP = 10


def rank_branches(reports: list[dict]) -> list[dict]:
    ranked = sorted(reports, key=lambda r: (-r["score"], r["org_id"]))
    return [{"rank": i + 1, "branch_id": r["org_id"], "name": r["name"], "score": r["score"],
             "evidence": {"compliance": r["organisational_life"]["compliance"],
                          "participation_rate": r["participation"]["rate"], "dues_rate": r["dues"]["rate"],
                          "members_visited": r["visits"]["members_visited"],
                          "ack_rate": r["notices"]["ack_rate"], "volunteer_hours": r["volunteer_hours"]}}
            for i, r in enumerate(ranked[:TOP])]


def _ranked(rows: list[dict]) -> list[dict]:
    rows = [r for r in rows if r["score"] > 0]
    rows.sort(key=lambda r: (-r["score"], r["member_id"]))
    return [{"rank": i + 1, **r} for i, r in enumerate(rows[:TOP])]


def rank_members(members: list[MemberFacts], year: int, day: str, branch_names: dict[str, str],
                 secretaries: dict[str, str], branch_reports: dict[str, dict]) -> dict:
    y = str(year)
    old, volunteer, secretary = [], [], []
    for m in members:
        stint = m.stint_on(day)
        if stint is None or stint.branch_id not in branch_names:
            continue
        base = {"member_id": m.member_id, "name": m.name, "branch_id": stint.branch_id,
                "branch_name": branch_names[stint.branch_id]}
        present = [x for x in m.present_days() if x[:4] == y and x <= day]
        months = len({x[:7] for x in present})
        evaluation = m.evaluations.get(y)
        old.append({**base, "score": months + EVALUATION_POINTS.get(evaluation, 0),
                    "evidence": {"months_present": months, "evaluation": evaluation}})
        hundredths = sum(h["hundredths"] for h in m.hours.values() if h["on"][:4] == y and h["on"] <= day)
        volunteer.append({**base, "score": hundredths / 100, "evidence": {"volunteer_hours": hundredths / 100}})
        if secretaries.get(m.member_id) == stint.branch_id:
            r = branch_reports[stint.branch_id]
            secretary.append({**base, "score": r["score"], "evidence": {"branch_score": r["score"],
                                                                          "compliance": r["organisational_life"]["compliance"]}})
    return {"best_old_member": _ranked(old), "best_volunteer": _ranked(volunteer), "best_secretary": _ranked(secretary)}


def merge_rankings(parts: list[dict]) -> dict:
    """`rank_members` of a subtree from its rankings of parts of it (a district's members are read a
    part at a time): each part's first `TOP` hold the whole's, since the order is total (score,
    then member id)."""
    keys = ("best_old_member", "best_volunteer", "best_secretary")
    return {k: _ranked([{f: v for f, v in r.items() if f != "rank"} for part in parts for r in part[k]]) for k in keys}
