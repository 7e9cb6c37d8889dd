"""All message types of the contract. Importing this package registers every one of them."""
from shared.contracts import activities, leadership, members, notifications, reporting  # noqa: F401
from shared.contracts import activists, funds, grading, study  # noqa: F401  (issue 13's branch records)
from shared.contracts import reorganization, service_requests, teams  # noqa: F401  (issue 13)
from shared.contracts import facility_demand  # noqa: F401  (issue 13: 阵地需求)
from shared.contracts.base import REGISTRY, Command, Event, Message, lookup
from shared.contracts.envelope import Envelope

__all__ = ["REGISTRY", "Command", "Event", "Message", "Envelope", "lookup"]
