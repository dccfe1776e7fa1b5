"""Builds the Linear integration from the settings (integrations.FACTORIES names `build`)."""

from __future__ import annotations

import re

from incident_response.adapters.linear.client import LinearGraphQL
from incident_response.adapters.linear.tracker import LinearIssueTracker
from incident_response.config import ConfigurationError, Settings
from incident_response.integrations import Contribution, Wiring

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


def label_ids(settings: Settings) -> tuple[str, ...]:
    """LINEAR_LABEL_IDS as UUIDs; a label name or key in it stops start-up, naming it."""
    raw = settings.linear_label_ids or ""
    ids = tuple(part.strip() for part in raw.split(",") if part.strip())
    wrong = [i for i in ids if not UUID.match(i)]
    if wrong:
        raise ConfigurationError(
            f"LINEAR_LABEL_IDS: {', '.join(repr(w) for w in wrong)} is not a label UUID "
            "(Linear's issueCreate takes label ids, not names)"
        )
    return ids


async def build(wiring: Wiring) -> Contribution:
    settings = wiring.settings
    if settings.linear_api_key is None or not settings.linear_team_id:
        raise ConfigurationError("the Linear integration needs LINEAR_API_KEY and LINEAR_TEAM_ID")
    # a personal API key goes in the Authorization header as is; "Bearer" is for OAuth tokens
    client = wiring.http.vendor(
        "linear",
        base_url=settings.vendor_url("LINEAR_API_URL"),
        headers={"Authorization": settings.linear_api_key.get_secret_value().strip()},
    )
    tracker = LinearIssueTracker(
        LinearGraphQL(client),
        team_id=settings.linear_team_id.strip(),
        project_id=(settings.linear_project_id or "").strip() or None,
        label_ids=label_ids(settings),
    )
    return Contribution(issue_tracker=tracker)
