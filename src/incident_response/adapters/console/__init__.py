"""The built-in web console's chat: war rooms without a chat vendor."""

from incident_response.adapters.console.chat import ConsoleChat, derived_user_id
from incident_response.adapters.console.records import (
    Bookmark,
    ChatChange,
    ConsoleChannel,
    ConsoleMessage,
)

__all__ = [
    "Bookmark",
    "ChatChange",
    "ConsoleChannel",
    "ConsoleChat",
    "ConsoleMessage",
    "derived_user_id",
]
