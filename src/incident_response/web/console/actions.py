"""What the incident page's forms do. Every action goes through the same services as the API
and Slack: commands through the CommandRegistry (surface "console"), drafts through the
StatusUpdateGate. The console only offers what the rules allow; the services still decide.

A form posted normally gets a redirect back to the incident with the answer shown once
(post/redirect/get), beside the control that was used (`near`). A form the page's script posts
(`X-Console-Fetch: 1`) gets the answer as JSON, which the script shows in the same place, so the
page stays where the person was and only its changed parts are redrawn.
Approve & Publish and resolving ask for confirmation on a page of their own first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from incident_response.commands.context import CommandContext
from incident_response.domain.approval import superseded_by
from incident_response.domain.chat import ChatButton
from incident_response.domain.errors import IncidentResponseError
from incident_response.domain.incident import Incident
from incident_response.domain.public import COMPONENT_STATUS_LABELS, effective_status, shown_as
from incident_response.domain.status_update import StatusDraft
from incident_response.services.status_update_gate import PublishFailed
from incident_response.services.timeline_pins import RoomMessage, pin_to_timeline
from incident_response.web.console.incidents import ConsolePages, incident_url
from incident_response.web.console.rendering import PageError, Pages, html_route_class
from incident_response.web.console.services import ConsoleServices
from incident_response.web.console.session import Flash
from incident_response.web.console.signin import ConsoleAuth, Visitor
from incident_response.web.console.views import button_command

MAX_COMMAND_CHARS = 2000
SYSTEM = "system"  # the author of the console room's messages: the service posts them
CONFIRMED = "yes"


def _field(form: FormData, name: str, limit: int = 10_000) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def _optional(form: FormData, name: str, limit: int = 2000) -> str | None:
    """A field the form may leave out (None: keep the draft's value)."""
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else None


def _components(form: FormData) -> list[str] | None:
    raw = _optional(form, "components")
    return None if raw is None else [n.strip() for n in raw.split(",") if n.strip()]


COMPONENT_STATUS_FIELD = "component_status:"


def _component_statuses(form: FormData) -> dict[str, str]:
    """The status picked on the confirmation page for each component (`component_status:<name>`)."""
    return {
        key.removeprefix(COMPONENT_STATUS_FIELD): value[:40]
        for key, value in form.multi_items()
        if key.startswith(COMPONENT_STATUS_FIELD) and isinstance(value, str)
    }


def _component_choices(draft: StatusDraft | None) -> list[tuple[str, str]]:
    """Each component the draft names, with the status it will show (for the pickers)."""
    if draft is None:
        return []
    return [(c.name, effective_status(c, draft.impact).value) for c in draft.components]


def _version(form: FormData) -> int:
    raw = _field(form, "version", 12).strip()
    if not raw.isdigit() or int(raw) < 1:
        raise PageError(400, "The form did not say which version of the draft you read.")
    return int(raw)


def _word(form: FormData, name: str, limit: int = 200) -> str:
    """One line of a field, its whitespace folded: a control cannot smuggle a second command."""
    return " ".join(_field(form, name, limit).split())


def steering_command(form: FormData) -> str | None:
    """`severity P1`, `stage identified` or `role comms ann@example.com` from the control
    posted; None when the form names none of them."""
    if "severity" in form:
        return f"severity {_word(form, 'severity', 10)}"
    if "stage" in form:
        return f"stage {_word(form, 'stage', 40)}"
    if "role" in form:
        return f"role {_word(form, 'role', 40)} {_word(form, 'person')}".strip()
    return None


class IncidentForms:
    """The incident page's forms, one named handler each; `actions_router` routes them."""

    def __init__(self, *, services: ConsoleServices, auth: ConsoleAuth, pages: Pages) -> None:
        self._services = services
        self._auth = auth
        self._console = ConsolePages(pages=pages, auth=auth)

    # -- the forms ---------------------------------------------------------------------------

    async def command(self, request: Request, incident_id: str) -> Response:
        visitor, form, _ = await self._begin(request, incident_id)
        text = _field(form, "text", MAX_COMMAND_CHARS).strip()
        if not text:
            return self._answer(
                request, incident_id, "Type a command, e.g. `checklist`.", ok=False, near="command"
            )
        return await self._run(request, visitor, incident_id, text, near="command")

    async def steer(self, request: Request, incident_id: str) -> Response:
        """The severity, stage and role controls: each posts the command a person would type,
        so the command's rules and refusals hold here too."""
        visitor, form, _ = await self._begin(request, incident_id)
        text = steering_command(form)
        if text is None:
            raise PageError(400, "The form did not say what to change.")
        return await self._run(request, visitor, incident_id, text, near="steer")

    async def checklist(self, request: Request, incident_id: str) -> Response:
        visitor, form, _ = await self._begin(request, incident_id)
        number = _field(form, "number", 6).strip()
        if not number.isdigit():
            raise PageError(400, "The form did not say which checklist item to change.")
        verb = "done" if _field(form, "done", 5) == "1" else "undo"
        text = f"checklist {verb} {number}"
        return await self._run(request, visitor, incident_id, text, near="checklist", brief=True)

    async def split(self, request: Request, incident_id: str) -> Response:
        """A Split button beside an attached alert: `split <delivery id>`."""
        visitor, form, _ = await self._begin(request, incident_id)
        delivery = _field(form, "delivery", 200).strip()
        if not delivery:
            raise PageError(400, "The form did not say which alert to split out.")
        return await self._run(request, visitor, incident_id, f"split {delivery}", near="alerts")

    async def press(self, request: Request, incident_id: str) -> Response:
        """A button of a war-room message: only buttons the room really shows can be pressed."""
        visitor, form, incident = await self._begin(request, incident_id)
        message_id, action, value = (_field(form, k, 200) for k in ("message", "action", "value"))
        button = await self._find_button(incident, message_id, action, value)
        text = button_command(action, value) if button is not None else None
        if button is None or text is None:
            return self._answer(
                request,
                incident_id,
                "That button is not in this war room (or does nothing in the console); "
                "nothing was done. Type the command instead.",
                ok=False,
                near="command",
            )
        if button.confirm and _field(form, "confirmed", 3) != CONFIRMED:
            return self._confirm(
                request,
                visitor,
                incident,
                question=button.confirm,
                action=f"{incident_url(incident_id)}/buttons",
                confirm_label=button.label,
                fields={"message": message_id, "action": action, "value": value},
            )
        return await self._run(request, visitor, incident_id, text, near="command")

    async def followup(self, request: Request, incident_id: str) -> Response:
        """The follow-up form: the `followup` command, with the owner as its last word."""
        visitor, form, _ = await self._begin(request, incident_id)
        text = " ".join(_field(form, "text", 500).split())
        owner = _field(form, "owner", 200).strip()
        if not text:
            return self._answer(
                request, incident_id, "Say what needs doing.", ok=False, near="followups"
            )
        if owner and " " in owner:
            return self._answer(
                request,
                incident_id,
                "Name the owner by e-mail; nothing was recorded.",
                ok=False,
                near="followups",
            )
        command = f"followup {text} @{owner.removeprefix('@')}" if owner else f"followup {text}"
        return await self._run(request, visitor, incident_id, command, near="followups")

    async def pin(self, request: Request, incident_id: str) -> Response:
        """Pin to timeline: a war-room message becomes the visitor's note quoting it."""
        visitor, form, incident = await self._begin(request, incident_id)
        message_id = _field(form, "message", 200)
        channel = incident.channel
        found = None
        if channel is not None:
            found = next(
                (m for m in await self._services.chat.messages(channel.id) if m.id == message_id),
                None,
            )
        if channel is None or found is None:
            return self._answer(
                request,
                incident_id,
                "That message is not in this war room; nothing was pinned.",
                ok=False,
                near="command",
            )
        message = RoomMessage(channel.id, found.id, found.text, SYSTEM, found.created_at)
        try:
            added = await pin_to_timeline(
                incident,
                message,
                by=visitor.person.email,
                source="console pin",
                audit=self._services.audit,
                authority=self._services.authority,
            )
        except IncidentResponseError as exc:
            return self._answer(request, incident_id, str(exc), ok=False, near="command")
        text = "Pinned to the timeline." if added else "That message is already on the timeline."
        return self._answer(request, incident_id, text, ok=True, near="command")

    async def resolve(self, request: Request, incident_id: str) -> Response:
        visitor, form, incident = await self._begin(request, incident_id)
        if _field(form, "confirmed", 3) != CONFIRMED:
            return self._confirm(
                request,
                visitor,
                incident,
                question="Resolve this incident?",
                action=f"{incident_url(incident_id)}/resolve",
                confirm_label="Resolve incident",
                fields={},
                note="Resolving files the postmortem draft, drafts the resolved status update "
                "for the IC's approval and archives the war room.",
            )
        return await self._run(request, visitor, incident_id, "resolve", near="")

    async def create_draft(self, request: Request, incident_id: str) -> Response:
        visitor, _, _ = await self._begin(request, incident_id)
        gate = self._services.gate
        return await self._gate(
            request,
            incident_id,
            gate.create_draft(incident_id, actor=visitor.person.email),
            lambda d: (
                f"Draft {d.id} is ready for review. Nothing is published until the IC approves it."
            ),
            near="drafts",
        )

    async def edit_draft(self, request: Request, incident_id: str, draft_id: str) -> Response:
        visitor, form, _ = await self._begin(request, incident_id)
        edit = self._services.gate.edit(
            incident_id,
            draft_id,
            body=_field(form, "body").replace("\r\n", "\n"),
            title=_optional(form, "title"),
            stage=_optional(form, "stage", 40),
            impact=_optional(form, "impact", 40),
            components=_components(form),
            actor=visitor.person.email,
            expected_version=_version(form),
        )
        return await self._gate(
            request,
            incident_id,
            edit,
            lambda d: f"Draft {d.id} is now version {d.version}.",
            near=f"draft-{draft_id}",
        )

    async def reject_draft(self, request: Request, incident_id: str, draft_id: str) -> Response:
        visitor, form, _ = await self._begin(request, incident_id)
        reject = self._services.gate.reject(
            incident_id, draft_id, actor=visitor.person.email, reason=_field(form, "reason", 2000)
        )
        return await self._gate(
            request,
            incident_id,
            reject,
            lambda d: f"Draft {d.id} was rejected.",
            near=f"draft-{draft_id}",
        )

    async def approve_draft(self, request: Request, incident_id: str, draft_id: str) -> Response:
        """Approve & Publish, in two steps: confirm the exact text, then publish it."""
        visitor, form, incident = await self._begin(request, incident_id)
        version = _version(form)
        near = f"draft-{draft_id}"
        draft = incident.draft(draft_id)
        if draft is None:
            raise PageError(404, f"Incident {incident_id} has no draft {draft_id}.")
        newer = superseded_by(incident, draft)
        if newer is not None:
            return self._answer(
                request,
                incident_id,
                f"Not published: draft {draft_id} was superseded by update {newer}, published "
                "after it was written. Review the newer update instead.",
                ok=False,
                near=near,
            )
        if _field(form, "confirmed", 3) != CONFIRMED:
            if draft.version != version:
                return self._answer(
                    request,
                    incident_id,
                    f"Draft {draft_id} changed since you read it (now version {draft.version}): "
                    "review the current text before approving it.",
                    ok=False,
                    near=near,
                )
            return self._confirm(
                request,
                visitor,
                incident,
                question="Publish this update to the public status page?",
                action=f"{incident_url(incident_id)}/drafts/{draft_id}/approve",
                confirm_label="Publish to status page",
                fields={"version": str(version)},
                body=draft.body,
                draft=draft,
                note=f"Draft {draft_id}, version {version}. Customers will see exactly this "
                "name, stage, impact, components and text; it cannot be unpublished.",
            )
        try:
            version = await self._with_picked_statuses(form, incident_id, draft, version, visitor)
            outcome = await self._services.gate.approve_and_publish(
                incident_id, draft_id, version=version, actor=visitor.person.email
            )
        except PublishFailed as exc:
            return self._answer(request, incident_id, str(exc), ok=False, near=near)
        except IncidentResponseError as exc:
            return self._answer(request, incident_id, f"Not published: {exc}", ok=False, near=near)
        where = outcome.status_page.url if outcome.status_page else "the status page"
        text = (
            f"Published to {where}."
            if outcome.published_now
            else f"Draft {draft_id} version {version} is already {outcome.status.value}."
        )
        return self._answer(request, incident_id, text, ok=True, near=near)

    async def _with_picked_statuses(
        self, form: FormData, incident_id: str, draft: StatusDraft, version: int, visitor: Visitor
    ) -> int:
        """The version to approve: when the IC picked other component statuses on the
        confirmation page, a new version saying exactly what that page showed (the edit
        refuses if the draft changed meanwhile), else the one they read."""
        picked = _component_statuses(form)
        shown = dict(_component_choices(draft))
        if not picked or all(shown.get(name) == status for name, status in picked.items()):
            return version
        edited = await self._services.gate.edit(
            incident_id,
            draft.id,
            component_statuses=picked,
            actor=visitor.person.email,
            expected_version=version,
        )
        return edited.version

    # -- shared steps ------------------------------------------------------------------------

    async def _begin(
        self, request: Request, incident_id: str
    ) -> tuple[Visitor, FormData, Incident]:
        visitor = await self._auth.require(request)
        form = await self._auth.form(request, visitor.session)
        incident = await self._services.store.get(incident_id)
        if incident is None:
            raise PageError(404, f"There is no incident {incident_id}.")
        return visitor, form, incident

    def _answer(
        self, request: Request, incident_id: str, text: str, *, ok: bool, near: str
    ) -> Response:
        """The reply, shown beside the control it answers: `near` is that reply place on the
        incident page (`command`, `checklist`, `drafts`, `draft-<id>`), empty for the top."""
        if request.headers.get("x-console-fetch") == "1":
            return JSONResponse({"ok": ok, "text": text})
        anchor = near or "summary"
        response = RedirectResponse(f"{incident_url(incident_id)}#{anchor}", status_code=303)
        self._auth.sessions.flash(response, Flash(text, ok, near=near))
        return response

    async def _run(
        self,
        request: Request,
        visitor: Visitor,
        incident_id: str,
        text: str,
        *,
        near: str,
        brief: bool = False,
    ) -> Response:
        """A command, as typed. `brief`: answer with the reply's first paragraph only, when the
        rest (the whole checklist after a tick) is already on show right beside the answer."""
        reply = await self._services.commands.handle(
            text,
            CommandContext(actor=visitor.person, surface="console", incident_id=incident_id),
        )
        said = reply.text.split("\n\n", 1)[0] if brief else reply.text
        return self._answer(request, incident_id, said, ok=reply.ok, near=near)

    async def _gate(
        self,
        request: Request,
        incident_id: str,
        call: Awaitable[StatusDraft],
        done: Callable[[StatusDraft], str],
        *,
        near: str,
    ) -> Response:
        """A draft change through the gate, answered with `done(draft)` or the refusal."""
        try:
            draft = await call
        except IncidentResponseError as exc:
            return self._answer(request, incident_id, str(exc), ok=False, near=near)
        return self._answer(request, incident_id, done(draft), ok=True, near=near)

    def _confirm(
        self,
        request: Request,
        visitor: Visitor,
        incident: Incident,
        *,
        question: str,
        action: str,
        confirm_label: str,
        fields: dict[str, str],
        body: str = "",
        note: str = "",
        draft: StatusDraft | None = None,
    ) -> Response:
        return self._console.show(
            request,
            visitor,
            "confirm.html",
            nav="incidents",
            title=question,
            incident=incident,
            question=question,
            action=action,
            confirm_label=confirm_label,
            fields=fields,
            body=body,
            note=note,
            public=shown_as(draft) if draft is not None else None,
            draft_id=draft.id if draft is not None else "",
            component_choices=_component_choices(draft),
            component_statuses=[(s.value, label) for s, label in COMPONENT_STATUS_LABELS.items()],
        )

    async def _find_button(
        self, incident: Incident, message_id: str, action: str, value: str
    ) -> ChatButton | None:
        if incident.channel is None:
            return None
        for message in await self._services.chat.messages(incident.channel.id):
            if message.id == message_id:
                return next(
                    (b for b in message.buttons if b.action == action and b.value == value), None
                )
        return None


def actions_router(*, services: ConsoleServices, auth: ConsoleAuth, pages: Pages) -> APIRouter:
    router = APIRouter(
        prefix="/console/incidents/{incident_id}",
        route_class=html_route_class(pages),
        include_in_schema=False,
    )
    forms = IncidentForms(services=services, auth=auth, pages=pages)
    routes: tuple[tuple[str, Callable[..., Awaitable[Response]]], ...] = (
        ("/commands", forms.command),
        ("/checklist", forms.checklist),
        ("/steer", forms.steer),
        ("/buttons", forms.press),
        ("/resolve", forms.resolve),
        ("/pin", forms.pin),
        ("/followups", forms.followup),
        ("/drafts", forms.create_draft),
        ("/drafts/{draft_id}/edit", forms.edit_draft),
        ("/drafts/{draft_id}/reject", forms.reject_draft),
        ("/drafts/{draft_id}/approve", forms.approve_draft),
        ("/alerts/split", forms.split),
    )
    for path, handler in routes:
        router.add_api_route(path, handler, methods=["POST"])
    return router
