"""What `make demo` prints at the end: where to look, with the figures the simulator intended."""
import pytest

from simulator.guide import SHOWN, where_to_look
from simulator.sources import Generated

pytestmark = pytest.mark.unit


def test_the_guide_names_the_dashboard_the_reports_and_the_gaps():
    source = Generated(4, 60, 2025)
    for _ in source.phases():
        pass
    outcome = source.outcome()
    text = where_to_look(outcome, "http://127.0.0.1:8004/")
    district = outcome["summary"]["district_id"]
    assert "http://127.0.0.1:8004/" in text
    assert f"/api/v1/orgs/{district}/report?period=2025-01" in text
    for branch in ("欧美亚", "北岸明珠", "世茂滨江"):
        assert branch in text
    notices, alerts = outcome["summary"]["notices"], outcome["summary"]["alerts_at_year_end"]
    assert f"需回执通知 {notices['pairs_sent']} 人次, 已回执 {notices['pairs_acknowledged']}" in text
    assert "预警 alerts open on 2025-12-31: " in text and f"no_secretary/warning {alerts['no_secretary/warning']}" in text
    # issue 13's kinds are counted beside the contract's: the empty secretary's post, the overdrawn funds
    assert "post_vacant/alert 1" in text and "funds_overdrawn/warning 1" in text
    away = outcome["summary"]["members"]["away_end_of_january"]
    assert f"{away} members away at the end of January" in text


def test_a_large_districts_lists_name_a_few_branches_and_count_the_rest():
    """At 100,000 members the funds and grades named all 2,223 branches: 117,571 characters."""
    source = Generated(4, 600, 2025)
    for _ in source.phases():
        pass
    outcome = source.outcome()
    records = outcome["summary"]["branch_records"]
    assert len(records["funds"]) == len(records["grades"]) > SHOWN
    text = where_to_look(outcome, "http://127.0.0.1:8004/")
    more = len(records["funds"]) - SHOWN
    funds = next(line for line in text.splitlines() if "支部经费" in line)
    grades = next(line for line in text.splitlines() if "星级类别" in line)
    for line in (funds, grades):
        assert f"…另有 {more} 个" in line
        assert sum(branch in line for branch in records["funds"]) == SHOWN
