"""Helpers for the members integration tests: send a command, wait for its answer."""
from tests.support.messages import caused_by, envelope
from tests.support.scenario import register, tree, uid

EVENTS = "members.events"
COMMANDS = "members.commands"


async def answer(bus, cmd: dict, until_type: str | None = None, timeout: float = 60) -> list[dict]:
    """Send `cmd` and return the events it caused, once one (or one of `until_type`) is there."""
    await bus.send(COMMANDS, cmd)

    def done(es):
        mine = caused_by(es, cmd)
        return any(e["type"] == until_type for e in mine) if until_type else bool(mine)

    return caused_by(await bus.events(EVENTS, done, timeout), cmd)


async def accepted(bus, cmd: dict, until_type: str | None = None) -> list[dict]:
    events = await answer(bus, cmd, until_type)
    assert events and events[0]["type"] != "CommandRejected", events
    return events


async def rejected(bus, cmd: dict) -> tuple[str, list[str]]:
    [ev] = await answer(bus, cmd)
    assert ev["type"] == "CommandRejected", ev
    return ev["data"]["reason"], [e["field"] for e in ev["data"]["errors"]]


async def new_tree(bus, n_branches: int = 1) -> dict:
    ids, cmds = tree(n_branches)
    for cmd in cmds:  # a parent must exist before its child
        await accepted(bus, cmd)
    return ids


async def new_member(bus, branch_id: str, **over) -> str:
    cmd = register(branch_id, **over)
    await accepted(bus, cmd)
    return cmd["data"]["member_id"]


def command(type_: str, **data) -> dict:
    return envelope(type_, data)


__all__ = ["answer", "accepted", "rejected", "new_tree", "new_member", "command", "uid"]
