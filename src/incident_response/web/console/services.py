"""What the console's pages use: the same services as the API, gathered once.

The pages depend on this bundle rather than on the composition root's Container, so a test can
swap one port (say, an audit log that records what it was asked) without building another app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from incident_response.adapters.console.chat import ConsoleChat
from incident_response.adapters.statuspage.builtin import BuiltinStatusPage
from incident_response.commands.registry import CommandRegistry
from incident_response.domain.clock import Clock
from incident_response.domain.messages import Schedule
from incident_response.ports import AuditLog, Credentials, Directory, IncidentStore
from incident_response.services.authority import Authority
from incident_response.services.declaration import Declarations
from incident_response.services.maintenance import MaintenanceDesk
from incident_response.services.status_update_gate import StatusUpdateGate
from incident_response.web.postmortems import PostmortemFiles


class Reminders(Protocol):
    async def reminder(self, incident_id: str) -> Schedule | None: ...


@dataclass(frozen=True)
class ConsoleServices:
    store: IncidentStore
    audit: AuditLog
    chat: ConsoleChat
    directory: Directory
    commands: CommandRegistry
    gate: StatusUpdateGate
    reminders: Reminders
    status_page: BuiltinStatusPage
    clock: Clock
    base_url: str
    token_key: bytes
    credentials: Credentials
    authority: Authority
    announcements_channel: Callable[[], str]
    postmortems: PostmortemFiles
    declarations: Declarations
    maintenance: MaintenanceDesk | None = None  # issue 12, point 9

    @property
    def secure_cookies(self) -> bool:
        """Cookies marked Secure only when the console is served over HTTPS."""
        return self.base_url.lower().startswith("https://")
