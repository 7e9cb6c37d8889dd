"""Settings every service shares, read from the environment by a cached function.

Nothing reads the environment at import time: tests build `Settings(...)` directly and hand
them to a service's bootstrap; processes call `get_settings()` once.
"""
import os
import socket
from datetime import date
from functools import lru_cache

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_UNITS = {"s": 1, "m": 60, "h": 3600}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    mongodb_url: str = "mongodb://127.0.0.1:27017/"
    district: str = "x-district"
    # Prefixes isolate deployments (and test runs) that share one broker or one database server.
    topic_prefix: str = ""
    database_prefix: str = "sunsetred_"
    topic_partitions: int = 4
    # Records a pipeline takes at once when they are waiting (a backlog: a catch-up, a rebuild, a
    # district publishing a year). Work done once per batch (deferred figures, the transaction)
    # is shared by more records: reporting spends 0.24 ms of CPU a record in batches of 5,000
    # against 0.65 in batches of 500 (benchmarks/reporting_ingest.py).
    batch_max_records: int = 2000
    # …but a batch is committed early, and the rest of its records handled in a transaction of their
    # own, once its unit of work holds this many documents (read or written): a batch's memory is
    # its documents, and a few records can bring in many (a member's fact handled after a year of
    # notices re-addresses some 200 deliveries): 2,000 such records held 360 MB in notifications.
    # 20,000 still let notifications reach 330-365 MB in some runs of the 300-member year (its late
    # facts' batches, run again after losing to the delivery worker); at 5,000, 164-214 MB in three
    # runs, and fewer batches run again (a smaller transaction overlaps fewer of the worker's).
    unit_max_documents: int = 5000
    # …and a batch reads the documents its records name up to this many megabytes (as stored),
    # leaving the records after to the next transaction (Pipeline.max_read_bytes): a notice to a
    # whole district reaches reporting as a record per branch naming its members, so a batch that
    # catches up on one names them all. A bound, not a pace: at 8 MB the 1,000-member year's
    # reporting cut its batches so often (each member refreshed once a transaction, not once a
    # batch) that the year took 192 s instead of 124 (reporting 314 MB instead of 404); at 16 MB,
    # 120 s and 405 MB (docs/benchmarks.md). 0: no limit.
    unit_max_read_mb: float = 16
    # …and at most this many documents (0: no limit): 16 MB of small documents are many. At 100,000
    # members, early in the year (a member's document some 150 bytes), a batch of a district
    # notice's records read some 57,000 members and held 115,000 documents with their snapshots:
    # reporting at 336 MB (docs/demo.md). The 300-member year's batches hold 3,300 to 4,200. A
    # service may count a collection's documents as more than one each (Runtime.read_weights).
    unit_max_read_documents: int = 25_000
    batch_timeout_ms: int = 50
    # A handler that raises is retried this many times before its message is dead-lettered.
    handler_attempts: int = 3
    log_level: str = "INFO"
    # New container objects between two collections of the youngest generation (shared/collector.py:
    # at Python's 700, reporting spent a fifth of its CPU collecting). 0: the interpreter's default.
    gc_threshold: int = 10_000
    # The district's required frequencies of organisational life (shared/rules/org_life.py);
    # unset means the national default table of domain.md.
    org_life_rules: str | None = None
    # Where the district's records begin (contract, RECORDS_START: YYYY-MM-DD): no month before it
    # is due, counted in a run or in `months`, and no alert's `since` is earlier. Unset: nothing
    # is excluded. The demo sets it to the first day of its year.
    records_start: date | None = None
    # How long a command naming an organisation, member, activity or venue not known yet is held
    # before it is rejected `unknown_reference` (contract). Seconds, or with a unit: "10m", "90s".
    reference_wait: float = 600
    # Held commands are tried again after every batch and at least this often…
    parked_sweep_s: float = 2.0
    # …each one at once, then less and less often while it keeps waiting, and at least this often
    # (shared/messaging/parking.py, Retries): thousands held, each tried after every batch, cost a
    # service more than its own work.
    parked_retry_max_s: float = 4.0
    # A database command slower than this is logged with the shape of its filter (like mongod's
    # slowms, which is 100 by default; higher here because a batch's transaction commits and bulk
    # writes of 2,000 records take longer by design). 0: none logged.
    mongo_slow_ms: float = 500
    # The inbox forgets a message id after this many days (a TTL index): longer than Kafka keeps it.
    inbox_days: float = 30
    # Names this process among the instances of its service (leases, logs); unique per process.
    instance_id: str = ""
    # Fault injection for the crash tests only: after the named stage of a batch ("handled":
    # before the transaction, "committed": after it, "published": after the relay, all before the
    # offset is committed) the process writes `fault_marker` and hangs, waiting for the test's
    # SIGKILL. Unset in every real deployment.
    fault_pause_at: str | None = None
    fault_marker: str | None = None
    log_json: bool = True
    # Sign-in (shared/auth): the identity provider's public keys, a JWKS URL (its `jwks_uri`) or a
    # file (local: `make up` writes .data/secrets/jwks.json). Unset: every protected route answers
    # 503. Tokens must name this issuer and audience, and this deployment's `district`.
    auth_jwks: str | None = None
    auth_issuer: str = "sunsetred-local"
    auth_audience: str = "sunsetred"
    # Requests one signed-in person may make to one instance: on average per second, and at once
    # (shared/http/rate.py; 429 beyond). 0: no bound.
    http_rate_per_second: float = 50.0
    http_rate_burst: int = 200
    # Kafka credentials (shared/kafka_auth.py): KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD, or a
    # client properties file KAFKA_CREDENTIALS, or a folder KAFKA_SECRETS_DIR holding one file per
    # principal (`<principal>.properties`; a service is `sunsetred-<service>`). None of them: the
    # broker takes clients without authentication (PLAINTEXT, development only).
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_sasl_mechanism: str = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = None
    kafka_credentials: str | None = None
    kafka_secrets_dir: str | None = None
    # The registry source -> signing key the commands' `x-source-signature` is checked against
    # (JSON); default `sources.json` in KAFKA_SECRETS_DIR. Required whenever Kafka is secured.
    kafka_source_keys: str | None = None

    @field_validator("reference_wait", mode="before")
    @classmethod
    def _duration(cls, value):
        if isinstance(value, str) and value and value[-1] in _UNITS:
            return float(value[:-1]) * _UNITS[value[-1]]
        return value

    def instance(self, service: str) -> str:
        return self.instance_id or f"{service}@{socket.gethostname()}:{os.getpid()}"

    def database_name(self, service: str) -> str:
        return f"{self.database_prefix}{service}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
