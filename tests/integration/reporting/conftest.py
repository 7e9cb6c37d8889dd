import httpx
import pytest

from tests.integration.reporting.support import fixtures, quarter_scenario, settled
from tests.support.messages import eventually

reporting_platform, reporting, rbus = fixtures("r")


@pytest.fixture(scope="session")
async def scenario(reporting, rbus):
    ids = await quarter_scenario(rbus)
    async with httpx.AsyncClient(base_url=reporting.url, timeout=30) as http:
        await eventually(lambda: settled(http, ids), timeout=120)
    return ids


