"""Volunteer hours by team (义务血压站, 爱心义剪, 治安巡逻…), counted as the report counts hours:
logged (`on`) within the period, up to the reading day, for the branch the member was in that day.
They are figures like the report's (a counter per team beside `hours`), so an organisation's are
read from its few figures documents, not from every member of its subtree."""
import base64
from collections import Counter

from services.reporting.domain.report import hours_text

NO_TEAM = "未注明服务队"  # hours recorded before reporting kept the team
TEAM_COUNTER = "hours@"


def team_counter(team: str | None) -> str:
    """The figures' counter of a team's hours (contributions.py, beside `hours`): its label in
    URL-safe base64, a field name whatever the label holds ('.', '$', emoji)."""
    return TEAM_COUNTER + base64.urlsafe_b64encode((team or NO_TEAM).encode()).decode().rstrip("=")


def by_team(counters: dict[str, int]) -> Counter[str]:
    """Hundredths of an hour by team, from an organisation's counters of a period."""
    out: Counter[str] = Counter()
    for name, n in counters.items():
        if name.startswith(TEAM_COUNTER) and n:
            code = name[len(TEAM_COUNTER):]
            out[base64.urlsafe_b64decode(code + "=" * (-len(code) % 4)).decode()] += n
    return out


def as_hours(hundredths: Counter[str]) -> dict[str, str]:
    return {team: hours_text(n) for team, n in sorted(hundredths.items())}
