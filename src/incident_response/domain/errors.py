"""Errors the domain and the ports raise; adapters translate vendor errors into these."""


class IncidentResponseError(Exception):
    """Base class for every error this package raises on purpose."""

    @property
    def transient(self) -> bool:
        """Whether the same call may succeed if tried again (an outage, not a refusal). Adapters
        whose vendor tells the two apart say so; by default an error is a refusal."""
        return False


class IllegalTransition(IncidentResponseError):
    """An incident was asked to move to a status its current status cannot reach."""


class ConcurrentUpdate(IncidentResponseError):
    """A compare-and-set write lost: someone else saved a newer version first."""


class AlertClaimed(ConcurrentUpdate):
    """A write carried an alert claim that another incident already holds: re-read and follow it."""


class AlreadyExists(IncidentResponseError):
    """A create-if-absent write found the key already taken."""


class NotFound(IncidentResponseError):
    """The thing asked for does not exist."""


class StorageBusy(IncidentResponseError):
    """Storage could not take a lock in time because another process holds it; nothing was
    written, and the same call can be tried again."""


class InvalidAlert(IncidentResponseError):
    """An alert body could not be understood; the message names the bad field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem
