"""The road the facts alerts weigh take to reporting (the announcements' causal fence,
services/reporting/README.md): the names the broker is asked about must be the deployment's own."""
import pytest

from services.reporting.bootstrap import alert_facts_fence, alert_facts_road
from services.reporting.settings import ReportingSettings
from shared.messaging.causal_fence import Hop
from shared.settings import Settings

pytestmark = pytest.mark.unit


def test_member_and_activity_facts_through_their_services_then_this_versions_projections():
    road = alert_facts_road(Settings(topic_prefix="t1."), version=2)
    assert road == [
        [Hop("t1.members.commands", "t1.sunsetred-members-commands"),
         Hop("t1.activities.commands", "t1.sunsetred-activities-commands")],
        [Hop("t1.members.events", "t1.sunsetred-reporting-projections_v2"),
         Hop("t1.activities.events", "t1.sunsetred-reporting-projections_v2")]]
    assert alert_facts_road(Settings(), version=0)[1][0].group == "sunsetred-reporting-projections"


def test_no_fence_when_switched_off_or_when_changes_are_announced_at_once():
    s = Settings()
    assert alert_facts_fence(s, ReportingSettings(alert_fence_max_wait_seconds=0), 0) is None
    assert alert_facts_fence(s, ReportingSettings(alert_settle_seconds=0), 0) is None
    fence = alert_facts_fence(s, ReportingSettings(), 0)
    assert fence is not None and fence.max_wait_s == 600 and fence.name == "alert_facts"


def test_reporting_takes_its_own_batch_size_and_the_shared_bounds_on_what_a_batch_holds(monkeypatch):
    from services.reporting.bootstrap import bootstrap
    s = Settings(batch_max_records=300, unit_max_documents=1234)
    monkeypatch.delenv("REPORTING_BATCH_MAX_RECORDS", raising=False)
    assert (bootstrap(s, version=1).settings.batch_max_records, bootstrap(s, version=1).settings.unit_max_documents) == (
        5000, 1234)
    monkeypatch.setenv("REPORTING_BATCH_MAX_RECORDS", "700")
    assert bootstrap(s, version=1).settings.batch_max_records == 700
