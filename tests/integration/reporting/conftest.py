import pytest

from tests.integration.reporting.support import fixtures, quarter_scenario, settled
from tests.support import auth
from tests.support.messages import eventually

reporting_platform, reporting, rbus = fixtures("r")


@pytest.fixture(scope="session")
async def scenario(reporting, rbus):
    ids = await quarter_scenario(rbus)
    async with auth.client(reporting.url, timeout=30) as http:
        await eventually(lambda: settled(http, ids), timeout=120)
    return ids


