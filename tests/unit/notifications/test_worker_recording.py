"""Recording the outcome of sends: a database away for a moment does not lose what the gateways
answered, and a database away for long does not hold the delivery worker for ever."""
import pytest
from pymongo.errors import AutoReconnect

from services.notifications.adapters.documents import DELIVERIES
from services.notifications.settings import NotifySettings
from tests.unit.notifications.test_worker_ids import DUE, store, worker

pytestmark = pytest.mark.unit


def recording_fails(w, error: Exception) -> list:
    """Every unit recording outcomes fails with `error`; returns the list of its tries."""
    run_unit, tries = w.pipe.run_unit, []

    async def failing(cause, work, wants=()):
        if cause.type == "Delivery.record":
            tries.append(cause.id)
            raise error
        await run_unit(cause, work, wants)

    w.pipe.run_unit = failing
    return tries


async def test_recording_is_given_up_once_the_attempts_would_be_taken_for_orphans():
    uow = store()
    w = worker(uow)
    w.cfg = NotifySettings(quiet_hours="00:00-00:00", orphan_after_seconds=0.5)
    tries = recording_fails(w, AutoReconnect("connection refused"))
    with pytest.raises(AutoReconnect):
        await w._deliver_round(list(uow.docs[DELIVERIES].values()), DUE)
    assert len(tries) >= 2 and len(set(tries)) == 1  # tried again, as the same unit, then given up
    assert uow.docs[DELIVERIES]["n1|m1"]["state"] == "sending"  # left for the orphan recovery


async def test_a_failure_that_is_not_the_database_being_away_is_not_tried_again():
    uow = store()
    w = worker(uow)
    tries = recording_fails(w, ValueError("a bug"))
    with pytest.raises(ValueError):
        await w._deliver_round(list(uow.docs[DELIVERIES].values()), DUE)
    assert len(tries) == 1
