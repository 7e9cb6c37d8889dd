"""What the database spends its time on, seen from the service: every command's duration by
collection and command (`sunsetred_db_command_seconds`), and a log line for each slow one with the
shape of its filter (values replaced by their type), the way mongod's slow query log reads.

A PyMongo command listener, attached to the service's client (shared/runtime.py). The time is
the service's: from sending the command to reading its answer, so it includes the wait for the
service's own event loop when a batch keeps it busy (a small command looks slow then). The
server's own figures are in `serverStatus` (`opLatencies`, `wiredTiger.cache`).
"""
import logging
from typing import Any

from pymongo import monitoring
from prometheus_client import Histogram

log = logging.getLogger("sunsetred.db")

# 0.1 ms to 10 s: an update by _id on a quiet server, up to a scan of a large collection.
BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
DB_COMMAND_SECONDS = Histogram(
    "sunsetred_db_command_seconds", "Time from sending a database command to reading its answer, as the service saw it",
    ["service", "collection", "command"], buckets=BUCKETS)

# Where each command keeps the filter that chooses its documents (the first one for a bulk write).
_FILTERS = {"find": "filter", "count": "query", "distinct": "query", "findAndModify": "query",
            "update": ("updates", "q"), "delete": ("deletes", "q")}
_SHAPE_DEPTH = 4
_SHAPE_KEYS = 12


def shape(value: Any, depth: int = 0) -> Any:
    """A filter with its values replaced by their type names: what can be logged without a
    member's data, and what tells one query from another."""
    if isinstance(value, dict):
        if depth >= _SHAPE_DEPTH:
            return "{…}"
        keys = list(value)[:_SHAPE_KEYS]
        more = {"…": len(value) - len(keys)} if len(value) > len(keys) else {}
        return {k: shape(value[k], depth + 1) for k in keys} | more
    if isinstance(value, list):
        return [shape(value[0], depth + 1), f"×{len(value)}"] if value else []
    return type(value).__name__


def filter_of(command_name: str, command: dict) -> Any:
    """The filter of a command as the server received it (None for a command without one)."""
    where = _FILTERS.get(command_name)
    if where is None:
        if command_name == "aggregate":
            first = (command.get("pipeline") or [{}])[0]
            return first.get("$match") if isinstance(first, dict) else None
        return None
    if isinstance(where, tuple):
        many, key = where
        items = command.get(many) or [{}]
        return items[0].get(key)
    return command.get(where)


class CommandTimer(monitoring.CommandListener):
    """Times each command and logs those slower than `slow_ms` (0: none)."""

    def __init__(self, service: str, slow_ms: float):
        self.service, self.slow_s = service, slow_ms / 1000
        self._open: dict[int, tuple[str, str, Any]] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = event.command_name
        target = event.command.get(name)
        if name == "getMore":
            target = event.command.get("collection")
        collection = target if isinstance(target, str) else "-"
        self._open[event.request_id] = (collection, name, filter_of(name, event.command) if self.slow_s else None)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._finish(event, "")

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        # The code only: a server's message can quote a key's value (a duplicate key).
        failure = event.failure if isinstance(event.failure, dict) else {}
        self._finish(event, str(failure.get("codeName") or failure.get("code") or "failed"))

    def _finish(self, event, failure: str) -> None:
        opened = self._open.pop(event.request_id, None)
        if opened is None:
            return
        collection, name, found = opened
        seconds = event.duration_micros / 1e6
        DB_COMMAND_SECONDS.labels(self.service, collection, name).observe(seconds)
        if self.slow_s and seconds >= self.slow_s:
            log.warning("slow database command", extra={
                "collection": collection, "command": name, "ms": round(seconds * 1000, 1),
                "filter_shape": shape(found) if found is not None else None,
                **({"failure": failure} if failure else {})})

