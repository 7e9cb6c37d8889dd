"""Reporting's own settings (environment variables prefixed REPORTING_)."""
from pydantic_settings import BaseSettings, SettingsConfigDict


class ReportingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REPORTING_", extra="ignore")

    # How often the background evaluation checks branches and closed months (members: daily).
    check_every_s: float = 600
    # Projections live in `<database_prefix>reporting_v<N>`; the pointer document says which N
    # queries read (see docs in services/reporting/rebuild.py).
    version: int | None = None
