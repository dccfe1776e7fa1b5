"""FakeLinear: Linear's GraphQL API on a local port (server.py), over an in-memory workspace
(workspace.py), refusing whatever Linear's published schema refuses."""

from tests.fakes.linear.server import Executed, FakeLinear, ManualClock, Violation, linear_schema
from tests.fakes.linear.workspace import DEFAULT_TEAM, DEFAULT_USERS

__all__ = [
    "DEFAULT_TEAM",
    "DEFAULT_USERS",
    "Executed",
    "FakeLinear",
    "ManualClock",
    "Violation",
    "linear_schema",
]
