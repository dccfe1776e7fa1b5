"""Slack: the Chat port (SlackChat), the rate-limit-aware sender and the front end for slash
commands, buttons, modals and timeline events (Socket Mode or signed HTTP)."""

from incident_response.adapters.slack.chat import SlackChat
from incident_response.adapters.slack.client import SlackCallFailed, SlackWebApi
from incident_response.adapters.slack.front import (
    ReplayGuard,
    SlackFront,
    SocketMode,
    build_app,
    slack_router,
)
from incident_response.adapters.slack.pacing import RateTable, SlackPacer

__all__ = [
    "RateTable",
    "ReplayGuard",
    "SlackCallFailed",
    "SlackChat",
    "SlackFront",
    "SlackPacer",
    "SlackWebApi",
    "SocketMode",
    "build_app",
    "slack_router",
]
