"""Activities' integration tests run members and activities only (the planner's projection comes
from members.events), under a prefix of their own so they never share consumers or databases
with a whole-platform run in the same session, and so a half-built other service cannot stop them."""
import pytest

from tests.support.messages import Bus
from tests.support.services import start_all


@pytest.fixture(scope="session")
async def platform(infra, run_id):
    procs = await start_all(["members", "activities"], infra, f"t{run_id}act.")
    yield procs
    for p in procs.values():
        p.stop()


@pytest.fixture(scope="session")
async def bus(infra, run_id):
    b = Bus(infra.kafka, f"t{run_id}act.")
    await b.start()
    yield b
    await b.stop()
