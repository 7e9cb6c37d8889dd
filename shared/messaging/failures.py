"""Which failures are worth waiting for, and which are the message's own.

Only an unreachable or slow database or broker is *transient*: the batch fails as a whole, is
consumed again after a pause, and loses nothing. A write conflict with another writer (another
instance, or another pipeline of this one) is *contention*: the batch runs again at once on fresh
reads. Anything else that repeats (a bad document, a name the database refuses, a bug) belongs to
the message: after its retries it is dead-lettered with the error, and the records behind it go on.
"""
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError, RequestTimedOutError
from pymongo.errors import ConnectionFailure, ExecutionTimeout, InvalidOperation, PyMongoError, WTimeoutError

from shared.messaging.unit_of_work import Conflict

TRANSIENT = (ConnectionFailure, ExecutionTimeout, WTimeoutError, KafkaConnectionError, KafkaTimeoutError,
             NodeNotReadyError, RequestTimedOutError, ConnectionError, TimeoutError)
WRITE_CONFLICT = 112


def is_contention(exc: BaseException) -> bool:
    if isinstance(exc, Conflict):
        return True
    if isinstance(exc, PyMongoError):
        return (exc.has_error_label("TransientTransactionError")
                or exc.has_error_label("UnknownTransactionCommitResult")
                or getattr(exc, "code", None) == WRITE_CONFLICT)
    return False


def is_closed(exc: BaseException) -> bool:
    """The service closed its database client: it is stopping (SIGTERM), and the batch that went on
    past the broker's graceful wait can commit nothing. Transient, so the batch fails as a whole at
    its first read, unsplit, to be consumed again after the restart, rather than every record
    failing three times as the message's own error (docs/reliability.md, finding 38)."""
    return isinstance(exc, InvalidOperation) and "after close" in str(exc)


def is_transient(exc: BaseException) -> bool:
    return (isinstance(exc, TRANSIENT) or is_closed(exc)) and not is_contention(exc)
