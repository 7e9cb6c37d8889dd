"""Reporting's own settings (environment variables prefixed REPORTING_)."""
from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.rules.org_life import Requirement, configured_rules
from shared.settings import get_settings


class ReportingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REPORTING_", extra="ignore")

    # How often the background evaluation checks branches and closed months (members: daily).
    check_every_s: float = 600
    # Projections live in `<database_prefix>reporting_v<N>`; the pointer document says which N
    # queries read (see docs in services/reporting/rebuild.py).
    version: int | None = None
    # The district's five-star grading (JSON: weights, thresholds, caps; domain/report.py
    # load_grading). Unset: domain.md's default.
    grading: str | None = None
    # A branch's leadership (domain/leadership.py): how long a required committee post may stay
    # empty before `post_vacant` is raised, and how many months past the end of a term
    # `term_overdue` turns from a warning into an alert.
    post_vacant_days: int = 90
    term_overdue_alert_months: int = 6
    # A secretary with no training in the year is flagged from the first day of this month on,
    # and not before this many days after taking the post.
    training_alert_from_month: int = 10
    training_grace_days: int = 90
    # An alert's change (raised, level, cleared) is announced on `reporting.events` only once it
    # has stood this long (announcements.py, docs/reliability.md finding 29); 0: at once. Two
    # minutes: longer than facts of two topics about one subject drift apart in normal running
    # (batches of a few hundred milliseconds, a consumer's rebalance), short against the
    # department's daily rhythm (an alert is acted on within days; reminders wait 5 minutes more).
    alert_settle_seconds: float = 120.0
    # A change also waits until the member and activity facts published before it have come through
    # members or activities and reporting's projection (the causal fence: a payment held up longer
    # than the settling time, behind a service that is down or a rebalance). A hop that has not
    # passed after this many seconds is given up, so alerts do not wait for good behind a service
    # that is down; ten minutes, as long as a command waits for a reference. 0: no fence.
    alert_fence_max_wait_seconds: float = 600.0
    # The sections a community's or district's report sums over its branches are computed again
    # soon after what they read changed, at most once every `sections_refresh_s`, if a report asked
    # for them within the last `sections_asked_within_s` (sections_refresh.py); 0: never ahead,
    # only when a report asks.
    sections_refresh_s: float = 20.0
    sections_asked_within_s: float = 3600.0
    # Records reporting's pipeline takes at once, in place of the shared BATCH_MAX_RECORDS (2,000):
    # a batch rewrites each member it touches once, whatever the records about them, and a write
    # costs SecantusDB by the document's fields (docs/secantusdb.md, 5), so larger batches pay
    # that less often. The bounds on what a batch holds (UNIT_MAX_DOCUMENTS, UNIT_MAX_READ_MB) still
    # cut its transactions. In the 300-member year published at once (5 December, six rounds
    # alternately): the report 1.1–2.6 s after the last answer against 2.7–3.9 s at 2,000; the
    # year shown at 914–1,085 commands/s against 876–979; reporting 176–180 MB against 160–169.
    batch_max_records: int = 5000


@lru_cache
def district_rules() -> tuple[Requirement, ...]:
    """The district's required frequencies (setting ORG_LIFE_RULES), the same the activities
    planner counts with; read once, from the cached shared settings."""
    return configured_rules(get_settings())


@lru_cache
def records_start() -> str | None:
    """Where the district's records begin (setting RECORDS_START, contract), as YYYY-MM-DD, or
    None (nothing excluded); read once, from the cached shared settings."""
    day = get_settings().records_start
    return day.isoformat() if day else None


class _Unset:
    """The default of a domain function's `records_start=`: the deployment's setting."""

    def __repr__(self) -> str:
        return "the setting RECORDS_START"


UNSET = _Unset()


def records_start_or(value) -> str | None:
    """`value`, or the setting when the caller passed none (keeps older call sites unchanged)."""
    return records_start() if value is UNSET else value


@lru_cache
def alert_settle_seconds() -> float:
    """REPORTING_ALERT_SETTLE_SECONDS, read once."""
    return ReportingSettings().alert_settle_seconds


@lru_cache
def district_grading():
    """The district's five-star rule set (setting REPORTING_GRADING), read once."""
    from services.reporting.domain.report import load_grading
    return load_grading(ReportingSettings().grading)


@lru_cache
def leadership_rules():
    """The district's rules for a branch's leadership (REPORTING_POST_VACANT_DAYS, …), read once."""
    from services.reporting.domain.leadership import LeadershipRules
    s = ReportingSettings()
    return LeadershipRules(post_vacant_days=s.post_vacant_days, term_overdue_alert_months=s.term_overdue_alert_months,
                           training_alert_from_month=s.training_alert_from_month,
                           training_grace_days=s.training_grace_days)
