"""How far reporting is behind the year `make demo` published, and at what pace it reads.

While the demo waits for the district's report it reads reporting's `/metrics` (Prometheus text):
the consumer lag over every partition, and the records handled so far. Two readings give a pace,
and the two an estimate of the time left, so that a large district's wait says hours when it is
hours (a 100,000-member year is some 5.4 million events for reporting: docs/demo.md), not "a few
minutes".
"""
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

LAG = "sunsetred_consumer_lag"
HANDLED = "sunsetred_records_total"


def read_metrics(text: str) -> tuple[int, int] | None:
    """(records behind, records handled) from a service's /metrics; None without a lag series."""
    samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
    lag = [s.value for s in samples if s.name == LAG]
    if not lag:
        return None
    handled = sum(s.value for s in samples if s.name == HANDLED and s.labels.get("outcome") == "handled")
    return int(sum(lag)), int(handled)


def duration(seconds: float) -> str:
    """A rough duration, as a person says it: under a minute, 12 min, 7 h 30 min."""
    if seconds < 60:
        return "under a minute"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


@dataclass
class Backlog:
    """Readings of reporting's metrics over the wait: the latest, and the pace since the first."""

    first: tuple[float, int] | None = None  # (moment, handled)
    last: tuple[float, int, int] | None = None  # (moment, behind, handled)

    def add(self, moment: float, text: str) -> None:
        reading = read_metrics(text)
        if reading is None:
            return
        behind, handled = reading
        if self.first is None:
            self.first = (moment, handled)
        self.last = (moment, behind, handled)

    def describe(self) -> str | None:
        """"5,102,334 records behind, 210 a second: about 6 h 45 min"; None before any reading."""
        if self.last is None or self.first is None:
            return None
        moment, behind, handled = self.last
        if behind == 0:
            return "no record behind"
        text = f"{behind:,} records behind"
        elapsed = moment - self.first[0]
        if elapsed <= 0:
            return text
        pace = (handled - self.first[1]) / elapsed
        if pace <= 0:
            return text + ", none handled since the wait began"
        return text + f", {pace:,.0f} a second: about {duration(behind / pace)}"
