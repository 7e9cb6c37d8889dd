"""Remote study (远程学习, issue 13, item 6) as reporting shows it, per branch: who has an account on
"红色X" and on 学习强国 (coverage), their use in a period, how members took part in organisational
life and study (in person, remotely, by home delivery: attendance, not platform use), and who has
neither account, the members to reach by 送学上门. Pure.

A member's study document: `accounts` {"<platform>|<on>": {platform, has_account, on}} (changes,
derived on the day asked), `use` {"<platform>|<month>": {platform, month, points, sessions, minutes}}.
Of a member's attendance, remote study weighs their present attendances by day and mode alone
(`present_by_day`), which reporting keeps in their study roll.
"""
from services.reporting.domain.facts import MemberFacts, attended, is_present
from shared.contracts.codes import STUDY_PLATFORMS
from shared.periods import Period

MODES = ("in_person", "remote", "home_delivery")
COUNTS = ("registered", *(f"with_{p}" for p in STUDY_PLATFORMS), "with_either", "with_both", "with_neither",
          *(f"users_{p}" for p in STUDY_PLATFORMS), "users", *(f"points_{p}" for p in STUDY_PLATFORMS),
          "sessions", "minutes", *(f"attendances_{m}" for m in MODES), *(f"members_{m}" for m in MODES),
          "neither_reached_at_home")


def has_account(doc: dict | None, platform: str, day: str) -> bool:
    changes = sorted((a for a in ((doc or {}).get("accounts") or {}).values()
                      if a["platform"] == platform and a["on"] <= day), key=lambda a: a["on"])
    return bool(changes) and changes[-1]["has_account"]


def present_by_day(f: MemberFacts) -> dict[str, dict[str, int]]:
    """The member's present attendances in organisational life and study, by day and mode: all
    that remote study weighs of their attendance (`{"2026-03-10": {"remote": 1}}`)."""
    out: dict[str, dict[str, int]] = {}
    for a in f.attendance.values():
        if is_present(a):
            by_mode = out.setdefault(a["held_on"], {})
            mode = attended(a, "mode")
            by_mode[mode] = by_mode.get(mode, 0) + 1
    return out


def modes(present: dict[str, dict[str, int]], period: Period, day: str) -> dict[str, int]:
    """The present attendances (`present_by_day`) of the period, up to `day`, by mode."""
    start, end = period.start.isoformat(), min(period.end.isoformat(), day)
    out = dict.fromkeys(MODES, 0)
    for held_on, by_mode in present.items():
        if start <= held_on <= end:
            for mode, n in by_mode.items():
                out[mode] += n
    return out


def member_figures(f: MemberFacts, doc: dict | None, period: Period, day: str,
                   present: dict[str, dict[str, int]] | None = None) -> dict:
    """One registered member's contribution to the counts (each 0 or more); `present`: their
    `present_by_day`, when already worked out (reporting keeps it: adapters/documents.py, `study_roll`)."""
    out = dict.fromkeys(COUNTS, 0)
    out["registered"] = 1
    held = {p: has_account(doc, p, day) for p in STUDY_PLATFORMS}
    for p in STUDY_PLATFORMS:
        out[f"with_{p}"] = int(held[p])
    out["with_either"], out["with_both"] = int(any(held.values())), int(all(held.values()))
    out["with_neither"] = int(not any(held.values()))
    months = {m for m in period.months if m <= day[:7]}
    used = set()
    for u in ((doc or {}).get("use") or {}).values():
        if u["month"] in months:
            if u["sessions"] or u["minutes"] or u["points"]:
                used.add(u["platform"])
            out[f"points_{u['platform']}"] += u["points"]
            out["sessions"] += u["sessions"]
            out["minutes"] += u["minutes"]
    for p in used:
        out[f"users_{p}"] = 1
    out["users"] = int(bool(used))
    by_mode = modes(present_by_day(f) if present is None else present, period, day)
    for m in MODES:
        out[f"attendances_{m}"] = by_mode[m]
        out[f"members_{m}"] = int(by_mode[m] > 0)
    out["neither_reached_at_home"] = int(out["with_neither"] and by_mode["home_delivery"] > 0)
    return out


def add(total: dict, f: dict) -> dict:
    return {k: total.get(k, 0) + f[k] for k in COUNTS}


def with_rates(c: dict) -> dict:
    """`coverage` (an account on either ÷ registered), `use_rate` (users ÷ members with an account),
    `remote_share` (remote attendances ÷ all present attendances): 0–1, 0 when nothing to divide."""
    def rate(a: int, b: int) -> float:
        return round(a / b, 4) if b else 0.0
    present = sum(c[f"attendances_{m}"] for m in MODES)
    return c | {"coverage": rate(c["with_either"], c["registered"]), "use_rate": rate(c["users"], c["with_either"]),
                "remote_share": rate(c["attendances_remote"], present)}
