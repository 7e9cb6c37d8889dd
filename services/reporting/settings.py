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


@lru_cache
def district_rules() -> tuple[Requirement, ...]:
    """The district's required frequencies (setting ORG_LIFE_RULES), the same the activities
    planner counts with; read once, from the cached shared settings."""
    return configured_rules(get_settings())
