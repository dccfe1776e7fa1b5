"""People as the directory and the on-call schedule know them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Person(BaseModel):
    model_config = ConfigDict(frozen=True)

    email: str
    name: str
    chat_id: str = ""
    timezone: str = "UTC"


class OnCallShift(BaseModel):
    """Who carries the pager for a service right now."""

    model_config = ConfigDict(frozen=True)

    primary: Person | None = None
    secondary: Person | None = None
    note: str = ""
    """Where the answer came from, when the room should know (the roster stood in for the
    on-call system, or its escalation chain has nobody on call now); empty otherwise."""
