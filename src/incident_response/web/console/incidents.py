"""The console's reading pages: the incidents list, an incident's page and plain chat channels.

The list reads incident documents only (one query, no timelines), so it stays fast with
hundreds of incidents; the incident page gathers everything about one incident.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from incident_response.domain.alert import Severity
from incident_response.domain.approval import public_status_for, superseded_by
from incident_response.domain.authority import Action, who_may
from incident_response.domain.incident import Incident, IncidentRole, IncidentStatus
from incident_response.domain.people import Person
from incident_response.domain.public import (
    IMPACT_LABELS,
    MAX_TITLE_CHARS,
    STAGE_LABELS,
    shown_as,
)
from incident_response.domain.status_update import DraftKind, DraftStatus
from incident_response.domain.steering import SETTABLE_STAGES
from incident_response.domain.text import shortened
from incident_response.services.war_room_steps import unfinished_steps
from incident_response.web.console.rendering import PageError, Pages, html_route_class
from incident_response.web.console.services import ConsoleServices
from incident_response.web.console.signin import ConsoleAuth, Visitor
from incident_response.web.console.views import (
    BUTTON_ACTIONS,
    STATUS_LABELS,
    chat_names,
    display_name,
    incident_rows,
    message_views,
    people_index,
    split_out,
    timeline_entries,
)
from incident_response.web.views import alert_to_assembled

LIST_LIMIT = 200
LIST_MAX = 1000


def incident_url(incident_id: str) -> str:
    return f"/console/incidents/{incident_id}"


class ConsolePages:
    """Renders a page for a visitor: their name, CSRF token and pending flash come along."""

    def __init__(self, *, pages: Pages, auth: ConsoleAuth) -> None:
        self.pages = pages
        self.auth = auth

    def show(
        self, request: Request, visitor: Visitor, name: str, *, nav: str = "", **context: Any
    ) -> Response:
        flash = self.auth.sessions.read_flash(request)
        response = self.pages.page(
            name,
            person=visitor.person,
            csrf=visitor.session.csrf,
            flash=flash,
            nav=nav,
            **context,
        )
        self.auth.sessions.clear_flash(request, response)
        return response


async def conversation(
    services: ConsoleServices, channel_id: str, incident: Incident | None, people: dict[str, Person]
) -> dict[str, Any]:
    chat = services.chat
    channel = await chat.channel(channel_id)
    if channel is None:
        # a room on another chat surface (Slack): link to it instead of mirroring it
        elsewhere = incident.channel if incident is not None else None
        return {
            "channel": None,
            "messages": [],
            "members": [],
            "bookmarks": [],
            "elsewhere": elsewhere,
        }
    names = chat_names(incident, people)
    members = []
    for user_id in await chat.members(channel_id):
        if user_id not in names:
            email = await chat.user_email(user_id)
            names[user_id] = display_name(email, people) if email else user_id
        members.append(names[user_id])
    messages = message_views(await chat.messages(channel_id), await chat.pins(channel_id), names)
    return {
        "channel": channel,
        "messages": messages,
        "members": members,
        "bookmarks": await chat.bookmarks(channel_id),
        "elsewhere": None,
    }


async def incident_context(
    services: ConsoleServices, visitor: Visitor, incident_id: str
) -> dict[str, Any]:
    incident = await services.store.get(incident_id)
    if incident is None:
        raise PageError(404, f"There is no incident {incident_id}. It may have been mistyped.")
    may = await services.authority.allowed(incident, visitor.person.email)
    people = people_index(await services.directory.people())
    records = await services.audit.records(incident_id)
    chain = await services.audit.verify(incident_id)
    room = (
        await conversation(services, incident.channel.id, incident, people)
        if incident.channel is not None
        else {"channel": None, "messages": [], "members": [], "bookmarks": [], "elsewhere": None}
    )
    drafts = sorted(
        incident.drafts,
        key=lambda d: (d.status is not DraftStatus.DRAFT, -d.created_at.timestamp()),
    )
    return {
        "incident": incident,
        "status_label": STATUS_LABELS[incident.status],
        "ic_name": display_name(incident.ic, people),
        "assembled_seconds": alert_to_assembled(incident),
        "unfinished_steps": [s.replace("_", " ") for s in unfinished_steps(incident)],
        # what the page offers follows the same policy the services enforce
        "may": may,
        "can_approve": may["approve"],
        "who_may_work": who_may(Action.RESOLVE, incident),
        "offers": lambda action: may.get(BUTTON_ACTIONS.get(action, ""), False),
        "drafts": drafts,
        "superseded_of": lambda d: superseded_by(incident, d),
        "shown_as": shown_as,
        "stages": [(stage.value, label) for stage, label in STAGE_LABELS.items()],
        "impacts": [(impact.value, label) for impact, label in IMPACT_LABELS.items()],
        "max_title": MAX_TITLE_CHARS,
        "name_of": lambda email: display_name(email, people),
        # the steering controls and what they show (severity, stage, roles)
        "stage_label": STAGE_LABELS[public_status_for(incident, DraftKind.UPDATE)],
        "held_roles": [
            (role.label.capitalize(), display_name(incident.roles[role], people))
            for role in IncidentRole
            if role in incident.roles
        ],
        "severities": [s.value for s in Severity],
        "settable_stages": [(s.value, STAGE_LABELS[s]) for s in SETTABLE_STAGES],
        "role_choices": [(role.value, role.label.capitalize()) for role in IncidentRole],
        "roster_people": [(p.email, p.name) for p in people.values()],
        "reminder": await services.reminders.reminder(incident_id),
        "timeline": timeline_entries(incident, records, people),
        "records": records,
        "split_out": split_out(incident_id, records),
        "chain": chain,
        "command_names": services.commands.names,
        # where an action's reply is shown on this page (see the actions' `near`)
        "reply_places": {
            "command",
            "checklist",
            "drafts",
            "alerts",
            "steer",
            "followups",
            *(f"draft-{d.id}" for d in drafts),
        },
        **room,
    }


def incidents_router(*, services: ConsoleServices, auth: ConsoleAuth, pages: Pages) -> APIRouter:
    router = APIRouter(route_class=html_route_class(pages), include_in_schema=False)
    console = ConsolePages(pages=pages, auth=auth)

    @router.get("/")
    async def root() -> Response:
        return RedirectResponse("/console", status_code=303)

    @router.get("/console")
    async def incidents(
        request: Request, limit: int = Query(LIST_LIMIT, ge=1, le=LIST_MAX)
    ) -> Response:
        visitor = await auth.require(request)
        found = await services.store.recent(limit=limit)
        people = people_index(await services.directory.people())
        rows = incident_rows(found, people, services.clock.now())
        open_rows = [r for r in rows if r.is_open]
        return console.show(
            request,
            visitor,
            "incidents.html",
            nav="incidents",
            title="Incidents",
            open_rows=open_rows,
            closed_rows=[r for r in rows if not r.is_open],
            limited=len(found) >= limit,
            limit=limit,
        )

    @router.get("/console/incidents/{incident_id}")
    async def incident_page(request: Request, incident_id: str) -> Response:
        visitor = await auth.require(request)
        context = await incident_context(services, visitor, incident_id)
        incident: Incident = context["incident"]
        return console.show(
            request,
            visitor,
            "incident.html",
            nav="incidents",
            title=f"{incident.severity.value} {shortened(incident.title)}",
            resolved=incident.status is IncidentStatus.RESOLVED,
            **context,
        )

    @router.get("/console/channels/{channel_id}")
    async def channel_page(request: Request, channel_id: str) -> Response:
        """Channels that belong to no incident, such as the announcements channel."""
        visitor = await auth.require(request)
        channel = await services.chat.channel(channel_id)
        if channel is None:
            raise PageError(404, f"There is no channel {channel_id}.")
        if channel.incident_id:
            return RedirectResponse(incident_url(channel.incident_id), status_code=303)
        people = people_index(await services.directory.people())
        room = await conversation(services, channel_id, None, people)
        return console.show(
            request,
            visitor,
            "channel.html",
            nav="announcements",
            title=f"#{channel.name}",
            **room,
        )

    @router.get("/console/announcements")
    async def announcements(request: Request) -> Response:
        await auth.require(request)
        channel = await services.chat.channel_by_name(services.announcements_channel())
        if channel is None:
            raise PageError(404, "There is no announcements channel yet.")
        return RedirectResponse(f"/console/channels/{channel.id}", status_code=303)

    return router
