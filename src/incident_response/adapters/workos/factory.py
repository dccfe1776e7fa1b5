"""Builds the WorkOS Directory from settings (integrations.FACTORIES["workos"])."""

from __future__ import annotations

from incident_response.adapters.workos.directory import WorkOSDirectory
from incident_response.integrations import Contribution, Wiring

# WorkOS allows 4 requests/s per directory on /directory_users; every call is paced to it
PER_SECOND = 4.0


async def build(wiring: Wiring) -> Contribution:
    settings = wiring.settings
    key, directory_id = settings.value_of("WORKOS_API_KEY"), settings.workos_directory_id
    if not key or not directory_id:
        raise ValueError("workos needs WORKOS_API_KEY and WORKOS_DIRECTORY_ID")
    client = wiring.http.vendor(
        "workos",
        base_url=settings.vendor_url("WORKOS_API_URL"),
        headers={"Authorization": f"Bearer {key.strip()}"},
        per_second=PER_SECOND,
    )
    directory = WorkOSDirectory(
        client=client,
        directory_id=directory_id,
        teams=settings.workos_team_groups,
        roster=wiring.directory,
        clock=wiring.clock,
    )
    return Contribution(directory=directory)
