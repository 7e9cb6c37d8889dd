"""What a batch reads and what it owes: plain records, free of any client library."""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Incoming:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()

    @property
    def position(self) -> str:
        """Idempotency key for a record that has no message id of its own."""
        return f"@{self.topic}/{self.partition}/{self.offset}"


@dataclass
class Outgoing:
    topic: str
    key: bytes | None
    value: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def to_doc(self) -> dict:
        return {"t": self.topic, "k": self.key, "v": self.value,
                "h": [{"n": k, "v": v} for k, v in self.headers.items()]}

    @classmethod
    def from_doc(cls, d: dict) -> "Outgoing":
        return cls(d["t"], d.get("k"), d["v"], {h["n"]: h["v"] for h in d.get("h", [])})
