"""The same events in another order across aggregates give the same figures and alerts."""
import json

import pytest

from tests.integration.reporting.support import quarter_scenario, settled
from tests.support import auth
from tests.support.messages import eventually

pytestmark = pytest.mark.integration


def without_names(report: dict, ids: dict) -> dict:
    """The report with the scenario's own ids (members named in a branch's committee and training)
    written as their keys, so two scenarios compare."""
    text = json.dumps({k: v for k, v in report.items() if k not in ("org_id", "name")}, ensure_ascii=False)
    for key, value in ids.items():
        if isinstance(value, str):
            text = text.replace(f'"{value}"', f'"{key}"')
    return json.loads(text)


async def test_reversed_order_gives_the_same_reports(reporting, rbus):
    # Reversed: attendances, payments and notices of members arrive before their registrations,
    # the meetings before the branches exist, the transfer and the death before the member.
    # (Two fresh districts: the shared scenario is changed by other tests.)
    scenario = await quarter_scenario(rbus)
    other = await quarter_scenario(rbus, order="reversed")
    async with auth.client(reporting.url, timeout=30) as http:
        await eventually(lambda: settled(http, scenario), timeout=120)
        await eventually(lambda: settled(http, other), timeout=120)
        for org in ("district", "community", "b1", "b2"):
            for period, as_of in (("2026-Q1", "2026-03-31"), ("2026-02", "2026-02-28"), ("2026", "2026-02-16")):
                reports = []
                for ids in (scenario, other):
                    r = await http.get(f"/api/v1/orgs/{ids[org]}/report", params={"period": period, "as_of": as_of})
                    reports.append(without_names(r.json(), ids))
                assert reports[0] == reports[1], (org, period)
        alerts = []
        for ids in (scenario, other):
            r = await http.get("/api/v1/alerts", params={"org_id": ids["district"], "as_of": "2026-03-31"})
            names = {v: k for k, v in ids.items()}
            alerts.append(sorted((a["kind"], names[a["subject_id"]], a["level"], a["since"]) for a in r.json()["alerts"]))
        assert alerts[0] == alerts[1]
