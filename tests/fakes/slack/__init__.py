"""A local fake of Slack (Web API, Socket Mode, signed HTTP delivery) for tests and benchmarks."""

from tests.fakes.slack.server import DEFAULT_APP_TOKEN, DEFAULT_BOT_TOKEN, FakeSlack
from tests.fakes.slack.signing import Delivery
from tests.fakes.slack.socket_mode import Ack, AckTimeout, NoSocketClient

__all__ = [
    "DEFAULT_APP_TOKEN",
    "DEFAULT_BOT_TOKEN",
    "Ack",
    "AckTimeout",
    "Delivery",
    "FakeSlack",
    "NoSocketClient",
]
