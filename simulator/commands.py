"""One command as a district system sends it: topic, Kafka key and envelope (the contract's)."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from shared.contracts import lookup

BEIJING = timezone(timedelta(hours=8))
DISTRICT = "x-district"


@dataclass(frozen=True)
class Cmd:
    topic: str  # without the deployment's prefix
    key: str
    envelope: dict[str, Any]

    @property
    def id(self) -> str:
        return self.envelope["id"]

    @property
    def type(self) -> str:
        return self.envelope["type"]

    @property
    def occurred_at(self) -> str:
        return self.envelope["occurred_at"]


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), BEIJING)


class Factory:
    """Builds envelopes with ids derived from the seed, so the same district sends the same ids."""

    def __init__(self, ids, correlation_id: str):
        self.ids, self.correlation_id = ids, correlation_id

    def __call__(self, type_: str, ref: str, data: dict[str, Any], when: datetime, source: str) -> Cmd:
        cls = lookup(type_)
        env = {"id": self.ids.message(f"{type_}/{ref}"), "type": type_, "schema_version": 1,
               "occurred_at": when.isoformat(), "district": DISTRICT, "source": source,
               "correlation_id": self.correlation_id, "causation_id": None, "data": data}
        return Cmd(cls.TOPIC, str(data[cls.KEY]), env)
