"""Composition root of the reporting service."""
from services.reporting import announcements, daily, sections_refresh, versions
from services.reporting.adapters import documents, section_checksums
from services.reporting.handlers import HANDLERS, build_handlers
from services.reporting.settings import ReportingSettings
from shared.messaging.causal_fence import CausalFence, Hop, Stage, broker_fence
from shared.messaging.kafka import consumer_group
from shared.runtime import Runtime, Subscription
from shared.settings import Settings, get_settings
from shared.topics import ACTIVITIES_COMMANDS, ACTIVITIES_EVENTS, MEMBERS_COMMANDS, MEMBERS_EVENTS, NOTIFICATIONS_EVENTS

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


def alert_facts_fence(s: Settings, cfg: ReportingSettings, version: int) -> CausalFence | None:
    """The fence an alert's change waits behind before it is announced (announcements.py), None when
    switched off or when changes are announced at once."""
    if cfg.alert_fence_max_wait_seconds <= 0 or cfg.alert_settle_seconds <= 0:
        return None
    return broker_fence(s, SERVICE, alert_facts_road(s, version), cfg.alert_fence_max_wait_seconds, name="alert_facts")


def alert_facts_road(s: Settings, version: int) -> list[Stage]:
    """The roads of the facts alerts weigh (dues, attendance, visits, away periods, leadership):
    member facts through members, activity facts through activities, then both events topics
    through this version's projections."""
    t, projections = s.topic_prefix, s.topic_prefix + consumer_group(SERVICE, versions.subscription_for(version))
    return [[Hop(t + MEMBERS_COMMANDS, t + consumer_group("members", "commands")),
             Hop(t + ACTIVITIES_COMMANDS, t + consumer_group("activities", "commands"))],
            [Hop(t + MEMBERS_EVENTS, projections), Hop(t + ACTIVITIES_EVENTS, projections)]]


def _background(settings: Settings, cfg: ReportingSettings, version: int) -> list:
    """The live service's background work: the daily evaluation, the alert announcements behind
    their fence (and the fence's own walk), the sections kept fresh."""
    fence = alert_facts_fence(settings, cfg, version)
    return [daily.daily_task(cfg.check_every_s),
            announcements.announce_task(fence),  # alert changes that stood
            *([fence.runtime_task(announcements.poll_seconds(cfg.alert_settle_seconds))] if fence else []),
            *_refresh(cfg)]


def bootstrap(settings: Settings | None = None, *, version: int | None = None, rebuilding: bool = False) -> Runtime:
    """The live service writes into the version the pointer names (read at start-up); a rebuild
    (services/reporting/rebuild.py) writes into a new one, announcing no alerts and running no
    background evaluation, since the live service already did both."""
    settings = settings or get_settings()
    if version is None:
        version = ReportingSettings().version
    if version is None:
        version = versions.read_version_sync(settings)
    own = {"batch_max_records": ReportingSettings().batch_max_records}  # reporting's, not the shared one
    versioned = VersionedSettings(**(settings.model_dump() | own),
                                  projections_database=versions.database_for(settings, version))
    # One pipeline reads every events topic, so each projection document has a single writer.
    handlers = build_handlers(emit_alerts=False) if rebuilding else HANDLERS
    runtime = Runtime(
        service=SERVICE, settings=versioned,
        subscriptions=[Subscription(versions.subscription_for(version), SOURCE_TOPICS, handlers, "events")],
        setup_db=documents.setup,
        # What the reports' sections over many branches read, checksummed (section_cache.py).
        tallies=section_checksums.TALLIES,
        kept_encoded=documents.KEPT_ENCODED,
        write_ahead=documents.WRITTEN_AHEAD,
        read_weights=documents.READ_WEIGHTS,
        tasks=[] if rebuilding else _background(settings, ReportingSettings(), version),
    )
    runtime.extras["pointer"] = versions.Pointer(runtime.client, settings)
    runtime.extras["version"] = version
    return runtime
