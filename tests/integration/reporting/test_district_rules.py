"""A district's own frequencies (ORG_LIFE_RULES) are what reporting requires, as the planner does."""
import json

import pytest

from tests.integration.reporting.support import publish, tree_events, uid
from tests.support import auth
from tests.support.messages import Bus, eventually
from tests.support.services import ServiceProcess

pytestmark = pytest.mark.integration
RULES = [{"kind": "group_meeting", "per": "month", "times": 2, "applies": "party_groups"},
         {"kind": "org_life_meeting", "per": "half_year"}]


async def test_report_requires_what_the_district_configured(infra, run_id):
    prefix = f"t{run_id}rules."
    proc = ServiceProcess("reporting", infra, prefix, {"ORG_LIFE_RULES": json.dumps(RULES)}).start()
    bus = Bus(infra.kafka, prefix)
    await bus.start()
    try:
        await proc.wait_ready()
        branch = uid("b")
        _ids, evs = tree_events([(branch, False, 2)])
        await publish(bus, *evs)
        async with auth.client(proc.url, timeout=30) as http:
            async def life():
                r = await http.get(f"/api/v1/orgs/{branch}/report", params={"period": "2026", "as_of": "2026-12-31"})
                return r.json()["organisational_life"] if r.status_code == 200 else None
            ol = await eventually(life, timeout=60)
    finally:
        await bus.stop()
        proc.stop()
    assert ol["group_meeting"]["required"] == 48  # twice a month for each of its 2 groups, not the national once
    assert ol["org_life_meeting"]["required"] == 2  # every half year
    assert ol["branch_assembly"]["required"] == 0  # not in this district's rule set
