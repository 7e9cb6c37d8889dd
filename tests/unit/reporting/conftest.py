import pytest


@pytest.fixture(autouse=True)
def alerts_announced_at_once(monkeypatch):
    """Reporting's unit tests read the alert events their batches emit: with no settling time
    (REPORTING_ALERT_SETTLE_SECONDS=0) they are emitted at once, as before announcements waited.
    tests/unit/reporting/test_announcements.py sets one."""
    from services.reporting import announcements
    monkeypatch.setattr(announcements, "alert_settle_seconds", lambda: 0.0)
