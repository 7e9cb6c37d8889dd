"""The database command timer: durations by collection and command, slow commands logged with
the shape of their filter and none of its values."""
import logging
from datetime import timedelta

from prometheus_client import REGISTRY
from pymongo import monitoring

from shared.infra.db_commands import CommandTimer, filter_of, shape

ADDRESS = ("127.0.0.1", 27017)


def _run(timer: CommandTimer, command: dict, ms: float, request_id: int, fail: bool = False) -> None:
    timer.started(monitoring.CommandStartedEvent(command, "db", request_id, ADDRESS, None))
    if fail:
        reply = {"errmsg": "dup key m-秘密", "codeName": "DuplicateKey"}
        timer.failed(monitoring.CommandFailedEvent(timedelta(milliseconds=ms), reply,
                                                   next(iter(command)), request_id, ADDRESS, None))
    else:
        timer.succeeded(monitoring.CommandSucceededEvent(timedelta(milliseconds=ms), {"ok": 1},
                                                         next(iter(command)), request_id, ADDRESS, None))


def _count(service: str, collection: str, command: str) -> tuple[float, float]:
    """(seconds, commands) recorded under these labels."""
    labels = {"service": service, "collection": collection, "command": command}
    return (REGISTRY.get_sample_value("sunsetred_db_command_seconds_sum", labels),
            REGISTRY.get_sample_value("sunsetred_db_command_seconds_count", labels))


def test_the_shape_of_a_filter_keeps_its_keys_and_operators_and_drops_every_value():
    found = {"org_id": "b-1", "member": {"$in": ["张三", "李四"]}, "at": {"$gte": 3}, "or": [{"a": 1}, {"b": 2}]}
    assert shape(found) == {"org_id": "str", "member": {"$in": ["str", "×2"]}, "at": {"$gte": "int"},
                            "or": [{"a": "int"}, "×2"]}
    assert "张三" not in str(shape(found))


def test_the_filter_is_read_where_each_command_keeps_it():
    assert filter_of("find", {"find": "c", "filter": {"a": 1}}) == {"a": 1}
    assert filter_of("update", {"update": "c", "updates": [{"q": {"_id": 1}, "u": {}}]}) == {"_id": 1}
    assert filter_of("delete", {"delete": "c", "deletes": [{"q": {"x": 2}}]}) == {"x": 2}
    assert filter_of("aggregate", {"aggregate": "c", "pipeline": [{"$match": {"k": 1}}, {"$group": {}}]}) == {"k": 1}
    assert filter_of("findAndModify", {"findAndModify": "c", "query": {"v": 1}}) == {"v": 1}
    assert filter_of("insert", {"insert": "c", "documents": [{}]}) is None


def test_each_command_is_timed_under_its_collection_and_a_slow_one_is_logged(caplog):
    timer = CommandTimer("svc-timer-test", slow_ms=100)
    with caplog.at_level(logging.WARNING, logger="sunsetred.db"):
        _run(timer, {"find": "deliveries", "filter": {"member_id": "m-秘密"}}, 250, 1)
        _run(timer, {"update": "notices", "updates": [{"q": {"_id": "n"}}]}, 2, 2)
        _run(timer, {"commitTransaction": 1}, 150, 3, fail=True)
        _run(timer, {"getMore": 7, "collection": "deliveries"}, 1, 4)
    assert _count("svc-timer-test", "deliveries", "find") == (0.25, 1)
    assert _count("svc-timer-test", "notices", "update") == (0.002, 1)
    assert _count("svc-timer-test", "-", "commitTransaction")[1] == 1
    assert _count("svc-timer-test", "deliveries", "getMore")[1] == 1
    slow = [(r.collection, r.command, r.ms, r.filter_shape, getattr(r, "failure", "")) for r in caplog.records]
    assert slow == [("deliveries", "find", 250.0, {"member_id": "str"}, ""),
                    ("-", "commitTransaction", 150.0, None, "DuplicateKey")]
    assert "秘密" not in caplog.text
    assert timer._open == {}


def test_no_command_is_logged_when_slow_logging_is_off(caplog):
    timer = CommandTimer("svc-timer-off", slow_ms=0)
    with caplog.at_level(logging.WARNING, logger="sunsetred.db"):
        _run(timer, {"find": "x", "filter": {}}, 5000, 1)
    assert caplog.records == []
    assert _count("svc-timer-off", "x", "find")[1] == 1
