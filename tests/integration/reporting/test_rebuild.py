"""Rebuild from the start of the topics into a fresh database, then switch queries over live."""
import asyncio
import subprocess
import sys

import pytest

from tests.infra import ROOT
from tests.integration.reporting.support import settled
from tests.support import auth
from tests.support.messages import eventually

pytestmark = pytest.mark.integration
OPERATOR = auth.headers("operator")  # which projections are read is an operator's question


async def test_rebuild_then_switch_without_stopping_queries(reporting, scenario):
    async with auth.client(reporting.url, timeout=30) as http:
        before = (await http.get("/api/v1/projections", headers=OPERATOR)).json()
        report_before = (await http.get(f"/api/v1/orgs/{scenario['district']}/report",
                                        params={"period": "2026-Q1", "as_of": "2026-03-31"})).json()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.reporting.rebuild", cwd=ROOT, env=reporting.env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        answered = 0
        while proc.returncode is None:  # queries keep answering during the rebuild
            r = await http.get(f"/api/v1/orgs/{scenario['district']}/report", params={"period": "2026-Q1"})
            answered += r.status_code == 200
            try:
                await asyncio.wait_for(proc.wait(), timeout=0.5)
            except asyncio.TimeoutError:
                pass
        out = (await proc.stdout.read()).decode()
        assert proc.returncode == 0, out[-3000:]
        assert answered > 0
        after = await eventually(lambda: _switched(http, before["reading_version"] + 1), timeout=30)
        assert after["reading_database"] != before["reading_database"]
        assert await settled(http, scenario)  # every figure rebuilt from the topics
        report_after = (await http.get(f"/api/v1/orgs/{scenario['district']}/report",
                                       params={"period": "2026-Q1", "as_of": "2026-03-31"})).json()
        assert report_after == report_before


async def _switched(http, version):
    body = (await http.get("/api/v1/projections", headers=OPERATOR)).json()
    return body if body["reading_version"] == version else None
