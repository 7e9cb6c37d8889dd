"""What `make demo` says while reporting reads the year: how far behind, at what pace, for how long."""
import pytest

from simulator.backlog import Backlog, duration, read_metrics

pytestmark = pytest.mark.unit


def metrics(behind: tuple[int, ...], handled: int) -> str:
    lines = ["# HELP sunsetred_consumer_lag Records on a partition the consumer group has not committed yet",
             "# TYPE sunsetred_consumer_lag gauge"]
    lines += [f'sunsetred_consumer_lag{{group="reporting-projections",partition="{p}",service="reporting",'
              f'topic="members.events"}} {n}.0' for p, n in enumerate(behind)]
    lines += ['sunsetred_records_total{outcome="handled",pipeline="projections",service="reporting"} '
              f'{handled}.0',
              'sunsetred_records_total{outcome="rejected",pipeline="projections",service="reporting"} 7.0',
              'sunsetred_records_created{outcome="handled",pipeline="projections",service="reporting"} 1.7e9']
    return "\n".join(lines) + "\n"


def test_the_lag_of_every_partition_and_the_records_handled_are_read():
    assert read_metrics(metrics((3, 4, 0), 100)) == (7, 100)


def test_metrics_without_a_lag_say_nothing():
    assert read_metrics("# nothing here\nprocess_cpu_seconds_total 3.0\n") is None


def test_durations_read_as_a_person_says_them():
    assert duration(30) == "under a minute"
    assert duration(12 * 60 + 10) == "12 min"
    assert duration(2 * 3600) == "2 h"
    assert duration(6 * 3600 + 45 * 60) == "6 h 45 min"


def test_two_readings_give_the_pace_and_the_time_left():
    b = Backlog()
    assert b.describe() is None
    b.add(100.0, metrics((2_600_000, 2_600_000), 1_000_000))
    assert b.describe() == "5,200,000 records behind"
    b.add(160.0, metrics((2_593_700, 2_593_700), 1_012_600))  # 12,600 handled in 60 s
    assert b.describe() == "5,187,400 records behind, 210 a second: about 6 h 52 min"


def test_a_stalled_or_finished_reporting_is_said_so():
    b = Backlog()
    b.add(0.0, metrics((50,), 10))
    b.add(30.0, metrics((50,), 10))
    assert b.describe() == "50 records behind, none handled since the wait began"
    b.add(60.0, metrics((0,), 60))
    assert b.describe() == "no record behind"
