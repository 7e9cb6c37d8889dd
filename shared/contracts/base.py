"""Base classes and the one registry of message types.

Every command and integration event is defined once, here in `shared.contracts`, as a
versioned pydantic model. Services import these; nothing is hand-copied.
"""
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

REGISTRY: dict[tuple[str, int], type["Message"]] = {}


class Message(BaseModel):
    """The `data` of one message type. `TYPE` is the class name unless set."""

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1
    KIND: ClassVar[Literal["command", "event"]]
    TOPIC: ClassVar[str]  # the topic it travels on, without deployment prefix
    KEY: ClassVar[str]  # the data field that is the Kafka key (the aggregate id)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("ABSTRACT"):
            return
        cls.TYPE = cls.__dict__.get("TYPE", cls.__name__)
        key = (cls.TYPE, cls.VERSION)
        if key in REGISTRY and REGISTRY[key] is not cls:
            raise TypeError(f"message type {key} defined twice")
        REGISTRY[key] = cls

    def key(self) -> str:
        return str(getattr(self, self.KEY))

    def to_data(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class Command(Message):
    """Commands are strict: an unknown field is an error a sender can act on."""

    ABSTRACT: ClassVar[bool] = True
    KIND: ClassVar[Literal["command"]] = "command"
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Event(Message):
    """Events are read leniently: a producer may add fields without breaking consumers."""

    ABSTRACT: ClassVar[bool] = True
    KIND: ClassVar[Literal["event"]] = "event"
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


def lookup(type_name: str, version: int = 1) -> type[Message] | None:
    return REGISTRY.get((type_name, version))


def versions_of(type_name: str) -> list[int]:
    return sorted(v for (t, v) in REGISTRY if t == type_name)
