"""Alerts as a secretary reads a list of them: the worst first, each `since` in the one format of its kind.

`since` is a month for the runs of months (dues, participation), a quarter for missed meetings,
and a day for the rest (contract); `since_label` says each in words, one format per kind.
"""
import re

from shared.periods import parse_period

LEVEL_ORDER = {"alert": 0, "warning": 1, "info": 2}
SINCE_FORMATS = {"dues_arrears": "month", "no_participation": "month", "missed_meetings": "quarter",
                 "not_visited": "day", "branch_too_small": "day", "no_secretary": "day", "transfer_suggested": "day",
                 "term_overdue": "day", "post_vacant": "day", "secretary_untrained": "day",
                 "funds_overdrawn": "day", "probation_overdue": "day", "request_overdue": "day"}
_PATTERNS = {"month": re.compile(r"\d{4}-\d{2}"), "quarter": re.compile(r"\d{4}-Q[1-4]"),
             "day": re.compile(r"\d{4}-\d{2}-\d{2}")}


def since_label(kind: str, since: str) -> str:
    """"2025年3月起" (month), "2024年第4季度" (quarter), "2025年3月5日起" (day)."""
    fmt = SINCE_FORMATS[kind]
    if not _PATTERNS[fmt].fullmatch(since):
        raise ValueError(f"{kind}: since {since!r} is not a {fmt}")
    if fmt == "quarter":
        p = parse_period(since)
        return f"{p.start.year}年第{(p.start.month - 1) // 3 + 1}季度"
    y, m = int(since[:4]), int(since[5:7])
    return f"{y}年{m}月起" if fmt == "month" else f"{y}年{m}月{int(since[8:10])}日起"


def ordered(alerts: list[dict]) -> list[dict]:
    """By level (严重, 警告, 提示), then the longest run first, then the oldest `since` (the member
    not visited the longest), then by branch and name so the order is the same on every read."""
    return sorted(alerts, key=lambda a: (LEVEL_ORDER[a["level"]], -(a.get("months") or 0), a["since"],
                                         a.get("org_name") or "", a.get("subject_name") or "", a["alert_id"]))


def by_level(alerts: list[dict]) -> dict[str, int]:
    """How many of each level, every level named (the dashboard's count: 严重, 警告, 提示)."""
    counts = dict.fromkeys(LEVEL_ORDER, 0)
    for a in alerts:
        counts[a["level"]] += 1
    return counts


def matching(alerts: list[dict], kind: str | None = None, branch_id: str | None = None) -> list[dict]:
    return [a for a in alerts if (kind is None or a["kind"] == kind) and (branch_id is None or a["org_id"] == branch_id)]
