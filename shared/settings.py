"""Settings every service shares, read from the environment by a cached function.

Nothing reads the environment at import time: tests build `Settings(...)` directly and hand
them to a service's bootstrap; processes call `get_settings()` once.
"""
from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    mongodb_url: str = "mongodb://127.0.0.1:27017/"
    district: str = "x-district"
    # Prefixes isolate deployments (and test runs) that share one broker or one database server.
    topic_prefix: str = ""
    database_prefix: str = "sunsetred_"
    topic_partitions: int = 4
    batch_max_records: int = 500
    batch_timeout_ms: int = 50
    # A handler that raises is retried this many times before its message is dead-lettered.
    handler_attempts: int = 3
    log_level: str = "INFO"
    # The district's required frequencies of organisational life (shared/rules/org_life.py);
    # unset means the national default table of domain.md.
    org_life_rules: str | None = None
    # Fault injection for the crash tests only: after the named stage of a batch ("journaled" or
    # "applied", i.e. before the offset is committed) the process writes `fault_marker` and hangs,
    # waiting for the test's SIGKILL. Unset in every real deployment.
    fault_pause_at: str | None = None
    fault_marker: str | None = None
    log_json: bool = True

    def database_name(self, service: str) -> str:
        return f"{self.database_prefix}{service}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
