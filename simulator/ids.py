"""Deterministic ids: the same seed always names the same things (uuid5 under a seed namespace)."""
import uuid


class Ids:
    def __init__(self, seed: int):
        self.seed = seed
        self.ns = uuid.uuid5(uuid.NAMESPACE_URL, f"https://sunsetred.example/simulator/{seed}")

    def of(self, kind: str, name: str) -> str:
        """An aggregate id readable by kind, e.g. `m-1f3a…` for a member."""
        return f"{kind}-{uuid.uuid5(self.ns, f'{kind}/{name}').hex[:16]}"

    def message(self, name: str) -> str:
        return str(uuid.uuid5(self.ns, f"message/{name}"))
