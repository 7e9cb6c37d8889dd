"""What a batch reads and what it owes: plain records, free of any client library."""
from dataclasses import dataclass, field

# Kafka refuses a record batch larger than its `message.max.bytes` (1,048,588 by default, and ours):
# a record of at most this many bytes of value, key and headers leaves room for the batch's overhead.
MAX_RECORD_BYTES = 1_000_000


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

    @property
    def size(self) -> int:
        """The bytes that count against the broker's limit (MAX_RECORD_BYTES)."""
        return (len(self.value) + len(self.key or b"")
                + sum(len(k.encode()) + len(v.encode()) for k, v in self.headers.items()))

    def to_doc(self) -> dict:
        return {"t": self.topic, "k": self.key, "v": self.value,
                "h": [{"n": k, "v": v} for k, v in self.headers.items()]}

    @classmethod
    def from_doc(cls, d: dict) -> "Outgoing":
        return cls(d["t"], d.get("k"), d["v"], {h["n"]: h["v"] for h in d.get("h", [])})
