"""Domain-level refusals. Pure: domains raise these, the pipeline turns them into CommandRejected."""


class Rejected(Exception):
    """A command that breaks a rule. `reason` is one of the contract's codes."""

    def __init__(self, reason: str, message: str, field: str = "data"):
        super().__init__(message)
        self.reason = reason
        self.errors = [{"field": field, "message": message}]

    @classmethod
    def many(cls, reason: str, errors: list[dict[str, str]]) -> "Rejected":
        r = cls(reason, errors[0]["message"], errors[0]["field"])
        r.errors = errors
        return r


def invalid(message: str, field: str = "data") -> Rejected:
    return Rejected("invalid", message, field)


def unknown_reference(message: str, field: str) -> Rejected:
    return Rejected("unknown_reference", message, field)


def conflict(message: str, field: str = "data") -> Rejected:
    return Rejected("conflict", message, field)


def duplicate(message: str, field: str) -> Rejected:
    return Rejected("duplicate", message, field)


def not_allowed(message: str, field: str = "data") -> Rejected:
    return Rejected("not_allowed", message, field)
