from datetime import datetime, timezone

import pytest

from services.notifications import handlers

BEFORE_EVERY_NOTICE = datetime(2000, 1, 1, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def before_every_notice_is_due(monkeypatch):
    """The handlers' clock, before any notice of these tests is due: a late fact then settles the
    deliveries itself. A due delivery is left to the delivery worker (`handlers._left_to_worker`);
    the tests of that set the clock themselves."""
    monkeypatch.setattr(handlers, "clock", lambda: BEFORE_EVERY_NOTICE)
