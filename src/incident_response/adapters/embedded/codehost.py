"""No code host: postmortems go without a deploy timeline.

Configure GitHub (a token and the repositories per service) to list the changes merged around an
incident and to suggest a service's owners from CODEOWNERS; until then the postmortem says that
no changes were found and the war room suggests no owners.
"""

from __future__ import annotations

from datetime import datetime

from incident_response.domain.context import Change


class NoCodeHost:
    """CodeHost port that knows no repositories."""

    async def recent_changes(
        self, *, service: str, since: datetime, until: datetime
    ) -> list[Change]:
        return []

    async def owners(self, *, service: str) -> list[str]:
        return []
