import httpx
import pytest

from tests.integration.reporting.support import fixtures, quarter_scenario
from tests.support.messages import eventually

reporting, rbus = fixtures("e")


@pytest.fixture(scope="session")
async def scenario(reporting, rbus):
    ids = await quarter_scenario(rbus)
    async with httpx.AsyncClient(base_url=reporting.url, timeout=30) as http:
        async def settled():
            r = await http.get(f"/api/v1/orgs/{ids['district']}/report", params={"period": "2026-Q1"})
            body = r.json() if r.status_code == 200 else {}
            return body.get("members", {}).get("registered") == 6 and body["notices"]["acknowledged"] == 1 \
                and body["dues"]["member_months_paid"] == 8
        await eventually(settled, timeout=90)
    return ids
