"""Where a command posted over HTTP writes, and whether the caller may write there (issue 12).

Each service that takes commands declares, in one table (`entrypoints/command_scope.py`), for every
command type of its commands topic an async function `(db, message) -> [Place]`: the organisations
and members the command writes to, as the service knows them. `POST /api/v1/commands` answers 404
unless the caller may write to every one of them, as a read outside the scope would: officials and
secretaries within their subtree, a specialist only the records of their own members (their
visits, their door deliveries), a member only their own; the district everywhere. What the service
does not know yet (a branch not projected) is a place with no path: below the district it is 404,
as it would be to read. A command that creates something is scoped by where it creates it (an
organisation by its parent, a member by their branch).

Kafka senders are not scoped here: the district registers each system and the topic ACLs bound it.
"""
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from shared.auth.claims import Caller
from shared.contracts.base import REGISTRY, Message


@dataclass(frozen=True)
class Place:
    """One thing a command writes to. `what` and `id` name it in the 404 (`shared.http.errors.NotFound`)."""

    what: str
    id: str
    path: tuple[str, ...] = ()  # district … its organisation (a member's: their branch); () when not known
    member_id: str | None = None  # when it is one member's record
    specialist_id: str | None = None  # the specialist whose work it is (a member's, a door delivery's)


Scope = Callable[[Any, Message], Awaitable[list[Place]]]


def unknown(what: str, id: str) -> Place:
    """A place the service has not heard of: only the district may write there."""
    return Place(what, id)


def outside(caller: Caller, places: Iterable[Place]) -> Place | None:
    """The first place the caller may not write to, or None when they may write to all."""
    if caller.whole_district:
        return None
    for p in places:
        if not caller.sees_member(member_id=p.member_id, path=p.path, specialist_id=p.specialist_id):
            return p
    return None


def check_scopes(scopes: dict[str, Scope], commands_topic: str | None) -> None:
    """Refuse to build an app whose table misses a command type of its topic, or names another."""
    types = {cls.TYPE for cls in REGISTRY.values() if cls.KIND == "command" and cls.TOPIC == commands_topic}
    problems = [f"{t}: no command scope declared" for t in sorted(types - set(scopes))]
    problems += [f"{t}: in the command scope table but not a command of {commands_topic}"
                 for t in sorted(set(scopes) - types)]
    if problems:
        raise RuntimeError("commands without a declared scope:\n  " + "\n  ".join(problems))
