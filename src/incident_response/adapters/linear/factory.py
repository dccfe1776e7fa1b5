"""Builds the Linear integration from the settings (integrations.FACTORIES names `build`)."""

from __future__ import annotations

from incident_response.adapters.linear.client import LinearGraphQL
from incident_response.adapters.linear.tracker import LinearIssueTracker
from incident_response.config import ConfigurationError, Settings
from incident_response.integrations import Contribution, Wiring


def label_ids(settings: Settings) -> tuple[str, ...]:
    """LINEAR_LABEL_IDS, comma-separated (the settings checked that each is a UUID)."""
    return tuple(p.strip() for p in (settings.linear_label_ids or "").split(",") if p.strip())


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
