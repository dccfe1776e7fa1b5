"""Chat messages in a surface-neutral shape; the Slack and console adapters render them."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class ButtonStyle(StrEnum):
    DEFAULT = "default"
    PRIMARY = "primary"
    DANGER = "danger"


class ChatButton(BaseModel):
    """A button; `action` names what pressing it does, `value` carries its argument."""

    model_config = ConfigDict(frozen=True)

    action: str
    label: str
    value: str = ""
    style: ButtonStyle = ButtonStyle.DEFAULT
    confirm: str | None = None  # a question to confirm before acting, e.g. Approve & Publish


class ChatMessage(BaseModel):
    """A message: plain `text` (always set, for notifications and fallbacks), optional sections
    rendered as Markdown blocks, and buttons.

    `key` makes posting idempotent: a message posted again with the same key in the same channel
    is not posted twice; the adapter returns the first one's id.
    """

    model_config = ConfigDict(frozen=True)

    text: str
    sections: tuple[str, ...] = ()
    buttons: tuple[ChatButton, ...] = ()
    key: str | None = None


class InviteResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    invited: tuple[str, ...] = ()
    failed: dict[str, str] = {}
