"""`incident-response demo`: one realistic alert walked through its whole life on a running
`serve`, with progress a newcomer can follow and the console and status-page URLs at each step."""

from incident_response.demo.local import LocalCredentials, demo_on_this_machine, local_credentials
from incident_response.demo.walk import (
    DEFAULT_TIMEOUT,
    DEFAULT_URL,
    DemoError,
    DemoResult,
    DemoStep,
    TokenIssuer,
    check_server,
    run_demo,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "DEFAULT_URL",
    "DemoError",
    "DemoResult",
    "DemoStep",
    "LocalCredentials",
    "TokenIssuer",
    "check_server",
    "demo_on_this_machine",
    "local_credentials",
    "run_demo",
]
