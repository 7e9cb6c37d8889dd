"""Composition root of the reporting service."""
from services.reporting import announcements, daily, sections_refresh, versions
from services.reporting.adapters import documents, section_checksums
from services.reporting.handlers import HANDLERS, build_handlers
from services.reporting.settings import ReportingSettings
from shared.runtime import Runtime, Subscription
from shared.settings import Settings, get_settings
from shared.topics import ACTIVITIES_EVENTS, MEMBERS_EVENTS, NOTIFICATIONS_EVENTS

SERVICE = "reporting"
SOURCE_TOPICS = [MEMBERS_EVENTS, ACTIVITIES_EVENTS, NOTIFICATIONS_EVENTS]


class VersionedSettings(Settings):
    """The shared settings, writing into the projections database of one version."""

    projections_database: str

    def database_name(self, service: str) -> str:
        return self.projections_database


def _refresh(cfg: ReportingSettings) -> list:
    """The report sections kept fresh ahead of officials (sections_refresh.py), unless switched off."""
    if cfg.sections_refresh_s <= 0:
        return []
    return [sections_refresh.refresh_task(cfg.sections_refresh_s, cfg.sections_asked_within_s)]


def bootstrap(settings: Settings | None = None, *, version: int | None = None, rebuilding: bool = False) -> Runtime:
    """The live service writes into the version the pointer names (read at start-up); a rebuild
    (services/reporting/rebuild.py) writes into a new one, announcing no alerts and running no
    background evaluation, since the live service already did both."""
    settings = settings or get_settings()
    if version is None:
        version = ReportingSettings().version
    if version is None:
        version = versions.read_version_sync(settings)
    versioned = VersionedSettings(**settings.model_dump(),
                                  projections_database=versions.database_for(settings, version))
    # One pipeline reads every events topic, so each projection document has a single writer.
    handlers = build_handlers(emit_alerts=False) if rebuilding else HANDLERS
    runtime = Runtime(
        service=SERVICE, settings=versioned,
        subscriptions=[Subscription(versions.subscription_for(version), SOURCE_TOPICS, handlers, "events")],
        setup_db=documents.setup,
        # What the reports' sections over many branches read, checksummed (section_cache.py).
        tallies=section_checksums.TALLIES,
        tasks=[] if rebuilding else [daily.daily_task(ReportingSettings().check_every_s),
                                     announcements.announce_task(),  # alert changes that stood
                                     *_refresh(ReportingSettings())],
    )
    runtime.extras["pointer"] = versions.Pointer(runtime.client, settings)
    runtime.extras["version"] = version
    return runtime
