"""Volunteer hours by team (义务血压站, 爱心义剪, 治安巡逻…), counted as the report counts hours:
logged (`on`) within the period, up to the reading day, for the branch the member was in that day."""
from collections import Counter
from collections.abc import Iterable

from services.reporting.domain.facts import MemberFacts
from services.reporting.domain.report import hours_text
from shared.periods import Period

NO_TEAM = "未注明服务队"  # hours recorded before reporting kept the team


def team_hundredths(members: Iterable[MemberFacts], branch_ids: set[str], period: Period, day: str) -> Counter[str]:
    """Hundredths of an hour by team, in a form a subtree read a part at a time adds up
    (`Counter.update`); `as_hours` says them as the report does."""
    start, end = period.start.isoformat(), min(period.end.isoformat(), day)
    hundredths: Counter[str] = Counter()
    for m in members:
        for h in m.hours.values():
            stint = m.stint_on(h["on"]) if start <= h["on"] <= end else None
            if stint is not None and stint.branch_id in branch_ids:
                hundredths[h.get("team") or NO_TEAM] += h["hundredths"]
    return hundredths


def as_hours(hundredths: Counter[str]) -> dict[str, str]:
    return {team: hours_text(n) for team, n in sorted(hundredths.items())}
