"""Helpers of the issue-13 end-to-end tests: a tree and members published on Kafka, commands
answered, reads over HTTP until they show what was sent."""
from tests.support.messages import caused_by, envelope, eventually
from tests.support.scenario import register, tree, uid


async def answered(bus, topic: str, *cmds: dict, timeout: float = 120) -> list[dict]:
    """Send the commands and return the events each caused (the first of each, in order)."""
    await bus.send(topic.replace(".events", ".commands"), *cmds)
    events = await bus.events(topic, lambda es: all(caused_by(es, c) for c in cmds), timeout)
    return [caused_by(events, c)[0] for c in cmds]


async def caused(bus, topic: str, cmd: dict, n: int, timeout: float = 120) -> list[dict]:
    """Send one command and return the `n` events it causes (on several keys: in no set order)."""
    await bus.send(topic.replace(".events", ".commands"), cmd)
    return caused_by(await bus.events(topic, lambda es: len(caused_by(es, cmd)) >= n, timeout), cmd)


async def district_with_members(bus, n: int, n_branches: int = 1, **over) -> tuple[dict, list[str]]:
    """A tree (each level answered before the next) and `n` members in its first branch."""
    ids, cmds = tree(n_branches)
    for cmd in cmds:
        [ev] = await answered(bus, "members.events", cmd)
        assert ev["type"] == "OrganizationEstablished", ev
    regs = [register(ids["branches"][0], registered_on="2025-01-05", **over) for _ in range(n)]
    events = await answered(bus, "members.events", *regs)
    assert all(e["type"] == "MemberRegistered" for e in events), events
    return ids, [r["data"]["member_id"] for r in regs]


async def reads(http, path: str, params: dict, check, timeout: float = 120):
    """GET until `check(body)` holds; the body."""
    async def get():
        r = await http.get(path, params=params)
        return r.json() if r.status_code == 200 and check(r.json()) else None
    return await eventually(get, timeout=timeout, interval=1)


__all__ = ["answered", "caused", "district_with_members", "reads", "envelope", "uid"]
